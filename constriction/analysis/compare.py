"""A measured spectrum beside a simulated one, in ohm cm² over each one's electrode area."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from constriction.analysis.spectrum import Spectrum


@dataclass(frozen=True)
class Comparison:
    """Both spectra as area-specific impedance (ohm cm²) and the relative residual
    (measured - simulated) / |simulated| at the measured frequencies the simulation covers."""
    measured: Spectrum
    simulated: Spectrum
    frequency_Hz: np.ndarray
    residual: np.ndarray  # complex

    @property
    def rms_residual(self) -> float:
        return float(np.sqrt(np.mean(np.abs(self.residual) ** 2)))


def at_frequencies(spectrum: Spectrum, f: np.ndarray) -> np.ndarray:
    """Z at f, interpolated linearly in log f (f inside the spectrum's range)."""
    order = np.argsort(spectrum.frequency_Hz)
    logf = np.log(spectrum.frequency_Hz[order])
    Z = spectrum.Z_ohm[order]
    return np.interp(np.log(f), logf, Z.real) + 1j * np.interp(np.log(f), logf, Z.imag)


def compare(measured: Spectrum, measured_area_cm2: float, simulated: Spectrum,
            simulated_area_cm2: float) -> Comparison:
    m = Spectrum(measured.frequency_Hz, measured.Z_ohm * measured_area_cm2)
    s = Spectrum(simulated.frequency_Hz, simulated.Z_ohm * simulated_area_cm2)
    inside = (m.frequency_Hz >= s.frequency_Hz.min()) & (m.frequency_Hz <= s.frequency_Hz.max())
    if not inside.any():
        raise ValueError(f"no overlap in frequency: measured {m.frequency_Hz.min():.3g}-"
                         f"{m.frequency_Hz.max():.3g} Hz, simulated {s.frequency_Hz.min():.3g}-"
                         f"{s.frequency_Hz.max():.3g} Hz")
    f = m.frequency_Hz[inside]
    Z_sim = at_frequencies(s, f)
    return Comparison(measured=m, simulated=s, frequency_Hz=f, residual=(m.Z_ohm[inside] - Z_sim) / np.abs(Z_sim))
