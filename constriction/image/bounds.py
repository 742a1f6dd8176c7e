"""Two-sided bounds on the continuum DC resistance of an image's union of cubes.

The image describes a domain exactly: the interior of the union of its conducting voxels
(two voxels that meet at an edge or a corner only are not joined: the 6-connectivity of
the finite volumes). Its resistance R between the electrodes obeys two variational
principles, each giving a bound from any admissible field, with no constant to calibrate:

    Thomson:    R <= integral |J|^2 / sigma dV / I^2   for any current density J with
                div J = 0, J.n = 0 on insulating walls, and total current I;
    Dirichlet:  1 / R <= integral sigma |grad u|^2 dV  for any potential u with u = 1 on
                the working electrode and u = 0 on the counter electrode (each floating
                metal body at one potential of its own).

Upper bound, from the finite-volume solve itself: its face fluxes F, spread linearly
across each voxel (the lowest Raviart-Thomas field on a brick), are divergence-free, zero
on insulating faces and continuous between phases, so J is admissible. Its energy per
voxel and axis is d / (sigma A) (F_l^2 + F_l F_r + F_r^2) / 3, while the finite volumes'
own R is the trapezoidal rule of the same integral, d / (sigma A) (F_l^2 + F_r^2) / 2: no
smaller. Hence R_fv >= R_upper >= R.

Lower bound: a trilinear (Q1) potential on the conducting voxels. A vertex gets one
unknown per group of face-connected conducting voxels around it (within its 2 x 2 x 2
block): where voxels meet at an edge or a corner only, the potential may differ on either
side, as it may in the continuum. It starts from the finite-volume potentials (each
unknown the mean of its voxels') and its energy is lowered by Jacobi-CG, applied voxel by
voxel (no matrix), until a step narrows the bracket by less than BRACKET_STEP of its width;
any iterate is admissible, so the bound holds wherever CG stops. (A full AMG solve of the
assembled Q1 matrix, 64 entries a voxel, cost 5x the DC solve and narrowed the bracket by
1.5 % of its width more: benchmarks/README.md.)

Where two metal bodies meet at an edge or a corner of a conducting voxel, no potential
takes both values there; they are joined (a short between them), which by Rayleigh's
monotonicity only lowers R, so the lower bound holds for the cell as it is.

Together, R_lower <= R <= R_upper <= R_fv from the image's own resolution: R_fv - R_lower
is a guaranteed error bar on the reported value, and the bracket holds every value that
finer subdivisions of the voxels give (they bound the same R).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from constriction.image.voxels import METAL, VoxelGrid, neighbour_slices

# CG on the Q1 potential stops once a step narrows the bracket by less than this fraction
# of its width (every iterate is admissible: the bound holds wherever it stops; on a
# 128³ porous image the bracket is then within 1.5 % of its width at convergence), or once
# its preconditioned residual falls to ROUNDING of where it started
BRACKET_STEP = 1e-3
ROUNDING = 1e-24
LOWER_BOUND_MAXITER = 500
CORNERS = list(np.ndindex(2, 2, 2))  # offsets of a voxel's corners; of a vertex's 2 x 2 x 2 block of voxels


@dataclass(frozen=True)
class Bounds:
    """R_lower <= R <= R_upper (ohm) for the continuum resistance of the image's cubes;
    R_lower is None, with the reason, where no conforming potential could be built."""
    R_upper_ohm: float
    R_lower_ohm: float | None
    why: str = ""


def flux_upper_bound(grid: VoxelGrid, x: np.ndarray, R_fv_ohm: float) -> float:
    """Thomson's bound (ohm) from the finite-volume potentials x (every dof, WE at 1 V) of
    the DC solve whose resistance is R_fv_ohm."""
    potential = x[grid.unknown]  # a metal voxel: its body's potential
    metal = grid.kind == METAL
    conducting = grid.sigma > 0
    energy = 0.0
    for axis in range(3):
        area = float(np.prod([grid.spacing_m[k] for k in range(3) if k != axis]))
        d = grid.spacing_m[axis]
        with np.errstate(divide="ignore"):
            half = np.where(metal, 0.0, d / (2 * grid.sigma * area))  # half a voxel's resistance (inf: no current)
        lo, hi = neighbour_slices(axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            link = 1.0 / (half[lo] + half[hi])
        link[~np.isfinite(link) | (metal[lo] & metal[hi])] = 0.0
        shape = list(grid.shape)
        shape[axis] += 1
        faces = np.zeros(shape)  # the flux through every face normal to the axis, towards +axis
        inner = [slice(None)] * 3
        inner[axis] = slice(1, -1)
        faces[tuple(inner)] = link * (potential[lo] - potential[hi])
        if axis == 2:  # the counter electrode at 0 V under the bottom layer: a half-link
            bottom = conducting[:, :, 0]
            faces[:, :, 0][bottom] = -potential[:, :, 0][bottom] / half[:, :, 0][bottom]
        first, last = [slice(None)] * 3, [slice(None)] * 3
        first[axis], last[axis] = slice(0, -1), slice(1, None)
        F_l, F_r = faces[tuple(first)][conducting], faces[tuple(last)][conducting]
        energy += np.sum(2 * half[conducting] * (F_l**2 + F_l * F_r + F_r**2) / 3)
    current = 1.0 / R_fv_ohm
    return float(energy / current**2)


def potential_lower_bound(grid: VoxelGrid, x: np.ndarray | None, R_above_ohm: float) -> tuple[float | None, str]:
    """Dirichlet's bound (ohm) from a trilinear (Q1) potential on the conducting voxels,
    started from the finite-volume potentials x (every dof; None: nothing conducts, inf)
    and improved by CG until the bracket under R_above_ohm (an upper bound) barely narrows
    (`minimised`); None, with the reason, where the two electrodes meet at a vertex of a
    conducting voxel (metal bodies that meet there are joined: vertex_unknowns)."""
    if x is None:
        return float("inf"), ""
    dof, metal_of, why = vertex_unknowns(grid)
    if why:
        return None, why
    cells = np.argwhere(grid.sigma > 0)
    corners = np.stack([dof[tuple((cells + np.array(o)).T) + (7 - _flat(o),)] for o in CORNERS], axis=1)
    used, corners = np.unique(corners, return_inverse=True)  # only the unknowns a conducting voxel touches
    energy = Q1Energy(corners.reshape(-1, 8), grid.sigma[tuple(cells.T)], _brick_stiffness(grid.spacing_m), used.size)
    we, ce = grid.n_dofs - 2, grid.n_dofs - 1  # voxels.py numbers the electrodes last
    metal = metal_of[used]
    u = energy.averaged(x[grid.unknown[tuple(cells.T)]])  # each unknown: the mean of its voxels' potentials
    u[metal == we], u[metal == ce] = 1.0, 0.0
    power = minimised(energy, u, free=(metal != we) & (metal != ce), R_above=R_above_ohm)
    return (1.0 / power if power > 0 else float("inf")), ""


@dataclass(frozen=True)
class Q1Energy:
    """The trilinear potential's power sum_cells sigma u_c^T K u_c (W at 1 V), applied
    voxel by voxel without assembling: corners (n_cells, 8) the unknowns of each
    conducting voxel's corners, sigma (n_cells,) S/m, K the brick's 8 x 8 stiffness per
    unit conductivity."""
    corners: np.ndarray
    sigma: np.ndarray
    K: np.ndarray
    n: int

    def product(self, u: np.ndarray) -> np.ndarray:
        """A u, A the assembled stiffness (S)."""
        local = (u[self.corners] @ self.K) * self.sigma[:, None]
        return np.bincount(self.corners.ravel(), weights=local.ravel(), minlength=self.n)

    def power(self, u: np.ndarray) -> float:
        return float(u @ self.product(u))

    def diagonal(self) -> np.ndarray:
        return np.bincount(self.corners.ravel(), weights=(self.sigma[:, None] * np.diag(self.K)).ravel(),
                           minlength=self.n)

    def averaged(self, value: np.ndarray) -> np.ndarray:
        """Each unknown's mean of the values (n_cells,) of the voxels it is a corner of."""
        total = np.bincount(self.corners.ravel(), weights=np.repeat(value, 8), minlength=self.n)
        return total / np.bincount(self.corners.ravel(), minlength=self.n)


