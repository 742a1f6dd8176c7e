"""Bodies inside the electrolyte ([[inclusions]]): metal, insulating and conducting."""

import math

import numpy as np
import pytest

from constriction import SpecError, spec_from_dict
from constriction.geometry.mesh_fields import contact_current
from constriction.geometry.cell import build_mesh, estimate_elements
from constriction.solve.reduced import reduce
from constriction import run
from constriction.solve.direct import body_currents, dc_resistance, driven_solve, sweep_direct

from constriction.reference import maxwell_garnett
from conftest import make_spec, system_of

SIDE = 20.0  # µm: a cube between full-face electrodes
CUBE = {"shape": "box", "side_um": SIDE, "thickness_um": SIDE}
SIGMA = 1.0  # S/m


def cube(inclusions, refine=1.0, **tables):
    return make_spec(cell=CUBE, mesh={"size_um": 2.0, "refine": refine},
                     materials={"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": 10.0}},
                     inclusions=inclusions, **tables)


def sphere(material, centre=(0.0, 0.0, SIDE / 2), radius=2.0, **more):
    return {"shape": "sphere", "centre_um": list(centre), "radius_um": radius, "material": material, **more}


@pytest.mark.parametrize("material, beta", [("metal", 1.0), ("insulator", -0.5),
                                            ({"sigma_S_per_m": 10 * SIGMA, "eps_r": 10.0}, 9 / 12)],
                         ids=["metal", "insulator", "conducting"])
def test_a_small_sphere_changes_the_conductance_as_maxwell_says(material, beta):
    phi = 4 / 3 * math.pi * 2.0**3 / SIDE**3   # 0.4 %
    slab = SIDE * 1e-6 / (SIGMA * (SIDE * 1e-6) ** 2)
    errors = []
    for refine in (1.0, 0.5):
        R, _ = dc_resistance(system_of(cube([sphere(material)], refine))[1])
        change = slab / R - 1
        errors.append(abs(change / maxwell_garnett(phi, beta) - 1))
        assert change / (3 * phi * beta) == pytest.approx(1.0, abs=0.02)  # the dilute limit
    assert errors[1] < errors[0] / 2      # converging, about as h^2 (surface faceting)
    assert errors[1] < 0.004


@pytest.fixture(scope="module")
def floating():
    """A metal sphere off the axis and below the middle, in the cube."""
    return system_of(cube([sphere("metal", centre=(3.0, -2.0, 7.0))]))[1]


def test_floating_metal_is_one_unknown_with_zero_net_current_at_every_frequency(floating):
    system = floating
    assert len(system.bodies) == 1
    body = system.bodies[0]
    for f in (0.0, 1.0, 1e6, 1e8, 1e10):
        A = system.pencil(2j * np.pi * f)
        y, mismatch, x = driven_solve(A, system.we, system.ce, system.interior)
        assert abs((A @ x)[body]) < 1e-10 * abs(y)          # zero net current into the body
        assert mismatch < 1e-10
        on_dofs = system.on_dofs(x)
        metal_dofs = np.flatnonzero(system.expand[:, body].toarray().ravel())
        assert metal_dofs.size > 100 and np.all(on_dofs[metal_dofs] == x[body])  # one potential
        assert 0.2 < abs(x[body]) < 0.5   # below the middle: nearer the counter electrode (0 V)


def test_current_through_a_floating_sphere_is_that_of_a_uniform_field(floating):
    """A perfectly conducting sphere in a uniform field E0 takes j_n = 3 sigma E0 cos(theta):
    3 pi a^2 sigma E0 enters one half and leaves the other."""
    x = driven_solve(floating.G, floating.we, floating.ce, floating.interior)[2]
    through = abs(body_currents(floating, x, 0.0)[0])
    E0 = 1.0 / (SIDE * 1e-6)
    assert through == pytest.approx(3 * math.pi * (2e-6) ** 2 * SIGMA * E0, rel=0.03)


def test_reduced_sweep_with_floating_metal_matches_the_direct_sweep(floating):
    f = np.logspace(0, 10, 11)
    Z_direct = 1 / sweep_direct(floating, f, progress=False).Y_S
    Z_reduced = reduce(floating, f[0], f[-1], tol=1e-8, progress=False).impedance(f)
    np.testing.assert_allclose(Z_reduced, Z_direct, rtol=1e-6)


