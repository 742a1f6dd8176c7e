"""Meshes that reach the tolerance asked: [mesh] tolerance, relative, on R_dc.

Each step meshes the cell and brackets its R_dc on those tetrahedra (solve/bounds.py): the
conforming value from below, the mixed solve from above, its current converging as the
order does (FLUX_DEGREE: linear in each tetrahedron for P2, second order like it; constant
for P1, first order like it, for a third of the unknowns). The loop stops when the
bracket's width over R_dc is within the tolerance. Otherwise the width says where the mesh
is too coarse: it is a sum over tetrahedra (bounds.hypercircle, Prager and Synge). The next mesh gets as many more
tetrahedra as the width must fall (COUNT_POWER, at most GROWTH times), sized so that each
holds an equal share of it (_shrink), as a size field beside the spec's own grading
(cell.build_mesh's `sizes`: never coarser than that grading). The circular rims' node
moves are made again on each new mesh. The loop also stops after MAX_STEPS meshes, where
the next mesh would not fit the run's memory budget, or where there is no R_dc or no upper
bound to refine on; the run then carries the bracket it reached and warns.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from constriction.geometry.assemble import assembled, materials_of, tagged_cell
from constriction.geometry.tagged_mesh import TaggedMesh
from constriction.io.summary import MeshStep
from constriction.memory import available_bytes, gib
from constriction.progress import say
from constriction.solve.bounds import hypercircle, mixed_fits
from constriction.solve.direct import dc_solution
from constriction.solve.fem import System
from constriction.spec import Spec
from constriction.units import UM

SAFETY = 0.7     # the next mesh aims at this share of the tolerance
COUNT_POWER = {1: 2.0, 2: 1.0}  # with N times the tetrahedra to the power (P1, P2) the width falls N times:
                                # measured for P2 on the pixel square and disk spot (N^-4/3 asymptotically)
GROWTH = 8.0     # the next mesh has at most this many times the tetrahedra (each mesh recalibrates)
MIN_SHRINK = 1 / 3  # a tetrahedron's next size over its present one at the least
MAX_GROWTH = 2.0    # and at the most (never coarser than the spec's own grading: cell.py takes the smaller)
MAX_STEPS = 8    # meshes at the most
FLUX_DEGREE = {1: 0, 2: 1}  # the mixed solve's current per order: of P1's first order, of P2's second


@dataclass(frozen=True)
class Adapted:
    """The last mesh of an adaptive run, assembled, and what the steps found: `upper_ohm`
    the last mixed solve's R_dc, `why` ("" where the tolerance was reached) what stopped it."""
    tm: TaggedMesh
    grain_boundaries: tuple | None
    system: System
    tolerance: float
    flux_degree: int
    steps: tuple[MeshStep, ...]
    why: str

    @property
    def upper_ohm(self) -> float:
        return self.steps[-1].upper_ohm

    @property
    def note(self) -> str:
        """What the error bar's note says of the adaptation."""
        if not self.steps:
            return f"mesh.tolerance {self.tolerance:g} not reached: {self.why} (the first mesh kept)"
        first, last = self.steps[0], self.steps[-1]
        meshes = (f"{len(self.steps)} meshes, {first.elements:,} to {last.elements:,} tetrahedra, "
                  f"R_dc's bracket {100 * first.width:.3g} % to {100 * last.width:.3g} % wide")
        if not self.why:
            return f"mesh adapted to the tolerance {self.tolerance:g} ({meshes})"
        return f"mesh.tolerance {self.tolerance:g} not reached: {self.why} ({meshes})"


