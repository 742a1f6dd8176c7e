"""Peak memory of the conforming pipeline per unknown, stage by stage.

The unit cell of benchmarks/sweep.py (50 µm box, one 5 µm spot under a 0.5 µm gap, P1)
at about --dofs unknowns, in one process: Gmsh's mesh (read from its memory, rims
graded), the scikit-fem mesh with its regions and boundaries, assembly, the DC solves,
the reduced sweep. Prints the peak resident memory (getrusage) after each stage, so run
one size per process:

    python benchmarks/memory.py --dofs 3e5 [--order 2]

With --whole-run it times `constriction.run` instead (mesh to fields, no plots) and prints
its peak per tetrahedron: the figure behind `constriction.memory.MESH_RUN_BYTES_PER_ELEMENT`.
"""

from __future__ import annotations

import argparse
import time

import dataclasses

from constriction import run
from constriction.solve.fem import assemble
from constriction.geometry.cell import build_mesh
from constriction.geometry.tagged_mesh import tagged_mesh
from constriction.solve.reduced import reduce
from constriction.solve.direct import dc_resistance
from constriction.geometry.assemble import materials_of

from sweep import F, peak_memory_MiB, unit_cell


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dofs", type=float, default=1e5)
    parser.add_argument("--order", type=int, choices=(1, 2), default=1)
    parser.add_argument("--whole-run", action="store_true")
    args = parser.parse_args()
    p1_dofs = args.dofs / (1 if args.order == 1 else 8)  # a P2 mesh has about 8x the unknowns of P1
    refine = 0.113 * (p1_dofs / 5.0e5) ** (-1 / 2.65)  # measured: 5.0e5 unknowns at 0.113, 1.3e5 at 0.187
    spec = unit_cell(refine)
    spec = dataclasses.replace(spec, mesh=dataclasses.replace(spec.mesh, order=args.order))
    if args.whole_run:
        t0 = time.perf_counter()
        summary = run(spec, progress=False, max_memory_GiB=1e6).summary
        peak = peak_memory_MiB() * 2**20
        print(f"P{args.order}: {summary.dofs} unknowns, {summary.elements} tetrahedra (refine {refine:.3f}): "
              f"{time.perf_counter() - t0:.1f} s, peak {peak / 2**30:.2f} GiB, "
              f"{peak / summary.elements:.0f} B per tetrahedron, {peak / summary.dofs:.0f} B per unknown")
        return
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
