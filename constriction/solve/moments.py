"""Snapshots of the pencil at s -> 0, by condensing what does not conduct.

Where unknowns have no conductance (gas, insulators: their row of G is zero) or form
conducting islands that touch neither electrode, G + sC is singular at s = 0, and at the
small real shifts a sweep needs it sets sigma beside s eps0 (a contrast of 1e10 at 1 Hz):
AMG-CG then takes about twice the iterations of a DC solve on 2-3 times its unknowns, and
stops at a rounding floor well above its tolerance. The limit s -> 0 splits the problem in
two instead. Let N hold one column per capacitive unknown and one per conducting island
(its indicator: at low frequency an island is an equipotential), and expand the interior
solution x(s) = x_0 + s x_1 + s^2 x_2 + ... of (G + sC) x = -(g + sc):

    G x_0 = -g,    G x_1 = -(C x_0 + c),    G x_k = -C x_(k-1)   (k >= 2).

Each equation is solvable only when its right-hand side has no part along N, and that
fixes the part along N of the order before: x_k = p_k + N a_k with

    G p_k = (its right-hand side)        the conductance network alone (DC solve; one
                                         unknown of each island pinned)
    K a_k = -N^T (C p_k + [k = 0] c)     K = N^T C N, the capacitance network of the
                                         capacitive unknowns and the islands, condensed.

Two real systems, each of one material's scale (sigma alone, eps alone), each with one
factorisation or AMG hierarchy for every order. The x_k span the same space as x(s) and
its derivatives at s = 0 (the moments of Y(s) there are their currents), the space a
reduced model needs below the cell's first relaxation rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

from constriction.solve.direct import DC_RTOL, TIGHTER, conducting_to
from constriction.solve.fem import System
from constriction.solve.linalg import factorize

# CG's relative residual for the solves that no current check reads: the conservation check
# takes the WE and CE currents to first order in s from p_0, a_0 and p_1 (reduced.py), so
# those are solved to DC_RTOL; a_1 and every later snapshot only span the basis (on a 40³
# porous image the model stayed within 8e-10 of one from exact solves, 1 Hz - 10 GHz)
SNAPSHOT_RTOL = 1e-6


@dataclass(frozen=True)
class Condensation:
    """The two networks of the s -> 0 expansion, on the interior unknowns I: `solved`
    (positions in I) the unknowns of the conductance solve, the columns N (len(I) x m) of
    the capacitive unknowns and the islands as products, spread(a) = N a and gather(v) =
    N^T v, and the two solvers. Interior vectors are numpy arrays: all of I, or a rank's
    rows over MPI (parallel/sweep.py); N itself where it is held whole."""
    solved: np.ndarray
    spread: Callable[[np.ndarray], np.ndarray]
    gather: Callable[[np.ndarray], np.ndarray]
    conductance_solve: Callable[[np.ndarray], np.ndarray]
    capacitance_solve: Callable[[np.ndarray], np.ndarray]
    islands: int
    N: sp.csr_matrix | None = None

    def moments(self, C_product: Callable[[np.ndarray], np.ndarray], g: np.ndarray, c: np.ndarray, count: int,
                dc: np.ndarray | None = None):
        """x_0, x_1, ... (interior vectors), one at a time: `C_product(x)` is C_II x. `dc`:
        the DC solve's interior potentials, p_0 itself (G p_0 = -g on the unknowns that
        conduct to an electrode; zero on islands, whose right-hand side is zero, and on the
        capacitive unknowns), checked for its currents there (direct.driven_solve)."""
        rhs = -g
        for k in range(count):
            p = np.zeros_like(g)
            if k == 0 and dc is not None:
                p[self.solved] = dc[self.solved]
            else:  # x_0 carries the DC currents, which the conservation check compares
                p[self.solved] = self.conductance_solve(rhs[self.solved], rtol={0: DC_RTOL * TIGHTER, 1: DC_RTOL}.get(
                    k, SNAPSHOT_RTOL))
            Cp = C_product(p) + (c if k == 0 else 0.0)
            x = p + self.spread(self.capacitance_solve(-self.gather(Cp), rtol=DC_RTOL if k == 0 else SNAPSHOT_RTOL))
            yield x
            rhs = -(C_product(x) + (c if k == 0 else 0.0))


def condensation(system: System, I: np.ndarray, backend: str = "auto") -> Condensation | None:
    """The condensation of the interior unknowns I; None where G alone is regular there
    (nothing capacitive, no island)."""
    capacitive = system.G.diagonal()[I] == 0
    component = system.components
    island = ~capacitive & ~conducting_to(system.G, system.we, system.ce, component)[I]
    if not capacitive.any() and not island.any():
        return None
    island_at = np.flatnonzero(island)
    _, first, which = np.unique(component[I][island_at], return_index=True, return_inverse=True)
    at = np.concatenate([np.flatnonzero(capacitive), island_at])
    column = np.concatenate([np.arange(np.count_nonzero(capacitive)), np.count_nonzero(capacitive) + which])
    N = sp.csr_matrix((np.ones(at.size), (at, column)), shape=(len(I), column.max() + 1))
    N_full = sp.csr_matrix((np.ones(at.size), (I[at], column)), shape=(system.n_dofs, N.shape[1]))
    K = (N_full.T @ system.C @ N_full).tocsr()
    K.eliminate_zeros()
    del N_full
    solved = ~capacitive
    solved[island_at[first]] = False  # one unknown of each island pinned: its potential comes from K
    solved = np.flatnonzero(solved)
    G_solved = system.G.tocsr()[I[solved]][:, I[solved]].tocsr()
    return Condensation(solved=solved, N=N, spread=N.__matmul__, gather=N.T.tocsr().__matmul__, islands=int(first.size),
                        conductance_solve=factorize(G_solved, backend, DC_RTOL),
                        capacitance_solve=factorize(K, backend, DC_RTOL))
