"""Parameter studies: a base run spec, axes over any of its keys, each case run on Dask.

A study file (TOML) holds

    [study]   name, outputs (scalar summary keys to keep; the spectrum is always kept)
    [base]    the run spec, inline, or `spec = "path.toml"` (relative to the study file),
              with any tables given beside it ([base.mesh] ...) merged over the file's
    [[axes]]  name, key (a dotted spec key such as "contacts[0].radius_um"), and one of
              values = [...], linspace = [start, stop, num], logspace = [start, stop, num]
              (log10 of start and stop, as numpy); optional `per` = another spec key: the
              key is set to value x that key's value (dimensionless axes such as h / a)
              A series instead: name, specs = ["stage_0.toml", ...] (spec files of any
              source: Gmsh cells, images, mesh files; relative to the study file), and
              optional values (a time-like label per file, default 0, 1, ...) and unit;
              each stage is its file with the [base] tables merged over it ([base] is
              then optional). At most one series per study.
    [sample]  count, seed and [[sample.ranges]] (name, key, low, high, log, per):
              seeded random samples along one "sample" dimension

The grid is the outer product of the axes (and the samples). Every case is written, as
soon as it finishes, to `DIR/cases/<hash>.json`, named by a hash of its resolved spec:
re-running a study skips the cases already there, a failing case records its error and
the study goes on. `gather` turns the case files into one xarray Dataset.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import traceback
from copy import deepcopy
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

from constriction.io.folders import write_file, write_text
from constriction.io.spec_reader import spec_from_dict
from constriction.progress import Progress
from constriction.spec import SpecError

CHECKS = ("conservation_mismatch", "passive")  # kept for every case: WE/CE current mismatch, 1 if passive
SCALARS = ("R_dc_ohm", "R_inf_ohm", "R_bulk_ohm", "R_static_ohm", "R_dynamic_ohm", "R_cstr_ohm",
           "C_cstr_F", "tau_cstr_s", "R_arc_ohm", "f_apex_Hz", "dofs", "seconds")


@dataclass(frozen=True)
class Axis:
    """One study dimension: `name` sets spec `key` to value (x the value of `per`); or a
    series: the spec of each stage (`specs`, read from `files`) labelled by `values`."""
    name: str
    key: str
    values: tuple[float, ...]
    per: str | None = None
    specs: tuple[dict, ...] = ()     # a series: one spec per value
    files: tuple[str, ...] = ()
    unit: str = "1"

    @property
    def units(self) -> str:
        if self.specs:
            return self.unit
        return "1" if self.per else _units(self.key)


@dataclass(frozen=True)
class Study:
    name: str
    base: dict                          # a run spec as plain dicts
    axes: tuple[Axis, ...]              # the grid
    samples: tuple[Axis, ...] = ()      # random samples, all along one "sample" dimension
    outputs: tuple[str, ...] = SCALARS
    source: dict = field(default_factory=dict)  # the study as plain data, base inline


@dataclass(frozen=True)
class Case:
    key: str              # hash of the resolved spec
    coords: dict          # axis name -> value (and "sample" -> index)
    spec: dict            # the resolved run spec


def same_frequencies(f: np.ndarray, grid: np.ndarray) -> bool:
    """Whether two frequency grids (Hz) are the same to round-off."""
    return f.shape == grid.shape and np.allclose(f, grid, rtol=1e-12, atol=0.0)



def merged(spec: dict, changes: dict) -> dict:
    """`spec` with the tables of `changes` merged in, key by key."""
    out = deepcopy(spec)
    for key, value in changes.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def cases(study: Study) -> list[Case]:
    """Every case of the grid (x samples), with its resolved spec and hash key."""
    grid = list(product(*(range(len(a.values)) for a in study.axes)))
    n_samples = len(study.samples[0].values) if study.samples else 0
    out = []
    for index in grid:
        for s in range(max(n_samples, 1)):
            spec = deepcopy(study.base)
            for axis, i in zip(study.axes, index):  # a series' stage first: the other axes apply to it
                if axis.specs:
                    spec = merged(axis.specs[i], study.base)
            coords = {}
            for axis, i in zip(study.axes, index):
                coords[axis.name] = axis.values[i]
                if not axis.specs:
                    _apply(spec, axis, axis.values[i])
            if study.samples:
                coords["sample"] = s
                for axis in study.samples:
                    coords[axis.name] = axis.values[s]
                    _apply(spec, axis, axis.values[s])
            out.append(Case(key=case_key(spec), coords=coords, spec=spec))
    return out


def _apply(spec: dict, axis: Axis, value: float):
    value = value * (1.0 if axis.per is None else get_key(spec, axis.per))
    try:
        was_int = isinstance(get_key(spec, axis.key), int)
    except SpecError:  # a key the base does not set yet
        was_int = False
    set_key(spec, axis.key, int(round(value)) if was_int and float(value).is_integer() else float(value))


def case_key(spec: dict) -> str:
    """A stable hash of a resolved spec (16 hex digits)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _path(key: str) -> list:
    return [name if name else int(index) for name, index in _TOKEN.findall(key)]


