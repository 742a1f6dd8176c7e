"""Porous images: conducting blobs in an insulating matrix, islands of electrolyte floating
in it (issue 32). The reduced model starts from the snapshots at s -> 0 by condensation
(solve/moments.py); checked against the frequency-by-frequency reference, against the
shifted systems' model, and against what the low-frequency limit must be."""

import logging
import re

import numpy as np
import pytest

from constriction.solve.direct import dc_resistance, dc_solution, driven_solve, sweep_direct
from constriction.solve.moments import condensation
from constriction.solve.reduced import reduce

from cases import porous_cell


@pytest.fixture(scope="module")
def porous16():
    """16³, 20 % conducting, seed 0: 6 854 unknowns, 61 islands of electrolyte."""
    return porous_cell(16, 0.2, 0)[0]


def test_the_condensed_model_matches_the_reference_sweep_over_ten_decades(porous16):
    """1 Hz - 10 GHz, past the electrolyte's own relaxation (1.8 GHz): the model built from
    the s -> 0 snapshots (and the shifts it still needs) equals the direct sweep."""
    f = np.logspace(0, 10, 21)
    model = reduce(porous16, f[0], f[-1], tol=1e-8, progress=False)
    assert model.moments >= 2
    reference = 1 / sweep_direct(porous16, f, progress=False).Y_S
    np.testing.assert_allclose(model.impedance(f), reference, rtol=1e-6)


def test_below_the_first_relaxation_the_snapshots_at_s_0_alone_hold_the_spectrum(porous16):
    """1 Hz - 1 MHz: no shifted system is solved at all, and the model agrees with the
    direct sweep and with the one built from shifts alone (the route before issue 32)."""
    f = np.logspace(0, 6, 13)
    model = reduce(porous16, f[0], f[-1], progress=False)
    shifted = reduce(porous16, f[0], f[-1], progress=False, condense=False)
    assert len(model.shifts_Hz) == 0 and model.moments >= 2
    reference = 1 / sweep_direct(porous16, f, progress=False).Y_S
    np.testing.assert_allclose(model.impedance(f), reference, rtol=1e-9)
    np.testing.assert_allclose(model.impedance(f), shifted.impedance(f), rtol=1e-9)
    R_dc, mismatch = dc_resistance(porous16)
    assert 1 / model.impedance([1.0])[0].real == pytest.approx(1 / R_dc, rel=1e-7)
    assert model.conservation < 1e-8 and mismatch < 1e-8


@pytest.mark.parametrize("n", [16, 24])
def test_past_the_snapshots_the_shifts_go_where_the_model_holds_least(n):
    """1 Hz - 100 MHz on 20 %-conducting images, 16³ and 24³: the snapshots at s -> 0 stop
    gaining below the top of the band, and the shifts must go where they hold least. Before,
    a shift in the band's middle (where the snapshots already held) added nothing, the two
    models agreed, and the sweep stopped at an estimated 4.5e-9 with the model 1.5e-3 off at
    100 MHz (16³; at 24³ 1.7e-6 off, estimated 5.8e-8)."""
    system = porous_cell(n, 0.2, 0)[0]
    f = np.logspace(0, 8, 17)
    model = reduce(system, f[0], f[-1], progress=False)
    assert model.moments >= 2 and len(model.shifts_Hz) >= 2
    reference = 1 / sweep_direct(system, f, progress=False).Y_S
    np.testing.assert_allclose(model.impedance(f), reference, rtol=1e-6)


