"""Reading a spec: TOML (or plain nested dicts as TOML gives them) to the dataclasses of
spec.py, every value checked before any meshing. Each check raises `SpecError` with the
dotted key that is wrong and the reason, in one line; layouts are generated here from
their parameters ([layout]).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from constriction.geometry import layout
from constriction.io.inclusions_reader import inclusions_from_list
from constriction.io.image_reader import image_spec_from_dict
from constriction.io.toml_fields import (array_of_tables, choice, file_path, is_number, number, only_keys, positive,
                                         probe_name, read_material, read_seed, read_sweep, read_temperature, short,
                                         subtable)
from constriction.materials import NAMED
from constriction.io.mesh_file_reader import mesh_file_spec_from_dict
from constriction.spec import (MAX_SIGMA, MIN_SIGMA, Cell, CellSpec, Contact, ContactMap, Electrode, Gap, Grains,
                               Interface, Interphase, MeshOptions, Pore, Probe, Spec, SpecError, Void)
from constriction.units import M2_PER_CM2, UM, BOLTZMANN_eV_per_K


def load_spec(path: str | Path) -> CellSpec:
    """Read and validate a TOML spec file: a Spec (a cell Gmsh meshes), an ImageSpec (it
    has an [image] table) or a MeshFileSpec (a [mesh_file] table), each a CellSpec."""
    return load_toml(path, spec_from_dict)


def load_toml(path: str | Path, build):
    """`build(tables, name=file stem, base_dir=file folder)` of a TOML file; any
    SpecError names the file."""
    path = Path(path)
    try:
        return build(read_toml(path), name=path.stem, base_dir=path.parent)
    except SpecError as err:
        raise err.in_file(path) from None


MAX_TOML_BYTES = 10_000_000
MIN_TOLERANCE = 1e-5      # [mesh] tolerance at the least (finer: the meshes outgrow any memory)
MAX_SPOTS = 20_000        # contact spots a layout may generate (each is meshed)
PERFECT_CONTACT = 1e12  # R_ct this many times below the electrolyte's resistance is none


def read_toml(path: Path) -> dict:
    """The tables of a TOML file; SpecError (naming the file) if it is missing, binary,
    huge or not valid TOML."""
    path = Path(path)
    if not path.is_file():
        raise SpecError("", "no such file" if not path.exists() else "not a file", path)
    if path.stat().st_size > MAX_TOML_BYTES:
        raise SpecError("", f"{path.stat().st_size:,} bytes: too large for a spec or study file", path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark (some Windows editors) is dropped
    except UnicodeDecodeError:
        raise SpecError("", "not a text file (a TOML spec or study was expected)", path) from None
    if "\0" in text:
        raise SpecError("", "not a text file (a TOML spec or study was expected)", path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError("", f"not valid TOML ({err})", path) from None
    except RecursionError:
        raise SpecError("", "not valid TOML (nested too deeply)", path) from None


def spec_from_dict(data: dict, name: str = "cell", base_dir: Path | None = None) -> CellSpec:
    """Build a validated Spec from plain nested dicts (as TOML gives them); with an
    [image] table, an ImageSpec (io/image_reader.py); with a [mesh_file] table, a
    MeshFileSpec (io/mesh_file_reader.py).

    `base_dir` resolves a relative `layout.image` or `image.path` (the spec file's folder)."""
    if "image" in data:
        return image_spec_from_dict(data, name=name, base_dir=base_dir)
    if "mesh_file" in data:
        return mesh_file_spec_from_dict(data, name=name, base_dir=base_dir)
    only_keys(data, "", {"cell", "electrode", "contacts", "layout", "gap", "pores", "voids",
                          "inclusions", "interface", "interphase", "materials", "grains", "conditions", "sweep", "mesh",
                          "probes"})
    cell = _cell(subtable(data, "cell", required=True))
    electrode = _electrode(subtable(data, "electrode"), cell)
    if "contacts" in data and "layout" in data:
        raise SpecError("layout", "give either [[contacts]] or [layout], not both")
    contacts, contact_map = _contacts(data.get("contacts"), cell, electrode), None
    if "layout" in data:
        contacts, contact_map = _layout(subtable(data, "layout"), cell, electrode, base_dir)
    gap = _gap(subtable(data, "gap"), cell, electrode)
    pores = _pores(data.get("pores", []), cell, electrode, contacts is None and contact_map is None)
    voids = _voids(data.get("voids", []), cell)
    interface = _interface(subtable(data, "interface")) if "interface" in data else None
    interphase = _interphase(subtable(data, "interphase"), cell, voids)
    materials = _materials(subtable(data, "materials", required=True))
    if "grain_boundary" in data["materials"] and "grains" not in data:
        raise SpecError("materials.grain_boundary", "needs a [grains] table to place it")
    electrolyte = read_material(subtable(materials, "electrolyte", "materials", required=True),
                            "materials.electrolyte", {"activation_eV", "T_ref_K"})
    sweep = read_sweep(subtable(data, "sweep", required=True))
    mesh = _mesh(subtable(data, "mesh"))
    grains = _grains(subtable(data, "grains"), materials, cell, mesh)
    temperature = read_temperature(subtable(data, "conditions"))
    inclusions = ()
    if "inclusions" in data:
        inclusions = inclusions_from_list(data["inclusions"], cell, grains, voids)
    spotless = contacts is not None and not contacts and contact_map is None
    if spotless and not gap.height_um > 0:
        raise SpecError("contacts", "no contact spots and no gap: nothing connects the electrode")
    if contacts is None and contact_map is None and gap.height_um > 0:
        raise SpecError("gap.height_um", "a gap needs [[contacts]] spots (or `contacts = []` for "
                                         "a gap over the whole electrode); without them the "
                                         "electrode is in full contact")
    if spotless and (interface is not None or interphase is not None):
        raise SpecError("interface" if interface is not None else "interphase",
                        "needs contacts: with `contacts = []` no metal touches the electrolyte")
    probes = _probes(data.get("probes", []), cell, electrode, voids, inclusions)
    if cell.counter == "mirror":
        for key, given in (("interphase", interphase), ("inclusions", inclusions), ("grains", grains),
                           ("voids", voids)):
            if given:
                raise SpecError(key, "a mirrored counter electrode (cell.counter = \"mirror\") takes contacts, "
                                     "layouts, gaps, pores, the interface and the electrode; not yet " + key)
    spec = Spec(cell=cell, electrolyte=electrolyte, sweep=sweep, electrode=electrode,
                contacts=contacts, contact_map=contact_map, gap=gap, pores=pores, voids=voids,
                interface=interface, interphase=interphase, grains=grains, inclusions=inclusions, probes=probes,
                temperature_K=temperature, mesh=mesh, name=name)
    _check_at_temperature(spec)
    _check_interface(spec)
    return spec


def _check_interface(spec: Spec) -> None:
    """An R_ct so small that the electrolyte's resistance across the cell is PERFECT_CONTACT
    times larger or more is a perfect contact to every digit we solve (and its admittance
    would swamp the system's conditioning): refused, pointing at the ideal contact."""
    if spec.interface is None or spec.interface.R_ct_ohm_cm2 is None:
        return
    electrolyte = spec.at().electrolyte.sigma_S_per_m
    ratio = spec.interface.R_ct_ohm_cm2 * M2_PER_CM2 * electrolyte / (spec.cell.thickness_um * UM)
    if ratio < 1 / PERFECT_CONTACT:
        raise SpecError("interface.R_ct_ohm_cm2", f"{spec.interface.R_ct_ohm_cm2:g} Ω cm² is {ratio:.1g} of the "
                                                  f"electrolyte's own resistance across the cell: a perfect contact; "
                                                  f"leave out [interface] for an ideal contact")


def _check_at_temperature(spec: Spec) -> None:
    """Every conductivity at the working temperature within MIN_SIGMA..MAX_SIGMA, like the
    given values (an Arrhenius law can under- or overflow far from its T_ref)."""
    T = spec.temperature_K
    if T is None:
        return
    materials = [("materials.electrolyte", spec.electrolyte)]
    if spec.grains is not None:
        materials.append(("materials.grain_boundary", spec.grains.gb))
    if spec.interphase is not None:
        materials.append(("interphase", spec.interphase.material))
    materials += [(i.key, i.material) for i in spec.inclusions if i.kind == "material"]
    for where, m in materials:
        exponent = -m.activation_eV / BOLTZMANN_eV_per_K * (1 / T - 1 / m.T_ref_K)  # of e, as in arrhenius
        log10_sigma = math.log10(m.sigma_S_per_m) + exponent / math.log(10)
        if not math.log10(MIN_SIGMA) <= log10_sigma <= math.log10(MAX_SIGMA):
            raise SpecError("conditions.temperature_K", f"{where} at {T:g} K would conduct 1e{log10_sigma:.0f} S/m "
                                                        f"(E_a {m.activation_eV:g} eV from {m.T_ref_K:g} K), outside "
                                                        f"{MIN_SIGMA:g}..{MAX_SIGMA:g} S/m")


def _cell(t: dict) -> Cell:
    shape = choice(t, "shape", "cell", ("cylinder", "box"))
    size_key = "radius_um" if shape == "cylinder" else "side_um"
    only_keys(t, "cell", {"shape", "thickness_um", size_key, "counter"})
    counter = choice(t, "counter", "cell", ("plane", "mirror")) if "counter" in t else "plane"
    return Cell(shape=shape,
                thickness_um=positive(t, "thickness_um", "cell"), counter=counter,
                **{size_key: positive(t, size_key, "cell")})


def _electrode(t: dict, cell: Cell) -> Electrode:
    only_keys(t, "electrode", {"radius_um", "offset_um", "metal_thickness_um"})
    radius = positive(t, "radius_um", "electrode", default=None)
    metal = positive(t, "metal_thickness_um", "electrode", default=None)
    offset = t.get("offset_um", [0.0, 0.0])
    if (not isinstance(offset, list) or len(offset) != 2
            or not all(is_number(v) for v in offset)):
        raise SpecError("electrode.offset_um", "must be a pair of numbers [x, y]")
    offset = (float(offset[0]), float(offset[1]))
    if radius is None:
        if offset != (0.0, 0.0):
            raise SpecError("electrode.offset_um", "an offset needs electrode.radius_um")
        return Electrode(metal_thickness_um=metal)
    reach = _max_reach(cell, offset, radius)
    if reach > cell.half_width_um * (1 + 1e-12):
        raise SpecError("electrode.radius_um",
                        f"electrode (radius {radius:g} µm at offset {offset}) is larger than "
                        f"the cell top face")
    return Electrode(radius_um=radius, offset_um=offset, metal_thickness_um=metal)


def _max_reach(cell: Cell, centre: tuple[float, float], radius: float) -> float:
    """How far a disk reaches from the cell axis, in the cell's own norm (µm)."""
    x, y = centre
    if cell.shape == "cylinder":
        return math.hypot(x, y) + radius
    return max(abs(x), abs(y)) + radius


def _contacts(items, cell: Cell, electrode: Electrode) -> tuple[Contact, ...] | None:
    if items is None:
        return None
    array_of_tables(items, "contacts")
    spots = [Contact(**_disk(t, f"contacts[{i}]", {"x_um", "y_um", "radius_um"}))
             for i, t in enumerate(items)]
    _check_disks(spots, "contacts", cell, electrode)
    return tuple(spots)


def _disk(t, where: str, keys: set[str]) -> dict:
    """A table with x_um, y_um (numbers), radius_um and any other `keys` (positive)."""
    if not isinstance(t, dict):
        raise SpecError(where, f"must be a table with {', '.join(sorted(keys))}")
    only_keys(t, where, keys)
    out = {"x_um": number(t, "x_um", where), "y_um": number(t, "y_um", where)}
    for key in sorted(keys - {"x_um", "y_um", "shape"}):
        out[key] = positive(t, key, where)
    return out


def _check_disks(disks, name: str, cell: Cell, electrode: Electrode | None):
    """Every disk inside the electrode (or the cell face, electrode None), none overlapping."""
    for i, c in enumerate(disks):
        where = f"{name}[{i}]"
        if electrode is None or electrode.radius_um is None:
            if _max_reach(cell, (c.x_um, c.y_um), c.radius_um) >= cell.half_width_um:
                raise SpecError(where, "reaches or crosses the edge of the "
                                       + ("cell" if electrode is None else "electrode"))
        else:
            ex, ey = electrode.offset_um
            if math.hypot(c.x_um - ex, c.y_um - ey) + c.radius_um >= electrode.radius_um:
                raise SpecError(where, "reaches or crosses the edge of the electrode")
    touching = _touching_pairs(disks)
    if touching:
        j, i = touching[0]
        raise SpecError(f"{name}[{i}]", f"overlaps or touches {name}[{j}]")


def _touching_pairs(disks) -> list[tuple[int, int]]:
    """Pairs (j, i), j < i, of disks that overlap or touch, sorted by i: neighbours found
    through a k-d tree (linear in the number of disks, not quadratic)."""
    if len(disks) < 2:
        return []
    import numpy as np
    from scipy.spatial import cKDTree
    xy = np.array([(d.x_um, d.y_um) for d in disks])
    r = np.array([d.radius_um for d in disks])
    pairs = cKDTree(xy).query_pairs(2 * r.max() * (1 + 1e-12), output_type="ndarray")
    pairs = np.sort(pairs, axis=1)
    close = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) <= r[pairs[:, 0]] + r[pairs[:, 1]]
    return sorted(((int(j), int(i)) for j, i in pairs[close]), key=lambda p: (p[1], p[0]))


