"""Your own mesh as the geometry: a tetrahedral mesh file that meshio reads (Gmsh .msh,
Abaqus .inp, Medit .mesh, ...), whose named groups say which volumes are electrolyte or
gap and which surfaces are the two electrodes:

    [mesh_file]
    path = "cell.msh"
    unit_um = 1.0                                   # one mesh length unit in µm (1e6: metres)
    regions = {electrolyte = "bulk", gap = "air"}   # our region = the file's volume group
    electrodes = {working = "top", counter = "bottom"}  # the file's surface groups
    order = 2                                       # P1 or P2 on its (straight) tetrahedra
    [materials.electrolyte]
    sigma_S_per_m = 0.1
    eps_r = 10.0
    [materials.gap]                                 # optional: gas, eps_r only (default 1)
    eps_r = 1.0
    [sweep] ...

Groups are the file's named cell sets (Gmsh physical groups, Abaqus ELSETs). The file is
read and every name checked when the spec is read, before anything is solved. Downstream
(assembly, DC solves, sweep, arc, fields, studies over its materials) is the Gmsh cell's;
the static/dynamic split is not computed (no reference cell is known for an arbitrary
mesh). The thickness reported is the meshed volume over the working electrode's area.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from constriction.materials import Material
from constriction.spec import SpecError, Sweep, frequencies, material_table

REGIONS = ("electrolyte", "gap")       # what a group of tetrahedra may be
ELECTRODES = {"working": "we", "counter": "ce"}
DEGENERATE = 1e-12                       # a tetrahedron of less volume than this times the mean has none


@dataclass(frozen=True)
class MeshFileSpec:
    """A cell described by a mesh file (lengths of the file times unit_um are µm)."""
    path: Path
    regions: dict[str, str]              # our region -> the file's group name
    electrodes: dict[str, str]           # "working" / "counter" -> the file's group name
    electrolyte: Material
    gap: Material | None
    sweep: Sweep
    unit_um: float = 1.0
    order: int = 2
    tetrahedra: int = 0                  # counted when the spec was read
    temperature_K: float | None = None
    name: str = "mesh"

    def at(self, temperature_K: float | None = None) -> "MeshFileSpec":
        """Every material at `temperature_K` (default: [conditions]), as Spec.at."""
        T = self.temperature_K if temperature_K is None else temperature_K
        return self if T is None else replace(self, electrolyte=self.electrolyte.at(T), temperature_K=T)

    def frequencies_Hz(self) -> np.ndarray:
        return frequencies(self.sweep)

    def materials(self) -> dict[str, Material]:
        """Region name -> Material, at the spec's temperature."""
        spec = self.at()
        return {"electrolyte": spec.electrolyte} | ({"gap": spec.gap} if spec.gap is not None else {})

    def to_dict(self) -> dict:
        out = {"mesh_file": {"path": str(self.path.resolve()), "unit_um": self.unit_um, "order": self.order,
                             "regions": dict(self.regions), "electrodes": dict(self.electrodes)},
               "materials": {"electrolyte": material_table(self.electrolyte)},
               "sweep": self.sweep.to_dict()}
        if self.gap is not None:
            out["materials"]["gap"] = {"eps_r": self.gap.eps_r}
        if self.temperature_K is not None:
            out["conditions"] = {"temperature_K": self.temperature_K}
        return out


def read_mesh(spec: MeshFileSpec):
    """The file as meshio reads it, its groups checked: SpecError naming the key."""
    import meshio
    try:
        with contextlib.redirect_stdout(io.StringIO()) as said, contextlib.redirect_stderr(said):
            m = meshio.read(spec.path)
    except (Exception, SystemExit) as err:  # any reader failure is the file's; some of meshio's exit
        reason = said.getvalue().strip().removeprefix("Error: ") if isinstance(err, SystemExit) else \
            f"{type(err).__name__}: {err}"
        raise SpecError("mesh_file.path", f"{spec.path} cannot be read as a mesh ({reason[:120]})") from None
    types = {block.type for block in m.cells}
    if "tetra" not in types:
        quadratic = " (second-order tetrahedra: export linear ones; order = 2 makes P2 on them)" \
            if "tetra10" in types else ""
        raise SpecError("mesh_file.path", f"{spec.path} holds no linear tetrahedra{quadratic}")
    flat = _degenerate_tetrahedra(m)
    if flat:
        raise SpecError("mesh_file.path", f"{spec.path.name}: {flat:,} of {len(m.cells_dict['tetra']):,} tetrahedra "
                                          f"have no volume (coplanar or repeated nodes): remesh it")
    groups = sorted(k for k in m.cell_sets if not k.startswith("gmsh:"))
    for where, names, kind in (("regions", spec.regions, "tetra"), ("electrodes", spec.electrodes, "triangle")):
        for ours, theirs in names.items():
            if theirs not in m.cell_sets:
                raise SpecError(f"mesh_file.{where}.{ours}", f"no group {theirs!r} in {spec.path.name} "
                                                            f"(it has: {', '.join(groups) or 'no named groups'})")
            if not len(_members(m, theirs, kind)):
                raise SpecError(f"mesh_file.{where}.{ours}", f"the group {theirs!r} holds no {kind} cells")
    we, ce = (_members(m, spec.electrodes[k], "triangle") for k in ("working", "counter"))
    if np.intersect1d(np.unique(we), np.unique(ce)).size:
        raise SpecError("mesh_file.electrodes", "the working and counter electrodes share nodes: a short circuit")
    return m


def _degenerate_tetrahedra(m) -> int:
    """How many linear tetrahedra have a volume below DEGENERATE of the mean (none, in a
    mesh a mesher made: their gradients would be infinite)."""
    tets = m.cells_dict["tetra"]
    p = np.asarray(m.points, dtype=float)[:, :3]
    if p.shape[1] < 3:
        return len(tets)
    a, b, c, d = (p[tets[:, k]] for k in range(4))
    volume = np.abs(np.einsum("ij,ij->i", b - a, np.cross(c - a, d - a)))
    return int(np.count_nonzero(~(volume > DEGENERATE * volume.mean())))


def _members(m, group: str, kind: str) -> np.ndarray:
    """The node numbers of the cells of `kind` in a group (k, nodes per cell)."""
    blocks = [m.cells[k].data[np.asarray(idx)] for k, idx in enumerate(m.cell_sets[group])
              if idx is not None and len(idx) and m.cells[k].type == kind]
    return np.vstack(blocks) if blocks else np.empty((0, 3), int)
