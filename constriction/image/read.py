"""Labelled 3D images as geometry: what the user describes in `[image]` and `[phases]`,
and the label array read from the file.

    [image]
    path = "interface.tif"      # multi-page TIFF (tifffile), .npy; or a 2D contact map
                                # (.png, .npy 2D) with [image.extrude]
    voxel_um = 2.0              # one number, or [x, y, z]
    working_electrode = "+z"    # the face the WE is on (+x -x +y -y +z -z); CE opposite
    crop = {x = [0, 64], z = [10, 74]}   # optional, voxel index ranges [start, stop)
    coarsen = 2                 # optional: majority label in blocks of 2 x 2 x 2
    subdivide = 2               # optional: solve on 2 x 2 x 2 sub-voxels per voxel (the same
                                # geometry on a finer grid; the error estimate doubles it again)
    [image.labels]              # label value = phase name
    0 = "electrolyte"
    1 = "void"
    2 = "sodium"
    [phases.electrolyte]        # kind electrolyte: sigma_S_per_m, eps_r (activation_eV, T_ref_K)
    kind = "electrolyte"
    ...
    [phases.void]               # kind gas: eps_r (default 1); kind insulator: eps_r
    kind = "gas"
    [phases.sodium]             # kind metal: equipotential; connected to the WE face it is
    kind = "metal"              # the WE, otherwise a floating body (zero net current)

Arrays are indexed (z, y, x) as a TIFF stack reads (pages are z); inside, they are
turned so that the current runs along the last axis with the WE at its high end.
A 2D contact map (white = contact) with `[image.extrude]` (electrolyte_um, gap_um) becomes
an electrolyte slab under a layer of metal (contact pixels) and gas (the rest), capped by
metal: labels 0 electrolyte, 1 gap (gas), 2 metal, with [phases.electrolyte] and
optionally [phases.gap].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from constriction.materials import Material
from constriction.spec import Probe, Sweep, frequencies, material_table

KINDS = ("electrolyte", "gas", "metal", "insulator")
FACES = ("+x", "-x", "+y", "-y", "+z", "-z")
READABLE = (".npy", ".tif", ".tiff", ".png")
EXTRUDED = {0: "electrolyte", 1: "gap", 2: "metal"}
MAX_READ_VOXELS = 600**3  # what reading and labelling may hold; the solve is bounded by memory in run
MAX_SUBDIVIDE = 8


@dataclass(frozen=True)
class Phase:
    """What a label stands for: kind (electrolyte, gas, metal, insulator) and, except
    for metal, its material (gas and insulators conduct nothing: sigma 0)."""
    kind: str
    material: Material | None = None


@dataclass(frozen=True)
class ImageSpec:
    """A cell described by a labelled image instead of a Gmsh geometry."""
    path: Path
    voxel_um: tuple[float, float, float]          # x, y, z of the file
    labels: dict[int, str]                        # label value -> phase name
    phases: dict[str, Phase]
    sweep: Sweep
    working_electrode: str = "+z"
    crop: dict[str, tuple[int, int]] | None = None
    coarsen: int = 1
    subdivide: int = 1                            # sub-voxels per voxel along each axis
    extrude: tuple[float, float] | None = None    # (electrolyte_um, gap_um) for a 2D contact map
    temperature_K: float | None = None
    name: str = "image"
    probes: tuple[Probe, ...] = ()                # reference electrodes: metal phases that float

    @property
    def electrolyte(self) -> Material:
        """The bulk electrolyte: the phase named "electrolyte", else the first electrolyte phase."""
        if "electrolyte" in self.phases and self.phases["electrolyte"].kind == "electrolyte":
            return self.phases["electrolyte"].material
        return next(p.material for p in self.phases.values() if p.kind == "electrolyte")

    def at(self, temperature_K: float | None = None) -> "ImageSpec":
        """Every material at `temperature_K` (default: [conditions]), as Spec.at."""
        T = self.temperature_K if temperature_K is None else temperature_K
        if T is None:
            return self
        phases = {name: p if p.material is None else replace(p, material=p.material.at(T))
                  for name, p in self.phases.items()}
        return replace(self, phases=phases, temperature_K=T)

    def frequencies_Hz(self) -> np.ndarray:
        return frequencies(self.sweep)

    def to_dict(self) -> dict:
        """The spec as the plain tables its TOML has (io/image_reader.py builds it back);
        the image's path absolute."""
        image = {"path": str(self.path.resolve()), "voxel_um": list(self.voxel_um),
                 "working_electrode": self.working_electrode, "coarsen": self.coarsen, "subdivide": self.subdivide}
        if self.crop:
            image["crop"] = {axis: list(bounds) for axis, bounds in self.crop.items()}
        if self.extrude is not None:
            image["extrude"] = {"electrolyte_um": self.extrude[0], "gap_um": self.extrude[1]}
        else:
            image["labels"] = {str(value): name for value, name in self.labels.items()}
        phases = {}
        for name, phase in self.phases.items():
            table = {"kind": phase.kind}
            if phase.kind == "electrolyte":
                table |= material_table(phase.material)
            elif phase.kind != "metal":
                table["eps_r"] = phase.material.eps_r
            phases[name] = table
        out = {"image": image, "phases": phases,
               "sweep": self.sweep.to_dict()}
        if self.probes:
            out["probes"] = [{"name": p.name, "phase": p.phase} for p in self.probes]
        if self.temperature_K is not None:
            out["conditions"] = {"temperature_K": self.temperature_K}
        return out