def _footprint(cell: Cell, electrode: Electrode) -> tuple[float, tuple[float, float]]:
    """Radius and centre of the disk that layouts fill: the electrode, or the largest
    disk on the cell's top face (µm)."""
    if electrode.radius_um is None:
        return cell.half_width_um, (0.0, 0.0)
    return electrode.radius_um, electrode.offset_um


def _layout(t: dict, cell: Cell, electrode: Electrode, base_dir: Path | None):
    """Generated contacts: (spots, None) for arrays and random layouts, ((), map) for images."""
    kind = choice(t, "kind", "layout", ("square", "hex", "random", "image"))
    R, centre = _footprint(cell, electrode)
    try:
        if kind in ("square", "hex"):
            only_keys(t, "layout", {"kind", "period_um", "radius_um", "contact_fraction"})
            period = positive(t, "period_um", "layout")
            if ("radius_um" in t) == ("contact_fraction" in t):
                raise SpecError("layout.radius_um", "give radius_um or contact_fraction, not both")
            if "radius_um" in t:
                radius = positive(t, "radius_um", "layout")
            else:
                radius = layout.lattice_radius(kind, period, _fraction(t, "contact_fraction"))
            if 2 * radius * (1 + layout.MARGIN) >= period:
                raise SpecError("layout.radius_um", f"spots of radius {radius:.4g} µm overlap at "
                                                    f"period {period:g} µm")
            cell_area = period**2 * (1 if kind == "square" else math.sqrt(3) / 2)
            if math.pi * R**2 / cell_area > MAX_SPOTS:
                raise SpecError("layout.period_um", f"about {math.pi * R**2 / cell_area:.3g} spots at period "
                                                    f"{period:g} µm on a {R:g} µm footprint: more than {MAX_SPOTS:,}; "
                                                    f"model a unit cell of the array instead (cell.side_um = period)")
            make = layout.square_array if kind == "square" else layout.hex_array
            spots = make(period, radius, R, centre)
        elif kind == "random":
            only_keys(t, "layout", {"kind", "count", "contact_fraction", "seed"})
            count = t.get("count")
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_SPOTS:
                raise SpecError("layout.count", f"must be an integer from 1 to {MAX_SPOTS:,}")
            spots = layout.random_spots(count, _fraction(t, "contact_fraction"), R, read_seed(t, "layout"), centre)
        else:
            return (), _contact_map(t, cell, electrode, base_dir)
    except layout.LayoutError as err:
        raise SpecError(err.key, err.reason) from None
    if not spots:
        raise SpecError("layout.period_um", "no spot of the array fits inside the electrode")
    contacts = tuple(Contact(x, y, r) for x, y, r in spots)
    _check_disks(contacts, "contacts", cell, electrode)
    return contacts, None


