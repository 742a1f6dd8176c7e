"""Study throughput: cases per minute, serial (one process) vs a 2-worker local Dask
cluster, in one run on the same cases.

    python benchmarks/study.py [--cases 8] [--workers 2]

Each case is a small square-array unit cell (P1, ~3 k unknowns) with its own spot
radius, so no case is a repeat; the cluster's start-up time is included in its rate.
"""

import argparse
import tempfile
import time

from constriction import study_from_dict
from constriction.parametric.study import run_study


def study(n_cases: int, name: str):
    return study_from_dict({
        "study": {"name": name, "outputs": ["R_dc_ohm"]},
        "base": {
            "cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
            "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 4.0}],
            "gap": {"height_um": 0.4},
            "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
            "sweep": {"f_min_Hz": 1e2, "f_max_Hz": 1e10, "points_per_decade": 5},
            "mesh": {"order": 1, "size_um": 3.0},
        },
        "axes": [{"name": "radius_over_period", "key": "contacts[0].radius_um", "per": "cell.side_um",
                  "linspace": [0.1, 0.4, n_cases]}],
    })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rates, R_dc = {}, {}
    for label, kw in (("serial", {"serial": True}), (f"{args.workers} workers", {"workers": args.workers})):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            ds = run_study(study(args.cases, label), out, progress=False, **kw)
            seconds = time.perf_counter() - t0
        assert (ds["status"] == "ok").all()
        R_dc[label] = ds["R_dc_ohm"].values
        rates[label] = args.cases / seconds * 60
        print(f"{label:>10}: {args.cases} cases in {seconds:6.1f} s = {rates[label]:5.1f} cases/min")
    serial, parallel = rates.values()
    print(f"speed-up with {args.workers} workers: {parallel / serial:.2f}x")
    one, other = R_dc.values()
    difference = float(abs(other / one - 1).max())
    print(f"largest relative difference of R_dc, serial vs {args.workers} workers: {difference:.1e}")
    assert difference <= 1e-9


if __name__ == "__main__":
    main()
