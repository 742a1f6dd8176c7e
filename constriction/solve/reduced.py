"""Reduced-order model of the admittance pencil, for fast frequency sweeps.

Write the interior unknowns as x(s), solving (G_II + s C_II) x = -(g + s c) with
g = G_ID u, c = C_ID u and u = 1 on the WE. For real shifts s > 0 the matrix is
symmetric positive definite, so a real factorisation gives x(s) and its derivative
x'(s) = -(G_II + s C_II)^-1 (C_II x + c). The span V of such snapshots is used as a
Galerkin basis: G_r = V^T G_II V, C_r = V^T C_II V stay symmetric positive
(semi-)definite, so the reduced model is passive. Shifts are added greedily where two
successive models differ most, until they agree to `tol` everywhere in the band. On a
voxel grid with gas, insulators or floating islands of electrolyte the basis starts from the
snapshots at s -> 0 instead (moments.py), and shifts are added only where those no longer
change the model.

With the WE potential as one more unknown, the reduced impedance is

    Z(s) = R_series + sum_k r_k / (s + mu_k),   mu_k >= 0, r_k >= 0,

from the generalised eigenproblem of the bordered reduced pencil: poles -mu_k are the
discrete relaxation rates of the structure, each term an R_k = r_k / mu_k parallel to a
capacitor with tau_k = 1 / mu_k (mu_k = 0: a blocking capacitor 1 / r_k). R_series is 0
unless the WE has no capacitance of its own (an interface R_ct without a double layer):
then the WE unknown is condensed first and its 1 / g0 stays in series.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import scipy.linalg as la

from constriction.solve.fem import System
from constriction.solve.linalg import pattern_factorizer
from constriction.solve.moments import condensation
from constriction.progress import Progress

CANDIDATES_PER_DECADE = 20
MAX_SHIFTS = 40
ONE_FREQUENCY_BAND = 10.0  # a one-frequency sweep's model is built over [f / 10, 10 f]
# where a shift is at the worst change already: shifts up to half a decade either side of it
NEAR_WORST = 10.0 ** np.array([1 / 2, -1 / 2, 1 / 4, -1 / 4, 3 / 8, -3 / 8, 1 / 8, -1 / 8])
STALLS_TO_CONVERGE = 3  # shifts in a row (each in the widest gap) whose snapshots lie in the span
MAX_MOMENTS = 8     # snapshots at s -> 0 (moments.py) at the most ...
MOMENT_GAIN = 10.0  # ... each changing the model over the band by this much less than the one before


@dataclass(frozen=True)
class ReducedModel:
    """Pole-residue form of Z(s) (s in rad/s): Z = sum r_k / (s + mu_k)."""
    mu: np.ndarray            # relaxation rates (1/s), >= 0
    residues: np.ndarray      # r_k (ohm/s), >= 0
    shifts_Hz: np.ndarray     # real shifts used, as f = s / 2 pi
    estimated_error: float    # max relative change of Y over the band at the last step, or
                              # the part of the last snapshots outside the basis if larger
    order: int                # size of the reduced basis
    conservation: float       # max relative WE/CE current mismatch of the shift solves
    # for fields: the basis V of interior vectors, the projected pencil, and the dof sets
    basis: np.ndarray = field(repr=False, default=None)
    projection: "_Projection" = field(repr=False, default=None)
    interior: np.ndarray = field(repr=False, default=None)
    we: np.ndarray = field(repr=False, default=None)
    n_dofs: int = 0
    series_ohm: float = 0.0   # R_series: the WE's resistance with no capacitance beside it
    moments: int = 0          # snapshots at s -> 0 (moments.py) in the basis, before the shifts

    def potential(self, frequency_Hz: float) -> np.ndarray:
        """Complex potential (V) at every dof at one frequency, reconstructed from the
        reduced basis: x_I = V y with (G_r + s C_r) y = -(g_r + s c_r); WE 1 V, CE 0 V."""
        x = np.zeros(self.n_dofs, complex)
        x[self.we] = 1.0
        x[self.interior] = self.basis @ self.projection.state(2j * np.pi * frequency_Hz)
        return x

    def real_shifts(self, frequency_Hz: np.ndarray) -> np.ndarray:
        """Real shifts (Hz) for another basis over the same band (the terminal admittance's):
        this model's, or three over the band where its snapshots were all at s -> 0."""
        f = np.asarray(frequency_Hz, float)
        return self.shifts_Hz if len(self.shifts_Hz) else np.geomspace(f[0], f[-1], 3)

    def impedance(self, frequency_Hz: np.ndarray) -> np.ndarray:
        """Z (ohm) at the given frequencies (Hz)."""
        s = 2j * np.pi * np.asarray(frequency_Hz, float)[:, None]
        return self.series_ohm + (self.residues / (s + self.mu)).sum(axis=1)

    @property
    def relaxation_times_s(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return 1.0 / self.mu

    @property
    def resistances_ohm(self) -> np.ndarray:
        """R_k of each parallel-RC term (inf for a blocking term)."""
        with np.errstate(divide="ignore"):
            return self.residues / self.mu


@dataclass(frozen=True)
class _Projection:
    """The pencil projected on an orthonormal basis V of interior vectors."""
    G: np.ndarray
    C: np.ndarray
    g: np.ndarray
    c: np.ndarray
    g0: float
    c0: float

    def state(self, s: complex) -> np.ndarray:
        """Reduced unknowns y solving (G + s C) y = -(g + s c)."""
        return np.linalg.solve(self.G + s * self.C, -(self.g + s * self.c))

    def admittance(self, s: np.ndarray) -> np.ndarray:
        return np.array([self.g0 + si * self.c0 + (self.g + si * self.c) @ self.state(si) for si in s])

    def pole_residue(self) -> tuple[np.ndarray, np.ndarray, float]:
        """mu_k, r_k and R_series of Z(s) from the pencil bordered by the WE unknown. A WE
        without capacitance (c0 = 0, so c = 0: the pencil is positive semidefinite) is
        condensed: Z = 1 / g0 + (g / g0)^T (G - g g^T / g0 + s C)^-1 (g / g0)."""
        if self.c0 == 0:
            mu, W = la.eigh(self.G - np.outer(self.g, self.g) / self.g0, self.C)
            return np.clip(mu, 0.0, None), (W.T @ self.g / self.g0) ** 2, 1.0 / self.g0
        G = np.block([[np.array([[self.g0]]), self.g[None, :]], [self.g[:, None], self.G]])
        C = np.block([[np.array([[self.c0]]), self.c[None, :]], [self.c[:, None], self.C]])
        mu, W = la.eigh(G, C)
        return np.clip(mu, 0.0, None), W[0] ** 2, 0.0


def serial_inner(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A^T B for interior vectors (or columns) held whole here."""
    return A.T @ B


@dataclass(frozen=True)
class Pencil:
    """What the reduced model needs of G + s C on the interior unknowns I, as plain data and
    functions of interior vectors (numpy arrays: all of them, or a rank's rows over MPI):
    the WE's coupling g = G_IW 1, c = C_IW 1 and its own g0 = G_WW, c0 = C_WW; the CE's
    coupling ce_g = G_IC, ce_c = C_IC and ce_g0 = G_CW, ce_c0 = C_CW (the CE's current is
    -(ce_g + s ce_c) . x - (ce_g0 + s ce_c0)); products by G_II and C_II; `shift_solver(s)`,
    a solver solve(b, x0) of (G_II + s C_II) x = b; `condensed`, the s -> 0 snapshots
    (moments.py; None: none); `inner(A, B)`, A^T B over all of I."""
    g: np.ndarray
    c: np.ndarray
    g0: float
    c0: float
    ce_g: np.ndarray
    ce_c: np.ndarray
    ce_g0: float
    ce_c0: float
    G_product: Callable
    C_product: Callable
    shift_solver: Callable
    condensed: object = None
    inner: Callable = serial_inner


def system_pencil(system: System, backend: str = "auto", condense: bool | None = None) -> Pencil:
    """The Pencil of a System held whole here (condense: as for `reduce`)."""
    I = system.interior
    u = np.zeros(system.n_dofs)
    u[system.we] = 1.0
    Gu, Cu = system.G @ u, system.C @ u
    at_ce = np.zeros(system.n_dofs)
    at_ce[system.ce] = 1.0
    ce_G, ce_C = system.G @ at_ce, system.C @ at_ce
    if condense is None:  # voxel grids; condensation() says whether anything is capacitive or floats
        condense = system.grid is not None
    # every shift has the pattern of G_II + C_II; rows without conductance are gas or insulators
    factorize = pattern_factorizer(backend, capacitive=system.G.diagonal()[I] == 0)
    return Pencil(g=Gu[I], c=Cu[I], g0=float(u @ Gu), c0=float(u @ Cu), ce_g=ce_G[I], ce_c=ce_C[I],
                  ce_g0=float(u @ ce_G), ce_c0=float(u @ ce_C), G_product=partial(block_product, system.G, I),
                  C_product=partial(block_product, system.C, I),
                  shift_solver=lambda s: factorize(shifted_block(system, I, s), shift=s),
                  condensed=condensation(system, I, backend) if condense else None)


def reduce(system: System, f_min_Hz: float, f_max_Hz: float, tol: float = 1e-6,
           backend: str = "auto", progress: bool = True, condense: bool | None = None,
           dc_potential: np.ndarray | None = None) -> ReducedModel:
    """Build a reduced model accurate to about `tol` (relative, in Y) over [f_min, f_max]
    (one frequency, f_min = f_max: over the decade either side of it).

    condense: start from the snapshots at s -> 0 by condensation (solve/moments.py) instead
    of the lowest shift, taking more of them while each gains MOMENT_GAIN over the band;
    default: for voxel grids with capacitive unknowns or conducting islands. dc_potential:
    the DC solve's potentials at every dof (dc_solution), which the condensation's first
    snapshot then takes instead of solving the same system again."""
    I = system.interior
    pencil = system_pencil(system, backend, condense)
    model = reduce_pencil(pencil, f_min_Hz, f_max_Hz, tol, progress, None if dc_potential is None else dc_potential[I])
    return replace(model, interior=I, we=system.we, n_dofs=system.n_dofs)


def reduce_pencil(pencil: Pencil, f_min_Hz: float, f_max_Hz: float, tol: float = 1e-6, progress: bool = True,
                  dc_interior: np.ndarray | None = None) -> ReducedModel:
    """`reduce` on a Pencil (its basis: interior vectors as the pencil holds them);
    dc_interior: the DC solve's interior potentials."""
    if f_max_Hz <= f_min_Hz:
        f_min_Hz, f_max_Hz = f_min_Hz / ONE_FREQUENCY_BAND, f_max_Hz * ONE_FREQUENCY_BAND
    g, c, g0, c0, inner = pencil.g, pencil.c, pencil.g0, pencil.c0, pencil.inner
    candidates = np.logspace(np.log10(f_min_Hz), np.log10(f_max_Hz),
                             max(3, int(np.log10(f_max_Hz / f_min_Hz) * CANDIDATES_PER_DECADE) + 1))
    s_band = 2j * np.pi * candidates
    shifts = list(np.geomspace(f_min_Hz, f_max_Hz, 3))
    V = np.zeros((len(g), 0))
    Y_old, error, mismatch, stalled, n_moments, n_done = None, np.inf, 0.0, 0, 0, -1
    bar = Progress("reduced model", unit="step", enabled=progress, every_s=0.0)  # a shift, or a snapshot at s -> 0
    proj = None
    project = partial(_project, pencil)
    if pencil.condensed is not None:  # the snapshots at s -> 0 first; shifts only where they left the band
        V, proj, Y_old, error, mismatch, n_moments, worst = _moment_stage(pencil, project, s_band, tol, bar,
                                                                          dc_interior)
        shifts = [candidates[worst]] if error >= tol else []  # short, each where the models differ most
    informed = [True] * len(shifts)  # per shift: whether the change it makes counts as the error (_next_shift)
    for n_done in range(MAX_SHIFTS if shifts else 0):
        s = 2 * np.pi * shifts[n_done]
        solve = pencil.shift_solver(s)
        b = -(g + s * c)
        x = solve(b, _galerkin_guess(V, proj, s, b, inner))
        b = -(pencil.C_product(x) + c)
        dx = solve(b, _galerkin_guess(V, proj, s, b, inner))
        del solve  # the factorisation (or AMG hierarchy) goes before the next one is built
        y_we = g0 + s * c0 + inner(g + s * c, x)
        y_ce = -(inner(pencil.ce_g + s * pencil.ce_c, x) + pencil.ce_g0 + s * pencil.ce_c0)
        mismatch = max(mismatch, abs(y_we - y_ce) / abs(y_we))
        size = V.shape[1]
        V, outside = orthonormal_extend(V, np.column_stack([x, dx]), inner=inner)
        bar.update(f"shift {shifts[n_done]:.3g} Hz, order {V.shape[1]}")
        if V.shape[1] == size:  # nothing new at this shift: by itself that says little about
            stalled += 1        # convergence, so try where the shifts are sparsest; once
            if stalled == STALLS_TO_CONVERGE and Y_old is not None:  # several such shifts in a
                error = outside  # row add nothing, the basis holds the response everywhere
                break
            shifts.append(_widest_gap(shifts, f_min_Hz, f_max_Hz))
            informed.append(False)
            continue
        stalled = 0
        proj = project(V, proj)
        Y = proj.admittance(s_band)
        if Y_old is not None:
            change = np.abs(Y - Y_old) / np.abs(Y)
            error = max(change.max(), outside)
            if error < tol and informed[n_done]:
                break
            if n_done + 1 == len(shifts):  # a shift where the models differ most
                where, at_worst = _next_shift(candidates[np.argmax(change)], shifts, f_min_Hz, f_max_Hz)
                shifts.append(where)
                informed.append(at_worst)
        Y_old = Y
    bar.close(f"order {V.shape[1]}, estimated error {error:.1e} (tolerance {tol:.0e})")
    mu, r, series = proj.pole_residue()
    return ReducedModel(mu=mu, residues=r, series_ohm=series, shifts_Hz=np.array(shifts[:n_done + 1]),
                        moments=n_moments, estimated_error=float(error), order=V.shape[1], conservation=mismatch,
                        basis=V, projection=proj)


def _project(pencil: Pencil, V: np.ndarray, previous: _Projection | None = None) -> _Projection:
    """The pencil projected on the orthonormal columns of V (interior vectors). `previous`:
    the projection on V's first columns (orthonormal_extend only appends), so that only the
    new columns are multiplied by G and C (each product costs about a CG iteration)."""
    G_old, C_old = (np.zeros((0, 0)),) * 2 if previous is None else (previous.G, previous.C)
    new = V[:, G_old.shape[0]:]
    inner = pencil.inner
    return _Projection(G=_extended(G_old, inner(V, pencil.G_product(new))),
                       C=_extended(C_old, inner(V, pencil.C_product(new))),
                       g=inner(V, pencil.g), c=inner(V, pencil.c), g0=pencil.g0, c0=pencil.c0)


def _extended(M_r: np.ndarray, VtMV_new: np.ndarray) -> np.ndarray:
    """V^T M V for a symmetric M, from M_r = V_old^T M V_old (k x k) and V^T M V_new."""
    k, m = M_r.shape[0], VtMV_new.shape[0]
    out = np.empty((m, m))
    out[:k, :k] = M_r
    out[:, k:] = VtMV_new
    out[k:, :k] = out[:k, k:].T
    return out


def _moment_stage(pencil: Pencil, project, s_band: np.ndarray, tol: float, bar, dc_interior: np.ndarray | None = None):
    """The basis of the snapshots x_0, x_1, ... at s -> 0 (moments.py): at least two (what
    a shift gives: x and its derivative), more while each changes the model over the band
    by MOMENT_GAIN less than the one before, up to MAX_MOMENTS or until the change is below
    `tol`. Returns (V, projection, Y over the band, last change, the conservation check, the
    number of snapshots, the index in the band where the last change was largest). The
    check: the WE and CE currents to first order in s, I_0 + s I_1 (DC and the capacitance),
    their largest relative mismatch over the band."""
    g, c, inner, condensed = pencil.g, pencil.c, pencil.inner, pencil.condensed
    V, proj, Y_old, change, previous = np.zeros((len(g), 0)), None, None, np.inf, None
    we_current, ce_current = [], []
    for k, x in enumerate(condensed.moments(pencil.C_product, g, c, MAX_MOMENTS, dc_interior)):
        if k == 0:  # the s^k coefficients of both electrodes' currents (the WE at 1 V in x_0)
            we_current.append(pencil.g0 + inner(g, x))
            ce_current.append(-(inner(pencil.ce_g, x) + pencil.ce_g0))
        elif k == 1:
            we_current.append(pencil.c0 + inner(g, x) + inner(c, previous))
            ce_current.append(-(inner(pencil.ce_g, x) + inner(pencil.ce_c, previous) + pencil.ce_c0))
        previous = x
        V, _ = orthonormal_extend(V, x[:, None], inner=inner)
        proj = project(V, proj)
        Y = proj.admittance(s_band)
        bar.update(f"s -> 0, order {k} ({condensed.islands} islands condensed), basis {V.shape[1]}")
        if Y_old is not None:
            changes = np.abs(Y - Y_old) / np.abs(Y)
            last, change = change, float(changes.max())
            if change < tol or (k >= 2 and change > last / MOMENT_GAIN):
                break
        Y_old = Y
    (we_0, we_1), (ce_0, ce_1) = we_current, ce_current
    mismatch = float(np.max(np.abs((we_0 - ce_0) + s_band * (we_1 - ce_1)) / np.abs(we_0 + s_band * we_1)))
    return V, proj, Y, change, mismatch, k + 1, int(np.argmax(changes))


def _galerkin_guess(V: np.ndarray, proj, s: float, b: np.ndarray, inner=serial_inner) -> np.ndarray | None:
    """The solution of (G + s C) x = b within the span of V (the model so far): CG's start
    at a new shift, closest to x in the energy norm of all the basis holds (None: no model;
    what it saves: benchmarks/README.md, "An aggregation K-cycle instead of classical
    AMG")."""
    if proj is None:
        return None
    return V @ np.linalg.solve(proj.G + s * proj.C, inner(V, b))


def shifted_block(system: System, I: np.ndarray, s: complex):
    """(G + s C) restricted to the unknowns I, as CSR. Built at each shift: G_II and C_II
    are not kept beside G and C (their share of a run's memory: benchmarks/README.md,
    "What 256³ spends its time on")."""
    return restricted((system.G + s * system.C).tocsr(), I)


def block_product(M, I: np.ndarray, X: np.ndarray) -> np.ndarray:
    """M_II @ X, for X on the unknowns I (a vector or columns), without forming M_II."""
    full = np.zeros((M.shape[0],) + X.shape[1:], dtype=np.result_type(M.dtype, X.dtype))
    full[I] = X
    return (M @ full)[I]


def restricted(M, I: np.ndarray):
    """M restricted to the rows and columns I (one slice when I is 0, 1, ..., m - 1, as
    for a voxel grid, whose electrodes are its last unknowns)."""
    if I.size and I[0] == 0 and I[-1] == I.size - 1:
        return M[:I.size, :I.size].tocsr()
    return M[I][:, I].tocsr()


def _next_shift(worst: float, shifts: list[float], f_min: float, f_max: float) -> tuple[float, bool]:
    """The next shift (Hz) for the largest change between two models at `worst`: there, or,
    where a shift is there already (a real shift s = 2 pi f holds the response at j 2 pi f
    only approximately), beside it (NEAR_WORST); else the widest gap between the shifts and
    the band's ends. Also whether it is placed at or beside the worst change: only then is
    the change it makes an estimate of the model's error (a shift where the model already
    held adds nothing, and the models agree wherever neither holds; on a porous 16³ image,
    1 Hz - 100 MHz, that stopped at 4.5e-9 with the model 1.5e-3 off)."""
    for f in (worst, *(worst * NEAR_WORST)):
        if not np.isclose(shifts, f, rtol=1e-6).any():
            return f, True
    return _widest_gap(shifts, f_min, f_max), False


def _widest_gap(shifts: list[float], f_min: float, f_max: float) -> float:
    """The geometric midpoint of the widest gap (in log) between the shifts so far and the
    band's ends (Hz)."""
    f = np.sort(shifts + [f_min, f_max])
    k = np.argmax(np.diff(np.log(f)))
    return float(np.sqrt(f[k] * f[k + 1]))


def orthonormal_extend(V: np.ndarray, X: np.ndarray, drop: float = 1e-10,
                       inner=serial_inner) -> tuple[np.ndarray, float]:
    """Append the columns of X to the orthonormal V (Gram-Schmidt, twice), dropping
    directions already in the span. Also returns the largest relative part of a dropped
    column that lay outside the span (0 if none was dropped, or only zero columns). `inner`:
    as Pencil's."""
    outside = 0.0
    for x in X.T:
        norm = np.sqrt(inner(x, x))
        for _ in range(2):
            x = x - V @ inner(V, x)
        length = np.sqrt(inner(x, x))
        if length > drop * norm:
            V = np.column_stack([V, x / length])
        elif norm > 0:  # a zero column (a snapshot of a cell with nothing left to add) adds nothing
            outside = max(outside, length / norm)
    return V, outside
