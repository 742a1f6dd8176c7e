"""The `constriction` command.

    constriction run SPEC.toml [--out DIR] [--sweep reduced|direct] [--dc] [--backend NAME]
                     [--max-memory GIB] [--error-estimate | --no-error-estimate]
    constriction plot RESULT_DIR [--kind all|nyquist|bode|drt|equipotentials|current]
    constriction study run STUDY.toml --out DIR [--workers N | --scheduler ADDRESS | --serial]
    constriction study status DIR
    constriction study plot DIR
    constriction study table DIR --out TABLE.nc
    constriction compare MEASURED SIM_DIR [--area-cm2 A] [--out DIR]
    constriction fit MEASURED --table TABLE.nc --area-cm2 A [--noise X] [--out DIR]

Anything we cannot use (a spec, study, image or measured file, an output path that is
not ours to write) is refused before computing with one line naming the file and the
reason, exit status 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

from constriction.options import BACKENDS, PLOTS, SWEEPS

ROUND_OFF = 1e-9  # |R_cstr| below this times R_dc is no constriction, printed as 0


def user_errors() -> tuple[type, ...]:
    """What a user gave us that we cannot use: one line, exit status 2, nothing written.
    (Imported here, not at the top: `constriction --version` needs none of it.)"""
    from constriction.geometry.cell import MeshError
    from constriction.image.read import ImageError
    from constriction.io.measured import MeasurementError
    from constriction.io.folders import OutputError, ResultError
    from constriction.solve.linalg import BackendError
    from constriction.spec import SpecError
    return SpecError, OutputError, MeasurementError, ResultError, MeshError, ImageError, BackendError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _show_solver_lines()
    refused = user_errors()
    try:
        if args.command == "study":
            from constriction.cli.study import study_command
            return study_command(args)
        if args.command in ("compare", "fit"):
            from constriction.cli.measured import measured_command
            return measured_command(args)
        return _run(args) if args.command == "run" else _plot(args)
    except refused as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


class _ToStderr(logging.Handler):
    """Log lines on whatever sys.stderr is when they come, like the progress lines."""

    def emit(self, record):
        print(self.format(record), file=sys.stderr, flush=True)


def _show_solver_lines() -> None:
    """The solver's INFO lines (AMG setups and CG solves of systems of a million unknowns
    and more: a minute each at 256³) on stderr beside the progress. Set here, by the CLI:
    importing the package configures no logging."""
    logger = logging.getLogger("constriction")
    if not any(isinstance(h, _ToStderr) for h in logger.handlers):
        logger.addHandler(_ToStderr())
        logger.setLevel(logging.INFO)


def _parser() -> argparse.ArgumentParser:
    from constriction import __version__
    parser = argparse.ArgumentParser(prog="constriction",
                                     description="Impedance of 3D metal | solid-electrolyte interfaces.")
    parser.add_argument("--version", action="version", version=f"constriction {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="mesh, solve and sweep one cell spec")
    run_cmd.add_argument("spec", type=Path, help="TOML spec file (see specs/)")
    run_cmd.add_argument("--out", type=Path, default=None,
                         help="output folder (default: results/<spec name>); a folder holding anything "
                              "else than an earlier result of `run` is refused")
    run_cmd.add_argument("--sweep", choices=SWEEPS, default="reduced",
                         help="reduced-order model (default) or the direct reference sweep")
    run_cmd.add_argument("--dc", action="store_true",
                         help="DC only: R_dc, R_inf, the split (an image's effective conductivity and "
                              "tortuosity factor, its error bar), no spectrum; as [sweep] kind = \"dc\"")
    run_cmd.add_argument("--backend", choices=BACKENDS, default="auto",
                         help="sparse solver for the real solves (DC and reduced-model shifts); petsc: an "
                              "image over MPI ranks, each holding a band of it (mpiexec -n N constriction run "
                              "IMAGE.toml --backend petsc; needs petsc4py and mpi4py)")
    run_cmd.add_argument("--max-memory", dest="max_memory_GiB", metavar="GIB", type=_positive_finite, default=None,
                         help="refuse a run estimated (before meshing or reading) to need more memory than "
                              "this many GiB (default: the memory available on this machine)")
    estimate = run_cmd.add_mutually_exclusive_group()
    estimate.add_argument("--error-estimate", dest="error_estimate", action="store_const", const="always",
                          default="auto", help="a tighter error bar, for more time. Images: besides the "
                                               "brackets of the continuum values (the default error bar), "
                                               "solve the 2x subdivided DC cells (and the 4x for small "
                                               "images) for Richardson's extrapolation. Meshes: bracket with "
                                               "a current linear in each tetrahedron (second order, like "
                                               "P2), not constant (about ten DC solves, not two)")
    estimate.add_argument("--no-error-estimate", dest="error_estimate", action="store_const", const="never",
                          help="no error bar (saves the bounds' DC solves)")
    plot_cmd = commands.add_parser("plot", help="(re)draw the plots of a result folder")
    plot_cmd.add_argument("result", type=Path, help="folder written by `constriction run`")
    plot_cmd.add_argument("--kind", choices=("all", *PLOTS), default="all")
    _study_parser(commands)
    _measured_parsers(commands)
    return parser


def _positive_int(text: str) -> int:
    """A positive whole number, also written as 1e3 or 1_000."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 1 and value == int(value)):
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return int(value)


