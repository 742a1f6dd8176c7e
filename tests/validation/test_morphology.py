"""The morphology library: layouts, pores, voids, interphase and interface physics."""

import math

import matplotlib.image
import numpy as np
import pytest

from constriction import SpecError, load_spec
from constriction.geometry.tagged_mesh import UM
from constriction.solve.direct import DC_RTOL, dc_resistance, sweep_direct

from conftest import SIGMA, EPS_R, make_spec, slab_impedance, system_of

COARSE = {"order": 1, "size_um": 10.0}
BOX = {"shape": "box", "side_um": 60.0, "thickness_um": 100.0}
F = np.array([1.0, 1e3, 1e5, 1e7, 1e9])


# ---------------------------------------------------------------- layouts

def test_square_and_hex_arrays_fill_the_electrode_at_the_asked_fraction():
    for kind, n_expected in (("square", 21), ("hex", 19)):
        spec = make_spec(layout={"kind": kind, "period_um": 20.0, "contact_fraction": 0.1},
                         gap={"height_um": 0.5})
        assert len(spec.contacts) == n_expected
        cell_area = 400.0 if kind == "square" else 400.0 * math.sqrt(3) / 2
        assert math.pi * spec.contacts[0].radius_um**2 == pytest.approx(0.1 * cell_area)
        nearest = min(math.dist((a.x_um, a.y_um), (b.x_um, b.y_um))
                      for a in spec.contacts for b in spec.contacts if a != b)
        assert nearest == pytest.approx(20.0)


def test_random_layout_is_reproducible_from_its_seed():
    def layout(seed):
        return make_spec(layout={"kind": "random", "count": 12, "contact_fraction": 0.15, "seed": seed},
                         gap={"height_um": 0.5})
    assert layout(4).contacts == layout(4).contacts
    assert layout(4).contacts != layout(5).contacts
    spec = layout(4)
    assert len(spec.contacts) == 12
    assert spec.contact_area_um2 / spec.electrode_area_um2 == pytest.approx(0.15)


def test_contact_map_from_a_picture_file(tmp_path):
    picture = np.zeros((6, 8))
    picture[1:3, 2:5] = 1.0  # a 3 x 2 patch
    picture[4, 6] = 1.0      # and a single pixel
    matplotlib.image.imsave(tmp_path / "map.png", picture, cmap="gray", vmin=0, vmax=1)
    (tmp_path / "cell.toml").write_text("""
        [cell]
        shape = "box"
        side_um = 60.0
        thickness_um = 50.0
        [layout]
        kind = "image"
        image = "map.png"       # relative to this file
        pixel_um = 4.0
        [gap]
        height_um = 1.0
        [materials.electrolyte]
        sigma_S_per_m = 0.1
        eps_r = 10.0
        [sweep]
        f_min_Hz = 1.0
        f_max_Hz = 1e6
    """)
    spec = load_spec(tmp_path / "cell.toml")
    assert spec.contact_area_um2 == pytest.approx(7 * 16.0)
    tm, _ = system_of(spec)
    assert tm.facet_area_m2("contacts") / UM**2 == pytest.approx(7 * 16.0, rel=1e-9)


# ---------------------------------------------------------------- every geometry meshes

GEOMETRIES = {
    "square array": {"layout": {"kind": "square", "period_um": 30.0, "radius_um": 4.0}, "gap": {"height_um": 0.5}},
    "hex array": {"layout": {"kind": "hex", "period_um": 30.0, "radius_um": 4.0}, "gap": {"height_um": 0.5}},
    "random": {"layout": {"kind": "random", "count": 5, "contact_fraction": 0.05, "seed": 1},
               "gap": {"height_um": 0.5}},
    "image": {"layout": {"kind": "image", "pixels": [[0, 1, 0], [1, 1, 1], [0, 1, 0]], "pixel_um": 6.0},
              "gap": {"height_um": 1.0}},
    "flat and lens pores": {"pores": [{"x_um": -20.0, "y_um": 0.0, "radius_um": 10.0, "height_um": 2.0},
                                      {"x_um": 15.0, "y_um": 0.0, "radius_um": 12.0, "height_um": 4.0,
                                       "shape": "lens"}]},
    "voids": {"voids": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 20.0, "height_um": 2.0, "depth_um": 3.0}]},
    "interphase under spots": {"contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 8.0}],
                               "gap": {"height_um": 0.5},
                               "interphase": {"thickness_um": 1.0, "sigma_S_per_m": 0.01, "eps_r": 20.0}},
}


