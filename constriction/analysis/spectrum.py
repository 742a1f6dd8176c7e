"""Spectrum: impedance Z (ohm) against frequency (Hz), with CSV input and output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CSV_HEADER = "frequency_Hz,Z_real_ohm,Z_imag_ohm"


@dataclass(frozen=True)
class Spectrum:
    frequency_Hz: np.ndarray
    Z_ohm: np.ndarray  # complex

    def to_csv(self, path: str | Path) -> None:
        table = np.column_stack([self.frequency_Hz, self.Z_ohm.real, self.Z_ohm.imag])
        np.savetxt(path, table, delimiter=",", header=CSV_HEADER, comments="", fmt="%.12e")

    @classmethod
    def from_csv(cls, path: str | Path) -> "Spectrum":
        f, re, im = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2).T
        return cls(frequency_Hz=f, Z_ohm=re + 1j * im)

    def nyquist(self, ax=None, **kw):
        """Draw the Nyquist plot on `ax` (or a new figure); returns the Axes."""
        from constriction.analysis.plot import nyquist
        return nyquist(self, ax=ax, **kw)

    def bode(self, axes=None, **kw):
        """Draw |Z| and phase on two `axes` (or a new figure); returns them."""
        from constriction.analysis.plot import bode
        return bode(self, axes=axes, **kw)
