"""Meshes that reach the tolerance asked ([mesh] tolerance, geometry/adapt.py): each mesh's
R_dc bracket (P2 below, the mixed solve with a linear current above) and the per-tetrahedron
hypercircle that says where to refine."""

import numpy as np
import pytest

from constriction import run
from constriction.geometry import adapt
from constriction.io.summary import Summary
from constriction.geometry.assemble import assembled, materials_of, tagged_cell
from constriction.memory import mesh_run_bytes
from constriction.solve.bounds import hypercircle, mixed_bytes
from constriction.solve.direct import dc_solution
from conftest import COARSE_PIXEL_EDGE, PIXEL_SQUARE, make_spec

LENS_PORE = {"pores": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 20.0, "height_um": 3.0, "shape": "lens"}]}


def _held_by_every_step(steps):
    """The brackets of meshes of one polygonal geometry all hold its continuum R_dc: they
    overlap, and the last lies inside the first."""
    assert max(s.lower_ohm for s in steps) <= min(s.upper_ohm for s in steps)
    assert steps[0].lower_ohm <= steps[-1].lower_ohm and steps[-1].upper_ohm <= steps[0].upper_ohm


def test_the_hypercircle_sums_to_the_brackets_width():
    """Prager and Synge: sum over tetrahedra of sigma |grad u + J / sigma|² = 1/R_P2 - 1/R_mixed
    (no contacts' or grain boundaries' admittance here), every term >= 0, the largest at the
    square's edges (the top face, z = 24 µm)."""
    spec = make_spec(sweep={"kind": "dc"}, **PIXEL_SQUARE).at()
    tm, gb = tagged_cell(spec)
    system, dual = assembled(spec, tm, gb), assembled(spec, tm, gb, flux_degree=1)
    lower, upper = dc_solution(system), dc_solution(dual)
    conducting = [(tm.regions[r], m.sigma_S_per_m) for r, m in materials_of(spec).items() if m.sigma_S_per_m]
    width = hypercircle(system, dual, lower.x, upper.x, conducting)
    assert width.sum() == pytest.approx(1 / lower.R_ohm - 1 / upper.R_ohm, rel=1e-6)
    assert width.min() >= 0 and width[tm.regions["gap"]].max() == 0
    worst = np.argsort(width)[-20:]
    assert tm.mesh.p[2, tm.mesh.t[:, worst]].max(axis=0).min() == pytest.approx(24e-6)


def test_a_pixel_square_reaches_a_coarse_tolerance(tmp_path):
    """From a coarse mesh (a bracket about 1.5 % wide) to 1 %: a finer mesh where the
    hypercircle said, its bracket within the tolerance, kept by the run."""
    spec = make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 0.01, **COARSE_PIXEL_EDGE}, **PIXEL_SQUARE)
    result = run(spec, progress=False)
    d = result.summary.discretisation
    steps = d.mesh_steps
    assert len(steps) >= 2 and steps[0].width > 0.01 >= steps[-1].width
    unadapted = make_spec(sweep={"kind": "dc"}, mesh=COARSE_PIXEL_EDGE, **PIXEL_SQUARE)
    assert steps[-1].elements > steps[0].elements == run(unadapted, progress=False,
                                                         error_estimate="never").summary.elements
    _held_by_every_step(steps)
    assert d.tolerance == 0.01 and "linear (BDM1)" in d.method and "mesh adapted to the tolerance 0.01" in d.note
    b = d.R_dc_bracket
    assert b.lower_ohm == result.summary.R_dc_ohm and b.upper_ohm == steps[-1].upper_ohm
    assert b.lower_ohm == pytest.approx(steps[-1].lower_ohm, rel=1e-8)  # the same mesh, solved again
    assert result.summary.elements == steps[-1].elements
    assert not any("tolerance" in w for w in result.summary.warnings)
    result.summary.write(tmp_path / "summary.json")  # every mesh kept in summary.json
    assert Summary.read(tmp_path / "summary.json").discretisation.mesh_steps == steps


def test_a_p1_mesh_adapts_with_the_constant_current():
    """P1 converges at first order, and so does the constant current (RT0), for a third of
    the linear one's unknowns: the pixel square's P1 bracket (16 % wide on a coarse mesh) to 10 %."""
    spec = make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 0.1, "order": 1, **COARSE_PIXEL_EDGE}, **PIXEL_SQUARE)
    d = run(spec, progress=False, error_estimate="never").summary.discretisation
    assert "constant (RT0)" in d.method and len(d.mesh_steps) >= 2 and d.mesh_steps[-1].width <= 0.1
    _held_by_every_step(d.mesh_steps)