def adapted_cell(spec: Spec, progress: bool = True, backend: str = "auto", budget: int | None = None) -> Adapted:
    """Mesh a resolved Spec again and again until R_dc's bracket is within spec.mesh.tolerance,
    each mesh and its mixed solve within `budget` (bytes; None: the memory available)."""
    tolerance, sizes, steps = spec.mesh.tolerance, None, []
    budget = available_bytes() if budget is None else budget
    degree = FLUX_DEGREE[spec.mesh.order]

    def fits(elements: int) -> bool:
        return mixed_fits(elements, spec.mesh.order, degree, budget)

    conducting = [(name, m.sigma_S_per_m) for name, m in materials_of(spec).items() if m.sigma_S_per_m > 0]
    while True:
        t0 = time.perf_counter()
        tm, grain_boundaries = tagged_cell(spec, sizes)
        system = assembled(spec, tm, grain_boundaries)
        if not fits(tm.n_elements):
            return Adapted(tm, grain_boundaries, system, tolerance, degree, tuple(steps),
                           f"the mixed solve's system on {tm.n_elements:,} tetrahedra does not fit the memory "
                           f"available to this run ({gib(budget)})")
        lower = dc_solution(system, backend=backend)
        if not math.isfinite(lower.R_ohm):
            return Adapted(tm, grain_boundaries, system, tolerance, degree, tuple(steps),
                           "nothing conducts at DC: no R_dc to refine the mesh on")
        dual = assembled(spec, tm, grain_boundaries, flux_degree=degree)
        upper = dc_solution(dual, backend=backend)
        steps.append(MeshStep(elements=tm.n_elements, lower_ohm=lower.R_ohm, upper_ohm=upper.R_ohm,
                              seconds=time.perf_counter() - t0))
        say(f"{spec.name}: mesh {len(steps)}: {tm.n_elements:,} tetrahedra, R_dc in [{lower.R_ohm:.6g}, "
            f"{upper.R_ohm:.6g}] ohm, {100 * steps[-1].width:.3g} % wide (tolerance {100 * tolerance:g} %)",
            progress)
        if steps[-1].width <= tolerance:
            return Adapted(tm, grain_boundaries, system, tolerance, degree, tuple(steps), "")
        if not math.isfinite(upper.R_ohm):
            return Adapted(tm, grain_boundaries, system, tolerance, degree, tuple(steps),
                           "the current passes an edge or a corner only (no area): no upper bound to refine on")
        if len(steps) == MAX_STEPS:
            return Adapted(tm, grain_boundaries, system, tolerance, degree, tuple(steps),
                           f"{MAX_STEPS} meshes solved")
        width = hypercircle(system, dual, lower.x, upper.x, [(tm.regions[name], sigma)
                                                                   for name, sigma in conducting])
        tetrahedra = tm.mesh.p[:, tm.mesh.t].T / UM     # (n, vertex, xyz), µm
        count = tm.n_elements * (steps[-1].width / (SAFETY * tolerance)) ** COUNT_POWER[spec.mesh.order]
        shrink = _shrink(width, min(count, GROWTH * tm.n_elements), spec.mesh.order)
        sizes = (tetrahedra, _at_vertices(tm.mesh.t, shrink * _mean_edges(tetrahedra)))
        expected = int(np.sum(np.minimum(shrink, 1.0) ** -3.0))  # never coarser than the grading
        if not fits(expected):
            return Adapted(tm, grain_boundaries, system, tolerance, degree, tuple(steps),
                           f"the next mesh (about {expected:,} tetrahedra) would not fit the memory available "
                           f"to this run ({gib(budget)})")


def _shrink(width: np.ndarray, count: float, order: int) -> np.ndarray:
    """Each tetrahedron's new size over its present one, for a mesh of about `count`
    tetrahedra that spreads the width (S) evenly. A width that falls as the size to the
    power 2 order + 3 (smooth P1 or P2: h^(2 order) per volume) is spread evenly by new sizes
    in proportion to h width^(-1 / (2 order + 3)); their common factor gives the count (a
    tetrahedron of size h holds (h / h_new)³ new ones). Shrinks are kept within
    [MIN_SHRINK, MAX_GROWTH]; a rim's or a corner's tetrahedra, whose widths fall more
    slowly, are found again on the next mesh."""
    shape = np.maximum(width, 1e-300) ** (-1 / (2 * order + 3))   # the shrink, up to a common factor
    scale = (np.sum(shape ** -3.0) / count) ** (1 / 3)
    shrink = np.clip(scale * shape, MIN_SHRINK, MAX_GROWTH)
    shrink[width <= 0] = MAX_GROWTH                                 # no current: gas, insulators
    return shrink


def _mean_edges(tetrahedra: np.ndarray) -> np.ndarray:
    """The mean of each tetrahedron's six edges (its units): what Gmsh's size meant."""
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    return np.mean([np.linalg.norm(tetrahedra[:, a] - tetrahedra[:, b], axis=1) for a, b in pairs], axis=0)


def _at_vertices(t: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The smallest size of the tetrahedra at each vertex, for each tetrahedron's vertices (n, 4)."""
    smallest = np.full(t.max() + 1, np.inf)
    for corner in t:
        np.minimum.at(smallest, corner, size)
    return smallest[t].T
