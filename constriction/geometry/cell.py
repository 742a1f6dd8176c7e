"""Gmsh (OpenCASCADE) model of a cell: electrolyte, electrode, contact spots, gap.

The model is built in µm (Gmsh/OCC tolerances are absolute, ~1e-8) and meshed there;
`geometry/tagged_mesh.py` scales to metres afterwards. Boundaries and regions leave this module only as
physical groups:

    volumes   electrolyte (its grains, if any), grain_boundary (meshed GB layers),
              interphase (a layer under the contacts), gap (between spots),
              pores (in the metal over a full contact), voids (inside the electrolyte),
              inclusions_<i> (the insulating or conducting bodies of [[inclusions]] table i),
              metal (floating metal bodies), metal_we / metal_ce (metal bodies that touch
              the working / counter electrode and so belong to it)
    surfaces  we (contacts and the metal side of gaps and pores),
              contacts (where metal touches the electrolyte, metal_we's surface included),
              ce (the whole bottom face),
              gb (faces between grains, for zero-thickness grain boundaries)

They are found from the fragment map and from the topology of the pieces (shared faces,
curves and points), never from coordinates.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import gmsh
import meshio
import numpy as np

from constriction.geometry.grains import grain_volumes, shared_faces
from constriction.geometry.rims import circular_rims, graded_coordinates, straight_edges
from constriction.spec import Spec, SpecError

MAX_SIZE_RANGE = 1e4  # far-field over contact-edge element size at the most (DESIGN.md: Gmsh's 2D pass
                      # took ~100 s at 5e3, a 0.05 µm spot; over 12 min at 2.5e4)
GRADING = 0.25  # element size grows by this much per µm of distance from a contact edge
RIM_TUBE = 1.25  # circular contact rims keep the edge size this many edge sizes out (P2)
PER_GRAIN = {"layers": 300, "brick": 200, "voronoi": 200}  # tetrahedra a grain adds (fitted)
WALL = 4.0       # tetrahedra per wall triangle-area h² of a cylinder's curved wall (fitted, see estimate_elements)
MAP_EDGE_DIVISIONS = 16  # a contact map's edge size: its area / outline / 16 (docs/DESIGN.md)
ELEMENTS_PER_CIRCLE = 96  # a full circle at refine 1: the meshed disk area is then 0.07 % short
INCLUSION_DIVISIONS = 6   # element size at an inclusion's surface: its smallest dimension / 6
INCLUSION_GRADING = 0.5   # and growing by this much per µm away from it (no singular edge there)
SURFACE_GROUPS = ("we", "contacts", "ce", "contacts_ce", "gb")


def build_mesh(spec: Spec, verbose: bool = False, sizes: tuple | None = None) -> meshio.Mesh:
    """Mesh the cell described by `spec`; points in µm, cell sets named as above.
    `sizes`: (tetrahedra (n, 4 vertices, xyz), the size at each of their vertices (n, 4)),
    both in µm: an earlier mesh's wish (geometry/adapt.py), a size field beside the grading."""
    with _gmsh_session(verbose):
        groups, edge_curves, pieces_of = _build_model(spec)
        # contact edges graded by node moves (geometry/rims.py), at P2 in a tube of edge-sized elements
        circles = circular_rims(groups["contacts"] + groups["contacts_ce"])
        lines = straight_edges(groups["contacts"] + groups["contacts_ce"], edge_curves)
        _set_mesh_sizes(spec, edge_curves, circles + lines, pieces_of, sizes)
        for name, tags in groups.items():
            dim = 2 if name in SURFACE_GROUPS else 3
            if tags:
                gmsh.model.addPhysicalGroup(dim, sorted(set(tags)), name=name)
        try:
            gmsh.model.mesh.generate(3)
        except Exception as err:  # Gmsh reports a geometry it cannot mesh as a bare Exception
            raise MeshError(f"Gmsh could not mesh this geometry ({str(err).strip()[:120]}); features far "
                            f"thinner than their neighbours' element size are the usual cause: "
                            f"check the sizes in [mesh] against the smallest feature") from None
        min_tube = 2 * edge_size_um(spec) * spec.mesh.refine
        return _read_mesh(lambda tags, xyz: graded_coordinates(tags, xyz, circles, groups["electrolyte"], min_tube,
                                                               lines))


