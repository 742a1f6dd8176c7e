"""`constriction study run | status | table`: the study verbs of the command line."""

from __future__ import annotations

import json
import sys

from .spec import SpecError
from .study import load_study, run_study, status, study_from_dict


def study_command(args) -> int:
    try:
        if args.verb == "run":
            return _run(args)
        if args.verb == "status":
            return _status(args)
        if args.verb == "plot":
            return _plot(args)
        return _table(args)
    except SpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _run(args) -> int:
    study = load_study(args.study)
    saved = args.out / "study.json"
    if saved.is_file() and json.loads(saved.read_text()) != study.source:
        raise SpecError(str(args.out), "holds a different study; use a new --out folder")
    args.out.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(study.source, indent=1))
    run_study(study, args.out, workers=args.workers, scheduler=args.scheduler, serial=args.serial)
    _print_status(study, args.out)
    print(f"results: {args.out / 'results.nc'}")
    return 0


def _saved_study(folder):
    saved = folder / "study.json"
    if not saved.is_file():
        raise SpecError(str(folder), "not a study folder (no study.json)")
    return study_from_dict(json.loads(saved.read_text()))


def _status(args) -> int:
    _print_status(_saved_study(args.dir), args.dir)
    return 0


def _print_status(study, folder):
    s = status(study, folder)
    print(f"{study.name}: {s['done']} done, {len(s['failed'])} failed, {s['pending']} pending "
          f"of {s['total']}")
    for key, failure in s["failed"].items():
        print(f"  failed {key} at {failure['coords']}: {failure['error']}")


def _table(args) -> int:
    import xarray as xr
    from .table import build_table
    study = _saved_study(args.dir)
    results = args.dir / "results.nc"
    if not results.is_file():
        raise SpecError(str(args.dir), "has no results.nc: run the study first")
    with xr.open_dataset(results) as ds:
        try:
            table = build_table(ds.load())
        except ValueError as err:
            raise SpecError(str(args.dir), str(err)) from None
    table.save(args.out)
    print(f"{study.name}: table over {', '.join(f'{k} {lo:g}..{hi:g}' for k, (lo, hi) in table.axes.items())}")
    print(f"table: {args.out}")
    return 0


def _plot(args) -> int:
    """trends.png: each scalar output against each axis, the other axes at their middle."""
    import xarray as xr
    from .plot import trends
    results = args.dir / "results.nc"
    if not results.is_file():
        raise SpecError(str(args.dir), "has no results.nc: run the study first")
    with xr.open_dataset(results) as ds:
        ds = ds.load()
    axes = [d for d in ds["status"].dims if d != "sample"]
    if not axes:
        raise SpecError(str(args.dir), "a study of random samples only has no axis to plot against")
    outputs = [k for k in ("R_cstr_ohm", "C_cstr_F", "tau_cstr_s") if k in ds] or \
        [k for k in ds.data_vars if ds[k].dims == ds["status"].dims and k != "status"][:3]
    panels = []
    for axis in axes:
        middle = {d: ds.sizes[d] // 2 for d in ds["status"].dims if d != axis}
        line = ds.isel(middle)
        fixed = ", ".join(f"{d} = {float(ds[d][i]):.3g}" for d, i in middle.items())
        panels.append((f"{axis}" + (f" ({fixed})" if fixed else ""), f"{axis} / {ds[axis].attrs.get('units', '1')}",
                       line[axis].values, {k.rsplit("_", 1)[0]: line[k].values for k in outputs}))
    path = args.dir / "trends.png"
    trends(panels, path, title=f"{ds.attrs.get('study', '')}: relative to the first point of each axis")
    print(f"trends: {path}")
    return 0
