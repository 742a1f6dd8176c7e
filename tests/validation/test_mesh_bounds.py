"""A mesh's error bar (solve/bounds.py): its conforming R_dc from below (Dirichlet), a
Crouzeix-Raviart solve on the same tetrahedra from above (Thomson), on Gmsh cells and
mesh files."""

import numpy as np
import pytest
from skfem import Basis, ElementTetCR, FacetBasis

from axisymmetric import flux_tube_admittance
from constriction import run
from constriction.geometry.assemble import assembled, grain_boundary_admittance, surface_admittance, tagged_cell
from constriction.solve.direct import dc_solution
from conftest import SIGMA, EPS_R, make_spec

BOX = {"shape": "box", "side_um": 20.0, "thickness_um": 20.0}
SPOT = [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}]


def _thomson(spec):
    """The Crouzeix-Raviart solve of a one-material cell, and its flux J = -sigma grad u
    checked: (R_CR, the flux's energy per current squared, the largest normal-flux
    imbalance on an interior facet, a grain boundary or an insulating wall, relative to the
    mean flux through the CE)."""
    spec = spec.at()
    sigma = spec.electrolyte.sigma_S_per_m
    tm, gb = tagged_cell(spec)
    system = assembled(spec, tm, gb, nonconforming=True)
    dc = dc_solution(system, backend="superlu")
    mesh, u = tm.mesh, system.on_dofs(dc.x)
    basis = Basis(mesh, ElementTetCR(), intorder=0)
    grad = basis.interpolate(u[:basis.N]).grad[:, :, 0]                 # (3, tetrahedra)
    volume = basis.dx.sum(axis=1)
    energy = sigma * (volume * (grad**2).sum(axis=0)).sum()

    def flux(facets, side=0):
        """(sigma grad u . n on the side's tetrahedron, the facet areas): n outward of side
        0's (of the only one, on the boundary)."""
        fb = FacetBasis(mesh, ElementTetCR(), facets=facets, intorder=0, side=side)
        return sigma * (fb.interpolate(u[:basis.N]).grad[:, :, 0] * fb.normals[:, :, 0]).sum(axis=0), fb.dx.sum(axis=1)

    ce, ce_area = flux(tm.boundaries["ce"])
    current = abs((ce * ce_area).sum())
    metal = np.unique(basis.element_dofs[:, [t for r in tm.regions if r.startswith("metal")
                                             for t in tm.regions[r]]])  # a CR dof is its facet
    interior = np.setdiff1d(np.flatnonzero(mesh.f2t[1] >= 0), metal)
    jumps = [np.abs(flux(interior, 0)[0] - flux(interior, 1)[0]).max()]
    electrodes = np.concatenate([tm.boundaries[k] for k in ("we", "ce", "contacts") if k in tm.boundaries])
    if spec.interface is not None:  # the contacts' Robin term: |J.n|^2 / g
        g, _ = surface_admittance(spec)
        j, area = flux(tm.boundaries["contacts"])
        energy += (area * j**2).sum() / g
    if gb is not None:  # facing triangles: the same flux through both, |J.n|^2 / g_gb
        index = {tuple(f): k for k, f in enumerate(np.sort(mesh.facets, axis=0).T.tolist())}
        a, b = (np.array([index[tuple(t)] for t in np.sort(gb[0][s], axis=0).T.tolist()]) for s in (0, 1))
        (ja, area), (jb, _) = flux(a), flux(b)
        jumps.append(np.abs(ja + jb).max())
        energy += (area * ja**2).sum() / grain_boundary_admittance(spec)[0]
        electrodes = np.concatenate([electrodes, a, b])
    walls = np.setdiff1d(mesh.boundary_facets(), np.concatenate([electrodes, metal]))
    jumps.append(np.abs(flux(walls)[0]).max())
    return dc.R_ohm, energy / current**2, max(jumps) * ce_area.sum() / current


