"""Memory: what this machine has free, and what a solve needs (bytes).

The per-voxel figure is a measured peak (`python benchmarks/images.py --dc-only`,
benchmarks/README.md), rounded up.
"""

from __future__ import annotations

import os

IMAGE_DC_BYTES_PER_VOXEL = 1000    # assembly, R_dc, R_inf and R_bulk on AMG: 933 B measured at 128³


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
