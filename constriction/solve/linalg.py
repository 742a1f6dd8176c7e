"""Sparse factorisation backends behind one function: `factorize(A, backend) -> solve`.

A is symmetric: real positive definite (real shifts s > 0, DC) or complex symmetric
(s = j omega). Backends:

    superlu  scipy's SuperLU, always there, real or complex. The matrix is permuted
             symmetrically by a METIS nested-dissection ordering (pymetis; SuperLU's
             minimum degree below METIS_MIN_UNKNOWNS, or if pymetis is missing) and
             factorised in symmetric mode with no partial pivoting (diag_pivot_thresh=0):
             at low frequency omega*eps0 entries of the gaps sit beside sigma entries of
             the electrolyte, and partial pivoting would wreck the fill-reducing ordering
             (docs/DESIGN.md). Symmetric matrices with positive semi-definite real and
             imaginary parts factorise stably without pivoting.
    pardiso  MKL Pardiso (pypardiso) in symmetric positive definite mode (upper triangle),
             nested-dissection ordering; real matrices only.
    amg      AMG-preconditioned CG (an aggregation K-cycle for a voxel grid's M-matrix,
             solve/kcycle.py; pyamg's smoothed aggregation for finite elements), real SPD
             only, to AMG_RTOL or the caller's tolerance. Should CG miss it within
             AMG_MAXITER iterations, as it can on the shifted systems G + sC of images with
             gas or insulators (sigma ~ 1 S/m beside s eps0 ~ 1e-8 S/m), CG preconditioned
             block by block (conducting | capacitive unknowns) takes over, then a direct
             factorisation (see _amg; benchmarks/README.md, "A porous image").

`auto`: complex matrices go to SuperLU. Real ones go to AMG from AMG_MIN_UNKNOWNS up
(benchmarks/README.md: from 1e4 to 1e5 unknowns its setup and solve take a fifth to a
tenth of a Pardiso factorisation, whose start-up dominates small problems), to Pardiso
there if pyamg is missing, and to SuperLU below.
"""

from __future__ import annotations

import importlib.util
import logging
import time
import warnings
from typing import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from constriction.options import BACKENDS
from constriction.solve.leaves import without_leaves
from constriction.solve.kcycle import FLOOR_MARGIN, flexible_cg, kcycle_preconditioner, rounding_floor

log = logging.getLogger(__name__)  # one line per AMG setup and CG solve (time, iterations)
LOUD_UNKNOWNS = 1_000_000  # from this size (a minute per solve at 256³) at INFO, below at DEBUG

# CG's relative residual, unless the caller asks for another (DC solves: solve/direct.py). The
# reduced model needs it this tight: its error estimate compares successive models, and one
# built on two low shifts extrapolates to 10 GHz within 1.5e-7 from 1e-12 solves, 5e-6 from
# 1e-8 ones, which costs a fourth shift (64³ synthetic interface, benchmarks/README.md)
AMG_RTOL = 1e-12
# No residual can fall below the rounding error of A x (kcycle.rounding_floor): with sigma
# beside s eps0 that floor can lie above the tolerance asked (5e-10 for a porous image's 1 Hz
# derivative), and CG stops within FLOOR_MARGIN of it. CG may also end by its own (recursively
# updated) residual while the true one stays above the tolerance; it is then restarted from
# where it stopped (CG_RESTARTS times, kept where it halves the residual), and a true residual
# up to this is accepted: not a stall another preconditioner would cure
ATTAINED_RTOL = 1e-8
CG_RESTARTS = 1
AMG_MAXITER = 200     # CG iterations before the next stage takes over (20-50 are needed where AMG works;
                      # 92 for the porous 64³ image's derivative at 1 Hz, benchmarks/README.md)
DIRECT_MAX_UNKNOWNS = 500_000  # above, a factorisation may not fit (Pardiso: 1.3 GiB at 2.5e5 unknowns
                               # of a 64³ image, growing as n^4/3): the last CG stage gets
                               # AMG_MAXITER_LARGE, then a warning instead of a factorisation
