"""Reference electrodes ([[probes]]): three-electrode impedances from the same solutions."""

import re

import numpy as np
import pytest

from constriction import run, spec_from_dict
from constriction.cli import main

from axisymmetric import flux_tube_probe
from cases import TINY_SPEC, refused
from conftest import SIGMA, EPS_R, make_spec

SLAB = {"cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
        "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
        "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2}}


@pytest.mark.parametrize("order, sweep", [(1, "reduced"), (2, "reduced"), (1, "direct")])
def test_a_probe_in_a_uniform_slab_reads_its_share_of_the_cell_impedance(order, sweep):
    """Full contact: the potential is linear in depth at every frequency, so a probe d below
    the WE of a cell L thick reads Z_WE-RE = (d / L) Z_cell exactly (mid-plane: half; a
    ring in the mid-plane as well)."""
    probes = [{"name": "mid", "x_um": 3.0, "y_um": -2.0, "depth_um": 10.0}, {"name": "deep", "depth_um": 15.0},
              {"name": "shallow", "x_um": -7.0, "depth_um": 1.3},
              {"name": "ring", "x_um": 1.0, "radius_um": 6.0, "depth_um": 10.0}]
    result = run(spec_from_dict({**SLAB, "mesh": {"size_um": 5.0, "order": order}, "probes": probes}),
                 sweep=sweep, progress=False)
    Z, p = result.spectrum.Z_ohm, result.probes
    for k, share in enumerate([0.5, 0.75, 1.3 / 20, 0.5]):
        np.testing.assert_allclose(p.Z_we_re_ohm[k], share * Z, rtol=1e-9)
        np.testing.assert_allclose(p.Z_we_re_ohm[k] + p.Z_re_ce_ohm[k], Z, rtol=1e-12)
    assert [s.name for s in result.summary.probes] == ["mid", "deep", "shallow", "ring"]


def test_a_probe_beside_a_constricted_contact_sees_less_than_its_depth_share(tmp_path, monkeypatch, capsys):
    """Under a small spot the potential drops within a few radii of it: a probe deep in the
    cell but near the surface far from the spot reads close to the potential there, which
    is below 1 - depth / L (the constriction sits between WE and probe). The columns of
    terminals.csv say what they hold."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spot.toml").write_text(TINY_SPEC + '[[probes]]\nname = "RE"\nx_um = 7.0\ny_um = 7.0\ndepth_um = 2.0\n')
    assert main(["run", "spot.toml", "--out", "res"]) == 0
    out = capsys.readouterr().out
    assert "probe RE (2 µm below the WE)" in out and "terminals.csv" in out
    header = (tmp_path / "res" / "terminals.csv").read_text().splitlines()[0].split(",")
    assert header == ["frequency_Hz", "Z_cell_real_ohm", "Z_cell_imag_ohm", "Z_WE_RE_real_ohm", "Z_WE_RE_imag_ohm",
                      "Z_RE_CE_real_ohm", "Z_RE_CE_imag_ohm"]
    data = np.loadtxt(tmp_path / "res" / "terminals.csv", delimiter=",", skiprows=1)
    share = data[0, 3] / data[0, 1]  # Z_WE-RE / Z_cell at the lowest frequency
    assert 1 - 2.0 / 20 > share > 0.5  # most of the drop is the constriction, between WE and probe
    np.testing.assert_allclose(data[:, 3] + data[:, 5], data[:, 1], rtol=1e-9)
    # read back for `constriction plot`, which draws WE-RE over the cell's Nyquist plot
    from constriction.analysis.probes import ProbeImpedances
    back = ProbeImpedances.from_csv(tmp_path / "res" / "terminals.csv")
    assert back.names == ("RE",)
    np.testing.assert_allclose(back.Z_we_re_ohm[0], data[:, 3] + 1j * data[:, 4], rtol=1e-10)
    (tmp_path / "res" / "nyquist.png").unlink()
    assert main(["plot", "res", "--kind", "nyquist"]) == 0
    assert (tmp_path / "res" / "nyquist.png").stat().st_size > 10_000


RING_RADII_UM = (12.0, 15.0, 25.0, 40.0)


def test_a_ring_beside_a_small_electrode_reads_the_axisymmetric_potential():
    """A disk WE (a = 10 µm) on a pellet (b = 50 µm, L = 100 µm), rings on the free top face
    around it: each reads the potential the 2D axisymmetric solution has at its radius
    (tests/axisymmetric.py; a point (r, z) there is a ring), converging under refinement."""
    a, b, L = 10.0, 50.0, 100.0
    _, reference = flux_tube_probe([1.0], a * 1e-6, b * 1e-6, L * 1e-6, SIGMA, EPS_R,
                                   np.array([[r * 1e-6 for r in RING_RADII_UM], [L * 1e-6] * len(RING_RADII_UM)]))
    error = {}
    for refine in (2.0, 1.0):
        spec = make_spec(electrode={"radius_um": a}, mesh={"refine": refine},
                         probes=[{"name": f"ring{k}", "radius_um": r, "depth_um": 0.0} for k, r in enumerate(RING_RADII_UM)])
        phi = run(spec, progress=False, error_estimate="never", split=False, fields=False,
                  cpe_fit=False).probes.potential_V[:, 0]
        error[refine] = np.max(np.abs(phi - reference[0]) / np.abs(reference[0]))
    assert error[1.0] < 0.4 * error[2.0] and error[1.0] < 3e-3, error


def test_a_ring_moving_away_from_the_electrode_picks_up_more_electrolyte():
    """With an interface R_ct || C_dl on the WE, Z_WE-RE is the interface plus the
    electrolyte between the WE and the ring's potential: above the interface alone, below
    the cell, growing as the ring moves out (the uncompensated resistance of a coplanar
    reference). Well below the interface's relaxation (16 kHz) that part is a constant
    resistance; near it the current under the electrode moves to its rim and the part
    changes with frequency: the distortion a coplanar reference adds to the arc."""
    a, R_ct, C_dl = 10.0, 1.0, 1e-5
    spec = make_spec(electrode={"radius_um": a}, mesh={"refine": 2.0}, interface={"R_ct_ohm_cm2": R_ct, "C_dl_F_per_cm2": C_dl},
                     probes=[{"name": f"ring{k}", "radius_um": r, "depth_um": 0.0} for k, r in enumerate(RING_RADII_UM)])
    result = run(spec, progress=False, error_estimate="never", split=False, fields=False, cpe_fit=False)
    f, Z = result.spectrum.frequency_Hz, result.spectrum.Z_ohm
    Z_interface = R_ct / (1 + 2j * np.pi * f * R_ct * C_dl) / (np.pi * (a * 1e-4) ** 2)
    uncompensated = result.probes.Z_we_re_ohm - Z_interface   # (rings, frequencies)
    low = f < 100.0
    assert np.all(np.diff(uncompensated[:, 0].real) > 0) and np.all(uncompensated[:, 0].real > 0)
    assert np.all(result.probes.Z_we_re_ohm[:, 0].real < Z[0].real)
    np.testing.assert_allclose(uncompensated[:, low], uncompensated[:, :1] * np.ones(low.sum()), rtol=1e-3)
    distortion = np.abs(uncompensated - uncompensated[:, :1])[:, f < 1e6].max(axis=1)
    assert np.all(distortion > 0.05 * uncompensated[:, 0].real)


@pytest.mark.parametrize("probe, words", [
    ('depth_um = 0.0', ["probes[0].depth_um", "working electrode"]),
    ('depth_um = 20.0', ["probes[0].depth_um", "counter electrode"]),
    ('x_um = 30.0\ndepth_um = 5.0', ["probes[0]", "outside the electrolyte"]),
    ('name = "a b"\ndepth_um = 5.0', ["probes[0].name"]),
    ('radius_um = 12.0\ndepth_um = 5.0', ["probes[0]", "outside the electrolyte"]),
    ('radius_um = -1.0\ndepth_um = 5.0', ["probes[0].radius_um"]),
])
def test_a_probe_that_is_not_in_the_electrolyte_is_refused(place, capsys, probe, words):
    (place / "bad.toml").write_text(TINY_SPEC + "[[probes]]\n" + probe + "\n")
    refused(["run", "bad.toml", "--out", "res"], place, *words, capsys=capsys)


@pytest.mark.parametrize("ring", [{"radius_um": 10.0}, {"radius_um": 4.0, "x_um": 12.0}, {"radius_um": 0.0, "x_um": 5.0}])
def test_a_reference_on_the_we_face_that_touches_the_electrode_is_refused(ring):
    from constriction import SpecError
    with pytest.raises(SpecError, match="touches the working electrode"):
        make_spec(electrode={"radius_um": 10.0}, probes=[{"name": "RE", "depth_um": 0.0, **ring}])


WIRE = {"shape": "cylinder", "start_um": [-30.0, 20.0, 50.0], "end_um": [30.0, 20.0, 50.0], "radius_um": 5.0,
        "material": "metal"}


@pytest.mark.parametrize("sweep", ["direct", "reduced"])
def test_a_metal_wire_reference_makes_a_symmetric_passive_admittance_matrix(sweep):
    """A Na wire through the pellet, floating: a terminal of Y(s) beside the WE and the CE.
    Y is symmetric (reciprocity) and passive, its rows sum to zero, and the impedances a
    potentiostat reads from it (the wire drawing no current) are those of the sweep and
    of the wire's own potential: to round-off after the direct sweep, to the reduced
    model's tolerance after it."""
    from constriction.solve.terminals import three_electrode
    spec = make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 10.0}], gap={"height_um": 0.5},
                     inclusions=[WIRE], probes=[{"name": "wire", "inclusion": 0}],
                     mesh={"refine": 3.0, "order": 1, "size_um": 20.0})
    result = run(spec, sweep=sweep, progress=False, error_estimate="never", fields=False, cpe_fit=False, split=False)
    Y = result.admittance.Y_S
    assert result.admittance.names == ("WE", "CE", "wire")
    scale = np.abs(Y).max(axis=(1, 2))[:, None, None]
    assert np.all(np.abs(Y - np.swapaxes(Y, 1, 2)) < 1e-12 * scale)
    assert np.all(np.abs(Y.sum(axis=2)) < 1e-9 * scale[:, :, 0])
    assert np.all(np.linalg.eigvalsh((Y + np.conj(np.swapaxes(Y, 1, 2))) / 2) > -1e-12 * scale[:, :, 0])
    Z_cell, Z_we_re, Z_re_ce = three_electrode(Y, 0, 1, 2)
    rtol = 1e-9 if sweep == "direct" else 1e-5
    np.testing.assert_allclose(Z_cell, result.spectrum.Z_ohm, rtol=rtol)
    np.testing.assert_allclose(Z_we_re, result.probes.Z_we_re_ohm[0], rtol=rtol)
    np.testing.assert_allclose(Z_we_re + Z_re_ce, Z_cell, rtol=1e-12)
    assert result.summary.terminals.asymmetry < 1e-12 and result.summary.terminals.passivity > -1e-12


