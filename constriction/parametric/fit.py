"""Fitting a morphology to a measured spectrum with a lookup table, and the set of
morphologies consistent with it.

Per electrode area (ohm cm²) the model is

    z(f) = R_s + R_gb / (1 + j w tau_gb) + lambda * z_int(f; table axes)

z_int is the interface part of the table's unit cell: its impedance times its area, less
the electrolyte slab of the same cell (L / sigma in parallel with eps0 eps_r / L). The
scale lambda multiplies every length of the unit cell (z_int ~ lambda at the same f);
R_s is the series (bulk) resistance of the real pellet, R_gb || tau_gb an optional
grain-boundary arc. For every point of a grid over the table axes and tau_gb, R_s,
lambda and R_gb enter linearly and are solved by non-negative least squares; the misfit

    chi2 = sum |z(f) - z_meas(f)|^2 / (noise |z_meas(f)|)^2      (real and imaginary)

maps the table. With `noise` the relative noise of the measurement (default: the rms
Kramers-Kronig residual) and the table's own interpolation error added in quadrature,
every point with chi2 <= chi2_min + Delta, Delta the 95 % quantile of chi-square with as
many degrees of freedom as fitted parameters, is consistent with the measurement. If even
the best point misfits (chi2_min above its degrees of freedom), the noise is scaled up
until it does not, and the fit says by how much: the set then reflects what the model can
resolve. Where the best fit needs no interface at all (lambda = 0), or misfits by more
than UNEXPLAINED times what the measurement's own Kramers-Kronig residual and the table's
error allow, the table cannot explain the spectrum: the fit says so
and reports no morphology as consistent. Measured points outside the table's frequencies
are dropped, and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import product

import numpy as np
import xarray as xr
from scipy.optimize import nnls
from scipy.stats import chi2 as chi_square

from constriction.analysis.compare import at_frequencies
from constriction.units import CM2_PER_M2, UM
from constriction.io.spec_reader import spec_from_dict
from constriction.analysis.spectrum import Spectrum
from constriction.parametric.table import LookupTable



UNEXPLAINED = 3.0  # a misfit this many times what data and table resolve: not explained


@dataclass(frozen=True)
class MorphologyFit:
    best: dict[str, float]       # table axes, scale, R_s_ohm_cm2, R_gb_ohm_cm2, tau_gb_s
    chi2: xr.DataArray           # over the (refined) table axes, best over everything else
    consistent: xr.DataArray     # bool, same grid
    scale: xr.DataArray          # the best length scale at each point of the grid
    noise: float                 # relative noise used (after any scaling)
    fitted: Spectrum             # the best model, ohm cm², at the measured frequencies
    measured: Spectrum           # the measurement, ohm cm², where the table covers it
    points_dropped: int = 0      # measured points outside the table's frequencies
    noise_assumed: float = 0.0   # the relative noise before any widening
    noise_source: str = ""       # where noise_assumed came from
    explained: bool = True       # False: the table cannot explain the spectrum
    verdict: str = ""            # one sentence on how well the table explains it

    def summary(self) -> dict:
        consistent = self.consistent.values
        ranges = {}
        for d in self.chi2.dims:
            if not consistent.any():
                break
            values = np.broadcast_to(self.chi2[d].values.reshape(
                [-1 if k == d else 1 for k in self.chi2.dims]), consistent.shape)[consistent]
            ranges[d] = [float(values.min()), float(values.max())]
        return {"best": self.best, "explained": self.explained, "verdict": self.verdict,
                "points_used": int(len(self.measured.frequency_Hz)), "points_dropped": self.points_dropped,
                "noise_assumed": self.noise_assumed, "noise_source": self.noise_source,
                "noise": self.noise, "noise_widened_by": self.noise / self.noise_assumed,
                "consistent_points": int(consistent.sum()), "grid_points": int(consistent.size),
                "consistent_ranges": ranges}


def _refined(nodes: np.ndarray, refine: int) -> np.ndarray:
    """The table's nodes with refine - 1 log-spaced points between neighbours."""
    nodes = np.sort(nodes)
    between = [np.geomspace(a, b, refine + 1)[:-1] for a, b in zip(nodes[:-1], nodes[1:])]
    return np.concatenate(between + [nodes[-1:]])


def unit_cell(table: LookupTable, f: np.ndarray) -> tuple[float, np.ndarray]:
    """The table's unit cell: its area (m²) and its electrolyte slab per area at f (ohm m²)."""
    spec = spec_from_dict(json.loads(table.dataset.attrs["base_spec"])).at()
    if not hasattr(spec, "cell"):
        raise ValueError("the table was built from images: fitting needs a table of a Gmsh unit cell "
                         "(its interface part is the cell less its electrolyte slab)")
    area = spec.cell.top_area_um2 * UM**2
    L, sigma = spec.cell.thickness_um * UM, spec.electrolyte.sigma_S_per_m
    tau = spec.electrolyte.tau_s
    return area, L / sigma / (1 + 2j * np.pi * f * tau)


def interface_part(table: LookupTable, params: dict, f: np.ndarray, unit=None) -> np.ndarray:
    """The unit cell's interface impedance per area (ohm cm²) at f: Z A - slab.
    `unit`: unit_cell(table, f), when it is already at hand."""
    area, slab = unit or unit_cell(table, f)
    return (at_frequencies(table(params).spectrum, f) * area - slab) * CM2_PER_M2


