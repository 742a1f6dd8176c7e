"""The Gmsh cell as a geometry source: its Size before meshing, and the Discretised cell
(assemble.py) with its reference cells for the split (reference_cells.py) and its probes."""

from __future__ import annotations

from functools import partial

from constriction.analysis.probes import probe_rows
from constriction.discretised import Discretised, ProbeRows, Size
from constriction.geometry.adapt import adapted_cell
from constriction.geometry.assemble import assembled, tagged_cell
from constriction.geometry.cell import check_resolution, edge_size_um, estimate_elements
from constriction.geometry.mesh_fields import mesh_fields
from constriction.geometry.reference_cells import constriction_split, reference_bracket, symmetric_summary
from constriction.memory import mesh_run_bytes
from constriction.solve.bounds import mesh_discretisation
from constriction.spec import Spec, SpecError
from constriction.units import UM


def cell_size(spec: Spec) -> Size:
    """The Size of a Gmsh cell, estimated before meshing, with the resolution warnings."""
    n = estimate_elements(spec)
    first = ", the first mesh of those that reach mesh.tolerance" if spec.mesh.tolerance is not None else ""
    edge = edge_size_um(spec) * spec.mesh.refine
    return Size(n, mesh_run_bytes(n, spec.mesh.order), f"about {n:,} P{spec.mesh.order} elements{first}",
                "meshing (Gmsh) and assembling",
                f"coarsen mesh.size_um, mesh.edge_size_um (the contact edges get {edge:.3g} µm) or mesh.refine",
                "mesh.size_um", tuple(check_resolution(spec)))


def discretise_cell(spec: Spec, progress: bool = True, backend: str = "auto", budget: int | None = None) -> Discretised:
    """Mesh and assemble a resolved Spec (with a [mesh] tolerance, meshes until R_dc's
    bracket is within it: adapt.py); its split solves the reference cells (reference_cells.py),
    its error bar brackets R_dc, R_inf and R_cstr on the same tetrahedra (solve/bounds.py)."""
    adapted = None
    if spec.mesh.tolerance is not None:
        adapted = adapted_cell(spec, progress, backend, budget)
        tm, grain_boundaries, system = adapted.tm, adapted.grain_boundaries, adapted.system
    else:
        tm, grain_boundaries = tagged_cell(spec)
        system = assembled(spec, tm, grain_boundaries)
    thickness = spec.cell.thickness_um * UM
    probes, terminals = None, ()
    if spec.probes:
        rows = probe_rows(system, spec.probes, spec.cell.thickness_um)
        electrodes = set(system.we) | set(system.ce)
        for k, p in enumerate(spec.probes):
            if p.inclusion is not None and (not set(rows[k].indices) <= set(system.bodies)
                                            or set(rows[k].indices) & electrodes):
                raise SpecError(f"probes[{k}].inclusion", f"inclusions[{p.inclusion}] touches an electrode: a "
                                                          f"reference electrode must float in the electrolyte")
        probes = ProbeRows(names=tuple(p.name for p in spec.probes), rows=rows)
        terminals = tuple((p.name, rows[k].indices) for k, p in enumerate(spec.probes) if p.inclusion is not None)
    symmetric = partial(symmetric_summary, spec) if spec.cell.counter == "mirror" else None
    return Discretised(system=system, thickness_m=thickness, probes=probes, symmetric=symmetric, terminals=terminals,
                       electrode_area_m2=spec.electrode_area_um2 * UM**2,
                       contact_area_m2=spec.contact_area_um2 * UM**2, counter_area_m2=tm.facet_area_m2("ce"),
                       elements=tm.n_elements, order=spec.mesh.order,
                       split=partial(constriction_split, spec),
                       error_bar=partial(mesh_discretisation, partial(assembled, spec, tm, grain_boundaries),
                                         partial(reference_bracket, spec), spec.name, _as_meshed(spec, tm),
                                         adapted=adapted, budget=budget),
                       fields=mesh_fields(system, thickness))


def _as_meshed(spec: Spec, tm) -> str:
    """What the error bar's note says of the geometry it brackets: the meshed one, whose
    contacts (circular rims as polygons) may hold less area than the spec's."""
    nominal = spec.contact_area_um2 * UM**2
    if "contacts" not in tm.boundaries or not nominal:
        return ""
    short = 1 - tm.facet_area_m2("contacts") / nominal
    if short < 1e-6:  # more: metal inside the electrolyte touching the WE adds its surface to the contacts
        return ""
    return (f"the bracket is of the meshed geometry, whose contacts hold {100 * short:.2g} % less area than "
            f"the spec's (a finer mesh narrows that)")
