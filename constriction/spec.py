"""What the user describes: a cell, its electrode, contact spots, a gap, materials,
a frequency sweep and mesh options, as plain frozen dataclasses. io/spec_reader.py builds them
from TOML (or plain dicts) and validates them before any meshing.

Lengths are in µm, conductivity in S/m, frequency in Hz. A spec that cannot be built is
a `SpecError` naming the dotted key that is wrong and the reason, in one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from constriction.materials import Material


MAX_LENGTH_UM = 1e6           # 1 m: every length key (µm)
MIN_LENGTH_UM = 1e-4          # 0.1 nm, below an atom: every length key that is not 0 (µm); a mesh
                              # size of 1e-206 µm made the element estimate divide by 0
MAX_SIGMA = 1e9               # S/m
MIN_SIGMA = 1e-20             # S/m: only reached through an Arrhenius law (a given sigma is > 0)
MAX_EPS_R = 1e9
F_RANGE_HZ = (1e-6, 1e15)     # what a sweep may span
MAX_POINTS_PER_DECADE = 1000


class SpecError(ValueError):
    """A spec that cannot be built; the message names the key and the reason."""

    def __init__(self, key: str, reason: str, path: str | Path | None = None):
        self.key, self.reason, self.path = key, reason, path
        super().__init__(": ".join(str(part) for part in (path, key, reason) if part))

    def in_file(self, path: str | Path) -> "SpecError":
        """The same error, naming the file it came from (once)."""
        return self if self.path is not None else SpecError(self.key, self.reason, path)


@dataclass(frozen=True)
class Cell:
    """Solid electrolyte: a cylinder (radius) or a square box (side). counter "plane": the
    whole bottom face is an ideal CE; "mirror": the CE carries the WE's morphology mirrored
    in the mid-plane (a symmetric Na | SE | Na cell)."""
    shape: str
    thickness_um: float
    radius_um: float | None = None
    side_um: float | None = None
    counter: str = "plane"

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
    """Working electrode on the top face; radius None means the whole top face.
    metal_thickness_um (optional) bounds the height of gaps and pores in the metal."""
    radius_um: float | None = None
    offset_um: tuple[float, float] = (0.0, 0.0)
    metal_thickness_um: float | None = None


@dataclass(frozen=True)
class Contact:
    """A circular contact spot, centre relative to the cell centre (µm)."""
    x_um: float
    y_um: float
    radius_um: float


@dataclass(frozen=True)
class ContactMap:
    """Contact pixels (True = metal touches electrolyte), rows from the top of the picture,
    each pixel a square of side pixel_um, the picture centred at `centre_um`."""
    mask: tuple[tuple[bool, ...], ...]
    pixel_um: float
    centre_um: tuple[float, float] = (0.0, 0.0)

    @property
    def area_um2(self) -> float:
        return sum(map(sum, self.mask)) * self.pixel_um**2

    @property
    def outline_um(self) -> float:
        """Length of the contact's outline (µm): the pixel sides between contact and not."""
        rows = [(False,) + tuple(row) + (False,) for row in self.mask]
        blank = (False,) * len(rows[0])
        rows = [blank] + rows + [blank]
        across = sum(a != b for row in rows for a, b in zip(row, row[1:]))
        down = sum(a != b for upper, lower in zip(rows, rows[1:]) for a, b in zip(upper, lower))
        return (across + down) * self.pixel_um

    def rectangles(self) -> list[tuple[float, float, float, float]]:
        """Runs of contact pixels along each row as (x0, y0, width, height) in µm."""
        p, rows, cols = self.pixel_um, len(self.mask), len(self.mask[0])
        x_left = self.centre_um[0] - cols * p / 2
        y_top = self.centre_um[1] + rows * p / 2
        out = []
        for i, row in enumerate(self.mask):
            j = 0
            while j < cols:
                if row[j]:
                    k = j
                    while k < cols and row[k]:
                        k += 1
                    out.append((x_left + j * p, y_top - (i + 1) * p, (k - j) * p, p))
                    j = k
                else:
                    j += 1
        return out


@dataclass(frozen=True)
class Pore:
    """A pore in the metal over an otherwise full contact: footprint disk (centre, radius)
    on the electrolyte surface, rising `height_um` into the metal; `shape` is "flat"
    (a cylinder) or "lens" (a spherical cap). Filled with gas (eps_r = 1)."""
    x_um: float
    y_um: float
    radius_um: float
    height_um: float
    shape: str = "flat"


@dataclass(frozen=True)
class Void:
    """A flat cylindrical void inside the electrolyte, its top `depth_um` below the
    surface (µm). Gas filled (eps_r = 1)."""
    x_um: float
    y_um: float
    radius_um: float
    height_um: float
    depth_um: float


