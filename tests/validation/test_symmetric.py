"""Symmetric cells ([cell] counter = "mirror"): the WE's morphology mirrored on the CE."""

import numpy as np
import pytest

from constriction import run, spec_from_dict
from constriction.reference import slab_impedance
from constriction.solve.direct import DC_RTOL
from constriction.units import EPS0

from cases import TINY_SPEC, refused

SIDE = 20.0
A = (SIDE * 1e-6) ** 2


def mirrored(L=20.0, refine=1.0, **tables):
    return spec_from_dict({"cell": {"shape": "box", "side_um": SIDE, "thickness_um": L, "counter": "mirror"},
                           "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
                           "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2},
                           "mesh": {"size_um": 5.0, "order": 1, "refine": refine}, **tables})


def test_a_mirrored_full_contact_is_the_slab_and_mirrored_gaps_are_two_capacitors():
    f = np.logspace(0, 9, 19)
    slab = slab_impedance(f, 20e-6, A, 0.1, 10.0)
    full = run(mirrored(), progress=False, error_estimate="never")
    np.testing.assert_allclose(full.spectrum.Z_ohm, slab, rtol=1e-9)
    assert full.summary.symmetric.spectral_relative_deviation < 1e-9
    gapped = run(mirrored(contacts=[], gap={"height_um": 0.5}), progress=False, error_estimate="never")
    gap = 1 / (2j * np.pi * f * EPS0 * A / 0.5e-6)
    np.testing.assert_allclose(gapped.spectrum.Z_ohm, slab + 2 * gap, rtol=1e-9)
    assert gapped.summary.symmetric.spectral_relative_deviation < 1e-8  # each gap in series, exactly


