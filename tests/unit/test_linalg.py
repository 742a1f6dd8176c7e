"""Backends: the same answers, the automatic choice, and the AMG fallback."""

import numpy as np
import pytest
import scipy.sparse as sp

from constriction.solve import linalg
from constriction.solve.linalg import available_backends, choose_backend, factorize

from cases import gas_interface, gas_shift_system, laplacian_3d


@pytest.mark.parametrize("backend", available_backends())
def test_real_spd_solve(backend):
    A = laplacian_3d(12)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    x = factorize(A, backend)(b)
    assert np.linalg.norm(A @ x - b) < 1e-9 * np.linalg.norm(b)


def test_complex_symmetric_solve_without_pivoting():
    """G + j omega C with a tiny-omega block: the no-pivoting LDL^T stays accurate."""
    G = laplacian_3d(10, shift=0.0).tolil()
    G[:100, :] = 0
    G[:, :100] = 0  # a 'gap' block with no conductance
    C = 1e-11 * laplacian_3d(10, shift=1.0)
    A = (G.tocsr() + 2j * np.pi * 1.0 * C).tocsr()
    b = np.ones(A.shape[0], complex)
    x = factorize(A, "superlu")(b)
    assert np.linalg.norm(A @ x - b) < 1e-8 * np.linalg.norm(b)


def test_auto_choice():
    assert choose_backend("auto", True, 10**6) == "superlu"
    if "amg" in available_backends():
        assert choose_backend("auto", False, 10**5) == "amg"
    assert choose_backend("auto", False, 100) == "superlu"
    with pytest.raises(ValueError, match="real matrices only"):
        choose_backend("amg", True, 100)
    with pytest.raises(ValueError, match="unknown backend"):
        choose_backend("mumps", False, 100)


@pytest.mark.skipif("amg" not in available_backends(), reason="pyamg not installed")
def test_amg_falls_back_to_a_direct_solve_when_cg_stalls(monkeypatch):
    A = laplacian_3d(6)
    b = np.ones(A.shape[0])
    x = factorize(A, "amg", rtol=1e-30)(b)  # unreachable: CG must give up
    assert np.linalg.norm(A @ x - b) < 1e-12 * np.linalg.norm(b)


@pytest.mark.parametrize("shape", [{}, {"n": 48, "void_radius": 3.0, "void_depth": 12, "patch_size": 4.0,
                                          "gap": 1, "metal": 1, "seed": 0}])
def test_dc_resistance_by_amg_is_quadratic_in_the_cg_residual(shape):
    """R_dc by AMG-CG to a relative residual of DC_RTOL (1e-8) equals the factorised one to
    1e-12: Y = x^T A x is stationary in the solution's error. R_inf too. (At 48³ the WE's
    current alone, after flexible CG, was off by 1e-8.)"""
    from constriction.solve.direct import DC_RTOL, dc_resistance
    system = gas_interface(**shape)
    assert DC_RTOL >= 1e-8 and system.n_dofs > linalg.AMG_MIN_UNKNOWNS
    for short_gaps in (False, True):
        R_amg, mismatch = dc_resistance(system, short_gaps, backend="amg")
        R_lu, _ = dc_resistance(system, short_gaps, backend="superlu")
        assert R_amg == pytest.approx(R_lu, rel=1e-12) and mismatch < 1e-6


