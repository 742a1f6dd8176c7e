"""`run(spec)`: the whole pipeline for one cell, and writing its result to a folder.

spec -> Gmsh mesh -> TaggedMesh -> System (G, C) -> DC solves and sweep -> Spectrum.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cell import system_of
from .mesh import UM
from .plot import bode, current_map, drt, equipotentials, nyquist
from .spec import Spec
from .spectrum import Spectrum
from .linalg import choose_backend
from .output import check_folder, write_folder
from .analysis import constriction_arc, cpe_arc_summary, normalisation_factors
from .fem import EPS0
from .fields import (ContactCurrent, Fields, contact_current, fields_of, read_contact_vtu, read_vtu,
                     write_contact_vtu, write_vtu)
from .reduced import ReducedModel, reduce
from .split import constriction_split
from .sweep import dc_resistance, driven_solve, sweep_direct

SWEEPS = ("reduced", "direct")


@dataclass(frozen=True)
class Result:
    spec: Spec
    spectrum: Spectrum
    summary: dict = field(default_factory=dict)
    model: ReducedModel | None = None  # the reduced sweep's pole-residue form (its DRT)
    fields: Fields | None = None       # potentials at a low and a high frequency
    current: ContactCurrent | None = None  # current density on the contacts, lowest frequency


def run(spec: Spec, sweep: str = "reduced", backend: str = "auto", tol: float = 1e-6,
        progress: bool = True, cpe_fit: bool = True) -> Result:
    """Mesh, assemble and sweep the cell described by `spec`.

    sweep: "reduced" (default; reduced-order model to relative tolerance `tol`) or
    "direct" (the reference: one complex factorisation per frequency).
    cpe_fit: also fit R || CPE to the constriction arc (least squares, about a second).
    backend: sparse solver for the real solves (see linalg.py)."""
    if sweep not in SWEEPS:
        raise ValueError(f"unknown sweep {sweep!r} (choose from {', '.join(SWEEPS)})")
    spec = spec.at()  # every material at the spec's temperature, once, for everything below
    say = (lambda message: print(message, file=sys.stderr, flush=True)) if progress else (lambda _: None)
    clock = {}
    say(f"{spec.name}: meshing (Gmsh) and assembling P{spec.mesh.order}")
    t0 = time.perf_counter()
    tm, system = system_of(spec)
    clock["mesh_and_assemble"] = time.perf_counter() - t0

    say(f"{spec.name}: DC solves, {system.n_dofs} unknowns")
    t0 = time.perf_counter()
    R_dc, dc_check = dc_resistance(system, backend=backend)
    R_inf, _ = dc_resistance(system, short_gaps=True, backend=backend)
    clock["dc"] = time.perf_counter() - t0

    say(f"{spec.name}: reference cells for the static/dynamic split")
    t0 = time.perf_counter()
    split = constriction_split(spec, R_dc, backend=backend)
    clock["split"] = time.perf_counter() - t0

    say(f"{spec.name}: {sweep} sweep")
    t0 = time.perf_counter()
    f = spec.frequencies_Hz()
    Z, mismatch, sweep_info, model = _sweep(system, f, sweep, backend, tol, progress)
    spectrum = Spectrum(frequency_Hz=f, Z_ohm=Z)
    clock["sweep"] = time.perf_counter() - t0

    tau_electrolyte = EPS0 * spec.electrolyte.eps_r / spec.electrolyte.sigma_S_per_m
    arc_spectrum = spectrum
    if model is not None:  # read the arc off a dense evaluation, not the requested points
        dense = np.logspace(np.log10(f[0]), np.log10(f[-1]), int(40 * np.log10(f[-1] / f[0])) + 1)
        arc_spectrum = Spectrum(dense, model.impedance(dense))
    arc = constriction_arc(arc_spectrum, R_dc, R_inf, tau_electrolyte)
    constriction = {**split.as_dict(), "arc": None if arc is None else {
        "R_ohm": arc.R_ohm, "C_F": arc.C_F, "tau_s": arc.tau_s, "f_apex_Hz": arc.f_apex_Hz}}
    if cpe_fit and arc is not None:
        say(f"{spec.name}: R || CPE fit of the constriction arc")
        constriction["arc_cpe"] = cpe_arc_summary(arc_spectrum, arc, R_inf, tau_electrolyte)
    f_pair = field_frequencies(f[0], f[-1], arc, tau_electrolyte)  # low, and gaps shorted
    say(f"{spec.name}: fields")
    if model is not None:
        potentials = {fi: model.potential(fi) for fi in f_pair}
    else:
        potentials = {fi: driven_solve(system.pencil(2j * np.pi * fi), system.we, system.ce,
                                       system.interior, "superlu")[2] for fi in f_pair}
    fields = fields_of(system, potentials, spec.cell.thickness_um * UM)
    current = contact_current(system, potentials[f_pair[0]], f_pair[0])
    peak = np.abs(current.j).max() / abs(current.mean)
    normalisation = normalisation_factors(
        spec.cell.thickness_um * UM, spec.electrode_area_um2 * UM**2, spec.contact_area_um2 * UM**2,
        spec.electrolyte.sigma_S_per_m, R_inf)

    summary = {
        "name": spec.name,
        "R_dc_ohm": R_dc,
        "R_inf_ohm": R_inf,
        "constriction": constriction,
        "contact_current_density": {
            "frequency_Hz": current.frequency_Hz,
            "mean_A_per_m2_per_V": abs(current.mean),
            "peak_over_mean": peak,  # at a sharp contact edge this grows under mesh refinement
        },
        "normalisation": normalisation,
        "area_um2": spec.electrode_area_um2,
        "thickness_um": spec.cell.thickness_um,
        "contact_area_um2": spec.contact_area_um2,
        "meshed_ce_area_um2": tm.facet_area_m2("ce") / UM**2,
        "dofs": int(system.n_dofs),
        "elements": int(tm.n_elements),
        "order": spec.mesh.order,
        "conservation": {
            "dc_relative_mismatch": dc_check,
            "sweep_max_relative_mismatch": mismatch,
        },
        "passive": bool(np.all(spectrum.Z_ohm.real >= 0) and np.all(spectrum.Z_ohm.imag <= 0)),
        "sweep": {**sweep_info, "n_frequencies": len(f),
                  "f_min_Hz": float(f[0]), "f_max_Hz": float(f[-1])},
        "seconds": clock,
    }
    return Result(spec=spec, spectrum=spectrum, summary=summary, model=model, fields=fields,
                  current=current)


def _sweep(system, f, sweep, backend, tol, progress):
    """Z (ohm) at f, the sweep's conservation check, what to record of it, and the reduced
    model (None for the direct sweep)."""
    if sweep == "reduced":
        model = reduce(system, f[0], f[-1], tol=tol, backend=backend, progress=progress)
        info = {"kind": "reduced", "backend": choose_backend(backend, False, len(system.interior)),
                "n_shifts": len(model.shifts_Hz), "order": model.order,
                "estimated_error": model.estimated_error, "tolerance": tol}
        return model.impedance(f), model.conservation, info, model
    admittance = sweep_direct(system, f, progress=progress)
    info = {"kind": "direct", "backend": "superlu"}
    return 1.0 / admittance.Y_S, float(admittance.conservation.max()), info, None


def field_frequencies(f_min: float, f_max: float, arc, tau_electrolyte_s: float) -> tuple[float, float]:
    """The lowest frequency, and one where the gaps are shorted while the electrolyte is
    still resistive: the geometric mean of the constriction arc's apex and the
    electrolyte's own relaxation frequency (or the highest frequency, without an arc)."""
    if arc is None:
        return f_min, f_max
    f_electrolyte = 1 / (2 * np.pi * tau_electrolyte_s)
    return f_min, float(np.clip(np.sqrt(arc.f_apex_Hz * f_electrolyte), f_min, f_max))