def test_run_reports_each_floating_body():
    result = run(cube([sphere("metal", centre=(0, 0, 6.0)), sphere("metal", centre=(0, 0, 14.0))]),
                 progress=False, cpe_fit=False)
    bodies = result.summary.metal_bodies
    assert len(bodies) == 2
    potentials = sorted(b.potential_V for b in bodies)   # symmetric about the middle: V and 1 - V
    assert potentials[0] + potentials[1] == pytest.approx(1.0, abs=2e-3)
    assert 0.25 < potentials[0] < 0.4
    assert bodies[0].current_through_A == pytest.approx(bodies[1].current_through_A, rel=0.02)
    assert result.fields.section_metal.any()   # the equipotential plot hatches them


def test_a_filament_from_the_working_electrode_joins_it():
    """A metal cylinder from the WE into the electrolyte: part of the WE (no floating
    body), R_dc lower, and the current density where it stands (within 1 µm of the
    axis) far above that at the same place of the flat spot (its centre, where the
    current density is lowest)."""
    filament = {"shape": "cylinder", "start_um": [0, 0, SIDE], "end_um": [0, 0, SIDE - 8], "radius_um": 1.0,
                "material": "metal"}
    peaks = {}
    R = {}
    for name, inclusions in (("flat", []), ("filament", [filament])):
        spec = make_spec(cell=CUBE, mesh={"size_um": 2.0, "order": 1}, inclusions=inclusions,
                         materials={"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": 10.0}},
                         contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}], gap={"height_um": 1.0})
        _, system = system_of(spec)
        assert system.bodies == ()
        R[name] = dc_resistance(system)[0]
        x = driven_solve(system.pencil(2j * np.pi), system.we, system.ce, system.interior)[2]
        current = contact_current(system, x, 1.0)
        on_axis = np.hypot(*current.points_um) <= 1.0 + 1e-6
        peaks[name] = np.abs(current.j[on_axis]).max() / abs(current.mean)
    assert R["filament"] < 0.9 * R["flat"]
    assert peaks["flat"] < 1.0
    assert peaks["filament"] > 3 * peaks["flat"]


def test_metal_joining_both_electrodes_is_a_short_circuit():
    through = {"shape": "cylinder", "start_um": [0, 0, 0], "end_um": [0, 0, SIDE], "radius_um": 0.5,
               "material": "metal"}
    with pytest.raises(SpecError, match="short circuit") as err:
        cube([through])
    assert err.value.key == "inclusions[0]"
    # two bodies, each touching one electrode, that touch each other: found from the topology
    upper = {**through, "start_um": [0, 0, SIDE / 2]}
    lower = {**through, "end_um": [0, 0, SIDE / 2]}
    with pytest.raises(SpecError, match="short circuit"):
        build_mesh(cube([upper, lower]))


@pytest.mark.parametrize("inclusions, key, words", [
    ([sphere("metal", centre=(0, 0, 19.0))], "inclusions[0]", "outside the electrolyte"),
    ([sphere("metal", centre=(9.0, 0, 10.0))], "inclusions[0]", "outside the side"),
    ([sphere("plastic")], "inclusions[0].material", "metal"),
    ([sphere("metal", eps_r=3.0)], "inclusions[0].eps_r", "equipotential"),
    ([sphere({"sigma_S_per_m": 0, "eps_r": 5.0})], "inclusions[0].material.sigma_S_per_m", "insulator"),
    ([{"shape": "cone", "material": "metal"}], "inclusions[0].shape", "sphere"),
    ([{"shape": "box", "centre_um": [0, 0, 10], "size_um": [1, -1, 1], "material": "metal"}],
     "inclusions[0].size_um", "> 0"),
    ([{"shape": "cylinder", "start_um": [0, 0, 5], "end_um": [0, 0, 5], "radius_um": 1, "material": "metal"}],
     "inclusions[0].end_um", "length"),
    ([{"place": "random", "count": 500, "radius_um": 2.0, "material": "insulator"}], "inclusions[0].count",
     "random packing"),
    ([{"place": "random", "count": 60, "radius_um": 2.0, "material": "insulator"}], "inclusions[0].count",
     "could place only"),
    ([{"place": "triple_junctions", "count": 2, "radius_um": 1.0, "material": "insulator"}],
     "inclusions[0].place", "grains"),
])
def test_bad_inclusions_name_the_key(inclusions, key, words):
    with pytest.raises(SpecError, match=words) as err:
        cube(inclusions)
    assert err.value.key == key


