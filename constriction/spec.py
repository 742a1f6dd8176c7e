"""What the user describes: a cell, its electrode, contact spots, a gap, materials,
a frequency sweep and mesh options, read from TOML and validated before any meshing.

Lengths are in µm, conductivity in S/m, frequency in Hz. Every check raises
`SpecError` with the dotted key that is wrong and the reason, in one line.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path


class SpecError(ValueError):
    """A spec that cannot be built; the message names the key and the reason."""

    def __init__(self, key: str, reason: str):
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


@dataclass(frozen=True)
class Cell:
    """Solid electrolyte: a cylinder (radius) or a square box (side), bottom face = CE."""
    shape: str
    thickness_um: float
    radius_um: float | None = None
    side_um: float | None = None

    @property
    def half_width_um(self) -> float:
        """Radius of the cylinder or half the side of the box (µm)."""
        return self.radius_um if self.shape == "cylinder" else self.side_um / 2

    @property
    def top_area_um2(self) -> float:
        if self.shape == "cylinder":
            return math.pi * self.radius_um**2
        return self.side_um**2


@dataclass(frozen=True)
class Electrode:
    """Working electrode on the top face; radius None means the whole top face."""
    radius_um: float | None = None
    offset_um: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Contact:
    """A circular contact spot, centre relative to the cell centre (µm)."""
    x_um: float
    y_um: float
    radius_um: float


@dataclass(frozen=True)
class Gap:
    """Gap of height h between metal and electrolyte outside the contacts."""
    height_um: float = 0.0
    eps_r: float = 1.0


@dataclass(frozen=True)
class Material:
    sigma_S_per_m: float
    eps_r: float


@dataclass(frozen=True)
class Sweep:
    f_min_Hz: float
    f_max_Hz: float
    points_per_decade: int = 10


@dataclass(frozen=True)
class MeshOptions:
    """size_um: far-field element size; edge_size_um: size at contact edges
    (default: the smallest spot or electrode radius / 25); refine scales both."""
    size_um: float = 5.0
    edge_size_um: float | None = None
    refine: float = 1.0
    order: int = 2


@dataclass(frozen=True)
class Spec:
    cell: Cell
    electrolyte: Material
    sweep: Sweep
    electrode: Electrode = Electrode()
    contacts: tuple[Contact, ...] | None = None  # None: full contact under the electrode
    gap: Gap = Gap()
    mesh: MeshOptions = MeshOptions()
    name: str = "cell"

    @property
    def full_contact(self) -> bool:
        return self.contacts is None

    @property
    def has_gap(self) -> bool:
        return self.gap.height_um > 0

    @property
    def electrode_area_um2(self) -> float:
        """Geometric (nominal) electrode area (µm²)."""
        r = self.electrode.radius_um
        return self.cell.top_area_um2 if r is None else math.pi * r**2

    @property
    def contact_area_um2(self) -> float:
        """Area in metal contact with the electrolyte (µm²)."""
        if self.contacts is None:
            return self.electrode_area_um2
        return sum(math.pi * c.radius_um**2 for c in self.contacts)

    def frequencies_Hz(self):
        """Log-spaced frequencies, points_per_decade per decade, both ends included."""
        import numpy as np
        decades = math.log10(self.sweep.f_max_Hz / self.sweep.f_min_Hz)
        n = max(2, int(round(decades * self.sweep.points_per_decade)) + 1)
        return np.logspace(math.log10(self.sweep.f_min_Hz), math.log10(self.sweep.f_max_Hz), n)


# ---------------------------------------------------------------- reading TOML

def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML spec file."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(str(path), "no such file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SpecError(path.name, f"not valid TOML ({err})") from None
    return spec_from_dict(data, name=path.stem)


def spec_from_dict(data: dict, name: str = "cell") -> Spec:
    """Build a validated Spec from plain nested dicts (as TOML gives them)."""
    _only_keys(data, "", {"cell", "electrode", "contacts", "gap", "materials", "sweep", "mesh"})
    cell = _cell(_table(data, "cell", required=True))
    electrode = _electrode(_table(data, "electrode"), cell)
    contacts = _contacts(data.get("contacts"), cell, electrode)
    gap = _gap(_table(data, "gap"))
    materials = _table(data, "materials", required=True)
    _only_keys(materials, "materials", {"electrolyte"})
    electrolyte = _material(_table(materials, "electrolyte", "materials", required=True),
                            "materials.electrolyte")
    sweep = _sweep(_table(data, "sweep", required=True))
    mesh = _mesh(_table(data, "mesh"))
    if contacts is not None and not contacts and not gap.height_um > 0:
        raise SpecError("contacts", "no contact spots and no gap: nothing connects the electrode")
    if contacts is None and gap.height_um > 0:
        raise SpecError("gap.height_um", "a gap needs [[contacts]] spots (or `contacts = []` for "
                                         "a gap over the whole electrode); without them the "
                                         "electrode is in full contact")
    return Spec(cell=cell, electrolyte=electrolyte, sweep=sweep, electrode=electrode,
                contacts=contacts, gap=gap, mesh=mesh, name=name)


def _cell(t: dict) -> Cell:
    shape = _choice(t, "shape", "cell", ("cylinder", "box"))
    size_key = "radius_um" if shape == "cylinder" else "side_um"
    _only_keys(t, "cell", {"shape", "thickness_um", size_key})
    return Cell(shape=shape,
                thickness_um=_positive(t, "thickness_um", "cell"),
                **{size_key: _positive(t, size_key, "cell")})


def _electrode(t: dict, cell: Cell) -> Electrode:
    _only_keys(t, "electrode", {"radius_um", "offset_um"})
    radius = _positive(t, "radius_um", "electrode", default=None)
    offset = t.get("offset_um", [0.0, 0.0])
    if (not isinstance(offset, list) or len(offset) != 2
            or not all(_is_number(v) for v in offset)):
        raise SpecError("electrode.offset_um", "must be a pair of numbers [x, y]")
    offset = (float(offset[0]), float(offset[1]))
    if radius is None:
        if offset != (0.0, 0.0):
            raise SpecError("electrode.offset_um", "an offset needs electrode.radius_um")
        return Electrode()
    reach = _max_reach(cell, offset, radius)
    if reach > cell.half_width_um * (1 + 1e-12):
        raise SpecError("electrode.radius_um",
                        f"electrode (radius {radius:g} µm at offset {offset}) is larger than "
                        f"the cell top face")
    return Electrode(radius_um=radius, offset_um=offset)


def _max_reach(cell: Cell, centre: tuple[float, float], radius: float) -> float:
    """How far a disk reaches from the cell axis, in the cell's own norm (µm)."""
    x, y = centre
    if cell.shape == "cylinder":
        return math.hypot(x, y) + radius
    return max(abs(x), abs(y)) + radius