@pytest.mark.parametrize("name", GEOMETRIES)
def test_every_generated_geometry_meshes_and_conserves_current(name):
    spec = make_spec(mesh=COARSE, **GEOMETRIES[name])
    tm, system = system_of(spec)
    assert tm.facet_area_m2("contacts") / UM**2 == pytest.approx(spec.contact_area_um2, rel=0.01)
    R_dc, mismatch = dc_resistance(system)
    assert mismatch < 10 * DC_RTOL  # current in = current out to the DC solve's tolerance
    slab = 100 * UM / (SIGMA * np.pi * (50 * UM) ** 2)
    assert R_dc > 0.99 * slab


def test_pore_walls_belong_to_the_metal():
    """The metal side of a flat pore is its ceiling and wall; of a lens, the cap."""
    r, h = 10.0, 4.0
    for shape, metal_area in (("flat", math.pi * r**2 + 2 * math.pi * r * h),
                              ("lens", math.pi * (r**2 + h**2))):  # cap area 2 pi R_s h
        spec = make_spec(pores=[{"x_um": 0.0, "y_um": 0.0, "radius_um": r, "height_um": h, "shape": shape}],
                         mesh=COARSE)
        tm, _ = system_of(spec)
        pore_metal = (tm.facet_area_m2("we") - tm.facet_area_m2("contacts")) / UM**2
        assert pore_metal == pytest.approx(metal_area, rel=0.01)


def test_a_void_under_the_surface_raises_the_resistance():
    base = dc_resistance(system_of(make_spec(mesh=COARSE))[1])[0]
    voided = make_spec(voids=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 30.0, "height_um": 2.0, "depth_um": 2.0}],
                       mesh=COARSE)
    assert dc_resistance(system_of(voided)[1])[0] > 1.02 * base


def test_voids_float_when_shorted_within_rayleigh_bounds():
    """At R_inf each void is one floating equipotential. Rayleigh's monotonicity bounds it:
    conductors only lower the resistance (below the slab), and no more than a conductor
    filling the voids' heights over the whole cross-section would (above the slab less
    those heights). At DC the voids insulate: above the slab."""
    box = {"shape": "box", "side_um": 60.0, "thickness_um": 60.0}
    spec = make_spec(cell=box, mesh=COARSE, voids=[  # stacked: apart in depth, so allowed
        {"x_um": 0.0, "y_um": 0.0, "radius_um": 25.0, "height_um": 1.0, "depth_um": 10.0},
        {"x_um": 0.0, "y_um": 0.0, "radius_um": 10.0, "height_um": 1.0, "depth_um": 30.0}])
    _, system = system_of(spec)
    assert len(system.floating) == 2
    slab = 60 * UM / (SIGMA * (60 * UM) ** 2)
    R_inf = dc_resistance(system, short_gaps=True)[0]
    assert slab * (58 / 60) < R_inf < slab
    assert dc_resistance(system)[0] > 1.05 * slab


# ---------------------------------------------------------------- interface physics, closed forms

def test_surface_admittance_on_a_slab_is_R_ct_parallel_C_dl_in_series():
    R_ct, C_dl = 2.0, 1e-5  # ohm cm2, F/cm2
    spec = make_spec(cell=BOX, mesh=COARSE, interface={"R_ct_ohm_cm2": R_ct, "C_dl_F_per_cm2": C_dl})
    _, system = system_of(spec)
    A = (60 * UM) ** 2
    expected = slab_impedance(F, 100 * UM, A, SIGMA, EPS_R) + 1 / (A / (R_ct * 1e-4) + 2j * np.pi * F * C_dl * 1e4 * A)
    Z = 1 / sweep_direct(system, F, progress=False).Y_S
    np.testing.assert_allclose(Z, expected, rtol=1e-9)


