"""Grains of a polycrystalline electrolyte: their Gmsh (OCC) volumes, and the split of a
mesh into one copy of each grain-boundary node per grain.

Volumes are built in µm and fragmented with the rest of the cell (geometry/cell.py), which
makes the grain faces conforming. Zero-thickness grain boundaries (docs/DESIGN.md) need the
potential to jump across them: `split_grain_boundaries` gives every grain its own copy of
the nodes it shares with another, and returns the pairs of facing triangles that the
facet form  int_gb y_gb (u_A - u_B)(v_A - v_B) dA  couples (solve/fem.py).
"""

from __future__ import annotations

import math

import gmsh
import meshio
import numpy as np
from scipy.spatial import Voronoi, cKDTree

from constriction.spec import Cell, Grains

MERGE_TOLERANCE = 1e-9  # Voronoi vertices closer than this times the grain size are one


def grain_volumes(cell: Cell, grains: Grains) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """OCC dimtags of the grains, and of meshed GB layers (model "layer"), in µm."""
    if grains.kind == "layers":
        return _layers(cell, grains)
    if grains.kind == "brick":
        return _bricks(cell, grains.size_um), []
    return _voronoi(cell, grains.size_um, grains.seed), []


def _slab(cell: Cell, z0: float, z1: float) -> tuple[int, int]:
    occ = gmsh.model.occ
    if cell.shape == "cylinder":
        return (3, occ.addCylinder(0, 0, z0, 0, 0, z1 - z0, cell.radius_um))
    s = cell.side_um
    return (3, occ.addBox(-s / 2, -s / 2, z0, s, s, z1 - z0))