def _positive_finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


AREA_RANGE_CM2 = (1e-12, 1e4)  # a (0.1 µm)² spot .. a square metre: any electrode of this field


def _area_cm2(text: str) -> float:
    """An electrode area in cm², within AREA_RANGE_CM2."""
    value = _positive_finite(text)
    low, high = AREA_RANGE_CM2
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{value:g} cm² is outside {low:g}..{high:g} cm² (the area is in cm²)")
    return value


def _measured_parsers(commands):
    compare = commands.add_parser("compare", help="a measured spectrum beside a simulated one")
    compare.add_argument("measured", type=Path, help="instrument file (.mpt, .DTA, .z, .par, .txt, .csv)")
    compare.add_argument("simulated", type=Path, help="folder written by `constriction run`")
    compare.add_argument("--area-cm2", type=_area_cm2, default=None,
                         help="measured electrode area (default: the simulated one)")
    compare.add_argument("--out", type=Path, default=None, help="default: results/compare_<file>")
    fit = commands.add_parser("fit", help="morphologies consistent with a measured spectrum")
    fit.add_argument("measured", type=Path, help="instrument file")
    fit.add_argument("--table", type=Path, required=True, help="lookup table from `study table`")
    fit.add_argument("--area-cm2", type=_area_cm2, required=True, help="measured electrode area (cm²)")
    fit.add_argument("--noise", type=_positive_finite, default=None,
                     help="relative noise of the measurement (default: from the Kramers-Kronig test)")
    fit.add_argument("--gb-apex-Hz", type=_positive_finite, nargs=2, default=None, metavar=("LO", "HI"),
                     help="where the grain-boundary arc's apex may lie (default: anywhere)")
    fit.add_argument("--out", type=Path, default=None, help="default: results/fit_<file>")


def _study_parser(commands):
    study = commands.add_parser("study", help="parameter studies on Dask, and lookup tables")
    verbs = study.add_subparsers(dest="verb", required=True)
    run_cmd = verbs.add_parser("run", help="run every unfinished case of a study")
    run_cmd.add_argument("study", type=Path, help="study TOML (see studies/)")
    run_cmd.add_argument("--out", type=Path, required=True, help="study folder")
    where = run_cmd.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=None, help="local Dask workers (default: cores)")
    where.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    where.add_argument("--serial", action="store_true", help="in this process, without Dask")
    plot_cmd = verbs.add_parser("plot", help="trend plots of a finished study (trends.png)")
    plot_cmd.add_argument("dir", type=Path, help="study folder")
    status_cmd = verbs.add_parser("status", help="finished, failed and pending cases")
    status_cmd.add_argument("dir", type=Path, help="study folder")
    table_cmd = verbs.add_parser("table", help="build a lookup table from a finished study")
    table_cmd.add_argument("dir", type=Path, help="study folder")
    table_cmd.add_argument("--out", type=Path, required=True, help="table file (.nc)")


def _plot(args) -> int:
    from constriction.io.folders import ResultError
    from constriction.pipeline import draw_plots
    if not (args.result / "summary.json").is_file():
        raise ResultError(f"{args.result}: not a result folder (no summary.json)")
    kinds = tuple(PLOTS) if args.kind == "all" else (args.kind,)
    try:
        drawn = draw_plots(args.result, kinds)
    except PermissionError as err:
        raise ResultError(f"{args.result}: cannot write the plots into it ({err.strerror}: read-only?); "
                          f"copy the folder somewhere writable and plot there") from None
    for kind in kinds:
        print(f"{kind:>14}: {drawn.get(kind, 'no data for this plot in the folder')}")
    return 0


