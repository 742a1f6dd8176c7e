"""The reduced sweep of an image over MPI ranks: solve/reduced.py's algorithm on a Pencil
whose interior vectors are each rank's rows (the unknowns it owns but the WE and the CE),
whose products and solves are PETSc's, and whose inner product sums over the ranks. The
basis is distributed; the projected pencil, a few dozen numbers square, is the same on
every rank, and so is every choice the algorithm makes from it.

The snapshots at s -> 0 (solve/moments.py) condense what does not conduct in the same way:
N holds a column per capacitive unknown (owned with it) and one per conducting island (owned
by the last rank), K = N^T C_II N is PETSc's PtAP, and each island has one unknown pinned (its
lowest) in the conductance solve."""

from __future__ import annotations

from functools import partial

import numpy as np

from constriction.parallel.bands import Band
from constriction.parallel.dc import BandDC, as_petsc, cg
from constriction.parallel.grid import BandSystem
from constriction.solve.direct import DC_RTOL
from constriction.solve.linalg import AMG_RTOL
from constriction.solve.moments import Condensation
from constriction.solve.reduced import Pencil, orthonormal_extend
from constriction.solve.terminals import kron_reduced

# CG's relative residual at a real shift: linalg.AMG_RTOL, as serially. The start (the model so
# far) often holds all but a part of 1e-9 of the solution, the part a shift adds to the basis:
# at 1e-10 a 2-rank sweep took its start back unchanged and stopped two shifts short (3e-3 off)
SHIFT_RTOL = AMG_RTOL


def band_pencil(band: Band, system: BandSystem, dc: BandDC) -> tuple[Pencil, np.ndarray]:
    """The Pencil of the cell whose rows `system` holds (G and C), and the DC solve's
    potentials on this rank's interior unknowns (the condensation's first snapshot)."""
    interior, G_II, C_II, (g, ce_g), (c, ce_c), G_WC, C_WC = _blocks(band, system, [system.we, system.ce])
    (g0, ce_g0), (c0, ce_c0) = G_WC[0], C_WC[0]  # G_WW, G_WC: the WE's row at the WE and the CE

    pencil = Pencil(g=g, c=c, g0=float(g0), c0=float(c0), ce_g=ce_g, ce_c=ce_c, ce_g0=float(ce_g0),
                    ce_c0=float(ce_c0), G_product=_product(G_II), C_product=_product(C_II),
                    shift_solver=partial(_shift_solver, G_II, C_II),
                    condensed=_condensation(band, system, dc, interior, G_II, C_II),
                    inner=partial(_inner, band.comm))
    return pencil, dc.x[interior]


