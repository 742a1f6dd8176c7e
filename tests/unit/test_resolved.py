"""One model, resolved once: a cell at a temperature gives the same numbers whether its
conductivities are given at that temperature or through E_a from a reference."""

import json
import math

import numpy as np
import pytest

from constriction import run
from constriction.materials import arrhenius

from conftest import make_spec

BULK = {"sigma_S_per_m": 0.1, "eps_r": 10.0, "activation_eV": 0.26, "T_ref_K": 298.15}
GB = {"sigma_S_per_m": 1e-3, "eps_r": 20.0, "thickness_um": 0.01, "activation_eV": 0.36, "T_ref_K": 298.15}


def cell(T_K, given_at_T):
    """A box with one spot under a gap and layered grains, at T_K, described two ways."""
    bulk, gb = dict(BULK), dict(GB)
    tables = {"conditions": {"temperature_K": T_K}}
    if given_at_T:
        for m in (bulk, gb):
            m["sigma_S_per_m"] = arrhenius(m.pop("sigma_S_per_m"), m.pop("activation_eV"), m.pop("T_ref_K"), T_K)
        tables = {}
    return make_spec(cell={"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
                     contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 4.0}], gap={"height_um": 0.2},
                     grains={"kind": "layers", "size_um": 5.0},
                     materials={"electrolyte": bulk, "grain_boundary": gb},
                     mesh={"order": 1, "size_um": 5.0}, **tables)


