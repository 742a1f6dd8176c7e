"""Inputs a new user gave that were mishandled (a traceback, a wrong number with "checks ok",
an unrelated message): each is refused in one line naming the key, or gives the right answer."""

import math

import meshio
import numpy as np
import pytest

from constriction import load_spec, run, spec_from_dict
from constriction.cli import main
from constriction.spec import SpecError

from conftest import make_spec

BOX = {"shape": "box", "side_um": 20.0, "thickness_um": 20.0}
LIQUID = {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}}
SWEEP = {"f_min_Hz": 1.0, "f_max_Hz": 1e6, "points_per_decade": 2}


def refused(words, **tables):
    with pytest.raises(SpecError) as err:
        make_spec(**tables)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_a_negative_seed_is_refused_naming_it():
    refused(["layout.seed", ">= 0", "-1"], layout={"kind": "random", "count": 3, "contact_fraction": 0.1, "seed": -1})
    refused(["grains.seed", ">= 0"], cell=BOX, mesh={"order": 1},
            grains={"kind": "voronoi", "size_um": 10.0, "seed": -2},
            materials={**LIQUID, "grain_boundary": {"sigma_S_per_m": 0.01, "eps_r": 10.0, "thickness_um": 0.005}})


def test_a_pixel_map_of_0_and_255_has_every_contact_pixel():
    pixels = [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 255]]
    refused(["layout.pixels", "0, 1, 255"], layout={"kind": "image", "pixels": pixels, "pixel_um": 2.0})
    refused(["layout.pixels", "0, 1, 7"], layout={"kind": "image", "pixels": [[0, 7], [1, 0]], "pixel_um": 2.0})
    for one in (1, 255):
        spec = make_spec(layout={"kind": "image", "pixels": [[one, 0], [0, one]], "pixel_um": 2.0})
        assert spec.contact_area_um2 == pytest.approx(8.0)  # two pixels of 2 x 2 µm


def test_an_empty_interface_table_is_refused():
    refused(["interface.R_ct_ohm_cm2", "neither"], interface={}, contacts=[{"x_um": 0, "y_um": 0, "radius_um": 5.0}])


def test_a_conductivity_beyond_any_metal_says_so():
    with pytest.raises(SpecError) as err:
        make_spec(materials={"electrolyte": {"sigma_S_per_m": 1e12, "eps_r": 10.0}})
    assert "above" in str(err.value) and "does not conduct" not in str(err.value)


def test_a_toml_file_with_a_byte_order_mark_reads(tmp_path):
    from cases import TINY_SPEC
    (tmp_path / "bom.toml").write_bytes(b"\xef\xbb\xbf" + TINY_SPEC.encode())
    assert load_spec(tmp_path / "bom.toml").name == "bom"


BALL = {"cell": BOX, "materials": LIQUID, "sweep": SWEEP, "mesh": {"size_um": 5.0},
        "inclusions": [{"shape": "sphere", "centre_um": [0.0, 0.0, 17.0], "radius_um": 3.0, "material": "metal"}]}


def test_a_metal_ball_touching_the_we_is_no_reference_electrode():
    """A ball tangent to the WE face shares a node with it: it is the WE's metal, printed
    before as a floating body at 1 V and accepted as a probe reading Z_WE-ball = 0."""
    with pytest.raises(SpecError) as err:
        run(spec_from_dict({**BALL, "probes": [{"name": "ball", "inclusion": 0}]}), progress=False)
    assert "probes[0].inclusion" in str(err.value) and "touches an electrode" in str(err.value)
    summary = run(spec_from_dict(BALL), progress=False, fields=False).summary
    assert summary.metal_bodies == () and summary.conservation.dc_relative_mismatch < 1e-9


IMAGE = """
[image]
path = "{path}"
voxel_um = 1.0
[image.labels]
0 = "electrolyte"
1 = "void"
2 = "sodium"
[phases.electrolyte]
kind = "electrolyte"
sigma_S_per_m = 0.2
eps_r = 50.0
[phases.void]
kind = "gas"
[phases.sodium]
kind = "metal"
[sweep]
f_min_Hz = 1.0
f_max_Hz = 1e6
points_per_decade = 2
"""


def test_a_void_breaking_a_metal_column_leaves_the_split_unknown_and_says_why(tmp_path, monkeypatch, capsys):
    """Filled with metal for the full-contact reference, the void would join the WE to a metal
    body on the CE: no reference, a warning, and every other number."""
    monkeypatch.chdir(tmp_path)
    a = np.zeros((10, 4, 4), np.uint8)
    a[0], a[:, 1, 1], a[4, 1, 1] = 2, 2, 1
    np.save("column.npy", a)
    (tmp_path / "column.toml").write_text(IMAGE.format(path="column.npy"))
    assert main(["run", "column.toml", "--out", "res", "--no-error-estimate"]) == 0
    out = capsys.readouterr().out
    assert "warning: no static/dynamic split" in out and "short circuit" in out


def test_an_image_path_that_is_a_folder_is_called_a_folder(tmp_path):
    (tmp_path / "stack.tif").mkdir()
    (tmp_path / "cell.toml").write_text(IMAGE.format(path="stack.tif"))
    with pytest.raises(SpecError) as err:
        load_spec(tmp_path / "cell.toml")
    assert "image.path" in str(err.value) and "is a folder" in str(err.value)


