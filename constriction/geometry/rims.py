"""Grading toward contact rims and straight contact edges by moving mesh nodes (µm, Gmsh's model in memory).

The potential near the rim of a contact grows as √ρ with the distance ρ from the rim, and
that edge sets the error of the whole cell. Along the rim the solution changes only on the
scale of the spot radius a. So the tetrahedra at a rim should be thin across it and long
along it, which Gmsh's isotropic size fields cannot make. We make them by moving nodes:
in the meridian half-plane of each node (spanned by the radius through it and the rim's
axis), a node at distance ρ < ρ0 from the rim moves to

    ρ' = ρ0 g(ρ/ρ0),   g(s) = s^γ exp((γ-1)(1-s)),

which leaves ρ0 and beyond where they are (g(1) = 1, g'(1) = 1) and makes the element
size across the tube grow as ρ'^(1-1/γ) from the rim. γ = 3 measured best on a single
spot (γ = 2 and 4 left more error, 4 often inverted elements); ρ'/ρ never falls below
(rim segment)/a, so that no node crosses the straight chords that the meshed rim is made
of. Nodes along the rim keep their spacing; geometry/cell.py keeps the edge size out to
RIM_TUBE edge sizes around circular rims, so that the tube has elements to compress. On
the electrolyte side the move is radial in that half-plane; on the gas side (a gap above the surface) it is
horizontal only, so that the gap's ceiling and the spot's wall stay where they are. Both
agree on the surface. Nothing changes in the mesh's topology or number of unknowns.

ρ0 is at most half the rim radius and stays clear of every node that must not move: nodes
of other curves and points, and of surfaces that are not the plane of the rim (electrolyte
side) or planes parallel to it and the spot's own wall (gas side). A rim with no such room
(an arc, a lens pore's sloping cap, a neighbour too close) is left as meshed. Where the
elements are coarse for the tube, γ = 3 can turn a tetrahedron inside out (the move bends
the elements that span a wide range of ρ); then the rim is graded with the next milder γ
of POWERS that turns none, or not at all.

Straight contact edges (the outlines of pixel maps) are graded the same way in the planes
across them (_Edge): x across the edge in the contact's plane, z into the electrolyte,
ρ0 up to EDGE_TUBE times the half-length. Beyond the edge's ends the move fades out
(smoothstep over FADE ρ0), still in planes across the edge, so that it stays a smooth
one-to-one map at corners, where the tubes of two edges overlap and their moves compose.
Which nodes may move is checked on what the move does (_off_entity): a point never, a node
on a straight curve only along it, on a plane only within it, on any other curve or surface
never; ρ0 stays within CLEARANCE of the nearest node it would carry off. With no chords to
keep nodes off, ρ'/ρ is floored at a constant (EDGE_FLOOR): tetrahedra at most about five
times thinner than Gmsh made them, which the mixed solve's AMG takes in its stride. Measured on an
8 µm pixel square (benchmarks/README.md, "Straight contact edges"): −2.18 % to −0.83 % at the
default mesh; extra moves toward the corners (radial, after or before the edges' moves)
and finer isotropic sizes there did not pay.
"""

from __future__ import annotations

import math

import gmsh
import numpy as np

POWERS = (3.0, 2.5, 2.0, 1.5)  # γ: the first that turns no tetrahedron inside out
TUBE_FRACTION = 0.5  # ρ0 at most this fraction of the rim radius
EDGE_TUBE = 1.0      # of a straight edge's half-length (measured on the pixel square: 0.5 left -0.42 %
                     # at half the edge size, 0.8 -0.31 %, 1.0 -0.27 %, with the floor then at segment / a)
FLOOR = 1.0          # ρ'/ρ at least this times (rim segment / a): keeps nodes off the chords
EDGE_FLOOR = 0.2     # a straight edge's ρ'/ρ at least this (no chords to keep off): thinner tetrahedra
                     # slowed the mixed solve's AMG (144 CG iterations at 63 k tetrahedra, 56 with it)
FADE = 1.0           # a straight edge's move fades out over this many ρ0 beyond its ends
CLEARANCE = 0.45     # ρ0 at most this fraction of the distance to the nearest node that must stay


