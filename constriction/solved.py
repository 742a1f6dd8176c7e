"""What the solves of a Discretised cell give (pipeline.solve; over MPI ranks,
parallel/run.py), before analyse turns it into a Summary."""

from __future__ import annotations

from dataclasses import dataclass

from constriction.analysis.probes import ProbeImpedances
from constriction.analysis.spectrum import Spectrum
from constriction.analysis.split import ConstrictionSplit
from constriction.io.summary import Discretisation, SweepSummary, SymmetricSummary
from constriction.solve.reduced import ReducedModel
from constriction.solve.terminals import TerminalAdmittance


@dataclass(frozen=True)
class Solved:
    """What the solves of a Discretised cell give: R_dc and R_inf (ohm) with the DC
    conservation check, the split (NaN parts where not asked for), a symmetric cell against
    its halves, an image's error bar, the spectrum with the sweep's check and record, the
    reduced model (None after a direct sweep) and the reference electrodes' impedances."""
    R_dc_ohm: float
    R_inf_ohm: float
    dc_mismatch: float
    split: ConstrictionSplit
    symmetric: SymmetricSummary | None
    discretisation: Discretisation | None
    spectrum: Spectrum | None  # None: DC only
    sweep_mismatch: float
    sweep: SweepSummary
    model: ReducedModel | None
    probes: ProbeImpedances | None
    admittance: TerminalAdmittance | None
    seconds: dict
