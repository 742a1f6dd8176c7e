"""What a mesh to a tolerance costs: `[mesh] tolerance = 1e-3` against today's fixed grading.

    python benchmarks/adapt.py [--tolerance 1e-3] [--only NAME]
    python benchmarks/adapt.py --others


On issue 34's five morphologies (mesh_error_bar.py's, DC only): the default run (the spec's
grading, its default error bar: a constant current in each tetrahedron) and the adaptive run
(geometry/adapt.py: meshes until R_dc's bracket with a linear current is within the
tolerance). For each: the time of the whole run, the tetrahedra, the bracket; for the
adaptive run every mesh it solved, and where the default run's value lies against the
adapted bracket (its real error, within the adapted bracket's width). --others: the rest of
the Gmsh morphologies (layouts, a pixel L, a void, Voronoi grains (P1), a mirrored cell, a
probe), each at a tolerance that takes more than its default mesh: the meshes and widths.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mesh_error_bar import ELECTROLYTE, MORPHOLOGIES  # noqa: E402

from constriction import run, spec_from_dict  # noqa: E402

BOX = {"shape": "box", "side_um": 20.0, "thickness_um": 20.0}
SPOT = [{"x_um": 0.0, "y_um": 0.0, "radius_um": 4.0}]
OTHERS = {  # name: (tables, tolerance)
    "square layout": ({"cell": {"shape": "box", "side_um": 40.0, "thickness_um": 30.0}, "gap": {"height_um": 0.5},
                       "layout": {"kind": "square", "period_um": 20.0, "radius_um": 3.0}}, 2e-3),
    "hex layout": ({"cell": {"shape": "box", "side_um": 40.0, "thickness_um": 30.0},
                    "layout": {"kind": "hex", "period_um": 20.0, "radius_um": 3.0}}, 1e-3),
    "pixel-map L": ({"cell": BOX, "layout": {"kind": "image", "pixels": [[1, 1], [1, 0]], "pixel_um": 4.0},
                     "gap": {"height_um": 0.5}}, 1e-3),
    "void": ({"cell": BOX, "contacts": SPOT,
              "voids": [{"x_um": 5.0, "y_um": 0.0, "radius_um": 2.0, "height_um": 1.0, "depth_um": 3.0}]}, 5e-4),
    "Voronoi grains (P1)": ({"cell": BOX, "contacts": SPOT, "mesh": {"order": 1},
                             "grains": {"kind": "voronoi", "size_um": 8.0, "model": "interface", "seed": 3},
                             "materials": {**ELECTROLYTE, "grain_boundary": {"sigma_S_per_m": 1e-3, "eps_r": 20.0,
                                                                             "thickness_um": 0.01}}}, 0.02),
    "mirrored cell": ({"cell": {**BOX, "counter": "mirror"}, "contacts": SPOT, "gap": {"height_um": 0.5}}, 2e-3),
    "probe": ({"cell": BOX, "contacts": SPOT,
               "probes": [{"name": "mid", "x_um": 3.0, "y_um": -2.0, "depth_um": 10.0}]}, 5e-4),
}


def others():
    """Every other morphology adapts: its meshes, their widths, warnings, the whole run's time."""
    for name, (tables, tolerance) in OTHERS.items():
        data = {"materials": ELECTROLYTE, **tables, "sweep": {"kind": "dc"}}
        data["mesh"] = {"size_um": 5.0, **data.get("mesh", {}), "tolerance": tolerance}
        t0 = time.perf_counter()
        summary = run(spec_from_dict(data), progress=False).summary
        steps = summary.discretisation.mesh_steps
        print(f"| {name} | {tolerance:g} | {len(steps)} | {', '.join(f'{s.elements:,}' for s in steps)} | "
              f"{', '.join(f'{100 * s.width:.3g} %' for s in steps)} | {len(summary.warnings)} | "
              f"{time.perf_counter() - t0:.1f} s |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--only", default=None)
    parser.add_argument("--others", action="store_true")
    args = parser.parse_args()
    if args.others:
        print("| morphology | tolerance | meshes | tetrahedra | widths | warnings | time |\n|---|---|---|---|---|---|---|")
        return others()
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