MESH_SPEC = """
[mesh_file]
path = "{path}"
regions = {{electrolyte = "bulk"}}
electrodes = {{working = "top", counter = "bottom"}}
order = 1
[materials.electrolyte]
sigma_S_per_m = 0.1
eps_r = 10.0
[sweep]
f_min_Hz = 1.0
f_max_Hz = 1e6
"""


def tetrahedron_mesh(path, flat: bool):
    """Three tetrahedra (a prism) with the groups a mesh-file spec names: "bulk", "top", "bottom";
    with `flat`, a third whose four nodes are coplanar."""
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 0]], float)
    tets = [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]] + ([[0, 1, 2, 6]] if flat else [])  # a prism, split
    mesh = meshio.Mesh(points, [("tetra", np.array(tets)), ("triangle", np.array([[3, 4, 5], [0, 1, 2]]))],
                       cell_sets={"bulk": [np.arange(len(tets)), np.array([], int)],
                                  "top": [np.array([], int), np.array([0])],
                                  "bottom": [np.array([], int), np.array([1])]})
    mesh.write(path, file_format="abaqus")


@pytest.mark.parametrize("name, writes, words", [
    ("cell.msh", lambda p: p.write_text("hello"), ["mesh_file.path", "cannot be read as a mesh", "gmsh"]),
    ("cell.inp", lambda p: tetrahedron_mesh(p, flat=True), ["mesh_file.path", "1 of 4 tetrahedra have no volume"]),
    ("cell.msh", lambda p: p.mkdir(), ["mesh_file.path", "is a folder"]),
])
def test_a_mesh_file_that_cannot_be_used_is_refused_naming_the_key(tmp_path, monkeypatch, capsys, name, writes,
                                                                   words):
    monkeypatch.chdir(tmp_path)
    writes(tmp_path / name)
    (tmp_path / "cell.toml").write_text(MESH_SPEC.format(path=name))
    assert main(["run", "cell.toml", "--out", "res"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: cell.toml: ") and all(w in err for w in words), err
    assert not (tmp_path / "res").exists()


def test_the_two_tetrahedra_read_without_the_flat_one(tmp_path):
    tetrahedron_mesh(tmp_path / "cell.inp", flat=False)
    (tmp_path / "cell.toml").write_text(MESH_SPEC.format(path="cell.inp"))
    assert load_spec(tmp_path / "cell.toml").tetrahedra == 3


@pytest.mark.parametrize("rows, words", [
    (["1e6,100.5", "1e5,101.0", "1e4,102.0"], ["3 columns", "found 2"]),
    (["1,100,-5,0", "10,100,-5,0", "100,100,-5,0"], ["3 columns", "4 found"]),
])
def test_a_csv_of_two_or_four_columns_says_three_were_expected(tmp_path, capsys, rows, words):
    (tmp_path / "measured.csv").write_text("\n".join(rows) + "\n")
    assert main(["fit", str(tmp_path / "measured.csv"), "--table", "none.nc", "--area-cm2", "1"]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words) and "decimal" not in err.split("3 columns")[0], err


@pytest.mark.parametrize("area", ["1e300", "1e-20"])
def test_an_absurd_area_is_refused(capsys, area):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "measured.csv", "results", "--area-cm2", area])
    assert exit_.value.code == 2 and "cm²" in capsys.readouterr().err
    assert math.isfinite(float(area))


def test_a_contact_gmsh_cannot_mesh_in_minutes_is_refused_before_meshing():
    """A 1 nm spot in a 50 µm flux tube: elements 250,000 times finer at its edge than far
    away; Gmsh did not finish in 400 s (twice). The 0.05 µm spot (5,000 times) meshes."""
    from constriction.geometry.cell import check_resolution
    gap = {"height_um": 0.5, "eps_r": 1.0}
    for radius, meshes in ((1e-3, False), (0.01, False), (0.05, True)):
        spec = make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": radius}], gap=gap,
                         mesh={"size_um": 10.0, "order": 2})
        if meshes:
            check_resolution(spec)
            continue
        with pytest.raises(SpecError) as err:
            check_resolution(spec)
        assert "contacts[0].radius_um" in str(err.value) and "smaller cell" in str(err.value)
    # whatever sets the edge size: a contact map's pixel, or mesh.edge_size_um itself
    for tables, key in (({"layout": {"kind": "image", "pixels": [[1, 0], [0, 1]], "pixel_um": 5e-4}, "gap": gap},
                         "layout.pixel_um"),
                        ({"contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}],
                          "mesh": {"size_um": 10.0, "edge_size_um": 1e-4}}, "mesh.edge_size_um")):
        with pytest.raises(SpecError) as err:
            check_resolution(make_spec(**tables))
        assert str(err.value).startswith(key) and "smaller cell" in str(err.value)


def test_a_backend_that_is_not_installed_is_refused_in_one_line_before_meshing(tmp_path, monkeypatch, capsys):
    """pypardiso is an extra now: without it --backend pardiso says how to install it."""
    from cases import TINY_SPEC
    from constriction.solve import linalg
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(linalg, "available_backends", lambda: ["superlu", "amg"])
    (tmp_path / "tiny.toml").write_text(TINY_SPEC)
    assert main(["run", "tiny.toml", "--out", "res", "--backend", "pardiso"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install -e ".[pardiso]"' in err[0] and not (tmp_path / "res").exists()
    with pytest.raises(linalg.BackendError):
        run(load_spec("tiny.toml"), backend="pardiso")
