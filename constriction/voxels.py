"""A labelled image as a System: a vertex-centred structured grid, no Gmsh.

Unknowns sit on the voxel corners (nodes). Each voxel carries one constant admittance
coefficient, and its contribution is lumped onto its 12 edges: the edge along axis a
between two nodes gets

    w_e = (d_b d_c / d_a) * (sum of k over the <= 4 voxels around the edge) / 4,

with k = sigma for G and eps0 eps_r for C. That is a 7-point M-matrix stencil per
unknown, and G + sC is affine in s exactly as in the Gmsh path, so the reduced sweep,
the backends, the split and the arcs work unchanged. A homogeneous slab is exact.

Metal voxels are not unknowns: every connected metal body (26-connected: voxels sharing
a corner share a node) is one potential. The bodies touching the working-electrode face
are the WE, those touching the opposite face join the counter electrode (CE: the whole
bottom face), every other body floats (one unknown, zero net current). A body touching
both faces is a short circuit and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import ndimage

from .fem import EPS0, System
from .image import ImageError, ImageSpec, Labels
from .mesh import UM
from .progress import say

ELECTROLYTE, GAS, METAL, INSULATOR = 0, 1, 2, 3
KIND_CODE = {"electrolyte": ELECTROLYTE, "gas": GAS, "metal": METAL, "insulator": INSULATOR}
FULL = np.ones((3, 3, 3), bool)  # 26-connectivity


@dataclass(frozen=True)
class VoxelGrid:
    """The structured grid behind a voxel System: voxel counts and sizes, which unknown
    each node is, and the coefficient of every voxel (for fields and contact currents)."""
    shape: tuple[int, int, int]           # voxels (n0, n1, n2); the current runs along axis 2
    spacing_m: tuple[float, float, float]
    dof_of_node: np.ndarray               # (n0+1, n1+1, n2+1) -> unknown index
    sigma: np.ndarray                     # (n0, n1, n2) S/m (0: metal, gas, insulator)
    eps: np.ndarray                       # (n0, n1, n2) F/m (eps0 eps_r; 0: metal)
    kind: np.ndarray                      # (n0, n1, n2) ELECTROLYTE, GAS, METAL, INSULATOR
    we_metal: np.ndarray                  # (n0, n1, n2) bool: voxels of the WE
    floating_bodies: int                  # metal bodies with one unknown each

    @property
    def thickness_m(self) -> float:
        return self.shape[2] * self.spacing_m[2]

    @property
    def face_area_m2(self) -> float:
        return self.shape[0] * self.spacing_m[0] * self.shape[1] * self.spacing_m[1]

    @property
    def contact_area_m2(self) -> float:
        """Area of the faces between WE metal and electrolyte voxels (m²)."""
        d = self.spacing_m
        area = 0.0
        for axis in range(3):
            a, b = _pairs(self.we_metal, axis)
            e_a, e_b = _pairs(self.kind == ELECTROLYTE, axis)
            faces = np.count_nonzero(a & e_b) + np.count_nonzero(b & e_a)
            area += faces * np.prod([d[k] for k in range(3) if k != axis])
        return float(area)


def _pairs(array: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """The array without its last and without its first slice along `axis` (neighbours)."""
    n = array.shape[axis]
    return np.take(array, np.arange(n - 1), axis=axis), np.take(array, np.arange(1, n), axis=axis)


def grid_system(labels: Labels, spec: ImageSpec, progress: bool = True) -> tuple[VoxelGrid, System]:
    """Assemble G and C on the grid of a labelled image (spec resolved at its temperature)."""
    values = np.array(sorted(spec.labels))
    index = np.searchsorted(values, labels.array)   # label value -> position in `values`
    phases = [spec.phases[spec.labels[v]] for v in values]
    kind = np.array([KIND_CODE[p.kind] for p in phases], np.int8)[index]
    sigma = np.array([p.material.sigma_S_per_m if p.material else 0.0 for p in phases])[index]
    eps = np.array([EPS0 * p.material.eps_r if p.material else 0.0 for p in phases])[index]
    del index
    spacing = tuple(v * UM for v in labels.voxel_um)

    say(f"{spec.name}: labelling connected metal in {kind.size:,} voxels", progress)
    body, n_bodies, at_we, at_ce = _metal_bodies(kind)
    if not at_we:
        raise ImageError(spec.path, f"has no metal on the working-electrode face ({spec.working_electrode}): "
                                    f"nothing carries the current in")
    if at_we & at_ce:
        raise ImageError(spec.path, "a metal body touches both electrodes: a short circuit")
    dof, n_dofs, floating = _number_nodes(body, n_bodies, at_we, at_ce)
    we_metal = np.isin(body, sorted(at_we))
    del body

    say(f"{spec.name}: assembling G and C on {n_dofs:,} unknowns", progress)
    G = edge_laplacian(sigma, spacing, dof, n_dofs)
    C = edge_laplacian(eps, spacing, dof, n_dofs)
    we, ce = np.array([n_dofs - 2]), np.array([n_dofs - 1])
    _check_percolation(spec, G, we[0], ce[0])
    shorted, voids = _gas_groups(kind, dof, we[0])
    grid = VoxelGrid(shape=kind.shape, spacing_m=spacing, dof_of_node=dof, sigma=sigma, eps=eps, kind=kind,
                     we_metal=we_metal, floating_bodies=floating)
    bodies = tuple(range(n_dofs - 2 - floating, n_dofs - 2))  # _number_nodes puts them before WE and CE
    return grid, System(G=G, C=C, we=we, ce=ce, shorted=shorted, basis=None, floating=voids, grid=grid,
                        bodies=bodies)


def _metal_bodies(kind: np.ndarray) -> tuple[np.ndarray, int, set, set]:
    """Connected metal bodies (labels 1..n, 0 elsewhere) and the labels of those touching
    the working-electrode face (the top) and the counter-electrode face (the bottom)."""
    body, n_bodies = ndimage.label(kind == METAL, structure=FULL)
    at_we = set(np.unique(body[:, :, -1]).tolist()) - {0}
    at_ce = set(np.unique(body[:, :, 0]).tolist()) - {0}
    return body, n_bodies, at_we, at_ce


def _number_nodes(body: np.ndarray, n_bodies: int, at_we: set, at_ce: set) -> tuple[np.ndarray, int, int]:
    """Unknown index of every node: free nodes first, then one per floating metal body,
    then the WE and last the CE (the bottom face and metal touching it)."""
    n0, n1, n2 = body.shape
    padded = np.zeros((n0 + 2, n1 + 2, n2 + 2), body.dtype)
    padded[1:-1, 1:-1, 1:-1] = body
    node_body = np.zeros((n0 + 1, n1 + 1, n2 + 1), body.dtype)
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                np.maximum(node_body, padded[a:a + n0 + 1, b:b + n1 + 1, c:c + n2 + 1], out=node_body)
    del padded
    role = np.zeros(n_bodies + 1, np.int64)           # 0 free, 1 WE, 2 CE, 3 floating
    role[sorted(at_we)] = 1
    role[sorted(at_ce)] = 2
    floating_ids = [b for b in range(1, n_bodies + 1) if role[b] == 0]
    role[floating_ids] = 3
    node_role = role[node_body]
    node_role[:, :, 0] = 2                            # the CE face
    free = node_role == 0
    n_free = int(np.count_nonzero(free))
    dof = np.empty(node_body.shape, np.int64)
    dof[free] = np.arange(n_free)
    floating_dof = np.zeros(n_bodies + 1, np.int64)
    floating_dof[floating_ids] = n_free + np.arange(len(floating_ids))
    is_floating = node_role == 3
    dof[is_floating] = floating_dof[node_body[is_floating]]
    n_dofs = n_free + len(floating_ids) + 2
    dof[node_role == 1] = n_dofs - 2
    dof[node_role == 2] = n_dofs - 1
    return dof, n_dofs, len(floating_ids)


def edge_weights(coef: np.ndarray, spacing: tuple[float, float, float], axis: int) -> np.ndarray:
    """Lumped edge coefficients along `axis`: shape n along it, n + 1 across (S or F)."""
    pad = [(0, 0)] * 3
    for other in range(3):
        if other != axis:
            pad[other] = (1, 1)
    p = np.pad(coef, pad)
    b, c = (k for k in range(3) if k != axis)
    n = coef.shape
    w = np.zeros([n[k] if k == axis else n[k] + 1 for k in range(3)])
    for sb in (0, 1):
        for sc in (0, 1):
            view = [slice(None)] * 3
            view[b] = slice(sb, sb + n[b] + 1)
            view[c] = slice(sc, sc + n[c] + 1)
            w += p[tuple(view)]
    return w * (spacing[b] * spacing[c] / spacing[axis] / 4)


def edge_ends(dof: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Unknowns at the two ends of every edge along `axis` (same shape as edge_weights)."""
    return _pairs(dof, axis)


