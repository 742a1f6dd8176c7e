"""Aggregation AMG with a K-cycle, for the M-matrices of a voxel grid (G + s C, s >= 0).

Coarsening: unknowns strongly coupled to each other (|a_ij| >= theta sqrt(a_ii a_jj), so
gas and electrolyte, which touch through s eps0 only, stay apart) are grouped into
aggregates of about eight, as a 2 x 2 x 2 block of voxels; the coarse unknown is the
aggregate's common value (P: 0 or 1) and the coarse matrix is P^T A P, a conductance
network between aggregates. Piecewise-constant interpolation is cheap (the hierarchy holds
a quarter of the fine matrix's entries, classical AMG's three times) but a plain V-cycle
over it converges slowly: Notay's K-cycle solves each coarse problem by two steps of
flexible CG preconditioned by the next level, which keeps the iterations independent of
the grid (benchmarks/README.md, "An aggregation K-cycle instead of classical AMG"). The
cycle is nonlinear: the outer Krylov method must be flexible (`flexible_cg`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg.blas import daxpy

STRENGTH_THETA = 0.08  # a face of a 7-point stencil has |a_ij| / a_ii = 1/6: neighbours of one
                       # phase are strong, a conductor's face to gas (s eps0 / sigma) is not
MAX_COARSE = 2000      # the coarsest level is factorised ...
MAX_FACTORISED = 20_000  # ... unless the grouping stalled above this: then smoothed instead
FLOOR_EVERY = 4    # CG steps between looks at the rounding floor (one product each)
FLOOR_MARGIN = 10  # CG stops once its residual is within this of the rounding floor


def kcycle_preconditioner(A: sp.csr_matrix) -> spla.LinearOperator:
    """The K-cycle over an aggregation hierarchy of the real M-matrix A, as an operator
    r -> approximately A^-1 r (nonlinear: use flexible_cg)."""
    matrices, prolongators = [A], []
    while matrices[-1].shape[0] > MAX_COARSE:
        P = _aggregation(matrices[-1])
        if P.shape[1] >= 0.9 * P.shape[0]:  # nothing left to group
            break
        prolongators.append(P)
        matrices.append((P.T @ matrices[-1] @ P).tocsr())
    hierarchy = Hierarchy(matrices, prolongators, _coarsest_solver(matrices[-1]))
    return spla.LinearOperator(A.shape, lambda r: hierarchy.cycle(0, np.ravel(r)), dtype=A.dtype)


@dataclass(frozen=True)
class Hierarchy:
    """The levels' matrices (finest first), the prolongators between them and the coarsest
    level's solver. (A class, not a recursive closure: a closure that calls itself is a
    reference cycle, and its gigabytes wait for the garbage collector after each shift.)"""
    matrices: list
    prolongators: list
    coarsest: Callable[[np.ndarray], np.ndarray]

    def cycle(self, level: int, b: np.ndarray) -> np.ndarray:
        """Approximately A_level^-1 b: Gauss-Seidel forward, the coarse correction (two
        flexible CG steps on the next level, the coarsest solved), Gauss-Seidel backward."""
        from pyamg.relaxation.relaxation import gauss_seidel
        if level == len(self.prolongators):
            return self.coarsest(b)
        A, P = self.matrices[level], self.prolongators[level]
        x = np.zeros_like(b)
        gauss_seidel(A, x, b, sweep="forward")
        r = A @ x
        np.subtract(b, r, out=r)
        r_coarse = P.T @ r
        if level + 1 == len(self.prolongators):
            e_coarse = self.coarsest(r_coarse)
        else:
            e_coarse = flexible_cg(self.matrices[level + 1], r_coarse, lambda v: self.cycle(level + 1, v), 2)[0]
        x += P @ e_coarse
        gauss_seidel(A, x, b, sweep="backward")
        return x


def _coarsest_solver(A: sp.csr_matrix) -> Callable[[np.ndarray], np.ndarray]:
    """A factorisation of the coarsest level, or symmetric Gauss-Seidel sweeps where the
    grouping stalled on a level too large to factorise."""
    if A.shape[0] <= MAX_FACTORISED:
        return spla.splu(A.tocsc()).solve
    from pyamg.relaxation.relaxation import gauss_seidel

    def smooth(b):
        x = np.zeros_like(b)
        gauss_seidel(A, x, b, iterations=4, sweep="symmetric")
        return x
    return smooth


def _aggregation(A: sp.csr_matrix) -> sp.csr_matrix:
    """P (n x aggregates, entries 1): each unknown in the aggregate of its strong neighbours.
    An unknown with none is an aggregate of its own: a void merged into one equipotential
    (R_inf) touches a thousand voxels, each weakly, and the smoother alone would leave
    its potential to CG (benchmarks/README.md, "An aggregation K-cycle ...")."""
    from pyamg.aggregation import standard_aggregation
    from pyamg.strength import symmetric_strength_of_connection

    grouped = standard_aggregation(symmetric_strength_of_connection(A, STRENGTH_THETA))[0].tocsr()
    n, groups = A.shape[0], grouped.shape[1] if grouped.nnz else 0
    column = np.full(n, -1)
    column[np.repeat(np.arange(n), np.diff(grouped.indptr))] = grouped.indices
    alone = column < 0
    column[alone] = groups + np.arange(np.count_nonzero(alone))
    return sp.csr_matrix((np.ones(n, dtype=A.dtype), column, np.arange(n + 1)),
                         shape=(n, groups + np.count_nonzero(alone)))


def flexible_cg(A, b: np.ndarray, precondition: Callable[[np.ndarray], np.ndarray], maxiter: int,
                rtol: float = 0.0, callback: Callable[[np.ndarray], None] | None = None,
                x0: np.ndarray | None = None,
                floor: Callable[[np.ndarray], float] | None = None) -> tuple[np.ndarray, bool]:
    """CG with each search direction A-orthogonalised against the previous one (Notay's
    FCG(1)), so that the preconditioner may change from step to step; from x0 (or 0) to the
    relative residual rtol (of b) or maxiter steps. `floor(x)`: the rounding error of A x
    (rounding_floor); every FLOOR_EVERY steps CG also stops once its residual is within
    FLOOR_MARGIN of it, below which no step gains a digit. Returns x and whether rtol or the
    floor was reached (by the recursively updated residual). Real float64 only."""
    r = np.array(b, dtype=np.float64)
    stop = rtol * np.linalg.norm(r)
    if x0 is None:
        x = np.zeros_like(r)
    else:
        x = np.array(x0, dtype=np.float64)
        r -= A @ x
        if rtol and np.linalg.norm(r) <= stop:  # the guess is already good enough
            return x, True
    previous = None  # (d, A d, d . A d)
    for step in range(maxiter):
        d = precondition(r)
        if d is r:  # daxpy below updates d in place: it must not be the residual itself
            d = d.copy()
        if previous is not None:
            d_old, Ad_old, dAd_old = previous
            d = daxpy(d_old, d, a=-(d @ Ad_old) / dAd_old)
        Ad = A @ d
        dAd = d @ Ad
        if dAd <= 0:  # r = 0 (or rounding): nothing left to gain
            break
        alpha = (d @ r) / dAd
        x = daxpy(d, x, a=alpha)
        r = daxpy(Ad, r, a=-alpha)
        if callback is not None:
            callback(x)
        if rtol and np.linalg.norm(r) <= stop:
            return x, True
        if floor is not None and (step + 1) % FLOOR_EVERY == 0 and np.linalg.norm(r) <= FLOOR_MARGIN * floor(x):
            return x, True
        previous = (d, Ad, dAd)
    return x, False


def rounding_floor(A: sp.csr_matrix, m_matrix: bool = False) -> Callable[[np.ndarray], float]:
    """x -> eps || |A| |x| ||: the size of the rounding error in computing A x, so the
    smallest residual any iterate can show. It decides where a shifted system's solve ends:
    the derivative snapshot at 1 Hz of a porous image (sigma beside s eps0, a contrast of
    1e10) cannot get below 5e-10 of its right-hand side, whatever 1e-12 asks. For an
    M-matrix |A| = 2 diag(A) - A (no copy); otherwise |A| is A with its entries' magnitudes."""
    eps = np.finfo(np.float64).eps
    if m_matrix:
        twice_diagonal = 2 * A.diagonal()

        def floor(x):
            magnitude = np.abs(x)
            return eps * float(np.linalg.norm(twice_diagonal * magnitude - A @ magnitude))
        return floor
    magnitudes = sp.csr_matrix((np.abs(A.data), A.indices, A.indptr), shape=A.shape)
    return lambda x: eps * float(np.linalg.norm(magnitudes @ np.abs(x)))