def minimised(energy: Q1Energy, u: np.ndarray, free: np.ndarray, R_above: float) -> float:
    """The power of u after Jacobi-preconditioned CG on its free unknowns (u is updated),
    stopped once a step gains less than BRACKET_STEP of the bracket's width (R_above: the
    upper end, ohm; inf: on to rounding) or the residual is at rounding. Every iterate is
    admissible, so the bound holds wherever CG stops; CG lowers the power at every step,
    by alpha r.z."""
    d = np.where(free, energy.diagonal(), 1.0)
    power = energy.power(u)
    r = np.where(free, -energy.product(u), 0.0)
    z = r / d
    p, rz = z.copy(), float(r @ z)
    start = rz
    for _ in range(LOWER_BOUND_MAXITER):
        if rz <= (ROUNDING * start if start > 0 else 0.0):
            break
        q = np.where(free, energy.product(p), 0.0)
        alpha = rz / float(p @ q)
        u += alpha * p
        r -= alpha * q
        gain = alpha * rz
        power -= gain
        width = R_above * power - 1.0  # (R_above - 1/P) / (1/P), against the step's gain d(1/P) / (1/P)
        if np.isfinite(width) and gain / power < BRACKET_STEP * max(width, 0.0):
            break
        z = r / d
        rz, previous = float(r @ z), rz
        p = z + (rz / previous) * p
    return energy.power(u)  # its own product, not CG's running sum


