"""`run(spec)`: the whole pipeline for one cell, and writing its result to a folder.

    spec (resolved once, at its temperature)
      -> discretised(): the geometry source's Discretised cell (sources.py)
      -> solve():       DC solves, the split's reference cells, error bar, sweep -> Solved
      -> analyse():     arcs, fields, bodies, normalisation -> Result (spectrum + Summary)
      -> write_result(): the result folder, all or nothing
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from constriction import __version__
from constriction.analysis.arcs import constriction_arc, cpe_arc_summary, normalisation_factors
from constriction.analysis.probes import ProbeImpedances
from constriction.analysis.spectrum import Spectrum
from constriction.analysis.split import ConstrictionSplit
from constriction.discretised import Discretised, Size
from constriction.geometry.mesh_fields import (ContactCurrent, Fields, read_contact_vtu, read_vtu,
                                               write_contact_vtu, write_vtu)
from constriction.image.voxel_fields import GridFields, read_vti, write_vti
from constriction.image.read import ImageSpec
from constriction.io.folders import ResultError, check_folder, write_folder
from constriction.io.summary import (ArcSummary, BodySummary, Conservation, Constriction, ContactCurrentSummary,
                                     CPESummary, ProbeSummary, Summary, SweepSummary, TerminalSummary, complex_pair)
from constriction.memory import available_bytes, gib
from constriction.options import ERROR_ESTIMATES, PLOTS, SWEEPS
from constriction.progress import say as progress_line
from constriction.solve.direct import (body_currents, dc_resistance, dc_solution, driven_solve, shorts_anything,
                                      sweep_direct)
from constriction.solve.linalg import check_backend, choose_backend
from constriction.solve.reduced import ReducedModel, reduce
from constriction.solved import Solved
from constriction.solve.terminals import TerminalAdmittance, terminal_admittance
from constriction.sources import discretise, size_of, solve_over_ranks
from constriction.spec import CellSpec, Spec, SpecError
from constriction.units import UM

MIN_ARC_POINTS = 3  # a spectrum of fewer frequencies has no arc to read


@dataclass(frozen=True)
class Result:
    spec: Spec
    spectrum: Spectrum | None          # None: a DC-only run ([sweep] kind = "dc")
    summary: Summary | None = None
    model: ReducedModel | None = None  # the reduced sweep's pole-residue form (its DRT)
    fields: Fields | None = None       # potentials at a low and a high frequency
    current: ContactCurrent | None = None  # current density on the contacts, lowest frequency
    probes: ProbeImpedances | None = None  # three-electrode impedances of the reference electrodes
    admittance: TerminalAdmittance | None = None  # Y(s) of WE, CE and the metal references


def memory_budget(max_memory_GiB: float | None = None) -> int:
    """The bytes a run may use: --max-memory, else the memory available here."""
    return available_bytes() if max_memory_GiB is None else int(max_memory_GiB * 2**30)


def check_size(spec, max_memory_GiB: float | None = None) -> Size:
    """The Size of a run on `spec` (sources.size_of); SpecError, before meshing or reading,
    where its memory exceeds `max_memory_GiB` (default: the memory available here)."""
    size = size_of(spec)
    budget = memory_budget(max_memory_GiB)
    if size.bytes > budget:
        source = "available on this machine" if max_memory_GiB is None else "allowed by --max-memory"
        raise SpecError(size.key, f"{size.what}: about {gib(size.bytes)} estimated, above the {gib(budget)} "
                                  f"{source}: {size.shrink}, or set --max-memory (GiB)")
    return size


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How `run` solves a cell and what it computes beyond the spectrum.

    sweep: "reduced" (default; reduced-order model to relative tolerance `tol`) or
    "direct" (the reference: one complex factorisation per frequency).
    backend: sparse solver for the real solves (see solve/linalg.py).
    progress: progress lines and bars (stderr and the log).
    cpe_fit: also fit R || CPE to the constriction arc (least squares, about a second).
    max_memory_GiB: refuse (SpecError, before meshing or reading) a run estimated to need
    more memory (default: the memory available here; memory.py).
    split, fields, arc: solve the reference cells of the static/dynamic split; compute the
    fields and the contact current; read the constriction arc off the spectrum (a study
    case skips what it does not keep).
    error_estimate: "auto", the brackets of the continuum R_dc, R_inf and R_cstr from the
    image's own voxels (image/error_bar.py) or the mesh's own tetrahedra (solve/bounds.py:
    a current constant in each); "always", for an image also the DC resistances at 2x (and
    4x) subdivision and their Richardson extrapolation, for a mesh the tight bracket (a
    linear current in each tetrahedron, about ten DC solves); "never", neither."""
    sweep: str = "reduced"
    backend: str = "auto"
    tol: float = 1e-6
    progress: bool = True
    cpe_fit: bool = True
    max_memory_GiB: float | None = None
    split: bool = True
    fields: bool = True
    arc: bool = True
    error_estimate: str = "auto"

    def __post_init__(self):
        if self.sweep not in SWEEPS:
            raise ValueError(f"unknown sweep {self.sweep!r} (choose from {', '.join(SWEEPS)})")
        if self.error_estimate not in ERROR_ESTIMATES:
            raise ValueError(f"unknown error estimate {self.error_estimate!r} (choose from {', '.join(ERROR_ESTIMATES)})")
        check_backend(self.backend)  # a backend that is not installed: refused before meshing


