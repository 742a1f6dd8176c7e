"""Gmsh (OpenCASCADE) model of a cell: electrolyte, electrode, contact spots, gap.

The model is built in µm (Gmsh/OCC tolerances are absolute, ~1e-8) and meshed there;
`mesh.py` scales to metres afterwards. Boundaries and regions leave this module only as
physical groups:

    volumes   electrolyte, gap
    surfaces  we (contact spots, gap ceiling, metal walls around the spots),
              contacts (the spots alone), ce (the whole bottom face)

They are found from the fragment map and curve adjacency, never from coordinates.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import gmsh
import meshio

from .spec import Spec

GRADING = 0.25  # element size grows by this much per µm of distance from a contact edge
ELEMENTS_PER_CIRCLE = 64  # a full circle: the meshed disk area is then 0.16 % short


def build_mesh(spec: Spec, verbose: bool = False) -> meshio.Mesh:
    """Mesh the cell described by `spec`; points in µm, cell sets named as above."""
    with _gmsh_session(verbose):
        groups, edge_curves = _build_model(spec)
        _set_mesh_sizes(spec, edge_curves)
        for dim, name in ((3, "electrolyte"), (3, "gap"), (2, "we"), (2, "contacts"), (2, "ce")):
            if groups.get(name):
                gmsh.model.addPhysicalGroup(dim, sorted(set(groups[name])), name=name)
        gmsh.model.mesh.generate(3)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cell.msh"
            gmsh.write(str(path))
            return meshio.read(path, file_format="gmsh")


@contextmanager
def _gmsh_session(verbose: bool):
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 1 if verbose else 0)
        gmsh.model.add("cell")
        yield
    finally:
        gmsh.finalize()


def _build_model(spec: Spec) -> tuple[dict[str, list[int]], list[int]]:
    """Create and fragment the OCC entities; return physical-group tags and edge curves."""
    occ = gmsh.model.occ
    cell, L = spec.cell, spec.cell.thickness_um

    # electrolyte volume, and a copy of its bottom face that the fragment map will follow (CE)
    if cell.shape == "cylinder":
        electrolyte = occ.addCylinder(0, 0, 0, 0, 0, L, cell.radius_um)
    else:
        electrolyte = occ.addBox(-cell.side_um / 2, -cell.side_um / 2, 0, cell.side_um, cell.side_um, L)
    bottom = _cross_section(cell, 0.0)

    electrode = _electrode_face(spec, L)
    spots = [occ.addDisk(c.x_um, c.y_um, L, c.radius_um, c.radius_um) for c in spec.contacts or ()]

    tools = [(2, bottom)] + [(2, s) for s in spots]
    gap_volumes = []
    if spec.has_gap:
        base = [(2, electrode)]
        if spots:
            base, _ = occ.cut(base, [(2, s) for s in spots], removeObject=True, removeTool=False)
        gap_volumes = [d for d in occ.extrude(base, 0, 0, spec.gap.height_um) if d[0] == 3]
        tools += gap_volumes
    elif spec.full_contact:
        tools.append((2, electrode))
    else:
        occ.remove([(2, electrode)])

    _, pieces = occ.fragment([(3, electrolyte)], tools)
    occ.synchronize()
    fragment_of = dict(zip([(3, electrolyte)] + tools, pieces))

    electrolyte_vols = _tags(fragment_of[(3, electrolyte)])

    contact_faces = [t for s in spots for t in _tags(fragment_of[(2, s)])]
    edge_curves = _curves(contact_faces)
    groups = {"electrolyte": electrolyte_vols, "ce": _tags(fragment_of[(2, bottom)]),
              "contacts": contact_faces}

    if spec.has_gap:
        gap_vols = [t for v in gap_volumes for t in _tags(fragment_of[v])]
        groups["gap"] = gap_vols
        groups["we"] = contact_faces + _metal_faces(gap_vols, electrolyte_vols, edge_curves)
    elif spec.full_contact:
        groups["we"] = _tags(fragment_of[(2, electrode)])
        if spec.electrode.radius_um is not None:  # a smaller electrode: refine along its rim
            edge_curves = _tags(gmsh.model.getBoundary([(2, f) for f in groups["we"]],
                                                       combined=True, oriented=False))
    else:
        groups["we"] = contact_faces
    return groups, edge_curves


def _electrode_face(spec: Spec, z: float) -> int:
    """The electrode footprint at height z: a disk, or the whole top face of the cell."""
    r = spec.electrode.radius_um
    if r is None:
        return _cross_section(spec.cell, z)
    x, y = spec.electrode.offset_um
    return gmsh.model.occ.addDisk(x, y, z, r, r)


def _cross_section(cell, z: float) -> int:
    """A face covering the whole cross-section of the cell at height z (µm)."""
    occ = gmsh.model.occ
    if cell.shape == "cylinder":
        return occ.addDisk(0, 0, z, cell.radius_um, cell.radius_um)
    return occ.addRectangle(-cell.side_um / 2, -cell.side_um / 2, z, cell.side_um, cell.side_um)


def _metal_faces(gap_vols: list[int], electrolyte_vols: list[int], edge_curves: list[int]) -> list[int]:
    """Faces of the gaps that belong to the metal (WE), found by topology.

    A gap face not shared with the electrolyte is metal if it rises from a contact edge
    (the walls around a spot) or if it does not touch the electrolyte surface at all
    (the ceiling). The remaining faces rise from the electrode rim: insulating."""
    gap_faces = set(_tags(gmsh.model.getBoundary([(3, v) for v in gap_vols], oriented=False)))
    electrolyte_faces = set(_tags(gmsh.model.getBoundary([(3, v) for v in electrolyte_vols],
                                                         oriented=False)))
    interface = gap_faces & electrolyte_faces
    interface_curves = set(_curves(interface))
    metal = []
    for face in sorted(gap_faces - interface):
        curves = set(_curves([face]))
        if curves & set(edge_curves) or not curves & interface_curves:
            metal.append(face)
    return metal


def _curves(faces) -> list[int]:
    return _tags(gmsh.model.getBoundary([(2, f) for f in faces], combined=False, oriented=False))


def _tags(dimtags) -> list[int]:
    return [abs(t) for _, t in dimtags]


def _set_mesh_sizes(spec: Spec, edge_curves: list[int]):
    """Graded sizes: edge_size at the contact (or electrode) edges, growing linearly
    with distance up to the far-field size; both scaled by mesh.refine."""
    m = spec.mesh
    far = m.size_um * m.refine
    edge = edge_size_um(spec) * m.refine
    gmsh.option.setNumber("Mesh.MeshSizeMax", far)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", ELEMENTS_PER_CIRCLE)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.Algorithm3D", 10)  # HXT: fast and robust on graded meshes
    if not edge_curves:
        return
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, "CurvesList", edge_curves)
    field.setNumber(distance, "Sampling", 200)
    graded = field.add("MathEval")
    field.setString(graded, "F", f"Min({far}, {edge} + {GRADING} * F{distance})")
    field.setAsBackgroundMesh(graded)


def edge_size_um(spec: Spec) -> float:
    """Element size at contact edges before `refine` (µm): given, or radius / 25."""
    if spec.mesh.edge_size_um is not None:
        return spec.mesh.edge_size_um
    radii = [c.radius_um for c in spec.contacts or ()]
    if spec.electrode.radius_um is not None:
        radii.append(spec.electrode.radius_um)
    return min(radii, default=spec.cell.half_width_um) / 25
