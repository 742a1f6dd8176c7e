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

from .reader import load_spec, spec_from_dict
from .spec import Spec, SpecError
from .spectrum import Spectrum
from .run import Result, run, write_result

__all__ = ["__version__", "Spec", "SpecError", "load_spec", "spec_from_dict", "Spectrum", "Result", "run",
           "write_result"]
