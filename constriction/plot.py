"""Figures: the Nyquist plot (equal axes, decade markers)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .spectrum import Spectrum  # noqa: E402

_PREFIXES = [(1e9, "GΩ"), (1e6, "MΩ"), (1e3, "kΩ"), (1.0, "Ω")]


def nyquist(spectrum: Spectrum, path: str | Path, title: str = "") -> None:
    """Nyquist plot, -Im Z against Re Z on equal axes, each decade of frequency marked."""
    Z = spectrum.Z_ohm
    finite = np.isfinite(Z)
    scale, unit = _ohm_unit(np.abs(Z[finite]).max() if finite.any() else 1.0)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(Z.real / scale, -Z.imag / scale, "-", color="C0", lw=1.5, label="simulated")
    for f_dec in _decades(spectrum.frequency_Hz):
        z = np.interp(np.log10(f_dec), np.log10(spectrum.frequency_Hz), Z.real) \
            + 1j * np.interp(np.log10(f_dec), np.log10(spectrum.frequency_Hz), Z.imag)
        ax.plot(z.real / scale, -z.imag / scale, "o", color="C1", ms=4)
        ax.annotate(f"$10^{{{int(round(math.log10(f_dec)))}}}$ Hz", (z.real / scale, -z.imag / scale),
                    textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(f"Re Z / {unit}")
    ax.set_ylabel(f"−Im Z / {unit}")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _ohm_unit(magnitude: float) -> tuple[float, str]:
    for scale, unit in _PREFIXES:
        if magnitude >= scale:
            return scale, unit
    return 1.0, "Ω"


def _decades(f: np.ndarray) -> np.ndarray:
    lo, hi = math.ceil(math.log10(f.min()) - 1e-9), math.floor(math.log10(f.max()) + 1e-9)
    return 10.0 ** np.arange(lo, hi + 1)