def numbers(summary, prefix=""):
    """Every number in a nested summary, by dotted key (timings left out)."""
    out = {}
    for key, value in summary.items():
        if key == "seconds":
            continue
        if isinstance(value, dict):
            out.update(numbers(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[prefix + key] = float(value)
    return out


@pytest.mark.parametrize("T_K", [233.15, 298.15, 353.15])
def test_the_same_cell_two_ways_gives_the_same_summary(T_K):
    by_arrhenius = run(cell(T_K, given_at_T=False), progress=False)
    given = run(cell(T_K, given_at_T=True), progress=False)
    a, b = numbers(by_arrhenius.summary.to_dict()), numbers(given.summary.to_dict())
    assert a.keys() == b.keys() and "constriction.arc.C_cstr_F" in a and "normalisation.ohm_cm2_calibrated" in a
    for key in a:
        assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-300), key
    np.testing.assert_allclose(by_arrhenius.spectrum.Z_ohm, given.spectrum.Z_ohm, rtol=1e-9)


def test_resolving_is_idempotent_and_moves_the_reference():
    spec = cell(233.15, given_at_T=False)
    once = spec.at()
    assert once.electrolyte.T_ref_K == 233.15
    assert once.electrolyte.sigma_S_per_m == pytest.approx(arrhenius(0.1, 0.26, 298.15, 233.15))
    assert once.at() == once and once.at(233.15) == once
    back = once.at(298.15)
    assert back.electrolyte.sigma_S_per_m == pytest.approx(0.1, rel=1e-12)
    assert math.isclose(back.grains.gb.sigma_S_per_m, 1e-3, rel_tol=1e-12)


def test_a_table_on_a_named_material_set_at_a_temperature_fits(tmp_path):
    """The table's base uses materials.set = "NZSP0.4" at 233 K: the fit reads the unit
    cell from the resolved spec (no KeyError), with the conductivity at 233 K."""
    from constriction.parametric.fit import fit_morphology, interface_part, unit_cell
    from constriction.materials import NAMED
    from constriction.analysis.spectrum import Spectrum
    from constriction import study_from_dict
    from constriction.parametric.study import run_study
    from constriction.parametric.table import build_table

    study = study_from_dict({
        "study": {"name": "nzsp", "outputs": ["R_dc_ohm", "R_cstr_ohm", "C_cstr_F"]},
        "base": {"cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
                 "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 4.0}], "gap": {"height_um": 0.4},
                 "materials": {"set": "NZSP0.4"}, "conditions": {"temperature_K": 233.15},
                 "sweep": {"f_min_Hz": 1e2, "f_max_Hz": 1e10, "points_per_decade": 4},
                 "mesh": {"order": 1, "size_um": 5.0}},
        "axes": [{"name": "radius_over_side", "key": "contacts[0].radius_um", "per": "cell.side_um",
                  "values": [0.15, 0.25]}]})
    table = build_table(run_study(study, tmp_path / "study", serial=True, progress=False))
    f = np.logspace(3, 9, 30)
    area, slab = unit_cell(table, f)
    bulk = NAMED["NZSP0.4"]["electrolyte"]
    sigma_T = arrhenius(bulk["sigma_S_per_m"], bulk["activation_eV"], bulk["T_ref_K"], 233.15)
    assert area == pytest.approx(400e-12) and slab[0].real == pytest.approx(20e-6 / sigma_T, rel=1e-3)
    z = 2.0 + 10 * interface_part(table, {"radius_over_side": 0.2}, f)
    fit = fit_morphology(Spectrum(f, z), 1.0, table, noise=0.01)
    assert fit.best["scale"] == pytest.approx(10, rel=0.1)


def test_the_summary_is_typed_and_reads_back_from_its_json(tmp_path):
    """summary.json is written and read in one place: the same typed summary comes back
    (a blocking cell's infinite R_dc included)."""
    from constriction.io.summary import Summary
    result = run(cell(298.15, given_at_T=True), progress=False)
    result.summary.write(tmp_path / "summary.json")
    back = Summary.read(tmp_path / "summary.json")
    assert back == result.summary
    assert back.constriction.arc.C_cstr_F > 0 and back.sweep.kind == "reduced" and back.conservation.worst < 1e-8
    blocking = type(back.constriction)(1.0, 0.0, float("nan"), float("inf"))
    odd = Summary(**{**back.__dict__, "R_dc_ohm": float("inf"), "constriction": blocking})
    odd.write(tmp_path / "blocking.json")
    again = Summary.read(tmp_path / "blocking.json")
    assert again.R_dc_ohm == float("inf") and math.isnan(again.constriction.R_dynamic_ohm)


def test_a_result_folder_says_how_it_was_made_and_reproduces(tmp_path, monkeypatch, capsys):
    """spec.toml beside summary.json: the spec with every material at the working
    temperature; `constriction run` on it gives the same spectrum. The package version is
    in both."""
    import tomllib
    from constriction import __version__
    from constriction.cli import main
    from constriction.analysis.spectrum import Spectrum
    from cases import TINY_SPEC
    monkeypatch.chdir(tmp_path)
    (tmp_path / "warm.toml").write_text(TINY_SPEC.replace("eps_r = 10.0", "eps_r = 10.0\nactivation_eV = 0.3")
                                        + "[conditions]\ntemperature_K = 330.0\n")
    assert main(["run", "warm.toml", "--out", "first"]) == 0
    resolved = (tmp_path / "first" / "spec.toml").read_text()
    assert __version__ in resolved
    electrolyte = tomllib.loads(resolved)["materials"]["electrolyte"]
    assert electrolyte["T_ref_K"] == 330.0 and electrolyte["sigma_S_per_m"] > 0.1  # warmer: conducts more
    assert json.loads((tmp_path / "first" / "summary.json").read_text())["constriction_version"] == __version__
    assert main(["run", "first/spec.toml", "--out", "again"]) == 0
    a, b = (Spectrum.from_csv(tmp_path / d / "spectrum.csv") for d in ("first", "again"))
    np.testing.assert_allclose(b.Z_ohm, a.Z_ohm, rtol=1e-9)


def test_an_image_result_reproduces_from_its_spec(tmp_path, monkeypatch):
    from constriction.cli import main
    from constriction.analysis.spectrum import Spectrum
    from cases import LABELS, image_toml as _toml, voxel_cell as _cell
    monkeypatch.chdir(tmp_path)
    cell = _cell(8)
    cell[:, 2:5, 2:5] = np.where(cell[:, 2:5, 2:5] == 0, 1, cell[:, 2:5, 2:5])  # a gas column
    cell[0] = 0
    np.save(tmp_path / "x.npy", cell)
    _toml(tmp_path / "cell.toml", '[image]\npath = "x.npy"\nvoxel_um = 1.0\ncrop = {x = [0, 8]}\n' + LABELS)
    assert main(["run", "cell.toml", "--out", "first", "--no-error-estimate"]) == 0
    assert main(["run", "first/spec.toml", "--out", "again", "--no-error-estimate"]) == 0
    a, b = (Spectrum.from_csv(tmp_path / d / "spectrum.csv") for d in ("first", "again"))
    np.testing.assert_allclose(b.Z_ohm, a.Z_ohm, rtol=1e-9)
