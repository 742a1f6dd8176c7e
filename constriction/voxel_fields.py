"""Fields of a voxel System: node potentials, the vertical section, VTK ImageData (.vti)
for ParaView, and the current density on the working-electrode face. Coordinates in
µm along the grid's axes (the current runs along the third, the WE at its top).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from .fields import ContactCurrent
from .mesh import UM
from .voxels import VoxelGrid, edge_ends, edge_weights, node_potential


@dataclass(frozen=True)
class GridFields:
    frequency_Hz: tuple[float, ...]
    spacing_um: tuple[float, float, float]
    potential: np.ndarray      # (frequencies, n0+1, n1+1, n2+1), complex
    kind: np.ndarray | None    # (n0, n1, n2) voxel kinds (voxels.ELECTROLYTE ...), for the picture

    @property
    def section_x_um(self) -> np.ndarray:
        return np.arange(self.potential.shape[1]) * self.spacing_um[0]

    @property
    def section_z_um(self) -> np.ndarray:
        return np.arange(self.potential.shape[3]) * self.spacing_um[2]

    @property
    def section(self) -> np.ndarray:
        """(frequencies, z, x): the plane through the middle of the second axis."""
        middle = self.potential.shape[2] // 2
        return self.potential[:, :, middle, :].transpose(0, 2, 1)


def grid_fields(grid: VoxelGrid, potentials: dict[float, np.ndarray]) -> GridFields:
    """Node potentials at each frequency (Hz) from the unknowns."""
    return GridFields(frequency_Hz=tuple(potentials), spacing_um=tuple(d / UM for d in grid.spacing_m),
                      potential=np.array([node_potential(grid, x) for x in potentials.values()]), kind=grid.kind)


def write_vti(fields: GridFields, path) -> None:
    """VTK ImageData: Re, Im and |phi| (float32) at every node and frequency, and the
    voxel kinds as cell data (0 electrolyte, 1 gas, 2 metal, 3 insulator)."""
    n = np.array(fields.potential.shape[1:]) - 1
    extent = " ".join(f"0 {k}" for k in n)
    root = ET.Element("VTKFile", type="ImageData", version="1.0", byte_order="LittleEndian",
                      header_type="UInt64")
    image = ET.SubElement(root, "ImageData", WholeExtent=extent, Origin="0 0 0",
                          Spacing=" ".join(f"{d:.9g}" for d in fields.spacing_um))
    piece = ET.SubElement(image, "Piece", Extent=extent)
    points = ET.SubElement(piece, "PointData")
    for f, phi in zip(fields.frequency_Hz, fields.potential):
        label = f"{f:.6g}Hz"
        for name, values in ((f"phi_re_{label}", phi.real), (f"phi_im_{label}", phi.imag),
                             (f"phi_abs_{label}", np.abs(phi))):
            _array(points, name, values.astype("<f4"), "Float32")
    if fields.kind is not None:
        _array(ET.SubElement(piece, "CellData"), "kind", fields.kind.astype("<i1"), "Int8")
    ET.ElementTree(root).write(path, xml_declaration=True)


def _array(parent, name: str, values: np.ndarray, vtk_type: str):
    raw = np.ascontiguousarray(values.transpose(2, 1, 0)).tobytes()  # x fastest, as VTK orders points
    element = ET.SubElement(parent, "DataArray", type=vtk_type, Name=name, format="binary")
    element.text = base64.b64encode(np.uint64(len(raw)).tobytes() + raw).decode()


def read_vti(path) -> GridFields:
    """Fields back from `write_vti`."""
    root = ET.parse(path).getroot()
    image = root.find("ImageData")
    extent = [int(v) for v in image.get("WholeExtent").split()]
    n = np.array(extent[1::2]) + 1
    spacing = tuple(float(v) for v in image.get("Spacing").split())

    def values(element, dtype, shape):
        raw = base64.b64decode(element.text)[8:]
        return np.frombuffer(raw, dtype=dtype).reshape(shape[::-1]).transpose(2, 1, 0)

    arrays = {e.get("Name"): values(e, "<f4", n) for e in image.iter("DataArray") if e.get("type") == "Float32"}
    labels = [k[len("phi_re_"):] for k in arrays if k.startswith("phi_re_")]
    potential = np.array([arrays[f"phi_re_{lab}"] + 1j * arrays[f"phi_im_{lab}"] for lab in labels])
    kind = next((values(e, "<i1", n - 1) for e in image.iter("DataArray") if e.get("Name") == "kind"), None)
    return GridFields(frequency_Hz=tuple(float(lab[:-2]) for lab in labels), spacing_um=spacing,
                      potential=potential, kind=kind)


def grid_contact_current(grid: VoxelGrid, x: np.ndarray, frequency_Hz: float) -> ContactCurrent:
    """Current density leaving the WE, seen on its face: the current through every edge
    from a WE node into the cell, (w_G + s w_C)(1 - phi), summed over each column of
    nodes along the current axis and divided by the node's share of the face (A/m² per
    V). Its sum is the cell current exactly (the residual at the WE)."""
    s = 2j * np.pi * frequency_Hz
    we = grid.dof_of_node.max() - 1  # the CE is the last unknown, the WE the one before
    columns = np.zeros(grid.dof_of_node.shape[:2], complex)
    for axis in range(3):
        w = edge_weights(grid.sigma, grid.spacing_m, axis) + s * edge_weights(grid.eps, grid.spacing_m, axis)
        a, b = edge_ends(grid.dof_of_node, axis)
        for here, there, offset in ((a, b, 0), (b, a, 1)):  # the WE node at the start or the end
            leaving = (here == we) & (there != we)
            flow = np.where(leaving, w * (1.0 - x[there]), 0.0).sum(axis=2)
            at = [0, 0]
            if axis < 2:
                at[axis] = offset
            columns[at[0]:at[0] + flow.shape[0], at[1]:at[1] + flow.shape[1]] += flow
    n0, n1 = columns.shape
    dx, dy = grid.spacing_m[0], grid.spacing_m[1]
    share = np.outer(_node_share(n0) * dx, _node_share(n1) * dy)
    X, Y = np.meshgrid(np.arange(n0) * dx / UM, np.arange(n1) * dy / UM, indexing="ij")
    k = np.arange(n0 * n1).reshape(n0, n1)
    quads = np.stack([k[:-1, :-1], k[1:, :-1], k[1:, 1:], k[:-1, 1:]]).reshape(4, -1)
    triangles = np.hstack([quads[[0, 1, 2]], quads[[0, 2, 3]]])
    return ContactCurrent(frequency_Hz=frequency_Hz, points_um=np.vstack([X.ravel(), Y.ravel()]),
                          triangles=triangles, j=(columns / share).ravel(), current_A=complex(columns.sum()),
                          area_m2=grid.contact_area_m2)


def _node_share(n_nodes: int) -> np.ndarray:
    """Each node's share of a row of n_nodes - 1 cells: 1, and 1/2 at both ends."""
    share = np.ones(n_nodes)
    share[[0, -1]] = 0.5
    return share
