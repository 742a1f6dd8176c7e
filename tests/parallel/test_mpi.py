"""The image's DC solves over MPI ranks (parallel/) against the serial run, under
`mpiexec -n 2 python -m pytest -m mpi -n 0 tests/parallel` (what .ci/run does; one
rank works too). Every rank runs every test; each writes the same image into its own tmp_path."""

import json
import math

import numpy as np
import pytest

from cases import MPI_LABELS, MPI_PHASES, mpi_image
from constriction import run, spec_from_dict
from constriction.parallel.run import NO_BRACKETS

pytestmark = pytest.mark.mpi
mpi = pytest.importorskip("constriction.parallel.mpi")
if not mpi.petsc_installed():
    pytest.skip("petsc4py and mpi4py are not installed here", allow_module_level=True)


def image_spec(tmp_path, n: int, case: str, face: str = "+z"):
    """mpi_image's cell saved so that its WE lies on `face` of the file."""
    path = tmp_path / f"{case}{n}.npy"
    turned = np.transpose(mpi_image(n, case), (2, 1, 0))   # as solved: the WE at the end of the last axis
    if face[0] == "-":
        turned = turned[:, :, ::-1]
    order = {"z": (2, 1, 0), "y": (2, 0, 1), "x": (1, 0, 2)}[face[1]]  # image/read.py's turn, undone
    np.save(path, np.ascontiguousarray(np.transpose(turned, np.argsort(order))))
    return spec_from_dict({"image": {"path": str(path), "voxel_um": [1.0, 1.5, 2.0], "labels": MPI_LABELS,
                                     "working_electrode": face},
                           "phases": MPI_PHASES, "sweep": {"kind": "dc"}}, name=f"{case}{n}")


def numbers(summary) -> dict:
    t = summary.transport
    return {"R_dc": summary.R_dc_ohm, "R_inf": summary.R_inf_ohm, "R_bulk": summary.constriction.R_bulk_ohm,
            "sigma_eff": t.sigma_eff_S_per_m, "percolating": t.percolating_fraction,
            "conducting": t.conducting_fraction, "contact": summary.contact_area_um2, "unknowns": summary.dofs}


@pytest.mark.parametrize("case", ["porous", "interface"])
def test_the_ranks_give_the_serial_numbers(tmp_path, case):
    """48³, a floating metal body across the bands' edge, gas against the WE and a void,
    two electrolytes: R_dc, R_inf, R_bulk and the transport numbers within 1e-8 of the
    serial run (scipy/pyamg), every check of the run ok."""
    spec = image_spec(tmp_path, 48, case)
    serial = run(spec, progress=False, error_estimate="always").summary
    over_ranks = run(spec, backend="petsc", progress=False, error_estimate="always").summary
    expected, got = numbers(serial), numbers(over_ranks)
    assert serial.R_inf_ohm < serial.R_dc_ohm and math.isfinite(serial.constriction.R_bulk_ohm)
    for name in expected:
        assert got[name] == pytest.approx(expected[name], rel=1e-8), name
    assert over_ranks.conservation.dc_relative_mismatch < 1e-8
    assert over_ranks.sweep.backend.startswith("petsc")
    for name in ("R_dc", "R_inf", "R_cstr"):  # the error bar: the 2x subdivided cells over the ranks too
        mine, theirs = getattr(over_ranks.discretisation, name), getattr(serial.discretisation, name)
        assert mine.subdivisions == theirs.subdivisions == (1, 2)
        np.testing.assert_allclose(mine.values_ohm, theirs.values_ohm, rtol=1e-8)
        assert mine.error_ohm == pytest.approx(theirs.error_ohm, rel=1e-6)
    assert set(over_ranks.discretisation.note.split("; ")) - {NO_BRACKETS} <= set(serial.discretisation.note.split("; "))


@pytest.mark.parametrize("face", ["-x", "+y"])
def test_other_faces_and_an_odd_band(tmp_path, face):
    """The WE on another face (the bands then run along another axis of the file), 37 rows."""
    spec = image_spec(tmp_path, 37, "porous", face)
    serial = run(spec, progress=False, error_estimate="never").summary
    got = numbers(run(spec, backend="petsc", progress=False, error_estimate="never").summary)
    for name, value in numbers(serial).items():
        assert got[name] == pytest.approx(value, rel=1e-8), name


