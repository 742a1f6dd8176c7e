"""constriction: impedance of 3D metal | solid-electrolyte interfaces, resolved down to
their contact spots, gaps and pores.

    from constriction import load_spec, run
    result = run(load_spec("specs/single_spot.toml"))
    result.spectrum.Z_ohm, result.summary.constriction.R_cstr_ohm
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("constriction")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"

# name -> the module that defines it, imported on first use: `import constriction` (and
# `constriction --version`) costs no Gmsh, scikit-fem or matplotlib
_HOME = {"Spec": "spec", "CellSpec": "spec", "SpecError": "spec", "load_spec": "io.spec_reader",
         "spec_from_dict": "io.spec_reader", "load_study": "io.study_reader", "study_from_dict": "io.study_reader",
         "Spectrum": "analysis.spectrum", "RunOptions": "pipeline", "Result": "pipeline", "run": "pipeline",
         "write_result": "pipeline"}

__all__ = ["__version__", *_HOME]


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'constriction' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f".{_HOME[name]}", __name__), name)


def __dir__():
    return sorted(__all__)
