"""Reading [[inclusions]]: bodies inside the electrolyte, from their TOML tables.

One table is one body,

    shape = "sphere"     centre_um = [x, y, z], radius_um
    shape = "ellipsoid"  centre_um, semi_axes_um = [a, b, c]   (axis-aligned)
    shape = "box"        centre_um, size_um = [dx, dy, dz]     (axis-aligned edges)
    shape = "cylinder"   start_um, end_um, radius_um           (a filament)

or, with `place`, `count` spheres of `radius_um` at seeded random places:

    place = "random"             anywhere in the electrolyte
    place = "grain_boundaries"   centred on grain-boundary faces (layers or voronoi grains)
    place = "triple_junctions"   centred on the edges where three voronoi grains meet

`material` is "metal" (an equipotential), "insulator" (no conduction; `eps_r`, default 1)
or a table {sigma_S_per_m, eps_r, activation_eV, T_ref_K}. z = 0 is the counter
electrode, z = thickness the surface under the working electrode; bodies lie inside the
cell and may touch its faces. Placed spheres keep clear of each other and of every
other body by MARGIN of their radius (geometry/inclusions.py places them).
"""

from __future__ import annotations

import math

from constriction.geometry.inclusions import PLACES, placed_spheres
from constriction.io.toml_fields import (array_of_tables, choice, number, only_keys, positive, read_material, read_seed,
                                         short)
from constriction.materials import Material
from constriction.spec import Cell, Grains, Inclusion, SpecError, Void

SHAPE_KEYS = {"sphere": {"centre_um", "radius_um"}, "ellipsoid": {"centre_um", "semi_axes_um"},
              "box": {"centre_um", "size_um"}, "cylinder": {"start_um", "end_um", "radius_um"}}
MAX_BODIES = 5000


def inclusions_from_list(items, cell: Cell, grains: Grains | None, voids: tuple[Void, ...]) -> tuple[Inclusion, ...]:
    """Every body the [[inclusions]] tables describe, checked against the cell."""
    array_of_tables(items, "inclusions")
    bodies: list[Inclusion] = []
    for i, t in enumerate(items):
        where = f"inclusions[{i}]"
        if not isinstance(t, dict):
            raise SpecError(where, "must be a table with shape and material")
        kind, material = _kind(t, where)
        if "place" in t:
            bodies += _placed(t, where, kind, material, cell, grains, voids, bodies)
        else:
            body = _body(t, where, kind, material)
            _check_inside(body, cell)
            bodies.append(body)
        if len(bodies) > MAX_BODIES:
            raise SpecError(where, f"more than {MAX_BODIES} bodies in all: too many to mesh")
    return tuple(bodies)


def _kind(t: dict, where: str) -> tuple[str, Material | None]:
    """("metal", None), ("insulator", Material(0, eps_r)) or ("material", Material)."""
    if "material" not in t:
        raise SpecError(f"{where}.material", 'missing key ("metal", "insulator" or a material table)')
    m = t["material"]
    if isinstance(m, dict):
        if "eps_r" in t:
            raise SpecError(f"{where}.eps_r", "belongs in the material table")
        if m.get("sigma_S_per_m") == 0:
            raise SpecError(f"{where}.material.sigma_S_per_m", 'must be > 0: a body that does not conduct is '
                                                               'material = "insulator" (with its eps_r)')
        return "material", read_material(m, f"{where}.material", {"activation_eV", "T_ref_K"})
    if m == "metal":
        if "eps_r" in t:
            raise SpecError(f"{where}.eps_r", "metal has no permittivity here (it is an equipotential)")
        return "metal", None
    if m == "insulator":
        return "insulator", Material(sigma_S_per_m=0.0, eps_r=positive(t, "eps_r", where, default=1.0))
    raise SpecError(f"{where}.material", f'must be "metal", "insulator" or a material table, got {short(m)}')


def _body(t: dict, where: str, kind: str, material: Material | None) -> Inclusion:
    shape = choice(t, "shape", where, tuple(SHAPE_KEYS))
    only_keys(t, where, {"shape", "material", "eps_r"} | SHAPE_KEYS[shape])
    values = {}
    for key in sorted(SHAPE_KEYS[shape]):
        if key == "radius_um":
            values[key] = positive(t, key, where)
        else:
            values[key] = _triple(t, key, where, positive=key in ("semi_axes_um", "size_um"))
    if shape == "cylinder" and math.dist(values["start_um"], values["end_um"]) == 0:
        raise SpecError(f"{where}.end_um", "equals start_um: a cylinder needs a length")
    return Inclusion(shape=shape, kind=kind, key=where, material=material, **values)


def _triple(t: dict, key: str, where: str, positive: bool) -> tuple[float, float, float]:
    value = t.get(key)
    if not isinstance(value, list) or len(value) != 3:
        raise SpecError(f"{where}.{key}", "missing key" if key not in t else "must be three numbers [x, y, z]")
    numbers = tuple(number({key: v}, key, where) for v in value)
    if positive and min(numbers) <= 0:
        raise SpecError(f"{where}.{key}", f"must all be > 0, got {list(numbers)}")
    return numbers


def _check_inside(body: Inclusion, cell: Cell) -> None:
    """Inside the cell (touching its faces is allowed); metal touching both the top and
    the bottom face is a short circuit."""
    lo, hi = body.bounds_um()
    L, slack = cell.thickness_um, 1e-9 * cell.thickness_um
    if lo[2] < -slack or hi[2] > L + slack:
        raise SpecError(body.key, f"reaches outside the electrolyte (z from {lo[2]:g} to {hi[2]:g} µm, "
                                  f"the cell spans 0 to {L:g} µm)")
    if body.kind == "metal" and lo[2] <= slack and hi[2] >= L - slack:
        raise SpecError(body.key, "metal that joins both electrodes: a short circuit")
    if _lateral_reach(body, cell) > cell.half_width_um * (1 + 1e-9):
        raise SpecError(body.key, "reaches outside the side of the cell")


def _lateral_reach(body: Inclusion, cell: Cell) -> float:
    """How far the body reaches from the cell axis, in the cell's own norm (µm); for a
    cylindrical cell, from the corners of its bounding box (a sphere: exactly)."""
    lo, hi = body.bounds_um()
    if cell.shape == "box":
        return max(abs(lo[0]), abs(hi[0]), abs(lo[1]), abs(hi[1]))
    if body.shape == "sphere":
        return math.hypot(*body.centre_um[:2]) + body.radius_um
    return max(math.hypot(x, y) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]))


def _placed(t: dict, where: str, kind: str, material: Material | None, cell: Cell, grains: Grains | None,
            voids: tuple[Void, ...], earlier: list[Inclusion]) -> list[Inclusion]:
    """`count` non-overlapping spheres at seeded random sites (geometry/inclusions.py)."""
    only_keys(t, where, {"place", "count", "seed", "shape", "radius_um", "material", "eps_r"})
    place = choice(t, "place", where, PLACES)
    if t.get("shape", "sphere") != "sphere":
        raise SpecError(f"{where}.shape", f'placed bodies are spheres, got {short(t.get("shape"))}')
    count = t.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_BODIES:
        raise SpecError(f"{where}.count", f"must be an integer from 1 to {MAX_BODIES}, got {short(count)}")
    return placed_spheres(where, place, count, positive(t, "radius_um", where), read_seed(t, where), kind, material,
                          cell, grains, voids, earlier)