AMG_MAXITER_LARGE = 1000
# conducting / capacitive diagonal ratio past which "block" goes first when plain AMG is smoothed
# aggregation (finite elements): on the porous 64³ image it took 58 / 161 / 300+ iterations at
# contrasts 61 / 600 / 6000, block Jacobi 127 / 90 / 69. The K-cycle on a voxel grid's M-matrix
# takes the contrast in its stride (45 and 64 iterations at 1 Hz, contrast 6e9; classical AMG 57
# and 92, block by block 202 and 283), so it always goes first (benchmarks/README.md)
BLOCK_FIRST_CONTRAST = 200.0
AMG_MIN_UNKNOWNS = 5_000
STENCIL_ENTRIES = 8  # a finite-volume row: itself and 6 face neighbours (face unknowns: 3, a metal body: many)
METIS_MIN_UNKNOWNS = 10_000  # below, SuperLU's own minimum degree orders faster (benchmarks/README.md)


def available_backends() -> list[str]:
    """Backends installed here (found, not imported: importing pypardiso searches the
    installation for MKL, 1.5 s, which a run that never factorises by Pardiso need not pay)."""
    return ["superlu"] + [name for name, module in (("pardiso", "pypardiso"), ("amg", "pyamg"))
                          if importlib.util.find_spec(module) is not None]


class BackendError(ValueError):
    """A backend asked for by name that is unknown or not installed here."""


def check_backend(backend: str, here: list[str] | None = None) -> None:
    """BackendError, before anything is computed, for a backend that cannot run here
    (`here`: available_backends(), where the caller has it already)."""
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if backend == "petsc":  # images over MPI ranks (parallel/), not a factorisation
        from constriction.parallel.mpi import INSTALL, petsc_installed
        if not petsc_installed():
            raise BackendError(f"backend 'petsc' is not installed here: {INSTALL}")
        return
    if backend != "auto" and backend not in (available_backends() if here is None else here):
        extra = {"pardiso": ' (pip install -e ".[pardiso]": pypardiso, with MKL)'}.get(backend, "")
        raise BackendError(f"backend {backend!r} is not installed here{extra}")


def choose_backend(backend: str, complex_valued: bool, n: int) -> str:
    """Resolve 'auto' for an n x n matrix and reject a backend that cannot handle it."""
    here = available_backends()
    check_backend(backend, here)
    if backend == "auto":
        if complex_valued or n < AMG_MIN_UNKNOWNS:
            return "superlu"
        return "amg" if "amg" in here else "pardiso" if "pardiso" in here else "superlu"
    if complex_valued and backend != "superlu":
        raise ValueError(f"backend {backend!r} handles real matrices only; use superlu")
    return backend


def factorize(A: sp.spmatrix, backend: str = "auto", rtol: float = AMG_RTOL) -> Callable[..., np.ndarray]:
    """Factorise the symmetric matrix A once; return a function solve(b, x0=None, rtol=None)
    solving A x = b (AMG-CG: to the relative residual `rtol`, or the one given to solve,
    from the guess x0 if given; the direct backends ignore both)."""
    backend = choose_backend(backend, np.iscomplexobj(A.data), A.shape[0])
    if backend == "superlu":
        return _superlu(A, fill_reducing_order(A))
    if backend == "pardiso":
        return _pardiso(A.tocsr())
    return without_leaves(A, lambda reduced: _amg(reduced, rtol=rtol))  # a voxel grid's dangling face unknowns


