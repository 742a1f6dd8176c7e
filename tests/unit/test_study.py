"""Parameter studies on Dask, resumable case files, and lookup tables."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from constriction import SpecError, run, spec_from_dict
from constriction import study_from_dict
from constriction.parametric.study import cases, run_study, status
from constriction.parametric.table import OutOfTable, build_table, open_table

BASE = {
    "cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
    "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 4.0}],
    "gap": {"height_um": 0.4, "eps_r": 1.0},
    "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
    "sweep": {"f_min_Hz": 1e2, "f_max_Hz": 1e10, "points_per_decade": 4},
    "mesh": {"order": 1, "size_um": 3.0},
}


def small_study(radii=(0.15, 0.25), gaps=(0.1,), name="small"):
    return study_from_dict({
        "study": {"name": name, "outputs": ["R_dc_ohm", "R_cstr_ohm", "C_cstr_F", "tau_cstr_s"]},
        "base": BASE,
        "axes": [{"name": "radius_over_period", "key": "contacts[0].radius_um", "per": "cell.side_um",
                  "values": list(radii)},
                 {"name": "gap_over_radius", "key": "gap.height_um", "per": "contacts[0].radius_um",
                  "values": list(gaps)}],
    })


def test_axes_set_spec_keys_in_order_and_cases_have_stable_keys():
    study = small_study(radii=(0.1, 0.2), gaps=(0.05, 0.1))
    all_cases = cases(study)
    assert len(all_cases) == 4
    last = all_cases[-1]
    assert last.spec["contacts"][0]["radius_um"] == pytest.approx(4.0)   # 0.2 x 20 µm
    assert last.spec["gap"]["height_um"] == pytest.approx(0.4)           # 0.1 x 4 µm
    assert len({c.key for c in all_cases}) == 4
    assert [c.key for c in cases(small_study(radii=(0.1, 0.2), gaps=(0.05, 0.1)))] == [c.key for c in all_cases]
    assert BASE["contacts"][0]["radius_um"] == 4.0  # the base is not modified


@pytest.mark.parametrize("n_cases, n_workers", [(3, 2), (16, 2), (100, 2), (1000, 8)])
def test_batches_cover_every_case_once_in_order_and_keep_the_workers_busy(n_cases, n_workers):
    from constriction.parametric.study import _batches
    todo = [f"case{i}" for i in range(n_cases)]
    batches = _batches(todo, n_workers)
    assert [case for batch in batches for case in batch] == todo
    assert len(batches) >= min(n_cases, 8 * n_workers)


def test_a_dead_worker_fails_only_the_case_it_was_running(tmp_path):
    """Dask gives up on a batch whose workers kept dying: the cases it finished keep their
    results, the one it was running is recorded as failed, the rest go out again."""
    from constriction.parametric.study import _after_crash, _write_case
    batch = cases(small_study(radii=(0.1, 0.2), gaps=(0.05, 0.1)))
    _write_case({"key": batch[0].key, "coords": batch[0].coords, "spec": batch[0].spec, "status": "ok"}, tmp_path)
    statuses, again = _after_crash(batch, tmp_path, RuntimeError("KilledWorker"))
    assert statuses == ["ok", "failed"] and again == batch[2:]
    assert "worker running it stopped" in json.loads((tmp_path / f"{batch[1].key}.json").read_text())["error"]
    assert not any((tmp_path / f"{case.key}.json").exists() for case in again)


def test_random_samples_are_seeded():
    def sampled(seed):
        return study_from_dict({"base": BASE, "sample": {"count": 3, "seed": seed, "ranges": [
            {"name": "gap_um", "key": "gap.height_um", "low": 0.1, "high": 1.0, "log": True}]}})
    assert [c.key for c in cases(sampled(1))] == [c.key for c in cases(sampled(1))]
    assert [c.key for c in cases(sampled(1))] != [c.key for c in cases(sampled(2))]
    assert all(0.1 <= c.coords["gap_um"] <= 1.0 for c in cases(sampled(1)))


@pytest.mark.parametrize("axes, key", [
    ([{"name": "r", "key": "contacts[3].radius_um", "values": [1.0]}], "contacts[3].radius_um"),
    ([{"name": "r", "key": "contacts[0].radius_um", "values": [1.0, 12.0]}], "contacts[0]"),  # too large
    ([{"name": "r", "key": "contacts[0].radius_um", "values": [1.0], "linspace": [1, 2, 3]}], "axes[0]"),
    # a study stores every case on one frequency axis: gather once kept the second case's
    # Z under the first case's frequencies (it compared their number only)
    ([{"name": "f_max", "key": "sweep.f_max_Hz", "values": [1e10, 1.1e10]}], "sweep"),
])
def test_a_study_that_cannot_be_built_is_refused_before_running(axes, key):
    with pytest.raises(SpecError) as err:
        study_from_dict({"base": BASE, "axes": axes})
    assert err.value.key == key


@pytest.fixture(scope="module")
def serial_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return out, run_study(small_study(), out, serial=True, progress=False)


def test_study_dataset_is_labelled(serial_results):
    _, ds = serial_results
    assert set(ds["Z_real_ohm"].dims) == {"radius_over_period", "gap_over_radius", "frequency_Hz"}
    assert ds["radius_over_period"].attrs["key"] == "contacts[0].radius_um"
    assert ds["R_dc_ohm"].attrs["units"] == "Ω" and ds["C_cstr_F"].attrs["units"] == "F"
    assert (ds["status"] == "ok").all()
    # a smaller spot constricts more
    R = ds["R_cstr_ohm"].sel(gap_over_radius=0.1)
    assert float(R.sel(radius_over_period=0.15)) > float(R.sel(radius_over_period=0.25))


def test_two_worker_local_cluster_gives_the_serial_numbers(serial_results, tmp_path):
    _, serial = serial_results
    parallel = run_study(small_study(), tmp_path, workers=2, progress=False)
    for name in ("Z_real_ohm", "Z_imag_ohm", "R_dc_ohm", "C_cstr_F"):
        np.testing.assert_allclose(parallel[name].values, serial[name].values, rtol=1e-9)


def test_a_failing_case_is_recorded_and_the_study_goes_on(tmp_path, monkeypatch):
    run_module = sys.modules["constriction.pipeline"]
    real_run = run_module.run

    def flaky(spec, **kw):
        if spec.contacts[0].radius_um < 4.0:
            raise RuntimeError("meshing failed (simulated)")
        return real_run(spec, **kw)
    monkeypatch.setattr(run_module, "run", flaky)
    study = small_study()
    ds = run_study(study, tmp_path, serial=True, progress=False)
    s = status(study, tmp_path)
    assert s["done"] == 1 and len(s["failed"]) == 1 and s["pending"] == 0
    assert "simulated" in next(iter(s["failed"].values()))["error"]
    assert np.isnan(ds["R_dc_ohm"].sel(radius_over_period=0.15)).all()
    assert np.isfinite(ds["R_dc_ohm"].sel(radius_over_period=0.25)).all()
    with pytest.raises(ValueError, match="failed"):
        build_table(ds)


def test_killed_study_loses_nothing_and_recomputes_nothing(tmp_path):
    study_file = tmp_path / "study.toml"
    radii = [0.1, 0.15, 0.2, 0.25, 0.3]
    study_file.write_text(_toml_study(radii))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "constriction", "study", "run", str(study_file), "--out", str(out),
               "--serial"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((out / "cases").glob("*.json"))) < 2:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "cases").glob("*.json")}
    assert 2 <= len(finished) < len(radii)

    second = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    after = {p.name: p.stat().st_mtime_ns for p in (out / "cases").glob("*.json")}
    assert len(after) == len(radii)
    assert all(after[name] == mtime for name, mtime in finished.items())  # none recomputed
    assert f"{len(radii)} done, 0 failed, 0 pending" in second.stdout

    status_run = subprocess.run([sys.executable, "-m", "constriction", "study", "status", str(out)],
                                capture_output=True, text=True)
    assert f"{len(radii)} done" in status_run.stdout


def _toml_study(radii):
    return f"""