@pytest.mark.parametrize("m_matrix", [True, False])
def test_amg_falls_back_block_by_block_then_to_a_factorisation(monkeypatch, m_matrix):
    """Where plain AMG-CG stalls, CG preconditioned block by block (conducting | capacitive)
    takes over (or goes first, where the contrast says plain smoothed-aggregation AMG would
    stall: not on an M-matrix, whose K-cycle takes the contrast); where that stalls
    too, a factorisation; each stall is reported, and every answer meets the tolerance."""
    A, b, capacitive = gas_shift_system()
    assert 0 < capacitive.sum() < len(capacitive) and linalg._is_m_matrix(A)  # a voxel grid's
    monkeypatch.setattr(linalg, "_is_m_matrix", lambda A: m_matrix)
    reference = factorize(A, "superlu")(b)
    assert linalg._contrast(A, capacitive) > linalg.BLOCK_FIRST_CONTRAST
    first = ["amg", "block"] if m_matrix else ["block", "amg"]
    for maxiter, contrast, expected in ((200, 200.0, []), (1, 200.0, first), (1, np.inf, ["amg", "block"])):
        monkeypatch.setattr(linalg, "AMG_MAXITER", maxiter)
        monkeypatch.setattr(linalg, "BLOCK_FIRST_CONTRAST", contrast)
        stalls = []
        x = linalg._amg(A, capacitive, on_stall=stalls.append)(b)
        assert stalls == expected
        assert np.linalg.norm(A @ x - b) <= 100 * linalg.AMG_RTOL * np.linalg.norm(b)
        np.testing.assert_allclose(x, reference, rtol=1e-8, atol=1e-8 * np.abs(reference).max())
    monkeypatch.setattr(linalg, "AMG_MAXITER", 200)
    stalls = []
    x = linalg._amg(A, capacitive, skip=("amg",), on_stall=stalls.append)(b)  # the block stage alone
    assert stalls == [] and np.linalg.norm(A @ x - b) <= 100 * linalg.AMG_RTOL * np.linalg.norm(b)


def test_m_matrix_test_sees_a_positive_entry_off_the_diagonal():
    A = laplacian_3d(4)
    assert linalg._is_m_matrix(A)
    B = A.tolil()
    B[0, 5] = B[5, 0] = 1e-9
    assert not linalg._is_m_matrix(B.tocsr())


def test_amg_warns_instead_of_factorising_a_system_too_large_for_it(monkeypatch):
    A, b, capacitive = gas_shift_system()
    monkeypatch.setattr(linalg, "DIRECT_MAX_UNKNOWNS", 100)
    monkeypatch.setattr(linalg, "AMG_MAXITER", 1)        # both CG stages stall
    monkeypatch.setattr(linalg, "AMG_MAXITER_LARGE", 1)
    monkeypatch.setattr(linalg, "factorize", lambda *a: pytest.fail("factorised a system marked too large"))
    with pytest.warns(RuntimeWarning, match="too large to factorise"):
        x = linalg._amg(A, capacitive)(b)
    assert x.shape == b.shape and np.all(np.isfinite(x))


@pytest.mark.parametrize("converged, stalls", [(True, []), (False, ["amg"])])
def test_a_residual_left_by_rounding_is_accepted_a_stall_is_not(monkeypatch, converged, stalls):
    """CG that ends by its own residual with a true residual of 1e-9 (asked 1e-12: rounding, as
    at 256³) is accepted; the same residual after running out of iterations is a stall, and
    the next stage (here a factorisation) takes over."""
    A = laplacian_3d(8)
    b = np.ones(A.shape[0])
    exact = factorize(A, "superlu")(b)
    off = np.random.default_rng(1).standard_normal(len(b))
    off *= 1e-9 * np.linalg.norm(b) / np.linalg.norm(A @ off)  # a relative residual of 1e-9
    x_off = exact + off
    monkeypatch.setattr(linalg, "_cg", lambda A, b, M, maxiter, rtol, x0, floor: (
        x_off, converged, np.linalg.norm(A @ x_off - b) / np.linalg.norm(b)))
    seen = []
    x = linalg._amg(A, on_stall=seen.append)(b)
    assert seen == stalls
    assert np.linalg.norm(A @ x - b) / np.linalg.norm(b) == pytest.approx(1e-9 if converged else 0, abs=1e-12)


@pytest.mark.skipif("amg" not in available_backends(), reason="pyamg not installed")
def test_amg_starts_from_the_guess_and_builds_nothing_when_it_will_do(monkeypatch):
    """A guess within the tolerance is returned as it is, before any hierarchy is built (a
    DC solve that starts from a converged state); a rougher one is where CG starts."""
    A = laplacian_3d(20)  # more unknowns than the K-cycle's coarsest level
    b = np.ones(A.shape[0])
    exact = factorize(A, "superlu")(b)
    monkeypatch.setattr(linalg, "_amg_preconditioner", lambda A: pytest.fail("built a hierarchy"))
    assert linalg._amg(A, rtol=1e-8)(b, exact) is exact
    monkeypatch.undo()
    steps = {}
    for name, guess in (("cold", None), ("warm", exact * (1 + 1e-4))):
        seen = []
        monkeypatch.setattr(linalg, "_log", lambda A, message, *args: seen.append(args))
        x = linalg._amg(A, rtol=1e-12)(b, guess)
        steps[name] = seen[-1][1]  # "CG on %d unknowns: %d iterations"
        assert np.linalg.norm(A @ x - b) <= 100 * 1e-12 * np.linalg.norm(b)
    assert steps["warm"] < steps["cold"]


