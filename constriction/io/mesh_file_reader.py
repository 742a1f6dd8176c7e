"""Reading a mesh-file spec: `[mesh_file]` and its `[materials]` (plain dicts as TOML
gives them) to a MeshFileSpec (meshfile/read.py, where the tables are explained); the file
itself is read here too, so that every group name is checked before anything is solved."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from constriction.io.toml_fields import (file_path, only_keys, positive, read_material, read_sweep, read_temperature,
                                         subtable)
from constriction.materials import Material
from constriction.meshfile.read import ELECTRODES, REGIONS, MeshFileSpec, read_mesh
from constriction.spec import SpecError


def mesh_file_spec_from_dict(data: dict, name: str = "mesh", base_dir: Path | None = None) -> MeshFileSpec:
    """Validate a [mesh_file] spec and the file's groups (SpecError naming the key)."""
    only_keys(data, "", {"mesh_file", "materials", "sweep", "conditions"})
    t = subtable(data, "mesh_file", required=True)
    only_keys(t, "mesh_file", {"path", "unit_um", "regions", "electrodes", "order"})
    path = file_path(t, "path", "mesh_file", base_dir, "a mesh file (.msh, .inp, .mesh, ... anything meshio reads)")
    order = t.get("order", 2)
    if order not in (1, 2) or isinstance(order, bool):
        raise SpecError("mesh_file.order", f"must be 1 or 2, got {order!r}")
    regions = _names(t, "regions", REGIONS, required=("electrolyte",))
    electrodes = _names(t, "electrodes", tuple(ELECTRODES), required=tuple(ELECTRODES))
    materials = subtable(data, "materials", required=True)
    only_keys(materials, "materials", {"electrolyte", "gap"})
    electrolyte = read_material(subtable(materials, "electrolyte", "materials", required=True),
                            "materials.electrolyte", {"activation_eV", "T_ref_K"})
    gap = None
    if "gap" in regions:
        g = subtable(materials, "gap", "materials")
        only_keys(g, "materials.gap", {"eps_r"})
        gap = Material(sigma_S_per_m=0.0, eps_r=positive(g, "eps_r", "materials.gap", default=1.0))
    spec = MeshFileSpec(path=path, regions=regions, electrodes=electrodes, electrolyte=electrolyte, gap=gap,
                        sweep=read_sweep(subtable(data, "sweep", required=True)),
                        unit_um=positive(t, "unit_um", "mesh_file", default=1.0), order=order,
                        temperature_K=read_temperature(subtable(data, "conditions")), name=name)
    return replace(spec, tetrahedra=len(read_mesh(spec).cells_dict.get("tetra", ())))


def _names(t: dict, key: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict[str, str]:
    table = t.get(key)
    if not isinstance(table, dict):
        raise SpecError(f"mesh_file.{key}", f"missing: a table such as {{{', '.join(f'{a} = ...' for a in required)}}}")
    for k, v in table.items():
        if k not in allowed:
            raise SpecError(f"mesh_file.{key}.{k}", f"unknown (known: {', '.join(allowed)})")
        if not isinstance(v, str) or not v:
            raise SpecError(f"mesh_file.{key}.{k}", "must name a group of the mesh file")
    for k in required:
        if k not in table:
            raise SpecError(f"mesh_file.{key}.{k}", "missing")
    return dict(table)
