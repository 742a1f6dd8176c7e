"""Sparse factorisation backends behind one function: `factorize(A, backend) -> solve`.

A is symmetric: real positive definite (real shifts s > 0, DC) or complex symmetric
(s = j omega). Backends:

    superlu  scipy's SuperLU, always there, real or complex. The matrix is permuted
             symmetrically by a METIS nested-dissection ordering (pymetis; SuperLU's
             minimum degree below METIS_MIN_UNKNOWNS, or if pymetis is missing) and
             factorised in symmetric mode with no partial pivoting (diag_pivot_thresh=0):
             at low frequency omega*eps0 entries of the gaps sit beside sigma entries of
             the electrolyte, and partial pivoting would wreck the fill-reducing ordering
             (DESIGN.md). Symmetric matrices with positive semi-definite real and
             imaginary parts factorise stably without pivoting.
    pardiso  MKL Pardiso (pypardiso) in symmetric positive definite mode (upper triangle),
             nested-dissection ordering; real matrices only.
    amg      pyamg smoothed-aggregation preconditioned CG, real SPD only. Should CG miss its
             tolerance within AMG_MAXITER iterations, the solve falls back to a direct
             factorisation. That happens on the shifted systems G + sC of porous images,
             where sigma ~ 1 S/m sits beside s eps0 ~ 1e-8 S/m and islands of electrolyte
             float in insulator (benchmarks/README.md, "Porous images"); a sequence of
             shifts (pattern_factorizer) then goes direct for the shifts that follow.

`auto`: complex matrices go to SuperLU. Real ones go to AMG from AMG_MIN_UNKNOWNS up
(benchmarks/README.md: from 1e4 to 1e5 unknowns its setup and solve take a fifth to a
tenth of a Pardiso factorisation, whose start-up dominates small problems), to Pardiso
there if pyamg is missing, and to SuperLU below.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .options import BACKENDS
AMG_RTOL = 1e-12
AMG_MAXITER = 100     # CG iterations before a direct solve takes over (about 40 are needed where AMG works)
DIRECT_MAX_UNKNOWNS = 2_000_000  # above, a direct factorisation may not fit: CG gets AMG_MAXITER_LARGE
AMG_MAXITER_LARGE = 1000
AMG_MIN_UNKNOWNS = 5_000
METIS_MIN_UNKNOWNS = 10_000  # below, SuperLU's own minimum degree orders faster (benchmarks/README.md)


def available_backends() -> list[str]:
    """Backends that can run here."""
    names = ["superlu"]
    for name, module in (("pardiso", "pypardiso"), ("amg", "pyamg")):
        try:
            __import__(module)
            names.append(name)
        except ImportError:
            pass
    return names


def choose_backend(backend: str, complex_valued: bool, n: int) -> str:
    """Resolve 'auto' for an n x n matrix and reject a backend that cannot handle it."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    here = available_backends()
    if backend == "auto":
        if complex_valued or n < AMG_MIN_UNKNOWNS:
            return "superlu"
        return "amg" if "amg" in here else "pardiso" if "pardiso" in here else "superlu"
    if backend not in here:
        raise ValueError(f"backend {backend!r} is not installed here")
    if complex_valued and backend != "superlu":
        raise ValueError(f"backend {backend!r} handles real matrices only; use superlu")
    return backend


def factorize(A: sp.spmatrix, backend: str = "auto") -> Callable[[np.ndarray], np.ndarray]:
    """Factorise the symmetric matrix A once; return a function solving A x = b."""
    backend = choose_backend(backend, np.iscomplexobj(A.data), A.shape[0])
    if backend == "superlu":
        return _superlu(A, fill_reducing_order(A))
    if backend == "pardiso":
        return _pardiso(A.tocsr())
    return _amg(A.tocsr())


def pattern_factorizer(backend: str = "auto") -> Callable[[sp.spmatrix], Callable]:
    """`factorize` for a sequence of matrices with one sparsity pattern (the shifts of a
    reduced model): SuperLU's fill-reducing ordering is computed for the first only, and
    once AMG has stalled on one matrix of the sequence the rest go to a direct solver."""
    orders, stalled = [], []

    def factor(A: sp.spmatrix):
        chosen = choose_backend(backend, np.iscomplexobj(A.data), A.shape[0])
        if chosen == "amg" and stalled:
            chosen = direct_backend()
        if chosen == "amg":
            return _amg(A.tocsr(), on_stall=lambda: stalled.append(True))
        if chosen != "superlu":
            return factorize(A, chosen)
        if not orders:
            orders.append(fill_reducing_order(A))
        return _superlu(A, orders[0])
    return factor


def direct_backend() -> str:
    """The direct solver for real SPD matrices here: Pardiso if installed, else SuperLU."""
    return "pardiso" if "pardiso" in available_backends() else "superlu"


def _superlu(A: sp.spmatrix, order: np.ndarray | None):
    """SuperLU without pivoting, under the given METIS ordering (None: SuperLU's own)."""
    if order is None:
        lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options={"SymmetricMode": True})
        return lu.solve
    lu = spla.splu(A.tocsr()[order][:, order].tocsc(), permc_spec="NATURAL",
                   diag_pivot_thresh=0.0, options={"SymmetricMode": True})

    def solve(b):
        x = np.empty(len(b), dtype=np.result_type(A.dtype, b.dtype))
        x[order] = lu.solve(b[order])
        return x
    return solve


def fill_reducing_order(A: sp.spmatrix) -> np.ndarray | None:
    """METIS nested dissection from METIS_MIN_UNKNOWNS up; None (SuperLU's minimum
    degree, also without pivoting) below, where it is faster."""
    return nested_dissection(A) if A.shape[0] >= METIS_MIN_UNKNOWNS else None


def nested_dissection(A: sp.spmatrix) -> np.ndarray | None:
    """METIS fill-reducing ordering of the symmetric pattern of A, or None without pymetis."""
    try:
        import pymetis
    except ImportError:
        return None
    graph = sp.csr_matrix(A, copy=True)
    graph.setdiag(0)
    graph.eliminate_zeros()
    order, _ = pymetis.nested_dissection(pymetis.CSRAdjacency(graph.indptr, graph.indices))
    return np.asarray(order)


def _pardiso(A: sp.csr_matrix):
    import pypardiso

    upper = sp.triu(A, format="csr")
    upper.sort_indices()
    solver = pypardiso.PyPardisoSolver(mtype=2)  # real symmetric positive definite
    solver.factorize(upper)  # reused by every solve with this same matrix

    def solve(b):
        return solver.solve(upper, np.asarray(b, dtype=np.float64))
    return solve


def _amg(A: sp.csr_matrix, on_stall: Callable[[], None] = lambda: None):
    import pyamg

    ml = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric")
    direct = []
    maxiter = AMG_MAXITER if A.shape[0] <= DIRECT_MAX_UNKNOWNS else AMG_MAXITER_LARGE

    def solve(b):
        if not direct:
            x = ml.solve(b, tol=AMG_RTOL, accel="cg", maxiter=maxiter)
            if np.linalg.norm(A @ x - b) <= 100 * AMG_RTOL * np.linalg.norm(b):
                return x
            on_stall()  # CG stalled: factorise once, keep it for the next solves
            direct.append(factorize(A, direct_backend()))
        return direct[0](b)
    return solve
