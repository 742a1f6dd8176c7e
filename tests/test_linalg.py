"""Backends: the same answers, the automatic choice, and the AMG fallback."""

import numpy as np
import pytest
import scipy.sparse as sp

from constriction import linalg
from constriction.linalg import available_backends, choose_backend, factorize


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