@pytest.mark.parametrize("dc_only", [True, False])
def test_the_command_writes_one_result_folder(tmp_path, capsys, dc_only):
    """`constriction run ... --backend petsc` under mpiexec: rank 0 writes the folder a
    serial run writes (DC only; with the spectrum: its DRT, fields and plots), with the same R_dc."""
    from dataclasses import replace
    from mpi4py import MPI
    from constriction.cli.main import main
    from constriction.pipeline import write_result
    spec = image_spec(tmp_path, 32, "interface")
    if not dc_only:
        spec = replace(spec, sweep=replace(spec.sweep, kind="spectrum", f_min_Hz=1.0, f_max_Hz=1e6))
    toml = tmp_path / "cell.toml"
    serial = run(spec, progress=False, error_estimate="never")
    write_result(serial, tmp_path / "serial")
    toml.write_text((tmp_path / "serial" / "spec.toml").read_text())
    out = tmp_path / "ranks"
    assert main(["run", str(toml), "--backend", "petsc", "--out", str(out)]) == 0
    if MPI.COMM_WORLD.rank == 0:
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == \
            sorted(p.name for p in (tmp_path / "serial").iterdir() if not p.name.startswith("."))
        written = json.loads((out / "summary.json").read_text())
        assert written["R_dc_ohm"] == pytest.approx(serial.summary.R_dc_ohm, rel=1e-8)
    else:
        assert not out.exists()  # only rank 0 writes


@pytest.mark.parametrize("case, f_max", [("porous", 1e6), ("interface", 1e6), ("interface", 1e12)])
def test_the_spectrum_over_ranks_is_the_serial_one(tmp_path, case, f_max):
    """The reduced sweep over ranks (its snapshots at s -> 0; up to 1 THz its real shifts
    too): Z(f) within 1e-8 of the serial run's, every check ok."""
    from dataclasses import replace
    spec = image_spec(tmp_path, 48, case)
    spec = replace(spec, sweep=replace(spec.sweep, kind="spectrum", f_min_Hz=1.0, f_max_Hz=f_max, points_per_decade=4))
    serial = run(spec, progress=False, error_estimate="never")
    over_ranks = run(spec, backend="petsc", progress=False, error_estimate="never")
    np.testing.assert_allclose(over_ranks.spectrum.Z_ohm, serial.spectrum.Z_ohm, rtol=1e-8)
    assert over_ranks.summary.R_inf_ohm == pytest.approx(serial.summary.R_inf_ohm, rel=1e-8)
    assert over_ranks.summary.conservation.worst < 1e-7 and over_ranks.summary.passive
    assert (over_ranks.summary.sweep.n_shifts > 0) == (f_max > 1e9)  # the shifts ran where they were needed
    arc, serial_arc = over_ranks.summary.constriction.arc, serial.summary.constriction.arc
    assert (arc is None) == (serial_arc is None)
    if arc is not None:
        assert arc.C_cstr_F == pytest.approx(serial_arc.C_cstr_F, rel=1e-6)
    assert over_ranks.summary.warnings == serial.summary.warnings
    c, serial_c = over_ranks.summary.contact_current_density, serial.summary.contact_current_density
    if over_ranks.fields is not None:  # rank 0: the fields of the whole image, gathered
        for f_mine, f_theirs in zip(over_ranks.fields.frequency_Hz, serial.fields.frequency_Hz):
            assert f_mine == pytest.approx(f_theirs, rel=1e-9)
        # volts, WE at 1 V: at the lowest frequency the two DC solves' CG residuals (DC_RTOL)
        # leave 5e-8 between them; at the higher one the model's potentials rest on snapshots
        # solved to moments.SNAPSHOT_RTOL where no shift is near (the interface to 1 THz: 4e-6
        # between the runs, both 7e-5 from the direct solve: a model converged to tol in Y
        # holds potentials to about sqrt(tol))
        np.testing.assert_allclose(over_ranks.fields.potential[0], serial.fields.potential[0], atol=1e-6)
        np.testing.assert_allclose(over_ranks.fields.potential, serial.fields.potential, atol=1e-5)
        np.testing.assert_array_equal(over_ranks.fields.kind, serial.fields.kind)
        assert c.mean_A_per_m2_per_V == pytest.approx(serial_c.mean_A_per_m2_per_V, rel=1e-8)
        assert c.peak_over_mean == pytest.approx(serial_c.peak_over_mean, rel=1e-6)
    bodies, serial_bodies = over_ranks.summary.metal_bodies, serial.summary.metal_bodies
    assert len(bodies) == len(serial_bodies) >= 1  # the floating cube: its potential and the current through it
    for mine, theirs in zip(bodies, serial_bodies):
        assert mine.potential_V == pytest.approx(theirs.potential_V, rel=1e-8)
        assert mine.current_through_A == pytest.approx(theirs.current_through_A, rel=1e-6)