def pattern_factorizer(backend: str = "auto", capacitive: np.ndarray | None = None) -> Callable[..., Callable]:
    """`factorize` for a sequence of matrices G + s C with one sparsity pattern (the shifts
    of a reduced model): SuperLU's fill-reducing ordering is computed for the first only.
    `capacitive` marks the unknowns with no conductance (G row zero: gas, insulators),
    for AMG's fallback (see _amg). Once a solver has stalled at a shift s, the shifts at
    or below it skip it (the smaller s, the stronger the contrast of sigma and s eps)."""
    orders, stalled = [], {"amg": [], "block": []}

    def factor(A: sp.spmatrix, shift: float = 0.0):
        chosen = choose_backend(backend, np.iscomplexobj(A.data), A.shape[0])
        if chosen == "amg":
            skip = [stage for stage, at in stalled.items() if at and shift <= max(at)]
            return _amg(A.tocsr(), capacitive, skip, on_stall=lambda stage: stalled[stage].append(shift))
        if chosen != "superlu":
            return factorize(A, chosen)
        if not orders:
            orders.append(fill_reducing_order(A))
        return _superlu(A, orders[0])
    return factor


def direct_backend() -> str:
    """The direct solver for real SPD matrices here: Pardiso if installed, else SuperLU."""
    return "pardiso" if "pardiso" in available_backends() else "superlu"


def _superlu(A: sp.spmatrix, order: np.ndarray | None):
    """SuperLU without pivoting, under the given METIS ordering (None: SuperLU's own)."""
    if order is None:
        lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options={"SymmetricMode": True})
        return lambda b, x0=None, rtol=None: lu.solve(b)
    lu = spla.splu(A.tocsr()[order][:, order].tocsc(), permc_spec="NATURAL",
                   diag_pivot_thresh=0.0, options={"SymmetricMode": True})

    def solve(b, x0=None, rtol=None):
        x = np.empty(len(b), dtype=np.result_type(A.dtype, b.dtype))
        x[order] = lu.solve(b[order])
        return x
    return solve


def fill_reducing_order(A: sp.spmatrix) -> np.ndarray | None:
    """METIS nested dissection from METIS_MIN_UNKNOWNS up; None (SuperLU's minimum
    degree, also without pivoting) below, where it is faster."""
    return nested_dissection(A) if A.shape[0] >= METIS_MIN_UNKNOWNS else None


def nested_dissection(A: sp.spmatrix) -> np.ndarray | None:
    """METIS fill-reducing ordering of the symmetric pattern of A, or None without pymetis."""
    try:
        import pymetis
    except ImportError:
        return None
    graph = sp.csr_matrix(A, copy=True)
    graph.setdiag(0)
    graph.eliminate_zeros()
    order, _ = pymetis.nested_dissection(pymetis.CSRAdjacency(graph.indptr, graph.indices))
    return np.asarray(order)


def _pardiso(A: sp.csr_matrix):
    import pypardiso

    upper = sp.triu(A, format="csr")
    upper.sort_indices()
    solver = pypardiso.PyPardisoSolver(mtype=2)  # real symmetric positive definite
    solver.factorize(upper)  # reused by every solve with this same matrix

    def solve(b, x0=None, rtol=None):
        return solver.solve(upper, np.asarray(b, dtype=np.float64))
    return solve