def vertex_unknowns(grid: VoxelGrid):
    """The Q1 unknown of every (vertex, voxel of its block) pair, shape (n0+1, n1+1, n2+1, 8):
    one per face-connected group of conducting voxels at a vertex; the groups against one
    metal body share that body's unknown. Where one group touches two bodies (they meet at
    an edge or a corner of a conducting voxel: no potential takes both values there) the
    two are joined, a short circuit between them, which by Rayleigh's monotonicity only
    lowers R: the lower bound still holds. Returns (unknown, the metal unknown of each
    (grid.unknown of the body; -1: none), a reason where none can be built: the two
    electrodes joined)."""
    n = grid.shape
    vertices = tuple(m + 1 for m in n)
    conducting = np.pad(grid.sigma > 0, 1)
    body = np.pad(np.where(grid.kind == METAL, grid.unknown, -1), 1, constant_values=-1)

    def block(array, offset):  # the voxel at `offset` in every vertex's block
        return array[tuple(slice(o, o + m) for o, m in zip(offset, vertices))]
    mask = sum(block(conducting, o).astype(np.int64) << _flat(o) for o in CORNERS)
    group = GROUPS[mask]                                       # (vertices..., 8): -1 where not conducting
    n_vertices = int(np.prod(vertices))
    dof = np.arange(n_vertices).reshape(vertices)[..., None] * 4 + np.maximum(group, 0)
    while True:  # the metal body each group touches through a face of its block
        touches = np.full(vertices + (4,), -1, np.int64)
        pairs = []
        for o in CORNERS:
            inside = group[..., _flat(o)] >= 0
            for bit in (4, 2, 1):
                neighbour = block(body, CORNERS[_flat(o) ^ bit])
                at = np.nonzero(inside & (neighbour >= 0))
                k = group[..., _flat(o)][at]
                seen = touches[at + (k,)]
                both = (seen >= 0) & (seen != neighbour[at])
                pairs.append(np.stack([seen[both], neighbour[at][both]]))
                touches[at + (k,)] = neighbour[at]
        pairs = np.unique(np.hstack(pairs), axis=1)
        if not pairs.size:
            break
        body, why = _joined(body, pairs, electrodes=(grid.n_dofs - 2, grid.n_dofs - 1))
        if why:
            return None, None, why
    touches[:, :, 0, :] = grid.n_dofs - 1  # the bottom plane: the counter electrode (the WE there is a short)
    # the groups on one metal body become its unknown: the bodies are numbered after the vertices
    bodies, body_index = np.unique(touches[touches >= 0], return_inverse=True)
    relabel = np.arange(n_vertices * 4)
    relabel[np.flatnonzero(touches.ravel() >= 0)] = n_vertices * 4 + body_index
    metal_of = np.concatenate([np.full(n_vertices * 4, -1), bodies])
    return relabel[dof], metal_of, ""