@pytest.mark.parametrize("wire, probe, words", [
    ({"shape": "box", "centre_um": [20.0, 0.0, 2.0], "size_um": [10.0, 10.0, 4.0], "material": "metal"},
     {"inclusion": 0}, "touches an electrode"),   # a block standing on the CE
    (WIRE, {"inclusion": 1}, "inclusions[1] does not exist"),
    (WIRE, {"inclusion": 0, "twice": True}, "inclusions[0] is another probe's already"),
    ({**WIRE, "material": "insulator"}, {"inclusion": 0}, "a reference electrode is metal"),
])
def test_a_metal_reference_that_does_not_float_or_is_not_metal_is_refused(wire, probe, words):
    from constriction import SpecError
    with pytest.raises(SpecError, match=words.replace("[", r"\[").replace("]", r"\]")):
        probe = dict(probe)
        twice = probe.pop("twice", False)
        probes = [{"name": "RE", **probe}] + ([{"name": "RE2", **probe}] if twice else [])
        spec = make_spec(inclusions=[wire], probes=probes, mesh={"refine": 2.0, "order": 1})
        run(spec, progress=False, error_estimate="never", fields=False, cpe_fit=False, split=False)


def _pocket_cell(tmp_path, nz=12, k0=4, wire=((1, 6),)):
    """A 4 x 4 electrolyte column between the WE (metal on top) and the CE, in glass, with
    a dead-end pocket opening into it at layer k0; `wire` voxels (y, x) of label 3 in it."""
    a = np.full((nz, 4, 8), 1, np.uint8)   # (z, y, x) as a stack: 1 glass
    a[:, :, :4] = 0
    a[-1, :, :4] = 2
    a[k0, 1:3, 4:7] = 0
    for y, x in wire:
        a[k0, y, x] = 3
    np.save(tmp_path / "pocket.npy", a)
    return {"image": {"path": str(tmp_path / "pocket.npy"), "voxel_um": 1.0,
                      "labels": {"0": "electrolyte", "1": "glass", "2": "sodium", "3": "wire"}},
            "phases": {"electrolyte": {"kind": "electrolyte", "sigma_S_per_m": 0.1, "eps_r": 10.0},
                       "glass": {"kind": "insulator", "eps_r": 5.0}, "sodium": {"kind": "metal"},
                       "wire": {"kind": "metal"}},
            "probes": [{"name": "RE", "phase": "wire"}],
            "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2}}


def test_a_metal_label_in_a_dead_end_pocket_reads_the_potential_where_it_opens(tmp_path):
    """No current enters the pocket at DC, so the reference in it (a metal label of the
    image) reads the column's potential at the layer it opens from: exactly (k0 + 1/2) /
    (nz - 1) for cell-centred voxels in a uniform column. It is also a terminal of Y(s)."""
    nz, k0 = 12, 4
    result = run(spec_from_dict(_pocket_cell(tmp_path, nz, k0)), progress=False, error_estimate="never")
    np.testing.assert_allclose(result.probes.potential_V[0, 0].real, (k0 + 0.5) / (nz - 1), rtol=1e-9)
    assert result.summary.probes[0].body == "phase wire"
    assert result.admittance.names == ("WE", "CE", "RE") and result.summary.terminals.asymmetry < 1e-12
    from constriction import write_result
    from constriction.io.summary import Summary
    write_result(result, tmp_path / "res")  # its place is unknown (NaN): null in summary.json, NaN back
    back = Summary.read(tmp_path / "res" / "summary.json")
    assert np.isnan(back.probes[0].depth_um) and (tmp_path / "res" / "admittance.csv").is_file()


@pytest.mark.parametrize("change, words", [
    (lambda d: d["phases"]["wire"].update(kind="insulator", eps_r=3.0), "probes[0].phase: must name a metal phase"),
    (lambda d: d["probes"].append({"name": "RE", "phase": "wire"}), "probes[1].name"),
    (lambda d: d["probes"].append({"name": "RE2", "phase": "wire"}), "probes[1].phase: 'wire' is another probe's"),
])
def test_an_image_reference_that_is_not_a_metal_phase_is_refused(tmp_path, change, words):
    from constriction import SpecError
    data = _pocket_cell(tmp_path)
    change(data)
    with pytest.raises(SpecError, match=re.escape(words)):
        spec_from_dict(data)


@pytest.mark.parametrize("k0, wire, words", [(4, ((1, 4), (1, 6)), "makes 2 separate metal bodies"),
                                              (10, ((1, 3), (1, 4)), "touches an electrode")])  # under the WE
def test_an_image_reference_that_does_not_make_one_floating_body_is_refused(tmp_path, k0, wire, words):
    from constriction import SpecError
    data = _pocket_cell(tmp_path, k0=k0, wire=wire)
    with pytest.raises(SpecError, match=words):
        run(spec_from_dict(data), progress=False, error_estimate="never")


def test_a_point_probe_inside_a_floating_ball_reads_the_ball_with_an_interface_admittance():
    """Merged metal bodies and the metal unknown of a surface admittance together: a point
    inside a floating ball reads the ball's own potential (they once had a row too short)."""
    spec = make_spec(inclusions=[{"shape": "sphere", "centre_um": [10.0, 0.0, 50.0], "radius_um": 5.0,
                                  "material": "metal"}],
                     interface={"R_ct_ohm_cm2": 1.0, "C_dl_F_per_cm2": 1e-5},
                     probes=[{"name": "inside", "x_um": 11.0, "depth_um": 51.0}, {"name": "ball", "inclusion": 0}],
                     mesh={"refine": 2.0, "order": 1})
    result = run(spec, progress=False, error_estimate="never", fields=False, cpe_fit=False, split=False)
    phi = result.probes.potential_V[:, 0]
    assert phi[0] == pytest.approx(phi[1], rel=1e-12)
    assert abs(phi[0]) == pytest.approx(result.summary.metal_bodies[0].potential_V, rel=1e-9)
