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
    """Fields of complex potentials given per dof and keyed by frequency (Hz); the section
    spans the electrolyte, 0 < z < thickness."""
    mesh = system.basis.mesh
    vertices = mesh.p.shape[1]  # scikit-fem numbers the vertex dofs first
    at_vertices = np.array([phi[:vertices] for phi in potentials.values()])
    return _with_section(tuple(potentials), mesh.p / UM, mesh.t, at_vertices, thickness_m / UM)


def read_vtu(path, thickness_um: float) -> Fields:
    """Fields back from a file written by `write_vtu`."""
    m = meshio.read(path)
    frequencies = [float(k[len("phi_re_"):-len("Hz")]) for k in m.point_data if k.startswith("phi_re_")]
    labels = [k[len("phi_re_"):] for k in m.point_data if k.startswith("phi_re_")]
    potential = np.array([m.point_data[f"phi_re_{lab}"] + 1j * m.point_data[f"phi_im_{lab}"]
                          for lab in labels])
    return _with_section(tuple(frequencies), m.points.T, m.cells_dict["tetra"].T, potential, thickness_um)


def _with_section(frequency_Hz, points_um, tetrahedra, potential, thickness_um) -> Fields:
    """Fields with the section y = 0 through the electrolyte, linear in each element."""
    x = np.linspace(points_um[0].min(), points_um[0].max(), SECTION_POINTS)[1:-1]
    z = np.linspace(0.0, thickness_um, SECTION_POINTS)[1:-1]
    X, Z = np.meshgrid(x, z)
    element, weights = locate(points_um, tetrahedra, np.vstack([X.ravel(), np.zeros(X.size), Z.ravel()]))
    sections = (potential[:, tetrahedra[:, element]] * weights).sum(axis=1)
    sections[:, element < 0] = np.nan
    return Fields(frequency_Hz=frequency_Hz, points_um=points_um, tetrahedra=tetrahedra,
                  potential=potential, section_x_um=x, section_z_um=z,
                  section=sections.reshape(len(frequency_Hz), *X.shape))


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
        label = f"{f:.6g}Hz"
        data |= {f"phi_re_{label}": phi.real, f"phi_im_{label}": phi.imag, f"phi_abs_{label}": np.abs(phi)}
    meshio.Mesh(fields.points_um.T, [("tetra", fields.tetrahedra.T)], point_data=data).write(path)