def run(spec: CellSpec, options: RunOptions | None = None, **choices) -> Result:
    """Mesh (or voxelise an image, or read a mesh file), assemble and sweep the cell that
    `spec` describes: discretise -> solve -> analyse. `options` (RunOptions), or any of
    its fields by name (`run(spec, progress=False)`), say how.
    A spec whose [sweep] kind is "dc" gets the DC numbers only: R_dc, R_inf, the split, an
    image's effective conductivity and error bar; no spectrum, arc or fields."""
    options = replace(options or RunOptions(), **choices)
    spec = spec.at()  # every material at the spec's temperature, once, for everything below
    if options.backend == "petsc":  # an image over MPI ranks: each holds a band of it, rank 0 speaks
        cell, solved, quiet, not_here = solve_over_ranks(spec, options.progress, options.sweep, options.tol,
                                                         options.error_estimate)
        warnings = ((solved.split.why_unknown,) if solved.split.why_unknown else ()) + not_here
        return analyse(spec, cell, solved, replace(options, progress=options.progress and not quiet),
                       solved.seconds, warnings)
    size = check_size(spec, options.max_memory_GiB)
    cell, seconds = discretised(spec, size, options.progress, options.backend, memory_budget(options.max_memory_GiB))
    solved = solve(spec, cell, options)
    warnings = size.warnings + ((solved.split.why_unknown,) if solved.split.why_unknown else ()) + _short_of(solved)
    return analyse(spec, cell, solved, options, seconds | solved.seconds, warnings)


def _short_of(solved: Solved) -> tuple[str, ...]:
    """The warning of a mesh adapted to a tolerance that its last mesh did not reach."""
    d = solved.discretisation
    if d is None or d.tolerance is None or (d.mesh_steps and d.mesh_steps[-1].width <= d.tolerance):
        return ()
    wide = f"R_dc's bracket is {100 * d.mesh_steps[-1].width:.3g} % wide" if d.mesh_steps else "no mesh bracketed"
    return (f"mesh.tolerance {d.tolerance:g} not reached: {wide} (the error bar's note says why)",)


def discretised(spec, size: Size, progress: bool = True, backend: str = "auto",
                budget: int | None = None) -> tuple[Discretised, dict]:
    """The Discretised cell of a resolved spec (sources.py), and the seconds it took;
    `backend` and `budget` (bytes) are those of a Gmsh cell's meshes to a tolerance."""
    say = partial(progress_line, enabled=progress)
    say(f"{spec.name}: {size.doing} ({size.what}, about {gib(size.bytes)} of memory estimated)")
    for warning in size.warnings:
        say(f"{spec.name}: warning: {warning}")
    t0 = time.perf_counter()
    cell = discretise(spec, progress, backend, budget)
    if not cell.system.interior.size:
        raise SpecError(size.key, "the mesh has no unknown potential: every node lies on an electrode "
                                  "(a cell thinner than its elements): refine it")
    return cell, {"mesh_and_assemble": time.perf_counter() - t0}


