"""Reading a study file (TOML; the tables are explained in parametric/study.py) to a
Study, every case's spec validated before anything runs."""

from __future__ import annotations

import math
from copy import deepcopy
from pathlib import Path

import numpy as np

from constriction.io.spec_reader import load_toml, read_toml, spec_from_dict
from constriction.io.toml_fields import array_of_tables, only_keys, short
from constriction.parametric.study import (SCALARS, Axis, Study, cases, get_key, merged, same_frequencies,
                                           set_key)
from constriction.spec import SpecError


def load_study(path: str | Path) -> Study:
    """Read and check a study file; every case's spec is validated before anything runs."""
    return load_toml(path, study_from_dict)


def study_from_dict(data: dict, base_dir: Path = Path("."), name: str = "study") -> Study:
    only_keys(data, "", {"study", "base", "axes", "sample"})
    head = data.get("study", {})
    if not isinstance(head, dict):
        raise SpecError("study", "must be a table ([study] with name and outputs)")
    only_keys(head, "study", {"name", "outputs"})
    name = head.get("name", name)
    if not isinstance(name, str) or not name.strip():
        raise SpecError("study.name", "must be a non-empty string")
    outputs = head.get("outputs", list(SCALARS))
    if not isinstance(outputs, list) or not outputs:
        raise SpecError("study.outputs", f"must be a list of names from {', '.join(SCALARS)}")
    for out in outputs:
        if out not in SCALARS:
            raise SpecError("study.outputs", f"unknown output {short(out)} (choose from {', '.join(SCALARS)})")
    axes = array_of_tables(data.get("axes", []), "axes")
    axes = tuple(_series(t, f"axes[{i}]", base_dir) if isinstance(t, dict) and ("specs" in t or "stages" in t) else _axis(t, f"axes[{i}]")
                 for i, t in enumerate(axes))
    if sum(bool(a.specs) for a in axes) > 1:
        raise SpecError("axes", "at most one series (specs = [...]) per study")
    series = any(a.specs for a in axes)
    base = _base(data.get("base", {} if series else None), base_dir, series)
    samples = _samples(data.get("sample"))
    names = [a.name for a in axes + samples]
    if len(set(names)) != len(names) or "sample" in names or "frequency_Hz" in names:
        raise SpecError("axes", "axis names must be unique, and neither 'sample' nor 'frequency_Hz'")
    if not names:
        raise SpecError("axes", "a study needs at least one [[axes]] or a [sample]")
    n_cases = math.prod(len(a.values) for a in axes) * (len(samples[0].values) if samples else 1)
    if n_cases > MAX_CASES:
        raise SpecError("axes", f"{n_cases:,} cases: more than {MAX_CASES:,} in one study")
    source = {**data, "study": {**head, "name": name}, "base": base,
              "axes": [_as_source(a, t) for a, t in zip(axes, data.get("axes", []))]}
    study = Study(name=name, base=base, axes=axes, samples=samples, outputs=tuple(outputs), source=source)
    grid = None  # the frequencies every case shares (the first case's)
    for case in cases(study):  # every case must build: fail here, before any meshing
        try:
            spec = spec_from_dict(case.spec)
        except SpecError as err:
            raise SpecError(err.key, f"{err.reason} (in the case {case.coords})") from None
        if spec.sweep.dc_only:
            raise SpecError("sweep.kind", f"a study keeps every case's spectrum: \"dc\" (no spectrum) is for "
                                          f"`constriction run` (in the case {case.coords})")
        grid = spec.frequencies_Hz() if grid is None else grid
        if not same_frequencies(spec.frequencies_Hz(), grid):
            raise SpecError("sweep", f"a study stores every case on one frequency axis: the case {case.coords} "
                                     f"sweeps other frequencies than the first case; vary no [sweep] key")
    return study


MAX_CASES = 100_000


