"""One small cell, end to end: what the command line costs besides the solve.

    python benchmarks/run.py [--size-um 1.3]

The cell of issue 16: a 20 µm box unit cell, one 4 µm spot under a 0.4 µm gap, P1, about
7 000 unknowns at the default size. Measured in one run:
  - `constriction --version` (imports only what it needs), in a fresh process;
  - `constriction run` of the cell with all its outputs (data, fields, five plots), in a
    fresh process: wall time, and the pipeline's own stages from summary.json;
  - a study case of the same cell in a warm process (no fields, plots, CPE fit or split).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CELL = """
[cell]
shape = "box"
side_um = 20.0
thickness_um = 20.0
[[contacts]]
x_um = 0.0
y_um = 0.0
radius_um = 4.0
[gap]
height_um = 0.4
[materials.electrolyte]
sigma_S_per_m = 0.1
eps_r = 10.0
[sweep]
f_min_Hz = 1e2
f_max_Hz = 1e10
points_per_decade = 5
[mesh]
order = 1
size_um = {size}
"""


def wall(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-um", type=float, default=1.3)
    args = parser.parse_args()
    exe = [sys.executable, "-m", "constriction"]
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "cell.toml"
        spec.write_text(CELL.format(size=args.size_um))
        version = wall(exe + ["--version"])
        whole = wall(exe + ["run", str(spec), "--out", str(Path(tmp) / "out")])
        summary = json.loads((Path(tmp) / "out" / "summary.json").read_text())

        from constriction import load_spec, run
        cell = load_spec(spec)
        run(cell, progress=False, cpe_fit=False, fields=False, split=False)  # warm
        t0 = time.perf_counter()
        run(cell, progress=False, cpe_fit=False, fields=False, split=False)
        case = time.perf_counter() - t0
    stages = summary["seconds"]
    print(f"cell: {summary['dofs']} unknowns (P{summary['order']}), {summary['elements']} elements")
    print(f"constriction --version              {version:6.2f} s")
    print(f"constriction run, all outputs       {whole:6.2f} s  (mesh+assemble {stages['mesh_and_assemble']:.2f}, "
          f"DC {stages['dc']:.2f}, sweep {stages['sweep']:.2f})")
    print(f"study case, warm process            {case:6.2f} s")


if __name__ == "__main__":
    main()
