"""The labelled image as a geometry source: its Size from the file's header, and the
Discretised cell on its voxels (voxels.py) with its split (the same image in full
contact), its fields (fields.py) and its error bar (error_bar.py)."""

from __future__ import annotations

import math
from functools import partial

from constriction.discretised import Discretised, Size, lowest
from constriction.image.error_bar import image_discretisation
from constriction.image.fields import grid_contact_current, grid_fields
from constriction.image.read import ImageSpec, read_labels, voxel_count
from constriction.image.voxels import grid_system, image_split
from constriction.memory import image_run_bytes


def image_size(spec: ImageSpec) -> Size:
    """The Size of a run on an image, known before reading its voxels."""
    n = voxel_count(spec)
    return Size(n, image_run_bytes(n), f"{n:,} voxels after crop, coarsening and subdivision",
                f"reading {spec.path.name}", "crop or coarsen the image", "image")


def discretise_image(spec: ImageSpec, progress: bool = True) -> Discretised:
    """Read the image and assemble its voxel grid (cell-centred finite volumes)."""
    grid, system = grid_system(read_labels(spec), spec, progress)
    return Discretised(system=system, thickness_m=grid.thickness_m, electrode_area_m2=grid.face_area_m2,
                       contact_area_m2=grid.contact_area_m2, counter_area_m2=grid.face_area_m2,
                       elements=math.prod(grid.shape), order=1,
                       split=partial(image_split, grid),
                       error_bar=partial(image_discretisation, spec, discretise_image),
                       fields=lambda potentials: (grid_fields(grid, potentials),
                                                  grid_contact_current(grid, *lowest(potentials))))
