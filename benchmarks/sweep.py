"""Speed of the frequency sweep, as ratios measured in one run.

On a 3D unit cell (square box, one contact spot under a 0.5 µm gap, P1) sized to about
--dofs unknowns, prints:
  - one real factorisation of G + sC per backend,
  - the reduced (fast) sweep of 61 frequencies over 9 decades,
  - the complex-SuperLU reference sweep, measured at a few frequencies and scaled to 61,
  - their ratios, the fast sweep's max relative error at the measured frequencies, and the
    process's peak memory;
then, with --pivoting, one complex factorisation at 1 Hz and at 1 MHz with and without
partial pivoting (docs/DESIGN.md's trap), and with --scaling, time against unknowns with the
fitted exponent.

    python benchmarks/sweep.py --dofs 1e5 --pivoting --scaling 1e4,3e4,1e5,3e5
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np
import scipy.sparse.linalg as spla

from constriction import spec_from_dict
from constriction.geometry.assemble import system_of
from constriction.solve.linalg import available_backends, choose_backend, factorize
from constriction.solve.reduced import reduce
from constriction.solve.direct import driven_solve

F = np.logspace(0, 9, 61)
S_REAL = 2 * np.pi * 1e5  # shift of the timed real factorisations (rad/s)


def unit_cell(refine: float):
    return spec_from_dict({
        "cell": {"shape": "box", "side_um": 50.0, "thickness_um": 50.0},
        "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}],
        "gap": {"height_um": 0.5},
        "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
        "sweep": {"f_min_Hz": F[0], "f_max_Hz": F[-1]},
        "mesh": {"size_um": 5.0, "order": 1, "refine": refine},
    })


def system_with_dofs(target: float):
    """Assemble the unit cell, adjusting `refine` once so the unknowns land near target."""
    refine = 1.0
    for _ in range(4):
        spec = unit_cell(refine)
        _, system = system_of(spec)
        if abs(system.n_dofs / target - 1) < 0.15:
            break
        refine *= (system.n_dofs / target) ** (1 / 2.5)  # graded meshes grow slower than h^-3
    return system


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def peak_memory_MiB() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_factorisations(system) -> dict[str, float]:
    I = system.interior
    A = (system.G + S_REAL * system.C)[I][:, I].tocsr()
    b = np.ones(A.shape[0])
    seconds = {}
    for backend in available_backends():
        solve, t_factor = timed(factorize, A, backend)
        _, t_solve = timed(solve, b)
        seconds[backend] = t_factor + (t_solve if backend == "amg" else 0.0)  # amg: setup + one CG solve
    return seconds


def benchmark(target: float, n_reference: int) -> dict:
    system, t_assemble = timed(system_with_dofs, target)
    n = system.n_dofs
    print(f"\nunit cell: {n} unknowns (P1), assembled in {t_assemble:.1f} s")

    factor = real_factorisations(system)
    best = min(factor, key=factor.get)
    for backend, t in factor.items():
        print(f"  one real factorisation, {backend:8s} {t:8.2f} s" + ("  (CG setup + one solve)" if backend == "amg" else ""))

    model, t_fast = timed(reduce, system, F[0], F[-1], progress=False)
    Z_fast = model.impedance(F)
    auto = choose_backend("auto", False, len(system.interior))
    print(f"  fast sweep (reduced, auto backend = {auto}): {t_fast:.2f} s for {len(F)} frequencies, "
          f"{len(model.shifts_Hz)} shifts, order {model.order}, estimated error {model.estimated_error:.1e}")

    picks = np.linspace(0, len(F) - 1, n_reference).round().astype(int)
    t_ref, errors = [], []
    for i in picks:
        (y, _, _), t = timed(driven_solve, system.pencil(2j * np.pi * F[i]), system.we, system.ce,
                             system.interior, "superlu")
        t_ref.append(t)
        errors.append(abs(Z_fast[i] * y - 1))
    t_reference = np.mean(t_ref) * len(F)
    print(f"  reference sweep (complex SuperLU): {np.mean(t_ref):.2f} s per frequency, measured at "
          f"{n_reference} frequencies ({', '.join(f'{F[i]:.0e}' for i in picks)} Hz), scaled to "
          f"{len(F)}: {t_reference:.0f} s")
    print(f"  ratios: fast sweep / one {best} factorisation (the best backend) = {t_fast / factor[best]:.1f}; "
          f"reference / fast = {t_reference / t_fast:.0f}")
    print(f"  max relative error of the fast sweep at the measured frequencies: {max(errors):.1e}")
    print(f"  peak memory of this process so far: {peak_memory_MiB():.0f} MiB")
    return {"dofs": n, "factor": factor, "fast": t_fast, "reference_per_f": np.mean(t_ref)}


def pivoting(target: float):
    """Complex SuperLU at 1 Hz and 1 MHz, as we factorise and with partial pivoting."""
    system = system_with_dofs(target)
    I = system.interior
    print(f"\npivoting trap, {system.n_dofs} unknowns (P1): one complex factorisation")
    for f in (1.0, 1e6):
        A = (system.G + 2j * np.pi * f * system.C)[I][:, I].tocsc()
        _, t_ours = timed(factorize, A, "superlu")
        _, t_pivot = timed(spla.splu, A, permc_spec="MMD_AT_PLUS_A")
        print(f"  f = {f:7.0e} Hz: METIS + no pivoting {t_ours:6.2f} s; "
              f"SuperLU defaults (partial pivoting) {t_pivot:6.2f} s")


def scaling(targets: list[float]):
    print("\nscaling (P1 unit cell): unknowns, one best real factorisation, fast sweep")
    rows = []
    for target in targets:
        system = system_with_dofs(target)
        factor = real_factorisations(system)
        best = min(factor, key=factor.get)
        _, t_fast = timed(reduce, system, F[0], F[-1], progress=False)
        rows.append((system.n_dofs, factor[best], t_fast))
        print(f"  {system.n_dofs:9d}  {best:8s} {factor[best]:8.2f} s   fast sweep {t_fast:8.2f} s   "
              f"peak {peak_memory_MiB():.0f} MiB", flush=True)
    n, tf, ts = (np.array(c, float) for c in zip(*rows))
    print(f"  fitted exponent t ~ n^p: factorisation p = {np.polyfit(np.log(n), np.log(tf), 1)[0]:.2f}, "
          f"fast sweep p = {np.polyfit(np.log(n), np.log(ts), 1)[0]:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dofs", type=float, default=1e5)
    parser.add_argument("--reference-frequencies", type=int, default=3)
    parser.add_argument("--pivoting", action="store_true")
    parser.add_argument("--pivoting-dofs", type=float, default=2e4)
    parser.add_argument("--scaling", type=lambda s: [float(v) for v in s.split(",")], default=None)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}, backends: {', '.join(available_backends())}")
    benchmark(args.dofs, args.reference_frequencies)
    if args.pivoting:
        pivoting(args.pivoting_dofs)
    if args.scaling:
        scaling(args.scaling)


if __name__ == "__main__":
    main()
