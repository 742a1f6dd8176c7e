"""The reduced sweep of small porous images over bands that reach past their relaxations,
against the frequency-by-frequency sweep: per image and band, the snapshots at s -> 0, the
real shifts (Hz), the model's estimated error and its largest relative error in Z against
the direct sweep (4 frequencies a decade). A row is marked where the error exceeds the
tolerance (1e-6) or ten times the estimate. Printed as a Markdown table.

    python benchmarks/porous_bands.py [--no-condense]

The images are tests/cases.porous_cell's seeded blobs (electrolyte 1 S/m, eps_r 10, in an
insulating matrix, eps_r 1, under a metal cap), 16³-24³: the direct sweep takes seconds.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

IMAGES = [(16, 0.2, 0), (24, 0.2, 0), (24, 0.15, 1), (16, 0.3, 2), (20, 0.25, 1), (24, 0.35, 2), (20, 0.5, 0)]
BANDS = [(1.0, 1e6), (1.0, 1e8), (1e3, 1e9), (1.0, 1e10), (1e5, 1e7)]
TOL = 1e-6


def main():
    from cases import porous_cell
    from constriction.solve.direct import sweep_direct
    from constriction.solve.reduced import reduce
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-condense", action="store_true", help="shifts alone, no snapshots at s -> 0")
    args = parser.parse_args()
    print("| image | band | snapshots + shifts | shifts (Hz) | estimated error | error against the direct sweep | |")
    print("|---|---|---|---|---|---|---|")
    for n, fraction, seed in IMAGES:
        system = porous_cell(n, fraction, seed)[0]
        if system is None:
            continue
        for f_min, f_max in BANDS:
            f = np.logspace(np.log10(f_min), np.log10(f_max), 4 * round(np.log10(f_max / f_min)) + 1)
            t0 = time.perf_counter()
            model = reduce(system, f[0], f[-1], tol=TOL, progress=False, condense=False if args.no_condense else None)
            seconds = time.perf_counter() - t0
            error = float(np.max(np.abs(model.impedance(f) * sweep_direct(system, f, progress=False).Y_S - 1)))
            flag = "**off**" if error > TOL or error > 10 * max(model.estimated_error, 1e-12) else ""
            print(f"| {n}³ {fraction:.0%} (seed {seed}) | {f_min:.0e} - {f_max:.0e} Hz "
                  f"| {model.moments} + {len(model.shifts_Hz)} ({seconds:.1f} s) "
                  f"| {', '.join(f'{s:.3g}' for s in model.shifts_Hz)} | {model.estimated_error:.1e} | {error:.1e} "
                  f"| {flag} |", flush=True)


if __name__ == "__main__":
    main()
