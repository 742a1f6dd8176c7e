"""`constriction run`: what it writes, and what it refuses."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from constriction.cli import main
from constriction.units import EPS0
from constriction.analysis.spectrum import CSV_HEADER, Spectrum

from cases import SMALL_SPEC

ROOT = Path(__file__).resolve().parents[2]

def test_run_writes_spectrum_summary_and_plot(tmp_path, capsys):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_SPEC)
    out = tmp_path / "result"
    assert main(["run", str(spec), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("spectrum.csv", "summary.json", "nyquist.png"):
        assert (out / name).is_file() and str(out / name) in printed

    assert (out / "spectrum.csv").read_text().splitlines()[0] == CSV_HEADER
    spectrum = Spectrum.from_csv(out / "spectrum.csv")
    assert len(spectrum.frequency_Hz) == 9 * 4 + 1
    summary = json.loads((out / "summary.json").read_text())
    for key in ("R_dc_ohm", "R_inf_ohm", "area_um2", "dofs", "conservation"):
        assert key in summary
    assert summary["area_um2"] == pytest.approx(2500.0)
    assert summary["conservation"]["sweep_max_relative_mismatch"] < 1e-8
    assert summary["sweep"]["kind"] == "reduced" and summary["sweep"]["estimated_error"] < 1e-6
    # lowest frequency sits on R_dc, and the constriction arc lies above R_inf
    assert spectrum.Z_ohm[0].real == pytest.approx(summary["R_dc_ohm"], rel=1e-4)
    assert summary["R_dc_ohm"] > 1.5 * summary["R_inf_ohm"]
    assert (out / "nyquist.png").stat().st_size > 10_000


def test_run_direct_sweep_agrees_with_reduced(tmp_path):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_SPEC.replace("points_per_decade = 4", "points_per_decade = 1"))
    main(["run", str(spec), "--out", str(tmp_path / "r")])
    main(["run", str(spec), "--out", str(tmp_path / "d"), "--sweep", "direct"])
    reduced, direct = (Spectrum.from_csv(tmp_path / d / "spectrum.csv").Z_ohm for d in "rd")
    assert np.abs(reduced / direct - 1).max() < 1e-6


@pytest.mark.parametrize("change, message", [
    (("radius_um = 5.0", "radius_um = -5.0"), "contacts[0].radius_um: must be > 0"),
    (("f_max_Hz = 1e9", "f_max_Hz = 0.5"), "sweep.f_min_Hz: must be at most sweep.f_max_Hz"),
    (("side_um = 50.0", "side_um = 50.0\ncolour = 'red'"), "cell.colour: unknown key"),
    (("thickness_um = 50.0\n", ""), "cell.thickness_um: missing key"),
    (("x_um = 0.0", "x_um = 22.0"), "contacts[0]: reaches or crosses the edge of the electrode"),
])
def test_bad_spec_exits_2_with_one_line_and_writes_nothing(tmp_path, change, message):
    spec = tmp_path / "bad.toml"
    spec.write_text(SMALL_SPEC.replace(*change))
    out = tmp_path / "result"
    done = subprocess.run([sys.executable, "-m", "constriction", "run", str(spec), "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and message in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [spec]


def test_full_contact_example_is_one_semicircle(tmp_path):
    out = tmp_path / "full"
    assert main(["run", str(ROOT / "specs" / "full_contact.toml"), "--out", str(out)]) == 0
    spectrum = Spectrum.from_csv(out / "spectrum.csv")
    L, A, sigma, eps_r = 100e-6, 1e-8, 0.1, 10.0
    expected = 1 / (sigma * A / L + 2j * np.pi * spectrum.frequency_Hz * EPS0 * eps_r * A / L)
    assert np.abs(spectrum.Z_ohm / expected - 1).max() < 1e-6


def test_plot_redraws_a_result_folder(tmp_path, capsys):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_SPEC)
    out = tmp_path / "result"
    main(["run", str(spec), "--out", str(out)])
    for png in out.glob("*.png"):
        png.unlink()
    assert main(["plot", str(out)]) == 0
    for name in ("nyquist.png", "bode.png", "drt.png", "equipotentials.png", "current.png"):
        assert (out / name).stat().st_size > 10_000
    assert main(["plot", str(out), "--kind", "bode"]) == 0
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a result folder" in capsys.readouterr().err


def test_run_shows_the_solver_lines_of_large_systems_on_stderr(tmp_path, capsys, monkeypatch):
    """AMG setups and CG solves of large systems (LOUD_UNKNOWNS, lowered here to reach a small
    cell) show on stderr beside the progress; the library itself configures no logging."""
    import logging
    from constriction.solve import linalg
    logger = logging.getLogger("constriction")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(linalg, "LOUD_UNKNOWNS", 0)
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_SPEC)
    assert main(["run", str(spec), "--out", str(tmp_path / "result"), "--backend", "amg"]) == 0
    err = capsys.readouterr().err
    assert "amg setup on" in err and "CG on" in err and "iterations" in err
    probe = subprocess.run([sys.executable, "-c", "import logging, constriction, constriction.solve.linalg; "
                            "print(len(logging.getLogger('constriction').handlers), logging.getLogger().handlers)"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.split() == ["0", "[]"]
