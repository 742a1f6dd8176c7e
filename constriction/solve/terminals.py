"""The terminal admittance matrix Y(s) of a cell: its terminals are the WE, the CE and
every floating metal body that serves as a reference electrode (a wire, a ball). With
the terminal potentials V and the currents I into the cell through them,

    I = Y(s) V,      Y = A_TT - A_TI A_II^-1 A_IT,      A = G + s C,

the Schur complement of the pencil on the terminals (U: the terminals' indicator
columns, A_TT = U^T A U, A_IT = A_I U). Y is symmetric (reciprocity) and passive (its
Hermitian part is positive semidefinite for s = j w); every row sums to zero (a common
shift of all potentials drives no current). Every two- and three-terminal impedance
follows from it: a terminal that draws no current is eliminated (Kron reduction), e.g.
Z_cell with the reference floating, and Z_WE-RE with the CE driving.

Computed the way the sweep is: by the reduced model (real shifts, a Galerkin basis of
the snapshots of every terminal driven in turn and their derivatives, the shifts of the
cell's own model), or frequency by frequency with one complex factorisation each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from constriction.solve.fem import System
from constriction.solve.linalg import factorize, pattern_factorizer
from constriction.solve.reduced import block_product, orthonormal_extend, shifted_block


@dataclass(frozen=True)
class TerminalAdmittance:
    """Y (S) of the named terminals at each frequency: Y_S (frequencies, T, T)."""
    frequency_Hz: np.ndarray
    names: tuple[str, ...]
    Y_S: np.ndarray

    def to_csv(self, path) -> None:
        """admittance.csv: frequency_Hz, then Y_<a>_<b> (real and imaginary, S) for every
        pair a <= b of terminals (Y is symmetric)."""
        columns, header = [self.frequency_Hz], ["frequency_Hz"]
        for i, a in enumerate(self.names):
            for j in range(i, len(self.names)):
                columns += [self.Y_S[:, i, j].real, self.Y_S[:, i, j].imag]
                header += [f"Y_{a}_{self.names[j]}_real_S", f"Y_{a}_{self.names[j]}_imag_S"]
        np.savetxt(path, np.column_stack(columns), delimiter=",", header=",".join(header), comments="",
                   fmt="%.12e")

    def checks(self, Z_cell_ohm: np.ndarray) -> tuple[float, float, float]:
        """(asymmetry, passivity, Z_cell mismatch): the largest |Y - Y^T| / |Y|, the
        smallest eigenvalue of (Y + Y^H) / 2 over |Y|, and max |Z_cell from Y / Z - 1|."""
        scale = np.abs(self.Y_S).max(axis=(1, 2))
        asymmetry = (np.abs(self.Y_S - np.swapaxes(self.Y_S, 1, 2)).max(axis=(1, 2)) / scale).max()
        hermitian = (self.Y_S + np.conj(np.swapaxes(self.Y_S, 1, 2))) / 2
        passivity = (np.linalg.eigvalsh(hermitian).min(axis=1) / scale).min()
        Z = two_terminal_impedance(self.Y_S, 0, 1)
        return float(asymmetry), float(passivity), float(np.abs(Z / Z_cell_ohm - 1).max())


def terminal_admittance(system: System, terminals: list[np.ndarray], frequency_Hz: np.ndarray,
                        shifts_Hz: np.ndarray | None = None, backend: str = "auto") -> np.ndarray:
    """Y (S) at each frequency, (frequencies, T, T), for the T terminals (each an array of
    the unknowns held at its potential). shifts_Hz: the reduced model's real shifts; None
    solves every frequency directly (the reference)."""
    n, T = system.n_dofs, len(terminals)
    owner = np.full(n, -1)
    for k, dofs in enumerate(terminals):
        owner[dofs] = k
    I = np.flatnonzero(owner < 0)
    U = sp.csr_matrix((np.ones(n - I.size), (np.flatnonzero(owner >= 0), owner[owner >= 0])), shape=(n, T))
    G_TT, C_TT = (U.T @ system.G @ U).toarray(), (U.T @ system.C @ U).toarray()
    G_IT, C_IT = (system.G @ U).tocsr()[I].toarray(), (system.C @ U).tocsr()[I].toarray()
    s_all = 2j * np.pi * np.asarray(frequency_Hz, float)
    if shifts_Hz is None:
        out = []
        for s in s_all:
            solve = factorize(shifted_block(system, I, s), "superlu")
            X = np.column_stack([solve(-(G_IT[:, k] + s * C_IT[:, k])) for k in range(T)])
            out.append(G_TT + s * C_TT + (G_IT + s * C_IT).T @ X)
        return np.array(out)
    V = np.zeros((I.size, 0))
    factorize_shift = pattern_factorizer(backend, capacitive=system.G.diagonal()[I] == 0)
    for f in shifts_Hz:
        s = 2 * np.pi * f
        solve = factorize_shift(shifted_block(system, I, s), shift=s)
        X = np.column_stack([solve(-(G_IT[:, k] + s * C_IT[:, k])) for k in range(T)])
        dX = np.column_stack([solve(-(block_product(system.C, I, X[:, k]) + C_IT[:, k])) for k in range(T)])
        del solve
        V, _ = orthonormal_extend(V, np.column_stack([X, dX]))
    G_r, C_r = V.T @ block_product(system.G, I, V), V.T @ block_product(system.C, I, V)
    return kron_reduced(G_TT, C_TT, G_r, C_r, V.T @ G_IT, V.T @ C_IT, s_all)


def kron_reduced(G_TT, C_TT, G_r, C_r, B_G, B_C, s_all: np.ndarray) -> np.ndarray:
    """Y(s) = A_TT - B(s)^T A_r(s)^-1 B(s) at each s (frequencies x T x T), with A = G + s C on
    the terminals (T x T), on the reduced interior (A_r) and between them (B = V^T A_IT)."""
    return np.array([G_TT + s * C_TT - (B_G + s * B_C).T @ np.linalg.solve(G_r + s * C_r, B_G + s * B_C)
                     for s in s_all])


def open_circuit(Y: np.ndarray, keep: list[int]) -> np.ndarray:
    """Y (..., T, T) with every terminal not in `keep` drawing no current (Kron reduction)."""
    drop = [k for k in range(Y.shape[-1]) if k not in keep]
    if not drop:
        return Y[..., keep, :][..., :, keep]
    Y_kk, Y_kd = Y[..., keep, :][..., :, keep], Y[..., keep, :][..., :, drop]
    Y_dk, Y_dd = Y[..., drop, :][..., :, keep], Y[..., drop, :][..., :, drop]
    return Y_kk - Y_kd @ np.linalg.solve(Y_dd, Y_dk)


def two_terminal_impedance(Y: np.ndarray, a: int, b: int) -> np.ndarray:
    """Z (ohm) between terminals a and b, every other terminal drawing no current: with b
    at 0 V, 1 / Y_aa of the network reduced to (a, b)."""
    return 1.0 / open_circuit(Y, [a, b])[..., 0, 0]


def three_electrode(Y: np.ndarray, we: int, ce: int, re: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Z_cell, Z_WE-RE, Z_RE-CE) in ohm, as a potentiostat measures them: the current
    flows from the WE to the CE (at 0 V), the reference draws none, every other terminal
    floats too."""
    Y3 = open_circuit(Y, [we, ce, re])
    V_re = -Y3[..., 2, 0] / Y3[..., 2, 2]           # WE at 1 V, no current into the RE
    I_we = Y3[..., 0, 0] + Y3[..., 0, 2] * V_re
    return 1.0 / I_we, (1.0 - V_re) / I_we, V_re / I_we
