"""Nothing lost, nothing silent: every bad input or output path gives one line and exit
status 2, writes nothing and changes no existing file (issue 13)."""

import json
from pathlib import Path

import numpy as np
import pytest

from constriction.cli.main import main
from constriction.io.folders import MARKER
from constriction.analysis.spectrum import Spectrum

from cases import STUDY, TINY_SPEC, refused, snapshot  # the `place` fixture is in conftest.py

# ---------------------------------------------------------------- 1, 6: output paths

@pytest.mark.parametrize("out, words", [
    ("notes.txt", ["notes.txt", "not a folder"]),          # an existing file
    ("thesis", ["thesis", "did not write"]),              # a user's folder
    (".", ["working folder"]),                            # the folder of the spec itself
    ("..", ["working folder"]),                           # a parent of it
    ("/proc/constriction-test", ["cannot write"]),        # a place nobody may write
    ("notes.txt/result", ["is a file"]),                  # under a file
])
def test_run_refuses_an_output_path_that_is_not_ours_before_computing(place, capsys, out, words):
    refused(["run", "tiny.toml", "--out", out], place, *words, capsys=capsys)


def test_run_replaces_only_its_own_result_and_cleans_what_a_kill_left(place, capsys):
    assert main(["run", "tiny.toml", "--out", "res"]) == 0
    out = capsys.readouterr().out
    assert "R_dc" in out and "R_cstr" in out and "C_cstr" in out and "checks:" in out and "ok" in out
    assert json.loads((place / "res" / MARKER).read_text())["kind"] == "run"
    (place / ".res.partial-killed").mkdir()                   # a kill during writing left this
    (place / ".res.partial-killed" / MARKER).write_text('{"kind": "run"}')
    assert main(["run", "tiny.toml", "--out", "res"]) == 0   # a re-run replaces our own folder
    assert not (place / ".res.partial-killed").exists()
    (place / "res" / "my_comparison.png").write_text("user's")  # once it holds a file of the user's,
    refused(["run", "tiny.toml", "--out", "res"], place, "my_comparison.png", capsys=capsys)


def test_a_study_folder_is_never_replaced_by_a_run(place, capsys):
    """README order: a study into results/tiny, then a run whose default folder is the same."""
    assert main(["study", "run", "study.toml", "--out", "results/tiny", "--serial"]) == 0
    refused(["run", "tiny.toml"], place, "results/tiny", "study", capsys=capsys)
    assert main(["study", "status", "results/tiny"]) == 0
    assert "2 done" in capsys.readouterr().out
    refused(["study", "run", "study.toml", "--out", "thesis", "--serial"], place, "did not write", capsys=capsys)
    refused(["study", "run", "study.toml", "--out", "notes.txt"], place, "not a folder", capsys=capsys)
    refused(["study", "table", "results/tiny", "--out", "notes.txt"], place, "did not write", capsys=capsys)


@pytest.mark.parametrize("command", ["compare", "fit"])
def test_compare_and_fit_refuse_an_existing_file_or_foreign_folder(place, capsys, command):
    extra = ["--table", "t.nc", "--area-cm2", "1"] if command == "fit" else []
    first = ["measured.csv"] if command == "fit" else ["measured.csv", "res"]
    for out, word in (("notes.txt", "not a folder"), ("thesis", "did not write")):
        refused([command, *first, *extra, "--out", out], place, word, capsys=capsys)


# ---------------------------------------------------------------- 2, 4, 7: specs

