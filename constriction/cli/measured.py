"""`constriction compare` and `constriction fit`: measured spectra on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from constriction.io.measured import MeasurementError, kramers_kronig, read_spectrum
from constriction.io.folders import ResultError, check_folder, default_folder, write_folder
from constriction.analysis.spectrum import Spectrum
from constriction.units import UM2_PER_CM2



COMPARE_FILES = ("compare.png", "residuals.csv", "kramers_kronig.png")
FIT_FILES = ("fit.json", "consistent_region.png", "best_fit.png")


def measured_command(args) -> int:
    """compare or fit; every input and the output folder are checked before computing."""
    kind, files = ("compare", COMPARE_FILES) if args.command == "compare" else ("fit", FIT_FILES)
    out = args.out or default_folder(Path("results") / f"{kind}_{args.measured.stem}")
    check_folder(out, kind, lambda name: name in files)
    measured = read_spectrum(args.measured)
    return _compare(args, measured, out) if kind == "compare" else _fit(args, measured, out)


def _compare(args, measured: Spectrum, out: Path) -> int:
    from constriction.analysis.compare import compare
    from constriction.analysis.plot import comparison as comparison_plot, kramers_kronig as kk_plot, save
    from constriction.pipeline import read_result_data
    data = read_result_data(args.simulated, ("nyquist",))
    simulated, sim_area = data["nyquist"], data["summary"].area_um2
    if not sim_area > 0:
        raise ResultError(f"{args.simulated / 'summary.json'}: its electrode area is {sim_area}")
    sim_area /= UM2_PER_CM2
    try:
        comparison = compare(measured, args.area_cm2 or sim_area, simulated, sim_area)
    except ValueError as err:
        raise MeasurementError(args.measured, str(err)) from None
    kk = kramers_kronig(measured)

    def fill(tmp: Path):
        np.savetxt(tmp / "residuals.csv", np.column_stack([comparison.frequency_Hz, comparison.residual.real,
                                                           comparison.residual.imag]),
                   delimiter=",", header="frequency_Hz,residual_real,residual_imag", comments="", fmt="%.8e")
        save(comparison_plot(comparison), tmp / "compare.png")
        save(kk_plot(kk), tmp / "kramers_kronig.png")

    out = write_folder(out, "compare", lambda name: name in COMPARE_FILES, fill)
    print(f"{args.measured.name}: {len(measured.frequency_Hz)} points, KK max residual "
          f"{100 * kk.max_residual:.2g} %, rms residual vs simulation {100 * comparison.rms_residual:.3g} %")
    for what, name in (("plot", "compare.png"), ("residuals", "residuals.csv"),
                       ("kramers-kronig", "kramers_kronig.png")):
        print(f"{what:>16}: {out / name}")
    return 0


def _fit(args, measured: Spectrum, out: Path) -> int:
    from constriction.analysis.compare import Comparison
    from constriction.parametric.fit import fit_morphology
    from constriction.analysis.plot import comparison as comparison_plot, consistent_region, save
    from constriction.parametric.table import open_table
    try:
        table = open_table(args.table)
    except ValueError as err:
        raise MeasurementError(args.table, str(err).removeprefix(f"{args.table}: ")) from None
    try:
        fit = fit_morphology(measured, args.area_cm2, table, noise=args.noise, gb_apex_Hz=args.gb_apex_Hz)
    except ValueError as err:  # the table does not cover the measurement
        raise MeasurementError(args.measured, str(err)) from None
    s = fit.summary()

    def fill(tmp: Path):
        (tmp / "fit.json").write_text(json.dumps(s, indent=1))
        save(consistent_region(fit), tmp / "consistent_region.png")
        residual = (fit.measured.Z_ohm - fit.fitted.Z_ohm) / abs(fit.fitted.Z_ohm)
        save(comparison_plot(Comparison(fit.measured, fit.fitted, fit.fitted.frequency_Hz, residual),
                             title="measured vs best-fitting morphology"), tmp / "best_fit.png")

    out = write_folder(out, "fit", lambda name: name in FIT_FILES, fill)
    band = f"{fit.measured.frequency_Hz.min():.3g}..{fit.measured.frequency_Hz.max():.3g} Hz"
    print(f"{s['points_used']} measured points used ({band}), {s['points_dropped']} dropped outside the "
          f"table's frequencies; noise assumed {100 * s['noise_assumed']:.2g} % ({s['noise_source']})")
    print(f"best: {', '.join(f'{k} = {v:.4g}' for k, v in s['best'].items())}")
    print(f"fit: {s['verdict']}")
    if s["explained"]:
        print(f"{s['consistent_points']} of {s['grid_points']} table points consistent with noise "
              f"{100 * s['noise']:.2g} %: " + ", ".join(f"{k} {lo:.3g}..{hi:.3g}"
                                                         for k, (lo, hi) in s["consistent_ranges"].items()))
    else:
        print("no morphology of the table is consistent with this spectrum")
    for what, name in (("summary", "fit.json"), ("region", "consistent_region.png"), ("best fit", "best_fit.png")):
        print(f"{what:>10}: {out / name}")
    return 0
