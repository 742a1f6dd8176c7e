"""A porous image: seeded porespy blobs of electrolyte (sigma 1 S/m) in an insulating
matrix (eps_r 1) under a metal cap, as a tomogram of electrolyte and pores is. The shifted
systems G + sC mix 1 S/m with s eps0 ~ 1e-8 S/m and islands of electrolyte float in the
insulator: AMG-CG stalls there, and the reduced model's shifts go to a direct solver
(solve/linalg.py). Prints the DC solve, each stage of the reduced sweep and the shift count.

    python benchmarks/porous.py [--n 64] [--fraction 0.17] [--seed 4]

Needs porespy (pip install -e ".[peers]").
"""

import argparse
import time

import numpy as np

from constriction.solve.reduced import reduce
from constriction.solve.direct import dc_resistance
from constriction.units import EPS0
from constriction.image.voxels import ELECTROLYTE, INSULATOR, METAL, assemble_grid


def porous_cell(n: int, fraction: float, seed: int):
    import porespy as ps
    blobs = ps.generators.blobs(shape=[n, n, n], porosity=fraction, blobiness=1.5, seed=seed)
    kind = np.where(blobs, ELECTROLYTE, INSULATOR).astype(np.int8)
    kind = np.concatenate([kind, np.full((n, n, 1), METAL, np.int8)], axis=2)
    sigma = np.where(kind == ELECTROLYTE, 1.0, 0.0)
    eps = np.where(kind == METAL, 0.0, EPS0)
    return assemble_grid(kind, sigma, eps, (1e-6,) * 3)[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--fraction", type=float, default=0.17)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    t = time.perf_counter()
    system = porous_cell(args.n, args.fraction, args.seed)
    print(f"{args.n}^3, {args.fraction:.0%} conducting: {system.n_dofs:,} unknowns, assembled in "
          f"{time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    R = dc_resistance(system)[0]
    print(f"DC solve: R = {R:.6g} ohm in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    model = reduce(system, 1.0, 1e9, progress=True)
    seconds = time.perf_counter() - t
    print(f"reduced model 1 Hz - 1 GHz: {len(model.shifts_Hz)} shifts, order {model.order}, "
          f"estimated error {model.estimated_error:.1e}, {seconds:.0f} s ({seconds / len(model.shifts_Hz):.1f} s "
          f"per shift)")


if __name__ == "__main__":
    main()