def graded_coordinates(tags: np.ndarray, xyz: np.ndarray, circles: list[int],
                       electrolyte_volumes: list[int], min_tube_um: float, lines: list[int] = ()) -> np.ndarray:
    """Node coordinates (N x 3, µm, in the order of `tags`) moved toward every rim in
    `circles` (circular_rims) and every straight contact edge in `lines` (straight_edges);
    tubes thinner than `min_tube_um` are skipped."""
    if not circles and not lines:
        return xyz
    position = _positions(tags)
    entity_of = _entity_of_nodes(position)
    volume = _signed_volume(position)
    v0 = volume(xyz)
    moved = xyz
    for curve in circles:
        rim = _Rim.of(curve, electrolyte_volumes)
        if rim is None:
            continue
        rho0 = rim.tube_radius(xyz, entity_of)
        if rho0 < min_tube_um:
            continue
        segment = 2 * math.pi * rim.a / (entity_of[(1, curve)].size + 1)
        moved = _first_untangled(lambda power: rim.move(moved, rho0, segment, power), moved, volume, v0)
    for curve in lines:
        edge = _Edge.of(curve, electrolyte_volumes)
        if edge is None:
            continue
        rho0 = edge.tube_radius(moved, entity_of)
        if rho0 < min_tube_um:
            continue
        moved = _first_untangled(lambda power: edge.move(moved, rho0, power), moved, volume, v0)
    return moved


def _first_untangled(move, xyz, volume, v0):
    """move(power) with the first power of POWERS that turns no tetrahedron inside out, else xyz."""
    for power in POWERS:
        candidate = move(power)
        if np.all(volume(candidate) * v0 > 0):
            return candidate
    return xyz


def straight_edges(contact_faces: list[int], edge_curves: list[int]) -> list[int]:
    """Straight segments among `edge_curves` that bound a contact face."""
    curves = {abs(t) for _, t in gmsh.model.getBoundary([(2, f) for f in contact_faces], combined=False,
                                                          oriented=False)}
    return sorted(c for c in curves & set(edge_curves) if _line_of(c) is not None)


def _line_of(curve: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(start, end) of a straight curve (µm); None if it bends or closes. OCC calls a
    line cut by a fuse a TrimmedCurve: straightness is checked on the curve's points."""
    ends = [abs(t) for _, t in gmsh.model.getBoundary([(1, curve)], oriented=False)]
    if len(ends) != 2:
        return None
    p0, p1 = (np.array(gmsh.model.getValue(0, e, [])) for e in ends)
    lo, hi = gmsh.model.getParametrizationBounds(1, curve)
    points = np.reshape(gmsh.model.getValue(1, curve, [lo[0] + (hi[0] - lo[0]) * k / 8 for k in range(9)]), (9, 3))
    along = (p1 - p0) / np.linalg.norm(p1 - p0)
    off = np.linalg.norm(np.cross(points - p0, along), axis=1)
    return (p0, p1) if off.max() <= 1e-9 * np.linalg.norm(p1 - p0) else None


class _Edge:
    """A straight contact edge from p0 along the unit vector t (length, µm), the contact's
    plane with unit normal n, `side` = +1 or -1 the sign of (x - p0)·n on the electrolyte
    side. Its nodes move in the planes across it as a rim's move in its meridian half-plane;
    beyond its ends the move fades out over the tube's radius."""

    def __init__(self, curve, p0, t, length, normal, side):
        self.curve, self.p0, self.t, self.length, self.normal, self.side = curve, p0, t, length, normal, side
        self.a = length / 2  # the scale that bounds the tube, as a rim's radius

    @classmethod
    def of(cls, curve: int, electrolyte_volumes: list[int]) -> _Edge | None:
        line = _line_of(curve)
        if line is None:
            return None
        p0, p1 = line
        length = float(np.linalg.norm(p1 - p0))
        t = (p1 - p0) / length
        surfaces = [s for _, s in _upward(1, curve)]
        volumes = {v for s in surfaces for v in _upward(2, s)} & {(3, v) for v in electrolyte_volumes}
        # the contact's plane: a plane through the edge with electrolyte on one side only
        normals = [n for s in surfaces if len(set(_upward(2, s)) & volumes) == 1
                   for n in [_plane_normal(s)] if n is not None and abs(n @ t) < 1e-9]
        if not volumes or not normals:
            return None
        normal = normals[0]
        below = [np.dot(np.array(gmsh.model.occ.getCenterOfMass(*v)) - p0, normal) for v in volumes]
        return cls(curve, p0, t, length, normal, 1.0 if np.mean(below) > 0 else -1.0)

    def frame(self, xyz: np.ndarray):
        """(x, z, unit across, distance beyond the nearer end): x across the edge in the
        contact's plane, z the height on the electrolyte side."""
        d = xyz - self.p0
        w = d @ self.t
        across = np.cross(self.normal, self.t)
        x = d @ across
        z = d @ self.normal * self.side
        beyond = np.maximum(np.maximum(-w, w - self.length), 0.0)
        return x, z, np.broadcast_to(across, xyz.shape), beyond

    def tube_radius(self, xyz: np.ndarray, entity_of: dict[tuple[int, int], np.ndarray]) -> float:
        """ρ0 (µm): no node the move reaches leaves its entity."""
        x, z, _, beyond = self.frame(xyz)
        reach = np.maximum(np.hypot(x, z), beyond / FADE)
        rho0 = EDGE_TUBE * self.a
        probe = self.move(xyz, rho0 / CLEARANCE, POWERS[-1]) - xyz  # the directions of the move
        for (dim, tag), nodes in entity_of.items():
            if dim == 3 or (dim == 1 and tag == self.curve) or not nodes.size:
                continue
            near = nodes[reach[nodes] < rho0 / CLEARANCE]
            if near.size:
                off = _off_entity(dim, tag, probe[near])
                if off.any():
                    rho0 = min(rho0, CLEARANCE * reach[near][off].min())
        return rho0

    def move(self, xyz: np.ndarray, rho0: float, power: float) -> np.ndarray:
        x, z, across, beyond = self.frame(xyz)
        rho = np.hypot(x, z)
        near = (rho < rho0) & (beyond < FADE * rho0)
        s = rho[near] / rho0
        factor = EDGE_FLOOR + (1 - EDGE_FLOOR) * s ** (power - 1) * np.exp((power - 1) * (1 - s))
        fade = _smoothstep(1 - beyond[near] / (FADE * rho0))
        factor = 1 - fade * (1 - factor)
        shift_x = x[near] * (factor - 1)
        shift_z = np.where(z[near] < 0, 0.0, z[near] * (factor - 1))
        out = xyz.copy()
        out[near] += shift_x[:, None] * across[near] + (shift_z * self.side)[:, None] * self.normal
        return out


def _smoothstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u)