# ---------------------------------------------------------------- reading the file

class ImageError(ValueError):
    """An image that cannot be used; the message names the file and the problem."""

    def __init__(self, path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Labels:
    """The label array turned so that the current runs along the last axis (WE at its
    high end), and the voxel size along each of its axes (µm) after coarsening and
    subdivision: the voxels as solved (ImageSpec.voxel_um is the file's, along x, y, z)."""
    array: np.ndarray                          # (n0, n1, n2) integer labels
    turned_voxel_um: tuple[float, float, float]


def read_labels(spec: ImageSpec) -> Labels:
    """Read, crop, coarsen and turn the image; ImageError for anything unusable. An .npy
    file (or an uncompressed TIFF) is cropped before it is read: only the crop is held."""
    raw = _read_file(spec)
    if spec.extrude is not None:
        raw = _extruded(spec, np.asarray(raw))
    if raw.ndim != 3:
        raise ImageError(spec.path, f"is {raw.ndim}D (shape {raw.shape}): a labelled 3D image is needed "
                                    f"(or a 2D contact map with [image.extrude])")
    if not (np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating) or raw.dtype == bool):
        raise ImageError(spec.path, f"holds {raw.dtype} values: a labelled image holds integers")
    zyx = raw
    if spec.crop:
        index = []
        for axis, size in zip("zyx", zyx.shape):
            lo, hi = spec.crop.get(axis, (0, size))
            if hi > size:
                raise ImageError(spec.path, f"crop {axis} = [{lo}, {hi}] reaches past the image ({size} voxels)")
            index.append(slice(lo, hi))
        zyx = zyx[tuple(index)]
    if zyx.size > MAX_READ_VOXELS:
        raise ImageError(spec.path, f"{zyx.size:,} voxels: more than {MAX_READ_VOXELS:,}; crop or coarsen it")
    zyx = np.asarray(zyx)  # read (an .npy or TIFF memory map: only the crop)
    if not np.issubdtype(zyx.dtype, np.integer):
        if not np.all(np.isfinite(zyx)) or not np.all(zyx == np.round(zyx)):
            raise ImageError(spec.path, f"holds non-integer values ({zyx.dtype}): a labelled image is needed")
        zyx = zyx.astype(np.int64)
    voxel = dict(zip("xyz", spec.voxel_um))
    if spec.coarsen > 1:
        if min(zyx.shape) < spec.coarsen:
            raise ImageError(spec.path, f"coarsening by {spec.coarsen} leaves nothing of an image of "
                                        f"{zyx.shape[2]} x {zyx.shape[1]} x {zyx.shape[0]} voxels")
        zyx = coarsen(zyx, spec.coarsen)
        voxel = {k: v * spec.coarsen for k, v in voxel.items()}
    if spec.subdivide > 1:  # the same union of cubes, on a finer grid
        n = spec.subdivide
        zyx = zyx.repeat(n, axis=0).repeat(n, axis=1).repeat(n, axis=2)
        voxel = {k: v / n for k, v in voxel.items()}
    unknown = sorted(set(np.unique(zyx).tolist()) - set(spec.labels))
    if unknown:
        raise ImageError(spec.path, f"label value(s) {', '.join(map(str, unknown[:8]))} have no phase in "
                                    f"[image.labels]")
    # turn (z, y, x) so that the current axis is last and the WE at its high end
    order, names = _turn(spec)
    array = np.transpose(zyx, order)
    if spec.working_electrode[0] == "-":
        array = array[:, :, ::-1]
    return Labels(array=np.ascontiguousarray(array), turned_voxel_um=tuple(voxel[n] for n in names))


