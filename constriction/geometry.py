"""Gmsh (OpenCASCADE) model of a cell: electrolyte, electrode, contact spots, gap.

The model is built in µm (Gmsh/OCC tolerances are absolute, ~1e-8) and meshed there;
`mesh.py` scales to metres afterwards. Boundaries and regions leave this module only as
physical groups:

    volumes   electrolyte (its grains, if any), grain_boundary (meshed GB layers),
              interphase (a layer under the contacts), gap (between spots),
              pores (in the metal over a full contact), voids (inside the electrolyte)
    surfaces  we (contacts and the metal side of gaps and pores),
              contacts (where metal touches the electrolyte), ce (the whole bottom face),
              gb (faces between grains, for zero-thickness grain boundaries)

They are found from the fragment map and curve adjacency, never from coordinates.
"""

from __future__ import annotations

import math
import tempfile
from contextlib import contextmanager
from pathlib import Path

import gmsh
import meshio

from .grains import grain_volumes, shared_faces
from .spec import Spec

GRADING = 0.25  # element size grows by this much per µm of distance from a contact edge
ELEMENTS_PER_CIRCLE = 64  # a full circle: the meshed disk area is then 0.16 % short


def build_mesh(spec: Spec, verbose: bool = False) -> meshio.Mesh:
    """Mesh the cell described by `spec`; points in µm, cell sets named as above."""
    with _gmsh_session(verbose):
        groups, edge_curves = _build_model(spec)
        _set_mesh_sizes(spec, edge_curves)
        for dim, name in ((3, "electrolyte"), (3, "grain_boundary"), (3, "interphase"), (3, "gap"),
                          (3, "pores"), (3, "voids"), (2, "we"), (2, "contacts"), (2, "ce"), (2, "gb")):
            if groups.get(name):
                gmsh.model.addPhysicalGroup(dim, sorted(set(groups[name])), name=name)
        try:
            gmsh.model.mesh.generate(3)
        except Exception as err:  # Gmsh reports a geometry it cannot mesh as a bare Exception
            raise MeshError(f"Gmsh could not mesh this geometry ({str(err).strip()[:120]}); features far "
                            f"thinner than their neighbours' element size are the usual cause: "
                            f"check the sizes in [mesh] against the smallest feature") from None
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cell.msh"
            gmsh.write(str(path))
            return meshio.read(path, file_format="gmsh")


class MeshError(ValueError):
    """A geometry that Gmsh could not mesh; the message says what to check."""


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

    # electrolyte volume (or its grains and GB layers), and a copy of its bottom face that
    # the fragment map will follow (CE)
    gb_layers = []
    if spec.grains is not None:
        solid, gb_layers = grain_volumes(cell, spec.grains)
    elif cell.shape == "cylinder":
        solid = [(3, occ.addCylinder(0, 0, 0, 0, 0, L, cell.radius_um))]
    else:
        solid = [(3, occ.addBox(-cell.side_um / 2, -cell.side_um / 2, 0, cell.side_um, cell.side_um, L))]
    bottom = _cross_section(cell, 0.0)

    # faces where metal touches the electrolyte, and the gas volumes above the surface
    electrode = _electrode_face(spec, L)
    pore_volumes = []
    if spec.full_contact:
        contacts = [electrode]
        if spec.pores:
            footprints = [(2, occ.addDisk(p.x_um, p.y_um, L, p.radius_um, p.radius_um)) for p in spec.pores]
            cut, _ = occ.cut([(2, electrode)], footprints)
            contacts = _tags(cut)
            pore_volumes = [(3, _pore_volume(p, L)) for p in spec.pores]
    else:
        contacts = _contact_faces(spec, L)
    gap_volumes = []
    if spec.has_gap:
        base = [(2, electrode)]
        if contacts:
            base, _ = occ.cut(base, [(2, c) for c in contacts], removeObject=True, removeTool=False)
        gap_volumes = [d for d in occ.extrude(base, 0, 0, spec.gap.height_um) if d[0] == 3]
    elif not spec.full_contact:
        occ.remove([(2, electrode)])
    void_volumes = [(3, occ.addCylinder(v.x_um, v.y_um, L - v.depth_um - v.height_um, 0, 0, v.height_um,
                                        v.radius_um)) for v in spec.voids]
    interphase_volumes = []
    if spec.interphase is not None:  # extrude copies: a tool face must not bound another input
        layer = occ.copy([(2, c) for c in contacts])
        interphase_volumes = [d for d in occ.extrude(layer, 0, 0, -spec.interphase.thickness_um) if d[0] == 3]

    tools = ([(2, bottom)] + [(2, c) for c in contacts] + gap_volumes + pore_volumes
             + void_volumes + interphase_volumes)
    _, pieces = occ.fragment(solid + gb_layers, tools)
    occ.synchronize()
    fragment_of = dict(zip(solid + gb_layers + tools, pieces))

    def images(entities):
        return sorted({t for e in entities for t in _tags(fragment_of[e])})

    contact_faces = images((2, c) for c in contacts)
    gap, pores = images(gap_volumes), images(pore_volumes)
    voids, interphase = images(void_volumes), images(interphase_volumes)
    electrolyte_vols = sorted(set(images(solid)) - set(voids) - set(interphase))
    gb_layer_vols = sorted(set(images(gb_layers)) - set(voids) - set(interphase))

    rims = _edge_curves(spec, contact_faces, gap + pores)
    metal = _metal_faces(gap + pores, electrolyte_vols + gb_layer_vols + interphase, rims) if gap + pores else []
    groups = {"electrolyte": electrolyte_vols, "grain_boundary": gb_layer_vols,
              "gb": shared_faces(electrolyte_vols) if spec.grains and spec.grains.model == "interface" else [],
              "interphase": interphase, "gap": gap, "pores": pores,
              "voids": voids, "ce": images([(2, bottom)]), "contacts": contact_faces,
              "we": contact_faces + metal}
    return groups, rims + _curves_of_volumes(voids)