@pytest.mark.parametrize("edit, words", [
    (("sigma_S_per_m = 0.1", "sigma_S_per_m = 0"), ["materials.electrolyte.sigma_S_per_m", "> 0"]),
    (("size_um = 10.0", "size_um = 0.001"), ["elements", "GiB estimated", "--max-memory"]),
    (("order = 1", "order = 1\nedge_size_um = 1e-6"), ["mesh.edge_size_um", "smaller than an atom"]),
    (("height_um = 0.5", "height_um = 100000.0"), ["gap.height_um"]),  # a gap far taller than the cell
    (("radius_um = 3.0", "radius_um = 1e300"), ["contacts[0].radius_um", "µm"]),
    (("f_min_Hz = 1.0", "f_min_Hz = 1e-300"), ["sweep.f_min_Hz"]),
    (("f_max_Hz = 1e9", "f_max_Hz = 1e300"), ["sweep.f_max_Hz"]),
    (("points_per_decade = 2", "points_per_decade = 1000000000"), ["sweep.points_per_decade"]),
    # issue 23: silent wrong numbers and crashes
    (("order = 1", "order = 1\nrefine = 1e6"), ["mesh.refine", "contacts[0].radius_um = 3"]),
    (("order = 1", "order = 1\nedge_size_um = 5.0"), ["mesh.edge_size_um", "cannot resolve"]),
    (("[materials.electrolyte]\nsigma_S_per_m = 0.1\neps_r = 10.0", '[materials]\nset = "NZSP0.4"\n'
      '[conditions]\ntemperature_K = 1.0'), ["conditions.temperature_K", "materials.electrolyte at 1 K"]),
    (("eps_r = 10.0", "eps_r = 10.0\nactivation_eV = 100.0\n[conditions]\ntemperature_K = 1000.0"),
     ["conditions.temperature_K", "1e1185 S/m"]),
    (("[sweep]", "[interface]\nR_ct_ohm_cm2 = 1e-30\n[sweep]"), ["interface.R_ct_ohm_cm2", "perfect contact"]),
    (("[[contacts]]\nx_um = 0.0\ny_um = 0.0\nradius_um = 3.0\n", '[layout]\nkind = "hex"\nperiod_um = 0.05\n'
      'contact_fraction = 0.3\n'), ["layout.period_um", "more than 20,000"]),
])
def test_run_refuses_a_spec_before_meshing(place, capsys, edit, words):
    (place / "bad.toml").write_text(TINY_SPEC.replace(*edit))
    message = refused(["run", "bad.toml", "--out", "res"], place, *words, capsys=capsys)
    assert message.count("bad.toml") == 1  # the file, named once


def test_a_run_over_the_memory_budget_is_refused_before_meshing(place, capsys):
    """About 1.8 million P1 elements fit this machine (they run by default) but not 0.5 GiB."""
    (place / "big.toml").write_text(TINY_SPEC.replace("size_um = 10.0", "size_um = 0.3"))
    refused(["run", "big.toml", "--out", "res", "--max-memory", "0.5"], place,
            "elements", "GiB estimated", "0.50 GiB allowed by --max-memory", capsys=capsys)


def test_a_binary_spec_or_study_file_is_refused(place, capsys):
    (place / "bin.toml").write_bytes(bytes(range(256)) * 4)
    refused(["run", "bin.toml"], place, "bin.toml", "not a text file", capsys=capsys)
    refused(["study", "run", "bin.toml", "--out", "s"], place, "bin.toml", "not a text file", capsys=capsys)


@pytest.mark.parametrize("study, words", [
    (STUDY.replace("values = [2.0, 3.0]", 'values = ["a", "b"]'), ["axes[0].values[0]", "number"]),
    (STUDY.replace("values = [2.0, 3.0]", "values = 2.0"), ["axes[0].values", "list"]),
    (STUDY.replace("values = [2.0, 3.0]", "linspace = [1.0, 3.0, -2]"), ["axes[0].linspace", "num"]),
    (STUDY.replace("values = [2.0, 3.0]", "values = [2.0, 2.0]"), ["axes[0]", "duplicated"]),
    ('study = "x"\n' + STUDY.split("[base]")[1].join(["[base]", ""]), ["study", "table"]),
    (STUDY.split("[[axes]]")[0] + "[sample]\ncount = 2\n[[sample.ranges]]\nname = 'r'\n"
     "key = 'contacts[0].radius_um'\nhigh = 3.0\n", ["sample.ranges[0].low", "missing"]),
    (STUDY.replace("sigma", "x") + "[base.materials.electrolyte]\nsigma_S_per_m = 0.0\n",
     ["base.materials.electrolyte.sigma_S_per_m"]),
])
def test_a_bad_study_is_refused_in_one_line(place, capsys, study, words):
    (place / "bad_study.toml").write_text(study)
    refused(["study", "run", "bad_study.toml", "--out", "s", "--serial"], place, *words, capsys=capsys)


# ---------------------------------------------------------------- 7: damaged result folders

@pytest.fixture(scope="module")
def result_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("result")
    (root / "tiny.toml").write_text(TINY_SPEC)
    assert main(["run", str(root / "tiny.toml"), "--out", str(root / "res")]) == 0
    return root / "res"


