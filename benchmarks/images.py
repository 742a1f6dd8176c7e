"""Labelled images: time per stage, the whole 61-frequency spectrum, peak memory and the
number of shifts, for synthetic interface images of growing size.

    python benchmarks/images.py [--sizes 64,128,256]

Each size runs in its own process, so its peak resident memory (getrusage) is its own.
The image is studies/synthetic_interface.py's interface scaled with the size (voids of
porosity 0.15 under a partial contact), 2 µm voxels; the sweep is 61 frequencies over
10 decades (1 Hz - 10 GHz, 6 per decade). Printed as a Markdown table.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(n: int, dc_only: bool = False) -> dict:
    """Run the n^3 image in this process and return its numbers; `dc_only`: only what a
    level of the error bar solves (assembly, R_dc, R_inf and the split's reference)."""
    sys.path.insert(0, str(HERE.parent / "studies"))
    import numpy as np
    from synthetic_interface import synthetic_interface

    from constriction import run, spec_from_dict
    scale = n / 48
    image = synthetic_interface((n, n, n), void_radius=3.0 * scale, void_depth=int(12 * scale),
                                patch_size=4.0 * scale, gap=max(1, int(2 * scale)), metal=max(1, int(3 * scale)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "image.npy"
        np.save(path, image)
        del image
        spec = spec_from_dict({"image": {"path": str(path), "voxel_um": 2.0,
                                         "labels": {"0": "electrolyte", "1": "void", "2": "sodium"}},
                               "phases": {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": 0.2,
                                                          "eps_r": 50.0},
                                          "void": {"kind": "gas"}, "sodium": {"kind": "metal"}},
                               "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e10, "points_per_decade": 6}}, name=f"{n}^3")
        t0 = time.perf_counter()
        if dc_only:
            return dc_levels(spec, n, t0)
        result = run(spec, cpe_fit=False, max_memory_GiB=1e6, error_estimate="never")  # the error bar is not timed here
        total = time.perf_counter() - t0
    s = result.summary
    return {"n": n, "voxels": n**3, "unknowns": s.dofs, "seconds": s.seconds, "total_s": total,
            "shifts": s.sweep.n_shifts, "moments": s.sweep.n_moments, "order": s.sweep.order, "error": s.sweep.estimated_error,
            "frequencies": s.sweep.n_frequencies, "R_dc_ohm": s.R_dc_ohm,
            "peak_GiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def dc_levels(spec, n: int, t0: float) -> dict:
    """The DC solves of one error-bar level, as pipeline._image_error_bar does them."""
    from constriction.solve.direct import dc_resistance
    from constriction.image.voxels import image_split
    from constriction.sources import discretise
    system = discretise(spec.at(), progress=False).system
    R_dc = dc_resistance(system)[0]
    dc_resistance(system, short_gaps=True)
    image_split(system.grid, R_dc)
    return {"n": n, "voxels": n**3, "unknowns": system.n_dofs, "total_s": time.perf_counter() - t0,
            "peak_GiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128,256")
    parser.add_argument("--dc-only", action="store_true",
                        help="only the DC solves of an error-bar level (memory.IMAGE_DC_BYTES_PER_VOXEL)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # its progress, AMG setups and CG iterations go to stderr, as they come
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
        logging.getLogger("constriction.solve.linalg").setLevel(logging.DEBUG)  # every size
        print(json.dumps(one(args.one, args.dc_only)))
        return
    rows = []
    for n in (int(v) for v in args.sizes.split(",")):
        done = subprocess.run([sys.executable, __file__, "--one", str(n)] + ["--dc-only"] * args.dc_only,
                              stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            print(f"{n}^3: failed (its stderr above)")
            break
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"{n}^3 done in {r['total_s']:.1f} s", file=sys.stderr, flush=True)
    if args.dc_only:
        print("| image | unknowns | DC solves of one level | peak memory | per voxel |\n|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['n']}³ | {r['unknowns']:,} | {r['total_s']:.1f} s | {r['peak_GiB']:.2f} GiB | "
                  f"{r['peak_GiB'] * 2**30 / r['voxels']:.0f} B |")
        return
    print("| image | unknowns | read + assemble | DC solves | split | sweep (s→0 + shifts, order) | whole run | "
          "peak memory | per voxel |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["seconds"]
        print(f"| {r['n']}³ | {r['unknowns']:,} | {s['mesh_and_assemble']:.1f} s | {s['dc']:.1f} s | "
              f"{s['split']:.1f} s | {s['sweep']:.1f} s ({r.get('moments') or 0} + {r['shifts']}, {r['order']}) | "
              f"{r['total_s']:.1f} s | "
              f"{r['peak_GiB']:.2f} GiB | {r['peak_GiB'] * 2**30 / r['voxels']:.0f} B |")
    if len(rows) >= 2:
        import math
        a, b = rows[-2], rows[-1]
        exponent = math.log(b["total_s"] / a["total_s"]) / math.log(b["voxels"] / a["voxels"])
        print(f"\ntime ~ voxels^{exponent:.2f} between {a['n']}³ and {b['n']}³")


if __name__ == "__main__":
    main()