def _contact_faces(spec: Spec, z: float) -> list[int]:
    """Contact spots (disks) or the pixel patches of a contact map (fused rectangles)."""
    occ = gmsh.model.occ
    if spec.contact_map is None:
        return [occ.addDisk(c.x_um, c.y_um, z, c.radius_um, c.radius_um) for c in spec.contacts]
    rectangles = [(2, occ.addRectangle(x, y, z, w, h)) for x, y, w, h in spec.contact_map.rectangles()]
    if len(rectangles) > 1:
        rectangles, _ = occ.fuse(rectangles[:1], rectangles[1:])
    return _tags(rectangles)


def _pore_volume(pore, z: float) -> int:
    """A flat pore (cylinder) or a lens (spherical cap) on the footprint at height z (µm)."""
    occ = gmsh.model.occ
    cylinder = occ.addCylinder(pore.x_um, pore.y_um, z, 0, 0, pore.height_um, pore.radius_um)
    if pore.shape == "flat":
        return cylinder
    r, h = pore.radius_um, pore.height_um
    sphere_radius = (r**2 + h**2) / (2 * h)
    sphere = occ.addSphere(pore.x_um, pore.y_um, z + h - sphere_radius, sphere_radius)
    cap, _ = occ.intersect([(3, sphere)], [(3, cylinder)])
    return cap[0][1]


def _edge_curves(spec: Spec, contact_faces: list[int], gas: list[int]) -> list[int]:
    """Curves where the contact ends: spot and map outlines, pore rims, and the rim of an
    electrode smaller than the cell; not the cell's own outer edge."""
    outline = _tags(gmsh.model.getBoundary([(2, f) for f in contact_faces], combined=True, oriented=False))
    if spec.full_contact and spec.electrode.radius_um is None:
        return _shared_curves(contact_faces, gas)
    return sorted(set(outline) | set(_shared_curves(contact_faces, gas)))


def _shared_curves(faces: list[int], volumes: list[int]) -> list[int]:
    """Curves of `faces` that also bound one of `volumes`."""
    if not volumes:
        return []
    volume_faces = _tags(gmsh.model.getBoundary([(3, v) for v in volumes], oriented=False))
    return sorted(set(_curves(faces)) & set(_curves(volume_faces)))


def _curves_of_volumes(volumes: list[int]) -> list[int]:
    if not volumes:
        return []
    return _curves(_tags(gmsh.model.getBoundary([(3, v) for v in volumes], oriented=False)))


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
    radii = [c.radius_um for c in (*(spec.contacts or ()), *spec.pores, *spec.voids)]
    if spec.electrode.radius_um is not None:
        radii.append(spec.electrode.radius_um)
    if spec.contact_map is not None:
        radii.append(2.5 * spec.contact_map.pixel_um)  # a pixel gets ~10 elements across
    return min(radii, default=spec.cell.half_width_um) / 25


def estimate_elements(spec: Spec) -> int:
    """About how many tetrahedra Gmsh will make for `spec`, from its sizes and geometry,
    before any meshing: the far field at mesh.size_um, plus the graded tube around every
    contact, pore, void and electrode rim (size edge + GRADING d at distance d), plus a
    few hundred elements for every grain."""
    m = spec.mesh
    far, edge = m.size_um * m.refine, min(edge_size_um(spec), m.size_um) * m.refine
    volume = spec.cell.top_area_um2 * spec.cell.thickness_um + spec.electrode_area_um2 * spec.gap.height_um
    volume += sum(math.pi * p.radius_um**2 * p.height_um for p in spec.pores)
    rims = sum(2 * math.pi * r for r in [c.radius_um for c in spec.contacts or ()] + [p.radius_um for p in spec.pores])
    rims += sum(4 * math.pi * v.radius_um for v in spec.voids)
    if spec.contact_map is not None:
        rims += sum(2 * (w + h) for _, _, w, h in spec.contact_map.rectangles())
    if spec.electrode.radius_um is not None:
        rims += 2 * math.pi * spec.electrode.radius_um
    # per unit rim length: int 2 pi r dr / h(r)^3 over the graded tube, h = edge + g r
    g = GRADING
    tube = 2 * math.pi / g**2 * (1 / (2 * edge) - 1 / far + edge / (2 * far**2))
    grains = 0.0
    if spec.grains is not None:
        n = spec.cell.thickness_um / spec.grains.size_um
        grains = n if spec.grains.kind == "layers" else n * spec.cell.top_area_um2 / spec.grains.size_um**2
    # fitted to the example meshes (specs/*.toml: within 25 %)
    return int(6.0 * volume / far**3 + 2.5 * rims * tube + 300 * grains)
