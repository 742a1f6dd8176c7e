"""The checks every TOML section shares: each reads one value from a table and raises
SpecError with the dotted key and the reason when it is missing, of the wrong kind or out
of range. Used by the spec reader and by every geometry source's own section."""

from __future__ import annotations

import math
import re
from pathlib import Path

from constriction.materials import Material
from constriction.spec import (F_RANGE_HZ, MAX_EPS_R, MAX_LENGTH_UM, MAX_POINTS_PER_DECADE, MAX_SIGMA, MIN_LENGTH_UM,
                               SWEEP_KINDS, SpecError, Sweep)


def read_temperature(t: dict) -> float | None:
    only_keys(t, "conditions", {"temperature_K"})
    return positive(t, "temperature_K", "conditions", default=None)


def read_material(t: dict, where: str, other_keys: set[str] = frozenset()) -> Material:
    only_keys(t, where, {"sigma_S_per_m", "eps_r"} | other_keys)
    sigma = number(t, "sigma_S_per_m", where)
    if not sigma > 0:
        raise SpecError(f"{where}.sigma_S_per_m", f"must be > 0, got {sigma:g} (a material that does not "
                                                  f"conduct leaves no DC path: model gas as a gap, pore or void)")
    if sigma > MAX_SIGMA:
        raise SpecError(f"{where}.sigma_S_per_m", f"{sigma:g} S/m is above {MAX_SIGMA:g} S/m, more than any "
                                                  f"metal conducts (copper: 6e7 S/m); check the unit (S/m)")
    if positive(t, "eps_r", where) > MAX_EPS_R:
        raise SpecError(f"{where}.eps_r", f"must be at most {MAX_EPS_R:g}")
    activation = number(t, "activation_eV", where, default=0.0)
    if activation < 0:
        raise SpecError(f"{where}.activation_eV", f"must be >= 0, got {activation:g}")
    return Material(sigma_S_per_m=sigma, eps_r=positive(t, "eps_r", where), activation_eV=activation,
                    T_ref_K=positive(t, "T_ref_K", where, default=298.15))


def file_path(t: dict, key: str, where: str, base_dir: Path | None, what: str) -> Path:
    """The path t[key] (relative to `base_dir`, the spec's folder) of a file that exists;
    SpecError at where.key if it is missing, empty, absent or a folder (`what`: the file
    expected, for the message)."""
    if not isinstance(t.get(key), str) or not t[key]:
        raise SpecError(f"{where}.{key}", f"missing: {what}")
    path = Path(t[key])
    path = path if path.is_absolute() or base_dir is None else base_dir / path
    if path.is_dir():
        raise SpecError(f"{where}.{key}", f"{path} is a folder; {what} was expected")
    if not path.is_file():
        raise SpecError(f"{where}.{key}", f"no such file: {path}")
    return path


def read_seed(t: dict, where: str) -> int:
    """A random generator's seed (default 0): an integer >= 0, as numpy's generators take."""
    seed = t.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SpecError(f"{where}.seed", f"must be an integer >= 0, got {short(seed)}")
    return seed


def read_sweep(t: dict) -> Sweep:
    """[sweep]: f_min_Hz <= f_max_Hz (equal: one frequency), points_per_decade; or
    kind = "dc" (no spectrum; the frequencies may be left out)."""
    only_keys(t, "sweep", {"f_min_Hz", "f_max_Hz", "points_per_decade", "kind"})
    kind = t.get("kind", "spectrum")
    if kind not in SWEEP_KINDS:
        raise SpecError("sweep.kind", f"must be one of {', '.join(map(repr, SWEEP_KINDS))}, got {kind!r}")
    needed = kind != "dc" or {"f_min_Hz", "f_max_Hz"} & t.keys()
    f_min = positive(t, "f_min_Hz", "sweep") if needed else None
    f_max = positive(t, "f_max_Hz", "sweep") if needed else None
    for key, f in (("f_min_Hz", f_min), ("f_max_Hz", f_max)):
        if f is not None and not F_RANGE_HZ[0] <= f <= F_RANGE_HZ[1]:
            raise SpecError(f"sweep.{key}", f"{f:g} Hz is outside {F_RANGE_HZ[0]:g}..{F_RANGE_HZ[1]:g} Hz")
    if needed and f_min > f_max:
        raise SpecError("sweep.f_min_Hz", f"must be at most sweep.f_max_Hz ({f_min:g} > {f_max:g}; "
                                          f"equal: one frequency)")
    ppd = t.get("points_per_decade", 10)
    if not isinstance(ppd, int) or isinstance(ppd, bool) or not 1 <= ppd <= MAX_POINTS_PER_DECADE:
        raise SpecError("sweep.points_per_decade", f"must be an integer from 1 to {MAX_POINTS_PER_DECADE}")
    return Sweep(f_min_Hz=f_min, f_max_Hz=f_max, points_per_decade=ppd, kind=kind)


def array_of_tables(items, key: str, what: str = "") -> list:
    """`items` if it is a list (a TOML array of tables [[key]]), else SpecError at `key`
    (`what`: what each table holds, for the message)."""
    if not isinstance(items, list):
        raise SpecError(key, f"must be an array of tables ([[{key}]]{what})")
    return items


def subtable(data: dict, key: str, parent: str = "", required: bool = False) -> dict:
    where = f"{parent}.{key}" if parent else key
    if key not in data:
        if required:
            raise SpecError(where, "missing table")
        return {}
    if not isinstance(data[key], dict):
        raise SpecError(where, "must be a table")
    return data[key]


def only_keys(t: dict, where: str, allowed: set[str]):
    for key in t:
        if key not in allowed:
            key = key if key.isprintable() and key.strip() == key and key else repr(key)
            full = f"{where}.{key}" if where else key
            raise SpecError(full, f"unknown key (allowed: {', '.join(sorted(allowed))})")


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def number(t: dict, key: str, where: str, default=...):
    if key not in t:
        if default is ...:
            raise SpecError(f"{where}.{key}", "missing key")
        return default
    if not is_number(t[key]):
        raise SpecError(f"{where}.{key}", f"must be a finite number, got {short(t[key])}")
    value = float(t[key])
    if key.endswith("_um") and abs(value) > MAX_LENGTH_UM:
        raise SpecError(f"{where}.{key}", f"{value:g} µm is beyond {MAX_LENGTH_UM:g} µm (lengths are in µm)")
    if key.endswith("_um") and 0 < abs(value) < MIN_LENGTH_UM:
        raise SpecError(f"{where}.{key}", f"{value:g} µm is below {MIN_LENGTH_UM:g} µm, smaller than an atom "
                                          "(lengths are in µm)")
    return value


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def positive(t: dict, key: str, where: str, default=...):
    value = number(t, key, where, default)
    if value is not None and value <= 0:
        raise SpecError(f"{where}.{key}", f"must be > 0, got {value:g}")
    return value


def choice(t: dict, key: str, where: str, options: tuple[str, ...]) -> str:
    if key not in t:
        raise SpecError(f"{where}.{key}", "missing key")
    if t[key] not in options:
        raise SpecError(f"{where}.{key}", f"must be one of {', '.join(options)}, got {short(t[key])}")
    return t[key]


def probe_name(t: dict, where: str, index: int, taken) -> str:
    """A reference electrode's name: letters, digits and _ (it heads CSV columns), not
    `taken`; RE<index + 1> by default."""
    name = t.get("name", f"RE{index + 1}")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise SpecError(f"{where}.name", "must be a name of letters, digits and _ (it heads CSV columns)")
    if name in taken:
        raise SpecError(f"{where}.name", f"{name!r} is taken by another probe")
    return name
