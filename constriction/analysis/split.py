"""Static and dynamic constriction (ohm), from DC solves of the cell and of two reference
cells built from the same spec:

    full face        the whole top face in full contact        R_bulk
    full electrode   the given electrode in full contact       R_electrode
    the cell         the given contacts and gaps               R_dc

    R_static  = R_electrode - R_bulk   electrode smaller than the pellet, or off-centre
    R_dynamic = R_dc - R_electrode     contact spots and gaps under the electrode
    R_cstr    = R_static + R_dynamic = R_dc - R_bulk

The references use the same mesh options, so their discretisation errors largely cancel.
They keep the interface admittance and interphase layer, so R_cstr is what the contact
morphology adds on top of them.

Inclusions, as for images (voxels.bulk_reference): what blocks current counts as
constriction, what conducts is part of the cell. The references drop the insulating
inclusions (like voids: the bulk electrolyte fills them) and keep metal and conducting
inclusions; metal touching the top face joins the full-contact electrode there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ConstrictionSplit:
    R_dc_ohm: float
    R_electrode_ohm: float
    R_bulk_ohm: float
    why_unknown: str = ""  # why there is no reference cell, where a user would expect one

    @property
    def R_static_ohm(self) -> float:
        return self.R_electrode_ohm - self.R_bulk_ohm

    @property
    def R_dynamic_ohm(self) -> float:
        return self.R_dc_ohm - self.R_electrode_ohm

    @property
    def R_cstr_ohm(self) -> float:
        return self.R_dc_ohm - self.R_bulk_ohm

    def as_dict(self) -> dict[str, float]:
        return {"R_bulk_ohm": self.R_bulk_ohm, "R_static_ohm": self.R_static_ohm,
                "R_dynamic_ohm": self.R_dynamic_ohm, "R_cstr_ohm": self.R_cstr_ohm}


    @classmethod
    def unknown(cls, R_dc_ohm: float, why: str = "") -> "ConstrictionSplit":
        """R_dc without a reference cell to split it against (a mesh file; `why`: the
        reason, where the source has references but this cell's cannot be built)."""
        return cls(R_dc_ohm=R_dc_ohm, R_electrode_ohm=math.nan, R_bulk_ohm=math.nan, why_unknown=why)
