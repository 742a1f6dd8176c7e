"""Figures: Nyquist (equal axes, decade markers), Bode, the distribution of relaxation
times, equipotential lines on a vertical section, and the figures of studies and fits.

Every function draws on the Axes it is given (`ax`, or `axes` for figures of several
panels) or, without one, on a new figure, and returns what it drew on; `save` writes a
figure to a file and closes it. Importing this module changes no matplotlib setting.

    fig, ax = plt.subplots()
    nyquist(spectrum, ax=ax)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

if TYPE_CHECKING:  # for annotations only: spectrum.py draws through this module
    from constriction.analysis.spectrum import Spectrum

_PREFIXES = [(1e9, "GΩ"), (1e6, "MΩ"), (1e3, "kΩ"), (1.0, "Ω")]
PHASE_HATCHES = {"metal": "////", "gas": "..", "insulator": "x"}  # on the equipotential section
MIN_NYQUIST_ASPECT = 1 / 3  # a Nyquist frame is never flatter (height / width) than this, nor taller than 1 / it


def nyquist(spectrum: Spectrum, ax=None, title: str = "", label: str = "simulated", largest_ohm: float | None = None):
    """Nyquist plot, -Im Z against Re Z on equal axes, each decade of frequency marked.
    `largest_ohm` sets the unit (Ω, kΩ, ...; default: this spectrum's largest |Z|): give
    the same to every spectrum drawn on one Axes."""
    Z = spectrum.Z_ohm
    finite = np.isfinite(Z)
    scale, unit = _ohm_unit(largest_ohm or (np.abs(Z[finite]).max() if finite.any() else 1.0))
    x, y = Z.real / scale, -Z.imag / scale
    fig, ax = _axes(ax, (6.4, 4.8))
    before = (ax.get_xlim(), ax.get_ylim()) if ax.lines else None  # another spectrum is there
    line, = ax.plot(x, y, ".-", lw=1.2, ms=3, label=label)
    span = max(np.ptp(x[finite]), np.ptp(y[finite]), 1e-300)
    last = None
    for f_dec in _decades(spectrum.frequency_Hz):
        at = np.log10(f_dec)
        logf = np.log10(spectrum.frequency_Hz)
        point = np.array([np.interp(at, logf, x), np.interp(at, logf, y)])
        if last is not None and np.hypot(*(point - last)) < 0.04 * span:
            continue  # too close to the last labelled decade to read
        ax.plot(*point, "o", color=line.get_color(), mec="k", ms=4)
        ax.annotate(f"$10^{{{int(round(at))}}}$ Hz", point, textcoords="offset points",
                    xytext=(4, 4), fontsize=7)
        last = point
    (x0, x1), (y0, y1) = _nyquist_frame(x[finite], y[finite])
    if before:  # a frame that holds the spectrum drawn there too
        (bx0, bx1), (by0, by1) = before
        x0, x1, y0, y1 = min(x0, bx0), max(x1, bx1), min(y0, by0), max(y1, by1)
    (x0, x1), (y0, y1) = _within_aspect((x0, x1), (y0, y1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"Re Z / {unit}")
    ax.set_ylabel(f"−Im Z / {unit}")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax


def _nyquist_frame(x: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """Limits of a Nyquist plot from its points: from Re Z = 0 where the spectrum spans at
    least half its largest Re Z (the usual frame), else around the data alone (a spectrum
    that is nearly a resistor would be a flat line far from the origin); from -Im Z = 0
    up, with margins."""
    span = max(np.ptp(x), 1e-300)
    x0 = 0.0 if x.min() <= 0.5 * x.max() else x.min() - 0.05 * span
    x1 = x.max() + 0.05 * (x.max() - x0)
    y0, y1 = min(0.0, y.min()), max(y.max(), 1e-300)
    return (min(x0, x.min()), x1), (y0, y1 + 0.15 * (y1 - y0))


def _within_aspect(x: tuple[float, float], y: tuple[float, float]) -> tuple[tuple, tuple]:
    """The frame widened (x about its middle, y upward from its floor) until its height
    over its width lies within MIN_NYQUIST_ASPECT .. 1 / MIN_NYQUIST_ASPECT: drawn to
    scale, a nearly resistive spectrum is a line along the bottom of a readable frame, not
    a frame one percent as tall as it is wide."""
    (x0, x1), (y0, y1) = x, y
    width, height = x1 - x0, y1 - y0
    if height < MIN_NYQUIST_ASPECT * width:
        y1 = y0 + MIN_NYQUIST_ASPECT * width
    elif width < MIN_NYQUIST_ASPECT * height:
        grow = (MIN_NYQUIST_ASPECT * height - width) / 2
        x0, x1 = x0 - grow, x1 + grow
    return (x0, x1), (y0, y1)


def save(drawn, path: str | Path, dpi: int = 150) -> Path:
    """Write the figure of `drawn` (an Axes, or a sequence of them) to `path` and close it."""
    ax = np.ravel(drawn)[0] if isinstance(drawn, (list, tuple, np.ndarray)) else drawn
    fig = ax.figure
    # the layout engine of _axes places everything; only an equal-aspect panel (Nyquist)
    # leaves bands it cannot fill, which a tight bounding box (a second draw) trims
    fig.savefig(path, dpi=dpi, bbox_inches="tight" if ax.get_aspect() == 1.0 else None)
    plt.close(fig)
    return Path(path)


def _axes(given, figsize, rows: int = 1, cols: int = 1, panels: bool = False, **shared):
    """(figure, axes): the given axes, or a new figure with rows x cols of them; one Axes,
    or with `panels` (or more than one) a flat array of them."""
    if given is None:
        fig, given = plt.subplots(rows, cols, figsize=figsize, **shared)
        fig.set_layout_engine("constrained" if panels or rows * cols > 1 else "tight")
    if not (panels or rows * cols > 1):
        return given.figure, given
    axes = np.ravel(np.array(given, dtype=object))
    if axes.size < rows * cols:
        raise ValueError(f"this figure needs {rows * cols} axes, got {axes.size}")
    return axes[0].figure, axes


def _ohm_unit(magnitude: float) -> tuple[float, str]:
    for scale, unit in _PREFIXES:
        if magnitude >= scale:
            return scale, unit
    return 1.0, "Ω"


def _decades(f: np.ndarray) -> np.ndarray:
    lo, hi = math.ceil(math.log10(f.min()) - 1e-9), math.floor(math.log10(f.max()) + 1e-9)
    return 10.0 ** np.arange(lo, hi + 1)


def bode(spectrum: Spectrum, axes=None, title: str = ""):
    """|Z| and phase against frequency, on two axes (top, bottom)."""
    f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
    fig, (top, bottom) = _axes(axes, (6.4, 5.2), rows=2, sharex=True)
    top.loglog(f, np.abs(Z), ".-", color="C0", lw=1.2, ms=3)
    top.set_ylabel("|Z| / Ω")
    bottom.semilogx(f, -np.degrees(np.angle(Z)), ".-", color="C1", lw=1.2, ms=3)
    bottom.set_ylabel("−phase / °")
    bottom.set_xlabel("frequency / Hz")
    top.set_title(title)
    for ax in (top, bottom):
        ax.grid(alpha=0.3, which="both")
    return np.array([top, bottom])


def drt(relaxation_times_s: np.ndarray, resistances_ohm: np.ndarray, ax=None, title: str = ""):
    """Discrete distribution of relaxation times: each parallel-RC term R_k at tau_k."""
    finite = np.isfinite(relaxation_times_s) & np.isfinite(resistances_ohm) & (resistances_ohm > 0)
    tau, R = relaxation_times_s[finite], resistances_ohm[finite]
    keep = R > 1e-6 * R.max() if R.size else finite[finite]  # terms too small to see
    tau, R = tau[keep], R[keep]
    scale, unit = _ohm_unit(R.max() if R.size else 1.0)
    fig, ax = _axes(ax, (6.4, 3.8))
    ax.vlines(tau, 0, R / scale, color="C0", lw=2)
    ax.plot(tau, R / scale, "o", color="C0", ms=4)
    ax.set_xscale("log")
    ax.set_xlabel("relaxation time τ / s")
    ax.set_ylabel(f"R_k / {unit}")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "distribution of relaxation times (reduced model)")
    ax.grid(alpha=0.3, which="both")
    return ax


def equipotentials(fields, axes=None, title: str = ""):
    """Equipotential lines (Re phi, WE at 1 V) on the vertical section through the cell
    axis, one panel per frequency: the picture of thesis Fig. 2a. What is not electrolyte
    on the section (metal, gas, insulator: `fields.section_phases`) is hatched, one
    hatch per phase, veiled in white and outlined in white (the potential runs on through
    an insulator or gas: its lines show faded)."""
    n = len(fields.frequency_Hz)
    fig, axes = _axes(axes, (4.2 * n, 4.2), cols=n, panels=True, sharey=True)
    levels = np.linspace(0.05, 0.95, 19)
    for ax, f, section in zip(axes, fields.frequency_Hz, fields.section):
        shown = ax.contourf(fields.section_x_um, fields.section_z_um, np.abs(section),
                            levels=np.linspace(0, 1, 21), cmap="viridis")
        ax.contour(fields.section_x_um, fields.section_z_um, section.real, levels=levels,
                   colors="k", linewidths=0.6)
        for name, mask in fields.section_phases.items():  # veiled, hatched and outlined
            ax.contourf(fields.section_x_um, fields.section_z_um, mask.astype(float), levels=[0.5, 1.5],
                        colors=[(1.0, 1.0, 1.0, 0.55)], hatches=[PHASE_HATCHES[name]])
            ax.contour(fields.section_x_um, fields.section_z_um, mask.astype(float), levels=[0.5],
                       colors="w", linewidths=1.0)
        ax.set_aspect("equal")
        ax.set_title(f"f = {f:.3g} Hz")
        ax.set_xlabel("x / µm")
    axes[0].set_ylabel("z / µm (counter electrode at 0)")
    if fields.section_phases:
        axes[-1].legend(handles=[Patch(facecolor="0.85", edgecolor="k", hatch=PHASE_HATCHES[name] * 2, label=name)
                                 for name in fields.section_phases], fontsize=7, loc="lower right")
    fig.colorbar(shown, ax=list(axes), label="|φ| / V", shrink=0.8)
    fig.suptitle(title or "equipotential lines (Re φ, 0.05 V apart)")
    return axes


def current_map(current, ax=None, title: str = ""):
    """Normal current density on the contacts, relative to its mean, seen from above."""
    fig, ax = _axes(ax, (5.6, 4.6))
    ratio = np.abs(current.j) / abs(current.mean)
    shown = ax.tripcolor(current.points_um[0], current.points_um[1], current.triangles.T, ratio,
                         shading="gouraud", cmap="inferno", vmin=0, vmax=min(ratio.max(), 3.0))
    fig.colorbar(shown, ax=ax, label="|j| / mean (clipped at 3)")
    ax.set_aspect("equal")
    ax.set_xlabel("x / µm")
    ax.set_ylabel("y / µm")
    ax.set_title(title or f"current density on the contacts, f = {current.frequency_Hz:.3g} Hz")
    return ax


def trends(panels, axes=None, title: str = ""):
    """Trend panels of a study, side by side. Each panel is (title, x label, x values,
    {series label: y values}); every series is drawn relative to its first value, on a
    log axis, so parameters of different units share a panel."""
    n = len(panels)
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig, axes = _axes(axes, (5.2 * cols, 3.9 * rows), rows=rows, cols=cols, panels=True)
    for ax, (panel_title, x_label, x, series) in zip(axes, panels):
        for k, (label, y) in enumerate(series.items()):
            y = np.asarray(y, float)
            ax.plot(x, y / y[0], marker="os^dv"[k % 5], ls=("-", "--", ":")[k % 3], color=f"C{k}",
                    ms=5 - k, label=label)  # distinct, so that coinciding series stay visible
        ax.set_yscale("log")
        ax.set_xlabel(x_label)
        ax.set_ylabel("relative to the first point")
        ax.set_title(panel_title)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return axes


def series(labels, label_name: str, Z_cell, evolution: dict, Z_we_re: dict | None = None, unit: str = "",
           axes=None, title: str = ""):
    """A series of morphologies (a study's series axis, its values `labels` in `unit`): the
    Nyquist plot of every stage, coloured from the first to the last (solid: the
    two-electrode cell, dashed: Z_WE-RE of each reference electrode), and beside it how the
    scalars in `evolution` ({name: value per stage}) move, each relative to the first
    stage. Z_cell: (stages, frequencies) complex, ohm; Z_we_re: {probe name: the same}."""
    fig, (nyq, trend) = _axes(axes, (11.0, 4.6), cols=2, panels=True)
    Z_cell = np.asarray(Z_cell)
    finite = np.isfinite(Z_cell)
    scale, ohm = _ohm_unit(np.abs(Z_cell[finite]).max() if finite.any() else 1.0)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(labels)))
    for k, (value, colour) in enumerate(zip(labels, colours)):
        nyq.plot(Z_cell[k].real / scale, -Z_cell[k].imag / scale, "-", color=colour, lw=1.3,
                 label=f"{label_name} = {value:g} {unit}".rstrip())
        for style, Z in zip(("--", ":", "-."), (Z_we_re or {}).values()):
            nyq.plot(Z[k].real / scale, -Z[k].imag / scale, style, color=colour, lw=1.0)
    for style, name in zip(("--", ":", "-."), Z_we_re or {}):
        nyq.plot([], [], style, color="0.4", label=f"WE-{name} (three-electrode)")
    nyq.set_aspect("equal", adjustable="datalim")
    nyq.set_xlabel(f"Re Z / {ohm}")
    nyq.set_ylabel(f"−Im Z / {ohm}")
    nyq.grid(alpha=0.3)
    nyq.legend(fontsize=7)
    for k, (name, y) in enumerate(evolution.items()):
        y = np.asarray(y, float)
        trend.plot(labels, y / y[0], marker="os^dv"[k % 5], ls="-", color=f"C{k}", label=name)
    trend.set_yscale("log")
    trend.set_xlabel(f"{label_name} / {unit}" if unit else label_name)
    trend.set_ylabel("relative to the first stage")
    trend.grid(alpha=0.3, which="both")
    trend.legend(fontsize=8)
    fig.suptitle(title)
    return np.array([nyq, trend], dtype=object)


def comparison(c, axes=None, title: str = ""):
    """Measured and simulated spectra (ohm cm²): Nyquist, Bode and the residuals."""
    fig, axes = _axes(axes, (10.5, 7.5), rows=2, cols=2)
    nyq, mag, phase, res = axes
    for s, style, label in ((c.measured, "o", "measured"), (c.simulated, "-", "simulated")):
        nyq.plot(s.Z_ohm.real, -s.Z_ohm.imag, style, ms=3, label=label)
        mag.loglog(s.frequency_Hz, np.abs(s.Z_ohm), style, ms=3, label=label)
        phase.semilogx(s.frequency_Hz, -np.degrees(np.angle(s.Z_ohm)), style, ms=3, label=label)
    nyq.set_aspect("equal", adjustable="datalim")
    nyq.set_xlabel("Re Z / Ω cm²")
    nyq.set_ylabel("−Im Z / Ω cm²")
    mag.set_ylabel("|Z| / Ω cm²")
    phase.set_ylabel("−phase / °")
    for ax in (mag, phase, res):
        ax.set_xlabel("frequency / Hz")
    res.semilogx(c.frequency_Hz, 100 * c.residual.real, "o-", ms=3, label="real")
    res.semilogx(c.frequency_Hz, 100 * c.residual.imag, "s-", ms=3, label="imaginary")
    res.axhline(0, color="k", lw=0.8)
    res.set_ylabel("(measured − simulated) / |simulated| / %")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title or f"measured vs simulated (rms residual {100 * c.rms_residual:.2g} %)")
    return axes


def kramers_kronig(kk, ax=None, title: str = ""):
    """Linear Kramers-Kronig residuals against frequency."""
    fig, ax = _axes(ax, (6.4, 3.8))
    f = kk.spectrum.frequency_Hz
    ax.semilogx(f, 100 * kk.residual_real, "o-", ms=3, label="real")
    ax.semilogx(f, 100 * kk.residual_imag, "s-", ms=3, label="imaginary")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("frequency / Hz")
    ax.set_ylabel("KK residual / % of |Z|")
    ax.set_title(title or f"linear Kramers–Kronig test, {kk.n_elements} RC elements, "
                          f"max {100 * kk.max_residual:.2g} %")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return ax


def consistent_region(fit, ax=None, title: str = "", truth: dict | None = None):
    """The misfit over the table's first two axes (best over everything else), the set of
    morphologies consistent with the measurement outlined, the best fit marked."""
    chi2 = fit.chi2
    names = list(chi2.dims)
    fig, ax = _axes(ax, (6.4, 4.8))
    if len(names) == 1:
        x = chi2[names[0]].values
        ax.semilogy(x, chi2.values, "o-", ms=3)
        ax.fill_between(x, chi2.values.min(), chi2.values.max(), where=fit.consistent.values, alpha=0.2,
                        label="consistent")
        ax.set_xlabel(names[0])
        ax.set_ylabel("χ²")
    else:
        other = names[2:]
        c2 = chi2.min(other) if other else chi2
        ok = fit.consistent.any(other) if other else fit.consistent
        x, y = c2[names[0]].values, c2[names[1]].values
        shown = ax.pcolormesh(x, y, np.log10(c2.values.T), shading="nearest", cmap="viridis_r")
        fig.colorbar(shown, ax=ax, label="log10 χ²")
        X, Y = np.meshgrid(x, y, indexing="ij")
        ax.plot(X[ok.values], Y[ok.values], "o", mfc="none", mec="w", mew=1.5, ms=9,
                label="consistent with the noise")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.plot(fit.best[names[0]], fit.best[names[1]], "r*", ms=12, label="best fit")
        if truth:
            ax.plot(truth[names[0]], truth[names[1]], "wx", ms=10, mew=2, label="true")
    ax.legend(fontsize=8, loc="best", facecolor="0.6")
    ax.set_title(title or f"morphologies consistent with the measurement ({int(fit.consistent.sum())} of "
                          f"{fit.consistent.size} grid points)")
    return ax