def _read_mesh(move) -> meshio.Mesh:
    """The mesh in Gmsh's memory as meshio would read it from a .msh file: one cell block
    per entity of a physical group (tetrahedra of volumes, triangles of surfaces), the
    groups as cell sets, each block's entity as "gmsh:geometrical"; only the nodes the
    tetrahedra use, numbered in the order of their Gmsh tags, at the coordinates
    move(tags, xyz) gives them."""
    kinds = {3: ("tetra", 4), 2: ("triangle", 2)}
    groups = {dim: [(gmsh.model.getPhysicalName(dim, tag), set(gmsh.model.getEntitiesForPhysicalGroup(dim, tag)))
                    for _, tag in gmsh.model.getPhysicalGroups(dim)] for dim in kinds}
    blocks = []  # (dim, entity, node tags of its elements)
    for dim in (2, 3):
        for entity in sorted({e for _, entities in groups[dim] for e in entities}):
            element_type = kinds[dim][1]
            _, nodes = gmsh.model.mesh.getElementsByType(element_type, entity)
            blocks.append((dim, entity, np.asarray(nodes, dtype=np.int64).reshape(-1, dim + 1)))
    used = np.unique(np.concatenate([nodes.ravel() for dim, _, nodes in blocks if dim == 3]))
    number = np.full(used.max() + 1, -1, dtype=np.int64)
    number[used] = np.arange(used.size)
    tags, xyz, _ = gmsh.model.mesh.getNodes(returnParametricCoord=False)
    tags = np.asarray(tags, dtype=np.int64)
    xyz = move(tags, np.asarray(xyz).reshape(-1, 3))
    keep = tags <= used.max()
    keep[keep] = number[tags[keep]] >= 0
    coordinates = np.empty((used.size, 3))
    coordinates[number[tags[keep]]] = xyz[keep]
    cells = [meshio.CellBlock(kinds[dim][0], number[nodes]) for dim, _, nodes in blocks]
    cell_sets = {name: [np.arange(len(nodes)) if d == dim and entity in entities else np.arange(0)
                        for d, entity, nodes in blocks]
                 for dim in kinds for name, entities in groups[dim]}
    geometrical = [np.full(len(nodes), entity) for _, entity, nodes in blocks]
    return meshio.Mesh(coordinates, cells, cell_sets=cell_sets, cell_data={"gmsh:geometrical": geometrical})


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


