"""An image's effective conductivity and tortuosity factor, from its DC resistance.

The electrodes lie on the faces of the image's end layers (the WE's metal and the bottom
face), so the conducting length L is the number of layers holding anything but metal, in
voxels, and

    sigma_eff = L / (R_dc A),   F = sigma_0 / sigma_eff,   tau = eps_eff F

with A the face's area, sigma_0 the bulk electrolyte's conductivity (the most common one
among the electrolyte voxels), F the formation factor and eps_eff the volume fraction of
the conducting voxels that join both electrodes (PoreSpy's and TauFactor's tortuosity
factor). PoreSpy and OpenImpala fix the potential at the end voxels' centres instead, one
voxel's length shorter: their values differ from ours by O(1/n) for n layers.
"""

from __future__ import annotations

import math

import numpy as np

from constriction.image.voxels import METAL, VoxelGrid, bulk_sigma
from constriction.io.summary import Transport
from constriction.solve.fem import System
from constriction.units import UM

CONVENTION = ("electrodes on the faces of the end layers (L = n voxels); PoreSpy and OpenImpala fix the "
              "potential at the end voxels' centres (L = n - 1 voxels): their values differ by O(1/n)")


def image_transport(grid: VoxelGrid, system: System, R_dc_ohm: float) -> Transport:
    """The effective conductivity (S/m), formation factor and tortuosity factor of the
    image behind `grid` whose DC resistance is R_dc_ohm."""
    layers = int(np.count_nonzero((grid.kind != METAL).any(axis=(0, 1))))
    conducting = grid.sigma > 0
    component = system.components
    joined = component[system.we[0]] == component[system.ce[0]]  # else nothing percolates
    percolating = conducting & (component[grid.unknown] == component[system.we[0]]) & joined
    return transport(R_dc_ohm, layers * grid.spacing_m[2], grid.face_area_m2, layers * grid.shape[0] * grid.shape[1],
                     int(np.count_nonzero(conducting)), int(np.count_nonzero(percolating)), bulk_sigma(grid))


def transport(R_dc_ohm: float, length_m: float, area_m2: float, volume_voxels: int, conducting: int,
              percolating: int, sigma_0: float) -> Transport:
    """The Transport record from R_dc (ohm), the length L between the electrodes (m) and the
    face's area A (m²), the voxels between the electrodes, how many conduct and how many of
    those join both electrodes, and the bulk electrolyte's sigma_0 (S/m)."""
    sigma_eff = length_m / (R_dc_ohm * area_m2) if math.isfinite(R_dc_ohm) else 0.0
    eps_eff = percolating / volume_voxels
    formation = sigma_0 / sigma_eff if sigma_eff > 0 else math.inf
    return Transport(sigma_eff_S_per_m=sigma_eff, sigma_bulk_S_per_m=sigma_0,
                     conducting_fraction=conducting / volume_voxels,
                     percolating_fraction=eps_eff, formation_factor=formation,
                     tortuosity_factor=eps_eff * formation, length_um=length_m / UM, convention=CONVENTION)