def _fraction(t: dict, key: str) -> float:
    value = positive(t, key, "layout")
    if value >= 1:
        raise SpecError(f"layout.{key}", f"must be below 1, got {value:g}")
    return value


def _contact_map(t: dict, cell: Cell, electrode: Electrode, base_dir: Path | None) -> ContactMap:
    only_keys(t, "layout", {"kind", "image", "pixels", "pixel_um", "threshold"})
    if ("image" in t) == ("pixels" in t):
        raise SpecError("layout.image", "give an image path or a `pixels` array, not both")
    pixel = positive(t, "pixel_um", "layout")
    threshold = number(t, "threshold", "layout", default=0.5)
    if "image" in t:
        source = file_path(t, "image", "layout", base_dir, "a picture of the contacts (white = contact)")
    else:
        source = t["pixels"]
        if (not isinstance(source, list) or not source or not all(isinstance(r, list) for r in source)
                or len({len(r) for r in source}) != 1
                or not all(is_number(v) for r in source for v in r)):
            raise SpecError("layout.pixels", "must be a rectangular array of numbers (1 = contact)")
        if "threshold" in t:
            raise SpecError("layout.threshold", "applies to an image; a `pixels` array holds 0/1 (or 0/255)")
        found = sorted({v for row in source for v in row})
        if not (set(found) <= {0, 1} or set(found) <= {0, 255}):
            shown = ", ".join(f"{v:g}" for v in found[:8]) + (" ..." if len(found) > 8 else "")
            raise SpecError("layout.pixels", f"must hold 0 and 1 (or 0 and 255) only, found {shown}")
    try:
        mask = layout.contact_mask(source, threshold)
    except (OSError, SyntaxError, ValueError) as err:
        raise SpecError("layout.image", f"cannot read {source}: {err}") from None
    if not mask.any():
        key = "layout.image" if "image" in t else "layout.pixels"
        raise SpecError(key, "has no contact pixels (white = contact)" if "image" in t
                        else "has no contact pixels (1 or 255 = contact)")
    R, centre = _footprint(cell, electrode)
    contact_map = ContactMap(mask=tuple(tuple(bool(v) for v in row) for row in mask),
                             pixel_um=pixel, centre_um=centre)
    for x0, y0, w, h in contact_map.rectangles():
        corners = [(x0, y0), (x0 + w, y0), (x0, y0 + h), (x0 + w, y0 + h)]
        if electrode.radius_um is None and cell.shape == "box":
            inside = all(max(abs(x), abs(y)) < cell.half_width_um for x, y in corners)
        else:
            inside = all(math.hypot(x - centre[0], y - centre[1]) < R for x, y in corners)
        if not inside:
            raise SpecError("layout.pixel_um", f"the contact map ({mask.shape[1]} x {mask.shape[0]} "
                                               f"pixels of {pixel:g} µm) reaches past the electrode")
    return contact_map