[study]
name = "killed"
outputs = ["R_dc_ohm"]
[base]
{_toml_tables(BASE)}
[[axes]]
name = "radius_over_period"
key = "contacts[0].radius_um"
per = "cell.side_um"
values = {json.dumps(radii)}
"""


def _toml_tables(spec):
    lines = []
    for table, content in spec.items():
        if isinstance(content, list):
            for item in content:
                lines.append(f"[[base.{table}]]")
                lines += [f"{k} = {json.dumps(v)}" for k, v in item.items()]
        elif table == "materials":
            lines.append("[base.materials.electrolyte]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in content["electrolyte"].items()]
        else:
            lines.append(f"[base.{table}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in content.items()]
    return "\n".join(lines)


@pytest.fixture(scope="session")
def lookup_table(tmp_path_factory):
    """A 3 x 2 table of the small study, saved and opened again."""
    out = tmp_path_factory.mktemp("table")
    ds = run_study(small_study(radii=(0.15, 0.2, 0.25), gaps=(0.05, 0.1)), out / "study", serial=True,
                   progress=False)
    build_table(ds).save(out / "table.nc")
    return open_table(out / "table.nc")


def test_lookup_table_interpolates_within_tolerance_and_refuses_outside(lookup_table):
    table = lookup_table
    assert table.axes == {"radius_over_period": (0.15, 0.25), "gap_over_radius": (0.05, 0.1)}

    point = {"radius_over_period": 0.175, "gap_over_radius": 0.075}
    value = table(point)
    data = json.loads(json.dumps(BASE))
    data["contacts"][0]["radius_um"] = 0.175 * 20.0
    data["gap"]["height_um"] = 0.075 * 0.175 * 20.0
    direct = run(spec_from_dict(data), progress=False)
    # stated tolerance of interpolation (linear in the logarithms) on this grid: 3 %
    np.testing.assert_allclose(np.abs(value.spectrum.Z_ohm), np.abs(direct.spectrum.Z_ohm), rtol=0.03)
    c = direct.summary.constriction
    assert value.parameters["R_cstr_ohm"] == pytest.approx(c.R_cstr_ohm, rel=0.03)
    assert value.parameters["C_cstr_F"] == pytest.approx(c.arc.C_cstr_F, rel=0.03)

    # every length x2: Z halves at the same frequencies
    np.testing.assert_allclose(table(point, scale=2.0).spectrum.Z_ohm, value.spectrum.Z_ohm / 2)
    with pytest.raises(OutOfTable, match="radius_over_period = 0.3 is outside the table"):
        table(radius_over_period=0.3, gap_over_radius=0.075)
    with pytest.raises(OutOfTable, match="missing gap_over_radius"):
        table(radius_over_period=0.2)


def test_fit_finds_a_known_morphology_among_a_consistent_set(lookup_table, tmp_path):
    """Synthetic measurement: the table's morphology at a node, scaled x30, in series with
    5 ohm cm2, 1 % noise. The truth is in the consistent set, the set is not everything."""
    from constriction.parametric.fit import fit_morphology, interface_part
    from constriction.analysis.spectrum import Spectrum
    truth = {"radius_over_period": 0.2, "gap_over_radius": 0.1}
    f = np.logspace(2, 9, 50)
    rng = np.random.default_rng(0)
    z = (5.0 + 30 * interface_part(lookup_table, truth, f)) * (
        1 + 0.01 * rng.standard_normal(f.size) + 0.01j * rng.standard_normal(f.size))
    area = 0.5  # cm2
    fit = fit_morphology(Spectrum(f, z / area), area, lookup_table, noise=0.01)
    assert bool(fit.consistent.sel(truth))
    assert 0 < int(fit.consistent.sum()) < fit.consistent.size
    assert fit.best["scale"] == pytest.approx(30, rel=0.1)
    assert fit.best["R_s_ohm_cm2"] == pytest.approx(5.0, rel=0.1)
    # told a noise far below the real 1 %, the fit widens it to what the model resolves
    tight = fit_morphology(Spectrum(f, z / area), area, lookup_table, noise=1e-4, table_error=0.0)
    assert tight.noise > 1e-3 and tight.scale.shape == tight.chi2.shape
    assert bool(tight.consistent.sel(truth))

    # and from the command line, through a CSV file
    measured = tmp_path / "measured.csv"
    Spectrum(f, z / area).to_csv(measured)
    table_path = tmp_path / "table.nc"
    lookup_table.save(table_path)
    result = subprocess.run([sys.executable, "-m", "constriction", "fit", str(measured), "--table",
                             str(table_path), "--area-cm2", "0.5", "--noise", "0.01", "--out", str(tmp_path / "fit")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert summary["consistent_points"] == int(fit.consistent.sum())
    assert summary["explained"] and summary["points_used"] == 50 and summary["points_dropped"] == 0
    assert summary["noise_assumed"] == pytest.approx(np.hypot(0.01, 0.01)) and "given" in summary["noise_source"]
    assert "50 measured points used" in result.stdout and "fit: within" in result.stdout
    assert (tmp_path / "fit" / "consistent_region.png").stat().st_size > 10_000


def test_fit_says_when_the_table_cannot_explain_a_spectrum(lookup_table):
    """A 45° line (a Warburg element, 0.4 % noise) over a wider band than the table's: the
    fit counts the points it dropped, says how far it widened the noise, and reports no
    morphology as consistent instead of all of them."""
    from constriction.parametric.fit import fit_morphology
    from constriction.analysis.spectrum import Spectrum
    f = np.logspace(0, 11, 45)
    rng = np.random.default_rng(1)
    z = (2.0 + 1e3 * (1 - 1j) / np.sqrt(f)) * (1 + 0.004 * rng.standard_normal(f.size))
    fit = fit_morphology(Spectrum(f, z), 1.0, lookup_table)
    summary = fit.summary()
    f_table = lookup_table.dataset["frequency_Hz"].values
    dropped = int(((f < f_table.min()) | (f > f_table.max())).sum())
    assert dropped > 0 and summary["points_dropped"] == dropped and summary["points_used"] == f.size - dropped
    assert not summary["explained"] and "cannot explain" in summary["verdict"]
    assert summary["consistent_points"] == 0 and summary["consistent_ranges"] == {}


def test_base_from_a_spec_file_with_tables_merged_over_it():
    from pathlib import Path
    from constriction import load_study
    study = load_study(Path(__file__).resolve().parents[2] / "studies" / "single_spot_table.toml")
    assert study.base["mesh"]["order"] == 1                    # changed by [base.mesh]
    assert study.base["gap"]["height_um"] == 0.5                # kept from the file
    assert study.base["sweep"]["f_max_Hz"] == 1e9 and study.base["sweep"]["points_per_decade"] == 10


def test_study_plot_draws_each_output_against_each_axis(serial_results):
    from constriction.cli import main
    out, _ = serial_results
    assert main(["study", "plot", str(out)]) == 0
    assert (out / "trends.png").stat().st_size > 10_000


def _write_series(folder, radii=(2.0, 3.0), probes=True):
    """Stage specs (a spot that grows) and a study over them, labelled in hours."""
    import tomli_w
    files = []
    for k, r in enumerate(radii):
        stage = {**BASE, "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": r}],
                 "sweep": {"f_min_Hz": 1e2, "f_max_Hz": 1e10, "points_per_decade": 2}}
        if probes:
            stage["probes"] = [{"name": "RE", "depth_um": 10.0}]
        (folder / f"stage_{k}.toml").write_text(tomli_w.dumps(stage))
        files.append(f"stage_{k}.toml")
    (folder / "series.toml").write_text(f"""
