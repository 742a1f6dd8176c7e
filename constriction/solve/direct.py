"""Admittance of a System: DC solves and the frequency-by-frequency reference sweep.

The WE is held at 1 V and the CE at 0 V. The current is read from the assembled residual
r = A x (consistent flux): I_we = sum of r over WE dofs, I_ce = -sum over CE dofs; their
difference is the conservation check reported with every result. The admittance is the
power the cell takes at 1 V, Y = x^T A x = I_we + x_free . r_free: equal to I_we for the
exact x, and stationary in its error (Dirichlet's principle: off by e^T A e for x + e),
so an iterative solve to a relative residual of 1e-8 still gives Y to ~1e-12.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from constriction.solve.fem import System
from constriction.solve.linalg import AMG_RTOL, factorize
from constriction.progress import Progress

# AMG-CG's relative residual for a DC solve: Y = x^T A x that R comes from is quadratic in the
# solution's error (the currents, the conservation check, are not). On the 128³ synthetic
# interface 1e-6 left R_dc within 3e-13 of a 1e-12 solve and current in = current out to 7e-9;
# 1e-8 leaves both far below the digits reported, in 2/3 of the iterations. (The WE's current
# alone is quadratic only for CG's iterates from zero: after the K-cycle's flexible CG it was
# off by 1e-8 at 48³.)
DC_RTOL = 1e-8
# A solve whose WE and CE currents differ by more than this (a tenth of what `run` calls a
# failed check) goes on from where it stopped to DC_RTOL * TIGHTER: on porous images
# (conducting blobs in an insulator: a small current against a large |b|, the WE's whole
# face) they differed by 8e-7 at 1e-8, by 2e-9 at 1e-10
CONSERVATION_GOAL = 1e-7
TIGHTER = 1e-2


@dataclass(frozen=True)
class Admittance:
    """Y (S) at each frequency, with the relative WE/CE current mismatch of each solve, and
    the potentials (V) that `probe_rows` pick out of each solution (probes x frequencies)."""
    frequency_Hz: np.ndarray
    Y_S: np.ndarray
    conservation: np.ndarray
    probe_potentials_V: np.ndarray | None = None


def driven_solve(A, we, ce, free, backend="auto", rtol: float = AMG_RTOL) -> tuple[complex, float, np.ndarray]:
    """Solve A x = 0 on `free` dofs with x = 1 on WE, 0 on CE and on every other dof.

    Returns (admittance Y, relative mismatch of WE and CE currents, x)."""
    A = A.tocsr()
    x = np.zeros(A.shape[0], dtype=A.dtype)
    x[we] = 1.0
    rhs = -(A @ x)[free]
    solve = factorize(A[free][:, free], backend, rtol)
    x[free] = solve(rhs)
    y, mismatch, r = _currents(A, x, we, ce, free)
    if mismatch > CONSERVATION_GOAL:  # an iterative solve that the currents say to take further
        x[free] = solve(rhs, x[free], rtol=rtol * TIGHTER)
        y, mismatch, r = _currents(A, x, we, ce, free)
    return y, mismatch, x


def _currents(A, x, we, ce, free) -> tuple[complex, float, np.ndarray]:
    """The admittance x^T A x, the relative mismatch of the WE's and the CE's currents, and
    the residual A x."""
    r = A @ x
    y_we, y_ce = r[we].sum(), -r[ce].sum()
    mismatch = abs(y_we - y_ce) / abs(y_we) if y_we != 0 else abs(y_ce)
    return y_we + x[free] @ r[free], mismatch, r


@dataclass(frozen=True)
class DCSolution:
    """A DC solve: the resistance (ohm; inf where nothing conducts), the relative mismatch
    of the WE's and the CE's currents, and the potential (V) of every dof (WE 1 V; None
    where nothing conducts; with gaps shorted, of the merged dofs)."""
    R_ohm: float
    mismatch: float
    x: np.ndarray | None


def dc_resistance(system: System, short_gaps: bool = False, backend="auto") -> tuple[float, float]:
    """DC resistance (ohm) and its conservation check (see dc_solution)."""
    solved = dc_solution(system, short_gaps, backend)
    return solved.R_ohm, solved.mismatch


def dc_solution(system: System, short_gaps: bool = False, backend="auto") -> DCSolution:
    """The DC solve of a System.

    Only dofs touched by conducting material are unknowns at DC: dofs inside a gap carry
    no current. With `short_gaps` every gap and pore dof joins the WE (those of a
    mirrored CE's gaps join the CE) and every void becomes one floating equipotential:
    the cell as seen at frequencies where the gas capacitances are shorts and the
    electrolyte still resistive (R_inf). R is inf for a blocking cell (no DC path)."""
    G, we, ce, component = system.G, system.we, system.ce, system.components
    if short_gaps:
        we, ce = np.union1d(we, system.shorted), np.union1d(ce, system.shorted_ce)
        if system.floating:
            P = _merging(G.shape[0], system.floating)
            G = (P.T @ G @ P).tocsr()
            we, ce = np.unique(P.indices[we]), np.unique(P.indices[ce])
            component = _components(G)
    if not np.intersect1d(component[we], component[ce]).size:
        return DCSolution(float("inf"), 0.0, None)  # nothing conducts from the WE to the CE
    fixed = np.zeros(G.shape[0], bool)
    fixed[we] = fixed[ce] = True
    free = np.flatnonzero(conducting_to(G, we, ce, component) & ~fixed)
    y, mismatch, x = driven_solve(G, we, ce, free, backend, DC_RTOL)
    return DCSolution((1.0 / y if y > 0 else float("inf")), mismatch, x)


def shorts_anything(system: System) -> bool:
    """Whether R_inf's cell differs from R_dc's: gas against an electrode to short, or a
    void to make one equipotential (else R_inf = R_dc, no second solve)."""
    return bool(system.shorted.size or system.shorted_ce.size or system.floating)


def _components(G: sp.csr_matrix) -> np.ndarray:
    """The conducting component (G) of every dof."""
    from scipy.sparse.csgraph import connected_components
    return connected_components(G, directed=False)[1]


def conducting_to(G: sp.csr_matrix, we: np.ndarray, ce: np.ndarray, component: np.ndarray) -> np.ndarray:
    """Whether each dof conducts (G, its `component`) to the WE or the CE: a conducting
    island that touches neither carries no DC current, and would leave G singular."""
    reaches = np.zeros(component.max() + 1, bool)
    reaches[component[we]] = reaches[component[ce]] = True
    return reaches[component] & (G.diagonal() > 0)


def _merging(n: int, groups) -> sp.csr_matrix:
    """P (n x m, 0/1) with one column per dof outside the groups and one per group:
    x = P y makes every group equipotential."""
    label = np.arange(n)
    for group in groups:
        label[group] = group[0]
    _, column = np.unique(label, return_inverse=True)
    return sp.csr_matrix((np.ones(n), (np.arange(n), column)), shape=(n, column.max() + 1))


def body_currents(system: System, x: np.ndarray, s: complex) -> list[complex]:
    """The current through each floating metal body (A per volt across the cell) at
    s = j omega: the sum of the currents leaving it where their real part is positive
    (the same enters elsewhere: the net current into a floating body is zero). On a mesh
    these are the consistent nodal fluxes of the body's surface dofs (fem.merge_bodies);
    on a voxel grid, the flows A_bj (x_j - x_b) along the edges out of the body."""
    if system.body_flux is not None:
        G_rows, C_rows, body = system.body_flux
        r = (G_rows + s * C_rows) @ x
        return [complex(r[(body == k) & (r.real > 0)].sum()) for k in range(len(system.bodies))]
    A = system.pencil(s)
    out = []
    for b in system.bodies:
        row = A.getrow(b)
        flows = row.data * (x[row.indices] - x[b])
        out.append(complex(flows[flows.real > 0].sum()))
    return out


def sweep_direct(system: System, frequency_Hz: np.ndarray, progress: bool = True,
                 probe_rows: sp.spmatrix | None = None) -> Admittance:
    """Reference sweep: one complex sparse factorisation (SuperLU, no pivoting) per frequency;
    `probe_rows` (probes x unknowns): the reference electrodes' potentials from each solution."""
    free = system.interior
    Y, check, probes = [], [], []
    bar = Progress("direct sweep", total=len(frequency_Hz), unit="frequency", enabled=progress)
    for f in frequency_Hz:
        y, mismatch, x = driven_solve(system.pencil(2j * np.pi * f), system.we, system.ce, free,
                                      backend="superlu")
        Y.append(y)
        check.append(mismatch)
        if probe_rows is not None:
            probes.append(probe_rows @ x)
        bar.update(f"{f:.3g} Hz")
    bar.close()
    return Admittance(np.asarray(frequency_Hz, float), np.array(Y), np.array(check),
                      np.column_stack(probes) if probes else None)
