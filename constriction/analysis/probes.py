"""Reference electrodes: probes that draw no current, and the three-electrode impedances.

With the WE at 1 V and the CE at 0 V the cell current I = 1 V / Z_cell passes through both
halves of the cell, so a probe at potential φ (V) reads

    Z_WE-RE = (1 - φ) Z_cell,      Z_RE-CE = φ Z_cell,      Z_WE-RE + Z_RE-CE = Z_cell,

at every frequency, from the same solutions as Z_cell (no extra solve). A probe is a point
of the finite-element field: its potential is the field interpolated there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from constriction.units import UM


@dataclass(frozen=True)
class ProbeImpedances:
    """Z_WE-RE and Z_RE-CE (ohm) of each probe at frequency_Hz, and its potential (V)."""
    frequency_Hz: np.ndarray
    names: tuple[str, ...]
    potential_V: np.ndarray      # (probes, frequencies), complex
    Z_cell_ohm: np.ndarray

    @property
    def Z_we_re_ohm(self) -> np.ndarray:
        return (1 - self.potential_V) * self.Z_cell_ohm

    @property
    def Z_re_ce_ohm(self) -> np.ndarray:
        return self.potential_V * self.Z_cell_ohm

    @classmethod
    def from_csv(cls, path) -> "ProbeImpedances":
        """A terminals.csv back (ValueError if its columns are not ours)."""
        with open(path) as f:
            header = f.readline().strip().split(",")
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        if header[:3] != ["frequency_Hz", "Z_cell_real_ohm", "Z_cell_imag_ohm"] or (len(header) - 3) % 4 \
                or data.shape[1] != len(header):
            raise ValueError("not a terminals.csv of constriction")
        Z = data[:, 1] + 1j * data[:, 2]
        names = tuple(h.removeprefix("Z_WE_").removesuffix("_real_ohm") for h in header[3::4])
        phi = np.array([1 - (data[:, 3 + 4 * k] + 1j * data[:, 4 + 4 * k]) / Z for k in range(len(names))])
        return cls(frequency_Hz=data[:, 0], names=names, potential_V=phi.reshape(len(names), -1), Z_cell_ohm=Z)

    def to_csv(self, path) -> None:
        """One file, labelled columns: frequency_Hz, Z_cell, then Z_WE_<name> and Z_<name>_CE
        of each probe (real and imaginary parts, ohm)."""
        columns, header = [self.frequency_Hz, self.Z_cell_ohm.real, self.Z_cell_ohm.imag], \
            ["frequency_Hz", "Z_cell_real_ohm", "Z_cell_imag_ohm"]
        for k, name in enumerate(self.names):
            for label, Z in ((f"WE_{name}", self.Z_we_re_ohm[k]), (f"{name}_CE", self.Z_re_ce_ohm[k])):
                columns += [Z.real, Z.imag]
                header += [f"Z_{label}_real_ohm", f"Z_{label}_imag_ohm"]
        np.savetxt(path, np.column_stack(columns), delimiter=",", header=",".join(header), comments="",
                   fmt="%.12e")


def probe_rows(system, probes, thickness_um: float) -> sp.csr_matrix:
    """(probes x unknowns): each probe's potential as a combination of the System's
    unknowns (interpolation in its element, a ring's mean over points along it; merged
    metal bodies and a surface-admittance metal unknown accounted for)."""
    rows = sp.vstack([_mean_row(system, p, thickness_um) for p in probes]).tocsr()
    dofs = system.n_dofs if system.expand is None else system.expand.shape[0]  # before bodies were merged
    if rows.shape[1] < dofs:  # the metal unknowns of a surface admittance come after the basis's dofs
        rows = sp.hstack([rows, sp.csr_matrix((rows.shape[0], dofs - rows.shape[1]))]).tocsr()
    return rows if system.expand is None else (rows @ system.expand).tocsr()


def _mean_row(system, probe, thickness_um: float) -> sp.csr_matrix:
    """(1 x basis dofs): the probe's potential, the mean of the field at its points."""
    x, y = probe.points_um()
    points = np.array([x, y, [thickness_um - probe.depth_um] * len(x)]) * UM
    return sp.csr_matrix(system.basis.probes(points).mean(axis=0))
