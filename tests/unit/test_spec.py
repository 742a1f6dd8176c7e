"""Bad input is refused before meshing, with the key and the reason in one line."""

import pytest

from constriction import SpecError

from conftest import make_spec

SPOT = {"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}


@pytest.mark.parametrize("tables, key, reason", [
    ({"cell": {"shape": "cylinder", "thickness_um": 100.0}}, "cell.radius_um", "missing"),
    ({"cell": {"shape": "cylinder", "radius_um": 50.0, "thickness_um": 100.0, "colour": 1}},
     "cell.colour", "unknown key"),
    ({"cell": {"shape": "sphere", "radius_um": 50.0, "thickness_um": 100.0}}, "cell.shape", "one of"),
    ({"cell": {"shape": "cylinder", "radius_um": 50.0, "thickness_um": 0.0}}, "cell.thickness_um", "> 0"),
    ({"cell": {"shape": "box", "side_um": -3.0, "thickness_um": 10.0}}, "cell.side_um", "> 0"),
    ({"contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": -1.0}]}, "contacts[0].radius_um", "> 0"),
    ({"contacts": [{"x_um": 0.0, "y_um": 0.0}]}, "contacts[0].radius_um", "missing"),
    ({"contacts": [{"x_um": 48.0, "y_um": 0.0, "radius_um": 5.0}]}, "contacts[0]", "edge of the electrode"),
    ({"contacts": [SPOT, {"x_um": 8.0, "y_um": 0.0, "radius_um": 5.0}]}, "contacts[1]",
     "overlaps or touches contacts[0]"),
    ({"electrode": {"radius_um": 20.0, "offset_um": [10.0, 0.0]},
      "contacts": [{"x_um": -8.0, "y_um": 0.0, "radius_um": 3.0}]}, "contacts[0]", "edge of the electrode"),
    ({"electrode": {"radius_um": 60.0}}, "electrode.radius_um", "larger than the cell"),
    ({"electrode": {"radius_um": 40.0, "offset_um": [15.0, 0.0]}}, "electrode.radius_um",
     "larger than the cell"),
    ({"electrode": {"radius_um": 40.0, "offset_um": [1.0]}}, "electrode.offset_um", "pair"),
    ({"gap": {"height_um": -0.5}}, "gap.height_um", ">= 0"),
    ({"gap": {"height_um": 0.5, "eps_r": 0.0}}, "gap.eps_r", "> 0"),
    ({"contacts": []}, "contacts", "nothing connects"),
    ({"gap": {"height_um": 0.5}}, "gap.height_um", "a gap needs [[contacts]]"),
    ({"sweep": {"f_min_Hz": 1e6, "f_max_Hz": 1e3}}, "sweep.f_min_Hz", "at most sweep.f_max_Hz"),
    ({"sweep": {"f_min_Hz": 0.0, "f_max_Hz": 1e3}}, "sweep.f_min_Hz", "> 0"),
    ({"sweep": {"f_max_Hz": 1e3}}, "sweep.f_min_Hz", "missing"),
    ({"mesh": {"order": 3}}, "mesh.order", "1 or 2"),
    ({"mesh": {"tolerance": 0.0}}, "mesh.tolerance", "at least 1e-05"),
    ({"mesh": {"tolerance": 2.0}}, "mesh.tolerance", "below 1"),
    ({"mesh": {"size_um": "fine"}}, "mesh.size_um", "finite number"),
    ({"materials": {"electrolyte": {"eps_r": 10.0}}}, "materials.electrolyte.sigma_S_per_m", "missing"),
    ({"materials": {}}, "materials.electrolyte", "missing"),
    ({"pellet": {}}, "pellet", "unknown key"),
    ({"contacts": SPOT}, "contacts", "array of tables ([[contacts]])"),  # [contacts], not [[contacts]]
    ({"pores": SPOT}, "pores", "array of tables ([[pores]])"),
    ({"voids": 1}, "voids", "array of tables ([[voids]])"),
    ({"probes": "RE"}, "probes", "array of tables ([[probes]])"),
    ({"inclusions": {}}, "inclusions", "array of tables ([[inclusions]])"),
    ({"mesh": {"size_um": 9.6e-206}}, "mesh.size_um", "smaller than an atom"),  # found by test_fuzz
    ({"gap": {"height_um": 1e-5}}, "gap.height_um", "smaller than an atom"),
])
def test_bad_spec_names_key_and_reason(tables, key, reason):
    with pytest.raises(SpecError) as err:
        make_spec(**tables)
    assert err.value.key == key
    assert reason in err.value.reason
    assert "\n" not in str(err.value)


