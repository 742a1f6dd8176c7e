"""The reduced-order sweep against the frequency-by-frequency reference."""

import numpy as np
import pytest

from constriction.solve.fem import EPS0, assemble
from constriction.geometry.cell import build_mesh
from constriction.solve.linalg import available_backends
from constriction.geometry.tagged_mesh import UM, tagged_mesh
from constriction.solve.reduced import reduce
from constriction.materials import Material
from constriction.solve.direct import dc_resistance, sweep_direct

from conftest import EPS_R, SIGMA, make_spec, slab_impedance, system_of

F = np.logspace(-1, 10, 23)  # 11 decades
SPOT = [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}]
COARSE = {"order": 1, "size_um": 10.0}


def assert_matches_reference(system, backend="auto", tol=1e-6):
    model = reduce(system, F[0], F[-1], tol=tol, backend=backend, progress=False)
    reference = 1 / sweep_direct(system, F, progress=False).Y_S
    assert np.abs(model.impedance(F) / reference - 1).max() < tol
    assert model.conservation < 1e-8
    return model


@pytest.mark.parametrize("tables", [
    {"contacts": SPOT},
    {"contacts": SPOT, "gap": {"height_um": 0.5}},
    {"contacts": [], "gap": {"height_um": 1.0, "eps_r": 3.0}},
    {"electrode": {"radius_um": 25.0, "offset_um": [10.0, 5.0]}},
    {"cell": {"shape": "box", "side_um": 40.0, "thickness_um": 30.0},
     "contacts": [{"x_um": -8.0, "y_um": 0.0, "radius_um": 4.0},
                  {"x_um": 9.0, "y_um": 6.0, "radius_um": 2.0}], "gap": {"height_um": 0.3}},
], ids=["spot", "spot+gap", "full gap", "small offset electrode", "two spots+gap in a box"])
def test_reduced_sweep_matches_reference(tables):
    _, system = system_of(make_spec(mesh=COARSE, **tables))
    assert_matches_reference(system)


def test_two_conducting_layers_give_two_arcs_in_series():
    """A conducting interlayer (the gap region given sigma) over the whole electrode:
    the closed form is two parallel-RC elements in series."""
    spec = make_spec(cell={"shape": "box", "side_um": 100.0, "thickness_um": 100.0},
                     contacts=[], gap={"height_um": 2.0}, mesh={"order": 1, "size_um": 25.0})
    layer = Material(sigma_S_per_m=1e-4, eps_r=50.0)
    system = assemble(tagged_mesh(build_mesh(spec)), {"electrolyte": spec.electrolyte, "gap": layer}, 1)
    A = (100 * UM) ** 2
    Z_expected = (slab_impedance(F, 100 * UM, A, SIGMA, EPS_R)
                  + slab_impedance(F, 2 * UM, A, layer.sigma_S_per_m, layer.eps_r))
    model = assert_matches_reference(system)
    assert np.abs(model.impedance(F) / Z_expected - 1).max() < 1e-6
    # its poles are the two relaxation rates sigma / (eps0 eps_r) of the layers
    rates = np.sort(model.mu[model.residues > 1e-6 * model.residues.max()])
    expected = np.sort([SIGMA / (EPS0 * EPS_R), layer.sigma_S_per_m / (EPS0 * layer.eps_r)])
    assert rates == pytest.approx(expected, rel=1e-6)


def test_pole_residue_form_is_passive_and_gives_dc_resistance():
    _, system = system_of(make_spec(contacts=SPOT, gap={"height_um": 0.5}, mesh=COARSE))
    model = reduce(system, 1.0, 1e9, progress=False)
    assert np.all(model.mu >= 0) and np.all(model.residues >= 0)
    R_dc, _ = dc_resistance(system)
    assert model.resistances_ohm.sum() == pytest.approx(R_dc, rel=1e-6)
    Z = model.impedance(np.logspace(0, 9, 50))
    assert np.all(Z.real > 0) and np.all(Z.imag < 0)


@pytest.mark.parametrize("backend", [b for b in ("superlu", "pardiso", "amg") if b in available_backends()])
def test_every_backend_gives_the_same_reduced_model(backend):
    _, system = system_of(make_spec(contacts=SPOT, gap={"height_um": 0.5}, mesh=COARSE))
    assert_matches_reference(system, backend=backend)
