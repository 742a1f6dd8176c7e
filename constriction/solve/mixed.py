"""The mixed (flux) form of the DC problem on a mesh's tetrahedra, hybridised onto its
faces: Thomson's upper bound of the meshed cell's R_dc (solve/bounds.py).

Unknowns: the current density J in each tetrahedron, the potential u constant in each,
and the potential λ on each face. Flux degree 1 (BDM1): J full linear (12 functions a
tetrahedron, each with a linear normal flux on one face and none through the others), λ
linear on each face (its value at the face's three vertices: three dofs a face). Flux
degree 0 (RT0): J with a constant normal flux on each face (the sum of that face's three
BDM1 functions), λ constant on each face (one dof a face): Crouzeix-Raviart's system, whose
element-wise flux it is (Marini, 1985). In each tetrahedron K

    int_K J.r / sigma - int_K u div r + int_dK λ r.n = 0   for every r,
    int_K div J w = 0                                      for every constant w,

so J is divergence-free (div J is constant) and K's J and u follow from its λ alone:
J_K = -Q_K C_K^T λ_K, with M the mass matrix of the flux functions (1 / sigma), B their
divergence, C their normal flux against λ's functions on each face, and
Q = M^-1 - M^-1 B^T (B M^-1 B^T)^-1 B M^-1. What is left is the balance of the normal flux
on each face, sum_K C_K J_K = 0, an SPD system S λ = 0 with S = sum_K C_K Q_K C_K^T,
linear in sigma: it takes the electrodes, contacts, grain boundaries and metal bodies
exactly as a conforming Laplacian does (solve/fem.py assembles both). Its solution's J is
normal-continuous (the flux's trace and λ have the same degree on a face), divergence-free
and zero through the insulating walls: an admissible current, whose energy, the system's
current at 1 V, bounds R from above. At degree 1 the bound converges at second order, like
the conforming P2 solve's from below; at degree 0 at first order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from constriction.geometry.tagged_mesh import facet_numbers, triangle_areas

OPPOSITE = (3, 2, 1, 0)  # scikit-fem numbers a tetrahedron's faces (t2f) opposite its vertices 3, 2, 1, 0
LINEAR_FACE_MASS = (np.ones((3, 3)) + np.eye(3)) / 12  # int φ_k φ_m dA / area of a triangle's linear functions
FLUX_FUNCTIONS = tuple((face, a) for face in range(4) for a in range(4) if a != OPPOSITE[face])  # (face, vertex)


@dataclass(frozen=True)
class FaceBasis:
    """The faces' potentials λ at one flux degree: `per_face` dofs a face (degree 1: its
    vertices, in the order of mesh.facets; degree 0: one), 4 per_face a tetrahedron
    (element_dofs)."""
    mesh: object
    degree: int
    element_dofs: np.ndarray   # (4 per_face, tetrahedra)

    @property
    def per_face(self) -> int:
        return 3 if self.degree == 1 else 1

    @property
    def N(self) -> int:
        return self.per_face * self.mesh.facets.shape[1]

    def facet_dofs(self, facets: np.ndarray) -> np.ndarray:
        return (self.per_face * np.asarray(facets, int)[:, None] + np.arange(self.per_face)).ravel()


def face_basis(mesh, degree: int) -> FaceBasis:
    """The FaceBasis of a scikit-fem tetrahedral mesh at flux degree 0 or 1."""
    if degree == 0:
        return FaceBasis(mesh=mesh, degree=0, element_dofs=mesh.t2f.copy())
    t, faces = mesh.t, mesh.facets
    dofs = np.empty((12, t.shape[1]), int)
    for k, (i, a) in enumerate(FLUX_FUNCTIONS):
        f = mesh.t2f[i]
        dofs[k] = 3 * f + np.argmax(faces[:, f] == t[a], axis=0)
    return FaceBasis(mesh=mesh, degree=1, element_dofs=dofs)


def _geometry(mesh, elements: np.ndarray):
    """Per tetrahedron: its volume (n), its faces' areas (n, face) and the constant vector d
    of each flux function λ_a d (n, 12, xyz), whose flux density out of its face is λ_a."""
    X = np.moveaxis(mesh.p[:, mesh.t[:, elements]], 2, 0)          # (n, xyz, vertex)
    edges = X[:, :, 1:] - X[:, :, [0]]
    inverse = np.linalg.inv(edges)
    grad = np.concatenate([-inverse.sum(axis=1, keepdims=True), inverse], axis=1)   # (n, vertex, xyz): grad λ_v
    volume = np.abs(np.linalg.det(edges)) / 6
    height = np.linalg.norm(grad, axis=2)                              # 1 / the height over each vertex's face
    area = 3 * volume[:, None] * height[:, list(OPPOSITE)]
    shape = np.empty((len(elements), 12, 3))
    for k, (i, a) in enumerate(FLUX_FUNCTIONS):  # grad λ_b x grad λ_c: no flux through the faces at b or c
        b, c = (v for v in range(4) if v not in (OPPOSITE[i], a))
        curl = np.cross(grad[:, b], grad[:, c])
        outward = -grad[:, OPPOSITE[i]]
        shape[:, k] = curl * (height[:, OPPOSITE[i]] / np.einsum("nj,nj->n", curl, outward))[:, None]
    return volume, area, shape


def _local(basis: FaceBasis, elements: np.ndarray):
    """Per tetrahedron (sigma = 1): the flux functions' mass M, divergence integrals B and
    face moments C (λ's function, flux function); at degree 0 the sums of each face's
    three degree-1 functions."""
    volume, area, shape = _geometry(basis.mesh, elements)
    vertex = np.array([a for _, a in FLUX_FUNCTIONS])
    face = np.array([i for i, _ in FLUX_FUNCTIONS])
    same_vertex, same_face = np.equal.outer(vertex, vertex), np.equal.outer(face, face)
    M = volume[:, None, None] * ((1 + same_vertex) / 20)[None] * np.einsum("nkj,nlj->nkl", shape, shape)
    B = area[:, face] / 3                                              # int_K div = int_face λ_a
    C = area[:, face][:, :, None] * (same_face * (1 + same_vertex) / 12)[None]
    if basis.degree == 1:
        return M, B, C
    R = same_face[::3].astype(float)                                   # (face, function): the face's three
    return R @ M @ R.T, B @ R.T, area[:, :, None] * np.eye(4)[None]    # unit flux density against λ = 1


def mixed_laplacian(basis: FaceBasis, elements: np.ndarray) -> sp.csr_matrix:
    """S of the elements at sigma = 1 (S): the flux balance on every face dof."""
    n = basis.N
    if not len(elements):
        return sp.csr_matrix((n, n))
    M, B, C = _local(basis, elements)
    S = C @ _flux_map(M, B) @ C.transpose(0, 2, 1)
    dofs = basis.element_dofs[:, elements].T
    m = dofs.shape[1]
    return sp.coo_matrix((S.ravel(), (np.repeat(dofs, m, axis=1).ravel(), np.tile(dofs, (1, m)).ravel())),
                         shape=(n, n)).tocsr()


def _flux_map(M: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Q = M^-1 - M^-1 B^T (B M^-1 B^T)^-1 B M^-1 of each tetrahedron: J = -Q C^T λ."""
    inverse = np.linalg.inv(M)
    MB = np.einsum("nkl,nl->nk", inverse, B)
    return inverse - MB[:, :, None] * MB[:, None, :] / np.einsum("nk,nk->n", B, MB)[:, None, None]


def _face_local(basis: FaceBasis) -> np.ndarray:
    """int λ μ dA / area of λ's functions on one face."""
    return LINEAR_FACE_MASS if basis.degree == 1 else np.ones((1, 1))


def face_mass(basis: FaceBasis, facets: np.ndarray) -> sp.coo_matrix:
    """int λ μ dA over the facets (m²), on their dofs: a contact's or a grain boundary's
    conductance per area times it is its current at the face's potential."""
    facets = np.asarray(facets, int)
    local, dofs = _face_local(basis), basis.facet_dofs(facets).reshape(len(facets), -1)
    m = dofs.shape[1]
    values = triangle_areas(basis.mesh.p, basis.mesh.facets[:, facets])[:, None, None] * local[None]
    return sp.coo_matrix((values.ravel(), (np.repeat(dofs, m, axis=1).ravel(), np.tile(dofs, (1, m)).ravel())),
                         shape=(basis.N, basis.N))


def face_jump(basis: FaceBasis, facing: np.ndarray) -> sp.csr_matrix:
    """int_gb (λ_A - λ_B)(μ_A - μ_B) dA over facing triangles (2, 3, n), node k of one
    against node k of the other (m²)."""
    mesh = basis.mesh
    faces = [facet_numbers(mesh.facets, facing[side].T) for side in (0, 1)]
    if basis.degree == 1:  # λ's dof at the face's vertex facing node k of the other face
        dofs = [3 * f + np.argmax(mesh.facets[:, f][:, None, :] == facing[side][None, :, :], axis=0)
                for side, f in enumerate(faces)]
    else:
        dofs = [f[None, :] for f in faces]
    return jump_form(dofs, triangle_areas(mesh.p, mesh.facets[:, faces[0]]), _face_local(basis), basis.N)


def jump_form(dofs, area: np.ndarray, local: np.ndarray, n: int) -> sp.csr_matrix:
    """int (u_A - u_B)(v_A - v_B) dA over facing faces: dofs (side A's, side B's), each
    (k, faces) in matching order; `local` (k, k) the face mass over its area (m²)."""
    rows, cols, values = [], [], []
    for a, sign_a in ((0, 1.0), (1, -1.0)):
        for b, sign_b in ((0, 1.0), (1, -1.0)):
            for k in range(len(local)):
                for m in range(len(local)):
                    rows.append(dofs[a][k])
                    cols.append(dofs[b][m])
                    values.append(sign_a * sign_b * local[k, m] * area)
    return sp.coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, n)).tocsr()


def current_density(basis: FaceBasis, elements: np.ndarray, sigma: float, potentials: np.ndarray) -> np.ndarray:
    """J (A/m²) in each of the elements at each of its vertices (n, vertex, xyz), from the
    faces' potentials (V) of a solve at conductivity sigma (S/m): for the bracket's width per
    tetrahedron (bounds.hypercircle) and for checking that J is admissible (tests)."""
    M, B, C = _local(basis, elements)
    coefficients = -sigma * np.einsum("nkl,njl,nj->nk", _flux_map(M, B), C,
                                      potentials[basis.element_dofs[:, elements].T])
    if basis.degree == 0:  # each face's function is the sum of its three degree-1 functions
        coefficients = np.repeat(coefficients, 3, axis=1)
    shape = _geometry(basis.mesh, elements)[2]
    J = np.zeros((len(elements), 4, 3))
    for k, (_, a) in enumerate(FLUX_FUNCTIONS):  # λ_a d is d at vertex a, 0 at the others
        J[:, a] += coefficients[:, k, None] * shape[:, k]
    return J