@pytest.mark.skipif("amg" not in available_backends(), reason="pyamg not installed")
def test_an_amg_solve_leaves_the_blas_threads_as_it_found_them():
    """CG runs with one BLAS thread (solve/linalg._cg); the caller's setting is back after."""
    from threadpoolctl import threadpool_info
    before = [(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()]
    A = laplacian_3d(20)
    factorize(A, "amg")(np.ones(A.shape[0]))
    assert [(pool["internal_api"], pool["num_threads"]) for pool in threadpool_info()] == before


def _with_dangling_unknowns(n: int = 12, seed: int = 0):
    """A 3-D Laplacian (n³) with a dangling unknown hung on every third node by a link of
    random conductance, and one pair of unknowns hung on each other only (both stay)."""
    A = laplacian_3d(n).tocoo()
    m = A.shape[0]
    rng = np.random.default_rng(seed)
    hung_on = np.arange(0, m, 3)
    k = hung_on.size
    w = rng.uniform(0.1, 10.0, k)
    leaf = m + np.arange(k)
    rows = np.concatenate([A.row, hung_on, leaf, hung_on, leaf, [m + k, m + k + 1, m + k, m + k + 1]])
    cols = np.concatenate([A.col, leaf, hung_on, hung_on, leaf, [m + k + 1, m + k, m + k, m + k + 1]])
    data = np.concatenate([A.data, -w, -w, w, w, [-1.0, -1.0, 2.0, 2.0]])
    return sp.csr_matrix((data, (rows, cols)), shape=(m + k + 2, m + k + 2)), k


def test_leaves_are_found_and_pairs_of_them_stay():
    from constriction.solve.leaves import find_leaves
    A, k = _with_dangling_unknowns()
    found = find_leaves(A)
    assert found.rows.size == k and np.all(found.rows >= A.shape[0] - k - 2) and np.all(found.rows < A.shape[0] - 2)
    assert found.keep.sum() == A.shape[0] - k and found.keep[-2:].all()
    assert np.allclose(found.coupling, -found.diagonal)


@pytest.mark.skipif("amg" not in available_backends(), reason="pyamg not installed")
def test_a_solve_without_the_leaves_solves_the_whole_system():
    """AMG-CG on the Schur complement of the leaves, then the leaves' own rows: the whole
    system's solution (to the tolerance asked), from a guess too, with fewer unknowns."""
    from constriction.solve.leaves import without_leaves
    A, k = _with_dangling_unknowns()
    A = (A + 1e-3 * sp.eye(A.shape[0])).tocsr()  # regular
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    exact = factorize(A, "superlu")(b)
    sizes = []
    solve = without_leaves(A, lambda reduced: sizes.append(reduced.shape[0]) or linalg._amg(reduced, rtol=1e-12))
    assert sizes == [A.shape[0] - k]
    assert np.abs(solve(b) - exact).max() < 1e-9 * np.abs(exact).max()
    assert np.abs(solve(b, exact * (1 + 1e-6)) - exact).max() < 1e-9 * np.abs(exact).max()
    assert np.abs(factorize(A, "amg", rtol=1e-12)(b) - exact).max() < 1e-9 * np.abs(exact).max()


def test_listing_the_backends_imports_none_of_them():
    """available_backends finds the modules without importing them (pypardiso's import
    searches the installation for MKL: 1.5 s that a run by AMG need not pay)."""
    import subprocess
    import sys
    code = ("import sys; from constriction.solve.linalg import available_backends; available_backends(); "
            "print(sorted(m for m in ('pypardiso', 'pyamg') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
