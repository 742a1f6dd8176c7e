"""An image's run over MPI ranks: what pipeline.run gives serially (R_dc, R_inf, the split,
the effective conductivity and tortuosity factor, and unless the sweep is DC only the
reduced sweep's spectrum and DRT), every rank computing its band, every rank returning
the same numbers (rank 0 writes them: cli/main.py): the error bar, the floating bodies, the
reference electrodes and (gathered on rank 0 where they fit) the fields too. The direct
sweep is serial only."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from constriction.analysis.probes import ProbeImpedances
from constriction.analysis.spectrum import Spectrum
from constriction.analysis.split import ConstrictionSplit
from constriction.discretised import Discretised, lowest
from constriction.image.error_bar import Levels, estimates, finer_levels
from constriction.image.source import reference_body
from constriction.image.read import ImageError, ImageSpec, read_rows, solved_shape
from constriction.image.transport import transport
from constriction.image.voxel_fields import grid_contact_current, grid_fields
from constriction.image.voxels import (CONNECTIVITY, ELECTROLYTE, GAS, METAL, METHOD, NO_PATH, GridError,
                                       VoxelGrid, coefficients, contact_area, in_full_contact)
from constriction.io.summary import BodySummary, Discretisation, SweepSummary
from constriction.parallel.bands import Band, any_rank, band_of, total
from constriction.parallel.dc import BandDC, dc_solve
from constriction.parallel.grid import WE, band_system, gas_shorted, metal_bodies
from constriction.parallel.mpi import world
from constriction.parallel.sweep import band_pencil, terminal_admittance_over_ranks
from constriction.memory import available_bytes, gib, image_rank_bytes, total_bytes
from constriction.progress import say
from constriction.solve.reduced import reduce_pencil
from constriction.solve.terminals import TerminalAdmittance
from constriction.solved import Solved
from constriction.spec import SpecError
from constriction.units import UM

NO_DIRECT = "the direct sweep (the reference) runs serially: over MPI ranks the sweep is the reduced one"
NO_FIELDS = ("the fields were not written: the whole image's potentials would not fit in rank 0's memory (fields "
             "written in pieces, one a rank, are still to come)")
NO_BRACKETS = ("no brackets over MPI ranks (the serial run's default error bar): Richardson's estimate from "
               "subdivisions instead")
FIELDS_BYTES_PER_VOXEL = 100  # rank 0's whole-image arrays for the fields: the potentials at two frequencies,
                              # the grid's kinds, coefficients and unknowns, and GridFields' own copy


@dataclass(frozen=True)
class Unknowns:
    """What a summary reports of the unknowns of a cell solved over ranks (held by none)."""
    n_dofs: int
    bodies: tuple = ()


@dataclass(frozen=True)
class DCStage:
    """An image's DC stage over the ranks: its band, the band's voxels as read and solved,
    the metal bodies, the system of R_dc and its solve, R_inf and the split."""
    band: Band
    shape: tuple[int, int, int]
    voxel_um: tuple[float, float, float]
    labels: np.ndarray        # the held rows' label values, as in the file
    kind: np.ndarray
    sigma: np.ndarray
    eps: np.ndarray
    metal: object
    system: object
    dc: BandDC
    R_inf_ohm: float
    split: ConstrictionSplit


def solve_over_mpi(spec: ImageSpec, progress: bool = True, sweep: str = "reduced", tol: float = 1e-6,
                   error_estimate: str = "auto") -> tuple[Discretised, Solved, bool, tuple[str, ...]]:
    """The solves of an image (a resolved spec) over the ranks of MPI's world communicator:
    DC (R_dc, R_inf, the split), the error bar (error_estimate as RunOptions'), and unless
    its sweep is DC only the reduced sweep to `tol`; the cell and what its solves give, as
    pipeline.run's, whether this rank keeps quiet (all but rank 0), and the warnings of what
    was not computed over the ranks. SpecError for a direct sweep (serial only)."""
    if sweep != "reduced" and not spec.sweep.dc_only:
        raise SpecError("sweep", NO_DIRECT)
    _, comm = world()
    progress = progress and comm.rank == 0
    t0 = time.perf_counter()
    stage = dc_stage(spec, comm, progress, capacitance=not spec.sweep.dc_only)
    band, system, dc, split = stage.band, stage.system, stage.dc, stage.split
    seconds = {"dc": time.perf_counter() - t0}  # reading, assembling, R_dc, R_inf and the split: one stage here
    cell = _cell(stage)
    t0 = time.perf_counter()
    discretisation = _error_bar(spec, stage, comm, error_estimate, progress)
    seconds["error_estimate"] = time.perf_counter() - t0
    R_inf = stage.R_inf_ohm
    backend = f"petsc ({comm.size} MPI ranks)"
    if spec.sweep.dc_only:
        say(f"{spec.name}: DC only, no spectrum", progress)
        solved = Solved(R_dc_ohm=dc.R_ohm, R_inf_ohm=R_inf, dc_mismatch=dc.mismatch, split=split, symmetric=None,
                        discretisation=discretisation, spectrum=None, sweep_mismatch=0.0,
                        sweep=SweepSummary(kind="dc", backend=backend, n_frequencies=0, f_min_Hz=math.nan,
                                           f_max_Hz=math.nan),
                        model=None, probes=None, admittance=None, seconds=seconds)
        return cell, solved, comm.rank != 0, ()
    say(f"{spec.name}: reduced sweep over {comm.size} ranks", progress)
    t0 = time.perf_counter()
    f = spec.frequencies_Hz()
    pencil, dc_interior = band_pencil(band, system, dc)
    model = reduce_pencil(pencil, f[0], f[-1], tol, progress, dc_interior)
    mine = np.arange(system.start, system.stop)  # model.potential(f): the potentials of this rank's unknowns
    model = replace(model, interior=np.flatnonzero((mine != system.we) & (mine != system.ce)),
                    we=np.flatnonzero(mine == system.we), n_dofs=mine.size)
    seconds["sweep"] = time.perf_counter() - t0
    record = SweepSummary(kind="reduced", backend=backend, n_frequencies=len(f), f_min_Hz=float(f[0]),
                          f_max_Hz=float(f[-1]), n_shifts=len(model.shifts_Hz), n_moments=model.moments,
                          order=model.order, estimated_error=model.estimated_error, tolerance=tol)
    Z = model.impedance(f)
    probes, admittance = _references(spec, stage, model, f, Z) if spec.probes else (None, None)
    solved = Solved(R_dc_ohm=dc.R_ohm, R_inf_ohm=R_inf, dc_mismatch=dc.mismatch, split=split, symmetric=None,
                    discretisation=discretisation, spectrum=Spectrum(frequency_Hz=f, Z_ohm=Z),
                    sweep_mismatch=model.conservation, sweep=record, model=model, probes=probes,
                    admittance=admittance, seconds=seconds)
    warnings = () if _fields_fit(band, math.prod(stage.shape)) else (NO_FIELDS,)
    return cell, solved, comm.rank != 0, warnings


def _references(spec: ImageSpec, stage: DCStage, model, f: np.ndarray, Z: np.ndarray):
    """(ProbeImpedances, TerminalAdmittance) of the spec's reference electrodes over the ranks,
    as pipeline.solve gives them serially: each probe's floating body (image/source.py's
    rules), its potential at every frequency from the reduced basis, and Y(s) of the WE, the
    CE and the references from their own basis at the model's real shifts."""
    band, system, comm = stage.band, stage.system, stage.band.comm
    last = band.size - 1
    bodies = [_reference_body(spec, k, stage) for k in range(len(spec.probes))]
    potentials = [model.potential(fi) for fi in f]
    phi = np.array([[comm.bcast(x[b - system.start] if band.rank == last else None, root=last) for x in potentials]
                    for b in bodies])
    names = tuple(p.name for p in spec.probes)
    Y = terminal_admittance_over_ranks(band, system, [system.we, system.ce, *bodies], f, model.real_shifts(f))
    return ProbeImpedances(f, names, phi, Z), TerminalAdmittance(f, ("WE", "CE", *names), Y)


