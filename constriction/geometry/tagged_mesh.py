"""TaggedMesh: a scikit-fem tetrahedral mesh in metres with named regions and boundaries.

Regions (element index arrays) and boundaries (facet index arrays) come from the Gmsh
physical groups that `geometry.build_mesh` wrote; nothing here looks at coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import meshio
import numpy as np
from skfem import MeshTet

from constriction.units import UM


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
        return float(triangle_areas(self.mesh.p, self.mesh.facets[:, self.boundaries[name]]).sum())


    def refined(self) -> "TaggedMesh":
        """Every tetrahedron split into eight (scikit-fem's refined(): h halved, the same
        faceted geometry), each named boundary facet into its four children. A conforming
        solve on it bounds the same meshed cell's R from below, closer (the spaces nest)."""
        coarse = self.mesh
        fine = coarse.refined()
        midpoint = {tuple(e): coarse.p.shape[1] + k for k, e in enumerate(np.sort(coarse.edges, axis=0).T.tolist())}
        boundaries = {}
        for name, facets in self.boundaries.items():
            a, b, c = coarse.facets[:, facets]
            ab, bc, ca = (np.array([midpoint[tuple(sorted(e))] for e in zip(x.tolist(), y.tolist())], int)
                          for x, y in ((a, b), (b, c), (c, a)))
            children = np.vstack([np.stack(t, axis=1) for t in ((a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca))])
            boundaries[name] = facet_numbers(fine.facets, children)
        regions = dict(fine.subdomains or {})
        fine._subdomains, fine._boundaries = regions or None, boundaries or None
        return TaggedMesh(mesh=fine, regions=regions, boundaries=boundaries)


def tagged_mesh(m: meshio.Mesh) -> TaggedMesh:
    """Convert a Gmsh mesh as meshio holds it (points in µm; one cell block per entity,
    physical groups as cell sets) to a TaggedMesh in metres. The mesh's facets are built
    once (the boundaries are looked up among them) and kept."""
    tetra = [k for k, block in enumerate(m.cells) if block.type == "tetra"]
    start = dict(zip(tetra, np.cumsum([0] + [len(m.cells[k].data) for k in tetra])))
    tetrahedra = np.vstack([m.cells[k].data for k in tetra]).T
    mesh = MeshTet(np.ascontiguousarray(m.points.T * UM), np.ascontiguousarray(tetrahedra))
    regions, boundaries = {}, {}
    for name, per_block in m.cell_sets.items():
        if name.startswith("gmsh:"):
            continue
        chosen = [(k, np.asarray(idx)) for k, idx in enumerate(per_block) if idx is not None and len(idx)]
        if any(m.cells[k].type == "tetra" for k, _ in chosen):
            regions[name] = np.concatenate([start[k] + idx for k, idx in chosen if k in start])
        triangles = [m.cells[k].data[idx] for k, idx in chosen if m.cells[k].type == "triangle"]
        if triangles:
            boundaries[name] = facet_numbers(mesh.facets, np.vstack(triangles))
    mesh._subdomains, mesh._boundaries = regions or None, boundaries or None  # keeps the facets built
    return TaggedMesh(mesh=mesh, regions=regions, boundaries=boundaries)


def triangle_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area of each triangle (3, n) of point numbers (points in m: m²)."""
    a, b, c = (points[:, triangles[k]] for k in range(3))
    return 0.5 * np.linalg.norm(np.cross((b - a).T, (c - a).T), axis=1)


def facet_numbers(facets: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """The column of `facets` (3, n_facets; node numbers sorted in each column, as
    scikit-fem builds them) holding each of `triangles` (n, 3, any node order)."""
    n = int(max(facets.max(), triangles.max())) + 1
    query = np.sort(triangles, axis=1).T.astype(np.int64)
    pairs = np.unique(facets[0].astype(np.int64) * n + facets[1])  # (first, second) node pairs

    def key(f):  # (rank of the pair, third node): int64 for any mesh that fits in memory
        return np.searchsorted(pairs, f[0].astype(np.int64) * n + f[1]) * n + f[2]
    keys = key(facets)
    order = np.argsort(keys)
    wanted = key(query)
    at = np.minimum(np.searchsorted(keys, wanted, sorter=order), len(order) - 1)
    found = order[at]
    if not np.array_equal(facets[:, found], query):
        raise ValueError("a boundary triangle is not a face of the tetrahedral mesh")
    return found
