"""Arc extraction on synthetic spectra with known answers, and on a solved cell."""

import numpy as np
import pytest

from constriction.analysis.arcs import Arc, ArcFit, apex_arcs, fit_arcs, fit_cpe_arc, regularised_drt
from constriction.solve.fem import EPS0
from constriction.solve.reduced import reduce
from constriction.analysis.spectrum import Spectrum
from constriction.solve.direct import dc_resistance

from conftest import make_spec, system_of

F = np.logspace(-2, 9, 111)
TRUE = ArcFit(R_inf_ohm=10.0, arcs=(Arc(R_ohm=100.0, C_F=1e-9), Arc(R_ohm=1000.0, C_F=1e-4)))


def test_fit_recovers_r_c_tau_of_two_arcs():
    fit = fit_arcs(Spectrum(F, TRUE.impedance(F)))
    assert fit.R_inf_ohm == pytest.approx(TRUE.R_inf_ohm, rel=1e-3)
    for got, want in zip(fit.arcs, TRUE.arcs):
        assert got.R_ohm == pytest.approx(want.R_ohm, rel=1e-3)
        assert got.C_F == pytest.approx(want.C_F, rel=1e-3)
        assert got.tau_s == pytest.approx(want.tau_s, rel=1e-3)


def test_apex_method_is_exact_for_one_arc_and_close_for_separated_arcs():
    single = ArcFit(R_inf_ohm=5.0, arcs=(Arc(R_ohm=250.0, C_F=3e-7),))
    (arc,) = apex_arcs(Spectrum(F, single.impedance(F)))
    assert arc.R_ohm == pytest.approx(250.0, rel=1e-9) and arc.C_F == pytest.approx(3e-7, rel=1e-9)

    arcs = apex_arcs(Spectrum(F, TRUE.impedance(F)))
    assert len(arcs) == 2
    for got, want in zip(arcs, TRUE.arcs):
        assert got.tau_s == pytest.approx(want.tau_s, rel=0.05)
        assert got.R_ohm == pytest.approx(want.R_ohm, rel=0.05)


def test_no_arc_is_a_clear_error():
    with pytest.raises(ValueError, match="no arc"):
        fit_arcs(Spectrum(F, np.full(F.shape, 42.0 + 0j)))


def test_constriction_arc_of_a_spot_under_a_gap():
    """The fitted arcs of a solved cell add up to its DC resistance, and the reduced
    model's pole-residue terms (its exact DRT) reproduce the spectrum it came from."""
    spec = make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}], gap={"height_um": 0.5},
                     mesh={"order": 1, "size_um": 10.0})
    _, system = system_of(spec)
    model = reduce(system, 1.0, 1e10, progress=False)
    f = np.logspace(0, 10, 101)
    Z = model.impedance(f)
    drt = sum(R / (1 + 2j * np.pi * f * tau) for R, tau in zip(model.resistances_ohm, model.relaxation_times_s))
    assert np.abs(drt / Z - 1).max() < 1e-6

    bulk, constriction = apex_arcs(Spectrum(f, Z))
    assert constriction.tau_s > 10 * bulk.tau_s
    R_dc, R_inf = dc_resistance(system)[0], dc_resistance(system, short_gaps=True)[0]
    # a constriction arc is not an ideal RC: its apex width is close to, not equal to, R_dc - R_inf
    assert constriction.R_ohm == pytest.approx(R_dc - R_inf, rel=0.03)
    # its capacitance is that of the gap over the electrode, eps0 pi b^2 / h
    assert constriction.C_F == pytest.approx(EPS0 * np.pi * (50e-6) ** 2 / 0.5e-6, rel=0.05)
    fit = fit_arcs(Spectrum(f, Z), n_arcs=2)
    assert np.abs(fit.impedance(f) / Z - 1).max() < 0.15  # fitted or, failing that, the apex start


def test_regularised_drt_finds_both_arcs_of_a_noisy_spectrum():
    rng = np.random.default_rng(1)
    Z = TRUE.impedance(F) * (1 + 0.002 * rng.standard_normal(F.size))  # 0.2 % noise
    drt = regularised_drt(Spectrum(F, Z))
    assert drt.R_inf_ohm == pytest.approx(TRUE.R_inf_ohm, rel=0.05)
    assert np.abs(drt.impedance(F) / TRUE.impedance(F) - 1).max() < 0.01
    for arc in TRUE.arcs:  # the mass of each peak, and where it sits
        near = np.abs(np.log10(drt.tau_s / arc.tau_s)) < 1.0
        assert drt.R_ohm[near].sum() == pytest.approx(arc.R_ohm, rel=0.02)
        peak = drt.tau_s[near][np.argmax(drt.R_ohm[near])]
        assert abs(np.log10(peak / arc.tau_s)) < 0.15


def test_cpe_fit_recovers_a_depressed_arc_and_an_ideal_one():
    R0, R, Q, alpha = 20.0, 500.0, 2e-7, 0.8
    Z = R0 + R / (1 + R * Q * (2j * np.pi * F) ** alpha)
    (start,) = apex_arcs(Spectrum(F, Z))
    r0, arc = fit_cpe_arc(Spectrum(F, Z), start, R_inf_ohm=0.0)
    assert (r0, arc.R_ohm, arc.Q, arc.alpha) == pytest.approx((R0, R, Q, alpha), rel=1e-3)
    ideal = ArcFit(R_inf_ohm=5.0, arcs=(Arc(R_ohm=300.0, C_F=1e-8),))
    _, arc = fit_cpe_arc(Spectrum(F, ideal.impedance(F)), Arc(R_ohm=200.0, C_F=3e-8), 1.0)
    # alpha = 1 is the upper bound of the fit: it stops just short of it
    assert arc.alpha == pytest.approx(1.0, abs=1e-4) and arc.C_F == pytest.approx(1e-8, rel=1e-3)
