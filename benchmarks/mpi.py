"""An image over MPI ranks (--backend petsc) against the serial run, on this machine: the
whole run's seconds and every rank's peak memory at 1 and 2 ranks, DC only and with the
reduced sweep (1 Hz - 1 MHz, 4 points per decade), and R_dc and Z beside the serial run's.

    python benchmarks/mpi.py [--sizes 128,192] [--ranks 1,2] [--cases porous,interface]

Run it with the Python that has petsc4py and mpi4py (README.md, "Images past one machine";
e.g. .venv-mpi/bin/python after .ci/mpi). Cases: seeded blobs of electrolyte, 35 % of the
voxels, in an insulating matrix under a metal layer (tests/cases.porous_blobs: porespy's
kind, without porespy), and the synthetic interface (studies/synthetic_interface.py), each
with a floating metal body and a second electrolyte (tests/cases.mpi_image's cells). Every
run is its own process (`--worker`): its peak is its own. Printed as a Markdown table.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SWEEP = {"f_min_Hz": 1.0, "f_max_Hz": 1e6, "points_per_decade": 4}


def image_file(n: int, case: str, folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from cases import mpi_image
    path = folder / f"{case}{n}.npy"
    np.save(path, mpi_image(n, case))
    return path


def spec_of(path: Path, dc_only: bool):
    sys.path.insert(0, str(ROOT / "tests"))
    from cases import MPI_LABELS, MPI_PHASES
    from constriction import spec_from_dict
    return spec_from_dict({"image": {"path": str(path), "voxel_um": 1.0, "labels": MPI_LABELS}, "phases": MPI_PHASES,
                           "sweep": {"kind": "dc"} if dc_only else SWEEP}, name=path.stem)


def worker(path: str, dc_only: bool, backend: str) -> None:
    """One run in this process (under mpiexec for petsc); rank 0 prints one JSON line."""
    from constriction import run
    t0 = time.perf_counter()
    result = run(spec_of(Path(path), dc_only), backend=backend, progress=False, error_estimate="never")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rank, peaks = 0, [peak]
    if backend == "petsc":
        from mpi4py import MPI
        rank, peaks = MPI.COMM_WORLD.rank, MPI.COMM_WORLD.gather(peak, root=0)
    if rank == 0:
        s = result.summary
        print(json.dumps({"seconds": seconds, "peaks": peaks, "R_dc": s.R_dc_ohm, "unknowns": s.dofs,
                          "Z": [] if result.spectrum is None else [[z.real, z.imag] for z in result.spectrum.Z_ohm],
                          "order": s.sweep.order, "stages": s.seconds}))


def launch(path: Path, dc_only: bool, ranks: int | None) -> dict:
    """A worker: serial (ranks None) or over `ranks` MPI ranks."""
    command = [sys.executable, __file__, "--worker", str(path)] + (["--dc"] if dc_only else [])
    if ranks is not None:
        command = ["mpiexec", "--oversubscribe", "-n", str(ranks)] + command + ["--petsc"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="128,192")
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--cases", default="porous,interface")
    parser.add_argument("--worker")
    parser.add_argument("--dc", action="store_true")
    parser.add_argument("--petsc", action="store_true")
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.dc, "petsc" if args.petsc else "auto")
    import petsc4py  # noqa: F401  (refused here, not in a worker, where it is missing)
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    print("| image | run | unknowns | serial (amg) | 1 rank | 2 ranks | peak: serial | peak per rank: 1 | 2 | "
          "R_dc, Z vs serial |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for n in [int(v) for v in args.sizes.split(",")]:
            for case in args.cases.split(","):
                path = image_file(n, case, Path(folder))
                for dc_only in (True, False):
                    serial = launch(path, dc_only, None)
                    over = {r: launch(path, dc_only, r) for r in [int(v) for v in args.ranks.split(",")]}
                    worst = max(abs(o["R_dc"] / serial["R_dc"] - 1) for o in over.values())
                    if serial["Z"]:
                        Z = np.array(serial["Z"]) @ [1, 1j]
                        worst = max(worst, *(np.max(np.abs((np.array(o["Z"]) @ [1, 1j]) / Z - 1))
                                             for o in over.values()))
                    times = " | ".join(f"{over[r]['seconds']:.1f} s" for r in sorted(over))
                    peaks = " | ".join(", ".join(f"{p / 2**30:.2f}" for p in over[r]["peaks"]) + " GiB"
                                       for r in sorted(over))
                    print(f"| {n}³ {case} | {'DC only' if dc_only else 'sweep'} | {serial['unknowns']:,} | "
                          f"{serial['seconds']:.1f} s | {times} | {serial['peaks'][0] / 2**30:.2f} GiB | {peaks} | "
                          f"{worst:.0e} |", flush=True)


if __name__ == "__main__":
    main()