def _amg(A: sp.csr_matrix, capacitive: np.ndarray | None = None, skip=(),
         on_stall: Callable[[str], None] = lambda stage: None, rtol: float = AMG_RTOL):
    """Solve A x = b by the first of these that reaches `rtol` (block first where the
    conducting and capacitive unknowns differ by more than BLOCK_FIRST_CONTRAST and A is
    not an M-matrix, so that plain AMG would be smoothed aggregation):
        "amg"    CG preconditioned by one AMG hierarchy (see _amg_preconditioner);
        "block"  with `capacitive` given: CG preconditioned by one hierarchy for the
                 conducting unknowns and one for the capacitive ones (block Jacobi). Where
                 s eps << sigma the two blocks barely couple, and each is well scaled;
        direct   a factorisation (Pardiso or SuperLU), up to DIRECT_MAX_UNKNOWNS; above,
                 the best CG iterate with a warning.
    `skip`: stages known to stall on this matrix; on_stall(stage) is told of each stall.
    The stage that worked is kept for the following right-hand sides."""
    stages = [stage for stage in ("amg", "block") if stage not in skip]
    large = A.shape[0] > DIRECT_MAX_UNKNOWNS
    blocks = capacitive is not None and 0 < np.count_nonzero(capacitive) < A.shape[0]
    if not blocks:
        stages = [stage for stage in stages if stage != "block"]
    elif "block" in stages and not _is_m_matrix(A) and _contrast(A, capacitive) > BLOCK_FIRST_CONTRAST:
        stages = ["block"] + [stage for stage in stages if stage != "block"]  # plain AMG would stall
    if not stages and large:  # no factorisation: the last iterative stage stays
        stages = ["block" if blocks else "amg"]
    preconditioners, floor = {}, rounding_floor(A, _is_m_matrix(A))

    def preconditioner(stage):
        if stage not in preconditioners:
            t0 = time.perf_counter()
            preconditioners[stage] = (_amg_preconditioner(A) if stage == "amg" else
                                      _block_preconditioner(A, capacitive))
            _log(A, "%s setup on %d unknowns: %.1f s", stage, A.shape[0], time.perf_counter() - t0)
        return preconditioners[stage]

    asked = rtol

    def solve(b, x0=None, rtol=None):
        rtol = rtol or asked
        if not np.any(b):
            return np.zeros_like(b, dtype=A.dtype)
        if x0 is not None and np.linalg.norm(A @ x0 - b) <= rtol * np.linalg.norm(b):
            return x0  # the guess will do: no hierarchy to build
        while stages:
            last = len(stages) == 1 and large  # no factorisation after it: it gets the most iterations
            maxiter = AMG_MAXITER_LARGE if last else AMG_MAXITER
            x, converged, residual = _cg(A, b, preconditioner(stages[0]), maxiter, rtol, x0, floor)
            if residual <= 100 * rtol:
                return x
            if converged and residual <= ATTAINED_RTOL:  # rounding, not a stall
                return x
            if last:  # a factorisation would not fit
                warnings.warn(f"AMG-CG reached a relative residual of {residual:.1e} (asked {rtol:.0e}) "
                              f"after {maxiter} iterations on {A.shape[0]:,} unknowns; too large to factorise",
                              RuntimeWarning, stacklevel=2)
                return x
            on_stall(stages.pop(0))
            preconditioners.clear()  # its hierarchies go before the next are built
        if "direct" not in preconditioners:
            preconditioners["direct"] = factorize(A, direct_backend())
        return preconditioners["direct"](b)
    return solve


def _contrast(A: sp.csr_matrix, capacitive: np.ndarray) -> float:
    """Median diagonal of the conducting rows over that of the capacitive ones: (sigma + s
    eps) / (s eps) at the scale of an element. Plain AMG stalls where it is large (an
    image's gas at a low shift), block Jacobi is then nearly exact."""
    d = np.abs(A.diagonal())
    capacitive_scale = np.median(d[capacitive])
    return float(np.median(d[~capacitive]) / capacitive_scale) if capacitive_scale > 0 else np.inf