@pytest.mark.parametrize("sweep", ["reduced", "direct"])
def test_charge_transfer_without_a_double_layer_is_r_ct_in_series_with_the_slab(sweep):
    """R_ct with C_dl = 0 (the default): the WE's metal has no capacitance of its own; the
    reduced model keeps R_ct / A in series (the reduced pencil once failed to factorise)."""
    from constriction import run
    R_ct = 2.0  # ohm cm2
    result = run(make_spec(cell=BOX, mesh=COARSE, interface={"R_ct_ohm_cm2": R_ct}), sweep=sweep, progress=False,
                 error_estimate="never",
                 fields=False, cpe_fit=False, split=False)
    A = (60 * UM) ** 2
    f = result.spectrum.frequency_Hz
    np.testing.assert_allclose(result.spectrum.Z_ohm, slab_impedance(f, 100 * UM, A, SIGMA, EPS_R) + R_ct * 1e-4 / A,
                               rtol=1e-9)


def test_blocking_electrode_has_no_dc_path():
    spec = make_spec(cell=BOX, mesh=COARSE, interface={"blocking": True, "C_dl_F_per_cm2": 1e-5})
    _, system = system_of(spec)
    assert dc_resistance(system)[0] == float("inf")
    A = (60 * UM) ** 2
    expected = slab_impedance(F, 100 * UM, A, SIGMA, EPS_R) + 1 / (2j * np.pi * F * 1e-5 * 1e4 * A)
    np.testing.assert_allclose(1 / sweep_direct(system, F, progress=False).Y_S, expected, rtol=1e-9)


def test_interphase_layer_is_a_second_slab_in_series():
    spec = make_spec(cell=BOX, mesh=COARSE,
                     interphase={"thickness_um": 2.0, "sigma_S_per_m": 0.003, "eps_r": 30.0})
    _, system = system_of(spec)
    A = (60 * UM) ** 2
    expected = slab_impedance(F, 98 * UM, A, SIGMA, EPS_R) + slab_impedance(F, 2 * UM, A, 0.003, 30.0)
    np.testing.assert_allclose(1 / sweep_direct(system, F, progress=False).Y_S, expected, rtol=1e-9)


SPOT = [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}]
PORES = [{"x_um": x, "y_um": 0.0, "radius_um": 8.0, "height_um": 0.5, "shape": "flat"} for x in (-15.0, 15.0)]


@pytest.mark.parametrize("morphology", [{"contacts": SPOT}, {"contacts": SPOT, "gap": {"height_um": 0.5}},
                                        {"pores": PORES}], ids=["spot", "spot under a gap", "pores"])
def test_charge_transfer_adds_R_ct_over_the_contact_area_when_it_dominates(morphology):
    """A large R_ct makes the current uniform on the contacts: R_dc -> R_cell + R_ct / A.
    Under a gap or beside pores the contacts' rims are also the edges of metal walls; the
    rims stay behind the interface (held at the metal's potential they would let the
    current past R_ct along a line, and R_dc would fall far below R_ct / A)."""
    ideal = dc_resistance(system_of(make_spec(mesh=COARSE, **morphology))[1])[0]
    R_ct = 100.0  # ohm cm2: R_ct / A = 1.3e8 ohm against ~5e5 of constriction
    tm, system = system_of(make_spec(mesh=COARSE, interface={"R_ct_ohm_cm2": R_ct}, **morphology))
    extra = dc_resistance(system)[0] - R_ct * 1e-4 / tm.facet_area_m2("contacts")
    # uniform current density spreads a little worse than the equipotential contacts (~8 %)
    assert ideal < extra < 1.15 * ideal


# ---------------------------------------------------------------- large pellets

