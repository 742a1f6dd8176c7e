"""Porous images: seeded porespy blobs of electrolyte (1 S/m, eps_r 10) in an insulating
matrix (eps_r 1) under a metal cap, over conducting fractions and sizes, run end to end
(1 Hz - 1 MHz, 4 points per decade, no error estimate) beside PoreSpy's tortuosity_fd on
the same blobs. Per case: the DC solve's CG iterations, every CG solve of the sweep
(iterations, the largest against the DC solve's; the seconds of a snapshot's solves, x_k
at s -> 0 or half a shift, against the DC solve's), the sweep's snapshots at s -> 0 and
shifts, the stages' seconds, the whole run against its DC stage, the peak memory, and a
DC-only run (read, assemble, R_dc, the tortuosity factor) beside PoreSpy's time and value;
with --error-bar, the DC-only run's default error bar (the brackets, image/bounds.py) and
the one asked for by --error-estimate (the brackets and Richardson's from the 2x level),
each against that run's DC stage. Printed as a Markdown table.

    python benchmarks/porous.py [--sizes 64,128] [--fractions 0.15,0.2,0.3,0.5] [--no-porespy] [--error-bar]

Each case runs in its own process (its peak memory is its own). A fraction whose seed 0
does not percolate takes the next seed that does. Needs porespy (pip install -e ".[peers]").
"""

import argparse
import json
import logging
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

SWEEP = {"f_min_Hz": 1.0, "f_max_Hz": 1e6, "points_per_decade": 4}
MAX_SEEDS = 20


def blobs(n: int, fraction: float, seed: int) -> np.ndarray:
    import porespy as ps
    return ps.generators.blobs(shape=[n, n, n], porosity=fraction, blobiness=1.5, seed=seed)


def image_spec(conducting: np.ndarray, folder: Path):
    """The blobs (axes x, y, z; z the current's) under one metal layer, as an image spec."""
    from constriction import spec_from_dict
    n = conducting.shape[0]
    image = np.concatenate([np.where(conducting, 0, 1), np.full((n, n, 1), 2)], axis=2).astype(np.uint8)
    np.save(folder / "porous.npy", image.transpose(2, 1, 0))  # files are indexed z, y, x
    return spec_from_dict({"image": {"path": str(folder / "porous.npy"), "voxel_um": 1.0,
                                     "labels": {"0": "electrolyte", "1": "matrix", "2": "sodium"}},
                           "phases": {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": 1.0, "eps_r": 10.0},
                                      "matrix": {"kind": "insulator", "eps_r": 1.0}, "sodium": {"kind": "metal"}},
                           "sweep": SWEEP}, name="porous")