def test_the_snapshots_at_s_0_sum_to_the_solution_below_the_first_relaxation(porous16):
    """x(s) = x_0 + s x_1 + s^2 x_2 + ...: at 100 kHz (s / mu_1 ~ 1e-4) four terms give the
    direct solve's potential; and in x_0 every island is one equipotential."""
    I = porous16.interior
    condensed = condensation(porous16, I, "superlu")
    assert condensed.islands == 61
    u = np.zeros(porous16.n_dofs)
    u[porous16.we] = 1.0
    g, c = (porous16.G @ u)[I], (porous16.C @ u)[I]
    x = list(condensed.moments(lambda v: (porous16.C @ np.pad(v, (0, porous16.n_dofs - len(I))))[I], g, c, 4))
    s = 2j * np.pi * 1e5
    direct = driven_solve(porous16.pencil(s), porous16.we, porous16.ce, I, "superlu")[2][I]
    series = sum(s**k * xk for k, xk in enumerate(x))
    np.testing.assert_allclose(series, direct, atol=1e-9)
    assert np.max(np.abs(x[0] - direct)) > 1e-6  # the higher terms matter at this frequency
    islands = condensed.N[:, -condensed.islands:]
    inside = np.asarray(islands.sum(axis=1)).ravel() > 0
    mean = (islands.T @ x[0]) / np.asarray(islands.sum(axis=0)).ravel()
    np.testing.assert_allclose(x[0][inside], (islands @ mean)[inside], atol=1e-12)


def test_the_first_snapshot_is_the_dc_solution(porous16):
    """The DC stage's potentials stand in for x_0's conductance solve (the same system): the
    same snapshots, the same model, one solve fewer."""
    I = porous16.interior
    condensed = condensation(porous16, I, "superlu")
    u = np.zeros(porous16.n_dofs)
    u[porous16.we] = 1.0
    g, c = (porous16.G @ u)[I], (porous16.C @ u)[I]
    C_product = lambda v: (porous16.C @ np.pad(v, (0, porous16.n_dofs - len(I))))[I]  # noqa: E731
    dc = dc_solution(porous16, backend="superlu").x
    for solved, given in zip(condensed.moments(C_product, g, c, 3), condensed.moments(C_product, g, c, 3, dc[I])):
        np.testing.assert_allclose(given, solved, rtol=1e-9, atol=1e-12 * np.abs(solved).max())
    f = np.logspace(0, 6, 7)
    np.testing.assert_allclose(reduce(porous16, f[0], f[-1], progress=False, dc_potential=dc).impedance(f),
                               reduce(porous16, f[0], f[-1], progress=False).impedance(f), rtol=1e-10)


def test_a_plain_electrolyte_image_needs_no_condensation():
    """Nothing capacitive, no island: G alone is regular, and the shifts do the work."""
    from cases import voxel_cell
    from constriction.image.voxels import assemble_grid, ELECTROLYTE, METAL
    from constriction.units import EPS0
    kind = np.where(voxel_cell(8) == 2, METAL, ELECTROLYTE).astype(np.int8).transpose(2, 1, 0)
    system = assemble_grid(kind, np.where(kind == METAL, 0.0, 0.1), np.where(kind == METAL, 0.0, 10 * EPS0),
                           (1e-6,) * 3)[1]
    assert condensation(system, system.interior) is None
    assert reduce(system, 1.0, 1e9, progress=False).moments == 0


@pytest.mark.slow
def test_a_porous_64_cubed_image_sweeps_at_the_cost_of_its_dc_solves(caplog):
    """Issue 32's check: a seeded 20 %-conducting 64³ image (370 k unknowns, ~450 islands):
    every CG solve of its sweep within twice the iterations of its DC solve, nothing stalls,
    and the spectrum equals the frequency-by-frequency reference within 1e-6."""
    system = porous_cell(64, 0.2, 0)[0]
    caplog.set_level(logging.DEBUG, logger="constriction.solve.linalg")
    assert dc_resistance(system)[1] < 1e-8  # current in = current out
    dc_iterations = _iterations(caplog.text)
    caplog.clear()
    f = np.logspace(0, 6, 7)
    model = reduce(system, f[0], f[-1], progress=False)
    sweep_iterations = _iterations(caplog.text)
    assert 1 <= len(dc_iterations) <= 2 and sweep_iterations  # 2: it went on until the currents agreed
    assert max(sweep_iterations) <= 2 * sum(dc_iterations), (dc_iterations, sweep_iterations)
    reference = 1 / sweep_direct(system, f[[0, 6]], progress=False).Y_S  # 2-4 min a frequency
    np.testing.assert_allclose(model.impedance(f[[0, 6]]), reference, rtol=1e-6)
    assert model.conservation < 1e-6


def _iterations(log: str) -> list[int]:
    return [int(k) for k in re.findall(r"CG on \d+ unknowns: (\d+) iterations", log)]


