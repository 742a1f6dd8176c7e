"""The Gmsh cell assembled: mesh the spec (cell.py), give every region its
material at the spec's temperature and the contacts and grain boundaries their surface
admittances, and assemble the pencil G + sC (solve/fem.py)."""

from __future__ import annotations

from constriction.geometry.cell import build_mesh
from constriction.geometry.grains import split_grain_boundaries
from constriction.geometry.tagged_mesh import TaggedMesh, tagged_mesh
from constriction.materials import Material
from constriction.solve.fem import System, assemble
from constriction.spec import Spec
from constriction.units import EPS0, M2_PER_CM2, UM

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
        if inclusion.kind != "metal":  # metal is an equipotential, not a material (solve/fem.py)
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
    tm, grain_boundaries = tagged_cell(spec)
    return tm, assembled(spec, tm, grain_boundaries)


def tagged_cell(spec: Spec, sizes: tuple | None = None) -> tuple[TaggedMesh, tuple | None]:
    """Mesh the cell (with an earlier mesh's `sizes` beside the grading: cell.build_mesh): its
    TaggedMesh, and with zero-thickness grain boundaries their (facing triangles, g, c,
    twins) for `assembled` (their nodes split, one copy a grain)."""
    mesh = build_mesh(spec, sizes=sizes)
    gb = grain_boundary_admittance(spec)
    if gb is None:
        return tagged_mesh(mesh), None
    mesh, facing, twins = split_grain_boundaries(mesh, _grain_numbers(mesh))
    return tagged_mesh(mesh), (facing, *gb, twins)


def assembled(spec: Spec, tm: TaggedMesh, grain_boundaries: tuple | None, flux_degree: int | None = None) -> System:
    """The System of a meshed cell (tagged_cell); with a `flux_degree` (0 or 1) its mixed
    (flux) form on the faces, whose R_dc bounds the meshed cell's from above (solve/mixed.py)."""
    gb = {} if grain_boundaries is None else {"grain_boundaries": grain_boundaries[:3], "twins": grain_boundaries[3]}
    return assemble(tm, materials_of(spec), spec.mesh.order, surface_admittance(spec), flux_degree=flux_degree,
                    **gb)


def _grain_numbers(mesh) -> dict[int, int]:
    """Gmsh volume tag -> grain number, for every volume of the electrolyte."""
    tags = set()
    for k, idx in enumerate(mesh.cell_sets["electrolyte"]):
        if idx is not None and len(idx):
            tags.update(mesh.cell_data["gmsh:geometrical"][k][idx].tolist())
    return {tag: i for i, tag in enumerate(sorted(tags))}
