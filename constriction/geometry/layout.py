"""Contact-spot layouts: where the metal touches the electrolyte.

Each function returns plain (x, y, radius) triples in µm, relative to the cell centre,
for disks that lie inside a circular footprint (the electrode) of radius `R` centred at
`centre`. Image maps return a boolean pixel mask instead (see `contact_mask`).
"""

from __future__ import annotations

import math

import numpy as np

MARGIN = 0.05  # spots keep this fraction of their radius clear of each other and of the rim

# Random sequential addition of equal disks jams near this coverage: a target above it
# cannot be packed at random, whatever the count.
RANDOM_JAMMING = 0.547


class LayoutError(ValueError):
    """A layout that cannot be generated; `key` is the spec key to blame."""

    def __init__(self, key: str, reason: str):
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


def square_array(period: float, radius: float, R: float, centre=(0.0, 0.0)) -> list[tuple]:
    """Spots on a square lattice of the given period, centred on the footprint (µm)."""
    n = int(R // period) + 1
    points = [(i * period, j * period) for i in range(-n, n + 1) for j in range(-n, n + 1)]
    return _inside(points, radius, R, centre)


def hex_array(period: float, radius: float, R: float, centre=(0.0, 0.0)) -> list[tuple]:
    """Spots on a hexagonal (triangular) lattice of nearest-neighbour distance `period` (µm)."""
    row = period * math.sqrt(3) / 2
    n = int(R // row) + 1
    points = [((i + (j % 2) / 2) * period, j * row) for i in range(-n, n + 1) for j in range(-n, n + 1)]
    return _inside(points, radius, R, centre)


def lattice_radius(kind: str, period: float, contact_fraction: float) -> float:
    """Spot radius that gives `contact_fraction` of the area on a square or hex lattice (µm)."""
    cell_area = period**2 if kind == "square" else period**2 * math.sqrt(3) / 2
    return math.sqrt(contact_fraction * cell_area / math.pi)


def random_spots(count: int, contact_fraction: float, R: float, seed: int,
                 centre=(0.0, 0.0), attempts: int = 200_000) -> list[tuple]:
    """`count` equal, non-overlapping disks covering `contact_fraction` of the footprint,
    placed by random sequential addition with a seeded generator (reproducible)."""
    if contact_fraction >= RANDOM_JAMMING:
        raise LayoutError("layout.contact_fraction",
                          f"{contact_fraction:g} is above what random packing reaches "
                          f"(~{RANDOM_JAMMING}); use a square or hex array")
    a = math.sqrt(contact_fraction / count) * R
    reach = R - a * (1 + MARGIN)
    rng = np.random.default_rng(seed)
    placed: list[tuple[float, float]] = []
    for _ in range(attempts):
        if len(placed) == count:
            break
        r, t = reach * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        x, y = r * math.cos(t), r * math.sin(t)
        if all(math.hypot(x - u, y - v) > 2 * a * (1 + MARGIN) for u, v in placed):
            placed.append((x, y))
    if len(placed) < count:
        raise LayoutError("layout.contact_fraction",
                          f"could place only {len(placed)} of {count} spots at contact fraction "
                          f"{contact_fraction:g}: fewer spots or a smaller fraction")
    cx, cy = centre
    return [(cx + x, cy + y, a) for x, y in placed]


def _inside(points, radius: float, R: float, centre) -> list[tuple]:
    cx, cy = centre
    keep = [(cx + x, cy + y, radius) for x, y in points
            if math.hypot(x, y) + radius * (1 + MARGIN) < R]
    return sorted(keep, key=lambda s: (round(s[1], 9), round(s[0], 9)))


def contact_mask(image, threshold: float = 0.5) -> np.ndarray:
    """A boolean mask (rows from the top of the picture) from an image path or an array:
    white (bright) is contact. Colour images are averaged over their channels."""
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        import matplotlib.image
        image = matplotlib.image.imread(image)
    a = np.asarray(image, dtype=float)
    if a.ndim == 3:
        a = a[..., :3].mean(axis=2)
    if a.ndim != 2:
        raise LayoutError("layout.image", f"must be a 2D picture or array, got shape {a.shape}")
    if a.max() > 1:
        a = a / 255.0
    return a > threshold
