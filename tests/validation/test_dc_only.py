"""Runs that ask for less than a spectrum (issue 32): one frequency, or DC only
([sweep] kind = "dc", `constriction run --dc`), and an image's effective conductivity and
tortuosity factor."""

import json
from dataclasses import replace

import numpy as np
import pytest

from constriction import run, spec_from_dict
from constriction.cli.main import main
from constriction.spec import SpecError

from cases import porous_blobs

SWEEP = {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2}


def porous_spec(tmp_path, sweep=SWEEP, n=16, fraction=0.3, seed=0):
    """A porous image spec: blobs of electrolyte in an insulating matrix under a metal cap
    (indexed z, y, x in the file), 0.5 µm voxels."""
    blobs = porous_blobs(n, fraction, seed).transpose(2, 1, 0)
    image = np.concatenate([np.where(blobs, 0, 1), np.full((1, n, n), 2)]).astype(np.uint8)
    np.save(tmp_path / "porous.npy", image)
    return spec_from_dict({"image": {"path": str(tmp_path / "porous.npy"), "voxel_um": 0.5,
                                     "labels": {"0": "electrolyte", "1": "matrix", "2": "sodium"}},
                           "phases": {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": 1.0, "eps_r": 10.0},
                                      "matrix": {"kind": "insulator", "eps_r": 1.0}, "sodium": {"kind": "metal"}},
                           "sweep": sweep}, name="porous")


def test_one_frequency_and_dc_only_give_the_full_runs_dc_numbers(tmp_path):
    """R_dc, R_inf and the error bar are the full run's to 1e-9 (they come from the same DC
    stage); the one-frequency spectrum is the full sweep's value there."""
    full = run(porous_spec(tmp_path), progress=False, cpe_fit=False)
    one = run(porous_spec(tmp_path, {"f_min_Hz": 1e3, "f_max_Hz": 1e3}), progress=False, cpe_fit=False)
    dc = run(porous_spec(tmp_path, {"kind": "dc"}), progress=False)
    for result in (one, dc):
        assert result.summary.R_dc_ohm == pytest.approx(full.summary.R_dc_ohm, rel=1e-9)
        assert result.summary.R_inf_ohm == pytest.approx(full.summary.R_inf_ohm, rel=1e-9)
        assert result.summary.discretisation.R_dc_bracket.lower_ohm == pytest.approx(
            full.summary.discretisation.R_dc_bracket.lower_ohm, rel=1e-9)
        assert result.summary.transport == full.summary.transport
    assert one.spectrum.frequency_Hz.tolist() == [1e3]
    assert one.spectrum.Z_ohm[0] == pytest.approx(full.model.impedance([1e3])[0], rel=1e-6)
    assert one.summary.constriction.arc is None
    assert dc.spectrum is None and dc.model is None and dc.fields is None
    assert dc.summary.sweep.kind == "dc" and dc.summary.sweep.n_frequencies == 0


def test_the_effective_conductivity_of_a_straight_channel_is_its_area_fraction(tmp_path):
    """A 3 x 2-voxel electrolyte channel through an insulator: sigma_eff = sigma x 6 / 64,
    every conducting voxel joins both electrodes, the tortuosity factor is exactly 1."""
    a = np.ones((12, 8, 8), np.uint8)
    a[:, 2:4, 3:6] = 0
    a[11] = 2
    np.save(tmp_path / "channel.npy", a)
    spec = spec_from_dict({"image": {"path": str(tmp_path / "channel.npy"), "voxel_um": 0.5,
                                     "labels": {"0": "electrolyte", "1": "matrix", "2": "sodium"}},
                           "phases": {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": 0.1, "eps_r": 10.0},
                                      "matrix": {"kind": "insulator", "eps_r": 4.0}, "sodium": {"kind": "metal"}},
                           "sweep": {"kind": "dc"}})
    t = run(spec, progress=False, error_estimate="never").summary.transport
    assert t.length_um == pytest.approx(11 * 0.5)
    assert t.conducting_fraction == pytest.approx(6 / 64) and t.percolating_fraction == pytest.approx(6 / 64)
    assert t.sigma_eff_S_per_m == pytest.approx(0.1 * 6 / 64, rel=1e-9)
    assert t.formation_factor == pytest.approx(64 / 6, rel=1e-9)
    assert t.tortuosity_factor == pytest.approx(1.0, rel=1e-9)


