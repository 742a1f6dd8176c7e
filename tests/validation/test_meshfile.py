"""Your own mesh as the geometry ([mesh_file]): the third geometry source, downstream shared."""

import math

import gmsh
import numpy as np
import pytest

from constriction.cli import main
from constriction.analysis.spectrum import Spectrum

from conftest import slab_impedance

SIDE, L = 20.0, 10.0  # µm


def slab_msh(path, unit: float = 1.0, gap: float = 0.0, size: float = 5.0, patch: float = 0.0):
    """A box slab meshed by Gmsh with the user's own group names: "bulk" (and "air", a gas
    layer on top over the whole face, with gap > 0), "top" and "bottom"; lengths in units
    of `unit` µm. patch > 0: "top" is only a centred square of that side (no gap)."""
    gmsh.initialize()
    gmsh.option.setNumber("General.Terminal", 0)
    try:
        occ = gmsh.model.occ
        s = 1.0 / unit
        bulk = occ.addBox(0, 0, 0, SIDE * s, SIDE * s, L * s)
        volumes = [bulk]
        if gap:
            volumes.append(occ.addBox(0, 0, L * s, SIDE * s, SIDE * s, gap * s))
            occ.fragment([(3, bulk)], [(3, volumes[1])])
        if patch:
            square = occ.addRectangle((SIDE - patch) / 2 * s, (SIDE - patch) / 2 * s, L * s, patch * s, patch * s)
            occ.fragment([(3, bulk)], [(2, square)])
        occ.synchronize()
        top_z = (L + gap) * s

        def face_at(z, side=SIDE):
            return [t for _, t in gmsh.model.getEntities(2) if abs(occ.getCenterOfMass(2, t)[2] - z) < 1e-9 * s
                    and abs(occ.getMass(2, t) - (side * s) ** 2) < 1e-6 * (side * s) ** 2]
        gmsh.model.addPhysicalGroup(3, [bulk], name="bulk")
        if gap:
            gmsh.model.addPhysicalGroup(3, [volumes[1]], name="air")
        gmsh.model.addPhysicalGroup(2, face_at(top_z, patch or SIDE), name="top")
        gmsh.model.addPhysicalGroup(2, face_at(0.0), name="bottom")
        gmsh.option.setNumber("Mesh.MeshSizeMax", size * s)
        gmsh.model.mesh.generate(3)
        gmsh.write(str(path))
    finally:
        gmsh.finalize()


SPEC = """
[mesh_file]
path = "{path}"
unit_um = {unit}
regions = {{electrolyte = "bulk"{gap_region}}}
electrodes = {{working = "top", counter = "bottom"}}
order = 1
[materials.electrolyte]
sigma_S_per_m = 0.1
eps_r = 10.0
{gap_table}
[sweep]
f_min_Hz = 1.0
f_max_Hz = 1e9
points_per_decade = 2
"""


def write_spec(folder, path="slab.msh", unit=1.0, gap=False, **replace):
    text = SPEC.format(path=path, unit=unit, gap_region=', gap = "air"' if gap else "",
                       gap_table="[materials.gap]\neps_r = 1.0" if gap else "")
    for old, new in replace.items():
        text = text.replace(old, new)
    (folder / "cell.toml").write_text(text)
    return folder / "cell.toml"


@pytest.mark.parametrize("unit", [1.0, 1000.0, 1e6])  # µm, mm, m
def test_a_slab_from_a_mesh_file_matches_its_closed_form_in_any_unit(tmp_path, monkeypatch, unit):
    monkeypatch.chdir(tmp_path)
    slab_msh(tmp_path / "slab.msh", unit=unit)
    write_spec(tmp_path, unit=unit)
    assert main(["run", "cell.toml", "--out", "res"]) == 0
    spectrum = Spectrum.from_csv(tmp_path / "res" / "spectrum.csv")
    A, thickness = (SIDE * 1e-6) ** 2, L * 1e-6
    expected = slab_impedance(spectrum.frequency_Hz, thickness, A, 0.1, 10.0)
    np.testing.assert_allclose(spectrum.Z_ohm, expected, rtol=1e-7)  # P1 is exact for the slab