def _base(base, base_dir: Path, series: bool = False) -> dict:
    """The base spec (paths in it made absolute); with a series, the tables merged over
    every stage (checked with each case, not alone)."""
    if not isinstance(base, dict):
        raise SpecError("base", "missing table: the run spec, inline or as `spec = \"file.toml\"`")
    if "spec" in base:
        if series:
            raise SpecError("base.spec", "a series gives each stage's spec: [base] only holds tables merged over them")
        if not isinstance(base["spec"], str):
            raise SpecError("base.spec", "must be the path of a spec file")
        spec_path = Path(base["spec"])
        spec_path = spec_path if spec_path.is_absolute() else base_dir / spec_path
        base = merged(_with_absolute_paths(read_toml(spec_path), spec_path.parent),
                       {k: v for k, v in base.items() if k != "spec"})
    if series:
        return base
    try:
        spec_from_dict(base, base_dir=base_dir)
    except SpecError as err:
        raise SpecError(f"base.{err.key}", err.reason) from None
    return _with_absolute_paths(base, base_dir)


FILE_KEYS = ("image.path", "layout.image", "mesh_file.path")  # files a spec names, relative to it


def _with_absolute_paths(spec: dict, folder: Path) -> dict:
    """The spec with the files it names made absolute (a case runs anywhere)."""
    spec = deepcopy(spec)
    for key in FILE_KEYS:
        try:
            value = get_key(spec, key)
        except SpecError:
            continue
        if isinstance(value, str) and not Path(value).is_absolute():
            set_key(spec, key, str((folder / value).resolve()))
    return spec


def _series(t: dict, where: str, base_dir: Path) -> Axis:
    """A series axis: one spec file per stage (`specs`), or the stages' specs inline
    (`stages`, as study.json keeps them), labelled by values (default 0, 1, ...)."""
    only_keys(t, where, {"name", "specs", "stages", "files", "values", "unit"})
    name = _text(t, "name", where)
    if ("specs" in t) == ("stages" in t):
        raise SpecError(where, "give either specs (files) or stages (inline specs)")
    if "stages" in t:
        specs = t["stages"]
        if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) for s in specs):
            raise SpecError(f"{where}.stages", "must be a non-empty list of spec tables")
        files = t.get("files", [f"stage {i}" for i in range(len(specs))])
    else:
        files, specs = t["specs"], []
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise SpecError(f"{where}.specs", "must be a non-empty list of spec file paths")
        for i, file in enumerate(files):
            path = Path(file) if Path(file).is_absolute() else base_dir / file
            try:
                specs.append(_with_absolute_paths(read_toml(path), path.parent))
            except SpecError as err:
                raise SpecError(f"{where}.specs[{i}]", f"{path}: {err.reason}") from None
    if not isinstance(files, list) or len(files) != len(specs) or not all(isinstance(f, str) for f in files):
        raise SpecError(f"{where}.files", f"must be a list of {len(specs)} names, one per stage")
    raw = t.get("values", list(range(len(specs))))
    if not isinstance(raw, list) or len(raw) != len(files):
        raise SpecError(f"{where}.values", f"must be a list of {len(specs)} labels, one per stage")
    values = [_finite(v, f"{where}.values[{i}]") for i, v in enumerate(raw)]
    if len(set(values)) != len(values):
        raise SpecError(f"{where}.values", "has duplicated labels: each stage needs its own")
    unit = t.get("unit", "1")
    if not isinstance(unit, str):
        raise SpecError(f"{where}.unit", "must be a string such as \"h\"")
    return Axis(name=name, key="", values=tuple(values), specs=tuple(specs),
                files=tuple(str(Path(f)) for f in files), unit=unit)


def _as_source(axis: Axis, table) -> dict:
    """An axis as the study's plain data records it (a series: its stages inline)."""
    if not axis.specs:
        return table
    return {"name": axis.name, "values": list(axis.values), "unit": axis.unit, "files": list(axis.files),
            "stages": list(axis.specs)}


