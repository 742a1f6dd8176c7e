"""Small cases that tests in both folders share: specs as TOML text, a labelled image,
and the check that the command line refused in one line and changed nothing."""

import hashlib
from pathlib import Path

import numpy as np

from constriction.cli import main

SMALL_SPEC = """
[cell]
shape = "box"
side_um = 50.0
thickness_um = 50.0
[[contacts]]
x_um = 0.0
y_um = 0.0
radius_um = 5.0
[gap]
height_um = 0.5
[materials.electrolyte]
sigma_S_per_m = 0.1
eps_r = 10.0
[sweep]
f_min_Hz = 1.0
f_max_Hz = 1e9
points_per_decade = 4
[mesh]
size_um = 10.0
order = 1
"""

TINY_SPEC = SMALL_SPEC.replace("points_per_decade = 4", "points_per_decade = 2").replace(
    "side_um = 50.0", "side_um = 20.0").replace("thickness_um = 50.0", "thickness_um = 20.0").replace(
    "radius_um = 5.0", "radius_um = 3.0")

STUDY = """
[study]
name = "tiny"
outputs = ["R_dc_ohm", "R_cstr_ohm"]
[base]
spec = "tiny.toml"
[[axes]]
name = "radius"
key = "contacts[0].radius_um"
values = [2.0, 3.0]
"""


def snapshot(root: Path) -> dict:
    """Every path under root with a hash of its content (folders: None)."""
    out = {}
    for path in sorted(root.rglob("*")):
        out[str(path.relative_to(root))] = None if path.is_dir() else hashlib.sha1(path.read_bytes()).hexdigest()
    return out


def refused(argv, root, *words, capsys):
    """Run the CLI; it must refuse in one line naming `words`, and change nothing."""
    before = snapshot(root)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    message = err[-1]
    assert message.startswith("error: ") and "Traceback" not in "\n".join(err), err
    for word in words:
        assert word in message, message
    assert snapshot(root) == before
    return message


def image_toml(path, image_table: str, phases: str = "") -> None:
    path.write_text(image_table + (phases or """
[phases.electrolyte]
kind = "electrolyte"
sigma_S_per_m = 0.1
eps_r = 10.0
[phases.gas]
kind = "gas"
[phases.metal]
kind = "metal"
""") + "[sweep]\nf_min_Hz = 1.0\nf_max_Hz = 1e9\npoints_per_decade = 2\n")


LABELS = '[image.labels]\n0 = "electrolyte"\n1 = "gas"\n2 = "metal"\n'


def voxel_cell(n=6, metal_top=True):
    a = np.zeros((n, n, n), np.uint8)
    if metal_top:
        a[-1] = 2
    return a
