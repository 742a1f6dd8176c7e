"""Can coarser meshes give a Gmsh cell's error bar, as subdivisions give an image's?

    python benchmarks/mesh_error_bar.py

The single spot of specs/single_spot.toml without its gap (a = 5 µm, b = 50 µm, L = 100 µm,
DC only), at mesh.refine 4, 2 and 1 (the default), P2 and P1, against the axisymmetric
reference (tests/axisymmetric.py, converged to 3e-7 between n = 160 and 320). From the three
values: the observed order, Richardson's extrapolation as image/error_bar.py makes it, and
whether its error bar (1.25 |R_ext - R|) holds the reference. Issue 34 asks which estimate
brackets reliably and cheaply; this is the first candidate measured.
"""

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from axisymmetric import flux_tube_admittance  # noqa: E402

from constriction import run, spec_from_dict  # noqa: E402

SPOT = {"cell": {"shape": "cylinder", "radius_um": 50.0, "thickness_um": 100.0},
        "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}],
        "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
        "sweep": {"kind": "dc"}}
REFINES = (4.0, 2.0, 1.0)


def main():
    reference = 1 / flux_tube_admittance(np.array([0.0]), 5e-6, 50e-6, 100e-6, 0.1, 10.0, n=320)[0].real
    print(f"axisymmetric reference R_dc = {reference:.7e} ohm")
    print("| order | refine | elements | R_dc / ohm | error | seconds |")
    print("|---|---|---|---|---|---|")
    for order in (2, 1):
        values = []
        for refine in REFINES:
            spec = spec_from_dict({**SPOT, "mesh": {"size_um": 10.0, "refine": refine, "order": order}})
            t0 = time.perf_counter()
            summary = run(spec, progress=False).summary
            values.append(summary.R_dc_ohm)
            print(f"| P{order} | {refine:g} | {summary.elements:,} | {values[-1]:.6e} | "
                  f"{100 * (values[-1] / reference - 1):+.3f} % | {time.perf_counter() - t0:.1f} |", flush=True)
        d1, d2 = values[1] - values[0], values[2] - values[1]
        order_seen = math.log2(d1 / d2) if d1 * d2 > 0 else math.nan
        extrapolated = values[2] + d2 / (2**order_seen - 1)
        bar = 1.25 * abs(extrapolated - values[2])
        print(f"P{order}: observed order {order_seen:.2f}, extrapolated {100 * (extrapolated / reference - 1):+.3f} %, "
              f"error bar {100 * bar / reference:.3f} % against a real error of "
              f"{100 * (values[2] / reference - 1):+.3f} %: {'holds' if bar >= abs(values[2] - reference) else 'MISSES'}")


if __name__ == "__main__":
    main()
