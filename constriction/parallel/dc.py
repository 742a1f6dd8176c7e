"""DC solves over all ranks: PETSc's CG with algebraic multigrid (hypre's BoomerAMG where
PETSc has it, else GAMG) on the unknowns that conduct to an electrode, WE at 1 V, CE at 0 V.

As in solve/direct.py the resistance is 1 / Y with Y = x^T G x, the power at 1 V (stationary
in the solve's error), the WE's and the CE's currents are compared (conservation), and a
solve whose currents differ by more than CONSERVATION_GOAL goes on to a tighter residual."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from constriction.parallel.bands import Band, total
from constriction.solve.direct import CONSERVATION_GOAL, DC_RTOL, TIGHTER
from constriction.parallel.grid import BandSystem, components

MAX_ITERATIONS = 2000
# BoomerAMG for 3D Laplacians as hypre's manual advises (HMIS coarsening, ext+i interpolation
# with at most 4 entries a row, one level of aggressive coarsening, strong threshold 0.5):
# on the 128³ synthetic interface's DC solve 9.1 s (19 iterations) against 23.8 s (11) with
# PETSc's defaults and 19.3 s (16) with GAMG. Options the user sets (-pc_hypre_...) win.
BOOMERAMG = {"pc_hypre_boomeramg_strong_threshold": "0.5", "pc_hypre_boomeramg_coarsen_type": "HMIS",
             "pc_hypre_boomeramg_interp_type": "ext+i", "pc_hypre_boomeramg_P_max": "4",
             "pc_hypre_boomeramg_agg_nl": "1"}


@dataclass(frozen=True)
class BandDC:
    """A DC solve over all ranks: R (ohm; inf where nothing joins the electrodes), the
    relative mismatch of the WE's and the CE's currents, whether the WE and the CE are
    joined, the component of every owned unknown and the WE's, and what CG did."""
    R_ohm: float
    mismatch: float
    joined: bool
    component: np.ndarray
    we_component: int
    iterations: int
    seconds: float
    unknowns: int
    x: np.ndarray | None = None   # the potential (V) of every owned unknown (WE 1 V; None: nothing conducts)


def dc_solve(band: Band, system: BandSystem, solver: str = "auto") -> BandDC:
    """R between the WE (1 V) and the CE (0 V) of the cell whose rows `system` holds."""
    from petsc4py import PETSc
    t0 = time.perf_counter()
    component = components(band, system)
    last = band.size - 1
    we_c, ce_c = band.comm.bcast((component[system.we - system.start], component[system.ce - system.start])
                                 if band.rank == last else None, root=last)
    G = system.G
    mine = np.arange(system.start, system.stop)
    diagonal = system.diagonal()
    free = (diagonal > 0) & np.isin(component, [we_c, ce_c]) & (mine != system.we) & (mine != system.ce)
    n_free = int(total(band, int(np.count_nonzero(free))))
    if we_c != ce_c:
        return BandDC(np.inf, 0.0, False, component, we_c, 0, time.perf_counter() - t0, n_free)
    comm = band.comm
    A = as_petsc(band, G)
    u = A.createVecRight()
    u.set(0.0)
    if band.rank == last:
        u.setValue(system.we, 1.0)
    u.assemble()
    Gu = A.createVecLeft()
    A.mult(u, Gu)
    rows = PETSc.IS().createGeneral(mine[free].astype(PETSc.IntType), comm=comm)
    A_free = A.createSubMatrix(rows, rows)
    b, x = A_free.createVecs()
    b.setArray(-Gu.getArray()[free])
    ksp = cg(A_free, DC_RTOL, solver)
    potential, current = u.duplicate(), A.createVecLeft()
    iterations = 0
    for rtol in (DC_RTOL, DC_RTOL * TIGHTER):  # as direct.driven_solve: further where the currents say so
        ksp.setTolerances(rtol=rtol)
        ksp.setInitialGuessNonzero(iterations > 0)
        ksp.solve(b, x)
        iterations += ksp.getIterationNumber()
        if ksp.getConvergedReason() < 0:
            raise RuntimeError(f"PETSc CG did not converge on {n_free:,} unknowns: reason "
                               f"{ksp.getConvergedReason()} after {iterations} iterations")
        values = u.getArray().copy()
        values[free] = x.getArray()
        potential.setArray(values)
        A.mult(potential, current)
        Y = potential.dot(current)
        ends = current.getArray()
        y_we, y_ce = comm.bcast((ends[system.we - system.start], -ends[system.ce - system.start])
                                if band.rank == last else None, root=last)
        mismatch = abs(y_we - y_ce) / abs(y_we) if y_we != 0 else abs(y_ce)
        if mismatch <= CONSERVATION_GOAL:
            break
    for obj in (ksp, A_free, A, rows, b, x, u, Gu, potential, current):
        obj.destroy()
    return BandDC(R_ohm=1.0 / Y if Y > 0 else np.inf, mismatch=float(mismatch), joined=True, component=component,
                  we_component=int(we_c), iterations=iterations, seconds=time.perf_counter() - t0, unknowns=n_free,
                  x=values)


def as_petsc(band: Band, M):
    """A PETSc matrix over the ranks from each rank's rows of it (CSR, global columns; the
    columns laid out as the rows)."""
    from petsc4py import PETSc
    m, n = M.shape
    return PETSc.Mat().createAIJ(size=((m, n), (m, n)), comm=band.comm,
                                 csr=(M.indptr.astype(PETSc.IntType), M.indices.astype(PETSc.IntType), M.data))


def cg(A, rtol: float, solver: str = "auto"):
    """CG on A (a PETSc matrix) to a true relative residual `rtol`, preconditioned by
    BoomerAMG or GAMG (`solver`: "hypre", "gamg" or "auto": hypre where PETSc has it);
    PETSc's own options (-ksp_..., -pc_...) apply on top."""
    from petsc4py import PETSc
    ksp = PETSc.KSP().create(A.getComm())
    ksp.setOperators(A)
    ksp.setType("cg")
    ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=MAX_ITERATIONS)
    pc = ksp.getPC()
    if solver == "auto":
        solver = "hypre" if PETSc.Sys.hasExternalPackage("hypre") else "gamg"
    pc.setType(solver)
    if solver == "hypre":
        pc.setHYPREType("boomeramg")
        options = PETSc.Options()
        for name, value in BOOMERAMG.items():
            if not options.hasName(name):
                options.setValue(name, value)
    ksp.setFromOptions()
    return ksp