def _contacts(items, cell: Cell, electrode: Electrode) -> tuple[Contact, ...] | None:
    if items is None:
        return None
    if not isinstance(items, list):
        raise SpecError("contacts", "must be an array of tables ([[contacts]])")
    spots = []
    for i, t in enumerate(items):
        where = f"contacts[{i}]"
        if not isinstance(t, dict):
            raise SpecError(where, "must be a table with x_um, y_um, radius_um")
        _only_keys(t, where, {"x_um", "y_um", "radius_um"})
        spots.append(Contact(x_um=_number(t, "x_um", where), y_um=_number(t, "y_um", where),
                             radius_um=_positive(t, "radius_um", where)))
    for i, c in enumerate(spots):
        _check_inside_electrode(c, f"contacts[{i}]", cell, electrode)
        for j, d in enumerate(spots[:i]):
            if math.hypot(c.x_um - d.x_um, c.y_um - d.y_um) <= c.radius_um + d.radius_um:
                raise SpecError(f"contacts[{i}]", f"overlaps or touches contacts[{j}]")
    return tuple(spots)


def _check_inside_electrode(c: Contact, where: str, cell: Cell, electrode: Electrode):
    if electrode.radius_um is None:
        if _max_reach(cell, (c.x_um, c.y_um), c.radius_um) >= cell.half_width_um:
            raise SpecError(where, "spot reaches or crosses the edge of the electrode")
        return
    ex, ey = electrode.offset_um
    if math.hypot(c.x_um - ex, c.y_um - ey) + c.radius_um >= electrode.radius_um:
        raise SpecError(where, "spot reaches or crosses the edge of the electrode")


