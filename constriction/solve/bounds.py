"""An error bar for a mesh's result (a Gmsh cell or the user's mesh), from its own tetrahedra.

R_dc is the power at 1 V, and two principles bound it on the meshed cell (its straight
tetrahedra, its materials, contacts and grain boundaries):

- Dirichlet's: any potential that meets the electrodes' values dissipates at least the
  true power. The conforming solve (P1 or P2) is such a potential, so its R_dc is a lower
  bound, rising under refinement.
- Thomson's: any current field that is divergence-free, crosses every interface with a
  continuous normal flux and none through the insulating walls dissipates at least the
  true power per current squared. The mixed solve on the same tetrahedra (solve/mixed.py:
  the current density hybridised onto the faces) gives one, and its R_dc is exactly that
  field's energy: an upper bound.

So [R_P, R_mixed] holds the meshed cell's R_dc, guaranteed for the meshed geometry (its
straight tetrahedra: a curved wall's facets are what both solves see). Two flux degrees,
measured on the disk spot at the default mesh (benchmarks/README.md), P2 at -0.082 %:

- degree 0 (policy "auto"): the current constant in each tetrahedron (Crouzeix-Raviart's
  flux, a dof a face): +1.9 %, for about 1.5 DC solves. First order: a bracket 10-30x the
  P2 value's real error, which says how far the value can be, not how far it is.
- degree 1 (policy "always", `--error-estimate`): the current linear in each tetrahedron
  (BDM1, three dofs a face): +0.097 %, second order like P2, for about 10 DC solves (its
  system has four times the unknowns and AMG takes 160 iterations on it).

R_inf's bracket the same with the gas shorted; R_cstr's from R_dc's and the split
reference's (`reference`: exact where that is a slab, else its own bracket).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from skfem import Basis

from constriction.io.summary import Bracket, Discretisation
from constriction.memory import available_bytes, gib, mesh_run_bytes
from constriction.progress import say
from constriction.solve.direct import dc_resistance
from constriction.solve.fem import CHUNK, System
from constriction.solve.mixed import current_density


FLUX_DEGREE = {"auto": 0, "always": 1}  # the error-estimate policy's flux degree
# the mixed face system's memory per tetrahedron, estimated from its entries (about 14 a
# tetrahedron at degree 0, 126 at degree 1, 12 B each) with AMG's hierarchy and CG's vectors
MIXED_BYTES_PER_ELEMENT = {0: 500, 1: 4000}


def mixed_bytes(elements: int, flux_degree: int) -> int:
    """Memory of the mixed solve on that many tetrahedra at that flux degree (bytes)."""
    return elements * MIXED_BYTES_PER_ELEMENT[flux_degree]


def mixed_fits(elements: int, order: int, flux_degree: int, budget: int) -> bool:
    """Whether a run on that many tetrahedra of that order and its mixed solve at that flux
    degree fit together in `budget` (bytes)."""
    return mesh_run_bytes(elements, order) + mixed_bytes(elements, flux_degree) <= budget


def method(order: int, flux_degree: int) -> str:
    """What a mesh's Discretisation says it is."""
    flux = "constant (RT0)" if flux_degree == 0 else "linear (BDM1)"
    return (f"P{order} finite elements (Dirichlet: a lower bound) and the mixed form on the same tetrahedra, "
            f"current {flux} in each (Thomson: an upper bound)")


def mesh_discretisation(dual: Callable, reference: Callable | None, name: str, geometry: str, cell, values,
                        policy: str, backend: str, progress: bool, potentials=None, adapted=None,
                        budget: int | None = None) -> Discretisation:
    """The discretisation record of a mesh: the brackets of R_dc, R_inf and R_cstr, from
    the mixed solve of the policy's flux degree (FLUX_DEGREE), none for "never".

    dual(flux_degree) -> the cell's mixed System on the same tetrahedra (solve/mixed.py);
    reference(R_bulk, flux_degree, backend) -> (lower, upper) of the split's reference, or
    None where there is none; geometry: what the meshed geometry lacks of the spec's, for the
    note ("" where nothing); values: (R_dc, R_inf, R_bulk or None) of the conforming solve
    (ohm). `potentials` (the DC solve's) are not needed here: the signature is the image's.
    `adapted` (geometry/adapt.py's Adapted, of a [mesh] tolerance): its last mesh's R_dc
    bracket is known, at its flux degree whatever the policy; "never" then skips the others.
    `budget` (bytes; default: the memory available here): where the linear current's system
    does not fit in it beside the run (as adapt.py counts), the constant one's instead."""
    R_dc, R_inf, R_bulk = values
    if adapted is not None and adapted.steps:
        record = Discretisation(method=method(cell.order, adapted.flux_degree), tolerance=adapted.tolerance,
                                mesh_steps=adapted.steps, R_dc_bracket=Bracket.around(R_dc, R_dc, adapted.upper_ohm))
        if policy == "never":
            return replace(record, note=f"{adapted.note}; R_inf and R_cstr not bracketed (switched off)")
        return _brackets(dual, reference, name, geometry, cell, values, adapted.flux_degree, backend, progress,
                         [adapted.note], record)
    short = [] if adapted is None else [adapted.note]  # not one mesh solved: too large, or no DC path
    tolerance = None if adapted is None else adapted.tolerance
    if policy == "never":
        return Discretisation(method=f"P{cell.order} finite elements", tolerance=tolerance,
                              note="; ".join(short + ["not computed (switched off)"]))
    degree, notes = FLUX_DEGREE[policy], short
    budget = available_bytes() if budget is None else budget
    if degree == 1 and not mixed_fits(cell.elements, cell.order, 1, budget):
        degree = 0
        notes.append(f"the linear current's system (about {gib(mixed_bytes(cell.elements, 1))}) does not fit "
                     f"beside the run in its memory budget of {gib(budget)}: the constant one instead")
    if policy == "auto":
        notes.append("the upper end is first order: --error-estimate (a current linear in each tetrahedron) "
                     "brings it to second order, for about ten DC solves")
    return _brackets(dual, reference, name, geometry, cell, values, degree, backend, progress, notes,
                     Discretisation(method=method(cell.order, degree), tolerance=tolerance))