def _text(t: dict, key: str, where: str) -> str:
    if not isinstance(t.get(key), str) or not t[key]:
        raise SpecError(f"{where}.{key}", "must be a non-empty string")
    return t[key]


def _finite(value, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise SpecError(where, f"must be a finite number, got {short(value)}")
    return float(value)


def _named(t, where: str, keys: set[str]) -> tuple[str, str, str | None]:
    """The name, key and per of an axis or sample range table, its keys checked."""
    if not isinstance(t, dict):
        raise SpecError(where, f"must be a table with {', '.join(sorted(keys))}")
    only_keys(t, where, keys)
    per = t.get("per")
    if per is not None and (not isinstance(per, str) or not per):
        raise SpecError(f"{where}.per", "must be a dotted spec key")
    return _text(t, "name", where), _text(t, "key", where), per


def _axis(t: dict, where: str) -> Axis:
    name, key, per = _named(t, where, {"name", "key", "values", "linspace", "logspace", "per"})
    given = [k for k in ("values", "linspace", "logspace") if k in t]
    if len(given) != 1:
        raise SpecError(where, "give exactly one of values, linspace, logspace")
    raw, kind = t[given[0]], given[0]
    if kind == "values":
        if not isinstance(raw, list) or not raw:
            raise SpecError(f"{where}.values", "must be a non-empty list of numbers")
        values = [_finite(v, f"{where}.values[{i}]") for i, v in enumerate(raw)]
    else:
        if not isinstance(raw, list) or len(raw) != 3:
            raise SpecError(f"{where}.{kind}", "must be [start, stop, num]")
        start, stop = (_finite(v, f"{where}.{kind}") for v in raw[:2])
        num = raw[2]
        if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= MAX_CASES:
            raise SpecError(f"{where}.{kind}", f"num must be an integer from 1 to {MAX_CASES:,}, got {short(num)}")
        if kind == "logspace" and max(abs(start), abs(stop)) > 300:
            raise SpecError(f"{where}.logspace", "start and stop are exponents of 10: beyond ±300")
        values = list((np.linspace if kind == "linspace" else np.logspace)(start, stop, num))
    if len(set(values)) != len(values):
        raise SpecError(where, "has duplicated values: each point of an axis must be distinct")
    return Axis(name=name, key=key, values=tuple(float(v) for v in values), per=per)


def _samples(t) -> tuple[Axis, ...]:
    if t is None:
        return ()
    if not isinstance(t, dict):
        raise SpecError("sample", "must be a table with count, seed and [[sample.ranges]]")
    only_keys(t, "sample", {"count", "seed", "ranges"})
    count, seed = t.get("count"), t.get("seed", 0)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_CASES:
        raise SpecError("sample.count", f"must be an integer from 1 to {MAX_CASES:,}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SpecError("sample.seed", "must be a non-negative integer")
    ranges = array_of_tables(t.get("ranges", []), "sample.ranges")
    rng = np.random.default_rng(seed)
    out = []
    for i, r in enumerate(ranges):
        where = f"sample.ranges[{i}]"
        name, key, per = _named(r, where, {"name", "key", "low", "high", "log", "per"})
        for bound in ("low", "high"):
            if bound not in r:
                raise SpecError(f"{where}.{bound}", "missing key")
        low, high = _finite(r["low"], f"{where}.low"), _finite(r["high"], f"{where}.high")
        log = r.get("log", False)
        if not isinstance(log, bool):
            raise SpecError(f"{where}.log", "must be true or false")
        if not low < high or (log and low <= 0):
            raise SpecError(where, "needs low < high (and low > 0 for log)")
        u = rng.random(count)
        values = np.exp(np.log(low) + u * np.log(high / low)) if log else low + u * (high - low)
        out.append(Axis(name=name, key=key, values=tuple(values), per=per))
    if not out:
        raise SpecError("sample.ranges", "needs at least one range")
    return tuple(out)


# ---------------------------------------------------------------- cases