def _reference_body(spec: ImageSpec, k: int, stage: DCStage) -> int:
    """image/source.py's reference_body over the ranks: the one floating body (its unknown)
    that probe k's metal phase makes; SpecError otherwise."""
    band, system = stage.band, stage.system
    values = [v for v, name in spec.labels.items() if name == spec.probes[k].phase]
    found = np.unique(system.unknown[np.isin(stage.labels[band.own], values)])
    return reference_body(spec, k, np.unique(np.concatenate(band.comm.allgather(found))), system.bodies.tolist())


def dc_stage(spec: ImageSpec, comm, progress: bool, capacitance: bool = False,
             memory_checked: bool = False) -> DCStage:
    """Read this rank's band of the image and solve the DC cells over all ranks (R_dc, R_inf,
    the split's reference); C assembled too with `capacitance` (for the sweep). The memory
    is checked first unless the caller did (the error bar's levels: finer_levels)."""
    shape = solved_shape(spec)
    try:
        band = band_of(comm, shape[0], spec.subdivide)
    except ValueError as err:
        raise SpecError("image", str(err)) from None
    if not memory_checked:
        _check_memory(band, math.prod(shape))
    say(f"{spec.name}: {math.prod(shape):,} voxels in {comm.size} bands of rows over MPI ranks "
        f"(rank 0: rows {band.lo}-{band.hi - 1} of {shape[0]})", progress)
    labels = _read_band(spec, band)
    kind, sigma, eps = coefficients(labels, spec)
    spacing = tuple(v * UM for v in labels.turned_voxel_um)
    try:
        metal = metal_bodies(band, kind)
    except GridError as err:
        raise ImageError(spec.path, str(err)) from None
    system = band_system(band, kind, sigma, eps, spacing, metal, capacitance=capacitance)
    dc = _solved(band, system, spec, "R_dc", progress)
    if not dc.joined:
        raise ImageError(spec.path, NO_PATH)
    any_gas = bool(any_rank(band, np.array([np.any(kind[band.own] == GAS)]))[0])
    shorted = gas_shorted(band, kind, metal) if any_gas else None
    R_inf = dc.R_ohm
    if any_gas:
        R_inf = _solved(band, band_system(band, kind, sigma, eps, spacing, shorted), spec, "R_inf", progress).R_ohm
    split = _split(band, spec, kind, sigma, spacing, shorted, dc.R_ohm, progress)
    if split.why_unknown:
        say(f"{spec.name}: warning: {split.why_unknown}", progress)
    return DCStage(band=band, shape=shape, voxel_um=labels.turned_voxel_um, labels=labels.array, kind=kind,
                   sigma=sigma, eps=eps,
                   metal=metal, system=system, dc=dc, R_inf_ohm=R_inf, split=split)


