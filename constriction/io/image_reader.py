"""Reading an image spec: `[image]`, `[phases]` and an image's `[[probes]]` (plain dicts
as TOML gives them) to an ImageSpec (image/read.py, where the tables are explained), every
value checked before the file is read. The file is only checked to exist here; its labels
when it is read (image/read.py, `read_labels`)."""

from __future__ import annotations

import math
from pathlib import Path

from constriction.image.read import EXTRUDED, FACES, KINDS, MAX_SUBDIVIDE, READABLE, ImageSpec, Phase
from constriction.io.toml_fields import (array_of_tables, file_path, only_keys, positive, probe_name, read_material,
                                         read_sweep, read_temperature, short, subtable)
from constriction.materials import Material
from constriction.spec import Probe, SpecError


def image_spec_from_dict(data: dict, name: str = "image", base_dir: Path | None = None) -> ImageSpec:
    """Validate an image spec (plain dicts as TOML gives them); the file is only checked
    to exist here, its labels when it is read (`read_labels`)."""
    only_keys(data, "", {"image", "phases", "sweep", "conditions", "probes"})
    t = subtable(data, "image", required=True)
    only_keys(t, "image", {"path", "voxel_um", "working_electrode", "crop", "coarsen", "subdivide", "labels",
                            "extrude"})
    path = file_path(t, "path", "image", base_dir, f"a labelled image ({', '.join(READABLE)})")
    if path.suffix.lower() not in READABLE:
        raise SpecError("image.path", f"cannot read {path.suffix or 'a file without extension'} images "
                                      f"(readable: {', '.join(READABLE)})")
    voxel = _voxel(t)
    face = t.get("working_electrode", "+z")
    if face not in FACES:
        raise SpecError("image.working_electrode", f"must be one of {', '.join(FACES)}, got {face!r}")
    coarsen = t.get("coarsen", 1)
    if not isinstance(coarsen, int) or isinstance(coarsen, bool) or not 1 <= coarsen <= 64:
        raise SpecError("image.coarsen", "must be an integer from 1 to 64")
    subdivide = t.get("subdivide", 1)
    if not isinstance(subdivide, int) or isinstance(subdivide, bool) or not 1 <= subdivide <= MAX_SUBDIVIDE:
        raise SpecError("image.subdivide", f"must be an integer from 1 to {MAX_SUBDIVIDE} (sub-voxels per voxel "
                                           f"along each axis), got {short(subdivide)}")
    crop = _crop(t.get("crop"))
    extrude = None
    if "extrude" in t:
        e = subtable(t, "extrude", "image")
        only_keys(e, "image.extrude", {"electrolyte_um", "gap_um"})
        extrude = (positive(e, "electrolyte_um", "image.extrude"), positive(e, "gap_um", "image.extrude"))
        if "labels" in t:
            raise SpecError("image.labels", "an extruded contact map has fixed labels (0 electrolyte, "
                                            "1 gap, 2 metal): leave [image.labels] out")
        labels = dict(EXTRUDED)
    else:
        labels = _labels(subtable(t, "labels", "image", required=True))
    phases = _phases(subtable(data, "phases", required=True), labels, extrude is not None)
    return ImageSpec(path=path, voxel_um=voxel, labels=labels, phases=phases,
                     sweep=read_sweep(subtable(data, "sweep", required=True)), working_electrode=face, crop=crop,
                     coarsen=coarsen, subdivide=subdivide, extrude=extrude,
                     temperature_K=read_temperature(subtable(data, "conditions")), name=name,
                     probes=_probes(data.get("probes", []), phases))


