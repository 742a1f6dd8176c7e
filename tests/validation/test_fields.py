"""Potential fields: exact where the closed form is known, the reduced model's against the
direct solve, and the VTK file ParaView reads."""

import meshio
import numpy as np
import pytest

from constriction.geometry.mesh_fields import contact_current, fields_of, read_vtu, write_vtu
from constriction.geometry.tagged_mesh import UM
from constriction.solve.reduced import reduce
from constriction.solve.direct import dc_resistance, driven_solve

from conftest import make_spec, system_of

SPOT_GAP = {"contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}], "gap": {"height_um": 0.5},
            "mesh": {"order": 1, "size_um": 10.0}}


def test_slab_section_is_the_linear_field():
    spec = make_spec(cell={"shape": "box", "side_um": 40.0, "thickness_um": 60.0},
                     mesh={"order": 2, "size_um": 15.0})
    _, system = system_of(spec)
    x = driven_solve(system.G, system.we, system.ce, system.interior)[2]
    fields = fields_of(system, {0.0: x}, 60 * UM)
    section = fields.section[0]
    assert np.isfinite(section).all()  # every section point found in the mesh
    expected = np.broadcast_to(fields.section_z_um[:, None] / 60.0, section.shape)
    assert np.abs(section - expected).max() < 1e-9
    assert np.abs(fields.potential[0] - fields.points_um[2] / 60.0).max() < 1e-9


def test_reduced_model_fields_match_direct_solves():
    _, system = system_of(make_spec(**SPOT_GAP))
    model = reduce(system, 1.0, 1e9, progress=False)
    for f in (1.0, 2e7):
        direct = driven_solve(system.pencil(2j * np.pi * f), system.we, system.ce, system.interior, "superlu")[2]
        assert np.abs(model.potential(f) - direct).max() < 1e-4


def test_constriction_shows_in_the_low_frequency_section_only():
    """At DC the potential drops mostly near the spot; once the gap is shorted, the top of
    the electrolyte is nearly equipotential (thesis Fig. 2a)."""
    _, system = system_of(make_spec(**SPOT_GAP))
    model = reduce(system, 1.0, 1e9, progress=False)
    fields = fields_of(system, {f: model.potential(f) for f in (1.0, 2e7)}, 100 * UM)
    top = fields.section[:, -3, :]  # just below the electrolyte surface, across the cell
    low, high = np.abs(top[0]), np.abs(top[1])
    assert low.max() - low.min() > 0.3       # strong lateral variation: constriction
    assert high.max() - high.min() < 0.5 * (low.max() - low.min())


def test_vtu_holds_the_mesh_and_potentials(tmp_path):
    _, system = system_of(make_spec(**SPOT_GAP))
    model = reduce(system, 1.0, 1e9, progress=False)
    fields = fields_of(system, {1.0: model.potential(1.0)}, 100 * UM)
    write_vtu(fields, tmp_path / "fields.vtu")
    back = meshio.read(tmp_path / "fields.vtu")
    assert back.points.shape == (fields.points_um.shape[1], 3)
    assert back.points[:, 2].max() == pytest.approx(100.5)  # µm: electrolyte + gap
    assert set(back.point_data) == {"phi_re_1Hz", "phi_im_1Hz", "phi_abs_1Hz"}
    assert np.allclose(back.point_data["phi_re_1Hz"], fields.potential[0].real)
    again = read_vtu(tmp_path / "fields.vtu", 100.0)
    assert again.frequency_Hz == (1.0,)
    assert np.allclose(again.section, fields.section, equal_nan=True)


def test_contact_current_is_uniform_on_a_slab():
    spec = make_spec(cell={"shape": "box", "side_um": 40.0, "thickness_um": 60.0},
                     mesh={"order": 2, "size_um": 15.0})
    _, system = system_of(spec)
    x = driven_solve(system.G, system.we, system.ce, system.interior)[2]
    current = contact_current(system, x, 0.0)
    sigma_over_L = 0.1 / (60 * UM)  # A/m² per volt
    assert np.abs(current.j - sigma_over_L).max() < 1e-8 * sigma_over_L
    assert current.area_m2 == pytest.approx((40 * UM) ** 2, rel=1e-12)


def test_spot_current_peaks_at_the_edge_and_is_half_the_mean_at_the_centre():
    """A disk contact carries j(r) = I / (2 pi a sqrt(a^2 - r^2)): half the mean at the
    centre, singular at the edge. The integral of j is the spot's current exactly."""
    spec = make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}], mesh={"order": 2})
    _, system = system_of(spec)
    x = driven_solve(system.G, system.we, system.ce, system.interior)[2]
    current = contact_current(system, x, 0.0)
    R, _ = dc_resistance(system)
    assert current.current_A.real == pytest.approx(1 / R, rel=1e-9)
    r = np.hypot(*current.points_um)
    centre = np.abs(current.j[np.argmin(r)]) / abs(current.mean)
    assert centre == pytest.approx(0.5, abs=0.05)
    assert np.abs(current.j[r > 4.9]).mean() > 2 * abs(current.mean)  # edge enhancement


def test_p2_fields_are_evaluated_exactly_and_written_as_quadratic_cells(tmp_path):
    """A quadratic potential held at the P2 nodes: the section reproduces it exactly (linear
    interpolation between vertices would not), and the VTU holds tetra10 cells that read
    back to the same section."""
    spec = make_spec(cell={"shape": "box", "side_um": 40.0, "thickness_um": 60.0}, mesh={"order": 2, "size_um": 15.0})
    _, system = system_of(spec)
    x_um, _, z_um = system.basis.doflocs / UM
    phi = (x_um / 40.0) ** 2 + (z_um / 60.0) ** 2 + 0j
    fields = fields_of(system, {1.0: phi}, 60 * UM)
    X, Z = np.meshgrid(fields.section_x_um, fields.section_z_um)
    assert np.abs(fields.section[0] - ((X / 40.0) ** 2 + (Z / 60.0) ** 2)).max() < 1e-12
    write_vtu(fields, tmp_path / "fields.vtu")
    assert "tetra10" in meshio.read(tmp_path / "fields.vtu").cells_dict
    np.testing.assert_allclose(read_vtu(tmp_path / "fields.vtu", 60.0).section, fields.section, atol=1e-12)