def _build_model(spec: Spec) -> tuple[dict[str, list[int]], list[int], list[list[int]]]:
    """Create and fragment the OCC entities; return physical-group tags, edge curves and
    the volume pieces of each inclusion."""
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

    inclusion_volumes = [(3, _inclusion_volume(i)) for i in spec.inclusions]
    # a mirrored counter electrode: the contacts, gaps and pores copied through the
    # mid-plane take the place of the plain bottom face
    mirrored, mirrored_pores = [], []
    if cell.counter == "mirror":
        occ.remove([(2, bottom)])
        # (faces and volumes copied apart: copied in one call, OCC dropped the faces)
        mirrored_pores = occ.copy(pore_volumes) if pore_volumes else []
        mirrored = ([d for c in contacts for d in occ.copy([(2, c)])] + (occ.copy(gap_volumes) if gap_volumes else [])
                    + mirrored_pores)
        occ.mirror(mirrored, 0, 0, 1, -L / 2)
    counter = mirrored or [(2, bottom)]
    tools = (counter + [(2, c) for c in contacts] + gap_volumes + pore_volumes
             + void_volumes + interphase_volumes + inclusion_volumes)
    _, pieces = occ.fragment(solid + gb_layers, tools)
    occ.synchronize()
    fragment_of = dict(zip(solid + gb_layers + tools, pieces))

    def images(entities):
        return sorted({t for e in entities for t in _tags(fragment_of[e])})

    contact_faces = images((2, c) for c in contacts)
    gap, pores = images(gap_volumes), images(pore_volumes)
    voids, interphase = images(void_volumes), images(interphase_volumes)
    pieces_of = [images([v]) for v in inclusion_volumes]
    _check_overlaps(spec, pieces_of, {"voids": voids, "interphase": interphase, "gap": gap, "pores": pores})
    inside = set(voids) | set(interphase) | {t for p in pieces_of for t in p}
    electrolyte_vols = sorted(set(images(solid)) - inside)
    gb_layer_vols = sorted(set(images(gb_layers)) - inside)

    rims = _edge_curves(spec, contact_faces, gap + pores)
    metal = _metal_faces(gap + pores, electrolyte_vols + gb_layer_vols + interphase, rims) if gap + pores else []
    ce, counter_gap, counter_pores, counter_contacts = images(counter), [], [], []
    if mirrored:  # the same topology below: its contacts, and the metal faces of its gaps and pores
        counter_pores = images(mirrored_pores)
        counter_gap = sorted(set(images([d for d in mirrored if d[0] == 3])) - set(counter_pores))
        counter_contacts = images([d for d in mirrored if d[0] == 2])
        counter_gas = counter_gap + counter_pores
        counter_rims = _edge_curves(spec, counter_contacts, counter_gas)
        ce = counter_contacts + (_metal_faces(counter_gas, electrolyte_vols, counter_rims) if counter_gas else [])
        rims = sorted(set(rims) | set(counter_rims))
    groups = {"electrolyte": electrolyte_vols, "grain_boundary": gb_layer_vols,
              "gb": shared_faces(electrolyte_vols) if spec.grains and spec.grains.model == "interface" else [],
              "interphase": interphase, "gap": gap + counter_gap, "pores": pores + counter_pores,
              "voids": voids, "ce": ce, "contacts": contact_faces, "contacts_ce": counter_contacts,
              "we": contact_faces + metal}
    inclusion_groups, dendrite_faces = _inclusion_groups(spec, pieces_of, groups["we"], groups["ce"],
                                                         electrolyte_vols + gb_layer_vols + interphase)
    groups |= inclusion_groups
    groups["contacts"] = contact_faces + dendrite_faces
    groups["we"] = contact_faces + metal + dendrite_faces
    return groups, rims + _curves_of_volumes(voids), pieces_of


def _inclusion_volume(inclusion) -> int:
    """The OCC volume of one [[inclusions]] body (µm)."""
    occ, i = gmsh.model.occ, inclusion
    if i.shape == "cylinder":
        (x, y, z), (u, v, w) = i.start_um, i.end_um
        return occ.addCylinder(x, y, z, u - x, v - y, w - z, i.radius_um)
    if i.shape == "box":
        return occ.addBox(*(c - d / 2 for c, d in zip(i.centre_um, i.size_um)), *i.size_um)
    if i.shape == "sphere":
        return occ.addSphere(*i.centre_um, i.radius_um)
    tag = occ.addSphere(*i.centre_um, 1.0)
    occ.dilate([(3, tag)], *i.centre_um, *i.semi_axes_um)
    return tag


def _check_overlaps(spec: Spec, pieces_of: list[list[int]], others: dict[str, list[int]]):
    """Refuse (SpecError, before meshing) an inclusion that shares volume with a void,
    the interphase, a gap or pore, or with an inclusion of another material: a piece of
    the fragmented model that belongs to two of them. Metal overlapping metal is one body."""
    owner: dict[int, int] = {}
    for k, pieces in enumerate(pieces_of):
        inclusion = spec.inclusions[k]
        for name, tags in others.items():
            if set(pieces) & set(tags):
                raise SpecError(inclusion.key, f"overlaps the {name}" if name != "voids" else "overlaps a void")
        for t in pieces:
            other = spec.inclusions[owner.setdefault(t, k)]
            if other is not inclusion and not inclusion.kind == other.kind == "metal":
                raise SpecError(inclusion.key, f"overlaps {other.key} (touching is allowed, sharing volume "
                                               f"is not, unless both are metal)")