def get_key(spec: dict, key: str):
    """The value at a dotted key such as "contacts[0].radius_um"."""
    node = spec
    try:
        for part in _path(key):
            node = node[part]
    except (KeyError, IndexError, TypeError):
        raise SpecError(key, "not in the base spec") from None
    return node


def set_key(spec: dict, key: str, value):
    """Set a dotted key; tables on the way are created, list items must exist."""
    parts = _path(key)
    node = spec
    try:
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
        node[parts[-1]] = value
    except (IndexError, TypeError, AttributeError):
        raise SpecError(key, "cannot be set in the base spec (is the list item there?)") from None


def _units(key: str) -> str:
    for suffix, unit in (("_um", "µm"), ("_Hz", "Hz"), ("_S_per_m", "S/m"), ("_ohm_cm2", "Ω cm²"),
                         ("_F_per_cm2", "F/cm²")):
        if key.endswith(suffix) or re.search(re.escape(suffix) + r"\[\d+\]$", key):
            return unit
    return "1"


# ---------------------------------------------------------------- one case (runs on a worker)

SPLIT_OUTPUTS = ("R_bulk_ohm", "R_static_ohm", "R_dynamic_ohm", "R_cstr_ohm")
ARC_OUTPUTS = ("C_cstr_F", "tau_cstr_s", "R_arc_ohm", "f_apex_Hz")


def run_case(case: Case, cases_dir: str, outputs: tuple[str, ...] = SCALARS) -> dict:
    """Run one case and write its file atomically; a failure is recorded, not raised.
    Only what `outputs` needs is computed: no fields, no plots, no CPE fit, the
    reference cells of the split only when one of its parts is kept, the constriction
    arc only when one of its numbers is."""
    from constriction.pipeline import run
    record = {"key": case.key, "coords": case.coords, "spec": case.spec}
    try:
        result = run(spec_from_dict(case.spec, name=case.key), progress=False, cpe_fit=False, fields=False,
                     split=any(k in outputs for k in SPLIT_OUTPUTS), arc=any(k in outputs for k in ARC_OUTPUTS),
                     error_estimate="never")
        record.update(status="ok", **_outputs(result))
    except Exception as err:  # a failing case must not stop the study
        record.update(status="failed", error=f"{type(err).__name__}: {err}",
                      traceback=traceback.format_exc(limit=5))
    _write_case(record, cases_dir)
    return {"key": case.key, "status": record["status"]}


def run_cases(batch: list[Case], cases_dir: str, outputs: tuple[str, ...] = SCALARS) -> list[dict]:
    """Run a batch of cases one after the other (one Dask task: small cases amortise
    the scheduling)."""
    return [run_case(case, cases_dir, outputs) for case in batch]


