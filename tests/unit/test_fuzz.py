"""Property-based: arbitrary documents and bytes give a result or a one-line error of
ours, never another exception (spec files, study files, measured files)."""

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constriction import SpecError, load_spec, spec_from_dict
from constriction.geometry.cell import estimate_elements
from constriction.io.measured import MeasurementError, read_spectrum
from constriction import load_study, study_from_dict

VALID = {
    "cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
    "electrode": {"radius_um": 8.0, "offset_um": [1.0, 0.0]},
    "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 2.0}],
    "gap": {"height_um": 0.3, "eps_r": 1.0},
    "interface": {"R_ct_ohm_cm2": 1.0, "C_dl_F_per_cm2": 1e-6},
    "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0, "activation_eV": 0.3},
                  "grain_boundary": {"sigma_S_per_m": 1e-3, "eps_r": 20.0, "thickness_um": 0.01}},
    "grains": {"kind": "layers", "size_um": 5.0},
    "conditions": {"temperature_K": 300.0},
    "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 4},
    "mesh": {"order": 1, "size_um": 5.0},
}
LAYOUTS = [{"kind": "square", "period_um": 5.0, "radius_um": 1.0},
           {"kind": "random", "count": 3, "contact_fraction": 0.1, "seed": 1},
           {"kind": "image", "pixels": [[1, 0], [0, 1]], "pixel_um": 1.0}]

scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=True)
           | st.text(max_size=8) | st.sampled_from([0, -1, 1e300, -1e-300, 1e-300, "box", "cylinder", "lens"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated_specs(draw):
    data = copy.deepcopy(VALID)
    if draw(st.booleans()):
        del data["contacts"]
        data["layout"] = copy.deepcopy(draw(st.sampled_from(LAYOUTS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        node = data
        for part in path[:-1]:
            node = node[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(node, dict):
            del node[path[-1]]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.sampled_from(["pores", "voids", "interphase", "x_um", "radius_um", "kind"]))] = draw(values)
        else:
            node[path[-1]] = draw(values)
    return data


def _accepts(data):
    try:
        spec = spec_from_dict(data)
    except SpecError as err:
        assert "\n" not in str(err)
        return
    assert math.isfinite(estimate_elements(spec))
    assert len(spec.frequencies_Hz()) >= 2
    spec.at()
    assert spec_from_dict(spec.to_dict()) == spec  # the model back as the tables it was read from


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_specs())
def test_any_spec_document_gives_a_spec_or_a_spec_error(data):
    _accepts(data)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(list(VALID) + ["layout", "pores", "voids", "zzz"]), values, max_size=8))
def test_random_tables_give_a_spec_or_a_spec_error(data):
    _accepts(data)


@pytest.mark.parametrize("load", [load_spec, load_study])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_give_a_spec_a_study_or_a_spec_error(tmp_path, load, content):
    path = tmp_path / "file.toml"
    path.write_bytes(content)
    try:
        load(path)
    except SpecError as err:
        assert str(path) in str(err) and "\n" not in str(err)


STUDY = {"study": {"name": "s"}, "base": {k: VALID[k] for k in ("cell", "materials", "sweep", "mesh")
                                          if k != "materials"} | {"materials": {"electrolyte": {
                                              "sigma_S_per_m": 0.1, "eps_r": 10.0}}},
         "axes": [{"name": "side", "key": "cell.side_um", "values": [10.0, 20.0]}],
         "sample": {"count": 2, "seed": 0, "ranges": [{"name": "t", "key": "cell.thickness_um",
                                                       "low": 10.0, "high": 20.0}]}}


@st.composite
def mutated_studies(draw):
    data = copy.deepcopy(STUDY)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p and p[0] != "base"]
        path = draw(st.sampled_from(paths))
        node = data
        for part in path[:-1]:
            node = node[part]
        if draw(st.booleans()) and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = draw(values)
    return data


@settings(max_examples=300, deadline=None)
@given(mutated_studies())
def test_any_study_document_gives_a_study_or_a_spec_error(data):
    try:
        study_from_dict(data)
    except SpecError as err:
        assert "\n" not in str(err)


rows = st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(), st.floats()),
                min_size=0, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([".csv", ".txt", ".z", ".mpt", ".DTA", ".par"]),
       rows.map(lambda r: "\n".join(f"{a},{b},{c}" for a, b, c in r).encode())
       | st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_measured_file_gives_a_spectrum_or_a_measurement_error(tmp_path, suffix, content):
    path = tmp_path / f"measured{suffix}"
    path.write_bytes(content)
    try:
        spectrum = read_spectrum(path)
    except MeasurementError as err:
        assert str(path) in str(err) and "\n" not in str(err)
    else:
        assert len(spectrum.frequency_Hz) >= 3
