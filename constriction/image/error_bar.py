"""An error bar for an image's result, from the image itself.

By default, brackets (image/bounds.py): the image defines its continuum domain exactly (a
union of cubes), and Thomson's and Dirichlet's principles bound that domain's resistance
from above and below with fields built on the image's own voxels, for about one more DC
solve. R_dc's bracket from the run's DC solve; R_inf's from the cell with its gas made
metal (the cell R_inf describes); R_cstr's from R_dc's and the split reference's (exact
where that is a slab). Nothing to extrapolate, no factor to trust.

On request ("always", `--error-estimate`), also Richardson's estimate. Subdividing every
voxel into n³ sub-voxels keeps the geometry (a union of cubes) exact and refines the grid,
so the DC resistances at subdivision n, 2n and 4n converge to the
continuum value of the very geometry the image describes. With three levels the order is
observed, p = log2((R_n - R_2n) / (R_2n - R_4n)); with two it is taken as 1, the order
that the singular current at a contact rim or a re-entrant edge gives (the lowest that
voxel geometries show, so the extrapolation does not overshoot). Richardson's
extrapolation is

    R_ext = R_2n + (R_2n - R_n) / (2^p - 1),

and the error of the value reported (at n) is estimated as F |R_ext - R_n|, with Roache's
safety factor F = 1.25 of the grid convergence index.

The extra levels need DC solves only (no sweep). "always" forces the 2n level; "auto" over
MPI ranks (parallel/run.py, which has no brackets) solves it where it fits the memory
available (memory.py); either solves the 4n level where it is small
(OBSERVED_ORDER_MAX_VOXELS) and fits; "never" solves nothing. A level larger than the
machine's memory is never solved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from constriction.image.bounds import bounds
from constriction.image.voxels import (CONNECTIVITY, METHOD, GridError, assemble_grid, bulk_reference, image_split,
                                       shorted_cell, slab_resistance)
from constriction.io.summary import Bracket, Discretisation, ErrorEstimate
from constriction.memory import available_bytes, image_dc_bytes, total_bytes
from constriction.options import ERROR_ESTIMATES
from constriction.progress import say
from constriction.solve.direct import dc_resistance, dc_solution, shorts_anything
from constriction.units import UM

SAFETY = 1.25
ASSUMED_ORDER = 1.0
OBSERVED_ORDER_MAX_VOXELS = 2_000_000  # the third level (4n) only where its solves take seconds
SAME_CELL = 1e-6  # R_inf's cell as voxels (gas made metal) against R_inf: relative


def richardson(subdivisions, values) -> ErrorEstimate:
    """The extrapolated value and the error of the first value, from values at
    subdivisions n, 2n (and 4n)."""
    values = [float(v) for v in values]
    order, observed = ASSUMED_ORDER, False
    if len(values) >= 3:
        d1, d2 = values[0] - values[1], values[1] - values[2]
        if d1 * d2 > 0 and abs(d2) < abs(d1):  # converging monotonically: the order shows
            order, observed = math.log2(d1 / d2), True
    fine, coarse = values[-1], values[-2]
    extrapolated = fine + (fine - coarse) / (2**order - 1)
    return ErrorEstimate(subdivisions=tuple(int(n) for n in subdivisions), values_ohm=tuple(values), order=order,
                         order_observed=observed, extrapolated_ohm=extrapolated,
                         error_ohm=SAFETY * abs(extrapolated - values[0]))


@dataclass(frozen=True)
class Levels:
    """The DC resistances (ohm) of an image at one subdivision."""
    subdivide: int
    R_dc_ohm: float
    R_inf_ohm: float
    R_bulk_ohm: float | None


def finer_levels(spec, voxels: int, policy: str, dc_values, progress: bool = True, need_bytes=image_dc_bytes,
                 budget: int | None = None, machine: int | None = None) -> tuple[list[Levels], str]:
    """The levels above the spec's own subdivision that the policy and the memory allow.

    voxels: the image's voxel count at the spec's subdivision; dc_values(spec) -> Levels
    solves one level. need_bytes(voxels): what a level takes; budget and machine: the memory
    free and in all (bytes; default: this machine's; over MPI ranks: parallel/run.py's).
    Returns the levels and a note saying what was left out and why."""
    if policy not in ERROR_ESTIMATES:
        raise ValueError(f"unknown error estimate policy {policy!r} (choose from {', '.join(ERROR_ESTIMATES)})")
    if policy == "never":
        return [], "not computed (switched off)"
    levels, note = [], ""
    budget = available_bytes() if budget is None else budget
    machine = total_bytes() if machine is None else machine
    for factor in (2, 4):
        n, count = spec.subdivide * factor, voxels * factor**3
        need = need_bytes(count)
        if factor == 4 and (count > OBSERVED_ORDER_MAX_VOXELS or need > budget):
            note = f"order assumed {ASSUMED_ORDER:g}: the third level ({count:,} voxels) was not solved"
            break
        if factor == 2 and policy == "auto" and need > budget:  # "always" forces this level only
            note = (f"not computed: subdivision {n} ({count:,} voxels) needs about {need / 2**30:.1f} GiB, more "
                    f"than the {budget / 2**30:.1f} GiB available (--error-estimate forces it)")
            break
        if need > machine:  # not even when forced
            note = (f"not computed: subdivision {n} ({count:,} voxels) needs about {need / 2**30:.1f} GiB, more "
                    f"than this machine's {machine / 2**30:.1f} GiB")
            break
        say(f"{spec.name}: error estimate, DC solves at {n}x{n}x{n} sub-voxels per voxel ({count:,} voxels)",
            progress)
        levels.append(dc_values(replace(spec, subdivide=n)))
    return levels, note


def estimates(levels: list[Levels]) -> dict[str, ErrorEstimate | None]:
    """R_dc, R_inf and R_cstr (= R_dc - R_bulk) extrapolated over the levels (the first
    is the spec's own); None where a quantity is not finite at every level."""
    n = [lv.subdivide for lv in levels]
    out = {}
    for name, pick in (("R_dc", lambda lv: lv.R_dc_ohm), ("R_inf", lambda lv: lv.R_inf_ohm),
                       ("R_cstr", lambda lv: math.nan if lv.R_bulk_ohm is None else lv.R_dc_ohm - lv.R_bulk_ohm)):
        values = np.array([pick(lv) for lv in levels], float)
        out[name] = richardson(n, values) if len(values) >= 2 and np.all(np.isfinite(values)) else None
    return out


def image_discretisation(spec, discretise, cell, values, policy: str, backend: str, progress: bool,
                         potentials: np.ndarray | None = None) -> Discretisation:
    """The discretisation record of an image: its grid; unless the policy is "never", the
    brackets of R_dc, R_inf and R_cstr (`brackets`, from the DC solve's `potentials` at
    every dof); with "always", also their values at finer subdivisions and Richardson's
    extrapolation. `discretise(spec, progress, capacitance)` builds a subdivided cell;
    `values` are (R_dc, R_inf, R_bulk or None) at the spec's own subdivision; the policy is
    one of ERROR_ESTIMATES (RunOptions checks it before anything is computed)."""
    grid = cell.system.grid
    record = Discretisation(method=METHOD, connectivity=CONNECTIVITY, subdivide=spec.subdivide,
                            solved_voxel_um=tuple(d / UM for d in grid.spacing_m))
    if policy == "never":
        return replace(record, note="not computed (switched off)")
    say(f"{spec.name}: error bar, bounds from the image's own voxels", progress)
    found, notes = brackets(grid, potentials, values, backend)
    record = replace(record, **{f"{name}_bracket": b for name, b in found.items()})
    if policy == "always":
        def dc_values(finer) -> Levels:
            system = discretise(finer, progress=False, capacitance=False).system
            R_dc = dc_resistance(system, backend=backend)[0]
            R_bulk = None if values[2] is None else image_split(system.grid, R_dc, backend).R_bulk_ohm
            R_inf = dc_resistance(system, short_gaps=True, backend=backend)[0] if shorts_anything(system) else R_dc
            return Levels(finer.subdivide, R_dc, R_inf, R_bulk)

        levels, note = finer_levels(spec, cell.elements, policy, dc_values, progress)
        record = replace(record, **(estimates([Levels(spec.subdivide, *values), *levels]) if levels else {}))
        notes += [note] if note else []
    return replace(record, note="; ".join(notes))


def brackets(grid, potentials: np.ndarray | None, values, backend: str = "auto") -> tuple[dict, list[str]]:
    """{"R_dc", "R_inf", "R_cstr", "R_arc"}: the Bracket of each continuum value (None where
    it has none; R_arc = R_dc - R_inf, the constriction arc's R), and notes on what was not
    bracketed and why. potentials: the DC solve's at every dof (None: nothing conducts);
    values: (R_dc, R_inf, R_bulk or None) reported (ohm)."""
    R_dc, R_inf, R_bulk = values
    found, notes = dict.fromkeys(("R_dc", "R_inf", "R_cstr", "R_arc")), []
    if not math.isfinite(R_dc):
        return found, ["no bracket: nothing conducts at DC"]
    dc = bounds(grid, potentials, R_dc)
    if dc.R_lower_ohm is None:
        return found, [f"no bracket: {dc.why}"]
    found["R_dc"] = Bracket.around(R_dc, dc.R_lower_ohm, dc.R_upper_ohm)
    if R_inf == R_dc:  # nothing shorted: the same cell
        found["R_inf"] = found["R_dc"]
    else:
        shorted, why = _solved_bracket(grid, *shorted_cell(grid), backend, expected_ohm=R_inf)
        found["R_inf"] = None if shorted is None else Bracket.around(R_inf, *shorted)
        notes += [f"R_inf not bracketed: {why}"] if why else []
    if found["R_inf"] is not None and R_inf != R_dc:  # the arc's R, R_dc - R_inf
        found["R_arc"] = found["R_dc"].minus(found["R_inf"], R_dc - R_inf)
    if R_bulk is not None:
        sigma, kind = bulk_reference(grid)
        slab = slab_resistance(sigma, kind, grid.spacing_m)
        reference, why = ((slab, slab), "") if slab is not None else _solved_bracket(grid, sigma, kind, backend)
        if reference is None:
            notes.append(f"R_cstr not bracketed: {why}")
        else:
            found["R_cstr"] = Bracket.around(R_dc - R_bulk, dc.R_lower_ohm - reference[1],
                                             dc.R_upper_ohm - reference[0])
    return found, notes


def _solved_bracket(grid, sigma: np.ndarray, kind: np.ndarray, backend: str,
                    expected_ohm: float | None = None) -> tuple[tuple[float, float] | None, str]:
    """(lower, upper) of another cell on the grid's voxels (a DC solve and its bounds),
    or None and why; expected_ohm: the finite-volume value it must reproduce (else it is
    not the cell that value describes)."""
    try:
        other, system = assemble_grid(kind, sigma, np.zeros_like(sigma), grid.spacing_m, check_percolation=False,
                                      capacitance=False)
    except GridError as err:
        return None, str(err)
    dc = dc_solution(system, backend=backend)
    if expected_ohm is not None and not math.isclose(dc.R_ohm, expected_ohm, rel_tol=SAME_CELL):
        return None, (f"its gas made metal gives {dc.R_ohm:.6g} ohm, not the {expected_ohm:.6g} ohm of R_inf's "
                      f"cell (gas on the counter electrode or against a floating body)")
    found = bounds(other, dc.x, dc.R_ohm)
    if found.R_lower_ohm is None:
        return None, found.why
    return (found.R_lower_ohm, found.R_upper_ohm), ""

