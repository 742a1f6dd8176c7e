"""The reference cells of a Gmsh cell's split (analysis/split.py): the same spec with the
electrode in full contact, and with the whole top face in full contact; and the halves of
a symmetric cell. Same mesh options, so their discretisation errors largely cancel."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from constriction.analysis.spectrum import Spectrum
from constriction.analysis.split import ConstrictionSplit
from constriction.geometry.assemble import assembled, system_of, tagged_cell
from constriction.io.summary import SymmetricSummary
from constriction.solve.direct import dc_resistance
from constriction.solve.reduced import reduce
from constriction.spec import Electrode, Gap, Spec
from constriction.units import UM


def full_electrode(spec: Spec) -> Spec:
    """The same cell and electrode in full contact: no spots, gap, pores, voids or
    insulating inclusions (the interface admittance, interphase layer, metal and
    conducting inclusions, if any, stay)."""
    return replace(spec, contacts=None, contact_map=None, gap=Gap(), pores=(), voids=(),
                   inclusions=tuple(i for i in spec.inclusions if i.kind != "insulator"))


def full_face(spec: Spec) -> Spec:
    """The same cell with the whole top face in full contact: the slab."""
    metal = spec.electrode.metal_thickness_um
    return replace(full_electrode(spec), electrode=Electrode(metal_thickness_um=metal))


def constriction_split(spec: Spec, R_dc: float, backend: str = "auto") -> ConstrictionSplit:
    """Solve the reference cells that differ from `spec` and split its R_dc (ohm)."""
    R_electrode = R_dc if full_electrode(spec) == spec else _dc(full_electrode(spec), backend)
    R_bulk = R_electrode if full_face(spec) == full_electrode(spec) else _dc(full_face(spec), backend)
    return ConstrictionSplit(R_dc_ohm=R_dc, R_electrode_ohm=R_electrode, R_bulk_ohm=R_bulk)


def _dc(spec: Spec, backend: str) -> float:
    """DC resistance of a reference cell (ohm): a homogeneous box slab in full contact
    is L / (sigma A), which the mesh reproduces exactly; anything else is solved."""
    if _slab(spec):
        material = spec.at().electrolyte
        return spec.cell.thickness_um * UM / (material.sigma_S_per_m * spec.cell.top_area_um2 * UM**2)
    return dc_resistance(system_of(spec)[1], backend=backend)[0]


def _slab(spec: Spec) -> bool:
    """A homogeneous box in full contact: its R is L / (sigma A), in closed form."""
    return (spec.cell.shape == "box" and spec.full_contact and spec.electrode.radius_um is None
            and spec.grains is None and spec.interphase is None and spec.interface is None
            and not spec.inclusions)


def reference_bracket(spec: Spec, R_bulk: float, flux_degree: int, backend: str = "auto") -> tuple[float, float]:
    """(lower, upper) of the split reference's continuum R_bulk (ohm; solve/bounds.py): a
    slab's exactly; else the conforming value and the mixed solve of that flux degree on its
    mesh (Gmsh meshes the same spec alike)."""
    reference = full_face(spec)
    if _slab(reference):
        return R_bulk, R_bulk
    tm, grain_boundaries = tagged_cell(reference)
    return R_bulk, dc_resistance(assembled(reference, tm, grain_boundaries, flux_degree), backend=backend)[0]


def symmetric_summary(spec: Spec, R_sym: float, Z_sym: Spectrum, backend: str = "auto") -> SymmetricSummary:
    """A symmetric cell (cell.counter = "mirror") against its halves: the same WE over a
    plain CE gives Z_single = Z_bulk + Z_interface, and Z_sym = 2 Z_interface + Z_bulk
    holds where the two constriction zones do not overlap (a pellet thick against the spot
    spacing). At DC the deviation R_sym - (2 R_single - R_bulk) says how far that is (ohm);
    over the sweep, the largest |Z_sym - (2 Z_single - Z_bulk)| / |Z_sym|, with Z_single
    from a reduced sweep of the single cell and Z_bulk = R_bulk / (1 + j w tau) the
    electrolyte slab (homogeneous: a mirrored cell takes no grains or layers)."""
    single = replace(spec, cell=replace(spec.cell, counter="plane"))
    _, system = system_of(single)
    R_single = dc_resistance(system, backend=backend)[0]
    f = Z_sym.frequency_Hz
    Z_single = reduce(system, f[0], f[-1], backend=backend, progress=False).impedance(f)
    electrolyte = spec.at().electrolyte
    R_bulk = spec.cell.thickness_um * UM / (electrolyte.sigma_S_per_m * spec.cell.top_area_um2 * UM**2)
    Z_bulk = R_bulk / (1 + 2j * np.pi * f * electrolyte.tau_s)
    spectral = np.abs(Z_sym.Z_ohm - (2 * Z_single - Z_bulk)) / np.abs(Z_sym.Z_ohm)
    deviation = R_sym - (2 * R_single - R_bulk)
    return SymmetricSummary(R_single_ohm=float(R_single), R_interface_ohm=float(R_single - R_bulk),
                            R_bulk_ohm=float(R_bulk), deviation_ohm=float(deviation),
                            relative_deviation=float(deviation / R_sym),
                            spectral_relative_deviation=float(spectral.max()),
                            spectral_worst_Hz=float(f[np.argmax(spectral)]))