def test_overlapping_inclusions_are_refused_before_meshing():
    """Sharing volume is refused with both keys (metal with metal is one body); a void too."""
    with pytest.raises(SpecError, match=r"overlaps inclusions\[0\]") as err:
        build_mesh(cube([sphere("metal"), sphere("insulator", centre=(0, 0, 11.0))]))
    assert err.value.key == "inclusions[1]"
    build_mesh(cube([sphere("metal"), sphere("metal", centre=(0, 0, 11.0))]))
    with pytest.raises(SpecError, match="overlaps a void"):
        build_mesh(cube([sphere("insulator", centre=(0, 0, 15.0))],
                        voids=[{"x_um": 0, "y_um": 0, "radius_um": 2, "height_um": 2, "depth_um": 2}]))


def test_placement_is_seeded_and_keeps_bodies_apart():
    table = {"place": "random", "count": 30, "seed": 4, "radius_um": 1.0, "material": "insulator", "eps_r": 8.0}
    a, b, c = cube([table]), cube([table]), cube([{**table, "seed": 5}])
    assert a.inclusions == b.inclusions and a.inclusions != c.inclusions
    centres = np.array([i.centre_um for i in a.inclusions])
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1) + np.eye(30) * 100
    assert gaps.min() > 2.0
    assert np.all(np.abs(centres[:, :2]) <= SIDE / 2 - 1.0)
    assert np.all((centres[:, 2] >= 1.0) & (centres[:, 2] <= SIDE - 1.0))
    assert a.to_dict()["inclusions"][0]["eps_r"] == 8.0   # placed bodies come back as explicit tables


def test_placement_on_voronoi_grain_boundaries_and_triple_junctions():
    """Sphere centres lie on a face between two grains (two nearest seeds equally far) or
    on an edge between three (three equally far)."""
    from constriction.geometry.grains import _voronoi_diagram
    grains = {"kind": "voronoi", "size_um": 5.0, "seed": 2}
    materials = {"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": 10.0},
                 "grain_boundary": {"sigma_S_per_m": 1e-3, "eps_r": 20.0, "thickness_um": 0.01}}
    vor, n, _ = _voronoi_diagram(make_spec(cell=CUBE, mesh={"order": 1}, grains=grains,
                                           materials=materials).cell, 5.0, 2)
    for place, equal in (("grain_boundaries", 2), ("triple_junctions", 3)):
        spec = make_spec(cell=CUBE, mesh={"order": 1}, grains=grains, materials=materials, inclusions=[
            {"place": place, "count": 10, "seed": 1, "radius_um": 0.3, "material": "insulator"}])
        for inclusion in spec.inclusions:
            d = np.sort(np.linalg.norm(vor.points - np.array(inclusion.centre_um), axis=1))
            assert d[equal - 1] == pytest.approx(d[0], rel=1e-6, abs=1e-9)


def test_estimate_counts_the_shells_around_inclusions():
    spec = cube([sphere("metal"), {"shape": "box", "centre_um": [5, 5, 5], "size_um": [2, 3, 2],
                                   "material": "insulator"}])
    mesh = build_mesh(spec)
    tetrahedra = sum(len(c.data) for c in mesh.cells if c.type == "tetra")
    assert estimate_elements(spec) == pytest.approx(tetrahedra, rel=0.3)