def _read_band(spec: ImageSpec, band: Band):
    """This rank's rows of the image; an ImageError on any rank (a label with no phase in one
    band only) raised on every rank, so that none waits for the others."""
    labels, reason = None, None
    try:
        labels = read_rows(spec, *band.held)
    except ImageError as err:
        reason = err.reason
    reason = next((r for r in band.comm.allgather(reason) if r is not None), None)
    if reason is not None:
        raise ImageError(spec.path, reason)
    return labels


def _error_bar(spec: ImageSpec, stage: DCStage, comm, policy: str, progress: bool) -> Discretisation:
    """image/error_bar.py over the ranks: R_dc, R_inf and R_cstr at the finer subdivisions
    its policy and the ranks' memory allow (finer_levels; "auto": where they fit), and their
    Richardson extrapolation; no brackets (NO_BRACKETS)."""
    def dc_values(finer: ImageSpec) -> Levels:
        level = dc_stage(finer, comm, False, memory_checked=True)
        return Levels(finer.subdivide, level.dc.R_ohm, level.R_inf_ohm, level.split.R_bulk_ohm)

    levels, note = finer_levels(spec, math.prod(stage.shape), policy, dc_values, progress, *_memory(stage.band))
    own = Levels(spec.subdivide, stage.dc.R_ohm, stage.R_inf_ohm, stage.split.R_bulk_ohm)
    if policy != "never":  # the serial run's default bar: its Q1 potential is not built over ranks
        note = "; ".join(filter(None, [NO_BRACKETS, note]))
    return Discretisation(method=METHOD, connectivity=CONNECTIVITY, solved_voxel_um=stage.voxel_um,
                          subdivide=spec.subdivide, note=note, **(estimates([own, *levels]) if levels else {}))


def _memory(band: Band):
    """(need_bytes(voxels): what the ranks on one machine take together for a run of that many
    voxels; the least memory free, and in all, of the ranks' machines), alike on every rank."""
    from mpi4py import MPI
    on_this_machine = band.comm.Split_type(MPI.COMM_TYPE_SHARED)
    ranks_here = band.comm.allreduce(on_this_machine.size, op=MPI.MAX)
    on_this_machine.Free()
    budget = band.comm.allreduce(available_bytes(), op=MPI.MIN)
    machine = band.comm.allreduce(total_bytes(), op=MPI.MIN)
    return (lambda voxels: ranks_here * image_rank_bytes(voxels, band.size)), budget, machine


