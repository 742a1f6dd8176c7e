"""From a spec to an assembled System: mesh it with Gmsh and assemble its regions, read a
labelled image and assemble its voxel grid (voxels.py), or read the user's own mesh
(meshfile.py). `size_of` and `discretise` are the only places that tell these geometry
sources apart; downstream everything is shared."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from .fem import System, assemble
from .grains import split_grain_boundaries
from .geometry import build_mesh
from .mesh import TaggedMesh, tagged_mesh
from .units import EPS0, M2_PER_CM2, UM
from .materials import Material
from .spec import Spec


GAS = Material(sigma_S_per_m=0.0, eps_r=1.0)  # pores and voids


def materials_of(spec: Spec) -> dict[str, Material]:
    """Region name -> Material for every region the spec meshes (gas: sigma = 0), at the
    spec's temperature."""
    spec = spec.at()
    materials = {"electrolyte": spec.electrolyte}
    if spec.has_gap:
        materials["gap"] = Material(sigma_S_per_m=0.0, eps_r=spec.gap.eps_r)
    if spec.pores:
        materials["pores"] = GAS
    if spec.voids:
        materials["voids"] = GAS
    if spec.interphase is not None:
        materials["interphase"] = spec.interphase.material
    if spec.grains is not None and spec.grains.model == "layer":
        materials["grain_boundary"] = spec.grains.gb
    for inclusion in spec.inclusions:
        if inclusion.kind != "metal":  # metal is an equipotential, not a material (fem.py)
            materials[inclusion.region] = inclusion.material
    return materials


def grain_boundary_admittance(spec: Spec) -> tuple[float, float] | None:
    """(g in S/m², c in F/m²) of zero-thickness grain boundaries: (sigma, eps0 eps_r) / delta."""
    grains = spec.grains
    if grains is None or grains.model != "interface":
        return None
    gb, delta = spec.at().grains.gb, grains.gb_thickness_um * UM
    return gb.sigma_S_per_m / delta, EPS0 * gb.eps_r / delta


def surface_admittance(spec: Spec) -> tuple[float, float] | None:
    """(g in S/m², c in F/m²) of the contacts' surface admittance, or None."""
    i = spec.interface
    if i is None:
        return None
    g = 0.0 if i.blocking else 1.0 / (i.R_ct_ohm_cm2 * M2_PER_CM2)
    return g, i.C_dl_F_per_cm2 / M2_PER_CM2


def system_of(spec: Spec) -> tuple[TaggedMesh, System]:
    """Mesh and assemble the cell described by `spec`."""
    mesh = build_mesh(spec)
    gb = grain_boundary_admittance(spec)
    if gb is None:
        tm = tagged_mesh(mesh)
        return tm, assemble(tm, materials_of(spec), spec.mesh.order, surface_admittance(spec))
    mesh, facing, twins = split_grain_boundaries(mesh, _grain_numbers(mesh))
    tm = tagged_mesh(mesh)
    return tm, assemble(tm, materials_of(spec), spec.mesh.order, surface_admittance(spec),
                        grain_boundaries=(facing, *gb), twins=twins)


def _grain_numbers(mesh) -> dict[int, int]:
    """Gmsh volume tag -> grain number, for every volume of the electrolyte."""
    tags = set()
    for k, idx in enumerate(mesh.cell_sets["electrolyte"]):
        if idx is not None and len(idx):
            tags.update(mesh.cell_data["gmsh:geometrical"][k][idx].tolist())
    return {tag: i for i, tag in enumerate(sorted(tags))}


@dataclass(frozen=True)
class Size:
    """What a run on a spec will hold, known before meshing or reading: `n` tetrahedra (or
    voxels), about `bytes` of memory; `what` says so in words, `doing` what comes first,
    `shrink` how to make it smaller, `key` the spec key that sets it; `warnings` about
    element sizes against the features they must resolve."""
    n: int
    bytes: int
    what: str
    doing: str
    shrink: str
    key: str
    warnings: tuple[str, ...] = ()


def size_of(spec) -> Size:
    """The Size of a run on a resolved Spec, ImageSpec or MeshFileSpec (memory.py)."""
    from .geometry import check_resolution, estimate_elements
    from .image import ImageSpec, voxel_count
    from .memory import image_run_bytes, mesh_run_bytes
    from .meshfile import MeshFileSpec
    if isinstance(spec, ImageSpec):
        n = voxel_count(spec)
        return Size(n, image_run_bytes(n), f"{n:,} voxels after crop, coarsening and subdivision",
                    f"reading {spec.path.name}", "crop or coarsen the image", "image")
    if isinstance(spec, MeshFileSpec):
        n = spec.tetrahedra
        return Size(n, mesh_run_bytes(n, spec.order), f"{n:,} tetrahedra, P{spec.order}",
                    f"reading {spec.path.name} and assembling", "coarsen the mesh or use order = 1", "mesh_file")
    n = estimate_elements(spec)
    return Size(n, mesh_run_bytes(n, spec.mesh.order), f"about {n:,} P{spec.mesh.order} elements",
                "meshing (Gmsh) and assembling", "coarsen mesh.size_um, mesh.edge_size_um or mesh.refine",
                "mesh.size_um", tuple(check_resolution(spec)))


