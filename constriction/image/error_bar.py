"""An error bar for an image's result, from the image itself.

Subdividing every voxel into n³ sub-voxels keeps the geometry (a union of cubes) exact and
refines the grid, so the DC resistances at subdivision n, 2n and 4n converge to the
continuum value of the very geometry the image describes. With three levels the order is
observed, p = log2((R_n - R_2n) / (R_2n - R_4n)); with two it is taken as 1, the order
that the singular current at a contact rim or a re-entrant edge gives (the lowest that
voxel geometries show, so the extrapolation does not overshoot). Richardson's
extrapolation is

    R_ext = R_2n + (R_2n - R_n) / (2^p - 1),

and the error of the value reported (at n) is estimated as F |R_ext - R_n|, with Roache's
safety factor F = 1.25 of the grid convergence index.

The extra levels need DC solves only (no sweep). By default the 2n level is solved where
it fits the memory available (memory.py), and the 4n level where it is also small
(OBSERVED_ORDER_MAX_VOXELS); "always" forces the 2n level, and the 4n level where it fits
the memory; "never" solves neither. A level larger than the machine's memory is never
solved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from constriction.image.voxels import CONNECTIVITY, METHOD, image_split
from constriction.io.summary import Discretisation, ErrorEstimate
from constriction.memory import available_bytes, image_dc_bytes, total_bytes
from constriction.progress import say
from constriction.solve.direct import dc_resistance, shorts_anything
from constriction.units import UM

SAFETY = 1.25
ASSUMED_ORDER = 1.0
OBSERVED_ORDER_MAX_VOXELS = 2_000_000  # the third level (4n) only where its solves take seconds
CHOICES = ("auto", "always", "never")


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
    if policy not in CHOICES:
        raise ValueError(f"unknown error estimate policy {policy!r} (choose from {', '.join(CHOICES)})")
    if policy == "never":
        return [], "not computed (switched off)"
    levels, note = [], ""
    budget = available_bytes() if budget is None else budget
    machine = total_bytes() if machine is None else machine
    for factor in (2, 4):
        n, count = spec.subdivide * factor, voxels * factor**3
        need = need_bytes(count)
        if factor == 4 and count > OBSERVED_ORDER_MAX_VOXELS and (policy == "auto" or need > budget):
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


def image_discretisation(spec, discretise, cell, values, policy: str, backend: str,
                         progress: bool) -> Discretisation:
    """The discretisation record of an image: its grid, and R_dc, R_inf and R_cstr at
    finer subdivisions with their Richardson extrapolation (above). `discretise(spec,
    progress, capacitance)` builds a subdivided cell; `values` are (R_dc, R_inf, R_bulk or None) at the
    spec's own subdivision."""

    def dc_values(finer) -> Levels:
        system = discretise(finer, progress=False, capacitance=False).system
        R_dc = dc_resistance(system, backend=backend)[0]
        R_bulk = None if values[2] is None else image_split(system.grid, R_dc, backend).R_bulk_ohm
        R_inf = dc_resistance(system, short_gaps=True, backend=backend)[0] if shorts_anything(system) else R_dc
        return Levels(finer.subdivide, R_dc, R_inf, R_bulk)

    levels, note = finer_levels(spec, cell.elements, policy, dc_values, progress)
    found = estimates([Levels(spec.subdivide, *values), *levels]) if levels else {}
    return Discretisation(method=METHOD, connectivity=CONNECTIVITY,
                          solved_voxel_um=tuple(d / UM for d in cell.system.grid.spacing_m), subdivide=spec.subdivide,
                          note=note, **found)
