"""The rows of G that a rank owns, from its band of voxels: image/voxels.py's finite
volumes (the same links), numbered over all bands.

Unknowns are numbered band by band: a band's voxels that are not metal (C order), then the
face unknowns its links made; after every band's, the floating bodies, the WE and last the
CE (owned by the last rank). A band makes the links of its own rows and those to the first
row above it; a link's two rows of G go to the ranks that own its two ends.

Metal bodies are found over all bands (bands.merged_labels): the bodies touching the top
face are the WE, those on the bottom face join the CE, every other floats. For R_inf the
gas against the WE joins it and every other gas body floats (voxels.py's shorted gas and
voids: the same links, a face unknown between gas and electrolyte is then a half-link).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.sparse.csgraph import connected_components

from constriction.image.voxels import GAS, METAL, NO_WE, SHORT, GridError, _links, face_unknown_count
from constriction.parallel.bands import FACES, Band, any_rank, exclusive_offset, held, join, merged_labels

FLOATING, WE, CE = 0, 1, 2


@dataclass(frozen=True)
class Bodies:
    """Equipotential bodies on the held rows: the body of every voxel (-1: none) and the
    role of every body (FLOATING, WE, CE)."""
    body: np.ndarray
    role: np.ndarray

    def of_role(self, role: int) -> np.ndarray:
        """Whether each held voxel belongs to a body of this role (WE, CE, FLOATING)."""
        return (self.body >= 0) & (self.role[np.maximum(self.body, 0)] == role)


def metal_bodies(band: Band, kind: np.ndarray) -> Bodies:
    """The face-connected metal bodies of the image (kind on the held rows); GridError
    where none touches the WE face or one touches both faces (voxels.assemble_grid's)."""
    body, count = merged_labels(band, kind[band.own] == METAL)
    own = body[band.own]
    top, bottom = (any_rank(band, _present(face, count)) for face in (own[:, :, -1], own[:, :, 0]))
    if not top.any():
        raise GridError(NO_WE)
    if (top & bottom).any():
        raise GridError(SHORT)
    return Bodies(body=body, role=np.where(top, WE, np.where(bottom, CE, FLOATING)))


def gas_shorted(band: Band, kind: np.ndarray, metal: Bodies) -> Bodies:
    """The bodies of R_inf's cell: the metal bodies, and every face-connected gas body,
    joining the WE where it shares a face with the WE's metal, floating otherwise."""
    gas, count = merged_labels(band, kind[band.own] == GAS)
    we_metal = metal.of_role(WE)
    beside = (ndimage.binary_dilation(we_metal, structure=FACES) & (gas >= 0))[band.own]
    touching = any_rank(band, _present(gas[band.own][beside], count))
    body = np.where(gas >= 0, metal.role.size + gas, metal.body)
    return Bodies(body=body, role=np.concatenate([metal.role, np.where(touching, WE, FLOATING)]))


def _present(ids: np.ndarray, count: int) -> np.ndarray:
    """Which of `count` labels occur among `ids` (-1: none)."""
    flags = np.zeros(count, bool)
    flags[ids[ids >= 0]] = True
    return flags


@dataclass(frozen=True)
class BandSystem:
    """G's rows [start, stop) (S; owned by this rank, columns global) and C's (F; None for
    DC solves only), the unknown of every voxel of the band (a body's where it is one), the
    first unknown of every rank, and the unknowns of the WE and the CE (the last two)."""
    G: sp.csr_matrix
    start: int
    firsts: np.ndarray
    unknown: np.ndarray
    n_dofs: int
    C: sp.csr_matrix | None = None
    floating: int = 0                 # floating bodies: the unknowns before the WE's

    @property
    def bodies(self) -> np.ndarray:
        """The unknowns of the floating bodies (owned by the last rank)."""
        return np.arange(self.n_dofs - 2 - self.floating, self.n_dofs - 2)

    @property
    def stop(self) -> int:
        return self.start + self.G.shape[0]

    @property
    def we(self) -> int:
        return self.n_dofs - 2

    @property
    def ce(self) -> int:
        return self.n_dofs - 1

    def diagonal(self) -> np.ndarray:
        """G's diagonal on the owned rows (S)."""
        m = self.G.shape[0]
        return np.asarray(self.G[np.arange(m), self.start + np.arange(m)]).ravel()

    def owner(self, unknowns: np.ndarray) -> np.ndarray:
        """The rank that owns each unknown."""
        return _owner(self.firsts, unknowns)


def band_system(band: Band, kind, sigma, eps, spacing_m, bodies: Bodies, capacitance: bool = False) -> BandSystem:
    """G of the image (kind, sigma, eps on the held rows) with `bodies` as equipotentials,
    and C with `capacitance`: the rows this rank owns."""
    is_body = bodies.body >= 0
    kind = np.where(is_body, METAL, kind)
    rows = band.hi - band.lo
    links = slice(band.own.start, band.own.stop + (1 if band.hi < band.n0 else 0))  # own rows and the next
    voxels = int(np.count_nonzero(~is_body[band.own]))
    faces = face_unknown_count(kind[links], sigma[links], eps[links], rows)
    start, n_vf = exclusive_offset(band, voxels + faces)
    firsts = np.array(band.comm.allgather(start))
    floating = np.flatnonzero(bodies.role == FLOATING)
    of_body = np.empty(bodies.role.size, np.int64)
    of_body[floating] = n_vf + np.arange(floating.size)
    n_dofs = n_vf + floating.size + 2
    of_body[bodies.role == WE], of_body[bodies.role == CE] = n_dofs - 2, n_dofs - 1
    own_body = bodies.body[band.own]
    unknown = np.where(own_body >= 0, of_body[np.maximum(own_body, 0)], 0)
    unknown[own_body < 0] = start + np.arange(voxels)
    around = held(band, unknown)[links]  # the next band's first row: its unknowns
    a, b, g, c, made = _links(kind[links], sigma[links], eps[links], around, spacing_m, start + voxels, n_dofs - 1,
                              rows)
    assert made.shape[1] == faces, "face unknowns counted and made differ"
    stop = start + voxels + faces + (n_dofs - n_vf if band.rank == band.size - 1 else 0)
    G, *C = _owned_rows(band, firsts, (start, stop), n_dofs, a, b, g, *([c] if capacitance else []))
    return BandSystem(G=G, start=start, firsts=firsts, unknown=unknown, n_dofs=n_dofs, C=C[0] if C else None,
                      floating=int(floating.size))


def _owner(firsts: np.ndarray, unknowns: np.ndarray) -> np.ndarray:
    """The rank that owns each unknown, from the first unknown of every rank."""
    return np.searchsorted(firsts, unknowns, side="right") - 1


def _owned_rows(band: Band, firsts, owned: tuple[int, int], n_dofs: int, a, b, *weights) -> list[sp.csr_matrix]:
    """The rows owned = [start, stop) of each Laplacian sum w (e_a - e_b)(e_a - e_b)^T over
    the links (n_dofs columns), one per array of weights w, from every rank's links (each
    sent to the owners of its two ends)."""
    owner_a, owner_b = _owner(firsts, a), _owner(firsts, b)
    outgoing = []
    for rank in range(band.size):
        to = (owner_a == rank) | (owner_b == rank)
        outgoing.append([a[to], b[to]] + [w[to] for w in weights])
    del owner_a, owner_b
    incoming = band.comm.alltoall(outgoing)
    a, b, *weights = (np.concatenate([part[k] for part in incoming]) for k in range(2 + len(weights)))
    start, stop = owned
    out = []
    for w in weights:
        keep = w != 0
        on_a, on_b = keep & (a >= start) & (a < stop), keep & (b >= start) & (b < stop)
        rows = np.concatenate([a[on_a], a[on_a], b[on_b], b[on_b]]) - start
        cols = np.concatenate([a[on_a], b[on_a], b[on_b], a[on_b]])
        values = np.concatenate([w[on_a], -w[on_a], w[on_b], -w[on_b]])
        M = sp.csr_matrix((values, (rows, cols)), shape=(stop - start, n_dofs))
        M.sum_duplicates()
        out.append(M)
    return out


def components(band: Band, system: BandSystem) -> np.ndarray:
    """The connected component (through nonzero conductances) of every owned unknown,
    numbered alike on every rank: each rank's own graph first, then the links between
    ranks joined as a graph of those components."""
    G = system.G.tocoo()
    start, m = system.start, system.G.shape[0]
    link = (G.data != 0) & (G.col != G.row + start)
    row, col = G.row[link], G.col[link]
    inside = (col >= start) & (col < start + m)
    local = sp.coo_matrix((np.ones(np.count_nonzero(inside), np.int8), (row[inside], col[inside] - start)),
                          shape=(m, m))
    found, label = connected_components(local, directed=False) if m else (0, np.zeros(0, np.int64))
    offset, count = exclusive_offset(band, found)
    label = label + offset
    row, col = row[~inside], col[~inside]            # links to unknowns another rank owns: ask it
    wanted = np.unique(col)
    owner = system.owner(wanted)
    asked = band.comm.alltoall([wanted[owner == r] for r in range(band.size)])
    answers = band.comm.alltoall([label[q - start] for q in asked])
    order = np.argsort(owner, kind="stable")          # the answers come in the order of the ranks
    their = np.empty(wanted.size, np.int64)
    their[order] = np.concatenate([np.zeros(0, np.int64)] + [np.asarray(x, np.int64) for x in answers])
    pairs = np.vstack([label[row], their[np.searchsorted(wanted, col)]])
    return join(band, count, np.unique(pairs, axis=1) if pairs.size else pairs)[label]
