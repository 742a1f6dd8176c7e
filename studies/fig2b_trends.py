"""The four trends of thesis Fig. 2b (after Eckhardt et al. 2022), computed.

One contact spot (or several) under a gap of height h, on a 100 x 100 x 100 µm cell of
electrolyte (sigma 0.1 S/m, eps_r 10). Four panels, each varying one thing:

    contact area      one centred spot of shrinking radius
    spot count        N = 1, 4, 9, 16 spots on a square grid at the same contact area
    electrode offset  one spot moved away from the cell centre
    pore depth        the gap height h under the metal

For every case:
    R_cstr   = R_dc - R_bulk (ohm): what the contact morphology adds to the full-face slab
    C_cstr   = capacitance of the constriction arc (F), apex method
    tau_cstr = R_arc C_cstr (s), the arc's relaxation time
each plotted relative to the first point of its panel, as Fig. 2b does.

    python studies/fig2b_trends.py [--quick] [--out results/fig2b]

--quick uses P1 elements on a coarse mesh (about 2 min on 2 cores; default P2, ~10 min).
Writes trends.csv and fig2b_trends.png to --out.
"""

import argparse
import csv

from tqdm import tqdm

from constriction import run, spec_from_dict
from constriction.io.folders import check_folder, write_folder
from constriction.analysis.plot import save, trends

SIDE, THICKNESS = 100.0, 100.0  # µm
BASE_RADIUS, BASE_GAP = 10.0, 0.1  # µm: the spot and gap every panel starts from
# A thin gap keeps the constriction arc (tau ~ R_cstr eps0 A / h) well apart from the
# electrolyte's own arc (eps0 eps_r / sigma = 0.9 ns), the condition Fig. 2b assumes.


def cell(contacts, gap_um=BASE_GAP, quick=False):
    """A spec dict: box cell, the given spots, a gap elsewhere under the metal."""
    return {
        "cell": {"shape": "box", "side_um": SIDE, "thickness_um": THICKNESS},
        "contacts": [{"x_um": x, "y_um": y, "radius_um": r} for x, y, r in contacts],
        "gap": {"height_um": gap_um, "eps_r": 1.0},
        "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
        "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e10, "points_per_decade": 10},
        "mesh": {"order": 1, "size_um": 12.0} if quick else {"order": 2, "size_um": 8.0},
    }


def grid(n):
    """n x n spots on a square grid over the face, at the contact area of one base spot."""
    period = SIDE / n
    centres = [(-SIDE / 2 + period * (i + 0.5)) for i in range(n)]
    return [(x, y, BASE_RADIUS / n) for x in centres for y in centres]


def panels(quick):
    """(panel title, x label, [(x value, spec dict)])."""
    return [
        ("contact area (one spot)", "contact fraction",
         [(3.14159 * r**2 / SIDE**2, cell([(0, 0, r)], quick=quick)) for r in (20, 14, 10, 7, 5)]),
        ("spot count at equal contact area", "number of spots N",
         [(n * n, cell(grid(n), quick=quick)) for n in (1, 2, 3, 4)]),
        ("electrode (spot) offset", "offset from the cell centre / µm",
         [(x, cell([(x, 0, BASE_RADIUS)], quick=quick)) for x in (0, 10, 20, 30)]),
        ("pore depth", "gap height δh / µm",
         [(h, cell([(0, 0, BASE_RADIUS)], gap_um=h, quick=quick)) for h in (0.05, 0.1, 0.3, 1.0)]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="P1 on a coarse mesh")
    parser.add_argument("--out", default="results/fig2b")
    args = parser.parse_args()
    written = ("trends.csv", "fig2b_trends.png")
    out = check_folder(args.out, "fig2b", lambda name: name in written)  # before computing

    rows, drawn = [], []
    todo = panels(args.quick)
    bar = tqdm(total=sum(len(cases) for *_, cases in todo), desc="fig2b cases", unit="case")
    for title, x_label, cases in todo:
        xs, series = [], {"R_cstr": [], "C_cstr": [], "tau_cstr": []}
        for x, data in cases:
            summary = run(spec_from_dict(data, name=f"{title} {x:g}"), progress=False, cpe_fit=False).summary
            c = summary.constriction
            no_arc = c.arc is None  # merged with the bulk arc
            row = {"panel": title, "x": x, "R_dc_ohm": summary.R_dc_ohm, "R_cstr_ohm": c.R_cstr_ohm,
                   "C_cstr_F": float("nan") if no_arc else c.arc.C_cstr_F, "tau_cstr_s": float("nan") if no_arc else c.arc.tau_cstr_s}
            rows.append(row)
            xs.append(x)
            for key, name in (("R_cstr_ohm", "R_cstr"), ("C_cstr_F", "C_cstr"), ("tau_cstr_s", "tau_cstr")):
                series[name].append(row[key])
            bar.update()
        drawn.append((title, x_label, xs, series))
    bar.close()

    def fill(tmp):
        with open(tmp / "trends.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        save(trends(drawn, title="Constriction trends (cf. thesis Fig. 2b)"), tmp / "fig2b_trends.png")

    write_folder(out, "fig2b", lambda name: name in written, fill)
    print(f"table: {out / 'trends.csv'}\nplot:  {out / 'fig2b_trends.png'}")


if __name__ == "__main__":
    main()