def _off_entity(dim: int, tag: int, shift: np.ndarray) -> np.ndarray:
    """Which of the shifts (n x 3, µm) carry a node of entity (dim, tag) off it: any
    shift of a point, or of a node on a curve that is not a line or a surface that is not
    a plane; on a line, a shift across it; on a plane, a shift out of it."""
    size = np.linalg.norm(shift, axis=1)
    moves = size > 1e-12 * max(size.max(), 1e-300)
    if dim == 0 or not moves.any():
        return moves
    line = _line_of(tag) if dim == 1 else None
    if line is not None:
        along = (line[1] - line[0]) / np.linalg.norm(line[1] - line[0])
        return moves & (np.linalg.norm(np.cross(shift, along), axis=1) > 1e-9 * size)
    normal = _plane_normal(tag) if dim == 2 else None
    if normal is not None:
        return moves & (np.abs(shift @ normal) > 1e-9 * size)
    return moves


def _plane_normal(surface: int) -> np.ndarray | None:
    """The unit normal of a planar surface; None for any other."""
    if gmsh.model.getType(2, surface) != "Plane":
        return None
    lo, hi = gmsh.model.getParametrizationBounds(2, surface)
    n = np.array(gmsh.model.getNormal(surface, [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2]))
    return n / np.linalg.norm(n)


def circular_rims(contact_faces: list[int]) -> list[int]:
    """Closed circles (OCC may call them ellipses) bounding a contact face."""
    curves = {abs(t) for _, t in gmsh.model.getBoundary([(2, f) for f in contact_faces], combined=False,
                                                          oriented=False)}
    return sorted(c for c in curves if gmsh.model.getType(1, c) in ("Circle", "Ellipse")
                  and len({abs(t) for _, t in gmsh.model.getBoundary([(1, c)], oriented=False)}) <= 1)


