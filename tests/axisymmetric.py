"""An independent reference: one disk contact (radius a) on the axis of a cylindrical flux
tube (radius b, length L), optionally under a gap of height h, solved as the 2D
axisymmetric problem it is, with scikit-fem P2 triangles on a tensor grid graded
algebraically toward the contact rim (r = a) and the electrolyte surface (z = L).

Nothing here is shared with the 3D pipeline (no Gmsh, no spec): it checks it. The
weak form, with the complex conductivity sigma + j omega eps0 eps_r of each region:

    Y = min over u (u = 1 on the metal, 0 on z = 0) of  int kappa |grad u|^2 2 pi r dr dz

The metal is the contact disk and, with a gap, the spot's wall (r = a) and the gap's
ceiling (z = L + h); the tube wall r = b is insulating. Lengths in metres.
"""

import numpy as np
from scipy.constants import epsilon_0 as EPS0
from scipy.sparse.linalg import splu
from skfem import Basis, BilinearForm, ElementTriP2, MeshTri
from skfem.helpers import dot, grad


@BilinearForm(dtype=np.complex128)
def admittance_form(u, v, w):
    return w.kappa * dot(grad(u), grad(v)) * 2 * np.pi * w.x[0]


def graded(x0: float, x1: float, n: int, power: float) -> np.ndarray:
    """n + 1 nodes from x0 to x1, dense at x0: spacing grows as (k/n)^power."""
    return x0 + (x1 - x0) * (np.arange(n + 1) / n) ** power


def flux_tube_admittance(f_Hz, a, b, L, sigma, eps_r, gap_h=0.0, gap_eps_r=1.0, n=80, power=3.0):
    """Admittance (S) of the contact at each frequency (f = 0: the DC conductance).
    n: elements along each graded stretch (the grid is about (2n)^2 triangles pairs)."""
    return flux_tube_probe(f_Hz, a, b, L, sigma, eps_r, np.empty((2, 0)), gap_h, gap_eps_r, n, power)[0]


def flux_tube_probe(f_Hz, a, b, L, sigma, eps_r, points_rz, gap_h=0.0, gap_eps_r=1.0, n=80, power=3.0):
    """(admittance in S, potential at points_rz (2, k) in V with the contact at 1 V), at
    each frequency. A point (r, z) stands for the ring of radius r at height z: a ring
    reference electrode that draws no current reads exactly this potential."""
    r = np.unique(np.concatenate([graded(a, 0.0, n, power), graded(a, b, n, power)]))
    z = graded(L, 0.0, 2 * n, power)
    if gap_h > 0:
        z = np.concatenate([z, graded(L, L + gap_h, max(n // 4, 4), power)])
    mesh = MeshTri.init_tensor(np.sort(r), np.unique(z))
    centre = mesh.p[:, mesh.t].mean(axis=1)
    mesh = mesh.remove_elements(np.flatnonzero((centre[1] > L) & (centre[0] < a)))  # the metal spot
    in_gap = mesh.p[:, mesh.t].mean(axis=1)[1] > L
    basis = Basis(mesh, ElementTriP2())
    p = basis.doflocs
    tol = 1e-9 * L
    metal = (np.abs(p[1] - L) < tol) & (p[0] <= a + tol)
    if gap_h > 0:
        metal |= (np.abs(p[0] - a) < tol) & (p[1] >= L - tol)
        metal |= np.abs(p[1] - (L + gap_h)) < tol
    ground = np.abs(p[1]) < tol
    free = ~(metal | ground)
    Y, phi = [], []
    probes = basis.probes(np.asarray(points_rz, float)) if np.size(points_rz) else None
    for f in np.atleast_1d(f_Hz):
        s = 2j * np.pi * f
        kappa = np.where(in_gap, s * EPS0 * gap_eps_r, sigma + s * EPS0 * eps_r)
        A = admittance_form.assemble(basis, kappa=kappa[:, None]).tocsr()
        x = np.zeros(basis.N, complex)
        x[metal] = 1.0
        lu = splu(A[free][:, free].tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})  # no pivoting: see docs/DESIGN.md
        x[free] = lu.solve(-(A[free][:, metal] @ x[metal]))
        Y.append((A @ x)[metal].sum())
        phi.append(probes @ x if probes is not None else np.empty(0))
    return np.array(Y), np.array(phi)
