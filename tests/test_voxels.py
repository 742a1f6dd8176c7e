"""Labelled images as input: the voxel grid against closed forms, against the conforming
Gmsh solve of the same geometry, and its refusals (issue 14)."""

import math

import numpy as np
import pytest

from constriction import run, spec_from_dict
from constriction.cli import main
from constriction.fem import EPS0
from constriction.image import read_labels
from constriction.sweep import dc_resistance, sweep_direct
from constriction.voxels import grid_system

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
    assert result.summary["R_dc_ohm"] == pytest.approx(series(0.0).real, rel=1e-9)


def test_a_straight_channel_conducts_exactly_its_cross_section(tmp_path):
    """An electrolyte channel of 3 x 2 voxels through gas: R = L / (sigma A_channel)."""
    a = np.ones((12, 8, 8), np.uint8)
    a[:, 2:4, 3:6] = 0
    a[11] = 2
    spec = image_spec(tmp_path, a, voxel_um=0.5)
    R = dc_resistance(system(spec)[1])[0]
    assert R == pytest.approx(11 * 0.5e-6 / (0.1 * 6 * 0.25e-12), rel=1e-10)


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
    array): the voxelised sphere is 3.7 % high at 16 voxels across the cell, 2.4 % at 32,
    1.5 % at 48 (first order in the voxel size, from the staircase surface)."""
    from constriction.sweep import driven_solve
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
    assert 0 < errors[1] < errors[0] < 0.05 and errors[1] < 0.03
