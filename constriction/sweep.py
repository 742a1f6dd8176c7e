"""Admittance of a System: DC solves and the frequency-by-frequency reference sweep.

The WE is held at 1 V and the CE at 0 V. The current is read from the assembled residual
r = A x (consistent flux): Y_we = sum of r over WE dofs, Y_ce = -sum over CE dofs. Both are
the admittance (S); their difference is the conservation check reported with every result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from .fem import System
from .linalg import factorize


@dataclass(frozen=True)
class Admittance:
    """Y (S) at each frequency, with the relative WE/CE current mismatch of each solve."""
    frequency_Hz: np.ndarray
    Y_S: np.ndarray
    conservation: np.ndarray


def driven_solve(A, we, ce, free, backend="auto") -> tuple[complex, float, np.ndarray]:
    """Solve A x = 0 on `free` dofs with x = 1 on WE, 0 on CE and on every other dof.

    Returns (admittance Y, relative mismatch of WE and CE currents, x)."""
    A = A.tocsr()
    x = np.zeros(A.shape[0], dtype=A.dtype)
    x[we] = 1.0
    rhs = -(A[free][:, we] @ np.ones(len(we), dtype=A.dtype))
    x[free] = factorize(A[free][:, free], backend)(rhs)
    r = A @ x
    y_we, y_ce = r[we].sum(), -r[ce].sum()
    mismatch = abs(y_we - y_ce) / abs(y_we) if y_we != 0 else abs(y_ce)
    return y_we, mismatch, x


def dc_resistance(system: System, short_gaps: bool = False, backend="auto") -> tuple[float, float]:
    """DC resistance (ohm) and its conservation check.

    Only dofs touched by conducting material are unknowns at DC: dofs inside a gap carry
    no current. With `short_gaps` every gap dof joins the WE, which is the cell as seen at
    frequencies where the gap capacitance is a short and the electrolyte still resistive
    (R_inf). Returns inf for a blocking cell (no DC path)."""
    G = system.G
    we = np.union1d(system.we, system.shorted) if short_gaps else system.we
    conducting = G.diagonal() > 0
    free = np.setdiff1d(np.flatnonzero(conducting), np.union1d(we, system.ce))
    y, mismatch, _ = driven_solve(G, we, system.ce, free, backend)
    return (1.0 / y if y > 0 else float("inf")), mismatch


def sweep_direct(system: System, frequency_Hz: np.ndarray, progress: bool = True) -> Admittance:
    """Reference sweep: one complex sparse factorisation (SuperLU, no pivoting) per frequency."""
    free = system.interior
    Y, check = [], []
    for f in tqdm(frequency_Hz, desc="direct sweep", unit="f", leave=False,
                  disable=None if progress else True):
        y, mismatch, _ = driven_solve(system.pencil(2j * np.pi * f), system.we, system.ce, free,
                                      backend="superlu")
        Y.append(y)
        check.append(mismatch)
    return Admittance(np.asarray(frequency_Hz, float), np.array(Y), np.array(check))
