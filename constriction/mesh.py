"""TaggedMesh: a scikit-fem tetrahedral mesh in metres with named regions and boundaries.

Regions (element index arrays) and boundaries (facet index arrays) come from the Gmsh
physical groups that `geometry.build_mesh` wrote; nothing here looks at coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import meshio
import numpy as np
from skfem import MeshTet
from skfem.io.meshio import from_meshio

from .units import UM


@dataclass(frozen=True)
class TaggedMesh:
    mesh: MeshTet                    # coordinates in metres
    regions: dict[str, np.ndarray]   # name -> element indices
    boundaries: dict[str, np.ndarray]  # name -> facet indices

    @property
    def n_elements(self) -> int:
        return self.mesh.t.shape[1]

    def facet_area_m2(self, name: str) -> float:
        """Total area of a named boundary (m²), as meshed."""
        p, f = self.mesh.p, self.mesh.facets[:, self.boundaries[name]]
        a, b, c = p[:, f[0]], p[:, f[1]], p[:, f[2]]
        return 0.5 * np.linalg.norm(np.cross((b - a).T, (c - a).T), axis=1).sum()


def tagged_mesh(m: meshio.Mesh) -> TaggedMesh:
    """Convert a Gmsh mesh read by meshio (points in µm) to a TaggedMesh in metres."""
    scaled = meshio.Mesh(m.points * UM, m.cells, cell_sets=m.cell_sets)
    skmesh = from_meshio(scaled, ignore_orientation=True)
    regions = {k: np.asarray(v) for k, v in (skmesh.subdomains or {}).items()
               if not k.startswith("gmsh:")}
    boundaries = {k: np.asarray(v) for k, v in (skmesh.boundaries or {}).items()
                  if not k.startswith("gmsh:")}
    return TaggedMesh(mesh=skmesh, regions=regions, boundaries=boundaries)