def test_insulating_particles_on_grain_boundaries_raise_the_grain_boundary_arc_only():
    """Layered grains (GB planes every 4 µm); spheres placed on the GB planes block part of
    each: the GB arc grows by more than the blocked area fraction, the bulk arc only by
    what the particles' volume takes from the bulk (the dilute Maxwell formula)."""
    materials = {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0},
                 "grain_boundary": {"sigma_S_per_m": 1e-3, "eps_r": 20.0, "thickness_um": 0.01}}
    particles = {"place": "grain_boundaries", "count": 12, "seed": 3, "radius_um": 1.0, "material": "insulator",
                 "eps_r": 10.0}
    f_between, f_high = 1.3e7, 1e12   # GB apex 9e5 Hz, bulk apex 1.8e8 Hz
    arcs = {}
    for name, inclusions in (("clean", []), ("particles", [particles])):
        spec = make_spec(cell=CUBE, mesh={"order": 1, "size_um": 2.0}, materials=materials, inclusions=inclusions,
                         grains={"kind": "layers", "size_um": 4.0})
        _, system = system_of(spec)
        R_dc = dc_resistance(system)[0]
        Z = 1 / sweep_direct(system, np.array([f_between, f_high]), progress=False).Y_S
        arcs[name] = (R_dc - Z[0].real, Z[0].real - Z[1].real)   # (GB arc, bulk arc)
    blocked = 12 * math.pi * 1.0**2 / (4 * SIDE**2)        # of the four GB planes' area
    phi = 12 * 4 / 3 * math.pi / SIDE**3
    gb_ratio = arcs["particles"][0] / arcs["clean"][0]
    bulk_ratio = arcs["particles"][1] / arcs["clean"][1]
    assert gb_ratio > 1 + blocked
    assert bulk_ratio == pytest.approx(1 + 1.5 * phi, abs=0.004)
    assert gb_ratio - 1 > 3 * (bulk_ratio - 1)


def test_the_split_counts_what_blocks_and_keeps_what_conducts():
    """Full contact on the cube: an insulating sphere is constriction (the reference fills
    it with electrolyte), a metal sphere is part of the cell (the reference keeps it)."""
    for material, constricts in (("insulator", True), ("metal", False)):
        result = run(cube([sphere(material)]), progress=False, error_estimate="never", cpe_fit=False, fields=False)
        c = result.summary.constriction
        assert c.R_bulk_ohm == pytest.approx(result.summary.R_dc_ohm if not constricts else
                                             SIDE * 1e-6 / (SIGMA * (SIDE * 1e-6) ** 2), rel=1e-9)
        assert (c.R_cstr_ohm > 0.005 * c.R_bulk_ohm) == constricts


def test_an_image_reports_its_floating_metal_too(tmp_path):
    """A metal cube floating in the middle of a labelled image (z: 22 voxels of electrolyte
    under 2 of metal): at half the potential by symmetry, with less current through it
    than through the cell."""
    labels = np.zeros((24, 24, 24), np.uint8)   # (z, y, x)
    labels[-2:] = 2
    labels[8:14, 9:15, 9:15] = 2
    np.save(tmp_path / "cube.npy", labels)
    spec = spec_from_dict({"image": {"path": str(tmp_path / "cube.npy"), "voxel_um": 1.0, "working_electrode": "+z",
                                     "labels": {"0": "electrolyte", "2": "metal"}},
                           "phases": {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": SIGMA, "eps_r": 10.0},
                                      "metal": {"kind": "metal"}},
                           "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2}})
    result = run(spec, progress=False, cpe_fit=False, split=False, error_estimate="never")
    (body,) = result.summary.metal_bodies
    assert body.potential_V == pytest.approx(0.5, abs=1e-9)
    assert 0 < body.current_through_A < 1 / result.summary.R_dc_ohm


def test_the_command_refuses_overlapping_inclusions_in_one_line(tmp_path, capsys):
    from constriction.cli import main
    spec = tmp_path / "overlap.toml"
    spec.write_text(
        '[cell]\nshape = "box"\nside_um = 20.0\nthickness_um = 20.0\n'
        '[materials.electrolyte]\nsigma_S_per_m = 1.0\neps_r = 10.0\n'
        '[sweep]\nf_min_Hz = 1.0\nf_max_Hz = 1e6\n'
        '[[inclusions]]\nshape = "sphere"\ncentre_um = [0, 0, 10]\nradius_um = 2\nmaterial = "metal"\n'
        '[[inclusions]]\nshape = "box"\ncentre_um = [0, 0, 12]\nsize_um = [1, 1, 1]\nmaterial = "insulator"\n')
    assert main(["run", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()   # progress lines, then the error
    assert err[-1] == (f"error: {spec}: inclusions[1]: overlaps inclusions[0] (touching is allowed, sharing "
                       f"volume is not, unless both are metal)")
    assert not any("Traceback" in line for line in err)
    assert not (tmp_path / "out").exists()