def _inner(comm, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A^T B over every rank's rows."""
    return comm.allreduce(np.asarray(A.T @ B))


def _shift_solver(G_II, C_II, s: float):
    """solve(b, x0) of (G_II + s C_II) x = b by CG + AMG to SHIFT_RTOL."""
    from petsc4py import PETSc
    A = C_II.copy()
    A.scale(s)
    A.axpy(1.0, G_II, structure=PETSc.Mat.Structure.DIFFERENT_NONZERO_PATTERN)
    return _solver(A, SHIFT_RTOL)


def _product(M):
    """X -> M X for interior vectors or columns (each rank's rows)."""
    x, y = M.createVecs()

    def product(X: np.ndarray) -> np.ndarray:
        columns = X.reshape(X.shape[0], -1)
        out = np.empty_like(columns, dtype=float)
        for k in range(columns.shape[1]):
            x.setArray(columns[:, k])
            M.mult(x, y)
            out[:, k] = y.getArray()
        return out.reshape(X.shape)
    return product


def _solver(A, rtol_default: float):
    """solve(b, x0=None, rtol=...) on A by CG + AMG (one hierarchy for every right-hand side)."""
    ksp = cg(A, rtol_default)
    b, x = A.createVecs()

    def solve(rhs: np.ndarray, start: np.ndarray | None = None, rtol: float | None = None) -> np.ndarray:
        ksp.setTolerances(rtol=rtol_default if rtol is None else rtol)
        b.setArray(rhs)
        ksp.setInitialGuessNonzero(start is not None)
        x.setArray(0.0 if start is None else start)
        ksp.solve(b, x)
        if ksp.getConvergedReason() < 0:
            raise RuntimeError(f"PETSc CG did not converge on {A.getSize()[0]:,} unknowns: reason "
                               f"{ksp.getConvergedReason()} after {ksp.getIterationNumber()} iterations")
        return x.getArray().copy()
    return solve


def _condensation(band: Band, system: BandSystem, dc: BandDC, interior: np.ndarray, G_II, C_II) -> Condensation | None:
    """moments.condensation over the ranks; None where nothing is capacitive and nothing floats."""
    from petsc4py import PETSc
    comm = band.comm
    diagonal = system.diagonal()[interior]
    component = dc.component[interior]
    capacitive = diagonal == 0
    conducting = component == dc.we_component  # the CE's too: a sweep follows a DC solve that joined them
    island = ~capacitive & ~conducting
    found = np.unique(np.concatenate(comm.allgather(np.unique(component[island]))))  # every island, on every rank
    n_cap = comm.allgather(int(np.count_nonzero(capacitive)))
    if sum(n_cap) == 0 and found.size == 0:
        return None
    first_cap = sum(n_cap[:band.rank])
    which = np.searchsorted(found, component[island])
    mine = np.arange(system.start, system.stop)[interior]
    pinned_at = np.full(found.size, np.iinfo(np.int64).max)           # each island's lowest unknown
    np.minimum.at(pinned_at, which, mine[island])
    from mpi4py import MPI
    comm.Allreduce(MPI.IN_PLACE, pinned_at, op=MPI.MIN)
    solved = ~capacitive & ~np.isin(mine, pinned_at)
    # N: interior unknowns x columns (capacitive unknowns, each on its own rank; islands, on the last rank)
    columns = sum(n_cap) + found.size
    own_columns = n_cap[band.rank] + (found.size if band.rank == band.size - 1 else 0)
    at = np.concatenate([np.flatnonzero(capacitive), np.flatnonzero(island)])
    column = np.concatenate([first_cap + np.arange(n_cap[band.rank]), sum(n_cap) + which])
    row_start = G_II.getOwnershipRange()[0]
    n_rows = int(np.count_nonzero(interior))
    order = np.argsort(at)
    indptr = np.zeros(n_rows + 1, np.int64)
    indptr[1:] = np.cumsum(np.bincount(at, minlength=n_rows))
    N = PETSc.Mat().createAIJ(size=((n_rows, None), (own_columns, columns)), comm=comm,
                              csr=(indptr.astype(PETSc.IntType), column[order].astype(PETSc.IntType),
                                   np.ones(at.size)))
    K = C_II.PtAP(N)
    rows = PETSc.IS().createGeneral((row_start + np.flatnonzero(solved)).astype(PETSc.IntType), comm=comm)
    G_solved = G_II.createSubMatrix(rows, rows)
    a, spread_out = N.createVecs()

    def spread(values: np.ndarray) -> np.ndarray:
        a.setArray(values)
        N.mult(a, spread_out)
        return spread_out.getArray().copy()

    def gather(v: np.ndarray) -> np.ndarray:
        spread_out.setArray(v)
        N.multTranspose(spread_out, a)
        return a.getArray().copy()

    return Condensation(solved=np.flatnonzero(solved), spread=spread, gather=gather,
                        conductance_solve=_solver(G_solved, DC_RTOL), capacitance_solve=_solver(K, DC_RTOL),
                        islands=int(found.size))


def terminal_admittance_over_ranks(band: Band, system: BandSystem, terminals: list[int], frequency_Hz: np.ndarray,
                                   shifts_Hz: np.ndarray) -> np.ndarray:
    """solve/terminals.py's reduced Y(s) (S; frequencies x T x T) of the terminals (one unknown
    each, all on the last rank: the WE, the CE, floating bodies) over the ranks: a basis of
    every terminal driven in turn and its derivative at each real shift."""
    T = len(terminals)
    interior, G_II, C_II, G_IT, C_IT, G_TT, C_TT = _blocks(band, system, terminals)
    G_IT, C_IT = np.column_stack(G_IT), np.column_stack(C_IT)
    inner = partial(_inner, band.comm)
    C_product = _product(C_II)
    V = np.zeros((int(interior.sum()), 0))
    for f in shifts_Hz:
        s = 2 * np.pi * f
        solve = _shift_solver(G_II, C_II, s)
        X = np.column_stack([solve(-(G_IT[:, k] + s * C_IT[:, k])) for k in range(T)])
        dX = np.column_stack([solve(-(C_product(X[:, k]) + C_IT[:, k])) for k in range(T)])
        V, _ = orthonormal_extend(V, np.column_stack([X, dX]), inner=inner)
    return kron_reduced(G_TT, C_TT, inner(V, _product(G_II)(V)), inner(V, C_product(V)), inner(V, G_IT),
                        inner(V, C_IT), 2j * np.pi * np.asarray(frequency_Hz, float))


def _blocks(band: Band, system: BandSystem, terminals: list[int]):
    """The interior (this rank's unknowns but the terminals, all on the last rank): its mask,
    G_II and C_II (PETSc), each terminal's column of G and of C on it (lists of this rank's
    rows), and G and C among the terminals (T x T, on every rank)."""
    from petsc4py import PETSc
    comm, last = band.comm, band.size - 1
    mine = np.arange(system.start, system.stop)
    interior = ~np.isin(mine, terminals)
    G, C = as_petsc(band, system.G), as_petsc(band, system.C)
    rows = PETSc.IS().createGeneral(mine[interior].astype(PETSc.IntType), comm=comm)
    out = [interior, G.createSubMatrix(rows, rows), C.createSubMatrix(rows, rows)]
    columns, among = {}, {}
    for name, M in (("G", G), ("C", C)):
        e, Me = M.createVecRight(), M.createVecLeft()
        columns[name], among[name] = [], np.zeros((len(terminals), len(terminals)))
        for k, t in enumerate(terminals):  # M e_t
            e.set(0.0)
            if band.rank == last:
                e.setValue(t, 1.0)
            e.assemble()
            M.mult(e, Me)
            values = Me.getArray().copy()
            columns[name].append(values[interior])
            among[name][:, k] = comm.bcast(values[np.asarray(terminals) - system.start] if band.rank == last
                                           else None, root=last)
    return (*out, columns["G"], columns["C"], among["G"], among["C"])
