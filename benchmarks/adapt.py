"""What a mesh to a tolerance costs: `[mesh] tolerance = 1e-3` against today's fixed grading.

    python benchmarks/adapt.py [--tolerance 1e-3] [--only NAME]

On issue 34's five morphologies (mesh_error_bar.py's, DC only): the default run (the spec's
grading, its default error bar: a constant current in each tetrahedron) and the adaptive run
(geometry/adapt.py: meshes until R_dc's bracket with a linear current is within the
tolerance). For each: the time of the whole run, the tetrahedra, the bracket; for the
adaptive run every mesh it solved, and where the default run's value lies against the
adapted bracket (its real error, within the adapted bracket's width).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mesh_error_bar import ELECTROLYTE, MORPHOLOGIES  # noqa: E402

from constriction import run, spec_from_dict  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    print(f"tolerance {args.tolerance:g}, DC only; times of whole runs (s)")
    for name, tables in MORPHOLOGIES.items():
        if args.only and args.only != name:
            continue
        base = {**tables, "materials": ELECTROLYTE, "sweep": {"kind": "dc"}}
        t0 = time.perf_counter()
        default = run(spec_from_dict(base), progress=False).summary
        t_default = time.perf_counter() - t0
        t0 = time.perf_counter()
        adapted = run(spec_from_dict({**base, "mesh": {"tolerance": args.tolerance}}), progress=False).summary
        t_adapted = time.perf_counter() - t0
        d, b = adapted.discretisation, adapted.discretisation.R_dc_bracket
        middle = 0.5 * (b.lower_ohm + b.upper_ohm)
        lo, hi = default.discretisation.R_dc_bracket.lower_ohm, default.discretisation.R_dc_bracket.upper_ohm
        print(f"{name}: default {default.elements:,} tetrahedra, {t_default:.1f} s, bracket "
              f"[{100 * (lo / middle - 1):+.3f} %, {100 * (hi / middle - 1):+.3f} %] of the adapted middle")
        print(f"  adapted {adapted.elements:,} tetrahedra, {t_adapted:.1f} s ({t_adapted / t_default:.0f}x), "
              f"{len(d.mesh_steps)} meshes, bracket {100 * d.mesh_steps[-1].width:.3f} % wide, "
              f"{'reached' if d.mesh_steps[-1].width <= args.tolerance else 'NOT reached'}")
        for k, step in enumerate(d.mesh_steps, start=1):
            print(f"    mesh {k}: {step.elements:>9,} tetrahedra  [{step.lower_ohm:.7g}, {step.upper_ohm:.7g}] ohm  "
                  f"{100 * step.width:.3f} %  {step.seconds:.1f} s")
        print(f"  the default P2 value {100 * (default.R_dc_ohm / middle - 1):+.3f} % from the adapted middle "
              f"(+- {50 * d.mesh_steps[-1].width:.3f} %)", flush=True)


if __name__ == "__main__":
    main()