def _brackets(dual, reference, name, geometry, cell, values, degree, backend, progress, notes,
              record: Discretisation) -> Discretisation:
    """The record with the brackets of R_dc (unless it has it), R_inf, R_arc and R_cstr
    from the mixed solves at `degree`, and the notes."""
    R_dc, R_inf, R_bulk = values
    if not math.isfinite(R_inf):
        return replace(record, note="; ".join(notes + ["no bracket: nothing conducts at DC, nor with the gas "
                                                       "shorted"]))
    say(f"{name}: error bar, Thomson's upper bound (the mixed form, flux degree {degree}, on the same "
        f"{cell.elements:,} tetrahedra)", progress)
    system = dual(degree)
    notes = ([geometry] if geometry else []) + notes
    found = {"R_dc": record.R_dc_bracket} if record.R_dc_bracket is not None else {}
    if math.isfinite(R_dc) and "R_dc" not in found:
        upper = dc_resistance(system, backend=backend)[0]
        found["R_dc"] = Bracket.around(R_dc, R_dc, upper)
        if not math.isfinite(upper):
            notes.append("the upper bound is infinite: the current passes an edge or a corner only (no area)")
    elif not math.isfinite(R_dc):
        notes.append("R_dc not bracketed: nothing conducts at DC")
    found["R_inf"] = found["R_dc"] if R_inf == R_dc else Bracket.around(
        R_inf, R_inf, dc_resistance(system, short_gaps=True, backend=backend)[0])
    if "R_dc" in found and R_inf != R_dc:  # the arc's R, R_dc - R_inf
        found["R_arc"] = found["R_dc"].minus(found["R_inf"], R_dc - R_inf)
    if R_bulk is not None and R_bulk == R_dc:  # the reference is the cell itself
        found["R_cstr"] = Bracket.around(0.0, 0.0, 0.0)
    elif R_bulk is not None and reference is not None and math.isfinite(R_dc):
        lower, above = reference(R_bulk, degree, backend)
        found["R_cstr"] = Bracket.around(R_dc - R_bulk, R_dc - above, found["R_dc"].upper_ohm - lower)
    return replace(record, note="; ".join(notes), **{f"{key}_bracket": b for key, b in found.items()})


def hypercircle(system: System, dual: System, x: np.ndarray, y: np.ndarray,
                conducting: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """Where the bracket's width lives: per tetrahedron, int_K sigma |grad u + J / sigma|²
    (S, at 1 V) of the conforming potential u (the unknowns x of `system`) and the mixed
    current J (the unknowns y of `dual`, its mixed System of either flux degree). Prager
    and Synge: over the cell it sums to 1/R_conforming - 1/R_mixed, the bracket's width in conductance (less
    a contact's or a grain boundary's share, which lives on faces). conducting: (elements,
    sigma in S/m) of each region that conducts; the others get 0."""
    basis, faces = system.basis, dual.basis
    u, lam = system.on_dofs(x)[:basis.N], dual.on_dofs(y)[:faces.N]
    width = np.zeros(basis.mesh.t.shape[1])
    for elements, sigma in conducting:
        for start in range(0, len(elements), CHUNK):
            part = elements[start:start + CHUNK]
            at = Basis(basis.mesh, basis.elem, elements=part, intorder=2)  # |linear|²: degree 2 is exact
            barycentric = np.vstack([1 - at.X.sum(axis=0), at.X])       # (vertex, point)
            J = np.einsum("nvj,vq->jnq", current_density(faces, part, sigma, lam), barycentric)
            width[part] = sigma * np.einsum("jnq,nq->n", (at.interpolate(u).grad + J / sigma) ** 2, at.dx)
    return width