def solve(spec: CellSpec, cell: Discretised, options: RunOptions) -> Solved:
    """DC solves (R_dc; R_inf with the gaps shorted), the split's reference cells, an
    image's error bar, and the sweep (with the probes' potentials from its solutions)."""
    say, system, clock = partial(progress_line, enabled=options.progress), cell.system, {}
    backend = options.backend
    say(f"{spec.name}: DC solves, {system.n_dofs} unknowns")
    t0 = time.perf_counter()
    dc = dc_solution(system, backend=backend)
    R_dc, dc_check = dc.R_ohm, dc.mismatch
    R_inf = dc_resistance(system, short_gaps=True, backend=backend)[0] if shorts_anything(system) else R_dc
    clock["dc"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    parts = ConstrictionSplit.unknown(R_dc)
    if options.split:
        say(f"{spec.name}: reference cells for the static/dynamic split")
        parts = cell.split(R_dc, backend)
        if parts.why_unknown:
            say(f"{spec.name}: warning: {parts.why_unknown}")
    clock["split"] = time.perf_counter() - t0

    discretisation = None
    if cell.error_bar is not None:  # the brackets of R_dc, R_inf, R_cstr (an image's Richardson when asked)
        t0 = time.perf_counter()
        discretisation = cell.error_bar(cell, (R_dc, R_inf, parts.R_bulk_ohm if options.split else None),
                                        options.error_estimate, backend, options.progress, dc.x)
        clock["error_estimate"] = time.perf_counter() - t0

    if spec.sweep.dc_only:
        say(f"{spec.name}: DC only, no spectrum")
        return Solved(R_dc_ohm=R_dc, R_inf_ohm=R_inf, dc_mismatch=dc_check, split=parts, symmetric=None,
                      discretisation=discretisation, spectrum=None, sweep_mismatch=0.0,
                      sweep=SweepSummary(kind="dc", backend=choose_backend(backend, False, len(system.interior)),
                                         n_frequencies=0, f_min_Hz=math.nan, f_max_Hz=math.nan),
                      model=None, probes=None, admittance=None, seconds=clock)
    say(f"{spec.name}: {options.sweep} sweep")
    t0 = time.perf_counter()
    f = spec.frequencies_Hz()
    rows = None if cell.probes is None else cell.probes.rows
    Z, mismatch, sweep, model, phi = _sweep(system, f, options, rows, dc.x)
    clock["sweep"] = time.perf_counter() - t0
    probes = None if phi is None else ProbeImpedances(f, cell.probes.names, phi, Z)  # from the same solutions
    admittance = None
    if cell.terminals:  # floating metal references: the terminal admittance matrix, from the same shifts
        names = ("WE", "CE", *(name for name, _ in cell.terminals))
        Y = terminal_admittance(system, [system.we, system.ce, *(dofs for _, dofs in cell.terminals)], f,
                                None if model is None else model.real_shifts(f), backend)
        admittance = TerminalAdmittance(f, names, Y)
    symmetric = None
    if cell.symmetric is not None and options.split:  # a mirrored CE: the cell against its halves
        say(f"{spec.name}: the single interface, for the symmetric cell's comparison")
        t0 = time.perf_counter()
        symmetric = cell.symmetric(R_dc, Spectrum(f, Z), backend)
        clock["symmetric"] = time.perf_counter() - t0
    return Solved(R_dc_ohm=R_dc, R_inf_ohm=R_inf, dc_mismatch=dc_check, split=parts, symmetric=symmetric,
                  discretisation=discretisation, spectrum=Spectrum(frequency_Hz=f, Z_ohm=Z),
                  sweep_mismatch=mismatch, sweep=sweep, model=model, probes=probes,
                  admittance=admittance, seconds=clock)


def analyse(spec: CellSpec, cell: Discretised, solved: Solved, options: RunOptions, seconds: dict | None = None,
            warnings: tuple[str, ...] = ()) -> Result:
    """The constriction arc (and its R || CPE fit), the fields and contact current, the
    floating bodies and the normalisation, gathered into the Summary."""
    say, system, model = partial(progress_line, enabled=options.progress), cell.system, solved.model
    spectrum, R_dc, R_inf = solved.spectrum, solved.R_dc_ohm, solved.R_inf_ohm
    tau_electrolyte = spec.electrolyte.tau_s
    f = spectrum.frequency_Hz if spectrum is not None else np.array([])
    arc = options.arc and len(f) >= MIN_ARC_POINTS  # DC only, or too few frequencies to read an arc from
    fields = options.fields and spectrum is not None
    arc_spectrum = spectrum
    if arc and model is not None:  # read the arc off a dense evaluation, not the requested points
        dense = np.logspace(np.log10(f[0]), np.log10(f[-1]), int(40 * np.log10(f[-1] / f[0])) + 1)
        arc_spectrum = Spectrum(dense, model.impedance(dense))
    arc = constriction_arc(arc_spectrum, R_dc, R_inf, tau_electrolyte) if arc else None
    arc_cpe = None
    if options.cpe_fit and arc is not None:
        say(f"{spec.name}: R || CPE fit of the constriction arc")
        arc_cpe = CPESummary(**cpe_arc_summary(arc_spectrum, arc, R_inf, tau_electrolyte))
    constriction = Constriction(**solved.split.as_dict(), arc_cpe=arc_cpe, arc=None if arc is None else ArcSummary(
        R_arc_ohm=arc.R_ohm, C_cstr_F=arc.C_F, tau_cstr_s=arc.tau_s, f_apex_Hz=arc.f_apex_Hz,
        apex_in_sweep=bool(f[0] <= arc.f_apex_Hz <= f[-1])))
    field_data, current = (None, None)
    if fields:
        say(f"{spec.name}: fields")
        field_data, current = cell.fields({fi: _potential(system, model, fi)
                                           for fi in field_frequencies(f[0], f[-1], arc, tau_electrolyte)})
    summary = Summary(
        name=spec.name, R_dc_ohm=float(R_dc), R_inf_ohm=float(R_inf), constriction=constriction,
        contact_current_density=None if current is None else ContactCurrentSummary(
            frequency_Hz=float(current.frequency_Hz), mean_A_per_m2_per_V=float(abs(current.mean)),
            peak_over_mean=float(np.abs(current.j).max() / abs(current.mean))),
        normalisation=normalisation_factors(cell.thickness_m, cell.electrode_area_m2, cell.contact_area_m2,
                                            spec.electrolyte.sigma_S_per_m, R_inf),
        area_um2=cell.electrode_area_m2 / UM**2, thickness_um=cell.thickness_m / UM,
        contact_area_um2=cell.contact_area_m2 / UM**2, meshed_ce_area_um2=cell.counter_area_m2 / UM**2,
        dofs=int(system.n_dofs), elements=int(cell.elements), order=cell.order,
        conservation=Conservation(dc_relative_mismatch=float(solved.dc_mismatch),
                                  sweep_max_relative_mismatch=float(solved.sweep_mismatch)),
        passive=spectrum is None or bool(np.all(spectrum.Z_ohm.real >= 0) and np.all(spectrum.Z_ohm.imag <= 0)),
        sweep=solved.sweep, seconds=seconds or solved.seconds,
        metal_bodies=(() if not len(f) else cell.bodies(model, f[0]) if cell.bodies is not None else
                      _bodies(system, model, f[0]) if system.bodies else ()),
        transport=None if cell.transport is None else cell.transport(R_dc),
        probes=_probe_summaries(spec, solved.probes), symmetric=solved.symmetric,
        terminals=None if solved.admittance is None else TerminalSummary(
            solved.admittance.names, *solved.admittance.checks(spectrum.Z_ohm)),
        discretisation=solved.discretisation, warnings=warnings, constriction_version=__version__)
    return Result(spec=spec, spectrum=spectrum, summary=summary, model=model, fields=field_data,
                  current=current, probes=solved.probes, admittance=solved.admittance)


def _probe_summaries(spec, probes: ProbeImpedances | None) -> tuple[ProbeSummary, ...]:
    """Each reference electrode's place and potential at the lowest and highest frequency."""
    if probes is None:
        return ()
    return tuple(ProbeSummary(name=p.name, x_um=p.x_um, y_um=p.y_um, depth_um=p.depth_um, radius_um=p.radius_um,
                              body=(f"inclusions[{p.inclusion}]" if p.inclusion is not None else
                                    f"phase {p.phase}" if p.phase is not None else ""),
                              f_low_Hz=float(probes.frequency_Hz[0]), potential_low_V=complex_pair(phi[0]),
                              f_high_Hz=float(probes.frequency_Hz[-1]), potential_high_V=complex_pair(phi[-1]))
                 for p, phi in zip(spec.probes, probes.potential_V))


def _bodies(system, model, f_Hz: float) -> tuple[BodySummary, ...]:
    """Potential of, and current through, every floating metal body at f_Hz."""
    x = _potential(system, model, f_Hz)
    return tuple(BodySummary(frequency_Hz=float(f_Hz), potential_V=float(abs(x[b])),
                             potential_phase_deg=float(np.degrees(np.angle(x[b]))), current_through_A=float(abs(i)))
                 for b, i in zip(system.bodies, body_currents(system, x, 2j * np.pi * f_Hz)))


def _potential(system, model, f_Hz: float) -> np.ndarray:
    """The complex potential of every unknown at f_Hz (WE at 1 V): from the reduced
    basis, or by a direct solve after a direct sweep."""
    if model is not None:
        return model.potential(f_Hz)
    return driven_solve(system.pencil(2j * np.pi * f_Hz), system.we, system.ce, system.interior, "superlu")[2]


def _sweep(system, f: np.ndarray, options: RunOptions, probe_rows=None, dc_potential=None):
    """Z (ohm) at f, the sweep's conservation check, its record (SweepSummary), the reduced
    model (None for the direct sweep), and the potentials `probe_rows` pick out of the
    solutions at f (probes x frequencies; None without probes). `dc_potential`: the DC
    solve's potentials, the reduced model's first snapshot where it starts at s -> 0."""
    span = {"n_frequencies": len(f), "f_min_Hz": float(f[0]), "f_max_Hz": float(f[-1])}
    if options.sweep == "reduced":
        model = reduce(system, f[0], f[-1], tol=options.tol, backend=options.backend, progress=options.progress,
                       dc_potential=dc_potential)
        record = SweepSummary(kind="reduced", backend=choose_backend(options.backend, False, len(system.interior)),
                              n_shifts=len(model.shifts_Hz), n_moments=model.moments, order=model.order,
                              estimated_error=model.estimated_error, tolerance=options.tol, **span)
        phi = None if probe_rows is None else np.column_stack([probe_rows @ model.potential(fi) for fi in f])
        return model.impedance(f), model.conservation, record, model, phi
    admittance = sweep_direct(system, f, progress=options.progress, probe_rows=probe_rows)
    record = SweepSummary(kind="direct", backend="superlu", **span)
    return 1.0 / admittance.Y_S, float(admittance.conservation.max()), record, None, admittance.probe_potentials_V


def field_frequencies(f_min: float, f_max: float, arc, tau_electrolyte_s: float) -> tuple[float, float]:
    """The lowest frequency, and one where the gaps are shorted while the electrolyte is
    still resistive: the geometric mean of the constriction arc's apex and the
    electrolyte's own relaxation frequency (or the highest frequency, without an arc)."""
    if arc is None:
        return f_min, f_max
    f_electrolyte = 1 / (2 * np.pi * tau_electrolyte_s)
    return f_min, float(np.clip(np.sqrt(arc.f_apex_Hz * f_electrolyte), f_min, f_max))


DATA_FILES = ("spectrum.csv", "summary.json", "spec.toml", "terminals.csv", "admittance.csv", "drt.csv", "fields.vtu",
              "fields.vti", "contacts.vtu")


def is_result_file(name: str) -> bool:
    """Whether a file name is one that a run's result folder holds."""
    return name in DATA_FILES or name in PLOTS.values()


def check_out(out_dir: str | Path) -> Path:
    """Refuse an output folder that is not ours to replace (before computing)."""
    return check_folder(out_dir, "run", is_result_file)


def write_result(result: Result, out_dir: str | Path) -> dict[str, Path]:
    """Write the result into `out_dir`, all or nothing (see io/folders.py: a folder that holds
    anything we did not write is refused). Data: spectrum.csv, summary.json, drt.csv
    (reduced sweep), fields.vtu, contacts.vtu; plots drawn from the result in memory
    (the numbers those files hold; `constriction plot` redraws them from the files).
    Returns {what: path}."""
    written = {"summary": "summary.json", "resolved spec": "spec.toml"}
    if result.spectrum is not None:
        written["spectrum"] = "spectrum.csv"
    if result.model is not None:
        written["DRT"] = "drt.csv"
    if result.fields is not None:
        written["fields (VTK)"] = "fields.vti" if isinstance(result.fields, GridFields) else "fields.vtu"
    if result.current is not None:
        written["contact current (VTK)"] = "contacts.vtu"
    if result.probes is not None:
        written["three-electrode impedances"] = "terminals.csv"
    if result.admittance is not None:
        written["terminal admittance matrix"] = "admittance.csv"
    plots = {}

    def fill(tmp: Path):
        if result.spectrum is not None:
            result.spectrum.to_csv(tmp / written["spectrum"])
        result.summary.write(tmp / written["summary"])
        (tmp / written["resolved spec"]).write_text(resolved_toml(result.spec))
        if result.model is not None:
            np.savetxt(tmp / written["DRT"], np.column_stack([result.model.relaxation_times_s,
                                                              result.model.resistances_ohm]),
                       delimiter=",", header="tau_s,R_ohm", comments="", fmt="%.12e")
        if isinstance(result.fields, GridFields):
            write_vti(result.fields, tmp / written["fields (VTK)"])
        elif result.fields is not None:
            write_vtu(result.fields, tmp / written["fields (VTK)"])
        if result.current is not None:
            write_contact_vtu(result.current, tmp / written["contact current (VTK)"])
        if result.probes is not None:
            result.probes.to_csv(tmp / written["three-electrode impedances"])
        if result.admittance is not None:
            result.admittance.to_csv(tmp / written["terminal admittance matrix"])
        plots.update(draw_plots(tmp, data=_plot_data(result)))

    out_dir = write_folder(out_dir, "run", is_result_file, fill)
    return {what: out_dir / name for what, name in written.items()} | \
           {f"{kind} plot": out_dir / path.name for kind, path in plots.items()}


def resolved_toml(spec: Spec | ImageSpec) -> str:
    """The spec as this run used it, every material at the working temperature, as TOML
    that `constriction run` takes back (it reproduces the result)."""
    import tomli_w
    return (f"# The spec of this result as constriction {__version__} resolved it (materials at the working\n"
            f"# temperature, layouts as explicit contacts): `constriction run` on this file reproduces it.\n\n"
            + tomli_w.dumps(spec.to_dict()))


def draw_plots(result_dir: str | Path, kinds=tuple(PLOTS), data: dict | None = None) -> dict[str, Path]:
    """Draw the plots of a result folder from its data files (or from `data`, what
    read_result_data would read from them); a kind whose data the folder lacks (drt
    after a direct sweep) is skipped. Every file is read (ResultError if one is missing
    or damaged) before any plot is drawn. Returns {kind: path}."""
    from constriction.analysis.plot import bode, current_map, drt, equipotentials, nyquist, save  # matplotlib: only to draw
    folder = Path(result_dir)
    data = read_result_data(folder, kinds) if data is None else data
    title = data["summary"].name
    if "nyquist" in data:
        cell = data["nyquist"]
        terminals = data.get("terminals")
        ax = nyquist(cell, title=title, label="cell (WE-CE)" if terminals else "simulated")
        if terminals is not None:  # the reference electrodes' WE-RE impedances over it
            largest = float(np.nanmax(np.abs(cell.Z_ohm)))
            for name, Z in zip(terminals.names, terminals.Z_we_re_ohm):
                nyquist(Spectrum(cell.frequency_Hz, Z), ax=ax, label=f"WE-{name}", largest_ohm=largest)
            ax.legend(fontsize=8)
        save(ax, folder / PLOTS["nyquist"])
    if "bode" in data:
        save(bode(data["bode"], title=title), folder / PLOTS["bode"])
    if "drt" in data:
        save(drt(*data["drt"]), folder / PLOTS["drt"])
    if "equipotentials" in data:
        save(equipotentials(data["equipotentials"], title=title), folder / PLOTS["equipotentials"])
    if "current" in data:
        save(current_map(data["current"]), folder / PLOTS["current"])
    return {kind: folder / PLOTS[kind] for kind in kinds if kind in data}


def _plot_data(result: Result) -> dict:
    """What each plot draws, from a result in memory (as read_result_data reads it)."""
    data = {"summary": result.summary}
    if result.spectrum is not None:
        data |= {"nyquist": result.spectrum, "bode": result.spectrum}
    if result.model is not None:
        data["drt"] = (result.model.relaxation_times_s, result.model.resistances_ohm)
    if result.fields is not None:
        data["equipotentials"] = result.fields
    if result.current is not None:
        data["current"] = result.current
    if result.probes is not None:
        data["terminals"] = result.probes
    return data


def read_result_data(folder: Path, kinds) -> dict:
    """What each plot draws, read from the folder's files."""
    def read(name, how):
        try:
            return how(folder / name)
        except FileNotFoundError:
            raise ResultError(f"{folder}: has no {name} (not a complete result folder)") from None
        except Exception as err:  # any reader failure means the file is damaged: say which
            raise ResultError(f"{folder / name}: cannot be read ({type(err).__name__}: {str(err)[:80]})") from None

    summary = read("summary.json", Summary.read)
    data = {"summary": summary}
    if {"nyquist", "bode"} & set(kinds) and summary.sweep.kind != "dc":
        spectrum = read("spectrum.csv", _spectrum_of)
        data.update({k: spectrum for k in ("nyquist", "bode") if k in kinds})
    if "nyquist" in kinds and (folder / "terminals.csv").exists():
        data["terminals"] = read("terminals.csv", ProbeImpedances.from_csv)
    if "drt" in kinds and (folder / "drt.csv").exists():
        data["drt"] = read("drt.csv", lambda p: np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2).T[:2])
    if "equipotentials" in kinds and (folder / "fields.vtu").exists():
        data["equipotentials"] = read("fields.vtu", lambda p: read_vtu(p, summary.thickness_um))
    if "equipotentials" in kinds and (folder / "fields.vti").exists():
        data["equipotentials"] = read("fields.vti", read_vti)
    if "current" in kinds and (folder / "contacts.vtu").exists() and summary.contact_current_density:
        f_current = summary.contact_current_density.frequency_Hz
        data["current"] = read("contacts.vtu", lambda p: read_contact_vtu(p, f_current))
    return data


def _spectrum_of(path: Path) -> Spectrum:
    spectrum = Spectrum.from_csv(path)
    if len(spectrum.frequency_Hz) < 1 or not np.all(np.isfinite(spectrum.frequency_Hz)):
        raise ValueError("no frequency")
    return spectrum

