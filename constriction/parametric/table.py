"""Lookup tables: a finished study's grid, interpolated.

The table's axes are the study's axes (make them dimensionless with `per`, e.g. spot
radius / period, gap height / spot radius), all positive. `table(params)` interpolates
the spectrum (log|Z| and phase) and the constriction parameters (log of each) linearly
in the logarithms of the axes, where power laws such as R ~ 1/a are straight lines,
and refuses any point outside the grid.

A table holds for the material and size of the study's base spec. Every length scaled
by lambda (with the materials unchanged) scales Z(f) by 1/lambda at the same f: pass
`scale` for that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from constriction.io.folders import write_file
from constriction.analysis.spectrum import Spectrum

PARAMETERS = ("R_dc_ohm", "R_inf_ohm", "R_cstr_ohm", "C_cstr_F", "tau_cstr_s")


class OutOfTable(ValueError):
    """A point outside the table's grid."""


@dataclass(frozen=True)
class TableValue:
    spectrum: Spectrum
    parameters: dict[str, float]


@dataclass(frozen=True)
class LookupTable:
    dataset: xr.Dataset  # dims: the axes and frequency_Hz

    @property
    def axes(self) -> dict[str, tuple[float, float]]:
        """Axis name -> (lowest, highest) value on the grid."""
        return {d: (float(self.dataset[d].min()), float(self.dataset[d].max()))
                for d in self.dataset["log_abs_Z"].dims if d != "frequency_Hz"}

    def __call__(self, params: dict[str, float] | None = None, scale: float = 1.0, **kw) -> TableValue:
        """Spectrum and constriction parameters at `params` (axis name -> value)."""
        params = {**(params or {}), **kw}
        self._check(params)
        single = {k: 0 for k in params if self.dataset.sizes[k] == 1}  # fixed in the study
        ds = self.dataset.isel(single)
        ds = ds.assign_coords({k: np.log(ds[k]) for k in params if k not in single})
        at = ds.interp({k: np.log(float(v)) for k, v in params.items() if k not in single},
                       method="linear")
        Z = np.exp(at["log_abs_Z"].values + 1j * at["phase_rad"].values) / scale
        parameters = {}
        for name in PARAMETERS:
            if f"log_{name}" in at:
                value = float(np.exp(at[f"log_{name}"].values))
                parameters[name] = value * _length_power(name, scale)
        return TableValue(Spectrum(self.dataset["frequency_Hz"].values, Z), parameters)

    def _check(self, params: dict):
        axes = self.axes
        missing = set(axes) - set(params)
        unknown = set(params) - set(axes)
        if missing or unknown:
            raise OutOfTable(f"the table's axes are {', '.join(axes)}; "
                             + (f"missing {', '.join(sorted(missing))}" if missing else "")
                             + ("; " if missing and unknown else "")
                             + (f"unknown {', '.join(sorted(unknown))}" if unknown else ""))
        for name, value in params.items():
            lo, hi = axes[name]
            if not lo <= value <= hi:
                raise OutOfTable(f"{name} = {value:g} is outside the table ({lo:g} to {hi:g}); "
                                 f"extend the study rather than extrapolate")

    def save(self, path: str | Path):
        """Write the table atomically; an existing file is replaced only if it is a table."""
        write_file(path, self.dataset.to_netcdf, ours=is_table_file)


def _length_power(name: str, scale: float) -> float:
    """How a parameter scales with all lengths x scale: R ~ 1/scale, C ~ scale, tau ~ 1."""
    return {"C_cstr_F": scale, "tau_cstr_s": 1.0}.get(name, 1.0 / scale)


def build_table(results: xr.Dataset) -> LookupTable:
    """A table from a gathered study (grid axes only, every case finished)."""
    if "sample" in results.dims:
        raise ValueError("a lookup table needs a grid study: random samples cannot be interpolated")
    for d in results["status"].dims:
        if not (results[d] > 0).all():
            raise ValueError(f"axis {d} has values <= 0: table axes are interpolated in their logarithm")
    failed = results["status"].values != "ok"
    if failed.any():
        where = {d: results[d].values[i] for d, i in zip(results["status"].dims, np.argwhere(failed)[0])}
        raise ValueError(f"{int(failed.sum())} case(s) are not finished or failed (e.g. at {where}); "
                         f"run `constriction study status` and finish the study first")
    Z = results["Z_real_ohm"] + 1j * results["Z_imag_ohm"]
    data = {"log_abs_Z": np.log(np.abs(Z)),
            "phase_rad": xr.apply_ufunc(lambda z: np.unwrap(np.angle(z), axis=-1), Z)}
    for name in PARAMETERS:
        if name in results and bool((results[name] > 0).all()):
            data[f"log_{name}"] = np.log(results[name])
    ds = xr.Dataset(data, attrs={"kind": KIND, "study": results.attrs.get("study", ""),
                                 "base_spec": results.attrs.get("base_spec", json.dumps({}))})
    for d in ds.dims:
        ds[d].attrs.update(results[d].attrs)
    return LookupTable(ds)


KIND = "constriction lookup table"


def is_table_file(path: Path) -> bool:
    """Whether `path` is a lookup table that `study table` wrote."""
    try:
        with xr.open_dataset(path) as ds:
            return ds.attrs.get("kind") == KIND and "log_abs_Z" in ds
    except Exception:  # not netCDF, or unreadable: not ours
        return False


def open_table(path: str | Path) -> LookupTable:
    """Open a table written by `study table`; ValueError for any other file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such table")
    try:
        with xr.open_dataset(path) as ds:
            ds = ds.load()
    except Exception as err:
        raise ValueError(f"{path}: not a netCDF lookup table ({type(err).__name__})") from None
    if "log_abs_Z" not in ds or "frequency_Hz" not in ds.dims:
        what = "a study's results, not a table" if "Z_real_ohm" in ds else "not a lookup table"
        raise ValueError(f"{path}: {what}; build one with `constriction study table DIR --out TABLE.nc`")
    return LookupTable(ds)