[study]
name = "series"
outputs = ["R_dc_ohm", "R_cstr_ohm", "C_cstr_F", "tau_cstr_s"]
[base.mesh]
order = 1
size_um = 4.0
[[axes]]
name = "time"
specs = {json.dumps(files)}
values = [0.0, 5.0]
unit = "h"
""")
    return folder / "series.toml"


def test_a_series_of_spec_files_is_a_study_axis_with_its_spectra_and_plots(tmp_path, capsys):
    """Each stage is its file with [base] merged over it; the Dataset labels the stages by
    time and file, keeps the three-electrode spectrum of the probe, and `study plot` draws
    the Nyquist series beside R, C and tau (series.png)."""
    from constriction.cli import main
    from constriction import load_study
    study = load_study(_write_series(tmp_path))
    every = cases(study)
    assert [c.coords["time"] for c in every] == [0.0, 5.0]
    assert all(c.spec["mesh"] == {"order": 1, "size_um": 4.0} for c in every)  # [base] over each stage
    assert [c.spec["contacts"][0]["radius_um"] for c in every] == [2.0, 3.0]
    out = tmp_path / "study"
    assert main(["study", "run", str(tmp_path / "series.toml"), "--out", str(out), "--serial"]) == 0
    import xarray as xr
    with xr.open_dataset(out / "results.nc") as ds:
        ds = ds.load()
    assert list(ds["time_spec"].values) == ["stage_0.toml", "stage_1.toml"] and ds["time"].attrs["units"] == "h"
    assert ds["R_cstr_ohm"].values[1] < ds["R_cstr_ohm"].values[0]   # the larger spot constricts less
    direct = run(spec_from_dict(every[1].spec), progress=False, fields=False, cpe_fit=False)
    np.testing.assert_allclose(ds["Z_WE_RE_real_ohm"].values[1], direct.probes.Z_we_re_ohm[0].real, rtol=1e-9)
    assert main(["study", "plot", str(out)]) == 0
    assert (out / "series.png").stat().st_size > 10_000 and "series: " in capsys.readouterr().out
    assert main(["study", "status", str(out)]) == 0  # study.json holds the stages inline and reads back


@pytest.mark.parametrize("edit, key", [
    (lambda t: t.replace('"stage_1.toml"', '"missing.toml"'), "axes[0].specs[1]"),
    (lambda t: t.replace("values = [0.0, 5.0]", "values = [0.0]"), "axes[0].values"),
    (lambda t: t.replace("values = [0.0, 5.0]", "values = [1.0, 1.0]"), "axes[0].values"),
    (lambda t: t.replace("[base.mesh]", "[base]\nspec = \"stage_0.toml\"\n[base.mesh]"), "base.spec"),
])
def test_a_series_that_cannot_be_read_is_refused_in_one_line(tmp_path, capsys, edit, key):
    from constriction.cli import main
    path = _write_series(tmp_path, probes=False)
    path.write_text(edit(path.read_text()))
    assert main(["study", "run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and key in err[0], err
    assert not (tmp_path / "out").exists()