def _check_memory(band: Band, voxels: int) -> None:
    """SpecError, before reading, where the ranks on a machine need more than it has free."""
    need_bytes, budget, _ = _memory(band)
    if need_bytes(voxels) > budget:
        raise SpecError("image", f"{voxels:,} voxels over {band.size} MPI ranks: about "
                                 f"{gib(image_rank_bytes(voxels, band.size))} a rank estimated, more than a machine "
                                 f"here has free for its ranks; run more ranks on more machines, or crop or coarsen "
                                 f"the image")


def _solved(band: Band, system, spec, what: str, progress: bool) -> BandDC:
    say(f"{spec.name}: {what}: DC solve over {band.size} ranks, {system.n_dofs:,} unknowns", progress)
    dc = dc_solve(band, system)
    say(f"{spec.name}: {what}: PETSc CG on {dc.unknowns:,} unknowns: {dc.iterations} iterations, "
        f"{dc.seconds:.1f} s", progress)
    return dc


def _split(band: Band, spec, kind, sigma, spacing, shorted, R_dc: float, progress: bool) -> ConstrictionSplit:
    """voxels.image_split over the bands: the same image in full contact (gas against the WE
    becomes WE metal, other gas and insulators the bulk electrolyte) gives R_bulk."""
    into_metal = np.zeros(kind.shape, bool) if shorted is None else shorted.of_role(WE) & (kind == GAS)
    sigma, kind = in_full_contact(kind, sigma, into_metal, _bulk_sigma(band, kind, sigma))
    R_bulk = _slab_resistance(band, kind, sigma, spacing)
    if R_bulk is None:
        try:
            system = band_system(band, kind, sigma, np.zeros_like(sigma), spacing, metal_bodies(band, kind))
        except GridError as err:
            return ConstrictionSplit.unknown(R_dc, why=f"no static/dynamic split: in full contact (the gas against "
                                                       f"the WE filled with metal) {err}")
        R_bulk = _solved(band, system, spec, "R_bulk (the split's reference)", progress).R_ohm
    return ConstrictionSplit(R_dc_ohm=R_dc, R_electrode_ohm=R_bulk, R_bulk_ohm=R_bulk)


def _slab_resistance(band: Band, kind, sigma, spacing) -> float | None:
    """voxels.slab_resistance over the bands: n d / (sigma A) (ohm) where every voxel under
    the top's whole layers of metal has one conductivity sigma > 0; None otherwise."""
    from mpi4py import MPI
    kind, sigma = kind[band.own], sigma[band.own]
    n2 = kind.shape[2]
    metal_layers = ~any_rank(band, ~(kind == METAL).all(axis=(0, 1)))
    top = n2 - int(np.flatnonzero(~metal_layers).max()) - 1 if not metal_layers.all() else n2
    if top == 0 or top == n2 or any_rank(band, np.array([np.any(kind[:, :, :n2 - top] == METAL)]))[0]:
        return None
    below = sigma[:, :, :n2 - top]
    low = band.comm.allreduce(float(below.min()), op=MPI.MIN)
    high = band.comm.allreduce(float(below.max()), op=MPI.MAX)
    if low <= 0 or low != high:
        return None
    return float((n2 - top) * spacing[2] / (low * band.n0 * spacing[0] * kind.shape[1] * spacing[1]))


def _bulk_sigma(band: Band, kind, sigma) -> float:
    """The most common conductivity among the electrolyte voxels of all bands (S/m)."""
    values, counts = np.unique(sigma[band.own][kind[band.own] == ELECTROLYTE], return_counts=True)
    everything = band.comm.allgather((values, counts))
    values = np.concatenate([v for v, _ in everything])
    counts = np.concatenate([c for _, c in everything])
    found, at = np.unique(values, return_inverse=True)
    return float(found[np.argmax(np.bincount(at, counts))]) if found.size else math.nan


