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

Lower bound, from one more solve: trilinear (Q1) potentials on the conducting voxels. A
vertex gets one unknown per group of face-connected conducting voxels around it (within
its 2 x 2 x 2 block): where voxels meet at an edge or a corner only, the potential may
differ on either side, as it may in the continuum. The Q1 energy is minimised by AMG-CG;
any iterate is admissible, so the bound holds at any tolerance.

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
from constriction.solve.linalg import factorize

# CG's relative residual for the Q1 potential: its energy, the bound, is quadratic in the
# error (1e-5 leaves it within ~1e-10 of the minimum), and any iterate gives a valid bound
LOWER_BOUND_RTOL = 1e-5
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


def potential_lower_bound(grid: VoxelGrid, backend: str = "auto") -> tuple[float | None, str]:
    """Dirichlet's bound (ohm) from the Q1 solve on the conducting voxels (above); None,
    with the reason, where two metal bodies meet at a vertex of a conducting voxel."""
    dof, n_dofs, metal_of, why = _vertex_unknowns(grid)
    if why:
        return None, why
    cells = np.argwhere(grid.sigma > 0)
    corner_dofs = np.stack([dof[tuple((cells + np.array(o)).T) + (7 - _flat(o),)] for o in CORNERS], axis=1)
    K = _brick_stiffness(grid.spacing_m)
    sigma = grid.sigma[tuple(cells.T)]
    A = sp.csr_matrix(((sigma[:, None] * K.ravel()[None, :]).ravel(),
                       (np.repeat(corner_dofs, 8, axis=1).ravel(), np.tile(corner_dofs, (1, 8)).ravel())),
                      shape=(n_dofs, n_dofs))
    del corner_dofs
    we, ce = grid.n_dofs - 2, grid.n_dofs - 1  # voxels.py numbers the electrodes last
    u = np.zeros(n_dofs)
    fixed = np.zeros(n_dofs, bool)
    fixed[metal_of == we] = fixed[metal_of == ce] = True
    u[metal_of == we] = 1.0
    _, component = connected_components(A, directed=False)
    anchored = np.zeros(component.max() + 1, bool)
    anchored[component[fixed]] = True
    free = np.flatnonzero(~fixed & anchored[component] & (A.diagonal() > 0))
    u[free] = factorize(A[free][:, free], backend, LOWER_BOUND_RTOL)(-(A @ u)[free])
    power = float(u @ (A @ u))  # the energy of this admissible potential, at any tolerance of the solve
    return (1.0 / power if power > 0 else float("inf")), ""


def _vertex_unknowns(grid: VoxelGrid):
    """The Q1 unknown of every (vertex, voxel of its block) pair, shape (n0+1, n1+1, n2+1, 8):
    one per face-connected group of conducting voxels at a vertex; the groups against one
    metal body share that body's unknown. Returns (unknown, count, the metal unknown of each
    (grid.unknown of the body; -1: none), a reason where two bodies meet)."""
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
    # the metal body each group touches through a face of its block, and the CE's bottom plane
    touches = np.full(vertices + (4,), -1, np.int64)
    clash = np.zeros(vertices + (4,), bool)
    for o in CORNERS:
        inside = group[..., _flat(o)] >= 0
        for bit in (4, 2, 1):
            neighbour = block(body, CORNERS[_flat(o) ^ bit])
            at = np.nonzero(inside & (neighbour >= 0))
            k = group[..., _flat(o)][at]
            seen = touches[at + (k,)]
            clash[at + (k,)] |= (seen >= 0) & (seen != neighbour[at])
            touches[at + (k,)] = neighbour[at]
    if clash.any():
        return None, 0, None, ("two metal bodies meet at a corner or an edge of a conducting voxel: no "
                               "potential can take both values there")
    touches[:, :, 0, :] = grid.n_dofs - 1  # the bottom plane: the counter electrode (the WE there is a short)
    # the groups on one metal body become its unknown: the bodies are numbered after the vertices
    bodies, body_index = np.unique(touches[touches >= 0], return_inverse=True)
    relabel = np.arange(n_vertices * 4)
    relabel[np.flatnonzero(touches.ravel() >= 0)] = n_vertices * 4 + body_index
    metal_of = np.concatenate([np.full(n_vertices * 4, -1), bodies])
    return relabel[dof], n_vertices * 4 + bodies.size, metal_of, ""


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


def bounds(grid: VoxelGrid, x: np.ndarray, R_fv_ohm: float, backend: str = "auto") -> Bounds:
    """Both bounds of the continuum R for the DC solve (x, R_fv_ohm) of this grid (x None:
    nothing conducts, R_fv_ohm inf)."""
    lower, why = potential_lower_bound(grid, backend)
    upper = float("inf") if x is None else flux_upper_bound(grid, x, R_fv_ohm)
    return Bounds(R_upper_ohm=upper, R_lower_ohm=lower, why=why)
