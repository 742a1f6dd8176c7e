"""The labelled image as a geometry source: its Size from the file's header, and the
Discretised cell on its voxels (voxels.py) with its split (the same image in full
contact), its fields (voxel_fields.py) and its error bar (error_bar.py)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import scipy.sparse as sp

from constriction.discretised import Discretised, ProbeRows, Size, lowest
from constriction.image.error_bar import image_discretisation
from constriction.image.voxel_fields import grid_contact_current, grid_fields
from constriction.image.transport import image_transport
from constriction.image.read import ImageSpec, read_labels, voxel_count
from constriction.image.voxels import grid_system, image_split
from constriction.memory import image_run_bytes
from constriction.spec import SpecError


def image_size(spec: ImageSpec) -> Size:
    """The Size of a run on an image, known before reading its voxels."""
    n = voxel_count(spec)
    return Size(n, image_run_bytes(n), f"{n:,} voxels after crop, coarsening and subdivision",
                f"reading {spec.path.name}", "crop or coarsen the image", "image")


def discretise_image(spec: ImageSpec, progress: bool = True, capacitance: bool | None = None) -> Discretised:
    """Read the image and assemble its voxel grid (cell-centred finite volumes); its
    reference electrodes are metal phases that float (one body each). `capacitance`: assemble
    C too (default: unless the spec's sweep is DC only)."""
    labels = read_labels(spec)
    if capacitance is None:
        capacitance = not spec.sweep.dc_only
    grid, system = grid_system(labels, spec, progress, capacitance)
    probes, terminals = None, ()
    if spec.probes:
        bodies = [_reference_body(spec, k, labels, grid, system) for k in range(len(spec.probes))]
        rows = sp.csr_matrix((np.ones(len(bodies)), (np.arange(len(bodies)), bodies)),
                             shape=(len(bodies), system.n_dofs))
        probes = ProbeRows(names=tuple(p.name for p in spec.probes), rows=rows)
        terminals = tuple((p.name, np.array([b])) for p, b in zip(spec.probes, bodies))
    return Discretised(system=system, thickness_m=grid.thickness_m, electrode_area_m2=grid.face_area_m2,
                       probes=probes, terminals=terminals,
                       contact_area_m2=grid.contact_area_m2, counter_area_m2=grid.face_area_m2,
                       elements=math.prod(grid.shape), order=1,
                       split=partial(image_split, grid),
                       error_bar=partial(image_discretisation, spec, discretise_image),
                       transport=partial(image_transport, grid, system),
                       fields=lambda potentials: (grid_fields(grid, potentials),
                                                  grid_contact_current(grid, *lowest(potentials))))


def _reference_body(spec: ImageSpec, k: int, labels, grid, system) -> int:
    """The floating body (its unknown) that probe k's metal phase makes (reference_body)."""
    values = [v for v, name in spec.labels.items() if name == spec.probes[k].phase]
    return reference_body(spec, k, np.unique(grid.unknown[np.isin(labels.array, values)]), system.bodies)


def reference_body(spec: ImageSpec, k: int, unknowns: np.ndarray, bodies) -> int:
    """Probe k's floating body from the unknowns of its phase's voxels; SpecError if the
    phase is not in the image, makes several bodies, or touches an electrode."""
    probe = spec.probes[k]
    where = f"probes[{k}].phase"
    if unknowns.size == 0:
        raise SpecError(where, f"no voxel of {probe.phase!r} in the image (after crop and coarsening)")
    if not set(unknowns.tolist()) <= set(bodies):
        raise SpecError(where, f"{probe.phase!r} touches an electrode: a reference electrode must float")
    if unknowns.size > 1:
        raise SpecError(where, f"{probe.phase!r} makes {unknowns.size} separate metal bodies: one reference, one body")
    return int(unknowns[0])