def _cell(stage: DCStage) -> Discretised:
    """The Discretised record analyse reads (sizes, the contact area, the transport)."""
    band, shape, kind, sigma, metal, dc = stage.band, stage.shape, stage.kind, stage.sigma, stage.metal, stage.dc
    spacing = tuple(v * UM for v in stage.voxel_um)
    own = band.own
    layers = int(np.count_nonzero(any_rank(band, (kind[own] != METAL).any(axis=(0, 1)))))
    conducting = sigma[own] > 0
    voxel = metal.body[own] < 0  # an unknown of this band's, not a metal body's
    unknown = stage.system.unknown - stage.system.start
    percolating = conducting & voxel & (dc.component[np.where(voxel, unknown, 0)] == dc.we_component)
    we_metal = metal.of_role(WE)
    rows = slice(own.start, own.stop + (1 if band.hi < band.n0 else 0))
    area = total(band, contact_area(we_metal[rows], kind[rows] == ELECTROLYTE, spacing, band.hi - band.lo))
    face = shape[0] * spacing[0] * shape[1] * spacing[1]
    found = transport(dc.R_ohm, layers * spacing[2], face, layers * shape[0] * shape[1],
                      int(total(band, int(np.count_nonzero(conducting)))),
                      int(total(band, int(np.count_nonzero(percolating)))), _bulk_sigma(band, kind, sigma))
    return Discretised(system=Unknowns(stage.system.n_dofs), thickness_m=shape[2] * spacing[2],
                       electrode_area_m2=face, contact_area_m2=area, counter_area_m2=face, elements=math.prod(shape),
                       order=1, split=None, fields=partial(_gathered_fields, stage), transport=lambda R_dc: found,
                       bodies=partial(_body_summaries, band, stage.system))


def _body_summaries(band: Band, system, model, f_Hz: float) -> tuple[BodySummary, ...]:
    """pipeline._bodies over the ranks: every floating metal body's potential at f_Hz (from
    the reduced basis; its unknown on the last rank) and the current through it, the sum of
    the flows A_jb (x_j - x_b) that leave it with a positive real part, from the rows j of
    each rank (A is symmetric: the body's column holds its row)."""
    s = 2j * np.pi * f_Hz
    x = model.potential(f_Hz)
    last = band.size - 1
    bodies = system.bodies
    x_body = band.comm.bcast(x[bodies - system.start] if band.rank == last else None, root=last)
    A = (system.G + s * system.C).tocsc()[:, bodies].tocoo()
    beside = A.row + system.start != bodies[A.col]
    flows = A.data[beside] * (x[A.row[beside]] - x_body[A.col[beside]])
    leaving = np.bincount(A.col[beside], np.where(flows.real > 0, flows, 0).real, bodies.size) + \
        1j * np.bincount(A.col[beside], np.where(flows.real > 0, flows, 0).imag, bodies.size)
    through = band.comm.allreduce(leaving)
    return tuple(BodySummary(frequency_Hz=float(f_Hz), potential_V=float(abs(v)),
                             potential_phase_deg=float(np.degrees(np.angle(v))), current_through_A=float(abs(i)))
                 for v, i in zip(x_body, through))


def _gathered_fields(stage: DCStage, potentials: dict) -> tuple:
    """(GridFields, ContactCurrent) of the whole image on rank 0 (None, None on the others):
    every rank's voxel potentials at each frequency ({f_Hz: this rank's unknowns}), its
    kinds and coefficients gathered, and voxel_fields.py's serial functions on them. Where
    rank 0 could not hold them (FIELDS_BYTES_PER_VOXEL), (None, None) on every rank."""
    band, system, comm = stage.band, stage.system, stage.band.comm
    voxels = math.prod(stage.shape)
    if not _fields_fit(band, voxels):
        return None, None
    last = band.size - 1
    first_body = system.n_dofs - 2 - system.floating
    own = band.own
    phi = {}
    for f, x in potentials.items():  # bodies, WE and CE are the last rank's last unknowns
        tail = comm.bcast(x[first_body - system.start:] if band.rank == last else None, root=last)
        body = system.unknown >= first_body
        values = np.where(body, tail[np.maximum(system.unknown - first_body, 0)],
                          x[np.where(body, 0, system.unknown - system.start)])
        phi[f] = comm.gather(values, root=0)
    metal = stage.metal
    we_metal = metal.of_role(WE)
    parts = [comm.gather(a[own], root=0) for a in (stage.kind, stage.sigma, stage.eps, we_metal)]
    if band.rank != 0:
        return None, None
    kind, sigma, eps, we = (np.concatenate(p) for p in parts)
    grid = VoxelGrid(shape=stage.shape, spacing_m=tuple(v * UM for v in stage.voxel_um),
                     unknown=np.arange(voxels).reshape(stage.shape), sigma=sigma, eps=eps, kind=kind, we_metal=we,
                     floating_bodies=system.floating, n_dofs=voxels)
    whole = {f: np.concatenate(p).ravel() for f, p in phi.items()}
    return grid_fields(grid, whole), grid_contact_current(grid, *lowest(whole))


def _fields_fit(band: Band, voxels: int) -> bool:
    """Whether rank 0 has the memory for the whole image's fields (the same answer on every rank)."""
    return band.comm.bcast(voxels * FIELDS_BYTES_PER_VOXEL < available_bytes() if band.rank == 0 else None, root=0)
