"""Closed forms the solver is checked against (docs/REFERENCE.md), SI units throughout.

Tests, studies and benchmarks import them from here rather than keeping copies.
"""

from __future__ import annotations

import math

import numpy as np

from constriction.units import EPS0


def constriction_factor(a_over_b: float) -> float:
    """psi(a/b): the spreading resistance of an equipotential disk of radius a on a flux
    tube of radius b over that on a half-space (Roess's series, 1 at a/b = 0)."""
    e = a_over_b
    return 1 - 1.40925 * e + 0.29591 * e**3 + 0.05254 * e**5 + 0.02105 * e**7


def disk_spreading_resistance(a: float, sigma: float) -> float:
    """Equipotential disk of radius a (m) on a half-space of conductivity sigma: 1/(4 sigma a) (ohm)."""
    return 1.0 / (4 * sigma * a)


def flux_tube_resistance(a: float, b: float, L: float, sigma: float) -> float:
    """Equipotential disk of radius a on a flux tube of radius b and length L (ohm)."""
    return constriction_factor(a / b) * disk_spreading_resistance(a, sigma) + L / (sigma * math.pi * b**2)


def slab_impedance(f, L: float, A: float, sigma: float, eps_r: float):
    """Full-face slab: R = L/(sigma A) in parallel with C = eps0 eps_r A / L (ohm) at f (Hz)."""
    return 1.0 / (sigma * A / L + 2j * np.pi * np.asarray(f) * EPS0 * eps_r * A / L)


def maxwell_garnett(phi: float, beta: float) -> float:
    """sigma_eff / sigma - 1 of spheres (beta = (s_i - s) / (s_i + 2 s)) at volume fraction
    phi: 3 phi beta to first order (the dilute Maxwell formula); exact to O(phi^(10/3))
    for a cubic array (Rayleigh), which is what a sphere in the middle of a cube between
    full-face electrodes is (mirror images in the insulating walls and the electrodes)."""
    return (1 + 2 * phi * beta) / (1 - phi * beta) - 1