def test_islands_count_as_conducting_but_not_as_percolating(tmp_path):
    """A porous image: some electrolyte floats; the tortuosity factor counts only what joins
    both electrodes (PoreSpy's effective porosity), and exceeds 1."""
    t = run(porous_spec(tmp_path, {"kind": "dc"}), progress=False, error_estimate="never").summary.transport
    assert 0 < t.percolating_fraction < t.conducting_fraction
    assert t.tortuosity_factor > 1 and t.formation_factor > 1 / t.percolating_fraction


def test_dc_from_the_command_line_writes_no_spectrum(tmp_path, monkeypatch, capsys):
    """`run --dc` (and [sweep] kind = "dc"): summary.json and spec.toml, no spectrum or
    plots; the resolved spec says kind = "dc" and runs again; `plot` on it draws nothing
    and says so; a study of such a spec is refused."""
    monkeypatch.chdir(tmp_path)
    spec = porous_spec(tmp_path)
    import tomli_w
    (tmp_path / "porous.toml").write_text(tomli_w.dumps(spec.to_dict()))
    assert main(["run", "porous.toml", "--dc", "--out", "dc", "--no-error-estimate"]) == 0
    out = capsys.readouterr().out
    assert "sigma_eff" in out and "tortuosity factor" in out and "DC only" in out
    assert sorted(p.name for p in (tmp_path / "dc").iterdir()) == [".constriction.json", "spec.toml", "summary.json"]
    summary = json.loads((tmp_path / "dc" / "summary.json").read_text())
    assert summary["sweep"]["kind"] == "dc" and summary["transport"]["tortuosity_factor"] > 1
    assert 'kind = "dc"' in (tmp_path / "dc" / "spec.toml").read_text()
    assert main(["run", "dc/spec.toml", "--out", "again", "--no-error-estimate"]) == 0
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["R_dc_ohm"] == pytest.approx(summary["R_dc_ohm"], rel=1e-12)
    assert main(["plot", "dc"]) == 0
    assert "no data for this plot" in capsys.readouterr().out


@pytest.mark.parametrize("sweep, words", [
    ({"kind": "ac"}, "sweep.kind: must be one of 'spectrum', 'dc'"),
    ({"f_min_Hz": 10.0, "f_max_Hz": 1.0}, "sweep.f_min_Hz: must be at most sweep.f_max_Hz"),
    ({"points_per_decade": 4}, "sweep.f_min_Hz"),
])
def test_a_sweep_table_that_cannot_be_run_is_refused_at_its_key(tmp_path, sweep, words):
    with pytest.raises(SpecError, match=words.replace("(", r"\(")):
        porous_spec(tmp_path, sweep)


def test_a_study_of_a_dc_only_spec_is_refused(tmp_path):
    from constriction import study_from_dict
    spec = porous_spec(tmp_path, {"kind": "dc"})
    with pytest.raises(SpecError, match="sweep.kind"):
        study_from_dict({"base": spec.to_dict(), "axes": [{"name": "sigma", "key": "phases.electrolyte.sigma_S_per_m",
                                                           "values": [0.1, 1.0]}]})


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_error_bar_of_a_porous_image_holds_its_four_times_subdivided_value(tmp_path, seed):
    """Issue 32: R_dc ± its error bar holds the value of the same image solved on 4³
    sub-voxels per voxel, on three seeded images: the default bar (the bracket of the
    continuum value, which every subdivision's value lies above) and Richardson's (from the
    2x and 4x subdivisions, when asked)."""
    spec = porous_spec(tmp_path, {"kind": "dc"}, n=12, seed=seed)
    coarse = run(spec, progress=False, error_estimate="always").summary
    fine = run(replace(spec, subdivide=4), progress=False, error_estimate="never").summary
    bar, bracket = coarse.discretisation.R_dc, coarse.discretisation.R_dc_bracket
    assert bar.subdivisions == (1, 2, 4)
    assert abs(fine.R_dc_ohm - coarse.R_dc_ohm) <= bar.error_ohm
    assert bracket.lower_ohm < fine.R_dc_ohm < coarse.R_dc_ohm and bracket.upper_ohm < coarse.R_dc_ohm
    assert abs(fine.R_dc_ohm - coarse.R_dc_ohm) <= bracket.error_ohm
    assert run(spec, progress=False).summary.discretisation.R_dc_bracket == bracket  # the default: the same bracket
    assert abs(fine.R_dc_ohm - coarse.R_dc_ohm) > 1e-3 * coarse.R_dc_ohm  # the bar has something to hold