def test_large_pellet_with_a_smaller_electrode_is_cheap_and_converges():
    """10 mm x 2 mm NZSP pellet, 7 mm electrode (specs/large_pellet.toml): the graded
    default mesh is small, R_dc converges under refinement, and the default is within
    1.5 % of the extrapolated limit. The limit lies a little above the long flux-tube
    formula: at L = 0.4 b the counter electrode sits inside the spreading zone."""
    from dataclasses import replace
    from pathlib import Path
    from conftest import flux_tube_resistance
    spec = load_spec(Path(__file__).resolve().parents[2] / "specs" / "large_pellet.toml")
    h = np.array([1.0, 0.7, 0.5])
    R, elements = [], []
    for refine in h:
        tm, system = system_of(replace(spec, mesh=replace(spec.mesh, refine=refine)))
        R.append(dc_resistance(system)[0])
        elements.append(tm.n_elements)
    assert elements[0] < 30_000
    d1, d2 = R[1] - R[0], R[2] - R[1]
    assert d1 > d2 > 0  # monotone, and the steps shrink
    # observed order from the three meshes: d1/d2 = (1 - r1^p)/(r1^p - r2^p), solved by bisection
    lo, hi = 0.1, 4.0
    for _ in range(60):
        mid = (lo + hi) / 2
        ratio = (1 - 0.7**mid) / (0.7**mid - 0.5**mid)
        lo, hi = (lo, mid) if ratio > d1 / d2 else (mid, hi)
    order = (lo + hi) / 2
    assert 0.5 < order < 4.5  # P2: R converges at most as h^4; measured 2.5 with the rim graded
    limit = R[2] + d2 * 0.5**order / (0.7**order - 0.5**order)
    assert R[0] == pytest.approx(limit, rel=0.015)
    a, b, L = spec.electrode.radius_um * UM, spec.cell.radius_um * UM, spec.cell.thickness_um * UM
    long_tube = flux_tube_resistance(a, b, L, spec.electrolyte.sigma_S_per_m)
    assert long_tube < limit < 1.05 * long_tube


# ---------------------------------------------------------------- bad input, before meshing

@pytest.mark.parametrize("tables, key, words", [
    ({"contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}, {"x_um": 8.0, "y_um": 0.0, "radius_um": 5.0}]},
     "contacts[1]", "overlaps"),
    ({"contacts": [{"x_um": 48.0, "y_um": 0.0, "radius_um": 5.0}]}, "contacts[0]", "edge"),
    ({"layout": {"kind": "random", "count": 10, "contact_fraction": 0.6, "seed": 0}, "gap": {"height_um": 1.0}},
     "layout.contact_fraction", "random packing"),
    ({"layout": {"kind": "random", "count": 2, "contact_fraction": 0.5, "seed": 0}, "gap": {"height_um": 1.0}},
     "layout.contact_fraction", "could place only"),
    ({"layout": {"kind": "square", "period_um": 10.0, "radius_um": 5.0}}, "layout.radius_um", "overlap"),
    ({"layout": {"kind": "image", "pixels": [[0, 0], [0, 0]], "pixel_um": 1.0}}, "layout.pixels", "no contact pixels"),
    ({"layout": {"kind": "image", "pixels": [[1, 1], [1, 1]], "pixel_um": 40.0}}, "layout.pixel_um", "past the electrode"),
    ({"electrode": {"metal_thickness_um": 2.0},
      "pores": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0, "height_um": 3.0}]},
     "pores[0].height_um", "taller than the metal"),
    ({"electrode": {"metal_thickness_um": 2.0}, "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}],
      "gap": {"height_um": 2.0}}, "gap.height_um", "taller than the metal"),
    ({"pores": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0, "height_um": 6.0, "shape": "lens"}]},
     "pores[0].height_um", "hemisphere"),
    ({"contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}],
      "pores": [{"x_um": 20.0, "y_um": 0.0, "radius_um": 5.0, "height_um": 1.0}]}, "pores", "full contact"),
    ({"voids": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0, "height_um": 50.0, "depth_um": 50.0}]},
     "voids[0].depth_um", "counter electrode"),
    ({"voids": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0, "height_um": 2.0, "depth_um": 2.0},
                {"x_um": 6.0, "y_um": 0.0, "radius_um": 5.0, "height_um": 2.0, "depth_um": 3.0}]},
     "voids[1]", "overlaps"),
    ({"interface": {"blocking": True}}, "interface.C_dl_F_per_cm2", "blocking"),
    ({"interface": {"R_ct_ohm_cm2": 1.0, "blocking": True}}, "interface.R_ct_ohm_cm2", "not both"),
])
def test_bad_morphology_is_refused_before_meshing(tables, key, words):
    with pytest.raises(SpecError) as err:
        make_spec(**tables)
    assert err.value.key == key
    assert words in err.value.reason