def fit_morphology(measured: Spectrum, area_cm2: float, table: LookupTable, noise: float | None = None,
                   refine: int = 4, grain_boundary: bool = True,
                   gb_apex_Hz: tuple[float, float] | None = None,
                   table_error: float = 0.01) -> MorphologyFit:
    """Map the misfit of the table's morphologies to `measured` (ohm; electrode area in cm²).

    gb_apex_Hz: where the grain-boundary arc's apex may lie (default: anywhere in the
    measurement). A free arc can take the place of any one arc, the constriction's
    included, so bound it where the material's own arcs are known to be."""
    from constriction.io.measured import kramers_kronig
    f_table = table.dataset["frequency_Hz"].values
    inside = (measured.frequency_Hz >= f_table.min()) & (measured.frequency_Hz <= f_table.max())
    if inside.sum() < 5:
        raise ValueError("the table covers fewer than 5 of the measured frequencies")
    f = measured.frequency_Hz[inside]
    z = measured.Z_ohm[inside] * area_cm2
    # what the measurement and the table can resolve: the data's own Kramers-Kronig residual
    resolvable = float(np.hypot(max(kramers_kronig(Spectrum(f, z)).rms_residual, 1e-4), table_error))
    if noise is None:
        noise, source = resolvable, f"the rms Kramers-Kronig residual of the measurement, and the table's {table_error:.0%}"
    else:
        noise, source = float(np.hypot(noise, table_error)), f"given, and the table's {table_error:.0%}"
    noise_assumed = noise
    w = 2 * np.pi * f
    weight = 1.0 / np.abs(z)
    f_lo, f_hi = gb_apex_Hz or (f.min(), f.max())
    taus = [None] + (list(1 / (2 * np.pi * np.geomspace(f_lo, f_hi, 25))) if grain_boundary else [])

    unit = unit_cell(table, f)
    grid = {name: _refined(table.dataset[name].values, refine) for name in table.axes}
    names = list(grid)
    chi2 = np.full([len(v) for v in grid.values()], np.inf)
    scale = np.full(chi2.shape, np.nan)
    best = None
    for index in product(*(range(len(v)) for v in grid.values())):
        params = {n: float(grid[n][i]) for n, i in zip(names, index)}
        z_int = interface_part(table, params, f, unit)
        for tau in taus:
            columns = [np.ones_like(z), z_int] + ([1 / (1 + 1j * w * tau)] if tau else [])
            A = np.column_stack(columns) * weight[:, None]
            A = np.vstack([A.real, A.imag])
            b = np.concatenate([(z * weight).real, (z * weight).imag])
            x, residual = nnls(A, b)
            value = residual**2 / noise**2
            if value < chi2[index]:
                chi2[index], scale[index] = value, x[1]
            if best is None or value < best[0]:
                best = (value, params, x, tau)
    n_params = len(names) + 2 + (2 if grain_boundary else 0)
    dof = max(2 * len(f) - n_params, 1)
    chi2_min, params, x, tau = best
    widen = 1.0
    if chi2_min > dof:  # the model misfits more than the noise: widen to what it resolves
        widen = np.sqrt(chi2_min / dof)
        noise, chi2, chi2_min = noise * widen, chi2 / widen**2, dof
    consistent = chi2 <= chi2_min + chi_square.ppf(0.95, n_params)
    if x[1] <= 0:
        verdict = "the table cannot explain this spectrum: the best fit has no interface part at all (scale 0)"
    elif noise > UNEXPLAINED * resolvable:
        verdict = (f"the table cannot explain this spectrum: its best morphology misfits by {100 * noise:.2g} % rms, "
                   f"{noise / resolvable:.3g} times what the measurement's Kramers-Kronig residual and the table's "
                   f"error allow ({100 * resolvable:.2g} %)")
    else:
        verdict = ("within the noise assumed" if widen == 1 else
                   f"within {widen:.3g} times the noise assumed (the noise was widened to {100 * noise:.2g} %)")
    explained = x[1] > 0 and noise <= UNEXPLAINED * resolvable
    if not explained:
        consistent = np.zeros_like(consistent)
    coords = {n: (n, grid[n], table.dataset[n].attrs) for n in names}
    fitted = x[0] + x[1] * interface_part(table, params, f, unit) + (x[2] / (1 + 1j * w * tau) if tau else 0)
    return MorphologyFit(
        best={**params, "scale": float(x[1]), "R_s_ohm_cm2": float(x[0]),
              "R_gb_ohm_cm2": float(x[2]) if tau else 0.0, "tau_gb_s": float(tau) if tau else 0.0},
        chi2=xr.DataArray(chi2, coords=coords, dims=names, name="chi2"),
        consistent=xr.DataArray(consistent, coords=coords, dims=names, name="consistent"),
        scale=xr.DataArray(scale, coords=coords, dims=names, name="scale"),
        noise=float(noise), fitted=Spectrum(f, fitted), measured=Spectrum(f, z),
        points_dropped=int((~inside).sum()), noise_assumed=noise_assumed, noise_source=source,
        explained=bool(explained), verdict=verdict)
