"""The K-cycle over aggregates (solve/kcycle.py): flexible CG, the aggregates, and
iterations that do not grow with the grid."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from constriction.solve import kcycle
from constriction.solve.kcycle import flexible_cg, kcycle_preconditioner

from cases import gas_interface, gas_shift_system, laplacian_3d


def _iterations(A, b, precondition, rtol=1e-12, maxiter=500):
    steps = []
    x, converged = flexible_cg(A, b, precondition, maxiter, rtol, callback=steps.append)
    return x, converged, len(steps)


def test_flexible_cg_with_a_fixed_preconditioner_is_preconditioned_cg():
    """With a linear preconditioner (Jacobi) flexible CG takes CG's steps: the same count
    to the same tolerance, and the answer solves A x = b."""
    A = laplacian_3d(10)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    jacobi = 1.0 / A.diagonal()
    x, converged, steps = _iterations(A, b, lambda r: jacobi * r, rtol=1e-10)
    count = []
    spla.cg(A, b, rtol=1e-10, atol=0.0, M=spla.LinearOperator(A.shape, lambda r: jacobi * r), callback=count.append)
    assert converged and abs(steps - len(count)) <= 1
    assert np.linalg.norm(A @ x - b) <= 2e-10 * np.linalg.norm(b)


def test_flexible_cg_says_when_it_ran_out_of_steps():
    A = laplacian_3d(10)
    x, converged, steps = _iterations(A, np.ones(A.shape[0]), lambda r: r, rtol=1e-12, maxiter=3)
    assert not converged and steps == 3


def test_kcycle_iterations_do_not_grow_with_the_grid():
    """A 16³ and a 32³ Laplacian (8x the unknowns, three levels against two) to 1e-12 in
    nearly the same number of steps, far fewer than Jacobi-CG needs."""
    counts = []
    for n in (16, 32):
        A = laplacian_3d(n, shift=0.0)
        b = np.random.default_rng(n).standard_normal(A.shape[0])
        x, converged, steps = _iterations(A, b, kcycle_preconditioner(A).matvec)
        assert converged and np.linalg.norm(A @ x - b) <= 1e-11 * np.linalg.norm(b)
        counts.append(steps)
    jacobi = _iterations(A, b, lambda r: r / A.diagonal())[2]
    assert counts[1] <= counts[0] + 4 and counts[1] < jacobi / 3


def test_aggregates_keep_gas_and_electrolyte_apart():
    """At 1 Hz a gas voxel touches the electrolyte through s eps0 (1e-10 of sigma): no
    aggregate holds both, and the K-cycle solves the shifted system to 1e-12."""
    A, b, capacitive = gas_shift_system()
    P = kcycle._aggregation(A)
    members = P.tocsc()
    for j in range(P.shape[1]):
        rows = members.indices[members.indptr[j]:members.indptr[j + 1]]
        assert capacitive[rows].all() or not capacitive[rows].any()
    assert 4 < A.shape[0] / P.shape[1] < 12  # about a 2 x 2 x 2 block each
    x, converged, steps = _iterations(A, b, kcycle_preconditioner(A).matvec)
    assert converged and steps < 60
    assert np.linalg.norm(A @ x - b) <= 1e-11 * np.linalg.norm(b)


@pytest.mark.parametrize("max_factorised", [100_000, 1_000])
def test_too_strict_a_strength_leaves_the_grid_ungrouped(monkeypatch, max_factorised):
    """The 7-point stencil's neighbours weigh 1/6 of the diagonal: a strength threshold
    above it groups nothing and the hierarchy stops at one level, still a solver (that
    level factorised, or smoothed where it is too large to factorise), not a wrong answer."""
    A = laplacian_3d(14, shift=0.0)
    assert A.shape[0] > kcycle.MAX_COARSE  # so that it would be coarsened
    monkeypatch.setattr(kcycle, "STRENGTH_THETA", 0.3)
    monkeypatch.setattr(kcycle, "MAX_FACTORISED", max_factorised)
    b = np.ones(A.shape[0])
    x, converged, _ = _iterations(A, b, kcycle_preconditioner(A).matvec, maxiter=2000)
    assert converged and np.linalg.norm(A @ x - b) <= 1e-11 * np.linalg.norm(b)


def test_a_merged_void_is_an_aggregate_of_its_own(monkeypatch, caplog):
    """R_inf merges every void into one equipotential unknown, linked weakly to each of the
    hundreds of voxels around it: it gets a coarse unknown of its own (the smoother alone
    would leave its potential to CG: 24 iterations against 16 on benchmarks/images.py's
    interface at 48³; 69 against 17 at 256³)."""
    import logging
    from constriction.solve.direct import dc_resistance
    system = gas_interface(48, void_radius=3.0, void_depth=12, patch_size=4.0, gap=1, metal=1, seed=0)
    assert len(system.floating) > 5
    grouped = kcycle._aggregation

    def without_singletons(A):
        P = grouped(A).tocsc()
        return P[:, np.flatnonzero(np.diff(P.indptr) > 1)].tocsr()
    steps, R = {}, {}
    for name in ("own", "none"):
        if name == "none":
            monkeypatch.setattr(kcycle, "_aggregation", without_singletons)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="constriction.solve.linalg"):
            R[name] = dc_resistance(system, short_gaps=True, backend="amg")[0]
        steps[name] = int(next(r.getMessage().split(": ")[1].split()[0] for r in caplog.records
                               if r.getMessage().startswith("CG on")))
    assert steps["own"] + 4 <= steps["none"]
    assert R["own"] == pytest.approx(R["none"], rel=1e-11)


def test_flexible_cg_returns_a_guess_that_already_solves():
    A = laplacian_3d(6)
    b = np.ones(A.shape[0])
    exact = np.linalg.solve(A.toarray(), b)
    steps = []
    x, converged = flexible_cg(A, b, lambda r: r, 50, 1e-10, steps.append, x0=exact)
    assert converged and steps == [] and np.allclose(x, exact)


def test_the_rounding_floor_of_an_m_matrix_needs_no_copy_of_it():
    """eps || |A| |x| ||, from 2 diag(A) - A on an M-matrix, equals the entrywise one."""
    A = laplacian_3d(6)
    x = np.random.default_rng(2).standard_normal(A.shape[0])
    expected = np.finfo(float).eps * np.linalg.norm(abs(A) @ np.abs(x))
    assert kcycle.rounding_floor(A, m_matrix=True)(x) == pytest.approx(expected, rel=1e-12)
    assert kcycle.rounding_floor(A)(x) == pytest.approx(expected, rel=1e-12)


def test_cg_stops_at_the_rounding_floor_and_says_it_got_there():
    """Asked 1e-12 where no residual can fall below 1e-5 of |b| (a floor set here): CG stops
    within FLOOR_MARGIN of it, well before the steps 1e-12 would take, and calls it done."""
    A = laplacian_3d(10)
    b = np.ones(A.shape[0])
    floor_at = 1e-5 * np.linalg.norm(b)
    steps = []
    x, converged = flexible_cg(A, b, lambda r: r, 500, 1e-12, steps.append, floor=lambda x: floor_at)
    residual = np.linalg.norm(A @ x - b)
    assert converged and residual <= kcycle.FLOOR_MARGIN * floor_at * 1.01
    _, _, all_steps = _iterations(A, b, lambda r: r)
    assert len(steps) < all_steps - kcycle.FLOOR_EVERY and len(steps) % kcycle.FLOOR_EVERY == 0