@pytest.mark.parametrize("tables", [
    {"cell": {"shape": "cylinder", "radius_um": 20.0, "thickness_um": 20.0}, "contacts": SPOT},
    {"cell": BOX, "contacts": SPOT, "interface": {"R_ct_ohm_cm2": 1e-3}, "mesh": {"size_um": 5.0}},
    {"cell": BOX, "mesh": {"order": 1, "size_um": 5.0},
     "grains": {"kind": "voronoi", "size_um": 8.0, "model": "interface", "seed": 3},
     "materials": {"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": EPS_R},
                   "grain_boundary": {"sigma_S_per_m": 1e-3, "eps_r": 20.0, "thickness_um": 0.01}}},
    {"cell": BOX, "mesh": {"size_um": 4.0},
     "inclusions": [{"shape": "sphere", "centre_um": [2.0, 0.0, 10.0], "radius_um": 3.0, "material": "metal"}]},
], ids=["spot", "charge transfer", "grain boundaries", "floating metal"])
def test_the_crouzeix_raviart_flux_is_admissible_and_its_energy_is_the_upper_bound(tables):
    """Thomson's bound needs a flux that is divergence-free (constant in each tetrahedron),
    balanced across every facet and grain boundary and zero through the insulating walls;
    the Crouzeix-Raviart solve's flux is one (Marini), and R_CR is exactly its energy, the
    contacts' and grain boundaries' terms included. A facet form by any rule other than
    the facet's mean breaks both."""
    R_cr, energy, imbalance = _thomson(make_spec(**tables))
    assert imbalance < 1e-8
    assert energy == pytest.approx(R_cr, rel=1e-9)


def test_a_slab_is_bracketed_to_round_off():
    """Full contact on a box: the potential is linear, which both elements hold exactly."""
    for order in (1, 2):
        result = run(make_spec(cell=BOX, mesh={"size_um": 5.0, "order": order}, sweep={"kind": "dc"}),
                     progress=False, backend="superlu")
        d = result.summary.discretisation
        b = d.R_dc_bracket
        assert b.upper_ohm - b.lower_ohm == pytest.approx(0.0, abs=1e-9 * b.lower_ohm)
        assert b.error_ohm <= 1e-9 * b.lower_ohm
        assert d.R_cstr_bracket.lower_ohm == d.R_cstr_bracket.upper_ohm == 0.0  # the reference is the cell


@pytest.fixture(scope="module")
def disk_spot_reference():
    """R_dc of the disk spot (a = 5 µm, b = 50 µm, L = 100 µm; tests/axisymmetric.py): at
    n = 80 within 3e-6 of its n = 320 value, 300 times closer than the default P2 mesh."""
    return 1 / flux_tube_admittance(np.array([0.0]), 5e-6, 50e-6, 100e-6, SIGMA, EPS_R, n=80)[0].real


@pytest.mark.parametrize("refine", [2.0, 1.0])
def test_the_disk_spot_bracket_holds_the_axisymmetric_reference(refine, disk_spot_reference):
    """specs/single_spot.toml without its gap, at a coarse and the default mesh: the P2 value
    below the reference, the Crouzeix-Raviart one above, R_cstr's bracket too."""
    spec = make_spec(contacts=SPOT, mesh={"refine": refine}, sweep={"kind": "dc"})
    summary = run(spec, progress=False).summary
    reference = disk_spot_reference
    d = summary.discretisation
    assert d.R_dc_bracket.lower_ohm == summary.R_dc_ohm < reference < d.R_dc_bracket.upper_ohm
    assert d.R_inf_bracket == d.R_dc_bracket  # no gas: the same cell
    assert d.R_dc_bracket.error_ohm == d.R_dc_bracket.upper_ohm - summary.R_dc_ohm
    slab = 100e-6 / (SIGMA * np.pi * (50e-6) ** 2)  # the reference cell's R, up to its polygonal wall
    R_cstr = summary.constriction.R_cstr_ohm
    assert d.R_cstr_bracket.lower_ohm <= R_cstr <= d.R_cstr_bracket.upper_ohm
    assert d.R_cstr_bracket.lower_ohm < reference - slab < d.R_cstr_bracket.upper_ohm


def test_the_gap_is_shorted_in_r_infs_bracket():
    """A spot under a gap: R_inf's cell has the gap made metal; its bracket holds its own
    value and lies below R_dc's."""
    spec = make_spec(contacts=SPOT, gap={"height_um": 0.5}, mesh={"refine": 2.0}, sweep={"kind": "dc"})
    summary = run(spec, progress=False).summary
    d = summary.discretisation
    assert d.R_inf_bracket.lower_ohm == summary.R_inf_ohm < d.R_inf_bracket.upper_ohm < d.R_dc_bracket.lower_ohm
    assert d.R_dc_bracket.lower_ohm == summary.R_dc_ohm < d.R_dc_bracket.upper_ohm


def test_no_error_bar_when_switched_off():
    spec = make_spec(contacts=SPOT, mesh={"refine": 2.0}, sweep={"kind": "dc"})
    d = run(spec, progress=False, error_estimate="never").summary.discretisation
    assert d.R_dc_bracket is None and d.note == "not computed (switched off)"
