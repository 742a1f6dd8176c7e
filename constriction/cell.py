"""From a spec to an assembled System: mesh it with Gmsh, assemble its regions."""

from __future__ import annotations

from .fem import System, assemble
from .geometry import build_mesh
from .mesh import TaggedMesh, tagged_mesh
from .spec import Material, Spec


GAS = Material(sigma_S_per_m=0.0, eps_r=1.0)  # pores and voids
CM2 = 1e-4  # m² per cm²


def materials_of(spec: Spec) -> dict[str, Material]:
    """Region name -> Material for every region the spec meshes (gas: sigma = 0)."""
    materials = {"electrolyte": spec.electrolyte}
    if spec.has_gap:
        materials["gap"] = Material(sigma_S_per_m=0.0, eps_r=spec.gap.eps_r)
    if spec.pores:
        materials["pores"] = GAS
    if spec.voids:
        materials["voids"] = GAS
    if spec.interphase is not None:
        materials["interphase"] = spec.interphase.material
    return materials


def surface_admittance(spec: Spec) -> tuple[float, float] | None:
    """(g in S/m², c in F/m²) of the contacts' surface admittance, or None."""
    i = spec.interface
    if i is None:
        return None
    g = 0.0 if i.blocking else 1.0 / (i.R_ct_ohm_cm2 * CM2)
    return g, i.C_dl_F_per_cm2 / CM2


def system_of(spec: Spec) -> tuple[TaggedMesh, System]:
    """Mesh and assemble the cell described by `spec`."""
    tm = tagged_mesh(build_mesh(spec))
    return tm, assemble(tm, materials_of(spec), spec.mesh.order, surface_admittance(spec))
