"""Potential fields: values at the mesh vertices, a vertical section through the cell
axis, and export to VTK (.vtu) for ParaView. Coordinates in µm, potential in V (WE at 1 V).
"""

from __future__ import annotations

from dataclasses import dataclass

import meshio
import numpy as np

from .fem import System
from .mesh import UM

SECTION_POINTS = 241  # per axis of the vertical section


@dataclass(frozen=True)
class Fields:
    frequency_Hz: tuple[float, ...]
    points_um: np.ndarray      # (3, vertices)
    tetrahedra: np.ndarray     # (4, elements), vertex indices
    potential: np.ndarray      # (frequencies, vertices), complex
    section_x_um: np.ndarray   # grid of the section y = 0 (the plane through the cell axis)
    section_z_um: np.ndarray
    section: np.ndarray        # (frequencies, z, x), complex


def fields_of(system: System, potentials: dict[float, np.ndarray], thickness_m: float) -> Fields:
    """Vertex values, and the y = 0 section through the electrolyte (0 < z < thickness),
    of complex potentials given per dof and keyed by frequency (Hz)."""
    mesh = system.basis.mesh
    vertices = mesh.p.shape[1]  # scikit-fem numbers the vertex dofs first
    x = np.linspace(mesh.p[0].min(), mesh.p[0].max(), SECTION_POINTS)[1:-1]
    z = np.linspace(0.0, thickness_m, SECTION_POINTS)[1:-1]
    X, Z = np.meshgrid(x, z)
    element, weights = locate(mesh.p, mesh.t, np.vstack([X.ravel(), np.zeros(X.size), Z.ravel()]))
    at_vertices = np.array([phi[:vertices] for phi in potentials.values()])
    sections = (at_vertices[:, mesh.t[:, element]] * weights).sum(axis=1)  # linear in each element
    sections[:, element < 0] = np.nan
    return Fields(frequency_Hz=tuple(potentials), points_um=mesh.p / UM, tetrahedra=mesh.t,
                  potential=at_vertices, section_x_um=x / UM, section_z_um=z / UM,
                  section=sections.reshape(len(potentials), *X.shape))


def locate(p: np.ndarray, t: np.ndarray, points: np.ndarray, candidates: int = 64):
    """Element containing each point (-1 if none among the `candidates` elements with the
    nearest centroids) and the point's barycentric coordinates there, shape (4, points)."""
    from scipy.spatial import cKDTree

    _, near = cKDTree(p[:, t].mean(axis=1).T).query(points.T, k=min(candidates, t.shape[1]))
    element = np.full(points.shape[1], -1)
    weights = np.zeros((4, points.shape[1]))
    for k in range(near.shape[1]):
        todo = np.flatnonzero(element < 0)
        if todo.size == 0:
            break
        tets = t[:, near[todo, k]]
        v0 = p[:, tets[0]]
        edges = np.stack([p[:, tets[i]] - v0 for i in (1, 2, 3)], axis=-1).transpose(1, 0, 2)
        lam = np.linalg.solve(edges, (points[:, todo] - v0).T[:, :, None])[:, :, 0].T
        lam = np.vstack([1 - lam.sum(axis=0), lam])
        inside = (lam >= -1e-9).all(axis=0)
        element[todo[inside]] = near[todo[inside], k]
        weights[:, todo[inside]] = lam[:, inside]
    return element, weights


def write_vtu(fields: Fields, path) -> None:
    """The mesh (µm) with Re, Im and |phi| at each frequency as point data."""
    data = {}
    for f, phi in zip(fields.frequency_Hz, fields.potential):
        label = f"{f:.3g}Hz"
        data |= {f"phi_re_{label}": phi.real, f"phi_im_{label}": phi.imag, f"phi_abs_{label}": np.abs(phi)}
    meshio.Mesh(fields.points_um.T, [("tetra", fields.tetrahedra.T)], point_data=data).write(path)
