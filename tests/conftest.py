"""Shared helpers: specs written as plain dicts; the closed forms of docs/REFERENCE.md come from
constriction.reference."""

import pytest

from constriction import spec_from_dict
from constriction.geometry.assemble import system_of  # noqa: F401  (tests import it from here)
from constriction.reference import flux_tube_resistance, slab_impedance  # noqa: F401 (tests import them from here)

SIGMA, EPS_R = 0.1, 10.0  # S/m, electrolyte


def make_spec(**tables):
    """A cylinder (b = 50 µm, L = 100 µm) spec; keyword tables replace the defaults."""
    data = {
        "cell": {"shape": "cylinder", "radius_um": 50.0, "thickness_um": 100.0},
        "materials": {"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": EPS_R}},
        "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2},
    }
    data.update(tables)
    return spec_from_dict(data)


@pytest.fixture(scope="session")
def spot_spec():
    """The default single-spot cell of specs/single_spot.toml, without its gap."""
    return make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}])
