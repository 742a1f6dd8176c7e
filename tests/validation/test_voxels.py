"""Labelled images as input: the voxel grid against closed forms, against the conforming
Gmsh solve of the same geometry, and its refusals (issue 14)."""


import numpy as np
import pytest

from constriction import run, spec_from_dict
from constriction.cli.main import main
from constriction.image.read import read_labels
from constriction.solve.direct import dc_resistance, sweep_direct
from constriction.image.voxels import grid_system

from cases import LABELS, image_toml, voxel_cell
from conftest import slab_impedance

F = np.array([1.0, 1e3, 1e5, 1e7, 1e9, 1e11])
BULK = {"kind": "electrolyte", "sigma_S_per_m": 0.1, "eps_r": 10.0}
METAL = {"kind": "metal"}
GAS = {"kind": "gas", "eps_r": 1.0}


def image_spec(tmp_path, array, voxel_um=1.0, phases=None, labels=None, name="img", **image):
    """An image spec for `array` (indexed z, y, x), saved as .npy."""
    path = tmp_path / f"{name}.npy"
    np.save(path, array)
    labels = labels or {"0": "electrolyte", "1": "gas", "2": "metal"}
    phases = phases or {"electrolyte": BULK, "gas": GAS, "metal": METAL}
    return spec_from_dict({"image": {"path": str(path), "voxel_um": voxel_um, "labels": labels, **image},
                           "phases": {k: v for k, v in phases.items() if k in labels.values()},
                           "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e11, "points_per_decade": 2}}, name=name)


def system(spec):
    return grid_system(read_labels(spec.at()), spec.at(), progress=False)


def test_layered_phases_give_the_series_formula_at_every_frequency(tmp_path):
    """Three electrolyte phases in layers normal to the current, voxels of 1 x 1.5 x 2 µm:
    the series of three slabs, exactly (the lumped stencil is exact for layers), in the
    reference sweep and in run's reduced sweep."""
    a = np.zeros((21, 6, 5), np.uint8)
    a[8:12] = 1
    a[12:14] = 3
    a[20] = 2
    phases = {"bulk": BULK, "gb": {"kind": "electrolyte", "sigma_S_per_m": 1e-3, "eps_r": 30.0},
              "interphase": {"kind": "electrolyte", "sigma_S_per_m": 1e-2, "eps_r": 5.0}, "metal": METAL}
    spec = image_spec(tmp_path, a, voxel_um=[1.0, 1.5, 2.0], phases=phases,
                      labels={"0": "bulk", "1": "gb", "2": "metal", "3": "interphase"})

    def series(f):
        A = 5e-6 * 9e-6
        return (slab_impedance(f, 14 * 2e-6, A, 0.1, 10.0) + slab_impedance(f, 4 * 2e-6, A, 1e-3, 30.0)
                + slab_impedance(f, 2 * 2e-6, A, 1e-2, 5.0))

    np.testing.assert_allclose(1 / sweep_direct(system(spec)[1], F, progress=False).Y_S, series(F), rtol=1e-9)
    result = run(spec, progress=False, cpe_fit=False)
    np.testing.assert_allclose(result.spectrum.Z_ohm, series(result.spectrum.frequency_Hz), rtol=1e-9)
    assert result.summary.R_dc_ohm == pytest.approx(series(0.0).real, rel=1e-9)


def test_a_straight_channel_conducts_exactly_its_cross_section(tmp_path):
    """An electrolyte channel of 3 x 2 voxels through gas: R = L / (sigma A_channel)."""
    a = np.ones((12, 8, 8), np.uint8)
    a[:, 2:4, 3:6] = 0
    a[11] = 2
    spec = image_spec(tmp_path, a, voxel_um=0.5)
    R = dc_resistance(system(spec)[1])[0]
    assert R == pytest.approx(11 * 0.5e-6 / (0.1 * 6 * 0.25e-12), rel=1e-10)


def test_a_one_voxel_channel_conducts_one_voxel_face(tmp_path):
    """A single column of electrolyte voxels through insulator: R = L / (sigma d²), at DC
    and, with its capacitance, at every frequency (the insulator around it carries only
    displacement current, so that one is checked at DC only)."""
    a = np.full((10, 5, 5), 1, np.uint8)
    a[:, 2, 3] = 0
    a[9] = 2
    spec = image_spec(tmp_path, a, voxel_um=0.5, labels={"0": "electrolyte", "1": "insulator", "2": "metal"},
                      phases={"electrolyte": BULK, "insulator": {"kind": "insulator", "eps_r": 4.0}, "metal": METAL})
    assert dc_resistance(system(spec)[1])[0] == pytest.approx(9 * 0.5e-6 / (0.1 * 0.25e-12), rel=1e-12)


@pytest.mark.parametrize("touch", ["edge", "corner"])
def test_columns_meeting_at_an_edge_or_a_corner_pass_no_current(tmp_path, touch):
    """Two electrolyte columns in insulator, one from the CE face up, one from the WE
    down, overlapping in height but meeting only along a voxel edge (or at a corner): no
    face is shared, so no current passes at DC. Refused as not percolating; the DC
    resistance is infinite; with the columns side by side (a shared face) it is finite."""
    from constriction.image.read import ImageError
    from constriction.image.voxels import assemble_grid, coefficients
    a = np.full((10, 6, 6), 1, np.uint8)          # (z, y, x)
    a[:6, 2, 2] = 0                               # from the CE up
    a[4 if touch == "edge" else 6:, 3, 3] = 0     # from the WE down, the diagonal neighbour
    a[9] = 2
    labels = {"0": "electrolyte", "1": "insulator", "2": "metal"}
    phases = {"electrolyte": BULK, "insulator": {"kind": "insulator"}, "metal": METAL}
    spec = image_spec(tmp_path, a, labels=labels, phases=phases, name=touch)
    with pytest.raises(ImageError, match="no electrolyte path"):
        system(spec)
    labelled = read_labels(spec.at())
    _, sys_ = assemble_grid(*coefficients(labelled, spec.at()), (1e-6,) * 3, check_percolation=False)
    assert dc_resistance(sys_)[0] == float("inf")
    a[4:7, 2, 3] = 0                              # a bridge of shared faces: it conducts
    assert np.isfinite(dc_resistance(system(image_spec(tmp_path, a, labels=labels, phases=phases,
                                                       name=touch + "_face"))[1])[0])


def _spheres(n, radius, count, seed):
    """A cube of n voxels with `count` random gas spheres (overlaps allowed)."""
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[:n, :n, :n] + 0.5
    gas = np.zeros((n, n, n), bool)
    for cz, cy, cx in rng.uniform(0, n, (count, 3)):
        gas |= (z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2 < radius**2
    return gas


def test_random_porous_electrolyte_lies_within_the_hashin_shtrikman_bounds(tmp_path):
    gas = _spheres(24, 3.0, 25, seed=1)
    a = np.where(gas, 1, 0).astype(np.uint8)
    a = np.concatenate([a, np.full((1, 24, 24), 2, np.uint8)])
    porosity = gas.mean()
    spec = image_spec(tmp_path, a)
    R = dc_resistance(system(spec)[1])[0]
    sigma_eff = 24e-6 / (R * (24e-6) ** 2)
    upper = 0.1 * (1 - porosity) / (1 + porosity / 2)  # HS upper bound, insulating pores
    assert 0.1 < porosity < 0.5
    assert 0 < sigma_eff <= upper
    assert sigma_eff > 0.5 * upper  # isolated spheres: far from the lower bound (0)


def _sphere_in_a_slab(tmp_path, n):
    r = 7.0 * n / 32
    z, y, x = np.mgrid[:n, :n, :n] + 0.5
    sphere = (z - n / 2) ** 2 + (y - n / 2) ** 2 + (x - n / 2) ** 2 < r**2
    a = np.where(sphere, 2, 0).astype(np.uint8)
    a = np.concatenate([a, np.full((1, n, n), 2, np.uint8)])
    return sphere.mean(), system(image_spec(tmp_path, a, name=f"sphere{n}"))


def test_floating_metal_sphere_is_an_equipotential_with_zero_net_current(tmp_path):
    """A metal sphere in the middle of a slab: one unknown, no net current at DC and at
    every frequency. The conductance rises as Rayleigh's cubic array of perfectly
    conducting spheres (the mirror walls make the array) says, 1 + 3 phi / (1 - phi -
    1.305 phi^(10/3)) (the dilute limit 1 + 3 phi of Maxwell's formula, corrected for the
    array, at the voxelised volume fraction): the face-connected finite volumes are within
    0.25 % of it at 16, 24, 32 and 48 voxels across the cell (0.05, 0.22, 0.22, 0.15 %).
    """
    from constriction.solve.direct import driven_solve
    errors = []
    for n in (16, 32):
        phi, (grid, sys_) = _sphere_in_a_slab(tmp_path, n)
        assert grid.floating_bodies == 1
        body = sys_.n_dofs - 3  # the floating body is numbered just before the WE and the CE
        for f in (0.0, 1e6, 1e9, 1e11):
            A = sys_.pencil(2j * np.pi * f)
            y, _, x = driven_solve(A, sys_.we, sys_.ce, sys_.interior, "superlu")
            assert abs((A @ x)[body]) < 1e-10 * abs(y)
            assert 0 < x[body].real < 1
        R_plain = n * 1e-6 / (0.1 * (n * 1e-6) ** 2)
        rayleigh = 1 + 3 * phi / (1 - phi - 1.305 * phi ** (10 / 3))
        errors.append(R_plain / dc_resistance(sys_)[0] / rayleigh - 1)
    assert np.all(np.abs(errors) < 0.003), errors


def _square_spot(tmp_path, h, side=16.0, L=8.0, w=8.0, gap=1.0, error_estimate="never"):
    """The image of a square contact of side w under a gap, voxels of h µm."""
    n, q = int(round(side / h)), int(round((side - w) / 2 / h))
    layer = np.ones((n, n), np.uint8)
    layer[q:n - q, q:n - q] = 2
    img = np.concatenate([np.zeros((int(round(L / h)), n, n), np.uint8), np.repeat(layer[None], int(round(gap / h)), 0),
                          np.full((1, n, n), 2, np.uint8)])
    return run(image_spec(tmp_path, img, voxel_um=h, name=f"square{h}"), progress=False, cpe_fit=False,
               error_estimate=error_estimate)


def _square_spot_gmsh(size_um, edge_um):
    """The same square contact under a 1 µm gap, conforming (a one-pixel contact map)."""
    return run(spec_from_dict({"cell": {"shape": "box", "side_um": 16.0, "thickness_um": 8.0},
                               "layout": {"kind": "image", "pixels": [[1]], "pixel_um": 8.0},
                               "gap": {"height_um": 1.0},
                               "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
                               "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e11, "points_per_decade": 2},
                               "mesh": {"order": 2, "size_um": size_um, "edge_size_um": edge_um}}),
               progress=False, cpe_fit=False)


def test_a_voxelised_spot_under_a_gap_converges_to_the_conforming_solve(tmp_path):
    """A square contact (8 µm in a 16 µm box, 8 µm thick, under a 1 µm gap), voxelised at
    1, 0.5 and 0.25 µm, against the conforming P2 solve: the largest error over all
    frequencies falls at first order in the voxel size (9.3 %, 4.7 %, 2.5 %; the current
    is singular at the contact rim), and Richardson's extrapolation from the 2x subdivided
    image (image/error_bar.py) is within 0.5 % of the conforming solve at 1 and 0.5 µm (+0.46,
    +0.39 %, and +0.36 % at 0.25 µm; the conforming solve is itself 0.18 % low, a lower
    bound). The default error bar, the brackets of the continuum R_dc and R_inf, holds the
    conforming values and narrows."""
    reference = _square_spot_gmsh(2.0, 0.1)
    results = [_square_spot(tmp_path, h, error_estimate=policy) for h, policy in
               ((1.0, "always"), (0.5, "always"), (0.25, "never"))]  # at 0.25 µm: the slow test below
    errors = [np.abs(r.spectrum.Z_ohm / reference.spectrum.Z_ohm - 1).max() for r in results]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 0.8) and np.all(orders < 1.3), orders
    assert errors[-1] < 0.03
    assert results[-1].summary.discretisation.R_dc is None
    for r in results[:-1]:
        estimate = r.summary.discretisation.R_dc
        assert estimate.values_ohm[0] == r.summary.R_dc_ohm and estimate.subdivisions[:2] == (1, 2)
        assert estimate.extrapolated_ohm == pytest.approx(reference.summary.R_dc_ohm, rel=0.005)
        assert abs(r.summary.R_dc_ohm - reference.summary.R_dc_ohm) < estimate.error_ohm  # it brackets
    widths = []
    for r in results[:-1]:
        d = r.summary.discretisation
        for name in ("R_dc", "R_inf"):
            b, value = getattr(d, f"{name}_bracket"), getattr(reference.summary, f"{name}_ohm")
            assert b.lower_ohm <= value * (1 + 1e-12) and value <= b.upper_ohm * (1 + 1e-12)
            assert b.upper_ohm <= getattr(r.summary, f"{name}_ohm") * (1 + 1e-12)
        widths.append(d.R_dc_bracket.upper_ohm - d.R_dc_bracket.lower_ohm)
    assert widths[1] < 0.7 * widths[0]


@pytest.mark.slow
def test_the_error_bar_brackets_the_converged_square_spot(tmp_path):
    """The square spot at 1 and 0.5 µm with three subdivision levels (the order observed,
    about 1): the error bar holds the finer conforming solve, and the extrapolated values
    agree with it to 0.3 %."""
    reference = _square_spot_gmsh(1.0, 0.05)
    for h in (1.0, 0.5):
        estimate = _square_spot(tmp_path, h, error_estimate="always").summary.discretisation.R_dc
        assert estimate.subdivisions == (1, 2, 4) and estimate.order_observed
        assert 0.8 < estimate.order < 1.3
        assert abs(estimate.values_ohm[0] - reference.summary.R_dc_ohm) < estimate.error_ohm
        assert estimate.extrapolated_ohm == pytest.approx(reference.summary.R_dc_ohm, rel=0.003)


@pytest.mark.slow
def test_a_voxelised_spot_is_within_three_percent_at_an_eighth_of_a_micrometre(tmp_path):
    reference = _square_spot_gmsh(1.0, 0.05)
    error = np.abs(_square_spot(tmp_path, 0.125).spectrum.Z_ohm / reference.spectrum.Z_ohm - 1).max()
    assert error < 0.015


def _floating_cube(tmp_path, h, error_estimate):
    """A 6 µm metal cube floating in a 24 x 24 x 22 µm electrolyte box under a metal cap, voxels of h µm."""
    n = int(24 / h)
    a = np.zeros((int(22 / h) + 1, n, n), np.uint8)
    a[-1] = 2
    a[int(8 / h):int(14 / h), int(9 / h):int(15 / h), int(9 / h):int(15 / h)] = 2
    return run(image_spec(tmp_path, a, voxel_um=h, name=f"cube{h}"), progress=False, cpe_fit=False, fields=False,
               split=False, error_estimate=error_estimate).summary


@pytest.mark.slow
def test_a_floating_metal_cube_converges_to_the_conforming_solve_within_its_error_bar(tmp_path):
    """The cube as voxels at 1 and 0.5 µm, and meshed (P2, the cube an inclusion): the
    voxel values fall (361.0, 359.9 kΩ; at 0.25 µm 359.4), the conforming ones rise
    (358.6, 358.8 kΩ at refine 1, 0.6): both toward about 359 kΩ. Each voxel value's error
    bar holds the conforming value and Richardson's value lies within 0.1 % of it."""
    from conftest import make_spec, system_of
    spec = make_spec(cell={"shape": "box", "side_um": 24.0, "thickness_um": 22.0}, mesh={"size_um": 2.0, "refine": 0.6},
                     materials={"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
                     inclusions=[{"shape": "box", "centre_um": [0, 0, 11.0], "size_um": [6.0, 6.0, 6.0],
                                  "material": "metal"}])
    conforming = dc_resistance(system_of(spec)[1])[0]
    values = []
    for h in (1.0, 0.5):
        summary = _floating_cube(tmp_path, h, "always")
        estimate = summary.discretisation.R_dc
        assert abs(summary.R_dc_ohm - conforming) < estimate.error_ohm
        assert estimate.extrapolated_ohm == pytest.approx(conforming, rel=0.001)
        values.append(summary.R_dc_ohm)
    assert values[0] > values[1] > conforming


# ---------------------------------------------------------------- reading images, and refusing them

@pytest.mark.parametrize("make, image, words", [
    (lambda p: (p / "x.npy").write_bytes(b"not numpy"), 'path = "x.npy"\nvoxel_um = 1.0\n', ["x.npy", "cannot be read"]),
    (lambda p: np.save(p / "x.npy", np.where(voxel_cell() == 2, 7, 0)), 'path = "x.npy"\nvoxel_um = 1.0\n',
     ["x.npy", "label value(s) 7"]),
    (lambda p: np.save(p / "x.npy", voxel_cell(metal_top=False)), 'path = "x.npy"\nvoxel_um = 1.0\n',
     ["x.npy", "no metal on the working-electrode face"]),
    (lambda p: np.save(p / "x.npy", np.concatenate([voxel_cell()[:2] * 0 + 1, voxel_cell()[2:]])), 'path = "x.npy"\nvoxel_um = 1.0\n',
     ["x.npy", "no electrolyte path"]),
    (lambda p: np.save(p / "x.npy", np.full((6, 6, 6), 2, np.uint8)), 'path = "x.npy"\nvoxel_um = 1.0\n',
     ["x.npy", "short circuit"]),
    (lambda p: np.save(p / "x.npy", voxel_cell()), 'path = "x.npy"\n', ["image.voxel_um", "missing"]),
    (lambda p: np.save(p / "x.npy", voxel_cell()), 'path = "nowhere.npy"\nvoxel_um = 1.0\n', ["image.path", "no such file"]),
    (lambda p: np.save(p / "x.npy", voxel_cell()[0]), 'path = "x.npy"\nvoxel_um = 1.0\n', ["x.npy", "2D"]),
    (lambda p: np.save(p / "x.npy", voxel_cell() + 0.5), 'path = "x.npy"\nvoxel_um = 1.0\n', ["x.npy", "non-integer"]),
] + [(lambda p: np.save(p / "x.npy", voxel_cell()), f'path = "x.npy"\nvoxel_um = 1.0\nsubdivide = {value}\n',
      ["cell.toml", "image.subdivide", "an integer from 1 to 8"])
     for value in ("0", "-1", "2.5", '"2"', "true", "9", "1e6", "nan")])
def test_a_bad_image_is_refused_in_one_line_before_any_solve(tmp_path, monkeypatch, capsys, make, image, words):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    image_toml(tmp_path / "cell.toml", "[image]\n" + image + LABELS)
    assert main(["run", "cell.toml", "--out", "res"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)
    for word in words:
        assert word in err[-1], err[-1]
    assert not (tmp_path / "res").exists()


def test_a_subdivision_past_the_memory_budget_is_refused_before_reading(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", voxel_cell())
    image_toml(tmp_path / "cell.toml", '[image]\npath = "x.npy"\nvoxel_um = 1.0\nsubdivide = 8\n' + LABELS)
    assert main(["run", "cell.toml", "--out", "res", "--max-memory", "0.2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "110,592 voxels after crop, coarsening and subdivision" in err[-1] and "--max-memory" in err[-1]
    assert not (tmp_path / "res").exists()


def _layered_cell():
    """(labels, phases, label names) of a cell with a resistive layer across the current,
    under a metal cap: exact at any resolution and on any face."""
    a = np.zeros((10, 4, 5), np.uint8)
    a[3:5] = 1
    a[-1] = 2
    phases = {"electrolyte": BULK, "gb": {"kind": "electrolyte", "sigma_S_per_m": 0.01, "eps_r": 5.0},
              "metal": METAL}
    return a, phases, {"0": "electrolyte", "1": "gb", "2": "metal"}


def test_subdividing_keeps_the_geometry_and_refines_the_grid(tmp_path):
    """subdivide = 2 reads the same union of cubes on half the voxel size: a layered cell
    (exact at any resolution) has the same resistance, with 8x the voxels."""
    a, phases, labels = _layered_cell()
    plain = image_spec(tmp_path, a, phases=phases, labels=labels, name="plain")
    fine = image_spec(tmp_path, a, phases=phases, labels=labels, name="fine", subdivide=2)
    assert read_labels(fine).array.shape == (10, 8, 20) and read_labels(fine).turned_voxel_um == (0.5, 0.5, 0.5)
    assert dc_resistance(system(fine)[1])[0] == pytest.approx(dc_resistance(system(plain)[1])[0], rel=1e-10)


def test_tiff_crop_and_coarsening_read_the_same_cell(tmp_path):
    """A TIFF stack and its .npy give the same labels; crop takes [start, stop) voxel
    ranges; coarsening takes the majority label per block."""
    import tifffile
    a = np.zeros((8, 6, 4), np.uint8)
    a[:, :, 0] = 1
    a[-2:] = 2
    tifffile.imwrite(tmp_path / "a.tif", a)
    np.save(tmp_path / "a.npy", a)
    specs = [image_spec(tmp_path, a, name="a"),
             spec_from_dict({"image": {"path": str(tmp_path / "a.tif"), "voxel_um": [1.0, 2.0, 3.0],
                                       "labels": {"0": "electrolyte", "1": "gas", "2": "metal"}},
                             "phases": {"electrolyte": BULK, "gas": GAS, "metal": METAL},
                             "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9}})]
    arrays = [read_labels(s).array for s in specs]
    np.testing.assert_array_equal(arrays[0], arrays[1])
    assert arrays[0].shape == (4, 6, 8)  # turned to (x, y, z): the current along the last axis
    assert read_labels(specs[1]).turned_voxel_um == (1.0, 2.0, 3.0)
    cropped = image_spec(tmp_path, a, name="c", crop={"z": [2, 8], "x": [1, 4]})
    assert read_labels(cropped).array.shape == (3, 6, 6) and not (read_labels(cropped).array == 1).any()
    coarse = read_labels(image_spec(tmp_path, a, name="k", coarsen=2))
    assert coarse.array.shape == (2, 3, 4) and coarse.turned_voxel_um == (2.0, 2.0, 2.0)
    assert (coarse.array[:, :, -1] == 2).all()


def test_the_working_electrode_may_sit_on_any_face(tmp_path):
    """The same layered cell along z, and turned to put the WE on -x: same resistance."""
    a, phases, labels = _layered_cell()
    along_z = dc_resistance(system(image_spec(tmp_path, a, phases=phases, labels=labels, name="z"))[1])[0]
    turned = np.transpose(a, (2, 1, 0))[:, :, ::-1]  # z -> x, the metal at x = 0
    along_x = dc_resistance(system(image_spec(tmp_path, turned, phases=phases, labels=labels, name="x",
                                              working_electrode="-x"))[1])[0]
    assert along_x == pytest.approx(along_z, rel=1e-12)


def test_an_extruded_contact_map_runs_from_the_command_line(tmp_path, monkeypatch, capsys):
    """A 2D contact map (white = contact) under a gap: run writes the spectrum, .vti
    fields, the contact current on the WE face, and every plot."""
    import matplotlib.image
    monkeypatch.chdir(tmp_path)
    picture = np.zeros((12, 12))
    picture[4:8, 3:9] = 1.0
    matplotlib.image.imsave(tmp_path / "map.png", picture, cmap="gray")
    image_toml(tmp_path / "map.toml", '[image]\npath = "map.png"\nvoxel_um = [1.0, 1.0, 0.5]\n'
                                 '[image.extrude]\nelectrolyte_um = 6.0\ngap_um = 0.5\n',
          '[phases.electrolyte]\nsigma_S_per_m = 0.1\neps_r = 10.0\n')
    assert main(["run", "map.toml", "--out", "res"]) == 0
    for name in ("spectrum.csv", "summary.json", "fields.vti", "contacts.vtu", "nyquist.png", "equipotentials.png",
                 "current.png", "drt.png"):
        assert (tmp_path / "res" / name).is_file(), name
    import json
    summary = json.loads((tmp_path / "res" / "summary.json").read_text())
    assert summary["contact_area_um2"] == pytest.approx(24.0)
    assert summary["constriction"]["R_cstr_ohm"] > 0 and summary["constriction"]["arc"]["C_cstr_F"] > 0
    assert summary["conservation"]["sweep_max_relative_mismatch"] < 1e-8
    assert main(["plot", "res"]) == 0


def test_the_reduced_sweep_matches_the_reference_on_a_synthetic_interface(tmp_path):
    """Voids under a partial contact (studies/synthetic_interface.py, 24³): the reduced
    model on AMG, as run uses it, against one complex solve per frequency."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "studies"))
    from synthetic_interface import synthetic_interface
    from constriction.solve.reduced import reduce
    image = synthetic_interface((24, 24, 24), void_radius=1.5, void_depth=6, patch_size=2.0, gap=1, metal=2, seed=3)
    spec = image_spec(tmp_path, image, voxel_um=2.0)
    _, sys_ = system(spec)
    f = np.logspace(0, 11, 23)
    model = reduce(sys_, f[0], f[-1], backend="amg", progress=False)
    np.testing.assert_allclose(model.impedance(f), 1 / sweep_direct(sys_, f, progress=False).Y_S, rtol=1e-6)
    assert model.conservation < 1e-8


def test_the_synthetic_interface_is_seeded_and_has_the_porosity_asked_for():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "studies"))
    from synthetic_interface import synthetic_interface
    a = synthetic_interface((32, 32, 32), porosity=0.2, void_radius=2.0, void_depth=8, contact_fraction=0.3, seed=5)
    np.testing.assert_array_equal(a, synthetic_interface((32, 32, 32), porosity=0.2, void_radius=2.0, void_depth=8,
                                                         contact_fraction=0.3, seed=5))
    assert not np.array_equal(a, synthetic_interface((32, 32, 32), porosity=0.2, void_radius=2.0, void_depth=8,
                                                     contact_fraction=0.3, seed=6))
    layer = a[32 - 2 - 3 - 8:32 - 2 - 3]
    assert 0.2 <= (layer == 1).mean() < 0.3
    assert (a[27:29] == 2).mean() == pytest.approx(0.3, abs=0.01) and (a[29:] == 2).all()


def test_fields_written_as_image_data_read_back(tmp_path):
    from constriction.image.voxel_fields import grid_fields, read_vti, write_vti
    a = np.zeros((6, 5, 4), np.uint8)
    a[-1] = 2
    a[2, 2, 2] = 1
    grid, sys_ = system(image_spec(tmp_path, a, voxel_um=[1.0, 2.0, 0.5]))
    from constriction.solve.direct import driven_solve
    x = driven_solve(sys_.pencil(2j * np.pi * 1e6), sys_.we, sys_.ce, sys_.interior, "superlu")[2]
    fields = grid_fields(grid, {1e6: x})
    write_vti(fields, tmp_path / "f.vti")
    back = read_vti(tmp_path / "f.vti")
    assert back.frequency_Hz == (1e6,) and back.spacing_um == pytest.approx(fields.spacing_um)
    np.testing.assert_allclose(back.potential, fields.potential, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(back.kind, grid.kind)
    assert np.allclose(fields.section[0][-1], 1.0)  # the WE metal on top
    # the first voxels above the CE sit at the centre of their voxel: 1/2 of the 5.5 voxels below the WE metal
    np.testing.assert_allclose(fields.section[0][0, [0, 1, 3]].real, 0.5 / 5.5, rtol=0.1)


def test_the_contact_current_sums_to_the_cell_current_and_is_uniform_on_a_slab(tmp_path):
    """On a slab under a full metal face the current leaves the WE evenly; under a
    partial contact it sums to the cell current exactly (consistent flux)."""
    from constriction.solve.direct import driven_solve
    from constriction.image.voxel_fields import grid_contact_current
    slab = np.zeros((6, 5, 4), np.uint8)
    slab[-1] = 2
    partial = slab.copy()
    partial[-2] = 1
    partial[-2, 1:3, 1:3] = 2
    for a in (slab, partial):
        grid, sys_ = system(image_spec(tmp_path, a, voxel_um=[1.0, 2.0, 0.5], name=f"c{a.sum()}"))
        for f in (1.0, 1e9):  # not 0: the gas voxels' potential is set by their capacitance
            y, _, x = driven_solve(sys_.pencil(2j * np.pi * f), sys_.we, sys_.ce, sys_.interior, "superlu")
            current = grid_contact_current(grid, x, f)
            assert current.current_A == pytest.approx(y, rel=1e-10)
    grid, sys_ = system(image_spec(tmp_path, slab, voxel_um=[1.0, 2.0, 0.5], name="uniform"))
    x = driven_solve(sys_.pencil(0.0), sys_.we, sys_.ce, sys_.interior, "superlu")[2]
    j = grid_contact_current(grid, x, 0.0).j
    np.testing.assert_allclose(j, j.mean(), rtol=1e-9)


def test_coarsening_past_the_image_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", voxel_cell(4))
    image_toml(tmp_path / "cell.toml", '[image]\npath = "x.npy"\nvoxel_um = 1.0\ncoarsen = 8\n' + LABELS)
    assert main(["run", "cell.toml", "--out", "res"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "x.npy" in err[-1] and "coarsening by 8" in err[-1] and not (tmp_path / "res").exists()


@pytest.mark.parametrize("policy, available, machine, words", [
    ("always", 1, 1, "more than this machine's"),
    ("never", 2**40, 2**40, "switched off"),
])
def test_the_error_bar_says_why_it_was_not_computed(tmp_path, monkeypatch, policy, available, machine, words):
    """Subdivided levels larger than the machine (even when forced): no Richardson estimate,
    the brackets still; switched off: neither. The summary and the screen say why."""
    from constriction.image import error_bar
    from constriction.cli.main import _numbers
    monkeypatch.setattr(error_bar, "available_bytes", lambda: available)
    monkeypatch.setattr(error_bar, "total_bytes", lambda: machine)
    summary = run(image_spec(tmp_path, voxel_cell(), name="small"), progress=False, cpe_fit=False, fields=False,
                  error_estimate=policy).summary
    d = summary.discretisation
    assert d.R_dc is None and d.R_inf is None and d.R_cstr is None and words in d.note
    assert words in _numbers(summary)
    assert (d.R_dc_bracket is None) == (policy == "never") and ("±" in _numbers(summary)) == (policy != "never")


def test_over_mpi_ranks_the_default_error_bar_subdivides_where_memory_allows(tmp_path):
    """parallel/run.py has no brackets: its "auto" solves the 2x level where it fits the
    memory given, and says so where it does not."""
    from constriction.image.error_bar import finer_levels
    spec = image_spec(tmp_path, voxel_cell(), name="small")
    solved = []
    levels, note = finer_levels(spec, 1000, "auto", solved.append, progress=False, budget=1, machine=2**40)
    assert levels == [] and solved == [] and "--error-estimate forces it" in note
    levels, note = finer_levels(spec, 1000, "auto", lambda finer: finer.subdivide, progress=False, budget=2**40,
                                machine=2**40)
    assert levels == [2 * spec.subdivide, 4 * spec.subdivide] and note == ""


@pytest.mark.parametrize("policy", ["sometimes", "", None, 3])
def test_an_unknown_error_estimate_is_refused_before_reading(tmp_path, monkeypatch, policy):
    from constriction.image import source
    monkeypatch.setattr(source, "read_labels", lambda spec: pytest.fail("read before the refusal"))
    with pytest.raises(ValueError, match="unknown error estimate"):
        run(image_spec(tmp_path, voxel_cell(), name="small"), progress=False, error_estimate=policy)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # one layer: the sweep's snapshot past x_0 is zero
@pytest.mark.parametrize("n", [2, 6])
def test_a_slab_image_has_a_bracket_of_zero_width(tmp_path, n):
    """The default error bar of a voxel slab (one layer of electrolyte, and five): both
    bounds equal the finite volumes' R (exact for a slab) to round-off, and so does R_cstr's
    against its slab reference; the error is never negative, whichever way round-off falls."""
    d = run(image_spec(tmp_path, voxel_cell(n), name="small"), progress=False, cpe_fit=False,
            fields=False).summary.discretisation
    for b in (d.R_dc_bracket, d.R_inf_bracket):
        assert 0.0 <= b.error_ohm <= 1e-9 * b.upper_ohm
    assert 0.0 <= d.R_cstr_bracket.error_ohm <= 1e-9 * d.R_dc_bracket.upper_ohm


def test_a_forced_error_bar_is_computed_beyond_the_memory_available(tmp_path, monkeypatch):
    from constriction.image import error_bar
    monkeypatch.setattr(error_bar, "available_bytes", lambda: 1)
    d = run(image_spec(tmp_path, voxel_cell(), name="small"), progress=False, cpe_fit=False, fields=False,
            error_estimate="always").summary.discretisation
    assert d.R_dc is not None and d.R_dc.subdivisions[:2] == (1, 2)
    assert d.R_dc.error_ohm < 1e-9 * d.R_dc.values_ohm[0]  # a slab: exact at every subdivision


@pytest.mark.parametrize("write, labels, words", [
    (lambda p: np.save(p, voxel_cell()), LABELS + '01 = "gas"\n', ["image.labels.01", "label 1 again"]),
    (lambda p: np.save(p, voxel_cell().astype(np.complex128)), LABELS, ["complex128", "integers"]),
])
def test_duplicate_labels_and_complex_images_are_refused(tmp_path, monkeypatch, capsys, write, labels, words):
    """'1' and '01' are one label (the voids silently became metal); a complex image was
    accepted by dropping its imaginary part."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "x.npy")
    image_toml(tmp_path / "cell.toml", '[image]\npath = "x.npy"\nvoxel_um = 1.0\n' + labels)
    assert main(["run", "cell.toml", "--out", "res"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert all(w in err[-1] for w in words), err[-1]
    assert not (tmp_path / "res").exists()


def test_every_material_gets_its_index_even_one_the_sample_misses():
    """_material_index finds an image's few (sigma, eps) pairs from a sample of its voxels;
    a pair outside the sample (one voxel here) still gets an index of its own."""
    from constriction.image.voxels import _material_index
    sigma = np.ones((40, 50, 100))
    eps = np.full(sigma.shape, 3.0)
    sigma.ravel()[1] = 2.0                    # odd: the sample takes every second voxel
    eps.ravel()[7] = 5.0
    metal = np.zeros(sigma.shape, bool)
    metal.ravel()[9] = True
    index = _material_index(sigma, eps, metal).ravel()
    assert index[9] == -1 and len({index[0], index[1], index[7]}) == 3
    assert np.unique(index).size == 4 and np.count_nonzero(index == index[0]) == sigma.size - 3