PLOTS = {"nyquist": "nyquist.png", "bode": "bode.png", "drt": "drt.png",
         "equipotentials": "equipotentials.png", "current": "current.png"}


DATA_FILES = ("spectrum.csv", "summary.json", "drt.csv", "fields.vtu", "contacts.vtu")


def is_result_file(name: str) -> bool:
    """Whether a file name is one that a run's result folder holds."""
    return name in DATA_FILES or name in PLOTS.values()


def check_out(out_dir: str | Path) -> Path:
    """Refuse an output folder that is not ours to replace (before computing)."""
    return check_folder(out_dir, "run", is_result_file)


def write_result(result: Result, out_dir: str | Path) -> dict[str, Path]:
    """Write the result into `out_dir`, all or nothing (see output.py: a folder that holds
    anything we did not write is refused). Data: spectrum.csv, summary.json, drt.csv
    (reduced sweep), fields.vtu, contacts.vtu; plots drawn from those files.
    Returns {what: path}."""
    written = {"spectrum": "spectrum.csv", "summary": "summary.json"}
    if result.model is not None:
        written["DRT"] = "drt.csv"
    if result.fields is not None:
        written["fields (VTK)"] = "fields.vtu"
    if result.current is not None:
        written["contact current (VTK)"] = "contacts.vtu"
    plots = {}

    def fill(tmp: Path):
        result.spectrum.to_csv(tmp / written["spectrum"])
        summary = json.dumps(_finite_or_null(result.summary), indent=2, allow_nan=False)
        (tmp / written["summary"]).write_text(summary + "\n")
        if result.model is not None:
            np.savetxt(tmp / written["DRT"], np.column_stack([result.model.relaxation_times_s,
                                                              result.model.resistances_ohm]),
                       delimiter=",", header="tau_s,R_ohm", comments="", fmt="%.12e")
        if result.fields is not None:
            write_vtu(result.fields, tmp / written["fields (VTK)"])
        if result.current is not None:
            write_contact_vtu(result.current, tmp / written["contact current (VTK)"])
        plots.update(draw_plots(tmp))

    out_dir = write_folder(out_dir, "run", is_result_file, fill)
    return {what: out_dir / name for what, name in written.items()} | \
           {f"{kind} plot": out_dir / path.name for kind, path in plots.items()}


