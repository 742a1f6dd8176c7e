"""Memory: what this machine has free, and what a run needs (bytes).

Every figure is a measured peak resident size, rounded up (benchmarks/README.md):
`python benchmarks/memory.py --whole-run --order 1|2` for a mesh, `python
benchmarks/images.py` (and `--dc-only`) for an image. A run is refused before it meshes or
reads when its estimate exceeds the memory available, not at an element count.
"""

from __future__ import annotations

import os

IMAGE_DC_BYTES_PER_VOXEL = 800     # assembly, R_dc, R_inf and R_bulk on AMG: 731 B at 128³, 661 B at
                                   # 256³ measured, the interpreter included (2026-11-30, K-cycle)
IMAGE_RUN_BYTES_PER_VOXEL = 800    # the whole run (sweep, split, fields) beyond the base: 530 B at 64³,
                                   # 667 B at 128³, 652 B at 256³ (2026-11-30, K-cycle; its peak is in
                                   # the DC stages)
IMAGE_MPI_BYTES_PER_VOXEL = 2000  # over MPI ranks (PETSc, BoomerAMG), all ranks together, with the sweep:
                                  # 1.3 KB on one rank, 1.7 KB on two at 192³ (2026-12-07, benchmarks/mpi.py)
# the whole run per tetrahedron beyond the base: 913 B (P1, 727 837 tetrahedra, 130 054
# unknowns) and 4 780 B (P2, 256 314 tetrahedra, 368 135 unknowns) measured
MESH_RUN_BYTES_PER_ELEMENT = {1: 1000, 2: 5500}
BASE_BYTES = 150 * 2**20           # the interpreter with numpy, scipy, gmsh, scikit-fem: 113 MiB measured


def available_bytes() -> int:
    """Memory available to a new computation here (bytes): MemAvailable of /proc/meminfo,
    or the physical memory where that cannot be read."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return total_bytes()


def total_bytes() -> int:
    """The physical memory of this machine (bytes)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def image_dc_bytes(voxels: int) -> int:
    """Peak memory of the DC solves of an image of `voxels` voxels (bytes)."""
    return int(voxels * IMAGE_DC_BYTES_PER_VOXEL)


def image_run_bytes(voxels: int) -> int:
    """Peak memory of a whole run on an image of `voxels` voxels (bytes)."""
    return BASE_BYTES + int(voxels * IMAGE_RUN_BYTES_PER_VOXEL)


def image_rank_bytes(voxels: int, ranks: int) -> int:
    """Peak memory of one rank of a run over `ranks` MPI ranks on an image (bytes)."""
    return BASE_BYTES + int(voxels * IMAGE_MPI_BYTES_PER_VOXEL / ranks)


def mesh_run_bytes(elements: int, order: int) -> int:
    """Peak memory of a whole run on a mesh of `elements` tetrahedra of `order` (bytes)."""
    return BASE_BYTES + int(elements * MESH_RUN_BYTES_PER_ELEMENT[order])


def gib(n_bytes: float) -> str:
    """'12.3 GiB', '0.45 GiB'."""
    return f"{n_bytes / 2**30:.{1 if n_bytes >= 2**30 else 2}f} GiB"
