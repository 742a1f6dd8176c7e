"""Shared helpers: specs written as plain dicts; the closed forms of docs/REFERENCE.md come from
constriction.reference. Under pytest-xdist every test process runs BLAS and OpenMP on one
thread: two processes on two cores, each with two BLAS threads, ran the suite slower
(8:25) than one thread each (6:00)."""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")  # before numpy loads its BLAS here, and for subprocesses
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)  # for a BLAS a plugin may have loaded already

import numpy as np
import pytest

from constriction import spec_from_dict
from constriction.geometry.assemble import system_of  # noqa: F401  (tests import it from here)
from constriction.analysis.spectrum import Spectrum
from constriction.reference import flux_tube_resistance, slab_impedance  # noqa: F401 (tests import them from here)

from cases import STUDY, TINY_SPEC

SIGMA, EPS_R = 0.1, 10.0  # S/m, electrolyte
# an 8 µm square contact (a pixel map of one pixel) under a 0.5 µm gap, centred on a 24 µm cube
# (its converged R_dc: docs/REFERENCE.md, "A square contact"; tests/validation/test_accuracy.py)
PIXEL_SQUARE = {"cell": {"shape": "box", "side_um": 24.0, "thickness_um": 24.0},
                "layout": {"kind": "image", "pixels": [[1]], "pixel_um": 8.0}, "gap": {"height_um": 0.5}}
COARSE_PIXEL_EDGE = {"edge_size_um": 0.8}  # the square's pixel / 10: its bracket about 1.5 % wide


def make_spec(**tables):
    """A cylinder (b = 50 µm, L = 100 µm) spec; keyword tables replace the defaults."""
    data = {
        "cell": {"shape": "cylinder", "radius_um": 50.0, "thickness_um": 100.0},
        "materials": {"electrolyte": {"sigma_S_per_m": SIGMA, "eps_r": EPS_R}},
        "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2},
    }
    data.update(tables)
    return spec_from_dict(data)


@pytest.fixture(scope="session")
def spot_spec():
    """The default single-spot cell of specs/single_spot.toml, without its gap."""
    return make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}])


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A working folder with a spec, a study, a measured file and a user's own files."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY_SPEC)
    (tmp_path / "study.toml").write_text(STUDY)
    f = np.logspace(0, 8, 30)
    Spectrum(f, 5e4 + 1e5 / (1 + 2j * np.pi * f * 1e-5)).to_csv(tmp_path / "measured.csv")
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter.tex").write_text("years of work")
    (tmp_path / "notes.txt").write_text("my notes")
    return tmp_path