def test_a_slab_is_within_any_tolerance_at_once():
    """A full contact: both bounds meet on the first mesh, nothing is refined."""
    spec = make_spec(cell={"shape": "box", "side_um": 20.0, "thickness_um": 20.0}, mesh={"size_um": 5.0,
                     "tolerance": 1e-5}, sweep={"kind": "dc"})
    d = run(spec, progress=False).summary.discretisation
    assert len(d.mesh_steps) == 1 and d.mesh_steps[0].width < 1e-9


def test_the_next_mesh_past_the_memory_available_stops_with_a_warning():
    """Where the next mesh would not fit --max-memory, the run keeps the last one, says why in
    the note and warns that the tolerance was not reached."""
    spec = make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 1e-3, **COARSE_PIXEL_EDGE}, **PIXEL_SQUARE)
    budget = mesh_run_bytes(10_000, 2) + mixed_bytes(10_000, 1)  # the first mesh (6,345) fits, not the next
    summary = run(spec, progress=False, max_memory_GiB=budget / 2**30).summary
    d = summary.discretisation
    assert len(d.mesh_steps) == 1 and "would not fit the memory available" in d.note
    assert d.R_dc_bracket.upper_ohm == d.mesh_steps[0].upper_ohm
    assert any("mesh.tolerance 0.001 not reached" in w for w in summary.warnings)


def test_a_blocking_cell_has_no_r_dc_to_adapt_to_and_says_so():
    """A gap over the whole face: no DC path. The first mesh is kept, R_inf bracketed on it
    as without a tolerance, and the run warns that the tolerance was not reached."""
    spec = make_spec(cell={"shape": "box", "side_um": 20.0, "thickness_um": 20.0}, contacts=[],
                     gap={"height_um": 0.5}, mesh={"size_um": 5.0, "tolerance": 0.01}, sweep={"kind": "dc"})
    summary = run(spec, progress=False).summary
    d = summary.discretisation
    assert d.mesh_steps == () and d.tolerance == 0.01 and d.R_inf_bracket is not None
    assert "not reached: nothing conducts at DC" in d.note
    assert any("mesh.tolerance 0.01 not reached: no mesh bracketed" in w for w in summary.warnings)


def test_the_meshes_are_solved_with_the_backend_asked(monkeypatch):
    """--backend reaches the adaptive loop's solves (P2 and mixed), not only the run's."""
    asked = []

    def solution(system, short_gaps=False, backend="auto"):
        asked.append(backend)
        return dc_solution(system, short_gaps, backend)
    monkeypatch.setattr(adapt, "dc_solution", solution)
    run(make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 0.05}, **PIXEL_SQUARE), progress=False,
        backend="superlu", error_estimate="never")
    assert asked == ["superlu", "superlu"]


def test_switched_off_the_adapted_bracket_is_still_kept():
    """error_estimate="never" (studies): the mesh is still adapted (the tolerance is the
    spec's), R_dc's bracket comes with it, R_inf's is not computed."""
    spec = make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 0.05}, **PIXEL_SQUARE)
    d = run(spec, progress=False, error_estimate="never").summary.discretisation
    assert d.R_dc_bracket is not None and d.R_inf_bracket is None and "switched off" in d.note


def test_a_coarse_refine_with_a_tolerance_warns_of_its_facets():
    """The tolerance refines where the bracket's width is; curved faces keep the facets that
    mesh.refine gives them, and the bracket is of that geometry: a warning before meshing."""
    from constriction.geometry.cell import check_resolution
    coarse = make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 1e-3, "refine": 4.0}, **LENS_PORE)
    assert any("24 facets a circle at mesh.refine 4" in w for w in check_resolution(coarse))
    assert not check_resolution(make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 1e-3}, **LENS_PORE))


@pytest.mark.slow
@pytest.mark.parametrize("name, tables, sizes", [("pixel-map square", PIXEL_SQUARE, {}),
                                                 ("lens pore", LENS_PORE, {"size_um": 50.0, "edge_size_um": 6.0})])
def test_the_adaptive_run_reaches_a_tenth_of_a_percent(name, tables, sizes):
    """Issue 34's check: the pixel-map square from its default mesh (-0.07 %, its linear
    current's bracket 0.14 % wide; two meshes, under a minute) and the lens pore from a
    coarse grading (its default mesh is within 0.1 % already; refine is left at 1, which
    sets the lens's facets) reach 0.1 %; the pixel square's meshes, of one polygon, all
    bracket the same value."""
    spec = make_spec(sweep={"kind": "dc"}, mesh={"tolerance": 1e-3, **sizes}, **tables)
    d = run(spec, progress=False, error_estimate="never").summary.discretisation  # R_dc's bracket only
    assert d.mesh_steps[-1].width <= 1e-3 < d.mesh_steps[0].width
    if name == "pixel-map square":
        _held_by_every_step(d.mesh_steps)