@dataclass(frozen=True)
class Discretised:
    """A cell ready to solve: its System, the sizes its summary reports (SI), and what
    differs between geometry sources (Gmsh cell, voxel image, mesh file):
    split(R_dc, backend)   the static/dynamic split of R_dc (its reference cells);
    fields(potentials)     (Fields, ContactCurrent) from {f_Hz: potential}, the current at
                           the first frequency;
    error_bar(...)         images only: the discretisation record (error_bar.py);
    probes                 reference electrodes of a Gmsh cell (probes.py)."""
    system: System
    thickness_m: float
    electrode_area_m2: float
    contact_area_m2: float
    counter_area_m2: float    # as meshed or voxelised
    elements: int             # tetrahedra, or voxels
    order: int
    split: Callable
    fields: Callable
    error_bar: Callable | None = None
    probes: tuple | None = None         # (names, probes x unknowns interpolation rows), probes.py
    symmetric: Callable | None = None   # (R_dc, R_bulk, backend) -> SymmetricSummary: mirrored CE


def discretise(spec, progress: bool = True) -> Discretised:
    """The Discretised cell of a resolved Spec (Gmsh), ImageSpec (voxels) or MeshFileSpec
    (the user's mesh): the one place that tells the geometry sources apart."""
    from .fields import contact_current, fields_of
    from .image import ImageSpec
    from .meshfile import MeshFileSpec, discretise_mesh_file
    from .split import ConstrictionSplit, constriction_split, image_split

    def mesh_fields(system, thickness_m):
        return lambda potentials: (fields_of(system, potentials, thickness_m),
                                   contact_current(system, *_lowest(potentials)))
    if isinstance(spec, ImageSpec):
        from .error_bar import image_discretisation
        from .image import read_labels
        from .voxel_fields import grid_contact_current, grid_fields
        from .voxels import grid_system
        grid, system = grid_system(read_labels(spec), spec, progress)
        return Discretised(system=system, thickness_m=grid.thickness_m, electrode_area_m2=grid.face_area_m2,
                           contact_area_m2=grid.contact_area_m2, counter_area_m2=grid.face_area_m2,
                           elements=math.prod(grid.shape), order=1,
                           split=lambda R_dc, backend: image_split(grid, R_dc, backend),
                           error_bar=partial(image_discretisation, spec),
                           fields=lambda potentials: (grid_fields(grid, potentials),
                                                      grid_contact_current(grid, *_lowest(potentials))))
    if isinstance(spec, MeshFileSpec):
        tm, system, thickness = discretise_mesh_file(spec)
        we = tm.facet_area_m2("we")
        return Discretised(system=system, thickness_m=thickness, electrode_area_m2=we, contact_area_m2=we,
                           counter_area_m2=tm.facet_area_m2("ce"), elements=tm.n_elements, order=spec.order,
                           split=lambda R_dc, backend: ConstrictionSplit(R_dc_ohm=R_dc, R_electrode_ohm=math.nan,
                                                                         R_bulk_ohm=math.nan),
                           fields=mesh_fields(system, thickness))
    tm, system = system_of(spec)
    thickness = spec.cell.thickness_um * UM
    probes = None
    if spec.probes:
        from .probes import probe_rows
        probes = (tuple(p.name for p in spec.probes), probe_rows(system, spec.probes, spec.cell.thickness_um))
    symmetric = None
    if spec.cell.counter == "mirror":
        from .split import symmetric_summary
        symmetric = partial(symmetric_summary, spec)
    return Discretised(system=system, thickness_m=thickness, probes=probes, symmetric=symmetric,
                       electrode_area_m2=spec.electrode_area_um2 * UM**2,
                       contact_area_m2=spec.contact_area_um2 * UM**2, counter_area_m2=tm.facet_area_m2("ce"),
                       elements=tm.n_elements, order=spec.mesh.order,
                       split=lambda R_dc, backend: constriction_split(spec, R_dc, backend),
                       fields=mesh_fields(system, thickness))


def _lowest(potentials: dict) -> tuple:
    """(potential, frequency) of the first (lowest) frequency of {f_Hz: potential}."""
    f = next(iter(potentials))
    return potentials[f], f
