"""`constriction compare` and `constriction fit`: measured spectra on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .measured import MeasurementError, kramers_kronig, read_spectrum
from .spectrum import Spectrum

UM2_PER_CM2 = 1e8


def measured_command(args) -> int:
    try:
        if args.area_cm2 is not None and not args.area_cm2 > 0:
            raise ValueError(f"--area-cm2 must be > 0, got {args.area_cm2:g}")
        measured = read_spectrum(args.measured)
        return _compare(args, measured) if args.command == "compare" else _fit(args, measured)
    except (MeasurementError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _compare(args, measured: Spectrum) -> int:
    from .compare import compare, write_comparison
    from .plot import kramers_kronig as kk_plot
    summary_path = args.simulated / "summary.json"
    if not summary_path.is_file():
        raise ValueError(f"{args.simulated}: not a result folder (no summary.json)")
    summary = json.loads(summary_path.read_text())
    simulated = Spectrum.from_csv(args.simulated / "spectrum.csv")
    sim_area = summary["area_um2"] / UM2_PER_CM2
    comparison = compare(measured, args.area_cm2 or sim_area, simulated, sim_area)
    out = args.out or args.simulated / f"compare_{args.measured.stem}"
    paths = write_comparison(comparison, out)
    kk = kramers_kronig(measured)
    paths["kramers-kronig"] = out / "kramers_kronig.png"
    kk_plot(kk, paths["kramers-kronig"])
    print(f"{args.measured.name}: {len(measured.frequency_Hz)} points, KK max residual "
          f"{100 * kk.max_residual:.2g} %, rms residual vs simulation {100 * comparison.rms_residual:.3g} %")
    for what, path in paths.items():
        print(f"{what:>16}: {path}")
    return 0


def _fit(args, measured: Spectrum) -> int:
    from .fit import fit_morphology
    from .plot import comparison as comparison_plot, consistent_region
    from .compare import Comparison
    from .table import open_table
    if not args.table.is_file():
        raise ValueError(f"{args.table}: no such table")
    fit = fit_morphology(measured, args.area_cm2, open_table(args.table), noise=args.noise,
                         gb_apex_Hz=args.gb_apex_Hz)
    out = args.out or Path("results") / f"fit_{args.measured.stem}"
    out.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out / "fit.json", "region": out / "consistent_region.png",
             "best fit": out / "best_fit.png"}
    tmp = out / ".fit.json.tmp"
    tmp.write_text(json.dumps(fit.summary(), indent=1))
    tmp.replace(paths["summary"])
    consistent_region(fit, paths["region"])
    residual = (fit.measured.Z_ohm - fit.fitted.Z_ohm) / abs(fit.fitted.Z_ohm)
    comparison_plot(Comparison(fit.measured, fit.fitted, fit.fitted.frequency_Hz, residual), paths["best fit"],
                    title="measured vs best-fitting morphology")
    s = fit.summary()
    print(f"best: {', '.join(f'{k} = {v:.4g}' for k, v in s['best'].items())}")
    print(f"{s['consistent_points']} of {s['grid_points']} table points consistent with noise "
          f"{100 * s['noise']:.2g} %: " + ", ".join(f"{k} {lo:.3g}..{hi:.3g}"
                                                     for k, (lo, hi) in s["consistent_ranges"].items()))
    for what, path in paths.items():
        print(f"{what:>10}: {path}")
    return 0