def _cg(A, b, M, maxiter: int, rtol: float, x0, floor) -> tuple[np.ndarray, bool, float]:
    """Flexible CG on A x = b from x0 (or 0) to the relative residual rtol or the rounding
    floor, preconditioned by M (the K-cycle is nonlinear; for a fixed M it is plain PCG),
    restarted from its iterate where its own residual says done and the true one does not;
    returns x, whether CG's own residual says it got there within maxiter iterations, and
    the true relative residual. `floor`: kcycle.rounding_floor of A."""
    iterations, t0, norm_b = [0], time.perf_counter(), np.linalg.norm(b)

    def count(_):
        iterations[0] += 1
    # one BLAS thread: OpenBLAS's threads for CG's dot products and axpys slowed it 1.8x here
    with threadpool_limits(1, user_api="blas"):
        x, converged = flexible_cg(A, b, M.matvec, maxiter, rtol, count, x0, floor)
        residual = np.linalg.norm(A @ x - b) / norm_b
        at_floor, restarts = residual <= FLOOR_MARGIN * floor(x) / norm_b, 0
        while converged and residual > 100 * rtol and not at_floor and restarts < CG_RESTARTS:
            restarts += 1  # CG's own residual drifted from the true one: start again from here
            again, converged_again = flexible_cg(A, b, M.matvec, maxiter - iterations[0], rtol, count, x, floor)
            residual_again = np.linalg.norm(A @ again - b) / norm_b
            if residual_again >= residual / 2:  # no better: keep what the first run reached
                break
            x, converged, residual = again, converged_again, residual_again
            at_floor = residual <= FLOOR_MARGIN * floor(x) / norm_b
    _log(A, "CG on %d unknowns: %d iterations, %.1f s, relative residual %.1e%s", A.shape[0], iterations[0],
         time.perf_counter() - t0, residual, " (the rounding floor of this system)" if at_floor and
         residual > 100 * rtol else f" ({restarts} restarted)" if restarts else "")
    return x, converged, residual


def _log(A, message: str, *args) -> None:
    """A solver line: INFO from LOUD_UNKNOWNS unknowns up, DEBUG below."""
    log.log(logging.INFO if A.shape[0] >= LOUD_UNKNOWNS else logging.DEBUG, message, *args)


def _amg_preconditioner(A: sp.csr_matrix, kcycle: bool = True):
    """For an M-matrix of a 7-point stencil (every off-diagonal entry <= 0, at most 8
    entries a row on average: a voxel grid's finite volumes), the K-cycle over an
    aggregation hierarchy (solve/kcycle.py), cheaper than classical AMG at every size
    measured (benchmarks/README.md). Smoothed aggregation otherwise (finite elements: P2,
    obtuse P1, trilinear bricks, on which the K-cycle's pairwise aggregates took 173 CG
    iterations where smoothed aggregation took 20) or when `kcycle` is off."""
    import pyamg
    if kcycle and A.nnz <= STENCIL_ENTRIES * A.shape[0] and _is_m_matrix(A):
        return kcycle_preconditioner(A)
    return pyamg.smoothed_aggregation_solver(A, symmetry="symmetric").aspreconditioner(cycle="V")


def _is_m_matrix(A: sp.csr_matrix) -> bool:
    """Whether no entry off the diagonal is positive (and the diagonal is): every positive
    stored entry is then a diagonal one. No COO copy (1.6 GB at 256³)."""
    A.sum_duplicates()
    diagonal = A.diagonal()
    return bool(np.all(diagonal > 0) and np.count_nonzero(A.data > 0) == diagonal.size)


def _block_preconditioner(A: sp.csr_matrix, capacitive: np.ndarray):
    """Block Jacobi: one AMG V-cycle on the conducting unknowns, one on the capacitive ones.
    (Built anew at every shift: the conducting block's hierarchy from 1 Hz took 27 CG
    iterations at 100 kHz on the 128³ interface against 19 for its own, though its diagonal
    had moved by 1e-3: two floating islands of electrolyte, 14 unknowns, have only s C to hold
    them, which the old hierarchy overrates by 1e5.)"""
    blocks = [np.flatnonzero(~capacitive), np.flatnonzero(capacitive)]
    cycles = [_amg_preconditioner(A[k][:, k].tocsr(), kcycle=conducting)
              for k, conducting in zip(blocks, (True, False))]

    def apply(r):
        z = np.empty_like(r)
        for k, cycle in zip(blocks, cycles):
            z[k] = cycle @ r[k]
        return z
    return spla.LinearOperator(A.shape, apply, dtype=A.dtype)
