"""Default runs of pixel maps: the contact-edge size of a map's area / outline / 16 (today)
against the map's pixel / 10 (before 2026-12-07), on three maps under a 0.5 µm gap.

    python benchmarks/pixel_maps.py

Per map and edge size: the tetrahedra, the P2 R_dc against the map's converged bracket (the
error's range: from the bracket's lower end to its upper end), and the time of the whole
default run (1 Hz - 1 GHz sweep, the default error bar). The brackets: the square's from
docs/REFERENCE.md, the plus's from an adaptive run ([mesh] tolerance 3e-4, 374 k
tetrahedra), the 8 x 8 map's from its default mesh with the linear current
(--error-estimate, 420 k tetrahedra; 2026-12-07, this machine).
"""

import time

from constriction import run, spec_from_dict

BLOB = [[1, 0, 1, 0, 1, 1, 0, 1], [1, 1, 0, 1, 1, 0, 1, 1], [1, 1, 1, 1, 0, 1, 1, 0], [0, 0, 1, 1, 1, 0, 1, 1],
        [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 0, 1, 1, 0], [1, 0, 0, 0, 1, 0, 1, 1], [0, 0, 0, 1, 1, 1, 0, 0]]
MAPS = {  # name: (pixels, pixel_um, box side_um, R_dc bracket in ohm)
    "square, 8 µm": ([[1]], 8.0, 24.0, (708_054.5, 708_233.1)),
    "plus of five, 6 µm pixels": ([[0, 1, 0], [1, 1, 1], [0, 1, 0]], 6.0, 30.0, (380_654.6, 380_744.4)),
    "8 x 8 map, 2 µm pixels": (BLOB, 2.0, 30.0, (375_512.4, 375_804.1)),
}


def spec(pixels, pixel_um: float, side_um: float, edge_um: float | None):
    mesh = {"size_um": 10.0} if edge_um is None else {"size_um": 10.0, "edge_size_um": edge_um}
    return spec_from_dict({"cell": {"shape": "box", "side_um": side_um, "thickness_um": 24.0},
                           "layout": {"kind": "image", "pixels": pixels, "pixel_um": pixel_um},
                           "gap": {"height_um": 0.5, "eps_r": 1.0},
                           "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
                           "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 10}, "mesh": mesh})


def main():
    print("| map | edge size | tetrahedra | P2 R_dc against the bracket | whole default run |")
    print("|---|---|---|---|---|")
    for name, (pixels, pixel, side, (lower, upper)) in MAPS.items():
        for edge, label in ((pixel / 10, "pixel / 10 (before)"), (None, "area / outline / 16 (today)")):
            t0 = time.perf_counter()
            summary = run(spec(pixels, pixel, side, edge), progress=False).summary
            seconds = time.perf_counter() - t0
            R = summary.R_dc_ohm
            print(f"| {name} | {label} | {summary.elements:,} | {100 * (R / upper - 1):+.3f} % to "
                  f"{100 * (R / lower - 1):+.3f} % | {seconds:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