def _run(args) -> int:
    from constriction.io.spec_reader import load_spec
    from constriction.geometry.cell import MeshError
    from constriction.pipeline import check_out, run, write_result
    from constriction.solve.linalg import check_backend
    from constriction.spec import SpecError

    check_backend(args.backend)
    spec = load_spec(args.spec)
    if args.dc:
        from dataclasses import replace
        spec = replace(spec, sweep=replace(spec.sweep, kind="dc"))
    from constriction.io.folders import default_folder
    writes = _mpi_rank(args.backend) == 0  # over MPI ranks (--backend petsc) rank 0 writes, every rank computes
    out = _on_rank_0(args.backend, lambda: check_out(args.out or default_folder(Path("results") / spec.name)))
    try:  # run refuses a mesh or an image too large for the limits before it meshes or reads
        result = run(spec, sweep=args.sweep, backend=args.backend, max_memory_GiB=args.max_memory_GiB,
                     error_estimate=args.error_estimate)
    except SpecError as err:
        raise err.in_file(args.spec) from None
    except MeshError as err:
        raise MeshError(f"{args.spec}: {err}") from None
    if not writes:
        return 0
    paths = write_result(result, out)
    for what, path in paths.items():
        print(f"{what:>24}: {path}")
    print(_numbers(result.summary))
    return 0


def _mpi_rank(backend: str) -> int:
    """This process's MPI rank under --backend petsc (0 otherwise)."""
    if backend != "petsc":
        return 0
    from constriction.parallel.mpi import world
    return world()[1].rank


def _on_rank_0(backend: str, check):
    """check() on rank 0 only under --backend petsc (an output folder is checked once), its
    answer or its error on every rank; check() itself otherwise."""
    if backend != "petsc":
        return check()
    from constriction.parallel.mpi import world
    comm = world()[1]
    answer = None
    if comm.rank == 0:
        try:
            answer = check()
        except Exception as err:  # every rank raises it, none is left waiting
            answer = err
    answer = comm.bcast(answer, root=0)
    if isinstance(answer, Exception):
        raise answer
    return answer