def edge_laplacian(coef: np.ndarray, spacing, dof: np.ndarray, n_dofs: int) -> sp.csr_matrix:
    """sum over edges of w_e (e_a - e_b)(e_a - e_b)^T, with nodes merged into their unknowns."""
    total = sp.csr_matrix((n_dofs, n_dofs))
    degree = np.zeros(n_dofs)
    for axis in range(3):
        w = edge_weights(coef, spacing, axis).ravel()
        a, b = (e.ravel() for e in edge_ends(dof, axis))
        keep = (w != 0) & (a != b)
        a, b, w = a[keep], b[keep], w[keep]
        degree += np.bincount(a, w, n_dofs) + np.bincount(b, w, n_dofs)
        off = sp.coo_matrix((np.concatenate([-w, -w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                            shape=(n_dofs, n_dofs)).tocsr()
        del a, b, w, keep
        total = total + off
    return (total + sp.diags(degree)).tocsr()


def _check_percolation(spec: ImageSpec, G: sp.csr_matrix, we: int, ce: int) -> None:
    """Refuse a cell whose conducting voxels do not connect the WE to the CE."""
    from scipy.sparse.csgraph import connected_components
    _, component = connected_components(G, directed=False)
    if component[we] != component[ce]:
        raise ImageError(spec.path, "no electrolyte path between the working and the counter electrode: "
                                    "the cell does not conduct at DC (its conducting phases do not percolate)")


def _gas_groups(kind: np.ndarray, dof: np.ndarray, we: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Unknowns of gas against the WE (gaps and pores: shorted to it when their
    capacitance is), and of every other gas body (a void: one floating potential)."""
    gas, n = ndimage.label(kind == GAS, structure=FULL)
    if n == 0:
        return np.array([], np.int64), ()
    inside = gas > 0
    body = gas[inside].astype(np.int64)
    n0, n1, n2 = kind.shape
    n_dofs = int(dof.max()) + 1
    keys = np.unique(np.concatenate([body * n_dofs + dof[a:a + n0, b:b + n1, c:c + n2][inside]
                                     for a in (0, 1) for b in (0, 1) for c in (0, 1)]))
    body, dofs = keys // n_dofs, keys % n_dofs
    groups = np.split(dofs, np.flatnonzero(np.diff(body)) + 1)
    shorted = [g for g in groups if we in g]
    voids = tuple(g for g in groups if we not in g)
    return (np.unique(np.concatenate(shorted)) if shorted else np.array([], np.int64)), voids


def node_potential(grid: VoxelGrid, x: np.ndarray) -> np.ndarray:
    """The potential at every node (n0+1, n1+1, n2+1) from the unknowns."""
    return x[grid.dof_of_node]


def bulk_reference(grid: VoxelGrid) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, kind) of the same image in full contact: gas against the WE becomes WE
    metal, every other gas and insulator voxel the bulk electrolyte (the most common
    conductivity among the electrolyte voxels). Its DC resistance is R_bulk."""
    kind, sigma = grid.kind.copy(), grid.sigma.copy()
    gas, n = ndimage.label(kind == GAS, structure=FULL)
    touching = set(np.unique(gas[ndimage.binary_dilation(grid.we_metal, structure=FULL) & (gas > 0)]).tolist())
    into_metal = np.isin(gas, sorted(touching - {0}))
    values, counts = np.unique(sigma[kind == ELECTROLYTE], return_counts=True)
    bulk = values[np.argmax(counts)]
    other = (kind == GAS) & ~into_metal | (kind == INSULATOR)
    kind[into_metal], sigma[into_metal] = METAL, 0.0
    kind[other], sigma[other] = ELECTROLYTE, bulk
    return sigma, kind


def reference_resistance(grid: VoxelGrid, sigma: np.ndarray, kind: np.ndarray, backend: str = "auto") -> float:
    """DC resistance (ohm) of the grid with other conductivities and kinds (same WE face)."""
    from .solve import dc_resistance
    dof, n_dofs, _ = _number_nodes(*_metal_bodies(kind))
    G = edge_laplacian(sigma, grid.spacing_m, dof, n_dofs)
    C = sp.csr_matrix((n_dofs, n_dofs))
    system = System(G=G, C=C, we=np.array([n_dofs - 2]), ce=np.array([n_dofs - 1]),
                    shorted=np.array([], np.int64), basis=None)
    return dc_resistance(system, backend=backend)[0]
