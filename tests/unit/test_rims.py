"""Grading toward circular contact rims (constriction/geometry/rims.py): nodes move, nothing else
does. The accuracy it buys is measured in tests/validation/test_accuracy.py."""

import numpy as np
import pytest

import constriction.geometry.cell as geometry
from constriction.geometry.tagged_mesh import tagged_mesh
from constriction.io.spec_reader import load_spec


def _meshes(spec, monkeypatch):
    graded = tagged_mesh(geometry.build_mesh(spec))
    with monkeypatch.context() as m:
        m.setattr(geometry, "graded_coordinates", lambda tags, xyz, *args: xyz)
        as_meshed = tagged_mesh(geometry.build_mesh(spec))
    return graded, as_meshed


def _volumes(tagged):
    p, t = tagged.mesh.p, tagged.mesh.t
    a, b, c, d = (p[:, t[k]] for k in range(4))
    return np.einsum("ij,ij->j", np.cross((b - a).T, (c - a).T).T, d - a) / 6


@pytest.fixture(scope="module")
def spot_under_a_gap():
    return load_spec("specs/single_spot.toml")


def test_grading_moves_nodes_toward_the_rim_and_keeps_every_region_and_boundary(spot_under_a_gap, monkeypatch):
    graded, as_meshed = _meshes(spot_under_a_gap, monkeypatch)
    assert np.array_equal(graded.mesh.t, as_meshed.mesh.t)        # the same elements, the same unknowns
    moved = np.linalg.norm(graded.mesh.p - as_meshed.mesh.p, axis=0) > 0
    assert moved.sum() > 1000
    v_graded, v_meshed = _volumes(graded), _volumes(as_meshed)
    assert (v_graded > 0).all()                                     # nothing turned inside out
    for name, elements in graded.regions.items():                   # every region keeps its volume
        assert v_graded[elements].sum() == pytest.approx(v_meshed[elements].sum(), rel=1e-12), name
    for name in graded.boundaries:                                  # and every boundary its area
        assert graded.facet_area_m2(name) == pytest.approx(as_meshed.facet_area_m2(name), rel=1e-12), name
    # the smallest elements are now at the rim, thinner across it than Gmsh made any
    assert v_graded.min() < 0.05 * v_meshed.min()                  # measured: 0.006


def test_a_rim_without_room_is_left_as_meshed(monkeypatch):
    """A lens pore's cap meets the contact plane at its rim: its nodes may not move, so
    that rim keeps Gmsh's mesh (and the other rims their grading)."""
    spec = load_spec("specs/lens_pores.toml")
    graded, as_meshed = _meshes(spec, monkeypatch)
    assert (_volumes(graded) > 0).all()
    for name in graded.boundaries:
        assert graded.facet_area_m2(name) == pytest.approx(as_meshed.facet_area_m2(name), rel=1e-12), name


@pytest.mark.parametrize("pixels", [[[1, 1], [1, 0]], [[1, 0], [0, 1]]], ids=["L", "pinch"])
def test_straight_contact_edges_are_graded_too(pixels, monkeypatch):
    """A pixel map's outline: straight edges (a fused map's are OCC trimmed curves), a
    concave corner, two squares touching at a point. Every edge's tube moves, nothing
    turns inside out, every region and boundary keeps its size."""
    from conftest import make_spec
    spec = make_spec(cell={"shape": "box", "side_um": 24.0, "thickness_um": 24.0}, gap={"height_um": 0.5},
                     layout={"kind": "image", "pixels": pixels, "pixel_um": 6.0})
    graded, as_meshed = _meshes(spec, monkeypatch)
    assert np.array_equal(graded.mesh.t, as_meshed.mesh.t)
    v_graded, v_meshed = _volumes(graded), _volumes(as_meshed)
    assert (v_graded > 0).all()
    for name, elements in graded.regions.items():
        assert v_graded[elements].sum() == pytest.approx(v_meshed[elements].sum(), rel=1e-12), name
    for name in graded.boundaries:
        assert graded.facet_area_m2(name) == pytest.approx(as_meshed.facet_area_m2(name), rel=1e-12), name
    # every segment of the contacts' outline has moved nodes beside it
    p = as_meshed.mesh.p / 1e-6
    moved = np.linalg.norm(graded.mesh.p - as_meshed.mesh.p, axis=0) > 0
    for mid in _outline_midpoints(as_meshed):
        assert (np.linalg.norm(p[:, moved] - mid[:, None], axis=0) < 1.0).any(), mid


def _outline_midpoints(tagged):
    """Midpoints (µm) of the mesh edges that bound the contacts: edges of one contact facet only."""
    triangles = np.sort(tagged.mesh.facets[:, tagged.mesh.boundaries["contacts"]], axis=0)
    edges = np.concatenate([triangles[[0, 1]], triangles[[1, 2]], triangles[[0, 2]]], axis=1)
    unique, count = np.unique(edges, axis=1, return_counts=True)
    outline = unique[:, count == 1]
    return (tagged.mesh.p[:, outline[0]] + tagged.mesh.p[:, outline[1]]).T / 2 / 1e-6
