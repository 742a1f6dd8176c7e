"""Peak memory of the conforming pipeline per unknown, stage by stage.

The unit cell of benchmarks/sweep.py (50 µm box, one 5 µm spot under a 0.5 µm gap, P1)
at about --dofs unknowns, in one process: Gmsh's mesh (read from its memory, rims
graded), the scikit-fem mesh with its regions and boundaries, assembly, the DC solves,
the reduced sweep. Prints the peak resident memory (getrusage) after each stage, so run
one size per process:

    python benchmarks/memory.py --dofs 3e5
"""

from __future__ import annotations

import argparse
import time

from constriction.fem import assemble
from constriction.geometry import build_mesh
from constriction.mesh import tagged_mesh
from constriction.reduced import reduce
from constriction.solve import dc_resistance
from constriction.system import materials_of

from sweep import F, peak_memory_MiB, unit_cell


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dofs", type=float, default=1e5)
    args = parser.parse_args()
    refine = 0.113 * (args.dofs / 5.0e5) ** (-1 / 2.65)  # measured: 5.0e5 unknowns at 0.113, 1.3e5 at 0.187
    spec = unit_cell(refine)
    rows = []

    def stage(name, fn, *a):
        t0 = time.perf_counter()
        out = fn(*a)
        rows.append((name, time.perf_counter() - t0, peak_memory_MiB()))
        return out

    meshed = stage("mesh (Gmsh)", build_mesh, spec)
    tagged = stage("scikit-fem mesh", tagged_mesh, meshed)
    del meshed
    system = stage("assembled", assemble, tagged, materials_of(spec), spec.mesh.order)
    stage("DC solves", dc_resistance, system)
    stage("reduced sweep", lambda: reduce(system, F[0], F[-1], progress=False))
    n = system.n_dofs
    print(f"{n} unknowns, {tagged.n_elements} tetrahedra (refine {refine:.3f})")
    for name, seconds, peak in rows:
        print(f"{name:18s} {seconds:7.1f} s   peak {peak:8.0f} MiB")
    print(f"peak per unknown: {rows[-1][2] * 2**20 / n / 1e3:.1f} KB")


if __name__ == "__main__":
    main()
