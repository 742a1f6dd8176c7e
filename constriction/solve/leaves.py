"""Unknowns with a single neighbour, eliminated exactly before an iterative solve.

On a voxel grid at DC, a face unknown between an electrolyte voxel and an insulator or gas
voxel conducts to its electrolyte voxel only: a leaf of the network. Its row reads

    a_ll x_l + a_lv x_v = b_l,   so   x_l = (b_l - a_lv x_v) / a_ll,

and the other unknowns solve the Schur complement of the leaves, which a diagonal block
makes free of fill: A'_vv = A_vv - a_vl a_lv / a_ll and b'_v = b_v - a_vl b_l / a_ll. On a
porous image half the DC unknowns are such leaves, and AMG-CG takes fewer iterations
without them (benchmarks/README.md, "Porous images: leaves").

A is symmetric (a_vl = a_lv). Two leaves that are each other's only neighbour stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Leaves:
    """The leaves of a symmetric matrix: their rows, their one neighbour each, the entry
    a_lv between them, the leaf's diagonal a_ll, and the rows that stay (bool)."""
    rows: np.ndarray
    neighbour: np.ndarray
    coupling: np.ndarray
    diagonal: np.ndarray
    keep: np.ndarray

    def reduced_rhs(self, b: np.ndarray) -> np.ndarray:
        """b' on the rows that stay."""
        b = b.astype(np.result_type(b.dtype, self.coupling.dtype), copy=True)
        np.subtract.at(b, self.neighbour, self.coupling / self.diagonal * b[self.rows])
        return b[self.keep]

    def expand(self, x_kept: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The whole solution from the rows that stay (and the leaves' own b)."""
        x = np.zeros(self.keep.size, dtype=np.result_type(x_kept.dtype, b.dtype))
        x[self.keep] = x_kept
        x[self.rows] = (b[self.rows] - self.coupling * x[self.neighbour]) / self.diagonal
        return x


def find_leaves(A: sp.csr_matrix) -> Leaves:
    """The rows of A that hold their diagonal and one other nonzero entry, whose neighbour
    is not a leaf too. A's explicit zeros are dropped first (in place)."""
    A.eliminate_zeros()
    n = A.shape[0]
    candidates = np.flatnonzero(np.diff(A.indptr) == 2)
    first = A.indptr[candidates]
    columns = np.column_stack([A.indices[first], A.indices[first + 1]])
    is_diagonal = columns == candidates[:, None]
    one_diagonal = is_diagonal.sum(axis=1) == 1
    candidates, first, columns, is_diagonal = (candidates[one_diagonal], first[one_diagonal],
                                               columns[one_diagonal], is_diagonal[one_diagonal])
    other = np.where(is_diagonal[:, 0], 1, 0)  # position (0 or 1) of the off-diagonal entry
    neighbour = columns[np.arange(candidates.size), other]
    leaf = np.zeros(n, bool)
    leaf[candidates] = True
    single = ~leaf[neighbour]
    rows, neighbour, first, other = candidates[single], neighbour[single], first[single], other[single]
    keep = np.ones(n, bool)
    keep[rows] = False
    return Leaves(rows=rows, neighbour=neighbour, coupling=A.data[first + other], diagonal=A.data[first + 1 - other],
                  keep=keep)


def without_leaves(A: sp.spmatrix, factorize: Callable[[sp.csr_matrix], Callable]) -> Callable[..., np.ndarray]:
    """solve(b, x0=None, rtol=None) for A x = b, by `factorize` applied to A without its
    leaves (A itself where it has none). The tolerance is the reduced system's relative
    residual; the leaves' rows are then solved exactly."""
    A = A.tocsr()
    found = find_leaves(A)
    if not found.rows.size:
        return factorize(A)
    correction = np.bincount(found.neighbour, found.coupling**2 / found.diagonal, A.shape[0])
    kept = np.flatnonzero(found.keep)
    reduced = (A[kept][:, kept] - sp.diags(correction[kept])).tocsr()
    del A
    solve = factorize(reduced)

    def solve_all(b, x0=None, rtol=None):
        x_kept = solve(found.reduced_rhs(b), None if x0 is None else x0[found.keep], rtol=rtol)
        return found.expand(x_kept, b)
    return solve_all