def _turn(spec: ImageSpec) -> tuple[tuple[int, int, int], tuple[str, ...]]:
    """The axes of (z, y, x) in the turned order (the current's axis last), and their names."""
    order = {"z": (2, 1, 0), "y": (2, 0, 1), "x": (1, 0, 2)}[spec.working_electrode[1]]
    return order, tuple("zyx"[i] for i in order)


def solved_shape(spec: ImageSpec) -> tuple[int, int, int]:
    """The turned shape (n0, n1, n2) of the voxels as solved (after crop, coarsening and
    subdivision; the current along n2), from the file's header."""
    shape = _shape(spec)
    if spec.crop:
        shape = [min(spec.crop.get(a, (0, s))[1], s) - spec.crop.get(a, (0, s))[0] for a, s in zip("zyx", shape)]
    zyx = [max(s // spec.coarsen, 0) * spec.subdivide for s in shape]
    order, _ = _turn(spec)
    return tuple(zyx[i] for i in order)


def read_rows(spec: ImageSpec, lo: int, hi: int) -> Labels:
    """Rows lo <= i < hi of the first turned axis of the voxels as solved (read_labels'
    array[lo:hi]), reading only the file's voxels behind them where the file allows (an
    .npy or uncompressed TIFF; extruded maps are read whole: they are small)."""
    if spec.extrude is not None:
        labels = read_labels(spec)
        return Labels(labels.array[lo:hi], labels.turned_voxel_um)
    n, block = spec.subdivide, spec.coarsen
    first, stop = lo // n, -(-hi // n)                       # rows of coarsened file voxels
    axis = "zyx"[_turn(spec)[0][0]]                           # the file's axis behind the first turned one
    size = _shape(spec)["zyx".index(axis)]
    start = (spec.crop or {}).get(axis, (0, size))[0]
    window = replace(spec, crop={**(spec.crop or {}), axis: (start + first * block, start + stop * block)})
    labels = read_labels(window)
    cut = lo - first * n
    return Labels(np.ascontiguousarray(labels.array[cut:cut + hi - lo]), labels.turned_voxel_um)


def _read_file(spec: ImageSpec):
    """The file's array: a memory map where it can be one (.npy; an uncompressed TIFF),
    so that a crop reads only its voxels."""
    path = spec.path
    try:
        if path.suffix.lower() == ".npy":
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        elif path.suffix.lower() in (".tif", ".tiff"):
            import tifffile
            try:
                array = tifffile.memmap(path, mode="r")
            except ValueError:  # compressed or not contiguous: page by page, as a crop asks
                array = _TiffPages(path)
        else:
            from constriction.geometry.layout import contact_mask
            array = contact_mask(path).astype(np.uint8)
    except Exception as err:  # any reader failure: the file is not an image we can read
        raise ImageError(path, f"cannot be read as an image ({type(err).__name__}: {str(err)[:80]})") from None
    if array.size == 0:
        raise ImageError(path, "is empty")
    return array


class _TiffPages:
    """A TIFF stack (pages = z) that reads only the pages a crop (zyx[index]) needs, each
    cropped as it is read: what a compressed stack that cannot be a memory map costs is
    its crop and one page."""

    def __init__(self, path: Path):
        import tifffile
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            self.shape, self.dtype = tuple(series.shape), series.dtype
        self.path, self.ndim, self.size = path, len(self.shape), int(np.prod(self.shape))

    def __getitem__(self, index: tuple) -> np.ndarray:
        import tifffile
        if self.ndim != 3:
            return tifffile.imread(self.path)[index]
        pages = range(*index[0].indices(self.shape[0]))
        with tifffile.TiffFile(self.path) as tif:
            return np.stack([tif.asarray(key=k)[index[1:]] for k in pages])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[(slice(None),) * self.ndim]


def _extruded(spec: ImageSpec, mask: np.ndarray) -> np.ndarray:
    """A 2D contact map (rows from the top, 1 = contact) as a 3D label image (z, y, x):
    electrolyte (0) below, the contact layer (metal 2 where in contact, gap 1 elsewhere),
    then a metal cap (2)."""
    if mask.ndim != 2:
        raise ImageError(spec.path, f"[image.extrude] needs a 2D contact map, got shape {mask.shape}")
    if not mask.any():
        raise ImageError(spec.path, "has no contact pixels (white = contact)")
    n_el, n_gap = _layers(spec)
    layer = np.where(np.asarray(mask, bool)[::-1], 2, 1).astype(np.uint8)  # y up
    return np.concatenate([np.zeros((n_el, *layer.shape), np.uint8),
                           np.repeat(layer[None], n_gap, axis=0),
                           np.full((1, *layer.shape), 2, np.uint8)])


def coarsen(labels: np.ndarray, block: int) -> np.ndarray:
    """Majority label in blocks of block³ voxels (ties: the smaller label); the image is
    trimmed to a multiple of the block."""
    n = [s // block for s in labels.shape]
    if min(n) == 0:
        raise ValueError(f"coarsening by {block} leaves nothing of an image of shape {labels.shape}")
    trimmed = labels[: n[0] * block, : n[1] * block, : n[2] * block]
    blocks = trimmed.reshape(n[0], block, n[1], block, n[2], block).transpose(0, 2, 4, 1, 3, 5).reshape(*n, -1)
    values = np.unique(trimmed)
    counts = np.stack([(blocks == v).sum(axis=-1) for v in values], axis=-1)
    return values[np.argmax(counts, axis=-1)].astype(labels.dtype)


def voxel_count(spec: ImageSpec) -> int:
    """The voxel count after crop, coarsening and subdivision, from the file's header
    (before reading the whole image)."""
    return math.prod(solved_shape(spec))


def _shape(spec: ImageSpec) -> tuple[int, ...]:
    """The (z, y, x) shape the image will have, from its header (a 2D map: its layers)."""
    path = spec.path
    try:
        if path.suffix.lower() == ".npy":
            shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
        elif path.suffix.lower() in (".tif", ".tiff"):
            import tifffile
            with tifffile.TiffFile(path) as tif:
                shape = tif.series[0].shape
        else:
            from PIL import Image
            with Image.open(path) as picture:
                shape = picture.size[::-1]
    except Exception as err:
        raise ImageError(path, f"cannot be read as an image ({type(err).__name__}: {str(err)[:80]})") from None
    if len(shape) == 2 and spec.extrude is not None:
        layers = sum(_layers(spec)) + 1
        return (layers, *shape)
    return tuple(shape) if len(shape) == 3 else (1, 1, 1)  # anything else is refused when read


def _layers(spec: ImageSpec) -> tuple[int, int]:
    """Voxel layers of electrolyte and of the contact layer of an extruded contact map."""
    dz = spec.voxel_um[2]
    electrolyte_um, gap_um = spec.extrude
    return max(1, round(electrolyte_um / dz)), max(1, round(gap_um / dz))