class _Rim:
    """A circle (centre, unit normal, radius a, µm) with `side` = +1 or -1: the sign of
    (x - centre)·normal on the electrolyte side."""

    def __init__(self, curve, centre, normal, radius, side):
        self.curve, self.centre, self.normal, self.a, self.side = curve, centre, normal, radius, side

    @classmethod
    def of(cls, curve: int, electrolyte_volumes: list[int]) -> _Rim | None:
        centre = np.array(gmsh.model.occ.getCenterOfMass(1, curve))
        radius = gmsh.model.occ.getMass(1, curve) / (2 * math.pi)
        lo, hi = gmsh.model.getParametrizationBounds(1, curve)
        p = np.reshape(gmsh.model.getValue(1, curve, [lo[0] + (hi[0] - lo[0]) * k / 8 for k in range(8)]), (8, 3))
        if np.ptp(np.linalg.norm(p - centre, axis=1)) > 1e-9 * radius:
            return None  # an ellipse that is not a circle
        normal = np.cross(p[0] - centre, p[2] - centre)
        normal /= np.linalg.norm(normal)
        surfaces = [t for _, t in _upward(1, curve)]
        volumes = {v for s in surfaces for v in _upward(2, s)} & {(3, v) for v in electrolyte_volumes}
        if not volumes:
            return None
        below = [np.dot(np.array(gmsh.model.occ.getCenterOfMass(*v)) - centre, normal) for v in volumes]
        return cls(curve, centre, normal, radius, 1.0 if np.mean(below) > 0 else -1.0)

    def frame(self, xyz: np.ndarray):
        """(x, z, radial unit vectors): x = r - a, z = height on the electrolyte side."""
        d = xyz - self.centre
        z = d @ self.normal * self.side
        radial = d - np.outer(d @ self.normal, self.normal)
        r = np.linalg.norm(radial, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = radial / r[:, None]
        return r - self.a, z, unit

    def tube_radius(self, xyz: np.ndarray, entity_of: dict[tuple[int, int], np.ndarray]) -> float:
        """ρ0 (µm): clear of every node that the move would carry off its entity."""
        x, z, _ = self.frame(xyz)
        rho = np.hypot(x, z)
        rho0 = TUBE_FRACTION * self.a
        for (dim, tag), nodes in entity_of.items():
            if dim == 3 or (dim == 1 and tag == self.curve) or not nodes.size:
                continue
            if not (rho[nodes] < rho0 / CLEARANCE).any():
                continue
            # a node must stay where a move would carry it off its entity: on the electrolyte
            # side (radial moves) every node not inside a volume; elsewhere (sideways moves)
            # every node off the spot's wall (x = 0) that is not on a plane parallel to the rim's
            must_stay = z[nodes] > 1e-6 * self.a
            if not (dim == 2 and self._is_parallel_plane(tag)):
                must_stay |= np.abs(x[nodes]) > 1e-6 * self.a
            if must_stay.any():
                rho0 = min(rho0, CLEARANCE * rho[nodes][must_stay].min())
        return rho0

    def _is_parallel_plane(self, surface: int) -> bool:
        n = _plane_normal(surface)
        return n is not None and abs(abs(n @ self.normal) - 1) < 1e-9

    def move(self, xyz: np.ndarray, rho0: float, segment: float, power: float) -> np.ndarray:
        x, z, unit = self.frame(xyz)
        rho = np.hypot(x, z)
        near = rho < rho0
        s = rho[near] / rho0
        floor = min(FLOOR * segment / self.a, 1.0)
        factor = floor + (1 - floor) * s ** (power - 1) * np.exp((power - 1) * (1 - s))
        new_x, new_z = x.copy(), z.copy()
        new_x[near] = x[near] * factor
        gas = z[near] < 0
        new_z[near] = np.where(gas, z[near], z[near] * factor)
        out = xyz.copy()
        out[near] = (self.centre + (self.a + new_x[near])[:, None] * unit[near]
                     + (new_z[near] * self.side)[:, None] * self.normal)
        return out


def _upward(dim: int, tag: int) -> list[tuple[int, int]]:
    up, _ = gmsh.model.getAdjacencies(dim, tag)
    return [(dim + 1, int(t)) for t in up]


def _positions(tags: np.ndarray) -> np.ndarray:
    """Gmsh node tag -> its position in `tags` (-1 for tags not there)."""
    position = np.full(tags.max() + 1, -1, dtype=np.int64)
    position[tags] = np.arange(tags.size)
    return position


def _entity_of_nodes(position: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """For every entity (dim, tag): positions of the nodes Gmsh classified on it, its
    boundary's nodes not included."""
    out = {}
    for dim, tag in gmsh.model.getEntities():
        nodes, _, _ = gmsh.model.mesh.getNodes(dim, tag, includeBoundary=False, returnParametricCoord=False)
        out[(dim, tag)] = position[np.asarray(nodes, dtype=np.int64)]
    return out


def _signed_volume(position: np.ndarray):
    """A function of node coordinates (in the order `position` numbers them): six times
    the signed volume of every tetrahedron in Gmsh's mesh."""
    _, _, nodes = gmsh.model.mesh.getElements(3)
    t = position[np.concatenate([np.asarray(n, dtype=np.int64) for n in nodes]).reshape(-1, 4)]

    def volume(p):
        a, b, c, d = (p[t[:, k]] for k in range(4))
        return np.einsum("ij,ij->i", np.cross(b - a, c - a), d - a)

    return volume
