"""Backends: the same answers, the automatic choice, and the AMG fallback."""

import numpy as np
import pytest
import scipy.sparse as sp

from constriction.solve import linalg
from constriction.solve.linalg import available_backends, choose_backend, factorize


def laplacian_3d(n, shift=1e-3):
    """SPD 7-point Laplacian on an n^3 grid, plus a small mass-like shift."""
    d = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    I = sp.identity(n)
    L = sp.kron(sp.kron(d, I), I) + sp.kron(sp.kron(I, d), I) + sp.kron(sp.kron(I, I), d)
    return (L + shift * sp.identity(n**3)).tocsr()


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
    monkeypatch.setattr(linalg, "AMG_RTOL", 1e-30)  # unreachable: CG must give up
    A = laplacian_3d(6)
    b = np.ones(A.shape[0])
    x = factorize(A, "amg")(b)
    assert np.linalg.norm(A @ x - b) < 1e-12 * np.linalg.norm(b)


def _gas_shift_system():
    """A shifted system G + sC of a voxel interface with gas voids (s = 2 pi rad/s): the
    gas unknowns carry s eps0 beside 0.1 S/m; and a right-hand side like a reduced model's
    derivative snapshot, -(C x + c)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "studies"))
    from synthetic_interface import synthetic_interface
    from constriction.solve.reduced import restricted
    from constriction.units import EPS0
    from constriction.image.voxels import ELECTROLYTE, GAS, METAL, assemble_grid
    image = synthetic_interface((24, 24, 24), void_radius=1.5, void_depth=6, patch_size=2.0, gap=1, metal=2, seed=3)
    kind = np.array([ELECTROLYTE, GAS, METAL], np.int8)[np.transpose(image, (2, 1, 0))]
    sigma = np.where(kind == ELECTROLYTE, 0.1, 0.0)
    eps = np.where(kind == METAL, 0.0, EPS0 * np.where(kind == GAS, 1.0, 10.0))
    _, system = assemble_grid(kind, sigma, eps, (2e-6,) * 3)
    I = system.interior
    G, C = restricted(system.G, I), restricted(system.C, I)
    u = np.zeros(system.n_dofs)
    u[system.we] = 1.0
    A = (G + 2 * np.pi * C).tocsr()
    x = factorize(A, "superlu")(-(system.G[I] @ u + 2 * np.pi * system.C[I] @ u))
    return A, -(C @ x + system.C[I] @ u), G.diagonal() == 0


def test_amg_falls_back_block_by_block_then_to_a_factorisation(monkeypatch):
    """Where plain AMG-CG stalls, CG preconditioned block by block (conducting | capacitive)
    takes over (or goes first, where the contrast says plain AMG would stall); where that
    stalls too, a factorisation; each stall is reported, and every answer meets the
    tolerance."""
    from constriction.solve import linalg
    A, b, capacitive = _gas_shift_system()
    assert 0 < capacitive.sum() < len(capacitive)
    reference = factorize(A, "superlu")(b)
    assert linalg._contrast(A, capacitive) > linalg.BLOCK_FIRST_CONTRAST  # block first here
    for maxiter, contrast, expected in ((200, 200.0, []), (1, 200.0, ["block", "amg"]), (1, np.inf, ["amg", "block"])):
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


def test_amg_warns_instead_of_factorising_a_system_too_large_for_it(monkeypatch):
    from constriction.solve import linalg
    A, b, capacitive = _gas_shift_system()
    monkeypatch.setattr(linalg, "DIRECT_MAX_UNKNOWNS", 100)
    monkeypatch.setattr(linalg, "AMG_MAXITER", 1)        # both CG stages stall
    monkeypatch.setattr(linalg, "AMG_MAXITER_LARGE", 1)
    monkeypatch.setattr(linalg, "factorize", lambda *a: pytest.fail("factorised a system marked too large"))
    with pytest.warns(RuntimeWarning, match="too large to factorise"):
        x = linalg._amg(A, capacitive)(b)
    assert x.shape == b.shape and np.all(np.isfinite(x))