def _inclusion_groups(spec: Spec, pieces_of: list[list[int]], we_faces: list[int], ce_faces: list[int],
                      electrolyte_vols: list[int]) -> tuple[dict[str, list[int]], list[int]]:
    """Volume groups of the inclusions: inclusions_<i> for insulating and conducting
    bodies, and the metal sorted by what it touches (topology: shared points). Metal that
    touches the working electrode joins it (a dendrite: its faces against the electrolyte
    are contacts); metal touching the counter electrode joins that; metal touching both
    is a short circuit (SpecError). Returns the groups, and the faces of metal_we
    against the electrolyte."""
    groups: dict[str, list[int]] = {"metal": [], "metal_we": [], "metal_ce": []}
    dendrite_faces: list[int] = []
    metal_pieces = []
    for inclusion, pieces in zip(spec.inclusions, pieces_of):
        if inclusion.kind == "metal":
            metal_pieces += [(p, inclusion.key) for p in pieces]
        else:
            groups.setdefault(inclusion.region, []).extend(pieces)
    if not metal_pieces:
        return groups, dendrite_faces
    we_points, ce_points = _points(2, we_faces), _points(2, ce_faces)
    for body in _bodies(metal_pieces):
        points = _points(3, [p for p, _ in body])
        keys = sorted({key for _, key in body})
        at_we, at_ce = bool(points & we_points), bool(points & ce_points)
        if at_we and at_ce:
            raise SpecError(keys[0], "metal that joins both electrodes"
                            + (f" (with {', '.join(keys[1:])})" if len(keys) > 1 else "") + ": a short circuit")
        name = "metal_we" if at_we else "metal_ce" if at_ce else "metal"
        groups[name] += [p for p, _ in body]
        if at_we:
            dendrite_faces += _shared_faces([p for p, _ in body], electrolyte_vols)
    return groups, dendrite_faces


