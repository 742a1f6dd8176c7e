"""Reading a spectrum: its arcs as parallel R || C elements (ohm, F, s).

Apex method: each local maximum of -Im Z over frequency is an arc. For one parallel RC,
-Im Z = R w tau / (1 + (w tau)^2), so 1 / (-Im Z) = (tau/R) w + (1/(R tau)) / w is linear
in (w, 1/w): a least-squares fit on the apex and its two neighbours gives R and tau
exactly for an isolated arc. Overlapping arcs are then refined together by fitting
R0 - p(R1,C1) - p(R2,C2) - ... with impedance.py, starting from the apex values.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from constriction.analysis.spectrum import Spectrum
from constriction.units import CM2_PER_M2


@dataclass(frozen=True)
class Arc:
    """One parallel R || C arc."""
    R_ohm: float
    C_F: float

    @property
    def tau_s(self) -> float:
        return self.R_ohm * self.C_F

    @property
    def f_apex_Hz(self) -> float:
        return 1.0 / (2 * np.pi * self.tau_s)


@dataclass(frozen=True)
class ArcFit:
    """R_inf (ohm) in series with arcs ordered from high to low frequency."""
    R_inf_ohm: float
    arcs: tuple[Arc, ...]

    def impedance(self, frequency_Hz: np.ndarray) -> np.ndarray:
        w = 2 * np.pi * np.asarray(frequency_Hz, float)
        return self.R_inf_ohm + sum(a.R_ohm / (1 + 1j * w * a.tau_s) for a in self.arcs)


def apex_arcs(spectrum: Spectrum, min_height: float = 0.01) -> tuple[Arc, ...]:
    """Arcs at the local maxima of -Im Z higher than min_height of the tallest, from high
    to low frequency."""
    f, y = _by_frequency(spectrum)
    w = 2 * np.pi * f
    peaks = [i for i in range(1, len(y) - 1)
             if y[i] > y[i - 1] and y[i] >= y[i + 1] and y[i] > min_height * y.max()]
    arcs = []
    for i in peaks:
        near = slice(i - 1, i + 2)
        u = w[near] / w[i]  # scaled so that both columns are of order one
        (a, b), *_ = np.linalg.lstsq(np.column_stack([u, 1 / u]), 1 / y[near], rcond=None)
        if a <= 0 or b <= 0:  # not an RC shape here: plain apex, R = 2 max(-Im Z)
            a = b = 1 / (2 * y[i])
        R, tau = 1 / np.sqrt(a * b), np.sqrt(a / b) / w[i]
        arcs.append(Arc(R_ohm=R, C_F=tau / R))
    return tuple(sorted(arcs, key=lambda arc: arc.tau_s))


def fit_arcs(spectrum: Spectrum, n_arcs: int | None = None) -> ArcFit:
    """Fit R_inf - p(R1,C1) - ... to the spectrum, started from the apex estimates
    (the n_arcs largest, if given)."""
    arcs = apex_arcs(spectrum)
    if n_arcs is not None:
        arcs = tuple(sorted(sorted(arcs, key=lambda a: -a.R_ohm)[:n_arcs], key=lambda a: a.tau_s))
    if not arcs:
        raise ValueError("no arc in the spectrum: -Im Z has no maximum inside the frequency range")
    f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
    R_inf_guess = max(Z.real[np.argmax(f)], 1e-6 * Z.real.max())  # > 0: it scales the fit
    guess = [R_inf_guess] + [v for a in arcs for v in (a.R_ohm, a.C_F)]
    circuit = "R0" + "".join(f"-p(R{k},C{k})" for k in range(1, len(arcs) + 1))
    start, fitted = (_arc_fit(p) for p in (guess, _fit_circuit(circuit, guess, f, Z)))
    return min((fitted, start), key=lambda fit: _misfit(fit, spectrum))  # never worse than the start


def _fit_circuit(circuit: str, guess: list[float], f: np.ndarray, Z: np.ndarray, tol: float = 1e-14) -> np.ndarray:
    """Fit an impedance.py circuit, weighted by |Z|, each parameter scaled by its guess."""
    from impedance.models.circuits import CustomCircuit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # impedance.py warns about its own plotting back-ends
        model = CustomCircuit(circuit, initial_guess=guess).fit(
            f, Z, weight_by_modulus=True, x_scale=np.array(guess), xtol=tol, gtol=tol)
    return model.parameters_


def _arc_fit(p) -> ArcFit:
    arcs = tuple(Arc(R_ohm=p[k], C_F=p[k + 1]) for k in range(1, len(p), 2))
    return ArcFit(R_inf_ohm=p[0], arcs=tuple(sorted(arcs, key=lambda a: a.tau_s)))


def _misfit(fit: ArcFit, spectrum: Spectrum) -> float:
    """Relative misfit, each point weighted by |Z| as in the fit."""
    misfit = np.abs(fit.impedance(spectrum.frequency_Hz) / spectrum.Z_ohm - 1).max()
    return misfit if np.isfinite(misfit) else np.inf


def _by_frequency(spectrum: Spectrum) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(spectrum.frequency_Hz)
    return spectrum.frequency_Hz[order], -spectrum.Z_ohm.imag[order]


def constriction_arc(spectrum: Spectrum, R_dc_ohm: float, R_inf_ohm: float,
                     tau_electrolyte_s: float) -> Arc | None:
    """The constriction arc, whose resistance the DC solves fix: R_cstr,arc = R_dc - R_inf.

    Its capacitance comes from fitting the two-arc model (R_inf || C_el) - (R_arc || C_arc)
    to the spectrum with C_arc the only unknown: the electrolyte relaxes at its own
    tau = eps0 eps_r / sigma, so C_el = tau / R_inf. The arc is found even where it merges
    with the electrolyte's own. None without such an arc (R_dc = R_inf: no gaps;
    R_dc infinite: a blocking cell has a capacitor, not an arc)."""
    R_arc = R_dc_ohm - R_inf_ohm
    if not np.isfinite(R_dc_ohm) or R_arc <= 1e-6 * R_dc_ohm:
        return None
    f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
    w = 2 * np.pi * f

    bulk = R_inf_ohm / (1 + 1j * w * tau_electrolyte_s)

    def misfit(log_c):
        r = (bulk + R_arc / (1 + 1j * w * R_arc * np.exp(log_c[0])) - Z) / np.abs(Z)
        return np.concatenate([r.real, r.imag])

    from scipy.optimize import least_squares
    starts = [[np.log(t / R_arc)] for t in np.geomspace(tau_electrolyte_s, 1 / w.min(), 12)]
    best = min((least_squares(misfit, x0, xtol=1e-15, ftol=1e-15) for x0 in starts), key=lambda fit: fit.cost)
    return Arc(R_ohm=R_arc, C_F=float(np.exp(best.x[0])))


def normalisation_factors(thickness_m: float, electrode_area_m2: float, contact_area_m2: float,
                          sigma_S_per_m: float, R_series_ohm: float) -> dict[str, float]:
    """Factors that turn Z in ohm into the normalised forms electrochemists report:

    ohm_cm2_geometric     Z A_electrode (ohm cm2)
    ohm_cm2_contact       Z A_contact (ohm cm2)
    ohm_cm_cell_constant  Z A_electrode / d (ohm cm), i.e. Z divided by the cell constant
    ohm_cm2_calibrated    Z A_El,cal with A_El,cal = d / (sigma R_ser) (thesis L2116), R_ser
                          the series (bulk) resistance: corrects for static constriction
    """
    cm2 = CM2_PER_M2
    return {
        "ohm_cm2_geometric": electrode_area_m2 * cm2,
        "ohm_cm2_contact": contact_area_m2 * cm2,
        "ohm_cm_cell_constant": electrode_area_m2 / thickness_m * 1e2,
        "ohm_cm2_calibrated": thickness_m / (sigma_S_per_m * R_series_ohm) * cm2,
    }


@dataclass(frozen=True)
class DRT:
    """Distribution of relaxation times: Z(w) = R_inf + sum_k R_k / (1 + j w tau_k)."""
    tau_s: np.ndarray
    R_ohm: np.ndarray
    R_inf_ohm: float

    def impedance(self, frequency_Hz: np.ndarray) -> np.ndarray:
        w = 2 * np.pi * np.asarray(frequency_Hz, float)[:, None]
        return self.R_inf_ohm + (self.R_ohm / (1 + 1j * w * self.tau_s)).sum(axis=1)


def regularised_drt(spectrum: Spectrum, per_decade: int = 10, smoothing: float = 1e-3) -> DRT:
    """DRT of a measured spectrum: non-negative R_k on a log grid of tau extending a decade
    beyond the measured frequencies, fitted with weights 1/|Z| and a Tikhonov penalty
    `smoothing` on the second differences of R_k (non-negative least squares)."""
    from scipy.optimize import nnls

    f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
    w = 2 * np.pi * f[:, None]
    lo, hi = np.log10(1 / (2 * np.pi * f.max())) - 1, np.log10(1 / (2 * np.pi * f.min())) + 1
    tau = np.logspace(lo, hi, int(round((hi - lo) * per_decade)) + 1)
    kernel = 1 / (1 + 1j * w * tau)
    weight = 1 / np.abs(Z)[:, None]
    A = np.vstack([np.hstack([weight, kernel.real * weight]), np.hstack([0 * weight, kernel.imag * weight])])
    b = np.concatenate([Z.real, Z.imag]) * np.concatenate([weight[:, 0], weight[:, 0]])
    second = np.diff(np.eye(len(tau)), 2, axis=0) / np.abs(Z).max()
    penalty = np.hstack([np.zeros((len(second), 1)), np.sqrt(smoothing) * second])
    x, _ = nnls(np.vstack([A, penalty]), np.concatenate([b, np.zeros(len(second))]), maxiter=50 * len(tau))
    return DRT(tau_s=tau, R_ohm=x[1:], R_inf_ohm=x[0])


@dataclass(frozen=True)
class CPEArc:
    """R || CPE arc, Z = R / (1 + R Q (j w)^alpha); C_F is the effective capacitance
    (Q R)^(1/alpha) / R (Hsu-Mansfeld), tau_s = (R Q)^(1/alpha)."""
    R_ohm: float
    Q: float        # F s^(alpha - 1)
    alpha: float

    @property
    def tau_s(self) -> float:
        return (self.R_ohm * self.Q) ** (1 / self.alpha)

    @property
    def C_F(self) -> float:
        return self.tau_s / self.R_ohm


def fit_cpe_arc(spectrum: Spectrum, start: Arc, R_inf_ohm: float,
                f_max_Hz: float = np.inf) -> tuple[float, CPEArc]:
    """Fit R0 - p(R1, CPE1) to the part of the spectrum within three decades of the apex
    of `start` (an R || C estimate) and below f_max_Hz (where the next arc begins);
    returns (R0, the arc): a bounded least-squares fit in (log R0, log R, log Q, alpha),
    milliseconds, started from the R || C estimate."""
    from scipy.optimize import least_squares
    f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
    near = (np.abs(np.log10(f / start.f_apex_Hz)) <= 3) & (f <= f_max_Hz)
    f, Z = f[near], Z[near]
    jw = 2j * np.pi * f

    def misfit(p):
        R0, R, Q, alpha = np.exp(p[0]), np.exp(p[1]), np.exp(p[2]), p[3]
        r = (R0 + R / (1 + R * Q * jw**alpha) - Z) / np.abs(Z)
        return np.concatenate([r.real, r.imag])

    x0 = [np.log(max(R_inf_ohm, 1e-6 * start.R_ohm)), np.log(start.R_ohm), np.log(start.C_F), 0.98]
    quick = least_squares(misfit, x0, bounds=([-np.inf] * 3 + [0.3], [np.inf] * 3 + [1.0]),
                          xtol=1e-14, ftol=1e-14, gtol=1e-14)
    R0, R, Q, alpha = [float(np.exp(v)) for v in quick.x[:3]] + [float(quick.x[3])]
    return R0, CPEArc(R_ohm=R, Q=Q, alpha=alpha)


def cpe_arc_summary(spectrum: Spectrum, arc: Arc, R_inf_ohm: float, tau_electrolyte_s: float) -> dict:
    """R || CPE fit of the constriction arc (least squares),
    below the frequency halfway (in log) between its apex and the electrolyte's own; as
    plain numbers (ohm, F s^(alpha-1), F, s)."""
    f_electrolyte = 1 / (2 * np.pi * tau_electrolyte_s)
    R0, cpe = fit_cpe_arc(spectrum, arc, R_inf_ohm, f_max_Hz=np.sqrt(arc.f_apex_Hz * f_electrolyte))
    return {"R0_ohm": float(R0), "R_arc_ohm": float(cpe.R_ohm), "Q": float(cpe.Q), "alpha": float(cpe.alpha),
            "C_cstr_F": float(cpe.C_F), "tau_cstr_s": float(cpe.tau_s)}