@dataclass(frozen=True)
class Probe:
    """A reference electrode that draws no current, `depth_um` below the working
    electrode's surface (0: on the WE face, outside the electrode): a point at x, y from the
    cell axis (µm), or, with radius_um > 0, a thin ring of that radius around x, y,
    parallel to the faces, that reads the mean potential along it (the potential of a ring
    around the axis of an axisymmetric cell); or a floating metal inclusion ([[inclusions]]
    table `inclusion`: a wire, a ball), an equipotential that draws no net current and
    is a terminal of the cell's admittance matrix."""
    name: str
    x_um: float
    y_um: float
    depth_um: float
    radius_um: float = 0.0
    inclusion: int | None = None   # a floating metal inclusion as the reference (x, y, depth: its centre)
    phase: str | None = None       # an image's metal phase as the reference (x, y, depth: NaN)

    def points_um(self, n: int = 64) -> tuple:
        """(x, y) of the point, or of n points evenly along the ring (µm)."""
        if self.radius_um == 0:
            return ((self.x_um,), (self.y_um,))
        angles = [2 * math.pi * k / n for k in range(n)]
        return (tuple(self.x_um + self.radius_um * math.cos(a) for a in angles),
                tuple(self.y_um + self.radius_um * math.sin(a) for a in angles))