class SolverLines(logging.Handler):
    """The CG lines of constriction's solver, split into those before the sweep and in it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.before, self.sweep, self.in_sweep = [], [], False

    def emit(self, record):
        found = re.match(r"CG on (\d+) unknowns: (\d+) iterations, ([\d.]+) s", record.getMessage())
        if found:
            (self.sweep if self.in_sweep else self.before).append(
                (int(found[1]), int(found[2]), float(found[3])))


def one(n: int, fraction: float, with_porespy: bool, with_error_bar: bool = False) -> dict:
    """One case in this process."""
    from constriction import pipeline
    from constriction.image.voxels import GridError
    from constriction.spec import SpecError
    lines = SolverLines()
    logger = logging.getLogger("constriction.solve.linalg")
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # porespy gives the root logger a handler that would print every line
    reduce = pipeline.reduce

    def marked(*args, **kwargs):  # the sweep's solves from here on
        lines.in_sweep = True
        return reduce(*args, **kwargs)
    pipeline.reduce = marked
    for seed in range(MAX_SEEDS):
        conducting = blobs(n, fraction, seed)
        with tempfile.TemporaryDirectory() as tmp:
            spec = image_spec(conducting, Path(tmp))
            t0 = time.perf_counter()
            try:
                result = pipeline.run(spec, progress=False, cpe_fit=False, error_estimate="never")
            except (SpecError, GridError, ValueError) as err:
                if "does not conduct" in str(err) or "percolat" in str(err):
                    lines.before.clear()
                    continue  # this seed's blobs do not join the electrodes
                raise
            whole = time.perf_counter() - t0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # the whole run's, before the others
            lines.in_sweep, sweep_lines = False, list(lines.sweep)
            t0 = time.perf_counter()  # what PoreSpy's tortuosity_fd computes: read, assemble, solve
            pipeline.run(replace(spec, sweep=replace(spec.sweep, kind="dc")), progress=False, error_estimate="never")
            dc_only = time.perf_counter() - t0
            if with_error_bar:  # the DC-only run again, with its default error bar, then with Richardson's too
                dc_spec = replace(spec, sweep=replace(spec.sweep, kind="dc"))
                bracketed = pipeline.run(dc_spec, progress=False).summary
                bar = pipeline.run(dc_spec, progress=False, error_estimate="always").summary
        break
    else:
        return {"n": n, "fraction": fraction, "refused": True}
    s = result.summary
    dc_iterations = lines.before[0][1]
    out = {"n": n, "fraction": fraction, "seed": seed, "unknowns": s.dofs, "dc_iterations": dc_iterations,
           "dc_solve_s": lines.before[0][2], "sweep_iterations": [k for _, k, _ in sweep_lines],
           "sweep_solve_s": [t for _, _, t in sweep_lines], "moments": s.sweep.n_moments,
           "shifts": s.sweep.n_shifts, "error": s.sweep.estimated_error, "seconds": s.seconds,
           "whole_s": whole, "dc_only_s": dc_only, "mismatch": s.conservation.worst, "tortuosity": s.transport.tortuosity_factor,
           "peak_GiB": peak}
    if with_error_bar:
        estimate, bracket = bar.discretisation.R_dc, bracketed.discretisation.R_dc_bracket
        out |= {"bar_s": bar.seconds["error_estimate"], "bar_dc_s": bar.seconds["dc"],
                "bar": None if estimate is None else {"levels": estimate.subdivisions, "R": bar.R_dc_ohm,
                                                      "error": estimate.error_ohm},
                "bar_note": bar.discretisation.note, "bracket_s": bracketed.seconds["error_estimate"],
                "bracket_dc_s": bracketed.seconds["dc"], "R": bracketed.R_dc_ohm,
                "bracket": None if bracket is None else (bracket.lower_ohm, bracket.upper_ohm)}
    if with_porespy:
        import porespy as ps
        t0 = time.perf_counter()
        try:
            theirs = float(ps.simulations.tortuosity_fd(conducting, axis=2).tortuosity)
        except Exception as err:  # PoreSpy's own solver can give up (128³ at 15 %: "failed to converge")
            theirs = f"failed: {err}"
        out |= {"porespy_s": time.perf_counter() - t0, "porespy_tortuosity": theirs}
    return out


def row(r: dict) -> str:
    if r.get("refused"):
        return f"| {r['n']}³ | {r['fraction']:.0%} | no seed below {MAX_SEEDS} percolates | |||||||||"
    sweep_its = r["sweep_iterations"]
    dc_stage = r["seconds"]["dc"]
    porespy = "" if "porespy_s" not in r else f"{r['porespy_s']:.1f} s, " + (
        f"τ {r['porespy_tortuosity']:.3f}" if isinstance(r["porespy_tortuosity"], float) else r["porespy_tortuosity"])
    return (f"| {r['n']}³ | {r['fraction']:.0%} (seed {r['seed']}) | {r['unknowns']:,} | {r['dc_iterations']} "
            f"| {', '.join(map(str, sweep_its))} | {max(sweep_its) / r['dc_iterations']:.2f} "
            f"| {sum(r['sweep_solve_s']) / (r['moments'] + 2 * r['shifts']) / r['dc_solve_s']:.1f} "
            f"| {r['moments']} + {r['shifts']} | {dc_stage:.1f} s | {r['seconds']['sweep']:.1f} s "
            f"| {r['whole_s']:.1f} s ({r['whole_s'] / dc_stage:.1f}×) | {r['mismatch']:.0e} "
            f"| {r['dc_only_s']:.1f} s, τ {r['tortuosity']:.3f} | {porespy} | {r['peak_GiB']:.2f} GiB |"
            + ("" if "bar_s" not in r else f" {_bar(r)} |"))


def _bar(r: dict) -> str:
    """The default error bar (the brackets) and --error-estimate's (brackets and Richardson),
    each against its run's DC stage, with the bracket and Richardson's bar as fractions of R."""
    bracket = "none" if r["bracket"] is None else f"[{r['bracket'][0] / r['R'] - 1:+.1%}, {r['bracket'][1] / r['R'] - 1:+.1%}]"
    richardson = ("not computed: " + r["bar_note"] if r["bar"] is None else
                  f"levels {', '.join(map(str, r['bar']['levels']))}; ± {r['bar']['error'] / r['bar']['R']:.1%}")
    return (f"{r['bracket_s']:.1f} s / {r['bracket_dc_s']:.1f} s = {r['bracket_s'] / r['bracket_dc_s']:.1f}× {bracket} "
            f"| {r['bar_s']:.1f} s / {r['bar_dc_s']:.1f} s = {r['bar_s'] / r['bar_dc_s']:.1f}× ({richardson})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128")
    parser.add_argument("--fractions", default="0.15,0.2,0.3,0.5")
    parser.add_argument("--no-porespy", action="store_true", help="skip PoreSpy's tortuosity_fd")
    parser.add_argument("--error-bar", action="store_true",
                        help="also time the DC-only run's error bars (default, and --error-estimate's) against its DC stage")
    parser.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], not args.no_porespy, args.error_bar)))
        return
    print("| image | conducting | unknowns | DC its | sweep solves' its | largest / DC | a snapshot's solves / DC solve "
          "| s→0 + shifts "
          "| DC stage | sweep | whole run (/ DC stage) | in = out | ours, DC only (`--dc`) | PoreSpy tortuosity_fd | peak |"
          + (" default error bar (brackets) / DC stage [R_lower, R_upper] | --error-estimate (brackets + Richardson) / DC stage |"
             if args.error_bar else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if args.error_bar else ""))
    for n in map(int, args.sizes.split(",")):
        for fraction in map(float, args.fractions.split(",")):
            command = [sys.executable, __file__, "--one", str(n), str(fraction)] + \
                      (["--no-porespy"] if args.no_porespy else []) + (["--error-bar"] if args.error_bar else [])
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                print(f"| {n}³ | {fraction:.0%} | failed: {done.stderr.strip().splitlines()[-1]} |")
                continue
            print(row(json.loads(done.stdout.strip().splitlines()[-1])), flush=True)


if __name__ == "__main__":
    main()
