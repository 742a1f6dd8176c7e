"""The short scripts in examples/ run from start to end and write what they say."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script, writes, prints", [
    ("one_spot.py", ["one_spot.png"], ["R_cstr", "C_cstr"]),
    ("study_table.py", ["table.nc", "study_table/results.nc"], ["interpolated: R_cstr"]),
    ("fit_measured.py", ["fit_measured.png"], ["KK max residual", "arc: R"]),
])
def test_example_runs(tmp_path, script, writes, prints):
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in writes:
        assert (tmp_path / name).stat().st_size > 1000, name
    for words in prints:
        assert words in done.stdout, done.stdout