def _layers(cell: Cell, grains: Grains):
    """Slabs of thickness size_um from the CE up; GB planes at every multiple of size_um."""
    L, d = cell.thickness_um, grains.size_um
    planes = [k * d for k in range(1, math.ceil(L / d - 1e-9))]
    if grains.model == "interface":
        bounds = [0.0] + planes + [L]
        return [_slab(cell, a, b) for a, b in zip(bounds[:-1], bounds[1:])], []
    half = grains.gb_thickness_um / 2
    bounds = [0.0] + [z for p in planes for z in (p - half, p + half)] + [L]
    slabs = [_slab(cell, a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    return slabs[::2], slabs[1::2]


def _bricks(cell: Cell, d: float):
    """Cubes of side d on a grid from one corner of the box; the last ones clipped."""
    s, L = cell.side_um, cell.thickness_um
    xs = _cuts(-s / 2, s / 2, d)
    zs = _cuts(0.0, L, d)
    occ = gmsh.model.occ
    return [(3, occ.addBox(x0, y0, z0, x1 - x0, y1 - y0, z1 - z0))
            for x0, x1 in zip(xs[:-1], xs[1:]) for y0, y1 in zip(xs[:-1], xs[1:])
            for z0, z1 in zip(zs[:-1], zs[1:])]


def _cuts(a: float, b: float, d: float) -> list[float]:
    n = max(1, math.ceil((b - a) / d - 1e-9))
    return [a + min(k * d, b - a) for k in range(n)] + [b]


def _voronoi(cell: Cell, d: float, seed: int):
    """A Voronoi polycrystal of mean grain volume d³ filling the box (see `_voronoi_diagram`).

    Every Voronoi vertex, edge and face is made once and shared by the grains it bounds:
    two grains meet on one planar polygon, not on two different triangulations of it that
    a Boolean fragment would cut into slivers (edges of 1e-4 µm, flat tetrahedra)."""
    occ = gmsh.model.occ
    ridges = _voronoi_ridges(cell, d, seed)
    points, lines = {}, {}
    faces = []
    for ridge in ridges.polygons:
        for v in ridge:
            if v not in points:
                points[v] = occ.addPoint(*ridges.vertices[v])
        loop = []
        for a, b in zip(ridge, ridge[1:] + ridge[:1]):
            key = (min(a, b), max(a, b))
            if key not in lines:
                lines[key] = occ.addLine(points[key[0]], points[key[1]])
            loop.append(lines[key] if a < b else -lines[key])
        faces.append(occ.addPlaneSurface([occ.addCurveLoop(loop)]))
    return [(3, occ.addVolume([occ.addSurfaceLoop([faces[r] for r in grain])]))
            for grain in ridges.of_grain]


class _Ridges:
    """The faces of the grains of a Voronoi polycrystal: `vertices` (µm), `polygons`
    (vertex indices in order around each face), `of_grain` (face indices of each grain),
    `inner` (True for a face between two grains, False for one on the box)."""

    def __init__(self, vertices, polygons, of_grain, inner):
        self.vertices, self.polygons, self.of_grain, self.inner = vertices, polygons, of_grain, inner


def _voronoi_ridges(cell: Cell, d: float, seed: int) -> _Ridges:
    """Faces between two inner seeds (grain boundaries) and between an inner seed and its
    mirror image (the box faces); vertices ordered around each face."""
    vor, n, (lo, hi) = _voronoi_diagram(cell, d, seed)
    vertices = np.clip(vor.vertices, lo, hi)
    same = _coincident(vertices, MERGE_TOLERANCE * d)
    polygons, of_grain, inner = [], [[] for _ in range(n)], []
    for (p, q), ridge in zip(vor.ridge_points, vor.ridge_vertices):
        distinct = sorted({int(same[v]) for v in ridge})
        if min(p, q) >= n or len(distinct) < 3:
            continue  # outside the box, or a face of no area (degenerate seeds)
        polygons.append(_in_order(vertices, distinct))
        inner.append(max(p, q) < n)
        for seed_index in (p, q):
            if seed_index < n:
                of_grain[seed_index].append(len(polygons) - 1)
    return _Ridges(vertices, polygons, of_grain, inner)


def _coincident(points: np.ndarray, tolerance: float) -> np.ndarray:
    """For every point, the lowest index of the points within `tolerance` of it (one
    vertex where four or more seeds are cospherical and qhull returns several)."""
    label = np.arange(len(points))
    for a, b in sorted(cKDTree(points).query_pairs(tolerance)):
        label[b] = label[a]
    return label


def _in_order(vertices: np.ndarray, ridge: list[int]) -> list[int]:
    """The vertices of a planar convex polygon sorted by angle around its centre."""
    xyz = vertices[ridge]
    centre = xyz.mean(axis=0)
    _, _, axes = np.linalg.svd(xyz - centre)
    u, v = (xyz - centre) @ axes[0], (xyz - centre) @ axes[1]
    return [ridge[k] for k in np.argsort(np.arctan2(v, u))]


def _voronoi_diagram(cell: Cell, d: float, seed: int):
    """(Voronoi of the seeds and their mirror images, number of inner seeds, box corners):
    seeds mirrored across the six faces make every cell of an inner seed a closed
    polyhedron inside the box."""
    s, L = cell.side_um, cell.thickness_um
    lo, hi = np.array([-s / 2, -s / 2, 0.0]), np.array([s / 2, s / 2, L])
    n = max(2, round(s * s * L / d**3))
    points = lo + np.random.default_rng(seed).random((n, 3)) * (hi - lo)
    mirrored = [points]
    for axis in range(3):
        for bound in (lo[axis], hi[axis]):
            m = points.copy()
            m[:, axis] = 2 * bound - m[:, axis]
            mirrored.append(m)
    return Voronoi(np.vstack(mirrored)), n, (lo, hi)


def voronoi_boundaries(cell: Cell, d: float, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """The grain-boundary faces (polygons, vertices in order, µm) between two grains of
    the seeded Voronoi polycrystal, and its triple junctions: the edges (k, 2, 3) that
    three grains share."""
    ridges = _voronoi_ridges(cell, d, seed)
    faces, edge_count = [], {}
    for polygon, inner in zip(ridges.polygons, ridges.inner):
        if not inner:
            continue
        faces.append(ridges.vertices[polygon])
        for a, b in zip(polygon, polygon[1:] + polygon[:1]):
            key = (min(a, b), max(a, b))
            edge_count[key] = edge_count.get(key, 0) + 1
    edges = [ridges.vertices[list(e)] for e, k in edge_count.items() if k == 3]
    return faces, np.array(edges).reshape(-1, 2, 3)


def shared_faces(volumes: list[int]) -> list[int]:
    """Faces that bound two of the given volumes: the grain boundaries."""
    count: dict[int, int] = {}
    for v in volumes:
        for _, f in gmsh.model.getBoundary([(3, v)], oriented=False):
            count[abs(f)] = count.get(abs(f), 0) + 1
    return sorted(f for f, k in count.items() if k == 2)


# ---------------------------------------------------------------- node splitting

def split_grain_boundaries(m: meshio.Mesh, grain_of_entity: dict[int, int]
                           ) -> tuple[meshio.Mesh, np.ndarray, np.ndarray]:
    """One copy of every node per grain that uses it.

    grain_of_entity: Gmsh volume tag -> grain number, for the electrolyte's volumes; any
    other tetrahedron (gap, pores) uses the copy of the lowest-numbered grain at each node.
    Returns the new mesh (same cell sets but "gb"), the facing triangles of every
    grain-boundary facet, shape (2, 3, facets): node numbers of side A and side B, in the
    same order on both sides, and the node of `m` each new node is a copy of."""
    blocks = [(k, c) for k, c in enumerate(m.cells) if c.type in ("tetra", "triangle")]
    tets = np.vstack([c.data for _, c in blocks if c.type == "tetra"])
    entity = np.concatenate([m.cell_data["gmsh:geometrical"][k] for k, c in blocks if c.type == "tetra"])
    grain = np.array([grain_of_entity.get(int(e), -1) for e in entity])
    in_grain = grain >= 0

    lowest = np.full(len(m.points), np.iinfo(np.int64).max)
    np.minimum.at(lowest, tets[in_grain].ravel(), np.repeat(grain[in_grain], 4))
    owner = np.where(in_grain[:, None], grain[:, None], lowest[tets])  # the copy each corner uses
    pairs, inverse = np.unique(np.stack([tets.ravel(), owner.ravel()]), axis=1, return_inverse=True)
    copy_of = {(int(v), int(g)): i for i, (v, g) in enumerate(pairs.T)}

    grains_on = {}  # sorted node triple -> grains of the tetrahedra on it
    for t, g in zip(tets[in_grain], grain[in_grain]):
        for a, b, c in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
            grains_on.setdefault(tuple(sorted((t[a], t[b], t[c]))), []).append(int(g))

    def copies(triangle, g=None):
        if g is None:
            owners = grains_on.get(tuple(sorted(triangle)))
            return [copy_of[(int(v), owners[0] if owners else int(lowest[v]))] for v in triangle]
        return [copy_of[(int(v), g)] for v in triangle]

    new_tets = iter(np.split(inverse.reshape(tets.shape), np.cumsum(
        [len(c.data) for _, c in blocks if c.type == "tetra"])[:-1]))
    cells = [meshio.CellBlock("tetra", next(new_tets)) if c.type == "tetra"
             else meshio.CellBlock("triangle", np.array([copies(t) for t in c.data], dtype=int).reshape(-1, 3))
             for _, c in blocks]
    cell_sets = {name: [per_block[k] for k, _ in blocks] for name, per_block in m.cell_sets.items()
                 if name != "gb" and not name.startswith("gmsh:")}

    gb = np.empty((2, 3, 0), dtype=int)
    if "gb" in m.cell_sets:
        triangles = np.vstack([m.cells[k].data[idx] for k, idx in enumerate(m.cell_sets["gb"])
                               if m.cells[k].type == "triangle" and idx is not None and len(idx)])
        gb = np.empty((2, 3, len(triangles)), dtype=int)
        for i, tri in enumerate(triangles):
            sides = sorted(set(grains_on[tuple(sorted(tri))]))
            if len(sides) != 2:
                raise ValueError(f"grain-boundary triangle {tri} is not between two grains")
            gb[0, :, i], gb[1, :, i] = copies(tri, sides[0]), copies(tri, sides[1])
    return meshio.Mesh(m.points[pairs[0]], cells, cell_sets=cell_sets), gb, pairs[0]