def _gap(t: dict, cell: Cell, electrode: Electrode) -> Gap:
    only_keys(t, "gap", {"height_um", "eps_r"})
    if not t:
        return Gap()
    height = number(t, "height_um", "gap")
    if height < 0:
        raise SpecError("gap.height_um", f"must be >= 0, got {height:g}")
    _check_height(height, "gap.height_um", electrode)
    if height >= cell.thickness_um:
        raise SpecError("gap.height_um", f"{height:g} µm is as tall as or taller than the electrolyte "
                                         f"({cell.thickness_um:g} µm): a gap is a thin layer at the interface")
    return Gap(height_um=height, eps_r=positive(t, "eps_r", "gap", default=1.0))


def _check_height(height: float, where: str, electrode: Electrode):
    metal = electrode.metal_thickness_um
    if metal is not None and height >= metal:
        raise SpecError(where, f"{height:g} µm is as tall as or taller than the metal it sits "
                               f"in (electrode.metal_thickness_um = {metal:g})")


def _pores(items, cell: Cell, electrode: Electrode, full_contact: bool) -> tuple[Pore, ...]:
    array_of_tables(items, "pores")
    if items and not full_contact:
        raise SpecError("pores", "pores cut holes in a full contact; with contact spots use [gap]")
    pores = []
    for i, t in enumerate(items):
        where = f"pores[{i}]"
        disk = _disk(t, where, {"x_um", "y_um", "radius_um", "height_um", "shape"})
        shape = t.get("shape", "flat")
        if shape not in ("flat", "lens"):
            raise SpecError(f"{where}.shape", f"must be one of flat, lens, got {shape!r}")
        if shape == "lens" and disk["height_um"] > disk["radius_um"]:
            raise SpecError(f"{where}.height_um", "a lens taller than its footprint radius would "
                                                  "undercut the metal (more than a hemisphere)")
        _check_height(disk["height_um"], f"{where}.height_um", electrode)
        pores.append(Pore(shape=shape, **disk))
    _check_disks(pores, "pores", cell, electrode)
    return tuple(pores)


