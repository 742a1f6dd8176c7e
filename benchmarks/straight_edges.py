"""Straight contact edges graded by node moves (geometry/rims.py), on an 8 µm pixel square.

    python benchmarks/straight_edges.py

The pixel square of tests/validation/test_accuracy.py (docs/REFERENCE.md, "A square
contact": R_dc in [708,054.5, 708,233.1] ohm), DC only, P2, at an edge size of pixel / 10
(0.8 µm, the default until it became the map's area / outline / 16 = 0.125 µm) and finer:
the P2 R_dc with the edges graded (today) and with the same elements where Gmsh placed them,
against the middle of that bracket (+- 0.013 %), the tetrahedra, and the time of the whole
run (no error bar).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mesh_error_bar import ELECTROLYTE, MORPHOLOGIES  # noqa: E402

import constriction.geometry.cell as geometry  # noqa: E402
from constriction import run, spec_from_dict  # noqa: E402

SQUARE = {**MORPHOLOGIES["pixel-map square"], "materials": ELECTROLYTE, "sweep": {"kind": "dc"}}
BRACKET_OHM = (708_054.5, 708_233.1)  # docs/REFERENCE.md
EDGE_SIZES_UM = (0.8, 0.4, 0.2, 0.1)


def main():
    middle = sum(BRACKET_OHM) / 2
    graded = geometry.graded_coordinates
    print("| edge size | tetrahedra | graded | time | as Gmsh placed them |")
    print("|---|---|---|---|---|")
    for edge in EDGE_SIZES_UM:
        spec = spec_from_dict({**SQUARE, "mesh": {"edge_size_um": edge}})
        t0 = time.perf_counter()
        summary = run(spec, progress=False, error_estimate="never").summary
        seconds = time.perf_counter() - t0
        geometry.graded_coordinates = lambda tags, xyz, *args: xyz
        try:
            as_meshed = run(spec, progress=False, error_estimate="never").summary.R_dc_ohm
        finally:
            geometry.graded_coordinates = graded
        print(f"| {edge:g} µm | {summary.elements:,} | {100 * (summary.R_dc_ohm / middle - 1):+.3f} % | "
              f"{seconds:.1f} s | {100 * (as_meshed / middle - 1):+.3f} % |", flush=True)


if __name__ == "__main__":
    main()
