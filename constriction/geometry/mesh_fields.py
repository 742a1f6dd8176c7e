"""Potential fields: values at the mesh nodes (P2: vertices and edge midpoints), a
vertical section through the cell axis evaluated with the element's own shape functions
(exact for P2), and export to VTK (.vtu; quadratic tetrahedra for P2) for ParaView.
Coordinates in µm, potential in V (WE at 1 V). scikit-fem numbers a P2 tetrahedron's
dofs as VTK's tetra10 does: the four vertices, then the edges 01, 12, 02, 03, 13, 23.
"""

from __future__ import annotations

from dataclasses import dataclass

import meshio
import numpy as np
from scipy.sparse.linalg import spsolve
from scipy.spatial import cKDTree
from skfem import FacetBasis

from constriction.discretised import lowest
from constriction.solve.fem import System, facet_dofs, mass
from constriction.units import UM
SECTION_POINTS = 241  # per axis of the vertical section


@dataclass(frozen=True)
class Fields:
    frequency_Hz: tuple[float, ...]
    points_um: np.ndarray      # (3, nodes)
    tetrahedra: np.ndarray     # (4, elements) P1 or (10, elements) P2, node indices
    potential: np.ndarray      # (frequencies, nodes), complex
    section_x_um: np.ndarray   # grid of the section y = 0 (the plane through the cell axis)
    section_z_um: np.ndarray
    section: np.ndarray        # (frequencies, z, x), complex
    metal: np.ndarray | None = None          # (elements,) bool: inside a metal inclusion
    section_metal: np.ndarray | None = None  # (z, x) bool: the section inside metal

    @property
    def section_phases(self) -> dict[str, np.ndarray]:
        """{phase: (z, x) bool} on the section that is not electrolyte: metal inclusions."""
        return {"metal": self.section_metal} if self.section_metal is not None and self.section_metal.any() else {}


def fields_of(system: System, potentials: dict[float, np.ndarray], thickness_m: float) -> Fields:
    """Fields of complex potentials given per dof and keyed by frequency (Hz); the section
    spans the electrolyte, 0 < z < thickness."""
    basis = system.basis
    at_nodes = np.array([system.on_dofs(phi)[:basis.N] for phi in potentials.values()])  # (a metal dof may follow)
    metal = np.zeros(basis.mesh.t.shape[1], bool)
    for name, elements in (basis.mesh.subdomains or {}).items():
        if name in ("metal", "metal_we", "metal_ce"):
            metal[elements] = True
    return _with_section(tuple(potentials), basis.doflocs / UM, basis.element_dofs, at_nodes, thickness_m / UM,
                         metal if metal.any() else None)


def read_vtu(path, thickness_um: float) -> Fields:
    """Fields back from a file written by `write_vtu`."""
    m = meshio.read(path)
    labels = [k[len("phi_re_"):] for k in m.point_data if k.startswith("phi_re_")]  # "<f>Hz"
    frequencies = [float(label[:-len("Hz")]) for label in labels]
    potential = np.array([m.point_data[f"phi_re_{lab}"] + 1j * m.point_data[f"phi_im_{lab}"]
                          for lab in labels])
    cells = m.cells_dict["tetra10"] if "tetra10" in m.cells_dict else m.cells_dict["tetra"]
    metal = m.cell_data["metal"][0].astype(bool) if "metal" in m.cell_data else None
    return _with_section(tuple(frequencies), m.points.T, cells.T, potential, thickness_um, metal)


def _with_section(frequency_Hz, points_um, tetrahedra, potential, thickness_um, metal=None) -> Fields:
    """Fields with the section y = 0 through the electrolyte, from each element's shape
    functions (linear for 4 nodes, quadratic for 10); `metal` marks the elements inside
    metal inclusions."""
    x = np.linspace(points_um[0].min(), points_um[0].max(), SECTION_POINTS)[1:-1]
    z = np.linspace(0.0, thickness_um, SECTION_POINTS)[1:-1]
    X, Z = np.meshgrid(x, z)
    y = points_um[1, tetrahedra[:4]]
    crossing = np.flatnonzero((y.min(axis=0) <= 0) & (y.max(axis=0) >= 0))  # the only ones the plane cuts
    element, weights = locate(points_um, tetrahedra[:4, crossing], np.vstack([X.ravel(), np.zeros(X.size), Z.ravel()]))
    element = np.where(element >= 0, crossing[np.maximum(element, 0)], -1)
    shape = weights if len(tetrahedra) == 4 else quadratic_shape(weights)
    sections = (potential[:, tetrahedra[:, element]] * shape).sum(axis=1)
    sections[:, element < 0] = np.nan
    section_metal = None if metal is None else ((element >= 0) & metal[element]).reshape(X.shape)
    return Fields(frequency_Hz=frequency_Hz, points_um=points_um, tetrahedra=tetrahedra,
                  potential=potential, section_x_um=x, section_z_um=z,
                  section=sections.reshape(len(frequency_Hz), *X.shape), metal=metal, section_metal=section_metal)


TETRA10_EDGES = ((0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3))


def quadratic_shape(lam: np.ndarray) -> np.ndarray:
    """P2 shape functions (10, points) at barycentric coordinates (4, points): the
    vertices lam_i (2 lam_i - 1), then the edges 4 lam_a lam_b in VTK's tetra10 order."""
    return np.vstack([lam * (2 * lam - 1)] + [4 * lam[a] * lam[b] for a, b in TETRA10_EDGES])