def _voids(items, cell: Cell) -> tuple[Void, ...]:
    array_of_tables(items, "voids")
    voids = [Void(**_disk(t, f"voids[{i}]", {"x_um", "y_um", "radius_um", "height_um", "depth_um"}))
             for i, t in enumerate(items)]
    for i, v in enumerate(voids):
        if v.depth_um + v.height_um >= cell.thickness_um:
            raise SpecError(f"voids[{i}].depth_um", "the void reaches the counter electrode")
        if _max_reach(cell, (v.x_um, v.y_um), v.radius_um) >= cell.half_width_um:
            raise SpecError(f"voids[{i}]", "reaches or crosses the edge of the cell")
        for j, w in enumerate(voids[:i]):  # cylinders overlap where both plan and depth do
            apart_in_depth = v.depth_um >= w.depth_um + w.height_um or w.depth_um >= v.depth_um + v.height_um
            if not apart_in_depth and math.hypot(v.x_um - w.x_um, v.y_um - w.y_um) <= v.radius_um + w.radius_um:
                raise SpecError(f"voids[{i}]", f"overlaps or touches voids[{j}]")
    return tuple(voids)


def _probes(items, cell: Cell, electrode: Electrode, voids, inclusions=()) -> tuple[Probe, ...]:
    """Reference electrodes: points or rings inside the electrolyte or on the WE face
    outside the electrode (not on an electrode, not in a void, inside the cell), or
    floating metal inclusions, each with its own name."""
    array_of_tables(items, "probes")
    probes = []
    for i, t in enumerate(items):
        where = f"probes[{i}]"
        if not isinstance(t, dict):
            raise SpecError(where, "must be a table with name, x_um, y_um, depth_um (and radius_um for a ring)")
        only_keys(t, where, {"name", "x_um", "y_um", "depth_um", "radius_um"} if "inclusion" not in t
                  else {"name", "inclusion"})
        name = probe_name(t, where, i, {p.name for p in probes})
        if "inclusion" in t:
            probes.append(_inclusion_probe(t, where, name, cell, inclusions))
            if probes[-1].inclusion in [p.inclusion for p in probes[:-1]]:
                raise SpecError(f"{where}.inclusion", f"inclusions[{t['inclusion']}] is another probe's already")
            continue
        x, y = number(t, "x_um", where, default=0.0), number(t, "y_um", where, default=0.0)
        ring = number(t, "radius_um", where, default=0.0)
        if ring < 0:
            raise SpecError(f"{where}.radius_um", f"must be >= 0 (0: a point), got {ring:g}")
        depth = number(t, "depth_um", where)
        on_face = depth == 0 and electrode.radius_um is not None
        if not (0 < depth < cell.thickness_um or on_face):
            raise SpecError(f"{where}.depth_um", f"{depth:g} µm puts the probe on or beyond the "
                                                 f"{'working' if depth <= 0 else 'counter'} electrode (0 < depth < "
                                                 f"{cell.thickness_um:g}, or 0 on the WE face beside a smaller "
                                                 f"electrode): a reference electrode draws no current")
        if on_face:
            R, (cx, cy) = electrode.radius_um, electrode.offset_um
            if abs(math.hypot(x - cx, y - cy) - ring) <= R:
                raise SpecError(where, f"touches the working electrode (radius {R:g} µm) on the WE face: a "
                                       f"reference electrode there must lie wholly outside it")
        if _max_reach(cell, (x, y), ring) >= cell.half_width_um:
            raise SpecError(where, "lies outside the electrolyte (the cell's footprint)")
        probe = Probe(name=name, x_um=x, y_um=y, depth_um=depth, radius_um=ring)
        for j, v in enumerate(voids):
            inside = [math.hypot(px - v.x_um, py - v.y_um) <= v.radius_um for px, py in zip(*probe.points_um())]
            if any(inside) and v.depth_um <= depth <= v.depth_um + v.height_um:
                raise SpecError(where, f"lies inside voids[{j}], not in the electrolyte")
        probes.append(probe)
    return tuple(probes)