def _bodies(pieces: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Metal pieces grouped into connected bodies (pieces sharing any point connect)."""
    label = list(range(len(pieces)))

    def root(k):
        while label[k] != k:
            label[k] = label[label[k]]
            k = label[k]
        return k

    first_at: dict[int, int] = {}  # Gmsh point -> the first piece seen on it
    for k, (piece, _) in enumerate(pieces):
        for point in _points(3, [piece]):
            label[root(k)] = root(first_at.setdefault(point, k))
    bodies: dict[int, list] = {}
    for k, piece in enumerate(pieces):
        bodies.setdefault(root(k), []).append(piece)
    return list(bodies.values())


def _points(dim: int, tags: list[int]) -> set[int]:
    """The Gmsh points on the closure of the given entities."""
    if not tags:
        return set()
    return {abs(t) for d, t in gmsh.model.getBoundary([(dim, t) for t in tags], combined=False,
                                                      oriented=False, recursive=True) if d == 0}


def _shared_faces(volumes: list[int], others: list[int]) -> list[int]:
    """Faces that bound one of `volumes` and one of `others`."""
    if not volumes or not others:
        return []
    mine = set(_tags(gmsh.model.getBoundary([(3, v) for v in volumes], combined=False, oriented=False)))
    theirs = set(_tags(gmsh.model.getBoundary([(3, v) for v in others], combined=False, oriented=False)))
    return sorted(mine & theirs)


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


def _set_mesh_sizes(spec: Spec, edge_curves: list[int], graded: list[int], inclusion_pieces: list[list[int]],
                    sizes: tuple | None = None):
    """Graded sizes: edge_size at the contact (or electrode) edges, growing linearly
    with distance up to the far-field size; both scaled by mesh.refine. Circular contact
    rims and straight contact edges (`graded`) keep edge_size out to RIM_TUBE edge sizes with P2,
    the tube in which geometry/rims.py then grades the nodes toward them (P1, whose error is mostly
    elsewhere, is graded at circular rims too but without the extra elements: study cells stay
    small). Curved surfaces get ELEMENTS_PER_CIRCLE / refine elements per circle, so that the
    faceting error also vanishes under refinement."""
    m = spec.mesh
    far = m.size_um * m.refine
    edge = edge_size_um(spec) * m.refine
    gmsh.option.setNumber("Mesh.MeshSizeMax", far)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    # curved faces whose size nothing else sets: the cylinder wall, pore walls, inclusions
    # (contact, electrode and void outlines are graded from their edges, much finer than
    # this); computing curvature costs a third of a small case's meshing
    curved = _curved_walls(spec)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", round(ELEMENTS_PER_CIRCLE / m.refine) if curved else 0)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.Algorithm3D", 10)  # HXT: fast and robust on graded meshes
    # Gmsh improves tetrahedra of quality below 0.3 by default; next to a cylinder wall at 96
    # elements per circle that pass took up to ten times the meshing itself. Below 0.25
    # it is quick, and the single spot's error is the same (benchmarks/README.md)
    gmsh.option.setNumber("Mesh.OptimizeThreshold", 0.25)
    # where nodes go along curves: integrating 1/size to 1e-6 rather than Gmsh's 1e-9 makes
    # the same mesh (to a few nodes) and saves a quarter of a small case's meshing
    gmsh.option.setNumber("Mesh.LcIntegrationPrecision", 1e-6)
    rims = sorted(set(graded) & set(edge_curves)) if m.order == 2 else []
    others = sorted(set(edge_curves) - set(rims))
    fields = [_graded_from("CurvesList", others, edge, far)] if others else []
    fields += [_graded_from("CurvesList", rims, edge, far, flat=RIM_TUBE * edge)] if rims else []
    fields += [_interpolated(*sizes)] if sizes is not None else []
    _set_background(fields + _inclusion_sizes(spec, inclusion_pieces, edge_curves))


def _curved_walls(spec: Spec) -> bool:
    """Whether the cell has curved faces whose facets only mesh.refine sets (the cylinder's
    wall, pores, inclusions)."""
    return bool(spec.cell.shape == "cylinder" or spec.pores or spec.inclusions)


def _graded_from(kind: str, entities: list[int], size: float, far: float, grading: float = GRADING,
                 flat: float = 0.0) -> int:
    """A size field: `size` on the entities and up to `flat` µm from them, then growing by
    `grading` per µm up to `far`."""
    field = gmsh.model.mesh.field
    distance = field.add("Distance")
    field.setNumbers(distance, kind, entities)
    field.setNumber(distance, "Sampling", 200)
    graded = field.add("Threshold")  # min(far, size + grading (d - flat)): linear from d = flat up to far
    field.setNumber(graded, "InField", distance)
    field.setNumber(graded, "SizeMin", size)
    field.setNumber(graded, "SizeMax", far)
    field.setNumber(graded, "DistMin", flat)
    field.setNumber(graded, "DistMax", flat + max(far - size, 0.0) / grading)
    return graded


def _interpolated(tetrahedra: np.ndarray, size: np.ndarray) -> int:
    """A size field linear in each of the tetrahedra (n, 4, xyz; µm) between the sizes at
    their vertices (n, 4; µm): a post-processing view of scalar tetrahedra."""
    view = gmsh.view.add("sizes")
    values = np.concatenate([np.swapaxes(tetrahedra, 1, 2).reshape(-1, 12), size], axis=1)
    gmsh.view.addListData(view, "SS", len(size), values.ravel().tolist())  # x's, y's, z's, values
    field = gmsh.model.mesh.field.add("PostView")
    gmsh.model.mesh.field.setNumber(field, "ViewTag", view)
    return field


def _set_background(fields: list[int]):
    """The smallest of the given size fields is the mesh size (none: the far field)."""
    field = gmsh.model.mesh.field
    if len(fields) > 1:
        smallest = field.add("Min")
        field.setNumbers(smallest, "FieldsList", fields)
        fields = [smallest]
    if fields:
        field.setAsBackgroundMesh(fields[0])


def _inclusion_sizes(spec: Spec, inclusion_pieces: list[list[int]], edge_curves: list[int]) -> list[int]:
    """Size fields from the inclusions' surfaces: inclusion_size_um (scaled by refine),
    graded into the electrolyte like a contact edge, one field per distinct size. That
    size also bounds the curvature sizing from below on their faces (a small sphere
    would otherwise get ELEMENTS_PER_CIRCLE elements around it, thousands in all), but
    not on contact edges, which keep their own grading."""
    m = spec.mesh
    far = m.size_um * m.refine
    edges = set(edge_curves)
    floor: dict[tuple[int, int], float] = {}
    by_size: dict[float, list[int]] = {}
    for inclusion, pieces in zip(spec.inclusions, inclusion_pieces):
        h = min(inclusion_size_um(inclusion) * m.refine, far)
        faces = _tags(gmsh.model.getBoundary([(3, p) for p in pieces], combined=False, oriented=False))
        by_size.setdefault(h, []).extend(faces)
        for entity in [(2, f) for f in faces] + [(1, c) for c in _curves(faces) if c not in edges]:
            floor[entity] = max(floor.get(entity, 0.0), h)
    if floor:
        gmsh.model.mesh.setSizeCallback(lambda dim, tag, x, y, z, lc: max(lc, floor.get((dim, tag), 0.0)))
    return [_graded_from("SurfacesList", sorted(set(faces)), h, far, INCLUSION_GRADING)
            for h, faces in sorted(by_size.items())]


def inclusion_size_um(inclusion) -> float:
    """Element size at an inclusion's surface before `refine` (µm): its smallest
    dimension (radius, semi-axis, half an edge) / INCLUSION_DIVISIONS."""
    i = inclusion
    dims = {"sphere": [i.radius_um], "cylinder": [i.radius_um], "ellipsoid": list(i.semi_axes_um or ()),
            "box": [v / 2 for v in i.size_um or ()]}[i.shape]
    return min(dims) / INCLUSION_DIVISIONS


def edge_size_um(spec: Spec) -> float:
    """Element size at contact edges before `refine` (µm): given, or radius / 25."""
    if spec.mesh.edge_size_um is not None:
        return spec.mesh.edge_size_um
    return min((edge for *_, edge in _edge_setters(spec)), default=spec.cell.half_width_um / 25)


def _edge_setters(spec: Spec) -> list[tuple[str, float, float]]:
    """(key, its value in µm, the element size it sets at its edge in µm) of every outline
    that sets the contact-edge size: a radius / 25; a contact map's area / outline / 16
    (a disk's radius / 25 is its area / outline / 12.5: straight edges and corners need
    finer), at most its pixel / 10."""
    radii = [(f"contacts[{k}].radius_um", c.radius_um) for k, c in enumerate(spec.contacts or ())]
    radii += [(f"pores[{k}].radius_um", p.radius_um) for k, p in enumerate(spec.pores)]
    radii += [(f"voids[{k}].radius_um", v.radius_um) for k, v in enumerate(spec.voids)]
    if spec.electrode.radius_um is not None:
        radii.append(("electrode.radius_um", spec.electrode.radius_um))
    setters = [(key, r, r / 25) for key, r in radii]
    if spec.contact_map is not None:  # at least ~10 elements across a pixel, finer where its outline is long
        cmap = spec.contact_map
        setters.append(("layout.pixel_um", cmap.pixel_um,
                        min(cmap.pixel_um / 10, cmap.area_um2 / cmap.outline_um / MAP_EDGE_DIVISIONS)))
    return setters


def check_resolution(spec: Spec) -> list[str]:
    """Element sizes against the features they must resolve, before meshing: SpecError
    where the sizes span more than MAX_SIZE_RANGE (Gmsh would not finish), or where the
    contact edges get elements wider than half a contact's radius (the answer
    would be tens of % off with every check passing), warnings (returned) where the far
    field is coarser than the cell is thick or the contact edges far coarser than the gap."""
    m = spec.mesh
    far, edge = m.size_um * m.refine, edge_size_um(spec) * m.refine
    key = "mesh.edge_size_um" if m.edge_size_um is not None else ("mesh.refine" if m.refine != 1 else "mesh.size_um")
    setters = _edge_setters(spec)
    features = [(name, radius) for name, radius, _ in setters if name.startswith(("contacts", "pores", "electrode"))]
    if far / edge > MAX_SIZE_RANGE:  # whichever outline (or mesh.edge_size_um) sets the edge size
        if m.edge_size_um is None and setters:
            name, value, _ = min(setters, key=lambda setter: setter[2])
            what = f"{value:.3g} µm needs elements of {edge:.2g} µm at its edge"
        else:
            name, what = key, f"elements of {edge:.2g} µm at the contact edges"
        raise SpecError(name, f"{what}, {far / edge:,.0f} times finer than the far field's {far:.3g} µm: "
                              f"beyond the range of {MAX_SIZE_RANGE:,.0f} that Gmsh meshes in minutes; model a "
                              f"smaller cell around it (a flux tube some tens of radii wide) with a finer "
                              f"mesh.size_um")
    for name, radius in features:
        if edge > radius / 2:
            raise SpecError(key, f"elements of {edge:.3g} µm at the contact edges cannot resolve {name} = "
                                 f"{radius:.3g} µm (at most half of it; the default is radius / 25)")
    warnings = []
    if far > spec.cell.thickness_um:
        warnings.append(f"far-field elements of {far:.3g} µm in a cell {spec.cell.thickness_um:.3g} µm thick: "
                        f"fewer than one element across (mesh.size_um)")
    if spec.has_gap and edge > 10 * spec.gap.height_um:
        warnings.append(f"contact-edge elements of {edge:.3g} µm over a gap {spec.gap.height_um:.3g} µm high: "
                        f"flat elements in the gap (mesh.edge_size_um)")
    if m.tolerance is not None and m.refine > 1 and _curved_walls(spec):
        warnings.append(f"curved faces get {round(ELEMENTS_PER_CIRCLE / m.refine)} facets a circle at mesh.refine "
                        f"{m.refine:g}, whatever mesh.tolerance: the bracket is of those facets' geometry (refine 1 "
                        f"gives {ELEMENTS_PER_CIRCLE})")
    return warnings


def estimate_elements(spec: Spec) -> int:
    """About how many tetrahedra Gmsh will make for `spec`, from its sizes and geometry,
    before any meshing: the far field at mesh.size_um, plus the graded tube around every
    contact, pore, void and electrode rim (size edge + GRADING d at distance d), plus a
    few hundred elements for every grain, plus the graded shell around every inclusion."""
    m = spec.mesh
    far, edge = m.size_um * m.refine, min(edge_size_um(spec), m.size_um) * m.refine
    volume = spec.cell.top_area_um2 * spec.cell.thickness_um + spec.electrode_area_um2 * spec.gap.height_um
    volume += sum(math.pi * p.radius_um**2 * p.height_um for p in spec.pores)
    outlines = sum(2 * math.pi * c.radius_um for c in spec.contacts or ())  # contact edges: graded at P2
    if spec.contact_map is not None:
        outlines += spec.contact_map.outline_um
    rims = outlines + sum(2 * math.pi * p.radius_um for p in spec.pores) + sum(4 * math.pi * v.radius_um
                                                                               for v in spec.voids)
    if spec.electrode.radius_um is not None:
        rims += 2 * math.pi * spec.electrode.radius_um
    # per unit rim length: int 2 pi r dr / h(r)^3 over the tube, h = edge out to `flat`, then
    # edge + g (r - flat) up to the far size; flat = RIM_TUBE edges at P2 contact outlines
    def tube(flat):
        g = GRADING
        return math.pi * flat**2 / edge**3 + 2 * math.pi * (
            (1 / (2 * edge) - 1 / far + edge / (2 * far**2)) / g**2 + flat * (1 / edge**2 - 1 / far**2) / (2 * g))
    graded = outlines if m.order == 2 else 0.0
    rim_elements = (rims - graded) * tube(0.0) + graded * tube(RIM_TUBE * edge)
    # a cylinder's wall carries ELEMENTS_PER_CIRCLE / refine elements per circle: a layer of
    # elements of that size (per unit area: 1 / h²) where it is finer than the far field
    wall = 0.0
    if spec.cell.shape == "cylinder":
        h_wall = 2 * math.pi * spec.cell.radius_um * m.refine / ELEMENTS_PER_CIRCLE
        wall = 2 * math.pi * spec.cell.radius_um * spec.cell.thickness_um * max(1 / h_wall**2 - 1 / far**2, 0.0)
    # around every inclusion a graded shell from h0 at its surface: int dA dd / h^3
    shells = sum(i.surface_um2 / (2 * INCLUSION_GRADING) * (1 / h0**2 - 1 / far**2)
                 for i in spec.inclusions for h0 in [min(inclusion_size_um(i) * m.refine, far)])
    grains = 0.0
    if spec.grains is not None:
        n = spec.cell.thickness_um / spec.grains.size_um
        grains = n if spec.grains.kind == "layers" else n * spec.cell.top_area_um2 / spec.grains.size_um**2
        grains *= PER_GRAIN[spec.grains.kind]
    # fitted to the example meshes (specs/*.toml: within 25 %) and to single inclusions
    faces = 2 if spec.cell.counter == "mirror" else 1  # a mirrored CE has the WE's rims and gaps too
    volume += (faces - 1) * spec.electrode_area_um2 * spec.gap.height_um
    return int(6.0 * volume / far**3 + 2.5 * faces * rim_elements + grains + 11 * shells + WALL * wall)
