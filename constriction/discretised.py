"""What every geometry source hands on: a `Size` before it builds anything, and a
`Discretised` cell (its System and what differs between sources) after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from constriction.solve.fem import System


@dataclass(frozen=True)
class Size:
    """What a run on a spec will hold, known before meshing or reading: `n` tetrahedra (or
    voxels), about `bytes` of memory; `what` says so in words, `doing` what comes first,
    `shrink` how to make it smaller, `key` the spec key that sets it; `warnings` about
    element sizes against the features they must resolve."""
    n: int
    bytes: int
    what: str
    doing: str
    shrink: str
    key: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeRows:
    """Reference electrodes on a discretised cell: their names, and the rows (probes x
    unknowns) that read each one's potential off a solution (analysis/probes.py)."""
    names: tuple[str, ...]
    rows: object  # scipy.sparse matrix


@dataclass(frozen=True)
class Discretised:
    """A cell ready to solve: its System, the sizes its summary reports (SI), and what
    differs between geometry sources (Gmsh cell, voxel image, mesh file):
    split(R_dc, backend)   the static/dynamic split of R_dc (its reference cells);
    fields(potentials)     (Fields, ContactCurrent) from {f_Hz: potential}, the current at
                           the first frequency;
    error_bar(...)         the discretisation record with its error bars (image/error_bar.py,
                           solve/bounds.py);
    probes                 reference electrodes of a Gmsh cell (analysis/probes.py);
    terminals              those that are floating metal bodies, by name, with their
                           unknowns: terminals of the admittance matrix (solve/terminals.py);
    transport(R_dc)        images only: the effective conductivity and tortuosity factor."""
    system: System
    thickness_m: float
    electrode_area_m2: float
    contact_area_m2: float
    counter_area_m2: float    # as meshed or voxelised
    elements: int             # tetrahedra, or voxels
    order: int
    split: Callable
    fields: Callable
    error_bar: Callable | None = None
    probes: ProbeRows | None = None     # reference electrodes (analysis/probes.py)
    terminals: tuple = ()               # ((name, unknowns), ...): floating metal reference electrodes
    symmetric: Callable | None = None   # (R_dc, Z_sym, backend) -> SymmetricSummary: mirrored CE
    transport: Callable | None = None   # images: R_dc -> Transport (effective conductivity, tortuosity)
    bodies: Callable | None = None      # (model, f_Hz) -> BodySummary of each floating metal body, where no
                                        # process holds every unknown (over MPI ranks: parallel/run.py)


def lowest(potentials: dict) -> tuple:
    """(potential, frequency) of the first (lowest) frequency of {f_Hz: potential}."""
    f = next(iter(potentials))
    return potentials[f], f