def _numbers(s) -> str:
    """The numbers an electrochemist reads (from a Summary), and the verdict of the
    result's own checks."""
    area = s.normalisation["ohm_cm2_geometric"]
    c = s.constriction
    d = s.discretisation
    image = d is not None and d.solved_voxel_um is not None
    unknowns = "finite volumes" if image else f"P{s.order}"
    lines = [f"{s.name}: {s.dofs:,} unknowns ({unknowns}), electrode {area:.4g} cm²"]
    if image:
        lines.append(f"  voxels {' x '.join(f'{v:.4g}' for v in d.solved_voxel_um)} µm ({d.method}; current through "
                     f"{d.connectivity})")
    bar = {name: _error_bar(getattr(d, f"{name}_bracket", None) or getattr(d, name, None))
           for name in ("R_dc", "R_inf", "R_cstr")}
    if math.isfinite(s.R_dc_ohm):
        lines.append(f"  R_dc   = {s.R_dc_ohm:.5g}{bar['R_dc']} Ω  ({s.R_dc_ohm * area:.5g} Ω cm²)")
    else:
        lines.append("  R_dc   = blocking (no DC path)")
    lines.append(f"  R_inf  = {s.R_inf_ohm:.5g}{bar['R_inf']} Ω  ({s.R_inf_ohm * area:.5g} Ω cm²)")
    if math.isfinite(c.R_cstr_ohm) and abs(c.R_cstr_ohm) <= ROUND_OFF * s.R_dc_ohm:
        lines.append("  R_cstr = 0 Ω (R_dc = R_inf to round-off)")
    elif math.isfinite(c.R_cstr_ohm):
        lines.append(f"  R_cstr = {c.R_cstr_ohm:.5g}{bar['R_cstr']} Ω  ({c.R_cstr_ohm * area:.5g} Ω cm²): "
                     f"static {c.R_static_ohm:.4g} Ω + dynamic {c.R_dynamic_ohm:.4g} Ω")
    if d is not None and d.R_dc_bracket is not None:
        b = d.R_dc_bracket
        why = ("finite volumes overestimate an image's R" if image else
               f"the P{s.order} value is the lower end; the mixed solve on the same tetrahedra the upper")
        lines.append(f"  error bar: the continuum R_dc of these {'voxels' if image else 'tetrahedra'} lies in "
                     f"[{b.lower_ohm:.5g}, {b.upper_ohm:.5g}] Ω (Dirichlet's and Thomson's bounds; {why})")
    if d is not None and d.R_dc is not None:
        e = d.R_dc
        lines.append(f"  error bar: subdivisions {', '.join(map(str, e.subdivisions))}, order {e.order:.2g} "
                     f"({'observed' if e.order_observed else 'assumed'}), R_dc extrapolated "
                     f"{e.extrapolated_ohm:.5g} Ω")
    if d is not None and d.note:
        lines.append(f"  error bar: {d.note}")
    t = s.transport
    if t is not None and math.isfinite(s.R_dc_ohm):
        lines.append(f"  sigma_eff = {t.sigma_eff_S_per_m:.5g} S/m over {t.length_um:.4g} µm "
                     f"(bulk electrolyte {t.sigma_bulk_S_per_m:.4g} S/m): formation factor {t.formation_factor:.4g}, "
                     f"tortuosity factor {t.tortuosity_factor:.4g} (conducting {100 * t.conducting_fraction:.3g} % "
                     f"of the volume, {100 * t.percolating_fraction:.3g} % joining both electrodes)")
        lines.append(f"  convention: {t.convention}")
    if s.sweep.kind == "dc":
        lines.append("  DC only: no spectrum, no arc")
    elif c.arc:
        lines.append(f"  C_cstr = {c.arc.C_cstr_F:.4g} F  ({c.arc.C_cstr_F / area:.4g} F/cm²), tau_cstr = {c.arc.tau_cstr_s:.4g} s, "
                     f"apex {c.arc.f_apex_Hz:.4g} Hz")
        if not c.arc.apex_in_sweep:
            lines.append("  warning: the constriction arc's apex lies outside the swept frequencies; "
                         "widen [sweep] to see it")
    elif s.sweep.n_frequencies < 3:
        lines.append(f"  no constriction arc read from {s.sweep.n_frequencies} frequencies")
    elif d is not None:
        lines.append("  no constriction arc (R_dc = R_inf, or a blocking cell): no gas lies against the working "
                     "electrode to be shorted; insulating phases block the current at every frequency below the "
                     "electrolyte's own relaxation, so they count in R_inf as in R_dc (their displacement current "
                     "shows only near that relaxation)")
    else:
        lines.append("  no constriction arc (no gap or pore: R_dc = R_inf, or a blocking cell)")
    for k, body in enumerate(s.metal_bodies, start=1):
        lines.append(f"  floating metal {k}: {body.potential_V:.4g} V ({body.potential_phase_deg:+.2g}°), "
                     f"{body.current_through_A:.4g} A through it at {body.frequency_Hz:.3g} Hz "
                     f"(1 V across the cell)")
    if s.symmetric is not None:
        y = s.symmetric
        lines.append(f"  symmetric cell: each interface {y.R_interface_ohm:.5g} Ω alone (over a plain CE), bulk "
                     f"{y.R_bulk_ohm:.5g} Ω; R_dc - (2 R_single - R_bulk) = {y.deviation_ohm:.3g} Ω "
                     f"({100 * y.relative_deviation:.2g} % of R_dc: the interfaces' constriction zones "
                     f"{'overlap' if abs(y.relative_deviation) > 0.01 else 'barely interact'}); over the sweep "
                     f"Z_sym is within {100 * y.spectral_relative_deviation:.2g} % of 2 Z_single - Z_bulk "
                     f"(worst at {y.spectral_worst_Hz:.3g} Hz)")
    for p in s.probes:
        share = 1 - complex(*p.potential_low_V)
        where = f"{p.depth_um:.3g} µm below the WE" if p.depth_um > 0 else "on the WE face"
        kind = f"ring {p.name} (radius {p.radius_um:.3g} µm, {where})" if p.radius_um else f"probe {p.name} ({where})"
        if p.body:
            kind = f"reference {p.name} (floating metal, {p.body})"
        lines.append(f"  {kind}: Z_WE-{p.name} = {share.real:.4g} Z_cell "
                     f"at {p.f_low_Hz:.3g} Hz, {1 - p.potential_high_V[0]:.4g} at {p.f_high_Hz:.3g} Hz "
                     f"(terminals.csv)")
    if s.terminals is not None:
        y = s.terminals
        lines.append(f"  admittance matrix Y(s) of {', '.join(y.names)} (admittance.csv): symmetric to "
                     f"{y.asymmetry:.1e}, passive {'ok' if y.passivity > -1e-9 else 'FAILED'}, Z_cell from it "
                     f"within {y.Z_cell_relative_mismatch:.1e} of the spectrum")
    mismatch = s.conservation.worst
    ok = mismatch < 1e-6
    lines.append(f"  checks: current in = current out to {mismatch:.1e} ({'ok' if ok else 'FAILED'})"
                 + (f", passive {'ok' if s.passive else 'FAILED'}" if s.sweep.kind != "dc" else "")
                 + (f", reduced model error {s.sweep.estimated_error:.1e}" if s.sweep.estimated_error is not None else "")
                 + (f" ({s.sweep.n_moments} snapshots at s -> 0, {s.sweep.n_shifts} shifts)" if s.sweep.n_moments else ""))
    if not ok or not s.passive:
        lines.append("  warning: a check failed; do not trust these numbers (refine the mesh, or report it)")
    lines += [f"  warning: {warning}" for warning in s.warnings]
    return "\n".join(lines)


def _error_bar(estimate) -> str:
    """" ± Y" for a quantity with an error estimate (a Bracket or Richardson's), "" without."""
    return "" if estimate is None else f" ± {estimate.error_ohm:.2g}"

