"""Worked example: which contact morphologies explain the thesis' poor-contact spectrum?

Na | NZSP0.4 at 25 °C under 1 N (thesis L670): a grain-boundary arc at 1.08 MHz with
4 nF/cm², an interface arc at 88 kHz with 34 nF/cm² and R_int = 53 Ω cm², on a 2 mm pellet
(bulk 0.2 cm / 14 mS/cm = 14.3 Ω cm²). We rebuild that spectrum from its equivalent
circuit (1 % noise), then fit it with the lookup table of studies/thesis_interface.toml
(square arrays of contact spots with a gap around them) and show every morphology that
explains it within the noise.

    python studies/thesis_interface.py [--workers 2] [--out results/thesis_interface]

The study (20 cases, a few minutes on 2 cores) is run once and reused.

What it finds (2026-11-23): the spectrum is fitted within the noise, and a whole family
of morphologies explains it, from 0.8 µm spots every 160 µm over a 17 nm gap to 58 µm
spots every 1.4 mm over a 2 nm gap: fewer, smaller contacts and wider gaps trade against
more, larger contacts and narrower gaps along one valley of the misfit (thesis L265).
The valley runs on past the table's smallest a/p: extend the study to follow it.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from constriction.parametric.fit import fit_morphology
from constriction.analysis.plot import comparison, consistent_region, save
from constriction.analysis.compare import Comparison
from constriction.analysis.spectrum import Spectrum
from constriction.io.folders import check_folder, mark, write_text
from constriction import load_study
from constriction.parametric.study import run_study
from constriction.parametric.table import build_table

HERE = Path(__file__).parent
AREA_CM2 = 1.0  # the spectrum is built per cm²


def thesis_spectrum(f, noise=0.01, seed=0):
    """R_bulk - (R_gb || C_gb) - (R_int || C_int), ohm cm², from the thesis numbers."""
    def arc(f_apex, C):
        R = 1 / (2 * np.pi * f_apex * C)
        return R / (1 + 1j * f / f_apex)
    z = 0.2 / 0.014 + arc(1.08e6, 4e-9) + 53.0 / (1 + 2j * np.pi * f * 53.0 * 34e-9)
    rng = np.random.default_rng(seed)
    return z * (1 + noise * rng.standard_normal(f.size) + 1j * noise * rng.standard_normal(f.size))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("results/thesis_interface"))
    args = parser.parse_args()

    written = ("study", "fit.json", "consistent_region.png", "best_fit.png")
    out = check_folder(args.out, "thesis_interface", lambda name: name in written)  # before computing
    out.mkdir(parents=True, exist_ok=True)
    mark(out, "thesis_interface")
    study = load_study(HERE / "thesis_interface.toml")
    table = build_table(run_study(study, out / "study", workers=args.workers))
    f = np.logspace(0, 7, 50)
    measured = Spectrum(f, thesis_spectrum(f) / AREA_CM2)
    # the grain-boundary arc is the material's: at high frequency, above the constriction's
    fit = fit_morphology(measured, AREA_CM2, table, noise=0.01, gb_apex_Hz=(3e5, 1e7))

    summary = fit.summary()
    best = summary["best"]
    period_um = 100.0 * best["scale"]
    print(f"best: spot radius / period {best['radius_over_period']:.3g}, gap eps_r {best['gap_eps_r']:.3g} "
          f"(gas gap {500 / best['gap_eps_r']:.3g} nm), period {period_um:.3g} µm, "
          f"R_s {best['R_s_ohm_cm2']:.3g} Ω cm², GB arc {best['R_gb_ohm_cm2']:.3g} Ω cm² at "
          f"{1 / (2 * np.pi * best['tau_gb_s']):.3g} Hz" if best["tau_gb_s"] else "")
    print(f"{summary['consistent_points']} of {summary['grid_points']} morphologies consistent with 1 % noise:")
    for point in fit.consistent.where(fit.consistent, drop=True).stack(p=fit.consistent.dims)["p"].values:
        at = dict(zip(fit.consistent.dims, point))
        if not bool(fit.consistent.sel(at)):
            continue
        period = 100.0 * float(fit.scale.sel(at))
        print(f"  spots of radius {at['radius_over_period'] * period:5.2f} µm every {period:5.0f} µm, "
              f"gas gap {500 / at['gap_eps_r']:5.1f} nm")
    write_text(out / "fit.json", json.dumps(summary, indent=1))
    save(consistent_region(fit, title="morphologies explaining the thesis' 1 N spectrum (L670)"),
         out / "consistent_region.png")
    residual = (fit.measured.Z_ohm - fit.fitted.Z_ohm) / np.abs(fit.fitted.Z_ohm)
    save(comparison(Comparison(fit.measured, fit.fitted, f, residual),
                    title="thesis spectrum (1 N) vs the best-fitting morphology"), out / "best_fit.png")
    print(f"written: {out / 'fit.json'}, {out / 'consistent_region.png'}, {out / 'best_fit.png'}")


if __name__ == "__main__":
    main()