def _joined(body: np.ndarray, pairs: np.ndarray, electrodes: tuple[int, int]) -> tuple[np.ndarray, str]:
    """The body array with each pair of bodies (2, m) that meet joined into one, under the
    electrode's unknown where one is an electrode (else the smaller); a reason instead
    where the WE and the CE would join."""
    ids, local = np.unique(np.concatenate([pairs.ravel(), electrodes]), return_inverse=True)
    m = ids.size
    edges = local[:pairs.size].reshape(2, -1)
    _, component = connected_components(sp.csr_matrix((np.ones(edges.shape[1]), edges), shape=(m, m)), directed=False)
    we, ce = local[pairs.size:]
    if component[we] == component[ce]:
        return body, ("the two electrodes meet at a corner or an edge of a conducting voxel: no potential can take "
                      "both values there")
    target = np.empty(component.max() + 1, np.int64)
    for k in range(target.size):
        members = ids[component == k]
        electrode = [e for e in electrodes if e in members]
        target[k] = electrode[0] if electrode else members.min()
    joined = body.copy()
    at = np.isin(body, ids)
    joined[at] = target[component][np.searchsorted(ids, body[at])]
    return joined, ""


def _flat(offset) -> int:
    """The index 0..7 of an offset (i, j, k) in a 2 x 2 x 2 block."""
    return offset[0] * 4 + offset[1] * 2 + offset[2]


def _groups() -> np.ndarray:
    """For each of the 256 patterns of conducting voxels in a 2 x 2 x 2 block, the group
    (0..3) of every conducting voxel among those joined through shared faces (-1: not
    conducting)."""
    table = np.full((256, 8), -1, np.int64)
    for mask in range(256):
        on = [b for b in range(8) if mask >> b & 1]
        label = {b: b for b in on}
        for _ in range(3):  # a block's face graph has diameter 3
            for b in on:
                for bit in (1, 2, 4):
                    if b ^ bit in label:
                        label[b] = min(label[b], label[b ^ bit])
        roots = sorted(set(label.values()))
        for b in on:
            table[mask, b] = roots.index(label[b])
    return table


GROUPS = _groups()


def _brick_stiffness(spacing_m) -> np.ndarray:
    """The Q1 stiffness matrix (8 x 8, per unit conductivity, S) of a brick of the given
    sides, corners ordered as CORNERS: the sum over axes of one 1-D stiffness and two 1-D
    masses."""
    stiffness = [np.array([[1.0, -1.0], [-1.0, 1.0]]) / h for h in spacing_m]
    mass = [h * np.array([[2.0, 1.0], [1.0, 2.0]]) / 6 for h in spacing_m]
    terms = [[stiffness[0], mass[1], mass[2]], [mass[0], stiffness[1], mass[2]], [mass[0], mass[1], stiffness[2]]]
    K = sum(np.kron(np.kron(a, b), c) for a, b, c in terms)
    K[np.abs(K) < 1e-12 * np.abs(K).max()] = 0.0  # a cube's edge neighbours: 0, not a rounding error's sign
    return K


def bounds(grid: VoxelGrid, x: np.ndarray, R_fv_ohm: float) -> Bounds:
    """Both bounds of the continuum R for the DC solve (x, R_fv_ohm) of this grid (x None:
    nothing conducts, R_fv_ohm inf)."""
    upper = float("inf") if x is None else flux_upper_bound(grid, x, R_fv_ohm)
    lower, why = potential_lower_bound(grid, x, upper)
    return Bounds(R_upper_ohm=upper, R_lower_ohm=lower, why=why)