@pytest.mark.parametrize("name, damage", [
    ("spectrum.csv", None), ("summary.json", None),
    ("spectrum.csv", lambda text: text[: len(text) // 3]), ("summary.json", lambda text: text[: len(text) // 3]),
    ("spectrum.csv", lambda text: "garbage\x00\x01"), ("summary.json", lambda text: "[1, 2]"),
])
def test_plot_and_compare_on_a_damaged_result_folder_refuse_in_one_line(result_folder, tmp_path, capsys,
                                                                       monkeypatch, name, damage):
    import shutil
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "res"
    shutil.copytree(result_folder, folder)
    text = (folder / name).read_text()
    (folder / name).unlink()
    if damage is not None:
        (folder / name).write_text(damage(text))
    refused(["plot", str(folder)], tmp_path, "res", capsys=capsys)
    Spectrum(np.logspace(0, 6, 10), np.ones(10) + 0j).to_csv(tmp_path / "m.csv")
    refused(["compare", "m.csv", str(folder)], tmp_path, "res", capsys=capsys)


# ---------------------------------------------------------------- 3, 5, 8: measured files and options

@pytest.mark.parametrize("content, words", [
    ("630957,3445,159,8206,-237,1542\n", ["cannot tell the column separator", ":1"]),
    ("1e3;1,5;-2.5\n1e2;2;-3\n10;3;-1\n", ["mixes decimal commas and points", ":1"]),
    ("1e3,1.5,-2\n1e2,2,-3\n1e3,3,-1\n", ["1000 Hz is measured more than once"]),
])
def test_ambiguous_or_repeated_measured_data_is_refused(place, capsys, content, words):
    (place / "m.csv").write_text(content)
    refused(["compare", "m.csv", "res"], place, "m.csv", *words, capsys=capsys)


def test_decimal_commas_with_semicolons_are_read_as_written(place):
    from constriction.io.measured import read_spectrum
    (place / "m.csv").write_text("f;Re;Im\n630957,3445;159,8206;-237,1542\n1000;100,5;-1\n10;2;-0,5\n")
    s = read_spectrum(place / "m.csv")
    np.testing.assert_allclose(s.frequency_Hz, [630957.3445, 1000, 10])
    np.testing.assert_allclose(s.Z_ohm, [159.8206 - 237.1542j, 100.5 - 1j, 2 - 0.5j])


def test_a_million_row_file_is_refused_with_the_reason_not_read(place, capsys):
    f = np.logspace(-2, 7, 1_000_000)
    np.savetxt(place / "huge.csv", np.column_stack([f, np.ones_like(f), -np.ones_like(f)]), delimiter=",", fmt="%.9e")
    refused(["compare", "huge.csv", "res"], place, "huge.csv", "data points", capsys=capsys)
    refused(["fit", "huge.csv", "--table", "t.nc", "--area-cm2", "1"], place, "huge.csv", capsys=capsys)


@pytest.mark.parametrize("option", [["--area-cm2", "inf"], ["--area-cm2", "-1"], ["--noise", "-0.1"],
                                    ["--noise", "nan"]])
def test_non_physical_options_are_refused(place, capsys, option):
    argv = ["fit", "measured.csv", "--table", "t.nc", "--area-cm2", "1", *option]
    before = snapshot(place)
    with pytest.raises(SystemExit) as exit_status:
        main(argv)
    assert exit_status.value.code == 2 and option[0] in capsys.readouterr().err
    assert snapshot(place) == before


def test_fit_refuses_a_study_dataset_as_a_table(place, capsys):
    assert main(["study", "run", "study.toml", "--out", "s", "--serial"]) == 0
    capsys.readouterr()
    refused(["fit", "measured.csv", "--table", "s/results.nc", "--area-cm2", "1", "--out", "f"], place,
            "results.nc", "not a table", capsys=capsys)


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("constriction ")


def test_studies_keep_both_checks_per_case_and_progress_shows_in_logs(place, capsys):
    """Each case records its conservation mismatch and passivity; progress lines reach a
    log (stderr not a terminal) for the study's cases and the reduced model's shifts."""
    import xarray as xr
    assert main(["study", "run", "study.toml", "--out", "s", "--serial"]) == 0
    err = capsys.readouterr().err
    assert "tiny: 2/2 cases" in err and "reduced model:" not in err  # study cases run quietly
    with xr.open_dataset(place / "s" / "results.nc") as ds:
        assert (ds["conservation_mismatch"] < 1e-8).all() and (ds["passive"] == 1).all()
    assert main(["run", "tiny.toml", "--out", "r"]) == 0
    err = capsys.readouterr().err
    for words in ("meshing (Gmsh) and assembling (about", "memory estimated", "DC solves", "reduced model: 1 step (shift", "estimated error"):
        assert words in err, words


def test_an_arc_whose_apex_lies_outside_the_sweep_is_flagged(place, capsys):
    (place / "narrow.toml").write_text(TINY_SPEC.replace("f_min_Hz = 1.0", "f_min_Hz = 1e9").replace(
        "f_max_Hz = 1e9", "f_max_Hz = 1e10"))
    assert main(["run", "narrow.toml", "--out", "r"]) == 0
    summary = json.loads((place / "r" / "summary.json").read_text())
    arc = summary["constriction"]["arc"]
    assert arc["apex_in_sweep"] is False and not 1e9 <= arc["f_apex_Hz"] <= 1e10
    assert "outside the swept frequencies" in capsys.readouterr().out


def test_a_study_folder_from_before_markers_is_resumed(place, capsys):
    assert main(["study", "run", "study.toml", "--out", "s", "--serial"]) == 0
    (place / "s" / MARKER).unlink()  # as written before output folders carried a marker
    cases = sorted((place / "s" / "cases").iterdir())
    assert main(["study", "run", "study.toml", "--out", "s", "--serial"]) == 0
    assert sorted((place / "s" / "cases").iterdir()) == cases and (place / "s" / MARKER).is_file()



# ---------------------------------------------------------------- issue 23: the mishandled cases

def test_a_thin_film_with_no_interior_unknown_is_refused_with_the_reason(place, capsys):
    """A full-contact film 1 µm thick meshed at 4 µm: every node on an electrode (the
    reduced model crashed on it)."""
    film = TINY_SPEC.replace("thickness_um = 20.0", "thickness_um = 1.0").replace("size_um = 10.0", "size_um = 4.0")
    film = film.replace("[[contacts]]\nx_um = 0.0\ny_um = 0.0\nradius_um = 3.0\n[gap]\nheight_um = 0.5\n", "")
    (place / "film.toml").write_text(film)
    refused(["run", "film.toml", "--out", "res"], place, "film.toml: mesh.size_um", "no unknown potential",
            capsys=capsys)


@pytest.mark.parametrize("argv, words", [
    (["study", "run", "study.toml", "--out", "s", "--scheduler", "tcp://127.0.0.1:1"],
     ["--scheduler", "nothing answers at tcp://127.0.0.1:1"]),
    (["study", "run", "study.toml", "--out", "s", "--scheduler", "not an address"],
     ["--scheduler", "not a scheduler address"]),
    (["study", "run", "study.toml", "--out", "s", "--scheduler", "tcp://host:port"],
     ["--scheduler", "not a scheduler address"]),
    (["study", "run", "study.toml", "--out", "s", "--workers", "two"], ["--workers", "positive whole number"]),
    (["run", "tiny.toml", "--max-memory", "lots"], ["--max-memory", "finite number"]),
])
def test_bad_command_line_values_are_refused_before_any_folder_is_made(place, capsys, argv, words):
    before = snapshot(place)
    code = None
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "_positive" not in err and "invalid" not in err.replace("invalid choice", "")
    for word in words:
        assert word in err, err
    assert snapshot(place) == before


def test_whole_numbers_may_be_written_in_scientific_notation(place):
    from constriction.cli.main import _parser
    args = _parser().parse_args(["study", "run", "study.toml", "--out", "s", "--workers", "1e1"])
    assert args.workers == 10


def test_a_refused_study_run_leaves_no_marker_in_the_users_folder(place, capsys):
    """The folder holds the same study.json as ours would, beside the user's own notes."""
    (place / "mine").mkdir()
    assert main(["study", "run", "study.toml", "--out", "study_ref", "--serial"]) == 0
    (place / "mine" / "study.json").write_text((place / "study_ref" / "study.json").read_text())
    (place / "mine" / "notes.txt").write_text("mine")
    refused(["study", "run", "study.toml", "--out", "mine", "--serial"], place, "mine", capsys=capsys)
    assert not (place / "mine" / MARKER).exists()


def test_a_table_written_into_its_study_folder_does_not_block_resuming(place, capsys):
    assert main(["study", "run", "study.toml", "--out", "s", "--serial"]) == 0
    assert main(["study", "table", "s", "--out", "s/table.nc"]) == 0
    assert main(["study", "run", "study.toml", "--out", "s", "--serial"]) == 0
    assert (place / "s" / "table.nc").is_file()


def test_default_output_folders_are_never_inside_a_result(place, capsys, monkeypatch):
    assert main(["run", "tiny.toml", "--out", "res"]) == 0
    monkeypatch.chdir(place / "res")
    refused(["compare", "../measured.csv", "."], place, "inside", "--out", capsys=capsys)
    refused(["run", "../tiny.toml"], place, "inside", "--out", capsys=capsys)


def test_results_are_readable_by_colleagues_as_the_umask_allows(place, capsys):
    import os
    import stat
    old = os.umask(0o022)
    try:
        assert main(["run", "tiny.toml", "--out", "res"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((place / "res").stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in (place / "res").iterdir()} == {0o644}


def test_plot_into_a_read_only_result_is_refused_in_one_line(result_folder, tmp_path, capsys, monkeypatch):
    import shutil
    import constriction.analysis.plot as plot
    folder = tmp_path / "res"
    shutil.copytree(result_folder, folder)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(plot, "save", read_only)
    refused(["plot", str(folder)], tmp_path, "res", "read-only", capsys=capsys)


@pytest.mark.parametrize("content, words", [
    ("f,re,im\n" + "".join(f"{f:g},0,0\n" for f in (1e3, 1e2, 10, 1)), ["every impedance", "zero"]),
    ("# comments only\n# nothing else\n", ["no numeric rows"]),
])
def test_degenerate_measured_files_are_refused(place, capsys, content, words):
    (place / "m.csv").write_text(content)
    message = refused(["compare", "m.csv", "res_none", "--out", "cmp"], place, "m.csv", *words, capsys=capsys)
    assert "100,000" not in message


def test_a_utf16_measured_file_is_read_as_written(place):
    from constriction.io.measured import read_spectrum
    text = (place / "measured.csv").read_text()
    (place / "utf16.csv").write_text(text, encoding="utf-16")
    a, b = read_spectrum(place / "measured.csv"), read_spectrum(place / "utf16.csv")
    np.testing.assert_array_equal(a.Z_ohm, b.Z_ohm)


def test_progress_says_frequencies(capsys):
    from constriction.progress import plural
    assert [plural(w) for w in ("frequency", "case", "shift", "")] == ["frequencies", "cases", "shifts", ""]


def test_a_mesh_coarser_than_the_cell_is_thick_is_a_printed_warning(place, capsys):
    (place / "thin.toml").write_text(TINY_SPEC.replace("thickness_um = 20.0", "thickness_um = 1.0"))
    assert main(["run", "thin.toml", "--out", "res"]) == 0
    out = capsys.readouterr().out
    assert "warning: far-field elements of 10 µm in a cell 1 µm thick" in out
    summary = json.loads((place / "res" / "summary.json").read_text())
    assert any("1 µm thick" in w for w in summary["warnings"])


def test_the_default_budget_admits_a_million_p2_unknowns_and_a_256_cubed_image():
    """On the 24 GiB development machine (22 GiB available): the old element limit refused
    both. P2 meshes carry 1.44 unknowns per tetrahedron (benchmarks/README.md)."""
    from constriction.memory import image_run_bytes, mesh_run_bytes
    available = 22 * 2**30
    assert mesh_run_bytes(int(1e6 / 1.44), 2) < available / 4
    assert image_run_bytes(256**3) < available


def test_a_cell_without_constriction_prints_r_cstr_as_zero(place, capsys):
    """Full contact: R_dc - R_inf is round-off (it was printed as -1e-9 Ω)."""
    import shutil
    shutil.copy(Path(__file__).resolve().parents[2] / "specs" / "full_contact.toml", place / "full.toml")
    assert main(["run", "full.toml", "--out", "res"]) == 0
    out = capsys.readouterr().out
    assert "R_cstr = 0 Ω (R_dc = R_inf to round-off)" in out and "e-" not in out.split("R_cstr")[1].split("\n")[0]
