"""The worked cases from the papers (studies/) run and print their comparison (slow)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def study(name: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "studies" / name), "--quick"], capture_output=True,
                          text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_micro_probe_compares_tip_and_islands_with_table_1():
    out = study("micro_probe.py")
    ratios = [float(v) for v in re.findall(r"kΩ\s+(\d\.\d{3})\s", out)]
    assert len(ratios) == 4 and all(0.9 < r < 1.01 for r in ratios)   # FE against psi(a/b)/(4 sigma a)
    assert "The arcs are not the tip's spreading resistance" in out


@pytest.mark.slow
def test_ac_vs_dc_shows_the_low_frequency_limit_is_the_dc_resistance():
    out = study("ac_vs_dc.py")
    deviations = [float(v) for v in re.findall(r"\|Z/R_dc - 1\| = (\S+)", out)]
    assert len(deviations) == 5 and max(deviations) < 1e-6
    assert re.search(r"shrink \d+\.\d-fold", out)


@pytest.mark.slow
def test_stripping_series_records_two_and_three_electrode_spectra(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "studies" / "stripping_series.py"), "--quick", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    growth = float(re.search(r"R_cstr grows (\S+)-fold", done.stdout).group(1))
    assert growth > 1.05
    assert (tmp_path / "study" / "series.png").stat().st_size > 10_000