def test_the_direct_sweep_is_refused_over_ranks(tmp_path):
    from dataclasses import replace
    from constriction.spec import SpecError
    spec = image_spec(tmp_path, 16, "porous")
    spec = replace(spec, sweep=replace(spec.sweep, kind="spectrum", f_min_Hz=1.0, f_max_Hz=1e6))
    with pytest.raises(SpecError, match="direct sweep"):
        run(spec, backend="petsc", sweep="direct", progress=False)


def test_too_large_for_the_ranks_is_refused_before_reading(tmp_path, monkeypatch):
    """The ranks on one machine together need more than it has free: SpecError, nothing read."""
    from constriction.parallel import run as over_ranks
    from constriction.spec import SpecError
    spec = image_spec(tmp_path, 16, "porous")
    monkeypatch.setattr(over_ranks, "available_bytes", lambda: 2**20)
    monkeypatch.setattr(over_ranks, "read_rows", lambda *a: pytest.fail("read before refusing"))
    with pytest.raises(SpecError, match="MPI ranks: about .* a rank"):
        run(spec, backend="petsc", progress=False)


def test_a_label_in_one_band_only_is_refused_on_every_rank(tmp_path):
    """A label with no phase in the last rows (one rank's band): every rank raises the
    ImageError (none waits for the others)."""
    from constriction.image.read import ImageError
    spec = image_spec(tmp_path, 24, "porous")
    zyx = np.load(spec.path)
    zyx[:, :, -1][zyx[:, :, -1] != 2] = 9  # the turned first axis is the file's x: its last rows
    np.save(spec.path, zyx)
    with pytest.raises(ImageError, match="label value.*9.*no phase"):
        run(spec, backend="petsc", progress=False)


def test_a_reference_electrode_over_ranks(tmp_path):
    """The floating cube as a reference electrode ([[probes]]): its potential at every
    frequency and the admittance matrix Y(s) of WE, CE and it, as the serial run gives them."""
    from dataclasses import replace
    spec = image_spec(tmp_path, 32, "interface")
    zyx = np.load(spec.path)
    c = 16
    zyx[c - 3:c + 3, c - 3:c + 3, c - 3:c + 3][zyx[c - 3:c + 3, c - 3:c + 3, c - 3:c + 3] == 2] = 5  # the cube
    np.save(spec.path, zyx)
    spec = spec_from_dict({"image": {"path": str(spec.path), "voxel_um": [1.0, 1.5, 2.0],
                                     "labels": MPI_LABELS | {"5": "reference"}},
                           "phases": MPI_PHASES | {"reference": {"kind": "metal"}},
                           "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e6, "points_per_decade": 3},
                           "probes": [{"name": "RE", "phase": "reference"}]}, name="re")
    serial = run(spec, progress=False, error_estimate="never")
    over_ranks = run(spec, backend="petsc", progress=False, error_estimate="never")
    np.testing.assert_allclose(over_ranks.probes.potential_V, serial.probes.potential_V, rtol=1e-8)
    np.testing.assert_allclose(over_ranks.admittance.Y_S, serial.admittance.Y_S, rtol=1e-7,
                               atol=1e-9 * np.abs(serial.admittance.Y_S).max())
    assert over_ranks.summary.terminals == replace(serial.summary.terminals,
                                                   asymmetry=over_ranks.summary.terminals.asymmetry,
                                                   passivity=over_ranks.summary.terminals.passivity,
                                                   Z_cell_relative_mismatch=over_ranks.summary.terminals
                                                   .Z_cell_relative_mismatch)
    assert over_ranks.summary.terminals.Z_cell_relative_mismatch < 1e-6
