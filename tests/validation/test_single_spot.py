"""One contact spot in a flux tube: the solver against docs/REFERENCE.md's formula, under
mesh refinement, with and without a gap."""

import numpy as np
import pytest

from constriction.geometry.tagged_mesh import UM
from constriction.solve.direct import DC_RTOL, dc_resistance, sweep_direct

from conftest import SIGMA, flux_tube_resistance, make_spec, system_of

A_UM, B_UM, L_UM = 5.0, 50.0, 100.0
R_EXACT = flux_tube_resistance(A_UM * UM, B_UM * UM, L_UM * UM, SIGMA)
SPOT = [{"x_um": 0.0, "y_um": 0.0, "radius_um": A_UM}]


def spot_resistance(order, refine, **tables):
    _, system = system_of(make_spec(contacts=SPOT, mesh={"order": order, "refine": refine}, **tables))
    R, mismatch = dc_resistance(system)
    assert mismatch < 10 * DC_RTOL  # current in = current out to the DC solve's tolerance
    return R


def test_default_mesh_within_one_percent_of_flux_tube(spot_spec):
    _, system = system_of(spot_spec)
    R, _ = dc_resistance(system)
    assert spot_spec.mesh.order == 2
    assert abs(R / R_EXACT - 1) < 0.01


def assert_converges(resistances):
    """A conforming FEM resistance is a lower bound that rises under refinement."""
    errors = [R_EXACT - R for R in resistances]
    assert all(e > -0.002 * R_EXACT for e in errors)  # the formula itself is good to ~0.2 %
    assert errors[0] > errors[1] > errors[2]
    assert resistances[0] < resistances[1] < resistances[2]


def test_p1_error_shrinks_under_refinement():
    assert_converges([spot_resistance(1, refine) for refine in (1.0, 0.7, 0.5)])


@pytest.mark.slow
def test_p2_error_shrinks_under_refinement():
    """Measured against the axisymmetric reference: -0.128 %, -0.080 %, -0.034 %. (At
    refine 0.7 the rim's node moves fall back to a milder power, -0.076 %.)"""
    assert_converges([spot_resistance(2, refine) for refine in (1.4, 1.0, 0.5)])


@pytest.mark.slow
def test_p1_and_p2_agree_as_the_mesh_is_refined():
    levels = [(spot_resistance(1, refine), spot_resistance(2, refine)) for refine in (1.4, 1.0, 0.7)]
    gaps = [abs(r1 / r2 - 1) for r1, r2 in levels]
    assert gaps[0] > gaps[1] > gaps[2]
    # the edge singularity limits the rate: measured ~h^0.6; halving h must cut a quarter
    assert gaps[2] < 0.75 * gaps[0]
    assert all(r1 < r2 < R_EXACT * 1.002 for r1, r2 in levels)  # P2 closer from below


def test_gap_is_an_insulator_at_dc_and_a_short_before_the_bulk_arc():
    # gap eps_r high and electrolyte eps_r low: the gap shorts (~0.1 MHz .. 10 MHz)
    # well below the electrolyte's own relaxation (1.8 GHz)
    materials = {"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": 1.0}}
    spec = make_spec(contacts=SPOT, gap={"height_um": 0.5, "eps_r": 100.0}, materials=materials)
    tm, system = system_of(spec)
    R_gap, mismatch = dc_resistance(system)
    assert mismatch < 10 * DC_RTOL
    assert R_gap == pytest.approx(spot_resistance(2, 1.0), rel=0.01)

    R_tube = L_UM * UM / (SIGMA * tm.facet_area_m2("ce"))
    R_inf, _ = dc_resistance(system, short_gaps=True)
    assert R_inf == pytest.approx(R_tube, rel=2e-3)
    Z = 1 / sweep_direct(system, np.array([1.0, 1e8]), progress=False).Y_S
    assert Z[0].real == pytest.approx(R_gap, rel=1e-6)   # 1 Hz: DC
    assert Z[1].real == pytest.approx(R_tube, rel=0.01)  # gap shorted, electrolyte resistive


def test_square_unit_cell_matches_the_flux_tube_of_equal_area():
    """One centred spot in a square cell with mirror walls = an infinite square array;
    the flux tube of the same cross-section is within 2 % (docs/REFERENCE.md, issue 4)."""
    side, thickness = 40.0, 40.0
    spec = make_spec(cell={"shape": "box", "side_um": side, "thickness_um": thickness}, contacts=SPOT)
    _, system = system_of(spec)
    R, _ = dc_resistance(system)
    b_equal_area = side / np.sqrt(np.pi)
    expected = flux_tube_resistance(A_UM * UM, b_equal_area * UM, thickness * UM, SIGMA)
    assert R == pytest.approx(expected, rel=0.02)
