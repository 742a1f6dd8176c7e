"""Seeded placement of spherical inclusions ([[inclusions]] with `place`, read in
io/inclusions_reader.py): `count` spheres at random sites anywhere in the electrolyte, on
grain-boundary faces or on triple-junction edges, clear of each other and of every other
body by MARGIN of their radius.
"""

from __future__ import annotations

import math

import numpy as np

from constriction.materials import Material
from constriction.spec import Cell, Grains, Inclusion, SpecError, Void

PLACES = ("random", "grain_boundaries", "triple_junctions")
MARGIN = 0.1
ATTEMPTS = 200_000
RANDOM_JAMMING = 0.38  # random sequential addition of equal spheres jams near this volume fraction


def placed_spheres(where: str, place: str, count: int, r: float, seed: int, kind: str, material: Material | None,
                   cell: Cell, grains: Grains | None, voids: tuple[Void, ...],
                   earlier: list[Inclusion]) -> list[Inclusion]:
    """`count` spheres of radius r (µm) at seeded random sites of `place` (reproducible),
    clear of each other and of the `earlier` bodies and the voids by MARGIN of r; SpecError
    at `where` (the [[inclusions]] table) where they do not fit."""
    sites = _sites(place, where, cell, grains, r)
    rng = np.random.default_rng(seed)
    clear = r * (1 + MARGIN)
    if place == "random" and count * 4 / 3 * math.pi * clear**3 > RANDOM_JAMMING * cell.top_area_um2 * cell.thickness_um:
        raise SpecError(f"{where}.count", f"{count} spheres of radius {r:g} µm would fill more of the cell than "
                                          f"random packing reaches (~{RANDOM_JAMMING:.0%}): fewer or smaller ones")
    obstacles = [b.bounds_um() for b in earlier] + [_void_bounds(v, cell) for v in voids]
    centres = np.empty((count, 3))
    placed = 0
    for _ in range(ATTEMPTS):
        if placed == count:
            break
        c = sites(rng)
        if c is not None and np.all(np.linalg.norm(centres[:placed] - c, axis=1) > 2 * clear) and \
                all(_box_distance(c, lo, hi) > clear for lo, hi in obstacles):
            centres[placed] = c
            placed += 1
    centres = centres[:placed]
    if placed < count:
        raise SpecError(f"{where}.count", f"could place only {placed} of {count} spheres of radius "
                                          f"{r:g} µm {place.replace('_', ' ')}: fewer or smaller ones")
    return [Inclusion(shape="sphere", kind=kind, key=where, material=material, radius_um=r,
                      centre_um=tuple(float(v) for v in c)) for c in centres]


def _void_bounds(v: Void, cell: Cell):
    top = cell.thickness_um - v.depth_um
    return ((v.x_um - v.radius_um, v.y_um - v.radius_um, top - v.height_um),
            (v.x_um + v.radius_um, v.y_um + v.radius_um, top))


def _box_distance(c: np.ndarray, lo, hi) -> float:
    """Distance from point c to an axis-aligned box (0 inside)."""
    return float(np.linalg.norm(np.maximum(0.0, np.maximum(np.asarray(lo) - c, c - np.asarray(hi)))))


def _sites(place: str, where: str, cell: Cell, grains: Grains | None, r: float):
    """A function rng -> one candidate centre (µm), at least r (1 + MARGIN) inside the cell."""
    clear = r * (1 + MARGIN)
    L, w = cell.thickness_um, cell.half_width_um - clear
    if w <= 0 or L <= 2 * clear:
        raise SpecError(f"{where}.radius_um", "spheres this large do not fit in the cell")

    def lateral(rng):
        while True:
            x, y = rng.uniform(-w, w, 2)
            if cell.shape == "box" or math.hypot(x, y) <= w:
                return x, y

    if place == "random":
        return lambda rng: np.array([*lateral(rng), rng.uniform(clear, L - clear)])
    if grains is None or grains.kind == "brick":
        raise SpecError(f"{where}.place", f"{place.replace('_', ' ')} need [grains] of kind layers or voronoi")
    if grains.kind == "layers":
        if place == "triple_junctions":
            raise SpecError(f"{where}.place", "layered grains have no triple junctions (voronoi grains do)")
        planes = [z for z in np.arange(1, math.ceil(L / grains.size_um - 1e-9)) * grains.size_um
                  if clear <= z <= L - clear]
        if not planes:
            raise SpecError(f"{where}.radius_um", "no grain boundary lies far enough inside the cell")
        return lambda rng: np.array([*lateral(rng), planes[rng.integers(len(planes))]])
    from constriction.geometry.grains import voronoi_boundaries
    faces, edges = voronoi_boundaries(cell, grains.size_um, grains.seed)
    lo, hi = np.array([-w, -w, clear]), np.array([w, w, L - clear])
    if place == "grain_boundaries":
        triangles = np.array([[f[0], f[k], f[k + 1]] for f in faces for k in range(1, len(f) - 1)])
        weights = 0.5 * np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0],
                                                triangles[:, 2] - triangles[:, 0]), axis=1)

        def on_face(rng):
            a, b, c = triangles[rng.choice(len(triangles), p=weights / weights.sum())]
            u, v = rng.random(2)
            if u + v > 1:
                u, v = 1 - u, 1 - v
            return a + u * (b - a) + v * (c - a)
        return _kept_inside(on_face, lo, hi)
    if not len(edges):
        raise SpecError(f"{where}.place", "these voronoi grains have no triple junction inside the cell")
    lengths = np.linalg.norm(edges[:, 1] - edges[:, 0], axis=1)

    def on_edge(rng):
        a, b = edges[rng.choice(len(edges), p=lengths / lengths.sum())]
        return a + rng.random() * (b - a)
    return _kept_inside(on_edge, lo, hi)


def _kept_inside(draw, lo: np.ndarray, hi: np.ndarray):
    """Draws from `draw` outside [lo, hi] are redrawn (a few tries, then None)."""
    def site(rng):
        for _ in range(100):
            c = draw(rng)
            if np.all(c >= lo) and np.all(c <= hi):
                return c
        return None
    return site
