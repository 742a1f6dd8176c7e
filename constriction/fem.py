"""Assembly of the admittance pencil A(s) = G + s C, once per geometry.

In every region the complex potential obeys div((sigma + s eps0 eps_r) grad phi) = 0, so
with one Laplacian K_r per region

    G = sum_r sigma_r K_r   (S),      C = sum_r eps0 eps_r,r K_r   (F).

The working electrode (WE) dofs sit at 1 V, the counter electrode (CE) dofs at 0 V;
every other outer boundary is insulating (natural condition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from skfem import Basis, BilinearForm, ElementTetP1, ElementTetP2
from skfem.helpers import dot, grad

from .mesh import TaggedMesh
from .spec import Material

EPS0 = 8.8541878128e-12  # vacuum permittivity (F/m)


@BilinearForm
def laplace(u, v, w):
    return dot(grad(u), grad(v))


@dataclass(frozen=True)
class System:
    """G (S) and C (F) over all dofs, with the electrode dof sets.

    `shorted` are the dofs of non-conducting regions (gaps): at frequencies where their
    capacitance shorts them they behave as part of the WE (used for R_inf)."""
    G: sp.csr_matrix
    C: sp.csr_matrix
    we: np.ndarray
    ce: np.ndarray
    shorted: np.ndarray
    basis: Basis

    @property
    def n_dofs(self) -> int:
        return self.G.shape[0]

    @property
    def interior(self) -> np.ndarray:
        """Dofs whose potential is unknown (neither WE nor CE)."""
        fixed = np.zeros(self.n_dofs, bool)
        fixed[self.we] = fixed[self.ce] = True
        return np.flatnonzero(~fixed)

    def pencil(self, s: complex):
        """A(s) = G + s C over all dofs."""
        return (self.G + s * self.C).tocsr()


def assemble(tm: TaggedMesh, materials: dict[str, Material], order: int = 2) -> System:
    """Assemble G and C for the regions named in `materials` (region name -> Material)."""
    element = ElementTetP2() if order == 2 else ElementTetP1()
    basis = Basis(tm.mesh, element)
    n = basis.N
    G = sp.csr_matrix((n, n))
    C = sp.csr_matrix((n, n))
    shorted = []
    for name, material in materials.items():
        region = Basis(tm.mesh, element, elements=tm.regions[name])
        K = laplace.assemble(region)
        G = G + material.sigma_S_per_m * K
        C = C + EPS0 * material.eps_r * K
        if material.sigma_S_per_m == 0:
            shorted.append(basis.element_dofs[:, tm.regions[name]].ravel())
    we = basis.get_dofs(tm.boundaries["we"]).all()
    ce = basis.get_dofs(tm.boundaries["ce"]).all()
    if np.intersect1d(we, ce).size:
        raise ValueError("working and counter electrode share dofs: the cell is too thin for its mesh")
    shorted = np.unique(np.concatenate(shorted)) if shorted else np.array([], int)
    return System(G=G.tocsr(), C=C.tocsr(), we=np.unique(we), ce=np.unique(ce),
                  shorted=shorted, basis=basis)
