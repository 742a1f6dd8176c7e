"""Full-face slab and flat gap: the solver against their closed forms (docs/REFERENCE.md)."""

import numpy as np
import pytest

from constriction.solve.fem import EPS0
from constriction.geometry.tagged_mesh import UM
from constriction.solve.reduced import reduce
from constriction.solve.direct import dc_resistance, sweep_direct

from conftest import EPS_R, SIGMA, make_spec, slab_impedance, system_of

BOX = {"shape": "box", "side_um": 100.0, "thickness_um": 100.0}
L, A = 100 * UM, (100 * UM) ** 2
F = np.logspace(0, 12, 13)


@pytest.mark.parametrize("order", [1, 2])
def test_slab_resistance_and_semicircle(order):
    _, system = system_of(make_spec(cell=BOX, mesh={"size_um": 25.0, "order": order}))
    R, mismatch = dc_resistance(system)
    assert R == pytest.approx(L / (SIGMA * A), rel=1e-8)
    assert mismatch < 1e-10

    Y = sweep_direct(system, F, progress=False)
    assert np.abs(1 / Y.Y_S / slab_impedance(F, L, A, SIGMA, EPS_R) - 1).max() < 1e-8
    # the apex of the single semicircle sits at sigma / (2 pi eps0 eps_r)
    f_apex = SIGMA / (2 * np.pi * EPS0 * EPS_R)
    Z_apex = 1 / sweep_direct(system, np.array([f_apex]), progress=False).Y_S[0]
    assert Z_apex == pytest.approx(L / (SIGMA * A) * (1 - 1j) / 2, rel=1e-8)
    assert Y.conservation.max() < 1e-10
    assert_reduced_model_matches(system, slab_impedance(F, L, A, SIGMA, EPS_R))


def assert_reduced_model_matches(system, Z_expected):
    model = reduce(system, F[0], F[-1], progress=False)
    assert np.abs(model.impedance(F) / Z_expected - 1).max() < 1e-6


def test_slab_on_a_cylinder_uses_the_meshed_area():
    tm, system = system_of(make_spec(mesh={"size_um": 25.0, "order": 1}))
    area = tm.facet_area_m2("ce")
    assert area == pytest.approx(np.pi * (50 * UM) ** 2, rel=1e-2)
    # top and bottom polygons differ slightly, so the prism is not exact: 0.1 %
    assert dc_resistance(system)[0] == pytest.approx(L / (SIGMA * area), rel=1e-3)


@pytest.mark.parametrize("height_um, gap_eps_r", [(0.5, 1.0), (2.0, 4.0)])
def test_gap_over_whole_electrode_is_a_series_capacitor(height_um, gap_eps_r):
    spec = make_spec(cell=BOX, contacts=[], gap={"height_um": height_um, "eps_r": gap_eps_r},
                     mesh={"size_um": 25.0, "order": 2})
    _, system = system_of(spec)
    C_gap = EPS0 * gap_eps_r * A / (height_um * UM)
    Z_expected = slab_impedance(F, L, A, SIGMA, EPS_R) + 1 / (2j * np.pi * F * C_gap)
    Y = sweep_direct(system, F, progress=False)
    assert np.abs(1 / Y.Y_S / Z_expected - 1).max() < 1e-6
    assert_reduced_model_matches(system, Z_expected)
    assert dc_resistance(system)[0] == np.inf  # blocking: no DC path
    assert dc_resistance(system, short_gaps=True)[0] == pytest.approx(L / (SIGMA * A), rel=1e-8)