def test_a_gas_layer_from_a_mesh_file_is_a_flat_gap(tmp_path, monkeypatch):
    """A 0.5 µm gas layer over the whole face, in series with the slab: a capacitor."""
    from constriction import load_spec, run
    from constriction.units import EPS0
    monkeypatch.chdir(tmp_path)
    slab_msh(tmp_path / "slab.msh", gap=0.5)
    result = run(load_spec(write_spec(tmp_path, gap=True)), progress=False)
    f = result.spectrum.frequency_Hz
    A = (SIDE * 1e-6) ** 2
    gap = 1 / (2j * np.pi * f * EPS0 * A / 0.5e-6)
    np.testing.assert_allclose(result.spectrum.Z_ohm, slab_impedance(f, L * 1e-6, A, 0.1, 10.0) + gap, rtol=1e-6)
    assert math.isinf(result.summary.R_dc_ohm)  # nothing conducts across the gas


@pytest.mark.parametrize("replace, words", [
    ({'working = "top"': 'working = "lid"'}, ["mesh_file.electrodes.working", "no group 'lid'", "top"]),
    ({'electrolyte = "bulk"': 'electrolyte = "top"'}, ["mesh_file.regions.electrolyte", "no tetra"]),
    ({'counter = "bottom"': 'counter = "top"'}, ["mesh_file.electrodes", "short circuit"]),
    ({'path = "slab.msh"': 'path = "nowhere.msh"'}, ["mesh_file.path", "no such file"]),
    ({'order = 1': 'order = 3'}, ["mesh_file.order"]),
    ({'electrodes = {working = "top", counter = "bottom"}': 'electrodes = {working = "top"}'},
     ["mesh_file.electrodes.counter", "missing"]),
])
def test_a_mesh_file_spec_that_cannot_be_used_is_refused_naming_the_key(tmp_path, monkeypatch, capsys, replace,
                                                                        words):
    monkeypatch.chdir(tmp_path)
    slab_msh(tmp_path / "slab.msh")
    write_spec(tmp_path, **replace)
    assert main(["run", "cell.toml", "--out", "res"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: cell.toml: ") and all(w in err for w in words), err
    assert not (tmp_path / "res").exists()


def test_a_mesh_file_result_reproduces_from_its_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    slab_msh(tmp_path / "slab.msh")
    write_spec(tmp_path)
    assert main(["run", "cell.toml", "--out", "first"]) == 0
    assert main(["run", "first/spec.toml", "--out", "again"]) == 0
    a, b = (Spectrum.from_csv(tmp_path / d / "spectrum.csv") for d in ("first", "again"))
    np.testing.assert_allclose(b.Z_ohm, a.Z_ohm, rtol=1e-12)


def test_a_mesh_files_error_bar_brackets_its_cell(tmp_path, monkeypatch):
    """The P1 value from below, a Crouzeix-Raviart solve on the same tetrahedra from above
    (solve/bounds.py): a slab to round-off; a square electrode on part of the top face at
    two mesh sizes, each bracket holding the other's lower end (both hold the one true value)."""
    from constriction import load_spec, run
    monkeypatch.chdir(tmp_path)
    slab_msh(tmp_path / "slab.msh")
    d = run(load_spec(write_spec(tmp_path)), progress=False).summary.discretisation
    assert d.R_dc_bracket.upper_ohm == pytest.approx(d.R_dc_bracket.lower_ohm, rel=1e-9)
    assert d.R_cstr_bracket is None  # a mesh file has no reference cell
    brackets, dc = [], {"f_min_Hz = 1.0\nf_max_Hz = 1e9\npoints_per_decade = 2": 'kind = "dc"'}
    for size in (5.0, 2.5):
        slab_msh(tmp_path / "slab.msh", size=size, patch=8.0)
        summary = run(load_spec(write_spec(tmp_path, **dc)), progress=False).summary
        b = summary.discretisation.R_dc_bracket
        assert b.lower_ohm == summary.R_dc_ohm < b.upper_ohm
        assert b.error_ohm == b.upper_ohm - b.lower_ohm
        brackets.append(b)
    coarse, fine = brackets
    assert coarse.lower_ohm < fine.lower_ohm < fine.upper_ohm < coarse.upper_ohm  # refined, both ends close in