def _inclusion_probe(t: dict, where: str, name: str, cell: Cell, inclusions) -> Probe:
    """A reference electrode that is a metal inclusion: [[inclusions]] table number
    `inclusion`, one body (not placed), metal. Whether it floats is known after meshing."""
    k = t["inclusion"]
    if not isinstance(k, int) or isinstance(k, bool):
        raise SpecError(f"{where}.inclusion", f"must be the number of an [[inclusions]] table, counting from 0, "
                                              f"got {short(k)}")
    bodies = [b for b in inclusions if b.key == f"inclusions[{k}]"]
    if len(bodies) != 1:
        raise SpecError(f"{where}.inclusion", f"inclusions[{k}] " + (
            f"does not exist (inclusion = k counts from 0: there are {len({b.key for b in inclusions})})"
            if not bodies else "places several bodies: give one body"))
    body = bodies[0]
    if body.kind != "metal":
        raise SpecError(f"{where}.inclusion", f"inclusions[{k}] is {body.kind}: a reference electrode is metal")
    x, y, z = body.centre_um if body.centre_um is not None else \
        tuple((a + b) / 2 for a, b in zip(body.start_um, body.end_um))
    return Probe(name=name, x_um=x, y_um=y, depth_um=cell.thickness_um - z, inclusion=k)


