"""The user's mesh as a geometry source: its Size (the tetrahedra counted when the spec
was read) and the Discretised cell, assembled like a Gmsh cell."""

from __future__ import annotations

from functools import partial

import meshio
import numpy as np

from constriction.analysis.split import ConstrictionSplit
from constriction.discretised import Discretised, Size
from constriction.geometry.mesh_fields import mesh_fields
from constriction.geometry.tagged_mesh import tagged_mesh
from constriction.memory import mesh_run_bytes
from constriction.meshfile.read import ELECTRODES, MeshFileSpec, read_mesh
from constriction.solve.bounds import mesh_discretisation
from constriction.solve.fem import assemble


def mesh_file_size(spec: MeshFileSpec) -> Size:
    """The Size of a run on a mesh file: its tetrahedra, counted when the spec was read."""
    n = spec.tetrahedra
    return Size(n, mesh_run_bytes(n, spec.order), f"{n:,} tetrahedra, P{spec.order}",
                f"reading {spec.path.name} and assembling", "coarsen the mesh or use order = 1", "mesh_file")


def discretise_mesh_file(spec: MeshFileSpec, budget: int | None = None) -> Discretised:
    """The mesh file as a Discretised cell: its groups renamed to ours, lengths scaled to
    µm, assembled like a Gmsh cell, with its error bar (solve/bounds.py; `budget`, bytes, the
    memory it may take). No reference cell: its split leaves R_dc whole."""
    tm, system, thickness = assemble_mesh_file(spec)
    we = tm.facet_area_m2("we")
    return Discretised(system=system, thickness_m=thickness, electrode_area_m2=we, contact_area_m2=we,
                       counter_area_m2=tm.facet_area_m2("ce"), elements=tm.n_elements, order=spec.order,
                       split=lambda R_dc, backend: ConstrictionSplit.unknown(R_dc),
                       fields=mesh_fields(system, thickness),
                       error_bar=partial(mesh_discretisation, partial(_dual, tm, spec.materials()), None,
                                         spec.path.name, "", budget=budget))


def _dual(tm, materials, flux_degree: int):
    """The mesh file's mixed System of that flux degree (solve/bounds.py)."""
    return assemble(tm, materials, flux_degree=flux_degree)


def assemble_mesh_file(spec: MeshFileSpec):
    """(TaggedMesh, System, thickness in m): the thickness is the volume over the WE area."""
    m = read_mesh(spec)
    names = {theirs: ours for ours, theirs in spec.regions.items()}
    names |= {theirs: ELECTRODES[ours] for ours, theirs in spec.electrodes.items()}
    renamed = meshio.Mesh(m.points * spec.unit_um, m.cells,
                          cell_sets={names[k]: [np.asarray(idx if idx is not None else [], dtype=np.int64) for idx in v]
                                     for k, v in m.cell_sets.items() if k in names})
    tm = tagged_mesh(renamed)
    system = assemble(tm, spec.materials(), spec.order)
    p, t = tm.mesh.p, tm.mesh.t[:, np.concatenate([tm.regions[r] for r in spec.regions])]
    volume = np.abs(np.einsum("ij,ij->j", np.cross((p[:, t[1]] - p[:, t[0]]).T, (p[:, t[2]] - p[:, t[0]]).T).T,
                              p[:, t[3]] - p[:, t[0]])).sum() / 6
    return tm, system, volume / tm.facet_area_m2("we")