def _gap(t: dict) -> Gap:
    _only_keys(t, "gap", {"height_um", "eps_r"})
    if not t:
        return Gap()
    height = _number(t, "height_um", "gap")
    if height < 0:
        raise SpecError("gap.height_um", f"must be >= 0, got {height:g}")
    return Gap(height_um=height, eps_r=_positive(t, "eps_r", "gap", default=1.0))


def _material(t: dict, where: str) -> Material:
    _only_keys(t, where, {"sigma_S_per_m", "eps_r"})
    sigma = _number(t, "sigma_S_per_m", where)
    if sigma < 0:
        raise SpecError(f"{where}.sigma_S_per_m", f"must be >= 0, got {sigma:g}")
    return Material(sigma_S_per_m=sigma, eps_r=_positive(t, "eps_r", where))


def _sweep(t: dict) -> Sweep:
    _only_keys(t, "sweep", {"f_min_Hz", "f_max_Hz", "points_per_decade"})
    f_min = _positive(t, "f_min_Hz", "sweep")
    f_max = _positive(t, "f_max_Hz", "sweep")
    if f_min >= f_max:
        raise SpecError("sweep.f_min_Hz", f"must be below sweep.f_max_Hz ({f_min:g} >= {f_max:g})")
    ppd = t.get("points_per_decade", 10)
    if not isinstance(ppd, int) or isinstance(ppd, bool) or ppd < 1:
        raise SpecError("sweep.points_per_decade", "must be a positive integer")
    return Sweep(f_min_Hz=f_min, f_max_Hz=f_max, points_per_decade=ppd)


def _mesh(t: dict) -> MeshOptions:
    _only_keys(t, "mesh", {"size_um", "edge_size_um", "refine", "order"})
    order = t.get("order", 2)
    if order not in (1, 2) or isinstance(order, bool):
        raise SpecError("mesh.order", f"must be 1 or 2, got {order!r}")
    return MeshOptions(size_um=_positive(t, "size_um", "mesh", default=5.0),
                       edge_size_um=_positive(t, "edge_size_um", "mesh", default=None),
                       refine=_positive(t, "refine", "mesh", default=1.0),
                       order=order)


# ---------------------------------------------------------------- small checks

def _table(data: dict, key: str, parent: str = "", required: bool = False) -> dict:
    where = f"{parent}.{key}" if parent else key
    if key not in data:
        if required:
            raise SpecError(where, "missing table")
        return {}
    if not isinstance(data[key], dict):
        raise SpecError(where, "must be a table")
    return data[key]


def _only_keys(t: dict, where: str, allowed: set[str]):
    for key in t:
        if key not in allowed:
            full = f"{where}.{key}" if where else key
            raise SpecError(full, f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _number(t: dict, key: str, where: str, default=...):
    if key not in t:
        if default is ...:
            raise SpecError(f"{where}.{key}", "missing key")
        return default
    if not _is_number(t[key]):
        raise SpecError(f"{where}.{key}", f"must be a finite number, got {t[key]!r}")
    return float(t[key])


def _positive(t: dict, key: str, where: str, default=...):
    value = _number(t, key, where, default)
    if value is not None and value <= 0:
        raise SpecError(f"{where}.{key}", f"must be > 0, got {value:g}")
    return value


def _choice(t: dict, key: str, where: str, options: tuple[str, ...]) -> str:
    if key not in t:
        raise SpecError(f"{where}.{key}", "missing key")
    if t[key] not in options:
        raise SpecError(f"{where}.{key}", f"must be one of {', '.join(options)}, got {t[key]!r}")
    return t[key]
