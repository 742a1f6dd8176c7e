"""The three geometry sources, and the one place that tells them apart:

    Spec           a cell that Gmsh meshes           geometry/source.py
    ImageSpec      a labelled 3D image (voxels)      image/source.py
    MeshFileSpec   the user's own tetrahedral mesh   meshfile/source.py

Each gives a `Size` before it builds anything and a `Discretised` cell after
(discretised.py); downstream everything is shared. A source is imported when it is used,
so that an image run never loads Gmsh."""

from __future__ import annotations

from constriction.discretised import Discretised, Size
from constriction.image.read import ImageSpec
from constriction.meshfile.read import MeshFileSpec
from constriction.spec import CellSpec, SpecError


def size_of(spec: CellSpec) -> Size:
    """The Size of a run on a resolved Spec, ImageSpec or MeshFileSpec (memory.py)."""
    if isinstance(spec, ImageSpec):
        from constriction.image.source import image_size
        return image_size(spec)
    if isinstance(spec, MeshFileSpec):
        from constriction.meshfile.source import mesh_file_size
        return mesh_file_size(spec)
    from constriction.geometry.source import cell_size
    return cell_size(spec)


def discretise(spec: CellSpec, progress: bool = True, backend: str = "auto", budget: int | None = None) -> Discretised:
    """The Discretised cell of a resolved Spec (Gmsh), ImageSpec (voxels) or MeshFileSpec
    (the user's mesh); `backend` and `budget` (bytes; None: the memory available) are those
    of a Gmsh cell's meshes to a [mesh] tolerance, the budget also that of a mesh's error bar."""
    if isinstance(spec, ImageSpec):
        from constriction.image.source import discretise_image
        return discretise_image(spec, progress)
    if isinstance(spec, MeshFileSpec):
        from constriction.meshfile.source import discretise_mesh_file
        return discretise_mesh_file(spec, budget)
    from constriction.geometry.source import discretise_cell
    return discretise_cell(spec, progress, backend, budget)


def solve_over_ranks(spec: CellSpec, progress: bool = True, sweep: str = "reduced", tol: float = 1e-6,
                     error_estimate: str = "auto"):
    """An image's solves over MPI ranks (`--backend petsc`: parallel/run.py); SpecError for
    a Gmsh cell or a mesh file, which run serially."""
    if not isinstance(spec, ImageSpec):
        raise SpecError("backend", "the petsc backend solves labelled images only; a Gmsh cell or a mesh file "
                                   "runs serially (--backend auto)")
    from constriction.parallel.run import solve_over_mpi
    return solve_over_mpi(spec, progress, sweep, tol, error_estimate)
