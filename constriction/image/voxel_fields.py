"""Fields of a voxel System: the potential of every voxel (at its centre; metal: its
body's), the vertical section, VTK ImageData (.vti, cell data) for ParaView, and the
current density leaving the working electrode. Coordinates in µm along the grid's axes
(the current runs along the third, the WE at its top).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from constriction.geometry.mesh_fields import ContactCurrent
from constriction.units import UM
from constriction.image.voxels import GAS, INSULATOR, METAL, VoxelGrid, face_area, neighbour_slices, voxel_potential


@dataclass(frozen=True)
class GridFields:
    frequency_Hz: tuple[float, ...]
    spacing_um: tuple[float, float, float]
    potential: np.ndarray      # (frequencies, n0, n1, n2) at the voxel centres, complex
    kind: np.ndarray | None    # (n0, n1, n2) voxel kinds (voxels.ELECTROLYTE ...), for the picture

    @property
    def section_x_um(self) -> np.ndarray:
        return (np.arange(self.potential.shape[1]) + 0.5) * self.spacing_um[0]

    @property
    def section_z_um(self) -> np.ndarray:
        return (np.arange(self.potential.shape[3]) + 0.5) * self.spacing_um[2]

    @property
    def section(self) -> np.ndarray:
        """(frequencies, z, x): the plane through the middle of the second axis."""
        middle = self.potential.shape[2] // 2
        return self.potential[:, :, middle, :].transpose(0, 2, 1)

    @property
    def section_phases(self) -> dict[str, np.ndarray]:
        """{phase: (z, x) bool} on the section for every phase that is not electrolyte
        (metal, gas, insulator) and lies on it, for the picture."""
        if self.kind is None:
            return {}
        middle = self.kind[:, self.kind.shape[1] // 2, :].T
        masks = {name: middle == k for name, k in (("metal", METAL), ("gas", GAS), ("insulator", INSULATOR))}
        return {name: mask for name, mask in masks.items() if mask.any()}


def grid_fields(grid: VoxelGrid, potentials: dict[float, np.ndarray]) -> GridFields:
    """Voxel potentials at each frequency (Hz) from the unknowns."""
    return GridFields(frequency_Hz=tuple(potentials), spacing_um=tuple(d / UM for d in grid.spacing_m),
                      potential=np.array([voxel_potential(grid, x) for x in potentials.values()]), kind=grid.kind)


def write_vti(fields: GridFields, path) -> None:
    """VTK ImageData, all as cell data: Re, Im and |phi| (float32) of every voxel at each
    frequency, and the voxel kinds (0 electrolyte, 1 gas, 2 metal, 3 insulator)."""
    n = np.array(fields.potential.shape[1:])
    extent = " ".join(f"0 {k}" for k in n)
    root = ET.Element("VTKFile", type="ImageData", version="1.0", byte_order="LittleEndian",
                      header_type="UInt64")
    image = ET.SubElement(root, "ImageData", WholeExtent=extent, Origin="0 0 0",
                          Spacing=" ".join(f"{d:.9g}" for d in fields.spacing_um))
    piece = ET.SubElement(image, "Piece", Extent=extent)
    cells = ET.SubElement(piece, "CellData")
    for f, phi in zip(fields.frequency_Hz, fields.potential):
        label = f"{f:.6g}Hz"
        for name, values in ((f"phi_re_{label}", phi.real), (f"phi_im_{label}", phi.imag),
                             (f"phi_abs_{label}", np.abs(phi))):
            _array(cells, name, values.astype("<f4"), "Float32")
    if fields.kind is not None:
        _array(cells, "kind", fields.kind.astype("<i1"), "Int8")
    ET.ElementTree(root).write(path, xml_declaration=True)


def _array(parent, name: str, values: np.ndarray, vtk_type: str):
    raw = np.ascontiguousarray(values.transpose(2, 1, 0)).tobytes()  # x fastest, as VTK orders cells
    element = ET.SubElement(parent, "DataArray", type=vtk_type, Name=name, format="binary")
    element.text = base64.b64encode(np.uint64(len(raw)).tobytes() + raw).decode()


def read_vti(path) -> GridFields:
    """Fields back from `write_vti`."""
    root = ET.parse(path).getroot()
    image = root.find("ImageData")
    extent = [int(v) for v in image.get("WholeExtent").split()]
    n = np.array(extent[1::2])
    spacing = tuple(float(v) for v in image.get("Spacing").split())

    def values(element, dtype, shape):
        raw = base64.b64decode(element.text)[8:]
        return np.frombuffer(raw, dtype=dtype).reshape(shape[::-1]).transpose(2, 1, 0)

    arrays = {e.get("Name"): values(e, "<f4", n) for e in image.iter("DataArray") if e.get("type") == "Float32"}
    labels = [k[len("phi_re_"):] for k in arrays if k.startswith("phi_re_")]
    potential = np.array([arrays[f"phi_re_{lab}"] + 1j * arrays[f"phi_im_{lab}"] for lab in labels])
    kind = next((values(e, "<i1", n) for e in image.iter("DataArray") if e.get("Name") == "kind"), None)
    return GridFields(frequency_Hz=tuple(float(lab[:-2]) for lab in labels), spacing_um=spacing,
                      potential=potential, kind=kind)


def grid_contact_current(grid: VoxelGrid, x: np.ndarray, frequency_Hz: float) -> ContactCurrent:
    """Current density leaving the WE, seen from above: the current through every face
    between WE metal and a voxel, (g + s c)(1 - phi) on its half-link, summed over the
    column of that voxel and divided by the column's area (A/m² per V), at the column
    centres. Its sum is the cell current exactly (the residual at the WE)."""
    s = 2j * np.pi * frequency_Hz
    y = grid.sigma + s * grid.eps
    phi = voxel_potential(grid, x)
    columns = np.zeros(grid.shape[:2], complex)
    for axis in range(3):
        half_link = 2 * face_area(grid.spacing_m, axis) / grid.spacing_m[axis]
        lo, hi = neighbour_slices(axis)
        for voxel, metal in ((lo, hi), (hi, lo)):
            into_we = grid.we_metal[metal] & (grid.kind[voxel] != METAL)
            flow = np.where(into_we, half_link * y[voxel] * (1.0 - phi[voxel]), 0.0).sum(axis=2)
            at = [slice(None), slice(None)]
            if axis < 2:
                at[axis] = voxel[axis]
            columns[tuple(at)] += flow
    n0, n1 = columns.shape
    dx, dy = grid.spacing_m[0], grid.spacing_m[1]
    X, Y = np.meshgrid((np.arange(n0) + 0.5) * dx / UM, (np.arange(n1) + 0.5) * dy / UM, indexing="ij")
    k = np.arange(n0 * n1).reshape(n0, n1)
    quads = np.stack([k[:-1, :-1], k[1:, :-1], k[1:, 1:], k[:-1, 1:]]).reshape(4, -1)
    triangles = np.hstack([quads[[0, 1, 2]], quads[[0, 2, 3]]])
    return ContactCurrent(frequency_Hz=frequency_Hz, points_um=np.vstack([X.ravel(), Y.ravel()]),
                          triangles=triangles, j=(columns / (dx * dy)).ravel(), current_A=complex(columns.sum()),
                          area_m2=grid.contact_area_m2)
