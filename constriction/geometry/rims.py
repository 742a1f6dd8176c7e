"""Grading toward circular contact rims by moving mesh nodes (µm, Gmsh's model in memory).

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
"""

from __future__ import annotations

import math

import gmsh
import numpy as np

POWERS = (3.0, 2.5, 2.0, 1.5)  # γ: the first that turns no tetrahedron inside out
TUBE_FRACTION = 0.5  # ρ0 at most this fraction of the rim radius
FLOOR = 1.0          # ρ'/ρ at least this times (rim segment / a): keeps nodes off the chords
CLEARANCE = 0.45     # and this fraction of the distance to the nearest node that must stay


def graded_coordinates(tags: np.ndarray, xyz: np.ndarray, circles: list[int],
                       electrolyte_volumes: list[int], min_tube_um: float) -> np.ndarray:
    """Node coordinates (N x 3, µm, in the order of `tags`) moved toward every rim in
    `circles` (circular_rims); tubes thinner than `min_tube_um` are skipped."""
    if not circles:
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
        for power in POWERS:
            candidate = rim.move(moved, rho0, segment, power)
            if np.all(volume(candidate) * v0 > 0):
                moved = candidate
                break
    return moved


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
        if gmsh.model.getType(2, surface) != "Plane":
            return False
        lo, hi = gmsh.model.getParametrizationBounds(2, surface)
        n = np.array(gmsh.model.getNormal(surface, [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2]))
        return abs(abs(n @ self.normal) - 1) < 1e-9

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
