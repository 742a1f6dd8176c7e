"""The `constriction` command.

    constriction run SPEC.toml [--out DIR] [--sweep reduced|direct] [--backend NAME]
    constriction plot RESULT_DIR [--kind all|nyquist|bode|drt|equipotentials|current]
    constriction study run STUDY.toml --out DIR [--workers N | --scheduler ADDRESS | --serial]
    constriction study status DIR
    constriction study plot DIR
    constriction study table DIR --out TABLE.nc
    constriction compare MEASURED SIM_DIR [--area-cm2 A] [--out DIR]
    constriction fit MEASURED --table TABLE.nc --area-cm2 A [--noise X] [--out DIR]

Exit status 2 for a spec or study that cannot be built; then nothing is written.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .linalg import BACKENDS
from .run import PLOTS, SWEEPS, draw_plots
from .spec import SpecError, load_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="constriction",
                                     description="Impedance of 3D metal | solid-electrolyte interfaces.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="mesh, solve and sweep one cell spec")
    run_cmd.add_argument("spec", type=Path, help="TOML spec file (see meshes/)")
    run_cmd.add_argument("--out", type=Path, default=None,
                         help="output folder (default: results/<spec name>)")
    run_cmd.add_argument("--sweep", choices=SWEEPS, default="reduced",
                         help="reduced-order model (default) or the direct reference sweep")
    run_cmd.add_argument("--backend", choices=BACKENDS, default="auto",
                         help="sparse solver for the real solves (DC and reduced-model shifts)")
    plot_cmd = commands.add_parser("plot", help="(re)draw the plots of a result folder")
    plot_cmd.add_argument("result", type=Path, help="folder written by `constriction run`")
    plot_cmd.add_argument("--kind", choices=("all", *PLOTS), default="all")
    _study_parser(commands)
    _measured_parsers(commands)
    args = parser.parse_args(argv)
    if args.command == "study":
        from .study_cli import study_command
        return study_command(args)
    if args.command in ("compare", "fit"):
        from .measured_cli import measured_command
        return measured_command(args)
    return _run(args) if args.command == "run" else _plot(args)


def _measured_parsers(commands):
    compare = commands.add_parser("compare", help="a measured spectrum beside a simulated one")
    compare.add_argument("measured", type=Path, help="instrument file (.mpt, .DTA, .z, .par, .txt, .csv)")
    compare.add_argument("simulated", type=Path, help="folder written by `constriction run`")
    compare.add_argument("--area-cm2", type=float, default=None,
                         help="measured electrode area (default: the simulated one)")
    compare.add_argument("--out", type=Path, default=None, help="default: SIM_DIR/compare_<file>")
    fit = commands.add_parser("fit", help="morphologies consistent with a measured spectrum")
    fit.add_argument("measured", type=Path, help="instrument file")
    fit.add_argument("--table", type=Path, required=True, help="lookup table from `study table`")
    fit.add_argument("--area-cm2", type=float, required=True, help="measured electrode area (cm²)")
    fit.add_argument("--noise", type=float, default=None,
                     help="relative noise of the measurement (default: from the Kramers-Kronig test)")
    fit.add_argument("--gb-apex-Hz", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                     help="where the grain-boundary arc's apex may lie (default: anywhere)")
    fit.add_argument("--out", type=Path, default=None, help="default: results/fit_<file>")


def _study_parser(commands):
    study = commands.add_parser("study", help="parameter studies on Dask, and lookup tables")
    verbs = study.add_subparsers(dest="verb", required=True)
    run_cmd = verbs.add_parser("run", help="run every unfinished case of a study")
    run_cmd.add_argument("study", type=Path, help="study TOML (see studies/)")
    run_cmd.add_argument("--out", type=Path, required=True, help="study folder")
    where = run_cmd.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="local Dask workers (default: cores)")
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
    if not (args.result / "summary.json").is_file():
        print(f"error: {args.result}: not a result folder (no summary.json)", file=sys.stderr)
        return 2
    kinds = tuple(PLOTS) if args.kind == "all" else (args.kind,)
    drawn = draw_plots(args.result, kinds)
    for kind in kinds:
        print(f"{kind:>14}: {drawn.get(kind, 'no data for this plot in the folder')}")
    return 0


def _run(args) -> int:
    from .run import run, write_result

    try:
        spec = load_spec(args.spec)
    except SpecError as err:
        print(f"error: {args.spec}: {err}", file=sys.stderr)
        return 2
    out = args.out or Path("results") / spec.name
    result = run(spec, sweep=args.sweep, backend=args.backend)  # bars only on a terminal
    paths = write_result(result, out)
    s = result.summary
    r_dc = f"{s['R_dc_ohm']:.6g} ohm" if math.isfinite(s["R_dc_ohm"]) else "blocking (no DC path)"
    print(f"{spec.name}: R_dc = {r_dc}, R_inf = {s['R_inf_ohm']:.6g} ohm, {s['dofs']} dofs (P{s['order']})")
    for what, path in paths.items():
        print(f"{what:>20}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
