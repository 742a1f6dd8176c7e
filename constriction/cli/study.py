"""`constriction study run | status | table`: the study verbs of the command line."""

from __future__ import annotations

import json

from constriction.io.folders import OutputError, ResultError, check_file, check_folder, is_ours, mark, write_text
from constriction.spec import SpecError
from constriction.io.study_reader import load_study, study_from_dict
from constriction.parametric.study import check_scheduler, run_study, status
from constriction.parametric.table import is_table_file


def study_command(args) -> int:
    if args.verb == "run":
        return _run(args)
    if args.verb == "status":
        return _status(args)
    if args.verb == "plot":
        return _plot(args)
    return _table(args)


STUDY_FILES = ("study.json", "cases", "results.nc", "trends.png", "series.png")


def _run(args) -> int:
    if args.scheduler:
        check_scheduler(args.scheduler)  # before any folder is made
    study = load_study(args.study)
    saved = args.out / "study.json"
    same = saved.is_file() and _read_json(saved) == json.loads(json.dumps(study.source))

    def ours(name: str) -> bool:  # a study's own files, and a table written into its folder
        return name in STUDY_FILES or is_table_file(args.out / name)

    if same and not is_ours(args.out, "study") and all(ours(p.name) for p in args.out.iterdir()):
        mark(args.out, "study")  # a study folder written before folders carried a marker
    out = check_folder(args.out, "study", ours)  # ours, or new and empty
    saved = out / "study.json"
    if saved.is_file() and not same:
        raise SpecError(str(args.out), "holds a different study; use a new --out folder")
    if not saved.is_file():
        out.mkdir(parents=True, exist_ok=True)
        mark(out, "study")
        write_text(saved, json.dumps(study.source, indent=1))
    run_study(study, out, workers=args.workers, scheduler=args.scheduler, serial=args.serial)
    _print_status(study, out)
    print(f"results: {out / 'results.nc'}")
    return 0


def _read_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ResultError(f"{path}: cannot be read ({type(err).__name__})") from None


def _saved_study(folder):
    saved = folder / "study.json"
    if not saved.is_file():
        raise ResultError(f"{folder}: not a study folder (no study.json)")
    data = _read_json(saved)
    if not isinstance(data, dict):
        raise ResultError(f"{saved}: not a study")
    return study_from_dict(data)


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
    from constriction.parametric.table import build_table
    study = _saved_study(args.dir)
    check_file(args.out, is_table_file)  # before reading anything
    try:
        table = build_table(_results(args.dir))
    except ValueError as err:
        raise ResultError(f"{args.dir}: {err}") from None
    table.save(args.out)
    print(f"{study.name}: table over {', '.join(f'{k} {lo:g}..{hi:g}' for k, (lo, hi) in table.axes.items())}")
    print(f"table: {args.out}")
    return 0


def _plot(args) -> int:
    """trends.png: each scalar output against each axis, the other axes at their middle."""
    from constriction.analysis.plot import save, trends
    ds = _results(args.dir)
    axes = [d for d in ds["status"].dims if d != "sample"]
    if not axes:
        raise ResultError(f"{args.dir}: a study of random samples only has no axis to plot against")
    outputs = [k for k in ("R_cstr_ohm", "C_cstr_F", "tau_cstr_s") if k in ds] or \
        [k for k in ds.data_vars if ds[k].dims == ds["status"].dims and k != "status"][:3]
    panels = []
    for axis in axes:
        middle = {d: ds.sizes[d] // 2 for d in ds["status"].dims if d != axis}
        line = ds.isel(middle)
        fixed = ", ".join(f"{d} = {float(ds[d][i]):.3g}" for d, i in middle.items())
        panels.append((f"{axis}" + (f" ({fixed})" if fixed else ""), f"{axis} / {ds[axis].attrs.get('units', '1')}",
                       line[axis].values, {k.rsplit("_", 1)[0]: line[k].values for k in outputs}))
    stages = [d for d in axes if f"{d}_spec" in ds.coords]  # a series of morphologies
    names = ["trends.png"] + (["series.png"] if stages else [])
    for name in names:
        if not is_ours(args.dir, "study") and (args.dir / name).exists():
            raise OutputError(f"{args.dir / name}: exists and constriction did not write it; it is left alone")
    path = args.dir / "trends.png"
    save(trends(panels, title=f"{ds.attrs.get('study', '')}: relative to the first point of each axis"), path)
    print(f"trends: {path}")
    if stages:
        path = _plot_series(ds, stages[0], outputs, args.dir / "series.png")
        print(f"series: {path}")
    return 0


def _plot_series(ds, axis: str, outputs: list[str], path):
    """series.png: the Nyquist plot of every stage and the evolution of the outputs (the
    other axes at their middle)."""
    from constriction.analysis.plot import save, series
    line = ds.isel({d: ds.sizes[d] // 2 for d in ds["status"].dims if d != axis})
    probes = sorted({k[len("Z_WE_"):-len("_real_ohm")] for k in ds.data_vars
                     if k.startswith("Z_WE_") and k.endswith("_real_ohm")})
    Z_we_re = {p: line[f"Z_WE_{p}_real_ohm"].values + 1j * line[f"Z_WE_{p}_imag_ohm"].values for p in probes}
    unit = ds[axis].attrs.get("units", "1")
    return save(series(line[axis].values, axis, line["Z_real_ohm"].values + 1j * line["Z_imag_ohm"].values,
                       {k.rsplit("_", 1)[0]: line[k].values for k in outputs}, Z_we_re,
                       unit="" if unit == "1" else unit,
                       title=f"{ds.attrs.get('study', '')}: a series of morphologies"), path)


def _results(folder):
    """The study's results.nc as a loaded Dataset (ResultError if missing or damaged)."""
    import xarray as xr
    path = folder / "results.nc"
    if not path.is_file():
        raise ResultError(f"{folder}: has no results.nc: run the study first")
    try:
        with xr.open_dataset(path) as ds:
            ds = ds.load()
    except Exception as err:  # any reader failure: the file is damaged
        raise ResultError(f"{path}: cannot be read ({type(err).__name__})") from None
    if "status" not in ds:
        raise ResultError(f"{path}: not a study's results")
    return ds