def _probes(items, phases: dict) -> tuple[Probe, ...]:
    """Reference electrodes of an image: each a metal phase whose voxels float in the
    electrolyte (one body, touching neither electrode face: checked when it is read)."""
    array_of_tables(items, "probes", " with name and phase")
    probes = []
    for i, t in enumerate(items):
        where = f"probes[{i}]"
        if not isinstance(t, dict):
            raise SpecError(where, "must be a table with name and phase")
        only_keys(t, where, {"name", "phase"})
        name = probe_name(t, where, i, {p.name for p in probes})
        phase = t.get("phase")
        if phase not in phases or phases[phase].kind != "metal":
            metals = [n for n, p in phases.items() if p.kind == "metal"]
            raise SpecError(f"{where}.phase", f"must name a metal phase (the image's: {', '.join(metals) or 'none'}), "
                                              f"got {short(phase)}")
        if phase in [p.phase for p in probes]:
            raise SpecError(f"{where}.phase", f"{phase!r} is another probe's already")
        probes.append(Probe(name=name, x_um=math.nan, y_um=math.nan, depth_um=math.nan, phase=phase))
    return tuple(probes)


def _voxel(t: dict) -> tuple[float, float, float]:
    if "voxel_um" not in t:
        raise SpecError("image.voxel_um", "missing: the voxel size in µm (one number, or [x, y, z])")
    v = t["voxel_um"]
    values = v if isinstance(v, list) else [v, v, v]
    if len(values) != 3:
        raise SpecError("image.voxel_um", "must be one number or three [x, y, z]")
    return tuple(positive({"voxel_um": x}, "voxel_um", "image") for x in values)


def _crop(c) -> dict[str, tuple[int, int]] | None:
    if c is None:
        return None
    if not isinstance(c, dict):
        raise SpecError("image.crop", "must be a table such as {x = [0, 64], z = [10, 74]}")
    out = {}
    for axis, bounds in c.items():
        where = f"image.crop.{axis}"
        if axis not in ("x", "y", "z"):
            raise SpecError(where, "unknown axis (x, y, z)")
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                or not 0 <= bounds[0] < bounds[1]):
            raise SpecError(where, "must be [start, stop) voxel indices with 0 <= start < stop")
        out[axis] = (bounds[0], bounds[1])
    return out


def _labels(t: dict) -> dict[int, str]:
    if not t:
        raise SpecError("image.labels", "needs at least one label = phase name")
    out, keys = {}, {}
    for key, phase in t.items():
        try:
            value = int(key)
        except ValueError:
            raise SpecError(f"image.labels.{key}", "label values are integers (0 = \"electrolyte\")") from None
        if not isinstance(phase, str) or not phase:
            raise SpecError(f"image.labels.{key}", "must name a phase of [phases]")
        if value in out:
            raise SpecError(f"image.labels.{key}", f"is the label {value} again (as {keys[value]!r}): "
                                                   f"give each label once")
        out[value], keys[value] = phase, key
    return out


def _phases(t: dict, labels: dict[int, str], extruded: bool) -> dict[str, Phase]:
    phases = {}
    for name, p in t.items():
        where = f"phases.{name}"
        if not isinstance(p, dict):
            raise SpecError(where, "must be a table with kind (electrolyte, gas, metal, insulator)")
        kind = p.get("kind", "electrolyte" if extruded and name == "electrolyte" else
                     "gas" if extruded and name == "gap" else None)
        if kind not in KINDS:
            raise SpecError(f"{where}.kind", f"must be one of {', '.join(KINDS)}, got {short(kind)}")
        rest = {k: v for k, v in p.items() if k != "kind"}
        if kind == "electrolyte":
            material = read_material(rest, where, {"activation_eV", "T_ref_K"})
        elif kind == "metal":
            only_keys(rest, where, set())
            material = None
        else:
            only_keys(rest, where, {"eps_r"})
            eps = positive(rest, "eps_r", where, default=1.0)
            material = Material(sigma_S_per_m=0.0, eps_r=eps)
        phases[name] = Phase(kind=kind, material=material)
    if extruded:
        phases.setdefault("gap", Phase("gas", Material(0.0, 1.0)))
        phases.setdefault("metal", Phase("metal"))
    for value, name in labels.items():
        if name not in phases:
            raise SpecError(f"image.labels.{value}", f"names the phase {name!r}, which [phases] does not define")
    used = {phases[n].kind for n in labels.values()}
    if "electrolyte" not in used:
        raise SpecError("phases", "no label is an electrolyte phase: nothing conducts ions")
    if "metal" not in used:
        raise SpecError("phases", "no label is a metal phase: there is no working electrode")
    return {n: p for n, p in phases.items() if n in labels.values()}