def test_a_porous_images_reference_is_the_slab_it_fills_to(porous16):
    """The split's reference (insulator filled with the bulk electrolyte) is a slab under
    whole layers of metal: its closed form, which the finite volumes hold exactly, stands in
    for the solve; anything else is solved."""
    from constriction.image.voxels import METAL, assemble_grid, bulk_reference, slab_resistance
    grid = porous16.grid
    sigma, kind = bulk_reference(grid)
    solved = dc_resistance(assemble_grid(kind, sigma, np.zeros_like(sigma), grid.spacing_m,
                                         check_percolation=False)[1], backend="superlu")[0]
    assert slab_resistance(sigma, kind, grid.spacing_m) == pytest.approx(solved, rel=1e-12)
    kind[3, 3, 5] = METAL  # a metal voxel inside: no slab
    assert slab_resistance(sigma, kind, grid.spacing_m) is None


def test_a_dc_solve_whose_currents_disagree_goes_on_until_they_do(monkeypatch):
    """A 32³ porous image (AMG-CG): a solve to DC_RTOL whose WE and CE currents differ by
    more than CONSERVATION_GOAL goes on from there (DC_RTOL x TIGHTER) until they agree,
    and R, stationary in the error, does not move beyond round-off. (Before the dangling
    face unknowns were eliminated (solve/leaves.py) the currents differed by 3e-7 at
    DC_RTOL, now by 2e-9: the goal is set below that here.)"""
    from constriction.solve import direct
    system = porous_cell(32, 0.2, 2)[0]
    monkeypatch.setattr(direct, "CONSERVATION_GOAL", np.inf)
    R_loose, loose = dc_resistance(system)
    monkeypatch.setattr(direct, "CONSERVATION_GOAL", loose / 4)
    R, mismatch = dc_resistance(system)
    assert mismatch < direct.CONSERVATION_GOAL < loose
    assert R == pytest.approx(R_loose, rel=1e-9)


def test_the_projection_grows_by_the_new_columns_only(porous16):
    """The reduced pencil on an extended basis, from the projection on its first columns
    and the new columns' products, equals the one projected from scratch."""
    from dataclasses import replace
    from constriction.solve.reduced import _project, orthonormal_extend, system_pencil
    I = porous16.interior
    rng = np.random.default_rng(0)
    V, _ = orthonormal_extend(np.zeros((len(I), 0)), rng.standard_normal((len(I), 5)))
    pencil = replace(system_pencil(porous16, "superlu", condense=False), g=rng.standard_normal(len(I)),
                     c=rng.standard_normal(len(I)))
    whole = _project(pencil, V)
    grown = _project(pencil, V, _project(pencil, V[:, :3]))
    for name in ("G", "C", "g", "c"):
        np.testing.assert_allclose(getattr(grown, name), getattr(whole, name), rtol=1e-12,
                                   atol=1e-14 * np.abs(getattr(whole, name)).max())


def test_snapshots_solved_loosely_by_amg_give_the_model_of_exact_solves():
    """A 28³ porous image by AMG-CG, its first snapshot the DC solve's potentials and the
    snapshots no current check reads solved to SNAPSHOT_RTOL (1e-6): the model equals the
    one from factorised (exact) solves over 1 Hz - 10 GHz (6e-10 measured; the model's own
    convergence test also makes up for looser snapshots: 2e-9 at 1e-1)."""
    from constriction.solve.linalg import AMG_MIN_UNKNOWNS, available_backends
    from constriction.solve.moments import SNAPSHOT_RTOL
    if "amg" not in available_backends():
        pytest.skip("pyamg not installed")
    system = porous_cell(28, 0.3, 0)[0]
    assert system.n_dofs > AMG_MIN_UNKNOWNS and SNAPSHOT_RTOL >= 1e-6
    f = np.logspace(0, 10, 21)
    loose = reduce(system, f[0], f[-1], progress=False, backend="amg", dc_potential=dc_solution(system).x)
    exact = reduce(system, f[0], f[-1], progress=False, backend="superlu")
    np.testing.assert_allclose(loose.impedance(f), exact.impedance(f), rtol=1e-8)