def _interface(t: dict) -> Interface:
    """[interface] as given (an empty table is refused like one without R_ct or blocking)."""
    only_keys(t, "interface", {"R_ct_ohm_cm2", "C_dl_F_per_cm2", "blocking"})
    blocking = t.get("blocking", False)
    if not isinstance(blocking, bool):
        raise SpecError("interface.blocking", "must be true or false")
    if blocking == ("R_ct_ohm_cm2" in t):
        raise SpecError("interface.R_ct_ohm_cm2", "give R_ct_ohm_cm2, or blocking = true (no "
                                                  "charge transfer), not both or neither")
    R_ct = None if blocking else positive(t, "R_ct_ohm_cm2", "interface")
    C_dl = number(t, "C_dl_F_per_cm2", "interface", default=0.0)
    if C_dl < 0:
        raise SpecError("interface.C_dl_F_per_cm2", f"must be >= 0, got {C_dl:g}")
    if blocking and C_dl == 0:
        raise SpecError("interface.C_dl_F_per_cm2", "a blocking interface needs a double-layer "
                                                    "capacitance, or no current flows at all")
    return Interface(R_ct_ohm_cm2=R_ct, C_dl_F_per_cm2=C_dl)


def _interphase(t: dict, cell: Cell, voids) -> Interphase | None:
    if not t:
        return None
    only_keys(t, "interphase", {"thickness_um", "sigma_S_per_m", "eps_r"})
    thickness = positive(t, "thickness_um", "interphase")
    if thickness >= cell.thickness_um:
        raise SpecError("interphase.thickness_um", "must be thinner than the cell")
    if any(v.depth_um <= thickness for v in voids):
        raise SpecError("interphase.thickness_um", "a void reaches into the interphase layer")
    return Interphase(thickness_um=thickness, material=read_material(t, "interphase", {"thickness_um"}))


