"""Assembly of the admittance pencil A(s) = G + s C, once per geometry.

In every region the complex potential obeys div((sigma + s eps0 eps_r) grad phi) = 0, so
with one Laplacian K_r per region

    G = sum_r sigma_r K_r   (S),      C = sum_r eps0 eps_r,r K_r   (F).

The working electrode (WE) dofs sit at 1 V, the counter electrode (CE) dofs at 0 V;
every other outer boundary is insulating (natural condition).

A surface admittance y_s = g + s c per area on the contacts (charge transfer, double
layer) is a Robin term: the metal gets one extra dof V_m (the last one, in the WE) and
the contacts' own dofs become unknowns, with the facet form

    int_contacts y_s (u - V_m)(v - W_m) dA,

so g and c add to G and C and the WE current is still read from the residual.

Metal inside the electrolyte (regions metal, metal_we, metal_ce) is meshed but carries no
form: its dofs only say where the equipotential is. Metal touching an electrode is part
of it (its dofs join the WE or CE set); every other connected metal body becomes one
unknown, x = P y with P merging the body's dofs, so G -> P^T G P and C -> P^T C P. Its
row then says that the net current into the body is zero, at every frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from skfem import Basis, BilinearForm, ElementTetP1, ElementTetP2, FacetBasis
from skfem.helpers import dot, grad

from constriction.materials import Material
from constriction.solve.mixed import (LINEAR_FACE_MASS, FaceBasis, face_basis, face_jump, face_mass, jump_form,
                                      mixed_laplacian)
from constriction.geometry.tagged_mesh import TaggedMesh, triangle_areas
from constriction.units import EPS0

if TYPE_CHECKING:  # image/voxels.py builds its System from this module
    from constriction.image.voxels import VoxelGrid


CHUNK = 100_000  # elements assembled at once


@BilinearForm
def laplace(u, v, w):
    return dot(grad(u), grad(v))


@BilinearForm
def mass(u, v, w):
    return u * v


@dataclass(frozen=True)
class System:
    """G (S) and C (F) over all dofs, with the electrode dof sets.

    `shorted` are the dofs of gas regions against the metal (gaps, pores): at frequencies
    where their capacitance shorts them they behave as part of the WE (used for R_inf);
    `shorted_ce` those against the CE's metal (a mirrored counter electrode's gaps).
    `floating` are the dofs of each void inside the electrolyte: at those frequencies a
    void is shorted too, but floats (one unknown potential each).
    `surface` is the Robin block (G_s, C_s) of a surface admittance, else None; the
    metal dofs then come last (the WE's, then a mirrored CE's). `bodies` are the
    unknowns of the floating metal bodies, and `expand` (dofs x unknowns, one 1 per row) gives the value at every dof
    of the basis from the unknowns when bodies were merged (None: they are the same).
    A System from an image (image/voxels.py) has no basis but its `grid`; its WE and CE are
    one unknown each."""
    G: sp.csr_matrix
    C: sp.csr_matrix
    we: np.ndarray
    ce: np.ndarray
    shorted: np.ndarray
    basis: Basis | None                 # the finite-element basis (None on a voxel grid)
    surface: tuple[sp.csr_matrix, sp.csr_matrix] | None = None
    floating: tuple[np.ndarray, ...] = ()
    grid: VoxelGrid | None = None       # the voxels of a System built from an image
    bodies: tuple[int, ...] = ()
    expand: sp.csr_matrix | None = None
    body_flux: tuple | None = None      # (G rows, C rows, body of each row): see merge_bodies
    shorted_ce: np.ndarray = field(default_factory=lambda: np.array([], int))

    def on_dofs(self, x: np.ndarray) -> np.ndarray:
        """The value at every dof of the basis (metal dof last) from the unknowns x."""
        return x if self.expand is None else self.expand @ x

    def unknown_of(self, dofs: np.ndarray) -> np.ndarray:
        """The unknown that each dof of the basis is (a merged body's, or its own)."""
        return dofs if self.expand is None else self.expand.indices[dofs]

    @property
    def n_dofs(self) -> int:
        return self.G.shape[0]

    @cached_property
    def components(self) -> np.ndarray:
        """The conducting component (connected through G) of every dof: computed once, for
        the DC solve, the condensation of the sweep and an image's percolating fraction."""
        from scipy.sparse.csgraph import connected_components
        return connected_components(self.G, directed=False)[1]

    @property
    def interior(self) -> np.ndarray:
        """Dofs whose potential is unknown (neither WE nor CE)."""
        fixed = np.zeros(self.n_dofs, bool)
        fixed[self.we] = fixed[self.ce] = True
        return np.flatnonzero(~fixed)

    def pencil(self, s: complex):
        """A(s) = G + s C over all dofs."""
        return (self.G + s * self.C).tocsr()


def assemble(tm: TaggedMesh, materials: dict[str, Material], order: int = 2,
             surface_admittance: tuple[float, float] | None = None,
             shorted_regions: tuple[str, ...] = ("gap", "pores"),
             grain_boundaries: tuple[np.ndarray, float, float] | None = None,
             twins: np.ndarray | None = None, flux_degree: int | None = None) -> System:
    """Assemble G and C for the regions named in `materials` (region name -> Material).

    surface_admittance: (g in S/m², c in F/m²) on the `contacts` boundary, or None for
    contacts held at the metal potential (ideal, non-polarisable).
    grain_boundaries: (facing triangles (2, 3, n) from grains.split_grain_boundaries,
    g in S/m², c in F/m²): zero-thickness GBs, P1 only; `twins` then gives the node
    each dof was split from, so that metal on a grain boundary stays one body.
    flux_degree: 0 or 1, the mixed (flux) form of that degree hybridised onto the faces
    instead (solve/mixed.py; `order` is then ignored): its DC resistance is Thomson's upper
    bound of the meshed cell's (solve/bounds.py); its C is left empty."""
    element = ElementTetP2() if order == 2 else ElementTetP1()
    # on straight tetrahedra grad(u) . grad(v) has degree 2 (order - 1): a rule of that
    # degree is exact, and smaller than scikit-fem's default (degree 2 order); the basis
    # over all elements only numbers the dofs, so one point per element will do there
    exact = 2 * (order - 1)
    dual = flux_degree is not None
    basis = face_basis(tm.mesh, flux_degree) if dual else Basis(tm.mesh, element, intorder=0)
    n = basis.N
    G = sp.csr_matrix((n, n))
    C = sp.csr_matrix((n, n))
    for name, material in materials.items():
        K = _laplacian(tm.mesh, basis if dual else element, tm.regions[name], exact, n)
        G = G + material.sigma_S_per_m * K
        if not dual:  # the mixed form's C is not needed: its bound is of R_dc and R_inf
            C = C + EPS0 * material.eps_r * K
    if dual:  # twins number nodes; a body split along a grain boundary only restricts the flux
        twins = None

    def metal(region):
        if region not in tm.regions:
            return np.array([], int)
        dofs = np.unique(basis.element_dofs[:, tm.regions[region]])
        return dofs if twins is None else np.flatnonzero(np.isin(twins, twins[dofs]))

    metal_we = metal("metal_we")
    we = np.union1d(facet_dofs(basis, tm.boundaries["we"]), metal_we)
    ce = np.union1d(facet_dofs(basis, tm.boundaries["ce"]), metal("metal_ce"))
    if np.intersect1d(we, ce).size:
        raise ValueError("working and counter electrode share dofs: the cell is too thin for its mesh")
    shorted, shorted_ce = _gas_against(basis, [tm.regions[r] for r in materials if r in shorted_regions], ce)
    if grain_boundaries is not None:
        J = face_jump(basis, grain_boundaries[0]) if dual else grain_boundary_jump(tm.mesh.p, grain_boundaries[0], n)
        G, C = G + grain_boundaries[1] * J, C + grain_boundaries[2] * J
    surface = None
    if surface_admittance is not None:  # on the WE's contacts, and a mirrored CE's
        sides = [("we", "contacts", metal_we)]
        if tm.boundaries.get("contacts_ce") is not None and len(tm.boundaries["contacts_ce"]):
            sides.append(("ce", "contacts_ce", metal("metal_ce")))
        G, C, held, surface = _with_surface_admittance(tm, basis, G, C, sides, *surface_admittance)
        we, ce = held[0], held[1] if len(held) > 1 else ce
    floating = _components(basis.element_dofs[:, tm.regions["voids"]]) if "voids" in materials else ()
    system = System(G=G.tocsr(), C=C.tocsr(), we=np.unique(we), ce=np.unique(ce),
                    shorted=shorted, basis=basis, surface=surface, floating=floating, shorted_ce=shorted_ce)
    if "metal" not in tm.regions:
        return system
    bodies = _components(basis.element_dofs[:, tm.regions["metal"]])
    if twins is not None:
        bodies = tuple(np.flatnonzero(np.isin(twins, twins[body])) for body in bodies)
    return merge_bodies(system, bodies)


def _laplacian(mesh, element, elements: np.ndarray, intorder: int, n: int) -> sp.csr_matrix:
    """The Laplacian of a region, assembled CHUNK elements at a time: the per-element
    entries (16 or 100 per tetrahedron, with their row and column indices; 144 for the
    mixed form's, where `element` is a FaceBasis) then never exist for the whole region
    at once."""
    K = sp.csr_matrix((n, n))
    for start in range(0, len(elements), CHUNK):
        part = elements[start:start + CHUNK]
        K = K + (mixed_laplacian(element, part) if isinstance(element, FaceBasis) else
                 laplace.assemble(Basis(mesh, element, elements=part, intorder=intorder)))
    return K.tocsr()


def merge_bodies(system: System, bodies) -> System:
    """The System with each group of dofs in `bodies` merged into one unknown (placed
    after all the others, in order): x = P y. It keeps the rows of the bodies' own dofs,
    (G P)_i and (C P)_i: the current into the electrolyte at each dof of a body's surface
    (solve.body_currents). A body that shares a dof with an electrode (a ball touching it
    at one point) is merged into it, and is not one of the System's floating `bodies`."""
    n = system.n_dofs
    electrode = np.zeros(n, bool)
    electrode[system.we] = electrode[system.ce] = True
    touching = [body for body in bodies if electrode[body].any()]
    if touching:
        system = _joined_to_electrodes(system, touching)
        bodies = [body for body in bodies if not electrode[body].any()]
    if not len(bodies):
        return system
    label = np.zeros(n, int)
    for k, body in enumerate(bodies, start=1):
        label[body] = k
    kept = np.flatnonzero(label == 0)
    column = np.empty(n, int)
    column[kept] = np.arange(kept.size)
    column[label > 0] = kept.size + label[label > 0] - 1
    P = sp.csr_matrix((np.ones(n), (np.arange(n), column)), shape=(n, kept.size + len(bodies)))
    G, C = (P.T @ system.G @ P).tocsr(), (P.T @ system.C @ P).tocsr()
    surface = None if system.surface is None else tuple((P.T @ M @ P).tocsr() for M in system.surface)
    rows = np.concatenate(bodies)
    flux = ((system.G[rows] @ P).tocsr(), (system.C[rows] @ P).tocsr(), label[rows] - 1)
    return replace(system, G=G, C=C, we=np.unique(column[system.we]), ce=np.unique(column[system.ce]),
                   shorted=np.unique(column[system.shorted]), shorted_ce=np.unique(column[system.shorted_ce]),
                   surface=surface,
                   floating=tuple(np.unique(column[f]) for f in system.floating),
                   bodies=tuple(kept.size + k for k in range(len(bodies))), expand=P, body_flux=flux)


def _joined_to_electrodes(system: System, touching) -> System:
    """The System with every dof of each body in `touching` made a dof of the electrode it
    shares a dof with (ValueError where it shares dofs with both: a short circuit)."""
    we, ce = [system.we], [system.ce]
    for body in touching:
        at_we, at_ce = np.isin(body, system.we).any(), np.isin(body, system.ce).any()
        if at_we and at_ce:
            raise ValueError("a metal body touches both electrodes: a short circuit")
        (we if at_we else ce).append(body)
    return replace(system, we=np.unique(np.concatenate(we)), ce=np.unique(np.concatenate(ce)))


def facet_dofs(basis: Basis, facets: np.ndarray) -> np.ndarray:
    """Every dof on the given facets: for P1 their vertices (without building the mesh's
    edges, as the general path does); for a FaceBasis their faces' dofs."""
    if isinstance(basis, FaceBasis):
        return basis.facet_dofs(facets)
    if isinstance(basis.elem, ElementTetP1):
        return np.unique(basis.mesh.facets[:, facets])
    return basis.get_dofs(facets).all() if len(facets) else np.array([], int)


def _gas_against(basis: Basis, regions: list[np.ndarray], ce: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dofs of the gas pockets (connected groups of gap and pore elements) against the
    WE's metal, and of those against the CE's (they touch a CE dof)."""
    empty = np.array([], int)
    if not regions or not sum(r.size for r in regions):
        return empty, empty
    pockets = _components(basis.element_dofs[:, np.concatenate(regions)])
    at_ce = [np.intersect1d(p, ce).size > 0 for p in pockets]
    we_side = [p for p, c in zip(pockets, at_ce) if not c]
    ce_side = [p for p, c in zip(pockets, at_ce) if c]
    return (np.unique(np.concatenate(we_side)) if we_side else empty,
            np.unique(np.concatenate(ce_side)) if ce_side else empty)


def _components(element_dofs: np.ndarray) -> tuple[np.ndarray, ...]:
    """The dofs of each connected group of elements (elements sharing a dof connect)."""
    from scipy.sparse.csgraph import connected_components
    n_el = element_dofs.shape[1]
    dofs, local = np.unique(element_dofs, return_inverse=True)
    incidence = sp.csr_matrix((np.ones(local.size), (local.ravel(), np.tile(np.arange(n_el), element_dofs.shape[0]))),
                              shape=(dofs.size, n_el))
    _, label = connected_components(incidence @ incidence.T, directed=False)
    return tuple(dofs[label == k] for k in range(label.max() + 1))


def _with_surface_admittance(tm, basis, G, C, sides, g, c):
    """Append one metal dof per side and its Robin block on the side's contacts; free
    the dofs only on the contacts (the rest of the electrode, the inside of its metal
    included, is held at the metal's potential; the contacts' rims stay free). sides:
    (electrode boundary, contacts boundary, inner metal dofs) of the WE, and of a
    mirrored CE. Returns G, C, each side's held dofs (its metal dof last), (G_s, C_s)."""
    n = basis.N + len(sides)
    rows, cols, values, held = [], [], [], []
    for k, (electrode, contacts, inner) in enumerate(sides):
        M = _contact_mass(tm.mesh, basis, tm.boundaries[contacts])
        m = np.asarray(M.sum(axis=1)).ravel()
        metal = basis.N + k
        on = np.flatnonzero(m)
        rows += [M.row, on, np.full(on.size, metal), [metal]]
        cols += [M.col, np.full(on.size, metal), on, [metal]]
        values += [M.data, -m[on], -m[on], [m.sum()]]
        # every other metal dof is held at the metal's potential, but for those on the
        # contacts: a contact's rim is also the edge of the gap's or pore's metal walls, and
        # holding it would join metal and electrolyte along a line, past the interface (its
        # effect fades only as log(1 / h) under refinement)
        other = np.setdiff1d(tm.boundaries[electrode], tm.boundaries[contacts])
        kept = np.setdiff1d(np.union1d(facet_dofs(basis, other), inner), facet_dofs(basis, tm.boundaries[contacts]))
        held.append(np.append(kept, metal))
    block = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    G_s, C_s = g * block, c * block
    pad = sp.csr_matrix((len(sides), len(sides)))
    G = sp.bmat([[G, None], [None, pad]]).tocsr() + G_s
    C = sp.bmat([[C, None], [None, pad]]).tocsr() + C_s
    return G, C, held, (G_s.tocsr(), C_s.tocsr())


def _contact_mass(mesh, basis: Basis | FaceBasis, facets: np.ndarray) -> sp.coo_matrix:
    """int u v dA over the facets (m²)."""
    if isinstance(basis, FaceBasis):
        return face_mass(basis, facets)
    return mass.assemble(FacetBasis(mesh, basis.elem, facets=facets)).tocoo()


def grain_boundary_jump(points: np.ndarray, facing: np.ndarray, n: int) -> sp.csr_matrix:
    """The P1 form int_gb (u_A - u_B)(v_A - v_B) dA over facing triangle pairs (m²)."""
    return jump_form(facing, triangle_areas(points, facing[0]), LINEAR_FACE_MASS, n)
