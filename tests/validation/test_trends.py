"""Trend directions that any correct constriction solver must reproduce (docs/REFERENCE.md,
thesis L257-L261, Fig. 2b). The off-centre electrode trend is in test_split.py."""

import math

import pytest

from constriction import run
from constriction.geometry.reference_cells import constriction_split
from constriction.solve.direct import dc_resistance

from conftest import make_spec, system_of

COARSE = {"order": 1, "size_um": 10.0}


def r_cstr(**tables) -> float:
    spec = make_spec(mesh=COARSE, **tables)
    R_dc = dc_resistance(system_of(spec)[1])[0]
    return constriction_split(spec, R_dc).R_cstr_ohm


def spot(x, y, radius):
    return {"x_um": x, "y_um": y, "radius_um": radius}


def test_more_spots_at_equal_contact_area_lower_R_cstr():
    one = r_cstr(contacts=[spot(0, 0, 8.0)])
    four = r_cstr(contacts=[spot(x, y, 4.0) for x in (-15, 15) for y in (-15, 15)])
    assert four < 0.8 * one


def test_less_contact_area_raises_R_cstr():
    assert r_cstr(contacts=[spot(0, 0, 5.0)]) > 1.5 * r_cstr(contacts=[spot(0, 0, 10.0)])


@pytest.fixture(scope="module")
def arcs():
    """The constriction arc of one spot under gaps of two heights."""
    out = {}
    for h in (0.5, 2.0):
        spec = make_spec(contacts=[spot(0, 0, 5.0)], gap={"height_um": h}, mesh=COARSE)
        out[h] = run(spec, progress=False, cpe_fit=False).summary.constriction.arc
    return out


def test_taller_gaps_at_equal_contact_lower_C_cstr(arcs):
    # the gap capacitance eps0 A / h falls 4x; C_cstr follows it
    assert arcs[2.0].C_cstr_F < 0.5 * arcs[0.5].C_cstr_F
    # ... while the arc's resistance (the DC constriction) stays the same
    assert arcs[2.0].R_arc_ohm == pytest.approx(arcs[0.5].R_arc_ohm, rel=0.05)
    assert math.isclose(arcs[2.0].tau_cstr_s, arcs[2.0].R_arc_ohm * arcs[2.0].C_cstr_F, rel_tol=1e-9)