def test_good_spec_reads_back():
    spec = make_spec(contacts=[SPOT], gap={"height_um": 0.5})
    assert spec.contacts[0].radius_um == 5.0
    assert spec.has_gap and not spec.full_contact
    assert spec.frequencies_Hz()[0] == 1.0 and spec.frequencies_Hz()[-1] == pytest.approx(1e9)
    assert len(spec.frequencies_Hz()) == 9 * 2 + 1


def test_no_contacts_table_is_full_contact():
    spec = make_spec()
    assert spec.full_contact and spec.contact_area_um2 == pytest.approx(spec.electrode_area_um2)


def test_every_example_spec_and_study_loads():
    from pathlib import Path
    from constriction import load_spec
    from constriction import load_study
    root = Path(__file__).resolve().parents[2]
    specs = sorted((root / "specs").glob("*.toml"))
    assert len(specs) >= 5
    for path in specs:
        assert load_spec(path).name == path.stem
    for path in sorted((root / "studies").glob("*.toml")):
        assert load_study(path).axes


def test_every_example_spec_comes_back_from_its_plain_tables():
    """Spec.to_dict gives the tables the reader builds the same spec from: generated
    layouts as explicit contacts, contact maps as pixels, named material sets as values."""
    from pathlib import Path
    from constriction import load_spec, spec_from_dict
    from constriction.spec import Spec
    specs = [load_spec(p) for p in sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.toml"))]
    specs = [s for s in specs if isinstance(s, Spec)]
    assert len(specs) >= 6
    for spec in specs:
        assert spec_from_dict(spec.to_dict(), name=spec.name) == spec, spec.name


@pytest.mark.parametrize("pixels, sides", [([[1]], 4), ([[1, 1], [1, 0]], 8), ([[1, 0], [0, 1]], 8),
                                           ([[0, 1, 0], [1, 1, 1], [0, 1, 0]], 12), ([[1, 1, 1]], 8)])
def test_a_contact_maps_outline_and_its_edge_size(pixels, sides):
    """The outline counts the pixel sides between contact and not (inner sides of touching
    pixels not): it sets a map's contact-edge size, area / outline / 16 but at most pixel / 10."""
    from constriction.geometry.cell import edge_size_um
    spec = make_spec(layout={"kind": "image", "pixels": pixels, "pixel_um": 2.0})
    cmap = spec.contact_map
    assert cmap.outline_um == pytest.approx(sides * 2.0)
    assert edge_size_um(spec) == pytest.approx(min(0.2, cmap.area_um2 / cmap.outline_um / 16))
    big = make_spec(layout={"kind": "image", "pixels": [[1] * 12] * 12, "pixel_um": 2.0})
    assert edge_size_um(big) == pytest.approx(0.2)  # a wide map: pixel / 10, not coarser


def test_a_map_too_large_for_the_memory_says_what_its_edges_get():
    """A checkerboard of 1 µm pixels: its outline is long, its default edge size 1/64 µm, and
    the run is refused before meshing with that size named beside the key to coarsen."""
    from constriction.pipeline import check_size
    board = [[(i + j) % 2 for j in range(20)] for i in range(20)]
    spec = make_spec(layout={"kind": "image", "pixels": board, "pixel_um": 1.0})
    with pytest.raises(SpecError) as err:
        check_size(spec, max_memory_GiB=1.0)
    assert "mesh.edge_size_um (the contact edges get 0.0156 µm)" in str(err.value)
