"""A labelled image as a System: cell-centred finite volumes on the voxels, no Gmsh.

A segmented image is a union of cubes, and it is read here as OpenImpala, TauFactor and
PoreSpy read it: one unknown at the centre of every voxel that is not metal (electrolyte,
gas, insulator: gas and insulators carry displacement current), and current only through
the faces two voxels share (6-connectivity: voxels that meet at an edge or a corner pass
nothing). With y = sigma + s eps0 eps_r, a face of area A between centres d apart is

    the same phase on both sides     one link  y A / d
    two different phases             a face unknown, linked to each centre by 2 y_i A / d
    a voxel against metal            a half-link 2 y A / d to the metal's potential
    a voxel on the bottom face       a half-link 2 y A / d to the counter electrode

Eliminating a face unknown gives 1 / (d/2y_1A + d/2y_2A), the harmonic mean the peers use
at DC; keeping it keeps G + sC affine in s, so the reduced sweep, the backends, the split
and the arcs work unchanged. A homogeneous slab and layers normal to the current are exact.

Metal voxels are not unknowns: every face-connected metal body is one potential. Bodies
touching the working-electrode face (the top) are the WE, those touching the bottom join
the counter electrode (CE: the whole bottom face), every other body floats (one unknown,
zero net current). A body touching both is a short circuit and is refused.

Unknowns are numbered: the voxels (C order), the face unknowns, the floating bodies, the
WE and last the CE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import ndimage

from constriction.solve.fem import System
from constriction.analysis.split import ConstrictionSplit
from constriction.image.read import ImageError, ImageSpec, Labels
from constriction.progress import say
from constriction.units import EPS0, UM

ELECTROLYTE, GAS, METAL, INSULATOR = 0, 1, 2, 3
KIND_CODE = {"electrolyte": ELECTROLYTE, "gas": GAS, "metal": METAL, "insulator": INSULATOR}
FACES = ndimage.generate_binary_structure(3, 1)  # 6-connectivity: voxels that share a face
METHOD = "cell-centred finite volumes"
CONNECTIVITY = "faces only (6-connected: voxels meeting at an edge or a corner pass no current)"


@dataclass(frozen=True)
class VoxelGrid:
    """The finite-volume grid behind a voxel System: voxel counts and sizes, the unknown of
    every voxel (a metal voxel: its body's), and the coefficients of every voxel."""
    shape: tuple[int, int, int]           # voxels (n0, n1, n2); the current runs along axis 2
    spacing_m: tuple[float, float, float]
    unknown: np.ndarray                   # (n0, n1, n2) -> unknown index
    sigma: np.ndarray                     # (n0, n1, n2) S/m (0: metal, gas, insulator)
    eps: np.ndarray                       # (n0, n1, n2) F/m (eps0 eps_r; 0: metal)
    kind: np.ndarray                      # (n0, n1, n2) ELECTROLYTE, GAS, METAL, INSULATOR
    we_metal: np.ndarray                  # (n0, n1, n2) bool: voxels of the WE
    floating_bodies: int                  # metal bodies with one unknown each
    n_dofs: int

    @property
    def thickness_m(self) -> float:
        return self.shape[2] * self.spacing_m[2]

    @property
    def face_area_m2(self) -> float:
        return self.shape[0] * self.spacing_m[0] * self.shape[1] * self.spacing_m[1]

    @property
    def contact_area_m2(self) -> float:
        """Area of the faces between WE metal and electrolyte voxels (m²)."""
        return contact_area(self.we_metal, self.kind == ELECTROLYTE, self.spacing_m)


def contact_area(we_metal: np.ndarray, electrolyte: np.ndarray, spacing_m, rows: int | None = None) -> float:
    """Area of the faces between WE metal and electrolyte voxels (m²); `rows` as for _links:
    the faces of the first `rows` rows and those to the row after them."""
    band = slice(0, we_metal.shape[0] if rows is None else rows)
    area = 0.0
    for axis in range(3):
        a, b, e_a, e_b = (half if axis == 0 else half[band] for pair in (we_metal, electrolyte)
                          for half in _pairs(pair, axis))
        area += (np.count_nonzero(a & e_b) + np.count_nonzero(b & e_a)) * face_area(spacing_m, axis)
    return float(area)


def face_area(spacing, axis: int) -> float:
    """Area of a voxel face normal to `axis` (m²)."""
    return float(np.prod([spacing[k] for k in range(3) if k != axis]))


def neighbour_slices(axis: int) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """Index of a (n0, n1, n2) array without its last, and without its first, layer along
    `axis`: the two voxels beside every face normal to it."""
    lo, hi = [slice(None)] * 3, [slice(None)] * 3
    lo[axis], hi[axis] = slice(0, -1), slice(1, None)
    return tuple(lo), tuple(hi)


def _pairs(array: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """The array without its last and without its first layer along `axis` (views)."""
    lo, hi = neighbour_slices(axis)
    return array[lo], array[hi]


def coefficients(labels: Labels, spec: ImageSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kind, sigma in S/m, eps in F/m) of every voxel, from the phases of a resolved spec."""
    values = np.array(sorted(spec.labels))
    index = np.searchsorted(values, labels.array)   # label value -> position in `values`
    phases = [spec.phases[spec.labels[v]] for v in values]
    kind = np.array([KIND_CODE[p.kind] for p in phases], np.int8)[index]
    sigma = np.array([p.material.sigma_S_per_m if p.material else 0.0 for p in phases])[index]
    eps = np.array([EPS0 * p.material.eps_r if p.material else 0.0 for p in phases])[index]
    return kind, sigma, eps


def grid_system(labels: Labels, spec: ImageSpec, progress: bool = True,
                capacitance: bool = True) -> tuple[VoxelGrid, System]:
    """Assemble G and C on the voxels of a labelled image (spec resolved at its temperature);
    without `capacitance` (DC solves only) C stays zero."""
    kind, sigma, eps = coefficients(labels, spec)
    spacing = tuple(v * UM for v in labels.turned_voxel_um)
    say(f"{spec.name}: labelling face-connected metal in {kind.size:,} voxels", progress)
    say(f"{spec.name}: assembling {'G and C' if capacitance else 'G'} (cell-centred finite volumes)", progress)
    try:
        return assemble_grid(kind, sigma, eps, spacing, capacitance=capacitance)
    except GridError as err:
        raise ImageError(spec.path, str(err)) from None


class GridError(ValueError):
    """A voxel cell that cannot be solved (no WE, a short circuit, no conducting path)."""


NO_WE = "has no metal on the working-electrode face: nothing carries the current in"
SHORT = "a metal body touches both electrodes: a short circuit"
NO_PATH = ("no electrolyte path between the working and the counter electrode through voxel faces: the cell does "
           "not conduct at DC (its conducting phases do not percolate)")


def assemble_grid(kind: np.ndarray, sigma: np.ndarray, eps: np.ndarray, spacing_m,
                  check_percolation: bool = True, capacitance: bool = True) -> tuple[VoxelGrid, System]:
    """G (S) and C (F) of the finite volumes of a voxel cell (C zero without `capacitance`:
    for DC solves only, the same unknowns); GridError if it has no WE, is short-circuited,
    or (with `check_percolation`) conducts nothing at DC."""
    body, n_bodies, at_we, at_ce = _metal_bodies(kind)
    if not at_we:
        raise GridError(NO_WE)
    if at_we & at_ce:
        raise GridError(SHORT)
    unknown, n_voxels, floating = _number_voxels(body, n_bodies, at_we, at_ce)
    we_metal = np.isin(body, sorted(at_we))
    del body
    first_face = n_voxels + floating + 2                   # face unknowns come last, for now
    a, b, g, c, faces = _links(kind, sigma, eps, unknown, spacing_m, first_face, first_face - 1)
    n_faces = faces.shape[1]
    n_dofs = first_face + n_faces
    for ends in (a, b):  # put them between the voxels and the bodies
        ends += np.where(ends >= first_face, n_voxels - first_face, np.where(ends >= n_voxels, n_faces, 0))
    unknown[unknown >= n_voxels] += n_faces
    G = laplacian(a, b, g, n_dofs)
    C = laplacian(a, b, c, n_dofs) if capacitance else sp.csr_matrix((n_dofs, n_dofs))
    del a, b, g, c
    we, ce = n_dofs - 2, n_dofs - 1
    if check_percolation:
        _check_percolation(G, we, ce)
    grid = VoxelGrid(shape=kind.shape, spacing_m=tuple(spacing_m), unknown=unknown, sigma=sigma, eps=eps, kind=kind,
                     we_metal=we_metal, floating_bodies=floating, n_dofs=n_dofs)
    shorted, voids = _gas_groups(grid, faces)
    bodies = tuple(range(n_dofs - 2 - floating, n_dofs - 2))
    return grid, System(G=G, C=C, we=np.array([we]), ce=np.array([ce]), shorted=shorted, basis=None,
                        floating=voids, grid=grid, bodies=bodies)


def _metal_bodies(kind: np.ndarray) -> tuple[np.ndarray, int, set, set]:
    """Face-connected metal bodies (labels 1..n, 0 elsewhere) and the labels of those
    touching the working-electrode face (the top) and the counter-electrode face (the bottom)."""
    body, n_bodies = ndimage.label(kind == METAL, structure=FACES)
    at_we = set(np.unique(body[:, :, -1]).tolist()) - {0}
    at_ce = set(np.unique(body[:, :, 0]).tolist()) - {0}
    return body, n_bodies, at_we, at_ce


def _number_voxels(body: np.ndarray, n_bodies: int, at_we: set, at_ce: set) -> tuple[np.ndarray, int, int]:
    """The unknown of every voxel: the voxels that are not metal first (C order), then one
    per floating metal body, then the WE and the CE (numbered here as if nothing came
    between the voxels and the bodies). Returns (unknown, voxel unknowns, floating bodies)."""
    free = body == 0
    n_voxels = int(np.count_nonzero(free))
    role = np.zeros(n_bodies + 1, np.int64)           # 0 floating, 1 WE, 2 CE
    role[sorted(at_we)] = 1
    role[sorted(at_ce)] = 2
    floating_ids = [b for b in range(1, n_bodies + 1) if role[b] == 0]
    n_floating = len(floating_ids)
    of_body = np.zeros(n_bodies + 1, np.int64)
    of_body[floating_ids] = n_voxels + np.arange(n_floating)
    of_body[role == 1] = n_voxels + n_floating
    of_body[role == 2] = n_voxels + n_floating + 1
    unknown = of_body[body]
    unknown[free] = np.arange(n_voxels)
    return unknown, n_voxels, n_floating


def _links(kind, sigma, eps, unknown, spacing, first_face, ce, rows: int | None = None):
    """Every link of the finite volumes, as ends (a, b) and conductance g (S) and
    capacitance c (F), with the face unknowns numbered from first_face on; and the two
    voxel unknowns beside each face unknown (2, faces). `ce`: the CE's unknown. `rows`: the
    links of the first `rows` rows (axis 0) only, and those between them and the next row
    (a band of a partitioned image with the next band's first row after it)."""
    metal = kind == METAL
    material = _material_index(sigma, eps, metal)
    parts, faces = [], []
    next_face = first_face
    band = slice(0, kind.shape[0] if rows is None else rows)
    for axis in range(3):
        per_d = face_area(spacing, axis) / spacing[axis]
        u0, u1, m0, m1, s0, s1, e0, e1 = (half if axis == 0 else half[band] for pair in
                                          (unknown, material, sigma, eps) for half in _pairs(pair, axis))
        both = (m0 >= 0) & (m1 >= 0)
        same = both & (m0 == m1)
        parts.append((u0[same], u1[same], per_d * s0[same], per_d * e0[same]))
        differ = both & (m0 != m1)
        k = int(np.count_nonzero(differ))
        face = np.arange(next_face, next_face + k)
        next_face += k
        parts.append((u0[differ], face, 2 * per_d * s0[differ], 2 * per_d * e0[differ]))
        parts.append((face, u1[differ], 2 * per_d * s1[differ], 2 * per_d * e1[differ]))
        faces.append(np.vstack([u0[differ], u1[differ]]))
        below = (m0 < 0) & (m1 >= 0)                      # metal below the voxel: a half-link
        parts.append((u1[below], u0[below], 2 * per_d * s1[below], 2 * per_d * e1[below]))
        above = (m0 >= 0) & (m1 < 0)                      # metal above it
        parts.append((u0[above], u1[above], 2 * per_d * s0[above], 2 * per_d * e0[above]))
    bottom = ~metal[band, :, 0]                            # the CE: the whole bottom face
    per_d = face_area(spacing, 2) / spacing[2]
    parts.append((unknown[band, :, 0][bottom], np.full(int(bottom.sum()), ce),
                  2 * per_d * sigma[band, :, 0][bottom], 2 * per_d * eps[band, :, 0][bottom]))
    a, b, g, c = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return a, b, g, c, np.hstack(faces)


def face_unknown_count(kind, sigma, eps, rows: int | None = None) -> int:
    """The number of face unknowns `_links` makes (with the same `rows`): faces between two
    voxels that are not metal and differ in (sigma, eps)."""
    material = _material_index(sigma, eps, kind == METAL)
    band = slice(0, kind.shape[0] if rows is None else rows)
    count = 0
    for axis in range(3):
        m0, m1 = (half if axis == 0 else half[band] for half in _pairs(material, axis))
        count += int(np.count_nonzero((m0 >= 0) & (m1 >= 0) & (m0 != m1)))
    return count


def _material_index(sigma: np.ndarray, eps: np.ndarray, metal: np.ndarray) -> np.ndarray:
    """One integer per distinct (sigma, eps) pair, -1 for metal: voxels of one index need
    no face unknown between them."""
    pairs = sigma.ravel() + 1j * eps.ravel()  # one complex number per pair: a 1-D unique, 5x faster than axis=0
    found = np.unique(pairs[::max(1, pairs.size // 100_000)])  # the few pairs of an image, from a sample ...
    index = np.minimum(np.searchsorted(found, pairs), found.size - 1)
    if not np.array_equal(found[index], pairs):  # ... unless it missed one (0.5 s -> 0.05 s at 128³)
        index = np.unique(pairs, return_inverse=True)[1]
    index = index.reshape(sigma.shape).astype(np.int32)
    index[metal] = -1
    return index


def laplacian(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """sum over links of w (e_a - e_b)(e_a - e_b)^T: the weighted graph Laplacian (n x n)."""
    keep = w != 0
    a, b, w = a[keep], b[keep], w[keep]
    diagonal = np.bincount(a, w, n) + np.bincount(b, w, n)
    rows = np.concatenate([a, b, np.arange(n)])
    cols = np.concatenate([b, a, np.arange(n)])
    return sp.csr_matrix((np.concatenate([-w, -w, diagonal]), (rows, cols)), shape=(n, n))


def _check_percolation(G: sp.csr_matrix, we: int, ce: int) -> None:
    """Refuse a cell whose conducting voxels do not connect the WE to the CE through faces."""
    from scipy.sparse.csgraph import connected_components
    _, component = connected_components(G, directed=False)
    if component[we] != component[ce]:
        raise GridError(NO_PATH)


def _gas_groups(grid: VoxelGrid, faces: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Unknowns of gas against the WE (gaps and pores: shorted to it when their capacitance
    is) and of every other gas body (a void: one floating potential each): the gas
    voxels and the face unknowns on their faces."""
    gas, n, touching = _gas_bodies(grid.kind, grid.we_metal)
    if n == 0:
        return np.array([], np.int64), ()
    group = np.zeros(grid.n_dofs, np.int64)                # gas body of each unknown (0: none)
    inside = gas > 0
    group[grid.unknown[inside]] = gas[inside]
    n_voxels = int(np.count_nonzero(grid.kind != METAL))
    group[n_voxels:n_voxels + faces.shape[1]] = np.maximum(group[faces[0]], group[faces[1]])
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(1, n + 2))
    members = [order[bounds[k]:bounds[k + 1]] for k in range(n)]
    shorted = [m for k, m in enumerate(members, start=1) if k in touching]
    voids = tuple(m for k, m in enumerate(members, start=1) if k not in touching)
    return (np.unique(np.concatenate(shorted)) if shorted else np.array([], np.int64)), voids


def _gas_bodies(kind: np.ndarray, we_metal: np.ndarray) -> tuple[np.ndarray, int, set]:
    """Face-connected gas bodies (labels 1..n, 0 elsewhere), their count, and the labels
    of those that share a face with the WE metal (gaps and pores)."""
    gas, n = ndimage.label(kind == GAS, structure=FACES)
    beside_we = ndimage.binary_dilation(we_metal, structure=FACES) & (gas > 0)
    return gas, n, set(np.unique(gas[beside_we]).tolist())


def voxel_potential(grid: VoxelGrid, x: np.ndarray) -> np.ndarray:
    """The potential of every voxel (n0, n1, n2) from the unknowns (metal: its body's)."""
    return x[grid.unknown]


def bulk_reference(grid: VoxelGrid) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, kind) of the same image in full contact: gas against the WE becomes WE
    metal, every other gas and insulator voxel the bulk electrolyte (the most common
    conductivity among the electrolyte voxels). Its DC resistance is R_bulk."""
    gas, _, touching = _gas_bodies(grid.kind, grid.we_metal)
    return in_full_contact(grid.kind, grid.sigma, np.isin(gas, sorted(touching)), bulk_sigma(grid))


def bulk_sigma(grid: VoxelGrid) -> float:
    """The bulk electrolyte's conductivity (S/m): the most common among the electrolyte
    voxels (NaN where there are none)."""
    values, counts = np.unique(grid.sigma[grid.kind == ELECTROLYTE], return_counts=True)
    return float(values[np.argmax(counts)]) if values.size else math.nan


def shorted_cell(grid: VoxelGrid) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, kind) of R_inf's cell as voxels: every gas voxel metal (gas against the WE
    joins it, a void becomes a floating body), as dc_solution's short_gaps treats them."""
    kind = grid.kind.copy()
    kind[kind == GAS] = METAL
    return grid.sigma, kind


def in_full_contact(kind: np.ndarray, sigma: np.ndarray, into_metal: np.ndarray, bulk: float):
    """(sigma, kind) with the voxels `into_metal` (gas against the WE) made metal and every
    other gas and insulator voxel the bulk electrolyte of conductivity `bulk` (S/m)."""
    kind, sigma = kind.copy(), sigma.copy()
    other = (kind == GAS) & ~into_metal | (kind == INSULATOR)
    kind[into_metal], sigma[into_metal] = METAL, 0.0
    kind[other], sigma[other] = ELECTROLYTE, bulk
    return sigma, kind


def reference_resistance(grid: VoxelGrid, sigma: np.ndarray, kind: np.ndarray, backend: str = "auto") -> float:
    """DC resistance (ohm) of the grid with other conductivities and kinds (same WE face):
    L / (sigma A) where that is one conductivity under whole layers of metal (a slab, which
    the finite volumes hold exactly: a porous image's reference), else a DC solve."""
    from constriction.solve.direct import dc_resistance
    slab = slab_resistance(sigma, kind, grid.spacing_m)
    if slab is not None:
        return slab
    _, system = assemble_grid(kind, sigma, np.zeros_like(sigma), grid.spacing_m, check_percolation=False)
    return dc_resistance(system, backend=backend)[0]


def slab_resistance(sigma: np.ndarray, kind: np.ndarray, spacing_m) -> float | None:
    """n d / (sigma A) (ohm) where the voxels below the top's whole layers of metal all have
    one conductivity sigma > 0 (and no metal); None otherwise."""
    metal_layers = (kind == METAL).all(axis=(0, 1))
    top = int(np.argmin(metal_layers[::-1])) if not metal_layers.all() else kind.shape[2]
    below = slice(0, kind.shape[2] - top)
    if top == 0 or top == kind.shape[2] or np.any(kind[:, :, below] == METAL):
        return None
    value = sigma[0, 0, 0]
    if value <= 0 or np.any(sigma[:, :, below] != value):
        return None
    area = kind.shape[0] * spacing_m[0] * kind.shape[1] * spacing_m[1]
    return float((kind.shape[2] - top) * spacing_m[2] / (value * area))


def image_split(grid, R_dc: float, backend: str = "auto") -> ConstrictionSplit:
    """The split of a voxel cell: its reference is the same image in full contact (gas
    against the WE becomes metal, other gas and insulators the bulk electrolyte; see
    voxels.bulk_reference). An image's electrode covers its whole face: R_static = 0."""
    try:
        R_bulk = reference_resistance(grid, *bulk_reference(grid), backend=backend)
    except GridError as err:  # gas between WE metal and a body on the CE: filled, it shorts the cell
        return ConstrictionSplit.unknown(R_dc, why=f"no static/dynamic split: in full contact (the gas against "
                                                   f"the WE filled with metal) {err}")
    return ConstrictionSplit(R_dc_ohm=R_dc, R_electrode_ohm=R_bulk, R_bulk_ohm=R_bulk)
