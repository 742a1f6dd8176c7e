"""From a spec to an assembled System: mesh it with Gmsh, assemble its regions."""

from __future__ import annotations

from .fem import System, assemble
from .geometry import build_mesh
from .mesh import TaggedMesh, tagged_mesh
from .spec import Material, Spec


def materials_of(spec: Spec) -> dict[str, Material]:
    """Region name -> Material: the electrolyte, and the gap (sigma = 0) if there is one."""
    materials = {"electrolyte": spec.electrolyte}
    if spec.has_gap:
        materials["gap"] = Material(sigma_S_per_m=0.0, eps_r=spec.gap.eps_r)
    return materials


def system_of(spec: Spec) -> tuple[TaggedMesh, System]:
    """Mesh and assemble the cell described by `spec`."""
    tm = tagged_mesh(build_mesh(spec))
    return tm, assemble(tm, materials_of(spec), spec.mesh.order)