@dataclass(frozen=True)
class Inclusion:
    """A body inside the electrolyte (µm): a "sphere" (centre, radius), an axis-aligned
    "ellipsoid" (centre, semi_axes) or "box" (centre, edge lengths in `size`), or a
    "cylinder" (a filament: axis from `start` to `end`, radius).

    kind "metal": an equipotential (floating with zero net current, or part of the
    electrode it touches); "insulator": no conduction, permittivity only; "material":
    its own `material`. `key` names the [[inclusions]] table it came from."""
    shape: str
    kind: str
    key: str
    centre_um: tuple[float, float, float] | None = None
    radius_um: float | None = None
    semi_axes_um: tuple[float, float, float] | None = None
    size_um: tuple[float, float, float] | None = None
    start_um: tuple[float, float, float] | None = None
    end_um: tuple[float, float, float] | None = None
    material: Material | None = None   # insulator: sigma 0 and its eps_r

    @property
    def region(self) -> str:
        """The name of the mesh region of a non-metal inclusion's table."""
        return self.key.replace("[", "_").replace("]", "")

    def bounds_um(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Axis-aligned bounding box (low corner, high corner) in µm."""
        if self.shape == "cylinder":
            a, b = self.start_um, self.end_um
            length = math.dist(a, b)
            reach = [self.radius_um * math.sqrt(max(0.0, 1 - ((b[k] - a[k]) / length)**2)) for k in range(3)]
            return (tuple(min(a[k], b[k]) - reach[k] for k in range(3)),
                    tuple(max(a[k], b[k]) + reach[k] for k in range(3)))
        half = {"sphere": (self.radius_um,) * 3, "ellipsoid": self.semi_axes_um,
                "box": tuple(v / 2 for v in self.size_um or (0, 0, 0))}[self.shape]
        return (tuple(c - h for c, h in zip(self.centre_um, half)),
                tuple(c + h for c, h in zip(self.centre_um, half)))

    @property
    def surface_um2(self) -> float:
        """Surface area (µm²; an ellipsoid's by Thomsen's formula, within 1.1 %)."""
        if self.shape == "sphere":
            return 4 * math.pi * self.radius_um**2
        if self.shape == "ellipsoid":
            a, b, c, p = *self.semi_axes_um, 1.6075
            return 4 * math.pi * (((a * b)**p + (a * c)**p + (b * c)**p) / 3) ** (1 / p)
        if self.shape == "box":
            x, y, z = self.size_um
            return 2 * (x * y + y * z + x * z)
        r = self.radius_um
        return 2 * math.pi * r * math.dist(self.start_um, self.end_um) + 2 * math.pi * r**2

    def to_dict(self) -> dict:
        """The [[inclusions]] table of this one body."""
        out = {"shape": self.shape}
        for name in ("centre_um", "radius_um", "semi_axes_um", "size_um", "start_um", "end_um"):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        if self.kind == "material":
            out["material"] = material_table(self.material)
        else:
            out["material"] = self.kind
        if self.kind == "insulator":
            out["eps_r"] = self.material.eps_r
        return out


@dataclass(frozen=True)
class Interface:
    """Surface admittance of the contacts per area, Y_s = 1/R_ct + s C_dl.
    R_ct None: blocking (no charge transfer, no DC path)."""
    R_ct_ohm_cm2: float | None = None
    C_dl_F_per_cm2: float = 0.0

    @property
    def blocking(self) -> bool:
        return self.R_ct_ohm_cm2 is None


@dataclass(frozen=True)
class Interphase:
    """A meshed layer of the given thickness in the electrolyte under every contact."""
    thickness_um: float
    material: "Material"


@dataclass(frozen=True)
class Gap:
    """Gap of height h between metal and electrolyte outside the contacts."""
    height_um: float = 0.0
    eps_r: float = 1.0


@dataclass(frozen=True)
class Grains:
    """Polycrystalline electrolyte: grains of `size_um` as "layers" (planes normal to the
    current), "brick" (cubes) or "voronoi" (seeded); grain boundaries of thickness
    `gb_thickness_um` made of `gb`, modelled as zero-thickness "interface"s with specific
    admittance (sigma_gb + s eps0 eps_gb) / delta, or as meshed "layer"s."""
    kind: str
    size_um: float
    gb: Material
    gb_thickness_um: float
    model: str = "interface"
    seed: int = 0


SWEEP_KINDS = ("spectrum", "dc")  # "dc": R_dc, R_inf, the split (and an image's conductivity), no spectrum


@dataclass(frozen=True)
class Sweep:
    """The frequencies of the spectrum (Hz): f_min = f_max is one frequency. kind "dc" asks
    for no spectrum at all (the frequencies may then be None)."""
    f_min_Hz: float | None
    f_max_Hz: float | None
    points_per_decade: int = 10
    kind: str = "spectrum"

    @property
    def dc_only(self) -> bool:
        return self.kind == "dc"

    def to_dict(self) -> dict:
        """The [sweep] table (what is unset left out)."""
        table = {k: v for k, v in vars(self).items() if v is not None}
        if self.kind == "spectrum":
            del table["kind"]
        return table


@dataclass(frozen=True)
class MeshOptions:
    """size_um: far-field element size; edge_size_um: size at contact edges
    (default: the smallest spot or electrode radius / 25); refine scales both.
    tolerance: the width of R_dc's error bar over R_dc to refine the mesh to
    (geometry/adapt.py); None: the fixed grading alone."""
    size_um: float = 10.0
    edge_size_um: float | None = None
    refine: float = 1.0
    order: int = 2
    tolerance: float | None = None


@runtime_checkable
class CellSpec(Protocol):
    """What every spec is, whatever its geometry source: a Spec (a cell Gmsh meshes), an
    ImageSpec (image/read.py: a labelled 3D image) or a MeshFileSpec (meshfile/read.py: the
    user's own mesh). load_spec gives one; run takes any; sources.py tells them apart."""
    name: str
    sweep: Sweep
    temperature_K: float | None

    @property
    def electrolyte(self) -> Material:
        """The bulk electrolyte (at the reference temperature until `at`)."""

    def at(self, temperature_K: float | None = None) -> "CellSpec":
        """Every material at `temperature_K` (default: the spec's [conditions])."""

    def frequencies_Hz(self):
        """The sweep's frequencies (Hz, ascending)."""

    def to_dict(self) -> dict:
        """The plain tables of its TOML (spec_from_dict builds the same spec back)."""


@dataclass(frozen=True)
class Spec:
    """A cell that Gmsh meshes (a CellSpec)."""
    cell: Cell
    electrolyte: Material
    sweep: Sweep
    electrode: Electrode = Electrode()
    contacts: tuple[Contact, ...] | None = None  # None: full contact under the electrode
    contact_map: ContactMap | None = None         # pixel contacts, instead of disks
    gap: Gap = Gap()
    pores: tuple[Pore, ...] = ()
    voids: tuple[Void, ...] = ()
    interface: Interface | None = None
    interphase: Interphase | None = None
    grains: Grains | None = None
    inclusions: tuple[Inclusion, ...] = ()
    probes: tuple[Probe, ...] = ()       # reference electrodes (no current)
    temperature_K: float | None = None   # None: every material at its reference temperature
    mesh: MeshOptions = MeshOptions()
    name: str = "cell"

    @property
    def full_contact(self) -> bool:
        """The electrode touches the electrolyte everywhere (except its pores)."""
        return self.contacts is None and self.contact_map is None

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
        if self.contact_map is not None:
            return self.contact_map.area_um2
        if self.contacts is None:
            return self.electrode_area_um2 - sum(math.pi * p.radius_um**2 for p in self.pores)
        return sum(math.pi * c.radius_um**2 for c in self.contacts)

    def at(self, temperature_K: float | None = None) -> "Spec":
        """The spec with every material resolved at `temperature_K` (default: the spec's
        own [conditions] temperature): each Material's sigma_S_per_m is then its value at
        that temperature. Resolve once, at the start; everything downstream (assembly,
        tau_el, arcs, normalisation, fits) reads only the resolved values."""
        T = self.temperature_K if temperature_K is None else temperature_K
        if T is None:
            return self
        grains, interphase = self.grains, self.interphase
        if grains is not None:
            grains = replace(grains, gb=grains.gb.at(T))
        if interphase is not None:
            interphase = replace(interphase, material=interphase.material.at(T))
        inclusions = tuple(replace(i, material=i.material.at(T)) if i.kind == "material" else i
                           for i in self.inclusions)
        return replace(self, electrolyte=self.electrolyte.at(T), grains=grains, interphase=interphase,
                       inclusions=inclusions, temperature_K=T)

    def frequencies_Hz(self):
        return frequencies(self.sweep)

    def to_dict(self) -> dict:
        """The spec as the plain tables its TOML has (reader.spec_from_dict builds it
        back): generated layouts come back as explicit [[contacts]], a contact map as
        its pixels, a named material set as its values."""
        cell = {"shape": self.cell.shape, "thickness_um": self.cell.thickness_um}
        cell |= {"radius_um": self.cell.radius_um} if self.cell.shape == "cylinder" else {"side_um": self.cell.side_um}
        if self.cell.counter != "plane":
            cell["counter"] = self.cell.counter
        electrode = {k: v for k, v in (("radius_um", self.electrode.radius_um),
                                        ("metal_thickness_um", self.electrode.metal_thickness_um)) if v is not None}
        if self.electrode.radius_um is not None:
            electrode["offset_um"] = list(self.electrode.offset_um)
        out = {"cell": cell, "electrode": electrode,
               "materials": {"electrolyte": material_table(self.electrolyte)},
               "sweep": self.sweep.to_dict(),
               "mesh": {k: v for k, v in vars(self.mesh).items() if v is not None}}
        if self.contact_map is not None:
            out["layout"] = {"kind": "image", "pixel_um": self.contact_map.pixel_um,
                             "pixels": [[int(v) for v in row] for row in self.contact_map.mask]}
        elif self.contacts is not None:
            out["contacts"] = [vars(c).copy() for c in self.contacts]
        if self.has_gap:
            out["gap"] = {"height_um": self.gap.height_um, "eps_r": self.gap.eps_r}
        if self.pores:
            out["pores"] = [vars(p).copy() for p in self.pores]
        if self.voids:
            out["voids"] = [vars(v).copy() for v in self.voids]
        if self.inclusions:
            out["inclusions"] = [i.to_dict() for i in self.inclusions]
        if self.probes:
            out["probes"] = [{"name": p.name, "inclusion": p.inclusion} if p.inclusion is not None else
                             {k: v for k, v in vars(p).items() if k not in ("inclusion", "phase")}
                             for p in self.probes]
        if self.interface is not None:
            i = self.interface
            out["interface"] = ({"blocking": True} if i.blocking else {"R_ct_ohm_cm2": i.R_ct_ohm_cm2}) \
                | {"C_dl_F_per_cm2": i.C_dl_F_per_cm2}
        if self.interphase is not None:
            out["interphase"] = {"thickness_um": self.interphase.thickness_um,
                                 **material_table(self.interphase.material, reference=False)}
        if self.grains is not None:
            g = self.grains
            out["grains"] = {"kind": g.kind, "size_um": g.size_um, "model": g.model, "seed": g.seed}
            out["materials"]["grain_boundary"] = {**material_table(g.gb), "thickness_um": g.gb_thickness_um}
        if self.temperature_K is not None:
            out["conditions"] = {"temperature_K": self.temperature_K}
        return out


def material_table(m: Material, reference: bool = True) -> dict:
    """A material as its spec table (the interphase table takes sigma and eps_r only)."""
    table = {"sigma_S_per_m": m.sigma_S_per_m, "eps_r": m.eps_r}
    if reference:
        table |= {"activation_eV": m.activation_eV, "T_ref_K": m.T_ref_K}
    return table


def frequencies(sweep: Sweep):
    """Log-spaced frequencies (Hz), points_per_decade per decade, both ends included (one
    frequency where f_min = f_max; none for a DC-only run)."""
    import numpy as np
    if sweep.dc_only:
        return np.array([])
    if sweep.f_min_Hz == sweep.f_max_Hz:
        return np.array([float(sweep.f_min_Hz)])
    decades = math.log10(sweep.f_max_Hz / sweep.f_min_Hz)
    n = max(2, int(round(decades * sweep.points_per_decade)) + 1)
    return np.logspace(math.log10(sweep.f_min_Hz), math.log10(sweep.f_max_Hz), n)
