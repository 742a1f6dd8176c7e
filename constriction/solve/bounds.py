"""An error bar for a mesh's result (a Gmsh cell or the user's mesh), from its own tetrahedra.

R_dc is the power at 1 V, and two principles bound it on the meshed cell (its straight
tetrahedra, its materials, contacts and grain boundaries):

- Dirichlet's: any potential that meets the electrodes' values dissipates at least the
  true power. The conforming solve (P1 or P2) is such a potential, so its R_dc is a lower
  bound, rising under refinement.
- Thomson's: any current field that is divergence-free, crosses every interface with a
  continuous normal flux and none through the insulating walls dissipates at least the
  true power per current squared. A Crouzeix-Raviart solve on the same tetrahedra (a dof
  a facet, its mean value; every facet form by the facet's mean) gives one: its flux
  -sigma grad u is constant in each tetrahedron, and its equation at each facet says that
  the normal fluxes on either side balance (with the contacts' and grain boundaries'
  terms in the flux's energy). It is the lowest Raviart-Thomas mixed solution (Marini,
  1985), and its R_dc is exactly that flux's energy: an upper bound.

So [R_P, R_CR] holds the meshed cell's R_dc for one more DC solve (a CR system has a dof a
facet, about twice the tetrahedra, seven entries a row). Measured on the disk spot
(benchmarks/README.md): it holds the axisymmetric reference at every refinement, but the
upper side is first order: the bracket is 13-32x the P2 value's real error. Guaranteed,
not tight. R_inf's bracket the same with the gas shorted; R_cstr's from R_dc's and the
split reference's (`reference`: exact where that is a slab, else its own bracket).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from constriction.io.summary import Bracket, Discretisation
from constriction.progress import say
from constriction.solve.direct import dc_resistance


def method(order: int) -> str:
    """What a mesh's Discretisation says it is."""
    return (f"P{order} finite elements (Dirichlet: a lower bound) and Crouzeix-Raviart on the same tetrahedra "
            f"(Thomson: an upper bound)")


def mesh_discretisation(nonconforming: Callable, reference: Callable | None, name: str, cell, values,
                        policy: str, backend: str, progress: bool, potentials=None) -> Discretisation:
    """The discretisation record of a mesh: the brackets of R_dc, R_inf and R_cstr unless
    the policy is "never" ("always" adds nothing for a mesh: no Richardson levels).

    nonconforming() -> the cell's Crouzeix-Raviart System on the same tetrahedra;
    reference(R_bulk, backend) -> (lower, upper) of the split's reference, or None where
    there is none; values: (R_dc, R_inf, R_bulk or None) of the conforming solve (ohm).
    `potentials` (the DC solve's) are not needed here: the signature is the image's."""
    record = Discretisation(method=method(cell.order))
    if policy == "never":
        return replace(record, note="not computed (switched off)")
    R_dc, R_inf, R_bulk = values
    if not math.isfinite(R_dc):
        return replace(record, note="no bracket: nothing conducts at DC")
    say(f"{name}: error bar, Thomson's upper bound (Crouzeix-Raviart on the same {cell.elements:,} tetrahedra)",
        progress)
    system = nonconforming()
    upper = dc_resistance(system, backend=backend)[0]
    found = {"R_dc": Bracket.around(R_dc, R_dc, upper)}
    found["R_inf"] = found["R_dc"] if R_inf == R_dc else Bracket.around(
        R_inf, R_inf, dc_resistance(system, short_gaps=True, backend=backend)[0])
    notes = []
    if not math.isfinite(upper):
        notes.append("the upper bound is infinite: the current passes an edge or a corner only (no area)")
    if R_bulk is not None and R_bulk == R_dc:  # the reference is the cell itself
        found["R_cstr"] = Bracket.around(0.0, 0.0, 0.0)
    elif R_bulk is not None and reference is not None:
        lower, above = reference(R_bulk, backend)
        found["R_cstr"] = Bracket.around(R_dc - R_bulk, R_dc - above, upper - lower)
    return replace(record, note="; ".join(notes), **{f"{key}_bracket": b for key, b in found.items()})