SPOT = {"contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 3.0}], "gap": {"height_um": 0.5}}


def test_a_mirrored_interface_admittance_is_two_r_ct_c_dl_in_series_with_the_slab():
    """R_ct || C_dl on both faces (each its own metal unknown, the CE's at 0 V): a
    mirrored full contact is the slab plus two interface impedances, exactly; the single
    cell against it has one, and Z_sym = 2 Z_single - Z_bulk holds exactly too."""
    R_ct, C_dl = 2.0, 1e-5  # ohm cm², F/cm²
    result = run(mirrored(interface={"R_ct_ohm_cm2": R_ct, "C_dl_F_per_cm2": C_dl}), progress=False,
                 error_estimate="never")
    f = result.spectrum.frequency_Hz
    interface = R_ct * 1e-4 / (1 + 2j * np.pi * f * R_ct * C_dl) / A
    np.testing.assert_allclose(result.spectrum.Z_ohm, slab_impedance(f, 20e-6, A, 0.1, 10.0) + 2 * interface,
                               rtol=1e-9)
    assert result.summary.symmetric.spectral_relative_deviation < 1e-8
    assert result.summary.symmetric.R_interface_ohm == pytest.approx(R_ct * 1e-4 / A, rel=1e-9)
    # a spot under a gap with R_ct on each face, 20 spot radii apart: two interfaces and a bulk
    spots = run(mirrored(L=60.0, interface={"R_ct_ohm_cm2": 0.5, "C_dl_F_per_cm2": C_dl}, **SPOT), progress=False,
                error_estimate="never",
                fields=False, cpe_fit=False).summary
    assert spots.symmetric.spectral_relative_deviation < 0.005 and spots.conservation.worst < 10 * DC_RTOL


def test_a_thick_symmetric_cell_is_two_interfaces_and_one_bulk_a_thin_one_is_not():
    """One spot on each face: in a pellet 20 spot radii thick the two constriction zones do
    not meet, R_sym = 2 R_single - R_bulk within the mesh error; 2 radii thick they
    overlap and R_sym is lower, by an amount the summary reports and that converges
    under refinement."""
    thick = run(mirrored(L=60.0, **SPOT), progress=False, error_estimate="never", fields=False).summary
    assert abs(thick.symmetric.relative_deviation) < 0.005
    assert thick.symmetric.spectral_relative_deviation < 0.005  # Z_sym = 2 Z_single - Z_bulk at every f
    assert thick.symmetric.R_interface_ohm > 0 and thick.conservation.worst < 10 * DC_RTOL
    thin = [run(mirrored(L=6.0, refine=r, **SPOT), progress=False, error_estimate="never",
                fields=False).summary.symmetric
            for r in (1.0, 0.7)]
    assert all(s.relative_deviation < -0.05 for s in thin)
    assert all(s.spectral_relative_deviation > (1 - 1e-9) * abs(s.relative_deviation) for s in thin)  # 1 Hz ~ DC
    assert thin[1].relative_deviation == pytest.approx(thin[0].relative_deviation, rel=0.1)
    assert thin[1].spectral_relative_deviation == pytest.approx(thin[0].spectral_relative_deviation, rel=0.1)


def test_r_inf_of_a_symmetric_cell_shorts_each_gap_to_its_own_electrode():
    """With every gap shorted (R_inf) both faces are in full contact: the slab, exactly.
    (The CE's gaps were once shorted to the WE: R_inf fell below the slab's.)"""
    summary = run(mirrored(L=20.0, **SPOT), progress=False, fields=False, cpe_fit=False).summary
    assert summary.R_inf_ohm == pytest.approx(20e-6 / (0.1 * A), rel=1e-9)
    bracket = summary.discretisation.R_inf_bracket  # the mixed solve shorts each gap to its own electrode too
    assert bracket.upper_ohm == pytest.approx(20e-6 / (0.1 * A), rel=1e-9) and bracket.error_ohm == 0.0
    assert summary.constriction.arc.R_arc_ohm == pytest.approx(summary.R_dc_ohm - summary.R_inf_ohm, rel=1e-12)


def test_mirrored_pores_are_two_interfaces_in_a_thick_pellet_and_short_to_their_own_electrode():
    """A flat pore in the metal on each face: 30 pore radii apart they barely interact
    (R_sym = 2 R_single - R_bulk to 1e-3 at every frequency), 3 apart somewhat more; with
    the pores shorted (R_inf) each face is in full contact, the slab exactly."""
    pores = {"pores": [{"x_um": 3.0, "y_um": 2.0, "radius_um": 4.0, "height_um": 0.5, "shape": "flat"}],
             "electrode": {"metal_thickness_um": 5.0}}
    deviation = {}
    for L in (60.0, 6.0):
        summary = run(mirrored(L=L, **pores), progress=False, error_estimate="never", fields=False,
                      cpe_fit=False).summary
        assert summary.R_inf_ohm == pytest.approx(L * 1e-6 / (0.1 * A), rel=1e-9)
        assert summary.R_dc_ohm > summary.R_inf_ohm and summary.conservation.worst < 10 * DC_RTOL
        deviation[L] = summary.symmetric.spectral_relative_deviation
    assert deviation[60.0] < 1e-3 < deviation[6.0]


@pytest.mark.parametrize("extra, words", [
    ("[interphase]\nthickness_um = 1.0\nsigma_S_per_m = 0.01\neps_r = 10.0\n", ["interphase", "mirror"]),
    ("[[voids]]\nx_um = 0.0\ny_um = 0.0\nradius_um = 1.0\nheight_um = 1.0\ndepth_um = 5.0\n", ["voids", "mirror"]),
])
def test_what_a_mirrored_counter_electrode_does_not_take_yet_is_refused(place, capsys, extra, words):  # noqa: F811
    spec = TINY_SPEC.replace('side_um = 20.0', 'side_um = 20.0\ncounter = "mirror"') + extra
    (place / "bad.toml").write_text(spec)
    refused(["run", "bad.toml", "--out", "res"], place, *words, capsys=capsys)


def test_a_reference_electrode_on_the_mid_plane_of_a_symmetric_cell_reads_half():
    """By the mirror symmetry the mid-plane is at half the cell voltage at every frequency:
    a probe there splits Z_sym in two equal halves (to the mesh's asymmetry)."""
    spec = mirrored(L=10.0, probes=[{"name": "RE", "x_um": 5.0, "y_um": 2.0, "depth_um": 5.0}], **SPOT)
    result = run(spec, progress=False, error_estimate="never", fields=False)
    np.testing.assert_allclose(result.probes.Z_we_re_ohm[0] / result.spectrum.Z_ohm, 0.5, rtol=5e-3)