def _batches(todo: list[Case], n_workers: int, per_worker: int = 8) -> list[list[Case]]:
    """Consecutive cases in batches, at least `per_worker` batches per worker while
    there are enough cases (so that the last batches still balance the load)."""
    size = max(1, len(todo) // (per_worker * n_workers))
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def _write_case(record: dict, cases_dir: str | Path) -> None:
    write_text(Path(cases_dir) / f"{record['key']}.json", json.dumps(record, allow_nan=True))


def _after_crash(batch: list[Case], cases_dir: Path, error: BaseException) -> tuple[list[str], list[Case]]:
    """A batch whose worker died (Dask gives up after the workers running it died a few
    times). Its cases ran in order: those with a file finished, the first without one was
    running and is recorded as failed, the rest never started. Returns the statuses of
    the cases now recorded, and the cases to run again."""
    unfinished = [case for case in batch if not (cases_dir / f"{case.key}.json").is_file()]
    if unfinished:
        case = unfinished[0]
        _write_case({"key": case.key, "coords": case.coords, "spec": case.spec, "status": "failed",
                     "error": f"{type(error).__name__}: {error} (the worker running it stopped)"}, cases_dir)
    recorded = [case for case in batch if case not in unfinished[1:]]
    statuses = [json.loads((cases_dir / f"{case.key}.json").read_text())["status"] for case in recorded]
    return statuses, unfinished[1:]


def _outputs(result) -> dict:
    s = result.summary
    c = s.constriction
    arc = c.arc
    scalars = {"R_dc_ohm": s.R_dc_ohm, "R_inf_ohm": s.R_inf_ohm, "R_bulk_ohm": c.R_bulk_ohm,
               "R_static_ohm": c.R_static_ohm, "R_dynamic_ohm": c.R_dynamic_ohm, "R_cstr_ohm": c.R_cstr_ohm,
               "C_cstr_F": arc.C_cstr_F if arc else math.nan, "tau_cstr_s": arc.tau_cstr_s if arc else math.nan,
               "R_arc_ohm": arc.R_arc_ohm if arc else math.nan, "f_apex_Hz": arc.f_apex_Hz if arc else math.nan,
               "dofs": s.dofs, "seconds": sum(s.seconds.values())}
    checks = {"conservation_mismatch": s.conservation.worst, "passive": float(s.passive)}
    f, Z = result.spectrum.frequency_Hz, result.spectrum.Z_ohm
    record = {"scalars": {k: float(v) for k, v in scalars.items()}, "checks": checks,
              "frequency_Hz": f.tolist(), "Z_real_ohm": Z.real.tolist(), "Z_imag_ohm": Z.imag.tolist()}
    if result.probes is not None:  # what a three-electrode measurement records: Z_WE-RE of each probe
        record["Z_WE_RE_ohm"] = {name: [Z_k.real.tolist(), Z_k.imag.tolist()]
                                 for name, Z_k in zip(result.probes.names, result.probes.Z_we_re_ohm)}
    return record


# ---------------------------------------------------------------- the whole study

def check_scheduler(address: str, timeout_s: float = 5.0) -> None:
    """Refuse (SpecError on --scheduler) a Dask scheduler address that is malformed or
    that nothing answers at within `timeout_s`: before a study makes any folder."""
    import socket
    from urllib.parse import urlsplit
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        host, port = None, None
    if parts.scheme not in ("tcp", "tls") or not host or port is None or parts.path not in ("", "/"):
        raise SpecError("--scheduler", f"{address!r} is not a scheduler address (tcp://host:port, as "
                                       f"dask-scheduler prints it)")
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as err:
        raise SpecError("--scheduler", f"nothing answers at {address} ({err.strerror or err}); start "
                                       f"dask-scheduler there, or leave --scheduler out to run here") from None


def run_study(study: Study, out: str | Path, workers: int | None = None, scheduler: str | None = None,
              serial: bool = False, progress: bool = True):
    """Run every case not yet in `out`, then gather them to `out/results.nc`.

    serial: in this process, one case after the other (no Dask). Otherwise on a Dask
    cluster: the scheduler at `scheduler` (an address such as "tcp://host:8786"), or a
    local cluster of `workers` single-threaded processes (default: one per core); the
    cases go to it in batches, at least eight per thread (run_cases)."""
    out = Path(out)
    cases_dir = out / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    every = cases(study)
    todo = [c for c in every if not (cases_dir / f"{c.key}.json").is_file()]
    bar = Progress(study.name, total=len(every), unit="case", initial=len(every) - len(todo), enabled=progress)
    if serial:
        for case in todo:
            done = run_case(case, str(cases_dir), study.outputs)
            bar.update(done["status"])
    elif todo:
        from dask.distributed import Client, LocalCluster, as_completed
        if scheduler:
            client, cluster = Client(scheduler), None
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        try:
            by_key = {}

            def submit(batch):
                by_key[f"cases-{batch[0].key}"] = batch
                return client.submit(run_cases, batch, str(cases_dir.resolve()), study.outputs,
                                     key=f"cases-{batch[0].key}", pure=False)

            running = as_completed([submit(b) for b in _batches(todo, max(1, sum(client.nthreads().values())))])
            for future in running:
                batch = by_key[future.key]
                if future.status == "error":  # the worker died (or Dask failed)
                    statuses, rest = _after_crash(batch, cases_dir, future.exception())
                    if rest:  # cases that never started go out again
                        running.add(submit(rest))
                else:
                    statuses = [done["status"] for done in future.result()]
                for state in statuses:
                    bar.update(state)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    bar.close()
    dataset = gather(study, out)
    _write_netcdf(dataset, out / "results.nc")
    return dataset


def status(study: Study, out: str | Path) -> dict:
    """Counts of finished, failed and pending cases, and the errors of the failed ones."""
    cases_dir = Path(out) / "cases"
    done, failed, pending = 0, {}, 0
    for case in cases(study):
        path = cases_dir / f"{case.key}.json"
        if not path.is_file():
            pending += 1
            continue
        record = json.loads(path.read_text())
        if record["status"] == "ok":
            done += 1
        else:
            failed[case.key] = {"coords": record["coords"], "error": record["error"]}
    return {"total": done + len(failed) + pending, "done": done, "failed": failed, "pending": pending}


def gather(study: Study, out: str | Path):
    """The finished cases as an xarray Dataset: dims = axes (+ sample) + frequency_Hz;
    Z_real_ohm, Z_imag_ohm and the scalar outputs; missing or failed cases are NaN."""
    import xarray as xr
    cases_dir = Path(out) / "cases"
    dims = [a.name for a in study.axes] + (["sample"] if study.samples else [])
    shape = [len(a.values) for a in study.axes] + ([len(study.samples[0].values)] if study.samples else [])
    index = {a.name: {v: i for i, v in enumerate(a.values)} for a in study.axes}
    every = cases(study)
    first = every[0].spec  # the base, or a series' first stage
    frequencies = spec_from_dict(first).frequencies_Hz()
    Z = np.full(shape + [len(frequencies)], np.nan + 0j)
    three_electrode = {}  # probe name -> Z_WE-RE (shape + frequencies)
    scalars = {k: np.full(shape, np.nan) for k in study.outputs + CHECKS}
    state = np.full(shape, "pending", dtype=object)
    for case in every:
        at = tuple(index[a.name][case.coords[a.name]] for a in study.axes)
        at += (case.coords["sample"],) if study.samples else ()
        path = cases_dir / f"{case.key}.json"
        if not path.is_file():
            continue
        record = json.loads(path.read_text())
        state[at] = record["status"]
        if record["status"] != "ok":
            continue
        if not same_frequencies(np.array(record["frequency_Hz"]), frequencies):
            raise ValueError(f"case {case.key}: its frequencies differ from the first case's; "
                             f"a study must not change [sweep]")
        Z[at] = np.array(record["Z_real_ohm"]) + 1j * np.array(record["Z_imag_ohm"])
        for name, (re_, im_) in record.get("Z_WE_RE_ohm", {}).items():
            three_electrode.setdefault(name, np.full(Z.shape, np.nan + 0j))[at] = np.array(re_) + 1j * np.array(im_)
        for k in study.outputs:
            scalars[k][at] = record["scalars"][k]
        for k in CHECKS:
            scalars[k][at] = record.get("checks", {}).get(k, np.nan)
    coords = {a.name: (a.name, np.array(a.values), {"units": a.units, "key": a.key, "per": a.per or ""})
              for a in study.axes}
    for a in study.axes:
        if a.specs:  # a series: which spec each stage is
            coords[f"{a.name}_spec"] = (a.name, np.array(a.files, dtype=str))
    if study.samples:
        coords["sample"] = np.arange(shape[-1])
        for a in study.samples:
            coords[a.name] = ("sample", np.array(a.values), {"units": a.units, "key": a.key, "per": a.per or ""})
    coords["frequency_Hz"] = ("frequency_Hz", frequencies, {"units": "Hz"})
    data = {"Z_real_ohm": (dims + ["frequency_Hz"], Z.real, {"units": "Ω"}),
            "Z_imag_ohm": (dims + ["frequency_Hz"], Z.imag, {"units": "Ω"}),
            "status": (dims, state.astype(str))}
    for name, Z_re in three_electrode.items():
        data[f"Z_WE_{name}_real_ohm"] = (dims + ["frequency_Hz"], Z_re.real, {"units": "Ω"})
        data[f"Z_WE_{name}_imag_ohm"] = (dims + ["frequency_Hz"], Z_re.imag, {"units": "Ω"})
    for k, v in scalars.items():
        data[k] = (dims, v, {"units": _output_units(k)})
    return xr.Dataset(data, coords=coords, attrs={"study": study.name, "base_spec": json.dumps(first)})


def _output_units(name: str) -> str:
    return {"_ohm": "Ω", "_F": "F", "_s": "s", "_Hz": "Hz"}.get("_" + name.rsplit("_", 1)[-1], "1")


def _write_netcdf(dataset, path: Path):
    """Write atomically: a half-written results file never replaces a good one."""
    write_file(path, dataset.to_netcdf, ours=lambda p: True)  # results.nc in a study folder of ours