def draw_plots(result_dir: str | Path, kinds=tuple(PLOTS)) -> dict[str, Path]:
    """Draw the plots of a result folder from its data files; a kind whose data the
    folder lacks (drt after a direct sweep) is skipped. Returns {kind: path}."""
    folder = Path(result_dir)
    summary = json.loads((folder / "summary.json").read_text())
    title, drawn = summary["name"], {}
    if {"nyquist", "bode"} & set(kinds):
        spectrum = Spectrum.from_csv(folder / "spectrum.csv")
    if "nyquist" in kinds:
        nyquist(spectrum, folder / PLOTS["nyquist"], title=title)
    if "bode" in kinds:
        bode(spectrum, folder / PLOTS["bode"], title=title)
    if "drt" in kinds and (folder / "drt.csv").exists():
        tau, R = np.loadtxt(folder / "drt.csv", delimiter=",", skiprows=1, ndmin=2).T
        drt(tau, R, folder / PLOTS["drt"])
    if "equipotentials" in kinds and (folder / "fields.vtu").exists():
        fields = read_vtu(folder / "fields.vtu", summary["thickness_um"])
        equipotentials(fields, folder / PLOTS["equipotentials"], title=title)
    if "current" in kinds and (folder / "contacts.vtu").exists():
        f_current = summary["contact_current_density"]["frequency_Hz"]
        current_map(read_contact_vtu(folder / "contacts.vtu", f_current), folder / PLOTS["current"])
    for kind in kinds:
        if (folder / PLOTS[kind]).exists():
            drawn[kind] = folder / PLOTS[kind]
    return drawn


def _finite_or_null(value):
    """The summary with inf and nan as None, so that it is valid JSON."""
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
