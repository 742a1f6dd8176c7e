"""What a run reports, as typed data, and its JSON form (summary.json), written and read
here only. Resistances in ohm, capacitances in F, times in s, frequencies in Hz, areas
in µm² (normalisation factors in the units their names say).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_type_hints


@dataclass(frozen=True)
class ArcSummary:
    """The constriction arc, R || C: R_arc = R_dc - R_inf, C_cstr fitted
    (analysis/arcs.py, constriction_arc), tau_cstr = R_arc C_cstr. The same names as in
    studies, tables and on the screen."""
    R_arc_ohm: float
    C_cstr_F: float
    tau_cstr_s: float
    f_apex_Hz: float
    apex_in_sweep: bool | None = None   # None: not recorded (older summaries)


@dataclass(frozen=True)
class CPESummary:
    """R0 - (R_arc || CPE) fitted to the constriction arc; C_cstr and tau_cstr effective
    (Hsu-Mansfeld)."""
    R0_ohm: float
    R_arc_ohm: float
    Q: float
    alpha: float
    C_cstr_F: float
    tau_cstr_s: float


@dataclass(frozen=True)
class Constriction:
    """The static/dynamic split of R_dc (analysis/split.py; NaN when not computed) and the arc."""
    R_bulk_ohm: float
    R_static_ohm: float
    R_dynamic_ohm: float
    R_cstr_ohm: float
    arc: ArcSummary | None = None
    arc_cpe: CPESummary | None = None


@dataclass(frozen=True)
class ContactCurrentSummary:
    frequency_Hz: float
    mean_A_per_m2_per_V: float
    peak_over_mean: float   # grows under mesh refinement at a sharp contact edge


@dataclass(frozen=True)
class BodySummary:
    """A floating metal body at the lowest frequency, with 1 V across the cell: its
    potential (V, the counter electrode at 0) and the current through it (A)."""
    frequency_Hz: float
    potential_V: float          # |phi|
    potential_phase_deg: float
    current_through_A: float    # |I| of what enters on one side and leaves on the other


@dataclass(frozen=True)
class Conservation:
    """Relative mismatch of the currents into the WE and out of the CE."""
    dc_relative_mismatch: float
    sweep_max_relative_mismatch: float

    @property
    def worst(self) -> float:
        return max(self.dc_relative_mismatch, self.sweep_max_relative_mismatch)


@dataclass(frozen=True)
class SweepSummary:
    kind: str                            # "reduced" or "direct"
    backend: str
    n_frequencies: int
    f_min_Hz: float
    f_max_Hz: float
    n_shifts: int | None = None          # the reduced model's real shifts
    order: int | None = None
    estimated_error: float | None = None
    tolerance: float | None = None
    n_moments: int | None = None         # its snapshots at s -> 0 (solve/moments.py)


@dataclass(frozen=True)
class ErrorEstimate:
    """A resistance (ohm) at each subdivision of an image's voxels, and its Richardson
    extrapolation (image/error_bar.py)."""
    subdivisions: tuple[int, ...]     # sub-voxels per voxel along each axis, at each level
    values_ohm: tuple[float, ...]
    order: float
    order_observed: bool              # False: the order was assumed (error_bar.ASSUMED_ORDER)
    extrapolated_ohm: float
    error_ohm: float                  # estimated error of values_ohm[0], the value reported


BRACKET_ROUND_OFF = 1e-9  # a bracket's error below this times its value is round-off: 0


@dataclass(frozen=True)
class Bracket:
    """Where the continuum value of a resistance lies, lower_ohm <= R <= upper_ohm, from
    Dirichlet's and Thomson's principles on the image's own voxels (image/bounds.py) or
    the mesh's own tetrahedra (solve/bounds.py); no factor to trust. error_ohm: the
    farther end from the value reported."""
    lower_ohm: float
    upper_ohm: float
    error_ohm: float

    @classmethod
    def around(cls, value: float, lower: float, upper: float) -> "Bracket":
        """The Bracket of a value reported; its error the farther end, zero where that is
        round-off (a slab's ends meet its value to BRACKET_ROUND_OFF, either way)."""
        error = max(value - lower, upper - value)
        return cls(lower_ohm=float(lower), upper_ohm=float(upper),
                   error_ohm=float(error if error > BRACKET_ROUND_OFF * abs(value) else 0.0))

    def minus(self, other: "Bracket", value: float) -> "Bracket":
        """The Bracket of a difference (this one's value - the other's), reported as `value`."""
        return Bracket.around(value, self.lower_ohm - other.upper_ohm, self.upper_ohm - other.lower_ohm)


@dataclass(frozen=True)
class MeshStep:
    """One mesh of an adaptive run ([mesh] tolerance): its tetrahedra and R_dc's bracket on
    them (the conforming value; the mixed one, its current linear in each tetrahedron for P2,
    constant for P1), and the seconds it took (mesh, assembly, both solves)."""
    elements: int
    lower_ohm: float
    upper_ohm: float
    seconds: float

    @property
    def width(self) -> float:
        """The bracket's width over its lower end."""
        return self.upper_ohm / self.lower_ohm - 1


@dataclass(frozen=True)
class Discretisation:
    """How an image or a mesh was discretised, and its error bars: the brackets of the
    continuum values (by default), and for an image Richardson's estimates from finer
    subdivisions (when asked). The voxels' fields are None for a mesh."""
    method: str                       # voxels.METHOD, or solve/bounds.py's
    connectivity: str | None = None   # voxels.CONNECTIVITY
    solved_voxel_um: tuple[float, float, float] | None = None  # along the solved axes, after coarsening and subdivision
    subdivide: int | None = None
    R_dc: ErrorEstimate | None = None
    R_inf: ErrorEstimate | None = None
    R_cstr: ErrorEstimate | None = None
    note: str = ""                    # what was not computed, and why
    R_dc_bracket: Bracket | None = None
    R_inf_bracket: Bracket | None = None
    R_cstr_bracket: Bracket | None = None
    R_arc_bracket: Bracket | None = None   # the constriction arc's R = R_dc - R_inf (analysis/arcs.py)
    tolerance: float | None = None    # a mesh's [mesh] tolerance, relative on R_dc (None: fixed grading)
    mesh_steps: tuple[MeshStep, ...] = ()  # each mesh the adaptive run solved, the last the one used


@dataclass(frozen=True)
class ProbeSummary:
    """A reference electrode (µm below the WE surface) and its potential (V, WE at 1 V, CE
    at 0 V) as [real, imag] at the lowest and the highest frequency: Z_WE-RE = (1 - φ) Z_cell."""
    name: str
    x_um: float
    y_um: float
    depth_um: float
    f_low_Hz: float
    potential_low_V: tuple[float, float]
    f_high_Hz: float
    potential_high_V: tuple[float, float]
    radius_um: float = 0.0    # a ring's radius; 0: a point
    body: str = ""            # a metal reference: "inclusions[k]" or "phase <name>" (its place: its centre, or NaN)


def complex_pair(z: complex) -> tuple[float, float]:
    """(real, imag) of a complex number, as JSON holds it."""
    return (float(z.real), float(z.imag))


@dataclass(frozen=True)
class SymmetricSummary:
    """A symmetric cell (ohm): each interface alone (R_single over a plain CE, its
    constriction R_interface = R_single - R_bulk), and how far R_sym is from
    2 R_single - R_bulk (the two interfaces in series with one bulk); over the sweep, the
    largest relative distance of Z_sym from 2 Z_single - Z_bulk and where it is."""
    R_single_ohm: float
    R_interface_ohm: float
    R_bulk_ohm: float
    deviation_ohm: float
    relative_deviation: float
    spectral_relative_deviation: float = math.nan   # NaN: not recorded (older summaries)
    spectral_worst_Hz: float = math.nan


@dataclass(frozen=True)
class TerminalSummary:
    """The terminal admittance matrix Y(s) (admittance.csv): its terminals (WE, CE, then
    the floating metal reference electrodes), and its own checks over the sweep: the
    largest |Y - Y^T| / |Y| (reciprocity), the smallest eigenvalue of its Hermitian part
    over |Y| (passive: >= 0 to round-off), and how far Z_cell from Y (the references
    floating) is from the spectrum."""
    names: tuple[str, ...]
    asymmetry: float
    passivity: float
    Z_cell_relative_mismatch: float


@dataclass(frozen=True)
class Transport:
    """An image's effective conductivity sigma_eff = L / (R_dc A) (S/m), relative to its bulk
    electrolyte's sigma_0: the formation factor F = sigma_0 / sigma_eff and the tortuosity
    factor eps_eff F; volume fractions of the cell between the electrodes (image/transport.py)."""
    sigma_eff_S_per_m: float
    sigma_bulk_S_per_m: float
    conducting_fraction: float     # voxels with sigma > 0
    percolating_fraction: float    # eps_eff: those joined to both electrodes
    formation_factor: float
    tortuosity_factor: float
    length_um: float               # L: the layers between the electrodes
    convention: str                # where the electrodes are (transport.CONVENTION)


@dataclass(frozen=True)
class Summary:
    name: str
    R_dc_ohm: float                      # inf for a blocking cell
    R_inf_ohm: float
    constriction: Constriction
    contact_current_density: ContactCurrentSummary | None
    normalisation: dict[str, float]      # analysis.normalisation_factors
    area_um2: float
    thickness_um: float
    contact_area_um2: float
    meshed_ce_area_um2: float
    dofs: int
    elements: int
    order: int
    conservation: Conservation
    passive: bool
    sweep: SweepSummary
    seconds: dict[str, float] = field(default_factory=dict)
    metal_bodies: tuple[BodySummary, ...] = ()
    discretisation: Discretisation | None = None   # error bars (None: none computed)
    warnings: tuple[str, ...] = ()                   # what the resolution checks saw before meshing
    constriction_version: str = ""                   # the package that computed it (spec.toml beside it)
    probes: tuple[ProbeSummary, ...] = ()            # reference electrodes (terminals.csv beside it)
    symmetric: SymmetricSummary | None = None       # cell.counter = "mirror": the cell against its halves
    terminals: TerminalSummary | None = None        # Y(s) of WE, CE and the metal references (admittance.csv)
    transport: Transport | None = None              # images: effective conductivity, tortuosity factor

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def write(self, path: str | Path) -> None:
        """summary.json: the summary with inf and NaN as null."""
        Path(path).write_text(json.dumps(_finite_or_null(self.to_dict()), indent=2, allow_nan=False) + "\n")

    @classmethod
    def read(cls, path: str | Path) -> "Summary":
        """A summary back from summary.json (ValueError, KeyError or TypeError if it is not one)."""
        return _build(cls, json.loads(Path(path).read_text()))


def _finite_or_null(value):
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


OLD_NAMES = {"ArcSummary": {"R_ohm": "R_arc_ohm", "C_F": "C_cstr_F", "tau_s": "tau_cstr_s"},
             "CPESummary": {"R_ohm": "R_arc_ohm", "C_F": "C_cstr_F", "tau_s": "tau_cstr_s"},
             "Discretisation": {"voxel_um": "solved_voxel_um"}}  # names in result folders written before


def _build(cls, data):
    """A dataclass of `cls` from plain data; null numbers come back as NaN (inf for R_dc)."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    hints = get_type_hints(cls)
    renamed = OLD_NAMES.get(cls.__name__, {})
    data = {renamed.get(k, k): v for k, v in data.items()}
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise KeyError(f"{cls.__name__}.{f.name}")
            continue
        value, kind = data[f.name], hints[f.name]
        inner = [t for t in getattr(kind, "__args__", ()) if dataclasses.is_dataclass(t)]
        if dataclasses.is_dataclass(kind):
            value = _build(kind, value)
        elif inner and isinstance(value, list):
            value = tuple(_build(inner[0], v) for v in value)
        elif inner and value is not None:
            value = _build(inner[0], value)
        elif value is None and kind is float:
            value = math.inf if f.name == "R_dc_ohm" else math.nan
        elif getattr(kind, "__origin__", None) is tuple and isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return cls(**values)
