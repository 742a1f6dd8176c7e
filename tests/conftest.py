"""Shared helpers: specs written as plain dicts, and the closed forms of docs/REFERENCE.md."""

import math

import numpy as np
import pytest

from constriction import spec_from_dict
from constriction.system import system_of  # noqa: F401  (tests import it from here)
from constriction.fem import EPS0

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


def flux_tube_resistance(a, b, L, sigma):
    """Equipotential disk of radius a on a flux tube of radius b, length L (SI, ohm)."""
    e = a / b
    psi = 1 - 1.40925 * e + 0.29591 * e**3 + 0.05254 * e**5 + 0.02105 * e**7
    return psi / (4 * sigma * a) + L / (sigma * math.pi * b**2)


def slab_impedance(f, L, A, sigma, eps_r):
    """Full-face slab: R = L/(sigma A) parallel to C = eps0 eps_r A / L (ohm)."""
    return 1.0 / (sigma * A / L + 2j * np.pi * f * EPS0 * eps_r * A / L)


@pytest.fixture(scope="session")
def spot_spec():
    """The default single-spot cell of specs/single_spot.toml, without its gap."""
    return make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}])