def locate(p: np.ndarray, t: np.ndarray, points: np.ndarray, candidates: int = 64):
    """Element containing each point (-1 if none among the `candidates` elements with the
    nearest centroids) and the point's barycentric coordinates there, shape (4, points)."""
    _, near = cKDTree(p[:, t].mean(axis=1).T).query(points.T, k=min(candidates, t.shape[1]))
    element = np.full(points.shape[1], -1)
    weights = np.zeros((4, points.shape[1]))
    for k in range(near.shape[1]):
        todo = np.flatnonzero(element < 0)
        if todo.size == 0:
            break
        tets = t[:, near[todo, k]]
        v0 = p[:, tets[0]]
        edges = np.stack([p[:, tets[i]] - v0 for i in (1, 2, 3)], axis=-1).transpose(1, 0, 2)
        lam = np.linalg.solve(edges, (points[:, todo] - v0).T[:, :, None])[:, :, 0].T
        lam = np.vstack([1 - lam.sum(axis=0), lam])
        inside = (lam >= -1e-9).all(axis=0)
        element[todo[inside]] = near[todo[inside], k]
        weights[:, todo[inside]] = lam[:, inside]
    missed = np.flatnonzero(element < 0)
    if missed.size and candidates < t.shape[1] and candidates < 1024:  # big elements beside small ones
        element[missed], weights[:, missed] = locate(p, t, points[:, missed], 8 * candidates)
    return element, weights


def write_vtu(fields: Fields, path) -> None:
    """The mesh (µm; quadratic tetrahedra for P2) with Re, Im and |phi| at each
    frequency as point data, and `metal` (1 inside metal inclusions) as cell data."""
    data = {}
    for f, phi in zip(fields.frequency_Hz, fields.potential):
        label = f"{f:.6g}Hz"
        data |= {f"phi_re_{label}": phi.real, f"phi_im_{label}": phi.imag, f"phi_abs_{label}": np.abs(phi)}
    kind = "tetra" if len(fields.tetrahedra) == 4 else "tetra10"
    cell_data = {} if fields.metal is None else {"metal": [fields.metal.astype(np.int8)]}
    meshio.Mesh(fields.points_um.T, [(kind, fields.tetrahedra.T)], point_data=data, cell_data=cell_data).write(path)


@dataclass(frozen=True)
class ContactCurrent:
    """Normal current density on the metal contacts (A/m² per volt applied), at vertices
    of the contact facets; triangles index into points_um."""
    frequency_Hz: float
    points_um: np.ndarray     # (2, vertices) x, y of the contact-facet vertices
    triangles: np.ndarray     # (3, facets)
    j: np.ndarray             # (vertices,), complex
    current_A: complex        # total current through the contacts (A per V)
    area_m2: float

    @property
    def mean(self) -> complex:
        return self.current_A / self.area_m2


def contact_current(system: System, x: np.ndarray, frequency_Hz: float) -> ContactCurrent:
    """Consistent-flux current density on the contacts: with r the current into the
    electrolyte at each contact dof (the residual A(s) x where the contacts are held at
    the metal potential; minus the surface-admittance term where they are not), solve
    M j = r on the contact dofs, M the facet mass matrix. Then the integral of j over
    the contacts is exactly the current through them."""
    mesh = system.basis.mesh
    facets = mesh.boundaries.get("contacts", mesh.boundaries["we"])  # no spot: the gap ceiling
    M = mass.assemble(FacetBasis(mesh, system.basis.elem, facets=facets)).tocsr()
    dofs = facet_dofs(system.basis, facets)
    M = M[dofs][:, dofs].tocsc()
    s = 2j * np.pi * frequency_Hz
    if system.surface is None:
        r = system.pencil(s) @ x
    else:
        G_s, C_s = system.surface
        r = -((G_s + s * C_s) @ x)
    r = r[system.unknown_of(dofs)]  # contact dofs are never merged into a floating body
    j = np.zeros(system.basis.N, complex)
    j[dofs] = spsolve(M, r)
    triangles = mesh.facets[:, facets]
    vertices = np.unique(triangles)
    renumber = np.full(mesh.p.shape[1], -1)
    renumber[vertices] = np.arange(vertices.size)
    return ContactCurrent(frequency_Hz=frequency_Hz, points_um=mesh.p[:2, vertices] / UM,
                          triangles=renumber[triangles], j=j[vertices], current_A=r.sum(),
                          area_m2=float(M.sum()))  # the basis sums to one on the facets


def write_contact_vtu(current: ContactCurrent, path) -> None:
    """The contact facets (µm, z = 0) with Re, Im and |j| (A/m² per V) as point data."""
    points = np.vstack([current.points_um, np.zeros(current.points_um.shape[1])]).T
    meshio.Mesh(points, [("triangle", current.triangles.T)],
                point_data={"j_re": current.j.real, "j_im": current.j.imag, "j_abs": np.abs(current.j)}
                ).write(path)


def read_contact_vtu(path, frequency_Hz: float) -> ContactCurrent:
    """A ContactCurrent back from `write_contact_vtu`; its total current and area are
    integrated over the triangles with j linear in each (exact for P1 only)."""
    m = meshio.read(path)
    triangles = m.cells_dict["triangle"].T
    j = m.point_data["j_re"] + 1j * m.point_data["j_im"]
    a, b, c = (m.points[triangles[k], :2] for k in range(3))
    u, v = b - a, c - a
    areas = 0.5 * np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) * UM**2
    return ContactCurrent(frequency_Hz=frequency_Hz, points_um=m.points[:, :2].T, triangles=triangles,
                          j=j, current_A=complex((areas * j[triangles].mean(axis=0)).sum()),
                          area_m2=float(areas.sum()))


def mesh_fields(system: System, thickness_m: float):
    """fields(potentials) of a tetrahedral cell: (Fields, ContactCurrent at the lowest
    frequency) from {f_Hz: potential} (Discretised.fields)."""
    return lambda potentials: (fields_of(system, potentials, thickness_m), contact_current(system, *lowest(potentials)))
