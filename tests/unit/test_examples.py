"""The short scripts in examples/ run from start to end and write what they say."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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


SLOW_TO_MESH = {"hex_array", "lens_pores", "dead_sodium"}  # 90-200 k tetrahedra each


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=[pytest.mark.slow] if p.stem in SLOW_TO_MESH else [], id=p.stem)
    for p in sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.toml"))])
def test_the_element_estimate_of_every_example_spec_is_within_25_percent(path):
    """The memory budget (memory.py) rests on this estimate, printed before meshing."""
    from constriction.geometry.cell import build_mesh, estimate_elements
    from constriction.image.read import ImageSpec
    from constriction.io.spec_reader import load_spec
    spec = load_spec(path)
    if isinstance(spec, ImageSpec):
        pytest.skip("an image: its voxel count is exact")
    tetrahedra = sum(len(c.data) for c in build_mesh(spec).cells if c.type == "tetra")
    assert estimate_elements(spec) == pytest.approx(tetrahedra, rel=0.25)
