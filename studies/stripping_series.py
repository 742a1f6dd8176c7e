"""Worked case: a sodium electrode loses contact while it is stripped (seeds 001, 004).

On stripping, vacancies in the metal gather into voids at the Na | electrolyte interface;
the contact area shrinks stage by stage, and a three-electrode cell shows the working
electrode's arc growing (seed 004; seed 001 follows the same interface in a symmetric
cell). Here the voids are flat pores in the metal, 0.5 µm high, at seeded places under a
working electrode of radius 25 µm on a pellet of radius 40 µm, growing from 3 to 9 µm in
radius over five stages. Each stage is a spec file; a study with a series axis
(`specs = [...]`, labelled by the charge stripped) runs them all and records

    the two-electrode spectrum (WE against the CE on the whole bottom face), and
    the three-electrode spectrum Z_WE-RE of a reference ring on the WE face, 4 µm
    beside the electrode (a coplanar ring: it reads the interface plus the electrolyte
    out to its radius),

and `constriction study plot` draws the Nyquist series and how R_cstr, C_cstr and
tau_cstr move (series.png). Printed: per stage the contact fraction, R_cstr, C_cstr,
tau_cstr and what the two measurements give at the lowest frequency.

    python studies/stripping_series.py [--quick] [--out results/stripping_series]

--quick: three stages, a coarser mesh (seconds on 2 cores; the default takes about a
minute). The stage specs, the study file and the results go to --out.

The contacts here are ideal, so the arc is the constriction's (the voids' gas capacitance
in series with the current squeezed past them). A charge-transfer interface on every stage
is one table in the study file, merged over each stage's spec:

    [base.interface]
    R_ct_ohm_cm2 = 0.5
    C_dl_F_per_cm2 = 1e-5

Then R_cstr also holds the growth of R_ct / A_contact; the arc read between R_dc and R_inf
(R_inf keeps R_ct: only the gas is shorted) mixes the two relaxations.
"""

import argparse
import math
from pathlib import Path

import numpy as np
import tomli_w

from constriction.cli import main

CELL = {"shape": "cylinder", "radius_um": 40.0, "thickness_um": 40.0}
ELECTRODE_UM = 25.0            # working electrode radius
RING_UM = ELECTRODE_UM + 4.0   # the reference ring on the WE face
PORE_HEIGHT_UM = 0.5
SIGMA, EPS_R = 0.1, 10.0       # S/m, electrolyte


def pore_centres(n: int, largest_um: float, seed: int = 4) -> list[tuple[float, float]]:
    """n seeded places under the electrode, far enough apart that pores of the largest
    radius neither touch each other nor reach the electrode's edge (µm)."""
    rng = np.random.default_rng(seed)
    reach = ELECTRODE_UM - largest_um - 1.0
    centres = []
    while len(centres) < n:
        r, angle = reach * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        point = (r * math.cos(angle), r * math.sin(angle))
        if all(math.dist(point, c) > 2 * largest_um + 1.0 for c in centres):
            centres.append(point)
    return centres


def stage_spec(radius_um: float, centres, mesh: dict) -> dict:
    """The cell at one stage: every void of radius radius_um."""
    return {"cell": CELL, "electrode": {"radius_um": ELECTRODE_UM, "metal_thickness_um": 5.0},
            "pores": [{"x_um": x, "y_um": y, "radius_um": radius_um, "height_um": PORE_HEIGHT_UM, "shape": "flat"}
                      for x, y in centres],
            "probes": [{"name": "RE", "radius_um": RING_UM, "depth_um": 0.0}],
            "materials": {"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": EPS_R}},
            "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 5},
            "mesh": mesh}


def write_stages(out: Path, quick: bool) -> Path:
    """The stage specs and the study file in `out`; returns the study file."""
    radii = [3.0, 6.0, 9.0] if quick else [3.0, 4.5, 6.0, 7.5, 9.0]
    mesh = {"size_um": 8.0, "order": 1, "refine": 2.0} if quick else {"size_um": 6.0, "order": 1}
    centres = pore_centres(3, max(radii))
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for k, r in enumerate(radii):
        files.append(f"stage_{k}.toml")
        (out / files[-1]).write_text(tomli_w.dumps(stage_spec(r, centres, mesh)))
    charge = [round(0.5 * k, 2) for k in range(len(radii))]  # a label: mAh/cm² stripped (illustrative)
    study = {"study": {"name": "stripping", "outputs": ["R_cstr_ohm", "C_cstr_F", "tau_cstr_s", "R_dc_ohm"]},
             "axes": [{"name": "stripped", "specs": files, "values": charge, "unit": "mAh/cm²"}]}
    (out / "stripping.toml").write_text(tomli_w.dumps(study))
    return out / "stripping.toml"


def report(folder: Path, quick: bool) -> None:
    import xarray as xr
    with xr.open_dataset(folder / "results.nc") as ds:
        ds = ds.load()
    area_cm2 = math.pi * (ELECTRODE_UM * 1e-4) ** 2
    radii = [3.0, 6.0, 9.0] if quick else [3.0, 4.5, 6.0, 7.5, 9.0]
    print(f"\n{'stripped':>9} {'contact':>8} {'R_cstr':>10} {'C_cstr':>10} {'tau_cstr':>10} "
          f"{'Z_cell(1 Hz)':>13} {'Z_WE-RE(1 Hz)':>14}")
    for k, label in enumerate(ds["stripped"].values):
        contact = 1 - 3 * radii[k] ** 2 / ELECTRODE_UM**2
        stage = ds.isel(stripped=k)
        print(f"{label:>9.2f} {contact:>8.1%} {float(stage.R_cstr_ohm) * area_cm2:>7.3g} Ωcm² "
              f"{float(stage.C_cstr_F) / area_cm2:>6.3g} F/cm² {float(stage.tau_cstr_s):>8.3g} s "
              f"{float(stage.Z_real_ohm[0]) / 1e3:>9.4g} kΩ {float(stage.Z_WE_RE_real_ohm[0]) / 1e3:>10.4g} kΩ")
    first, last = ds.isel(stripped=0), ds.isel(stripped=-1)
    cell = float(last.Z_real_ohm[0] - first.Z_real_ohm[0])
    three = float(last.Z_WE_RE_real_ohm[0] - first.Z_WE_RE_real_ohm[0])
    print(f"\nFrom the first to the last stage R_cstr grows {float(last.R_cstr_ohm / first.R_cstr_ohm):.2f}-fold and "
          f"the two-electrode reading by {cell:.4g} Ω; the three-electrode reading (WE against the ring) by "
          f"{three:.4g} Ω, {three / cell:.0%} of it: the ring sits in the spreading field of the WE, so part of "
          f"what the lost contact adds lies beyond it.")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three stages on a coarse mesh")
    parser.add_argument("--out", type=Path, default=Path("results/stripping_series"))
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    study_file = write_stages(args.out / "specs", args.quick)
    results = args.out / "study"
    if main(["study", "run", str(study_file), "--out", str(results), "--serial"]) != 0:
        raise SystemExit(2)
    if main(["study", "plot", str(results)]) != 0:
        raise SystemExit(2)
    report(results, args.quick)
