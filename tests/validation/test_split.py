"""Static and dynamic constriction, and what `run` reports of them."""

import json

import numpy as np
import pytest

from constriction import run, write_result
from constriction.geometry.tagged_mesh import UM
from constriction.geometry.reference_cells import constriction_split, full_electrode, full_face
from constriction.solve.direct import dc_resistance

from conftest import SIGMA, flux_tube_resistance, make_spec, system_of

COARSE = {"order": 1, "size_um": 10.0}


def test_single_spot_split_adds_up_and_matches_the_flux_tube(spot_spec):
    tm, system = system_of(spot_spec)
    R_dc, _ = dc_resistance(system)
    split = constriction_split(spot_spec, R_dc)
    assert split.R_bulk_ohm + split.R_cstr_ohm == pytest.approx(R_dc, rel=1e-12)
    assert split.R_static_ohm + split.R_dynamic_ohm == pytest.approx(split.R_cstr_ohm, rel=1e-12)
    assert split.R_static_ohm == 0.0  # the electrode is the whole face: no static constriction
    assert split.R_bulk_ohm == pytest.approx(100 * UM / (SIGMA * tm.facet_area_m2("ce")), rel=2e-3)
    spreading = flux_tube_resistance(5 * UM, 50 * UM, 100 * UM, SIGMA) - 100 * UM / (SIGMA * np.pi * (50 * UM) ** 2)
    assert split.R_dynamic_ohm == pytest.approx(spreading, rel=0.01)


def test_small_electrode_is_static_constriction_growing_off_centre():
    R = {}
    for offset in (0.0, 20.0):
        spec = make_spec(electrode={"radius_um": 20.0, "offset_um": [offset, 0.0]}, mesh=COARSE)
        R[offset] = dc_resistance(system_of(spec)[1])[0]
        split = constriction_split(spec, R[offset])
        assert split.R_dynamic_ohm == 0.0  # full contact under the electrode
        assert split.R_static_ohm > 0.1 * split.R_bulk_ohm
    assert R[20.0] > R[0.0]  # off-centre raises R_dc (thesis Fig. 2b)


def test_reference_cells_keep_cell_and_mesh():
    spec = make_spec(electrode={"radius_um": 20.0}, contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}],
                     gap={"height_um": 0.5})
    assert full_electrode(spec).electrode == spec.electrode and full_electrode(spec).full_contact
    assert full_face(spec).electrode.radius_um is None and not full_face(spec).has_gap
    assert full_face(spec).mesh == spec.mesh and full_face(spec).cell == spec.cell


def test_run_reports_split_arc_and_normalisations(tmp_path):
    spec = make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}], gap={"height_um": 0.5},
                     mesh=COARSE)
    result = run(spec, progress=False, error_estimate="never")
    paths = write_result(result, tmp_path / "r")
    summary = json.loads(paths["summary"].read_text())
    c = summary["constriction"]
    assert c["R_bulk_ohm"] + c["R_cstr_ohm"] == pytest.approx(summary["R_dc_ohm"], rel=1e-12)
    # the constriction arc spans R_dc - R_inf, its capacitance is the gap's, eps0 pi b^2 / h
    assert c["arc"]["R_arc_ohm"] == pytest.approx(summary["R_dc_ohm"] - summary["R_inf_ohm"], rel=0.03)
    assert c["arc"]["C_cstr_F"] == pytest.approx(8.8541878128e-12 * np.pi * (50 * UM) ** 2 / (0.5 * UM), rel=0.05)
    # the R || CPE fit (impedance.py) of the same arc: nearly ideal, the same R and C
    cpe = c["arc_cpe"]
    assert 0.9 < cpe["alpha"] <= 1.0
    assert cpe["R_arc_ohm"] == pytest.approx(c["arc"]["R_arc_ohm"], rel=0.1)
    assert cpe["C_cstr_F"] == pytest.approx(c["arc"]["C_cstr_F"], rel=0.2)
    n = summary["normalisation"]
    assert n["ohm_cm2_geometric"] == pytest.approx(np.pi * 50**2 * 1e-8)
    assert n["ohm_cm2_contact"] == pytest.approx(np.pi * 5**2 * 1e-8)
    assert n["ohm_cm_cell_constant"] == pytest.approx(np.pi * 50**2 * 1e-8 / 1e-2)
    # A_El,cal = d / (sigma R_ser) recovers the electrode area when R_ser is the bulk resistance
    assert n["ohm_cm2_calibrated"] == pytest.approx(n["ohm_cm2_geometric"], rel=0.01)
    assert summary["contact_current_density"]["mean_A_per_m2_per_V"] == pytest.approx(
        1 / summary["R_dc_ohm"] / (np.pi * (5 * UM) ** 2), rel=0.01)
    for plot in ("nyquist plot", "bode plot", "drt plot", "equipotentials plot", "current plot"):
        assert paths[plot].stat().st_size > 10_000
    assert paths["fields (VTK)"].is_file() and paths["DRT"].is_file()


def test_blocking_cell_writes_valid_json_with_null_resistance(tmp_path):
    spec = make_spec(contacts=[], gap={"height_um": 0.5}, mesh=COARSE)
    paths = write_result(run(spec, progress=False, error_estimate="never"), tmp_path / "r")
    summary = json.loads(paths["summary"].read_text())
    assert summary["R_dc_ohm"] is None and summary["constriction"]["R_dynamic_ohm"] is None
    assert summary["R_inf_ohm"] > 0
