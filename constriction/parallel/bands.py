"""An image cut into bands of rows, one band per MPI rank, and what the ranks must agree on.

The rows are the first axis of the turned image (the current runs along the last one), so
every band reaches from the WE to the CE. A rank reads its own rows and one row either side
(read.read_rows: from the file, not from another rank). Whatever crosses a band's edge
goes to the neighbour in one exchange of a row (`neighbour_rows`); what is global (which
voxels form one metal body, one gas body, one conducting component) is found by labelling
each band on its own and joining the labels that meet across the edges (`merged_labels`),
a graph of labels, not of voxels, that every rank solves alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.sparse.csgraph import connected_components

from constriction.image.voxels import FACES


@dataclass(frozen=True)
class Band:
    """Rows lo <= i < hi of n0 (this rank's), and the rows it holds: one more either side
    where there is a neighbour."""
    comm: object          # the mpi4py communicator
    lo: int
    hi: int
    n0: int

    @property
    def rank(self) -> int:
        return self.comm.rank

    @property
    def size(self) -> int:
        return self.comm.size

    @property
    def held(self) -> tuple[int, int]:
        """The rows read: this band's, and one either side where a neighbour has it."""
        return max(self.lo - 1, 0), min(self.hi + 1, self.n0)

    @property
    def own(self) -> slice:
        """This band's rows within the held rows."""
        first = self.lo - self.held[0]
        return slice(first, first + self.hi - self.lo)


def band_rows(n0: int, ranks: int, block: int = 1) -> list[tuple[int, int]]:
    """The rows of each rank, as even as whole blocks of `block` rows allow (a subdivided
    image: a file voxel's sub-rows stay on one rank); ValueError for more ranks than blocks."""
    blocks = n0 // block
    if blocks < ranks:
        raise ValueError(f"{ranks} MPI ranks for an image of {blocks} rows: run fewer ranks than rows")
    cuts = [block * (blocks * k // ranks) for k in range(ranks + 1)]
    cuts[-1] = n0
    return list(zip(cuts[:-1], cuts[1:]))


def band_of(comm, n0: int, block: int = 1) -> Band:
    lo, hi = band_rows(n0, comm.size, block)[comm.rank]
    return Band(comm=comm, lo=lo, hi=hi, n0=n0)


def neighbour_rows(band: Band, own: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The neighbours' rows next to this band: the last row of the band below and the first
    of the band above (None at the image's ends), from `own` (this band's rows of an array)
    on every rank."""
    below = band.rank - 1 if band.rank > 0 else None
    above = band.rank + 1 if band.rank < band.size - 1 else None
    comm = band.comm
    from_above = from_below = None
    # upwards: my last row to the rank above; then downwards: my first row to the rank below
    if above is not None and below is not None:
        from_below = comm.sendrecv(own[-1], dest=above, source=below)
        from_above = comm.sendrecv(own[0], dest=below, source=above)
    elif above is not None:
        comm.send(own[-1], dest=above)
        from_above = comm.recv(source=above)
    elif below is not None:
        from_below = comm.recv(source=below)
        comm.send(own[0], dest=below)
    return from_below, from_above


def held(band: Band, own: np.ndarray) -> np.ndarray:
    """An array on the held rows from its own rows and the neighbours'."""
    below, above = neighbour_rows(band, own)
    parts = ([below[None]] if below is not None else []) + [own] + ([above[None]] if above is not None else [])
    return np.concatenate(parts) if len(parts) > 1 else own


def exclusive_offset(band: Band, count: int) -> tuple[int, int]:
    """(the sum of `count` over the ranks below this one, the sum over all ranks)."""
    counts = band.comm.allgather(int(count))
    return sum(counts[:band.rank]), sum(counts)


def join(band: Band, count: int, pairs: np.ndarray) -> np.ndarray:
    """The component of each of `count` nodes (numbered alike on every rank) that the
    edges `pairs` (2, k; this rank's, gathered from all) join: 0, 1, ... in the order of
    each component's first node, the same on every rank."""
    edges = np.hstack([np.zeros((2, 0), np.int64)] + band.comm.allgather(np.asarray(pairs, np.int64).reshape(2, -1)))
    graph = sp.coo_matrix((np.ones(edges.shape[1], np.int8), (edges[0], edges[1])), shape=(count, count))
    return connected_components(graph, directed=False)[1] if count else np.zeros(0, np.int64)


def merged_labels(band: Band, mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Face-connected components of `mask` (this band's rows) over the whole image: the
    component of every voxel on the held rows (0, 1, ...; -1 outside the mask) and their
    number, the same on every rank."""
    local, found = ndimage.label(mask, structure=FACES)
    offset, total = exclusive_offset(band, found)
    ids = np.where(local > 0, local.astype(np.int64) - 1 + offset, -1)
    del local
    around = held(band, ids)
    pairs = np.zeros((2, 0), np.int64)
    if band.hi < band.n0:  # my last row against the first row above
        above = around[-1]
        meet = (ids[-1] >= 0) & (above >= 0)
        pairs = np.unique(np.vstack([ids[-1][meet], above[meet]]), axis=1)
    component = join(band, total, pairs)
    return np.where(around >= 0, component[np.maximum(around, 0)], -1), int(component.max() + 1) if total else 0


def any_rank(band: Band, flags: np.ndarray) -> np.ndarray:
    """The element-wise OR of a boolean array over the ranks."""
    from mpi4py import MPI
    out = np.ascontiguousarray(flags, np.uint8).copy()
    band.comm.Allreduce(MPI.IN_PLACE, out, op=MPI.MAX)
    return out.astype(bool)


def total(band: Band, value):
    """The sum of a number over the ranks."""
    return band.comm.allreduce(value)