def _materials(t: dict) -> dict:
    """The [materials] tables, with a named `set` filled in under any explicit tables."""
    only_keys(t, "materials", {"set", "electrolyte", "grain_boundary"})
    if "set" not in t:
        return t
    if t["set"] not in NAMED:
        raise SpecError("materials.set", f"unknown set {t['set']!r} (known: {', '.join(NAMED)})")
    named = NAMED[t["set"]]
    return {k: {**named.get(k, {}), **t.get(k, {})} for k in ("electrolyte", "grain_boundary")}


def _grains(t: dict, materials: dict, cell: Cell, mesh: MeshOptions) -> Grains | None:
    if not t:
        return None
    only_keys(t, "grains", {"kind", "size_um", "model", "seed"})
    kind = choice(t, "kind", "grains", ("layers", "brick", "voronoi"))
    model = t.get("model", "interface")
    if model not in ("interface", "layer"):
        raise SpecError("grains.model", f"must be one of interface, layer, got {model!r}")
    size = positive(t, "size_um", "grains")
    if kind != "layers" and cell.shape != "box":
        raise SpecError("grains.kind", f"{kind} grains need a box cell (cell.shape = \"box\")")
    if model == "layer" and kind != "layers":
        raise SpecError("grains.model", "meshed GB layers are built for layered grains only")
    if model == "interface" and mesh.order != 1:
        raise SpecError("mesh.order", "zero-thickness grain boundaries need P1 elements (mesh.order = 1)")
    if cell.thickness_um / size > 5000:
        raise SpecError("grains.size_um", f"{cell.thickness_um / size:.0f} grains across the cell: too many")
    gb_table = subtable(materials, "grain_boundary", "materials", required=True)
    delta = positive(gb_table, "thickness_um", "materials.grain_boundary")
    if delta >= size / 2:
        raise SpecError("materials.grain_boundary.thickness_um", "must be well below the grain size")
    gb = read_material(gb_table, "materials.grain_boundary", {"thickness_um", "activation_eV", "T_ref_K"})
    return Grains(kind=kind, size_um=size, gb=gb, gb_thickness_um=delta, model=model, seed=read_seed(t, "grains"))


def _mesh(t: dict) -> MeshOptions:
    only_keys(t, "mesh", {"size_um", "edge_size_um", "refine", "order", "tolerance"})
    order = t.get("order", 2)
    if order not in (1, 2) or isinstance(order, bool):
        raise SpecError("mesh.order", f"must be 1 or 2, got {order!r}")
    tolerance = number(t, "tolerance", "mesh", default=None)
    if tolerance is not None and not MIN_TOLERANCE <= tolerance < 1:
        raise SpecError("mesh.tolerance", f"must be at least {MIN_TOLERANCE:g} and below 1 (relative, on R_dc: "
                                          f"1e-3 is 0.1 %), got {tolerance:g}")
    return MeshOptions(size_um=positive(t, "size_um", "mesh", default=10.0),
                       edge_size_um=positive(t, "edge_size_um", "mesh", default=None),
                       refine=positive(t, "refine", "mesh", default=1.0),
                       order=order, tolerance=tolerance)
