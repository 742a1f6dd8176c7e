"""Can coarser meshes give a Gmsh cell's error bar, as subdivisions give an image's?

    python benchmarks/mesh_error_bar.py

The single spot of specs/single_spot.toml without its gap (a = 5 µm, b = 50 µm, L = 100 µm,
DC only), at mesh.refine 4, 2 and 1 (the default), P2 and P1, against the axisymmetric
reference (tests/axisymmetric.py, converged to 3e-7 between n = 160 and 320). From the three
values: the observed order, Richardson's extrapolation as image/error_bar.py makes it, and
whether its error bar (1.25 |R_ext - R|) holds the reference. Then the second candidate:
every tetrahedron of the run's own mesh split into eight (scikit-fem's `refined()`: h
exactly halved, the same faceted geometry, as an image's subdivision), one DC solve there,
and Richardson from the two levels with an assumed order. Third: the explicit residual
estimator of the energy error (sigma h_F |[d_n u]|² over the interior facets, sigma h_F
|d_n u|² over the insulating walls; the P2 element residual left out), whose sum eta²
stands for the conductance error G_h - G (R_dc is the power at 1 V), without its unknown
constant: the ratio of the real error to eta² is what a calibration would need to hold.
Fourth (`--only cr`): the complementary side. A Crouzeix-Raviart (nonconforming P1) solve on
the same mesh: with no source, its element-wise flux -sigma grad u_CR is the lowest
Raviart-Thomas mixed solution (Marini, 1985): divergence-free, normal-continuous, zero on the
insulating walls, so its energy bounds R from above (Thomson), while the conforming solve
bounds it from below (Dirichlet). [R_P2, R_CR] brackets R_dc of the meshed domain, for about
one more DC solve. Issue 34 asks which estimate brackets reliably and cheaply.
Fifth (`--morphologies`): the error bar runs now carry (solve/bounds.py), on the five
morphologies of issue 34 at the default mesh and a coarse one (refine 2): the P2 value, the
bracket from a constant current in each tetrahedron (the default, RT0 = the CR solve above)
and from a linear one (`--error-estimate`, BDM1), each bar's time against the DC stage and
the whole default run (error bar off), and a reference: the disk spot's axisymmetric one,
else the P2 value at refine 0.5 (a lower bound of the truth: it must lie below each
bracket's upper end).

    python benchmarks/mesh_error_bar.py [--only cr | --morphologies]
"""

import math
import sys
import time
from pathlib import Path

import numpy as np
from skfem import FacetBasis, Functional, InteriorFacetBasis
from skfem.helpers import dot, grad

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from axisymmetric import flux_tube_admittance  # noqa: E402

from constriction import run, spec_from_dict  # noqa: E402
from constriction.geometry.assemble import materials_of, surface_admittance, system_of  # noqa: E402
from constriction.geometry.tagged_mesh import TaggedMesh  # noqa: E402
from constriction.solve.direct import dc_resistance, driven_solve  # noqa: E402
from constriction.solve.fem import assemble  # noqa: E402

SPOT = {"cell": {"shape": "cylinder", "radius_um": 50.0, "thickness_um": 100.0},
        "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}],
        "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
        "sweep": {"kind": "dc"}}
REFINES = (4.0, 2.0, 1.0)


def main():
    reference = 1 / flux_tube_admittance(np.array([0.0]), 5e-6, 50e-6, 100e-6, 0.1, 10.0, n=320)[0].real
    print(f"axisymmetric reference R_dc = {reference:.7e} ohm")
    print("| order | refine | elements | R_dc / ohm | error | seconds |")
    print("|---|---|---|---|---|---|")
    for order in (2, 1):
        values = []
        for refine in REFINES:
            spec = spec_from_dict({**SPOT, "mesh": {"size_um": 10.0, "refine": refine, "order": order}})
            t0 = time.perf_counter()
            summary = run(spec, progress=False).summary
            values.append(summary.R_dc_ohm)
            print(f"| P{order} | {refine:g} | {summary.elements:,} | {values[-1]:.6e} | "
                  f"{100 * (values[-1] / reference - 1):+.3f} % | {time.perf_counter() - t0:.1f} |", flush=True)
        d1, d2 = values[1] - values[0], values[2] - values[1]
        order_seen = math.log2(d1 / d2) if d1 * d2 > 0 else math.nan
        extrapolated = values[2] + d2 / (2**order_seen - 1)
        bar = 1.25 * abs(extrapolated - values[2])
        print(f"P{order}: observed order {order_seen:.2f}, extrapolated {100 * (extrapolated / reference - 1):+.3f} %, "
              f"error bar {100 * bar / reference:.3f} % against a real error of "
              f"{100 * (values[2] / reference - 1):+.3f} %: {'holds' if bar >= abs(values[2] - reference) else 'MISSES'}")


def by_subdivision(reference: float):
    print("\n| order | refine | elements | R_dc | subdivided once | bar, order 1 assumed | bar, order 2 | DC s | subdivided s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for order, refine in ((2, 1.0), (2, 2.0), (1, 1.0)):
        spec = spec_from_dict({**SPOT, "mesh": {"size_um": 10.0, "refine": refine, "order": order}}).at()
        tm, system = system_of(spec)
        t0 = time.perf_counter()
        R = dc_resistance(system)[0]
        t1 = time.perf_counter()
        fine = assemble(tm.refined(), materials_of(spec), order, surface_admittance(spec))
        R_fine = dc_resistance(fine)[0]
        t2 = time.perf_counter()
        bars = [1.25 * abs(R_fine + (R_fine - R) / (2**p - 1) - R) for p in (1.0, 2.0)]
        verdict = ["holds" if bar >= abs(R - reference) else "MISSES" for bar in bars]
        print(f"| P{order} | {refine:g} | {tm.n_elements:,} | {100 * (R / reference - 1):+.4f} % | "
              f"{100 * (R_fine / reference - 1):+.4f} % | {100 * bars[0] / reference:.4f} % ({verdict[0]}) | "
              f"{100 * bars[1] / reference:.4f} % ({verdict[1]}) | {t1 - t0:.1f} | {t2 - t1:.1f} |", flush=True)


@Functional
def facet_jump(w):
    return w.h * (dot(grad(w["u1"]), w.n) - dot(grad(w["u2"]), w.n)) ** 2


@Functional
def wall_flux(w):
    return w.h * dot(grad(w["u"]), w.n) ** 2


def by_residual(reference: float):
    sigma = SPOT["materials"]["electrolyte"]["sigma_S_per_m"]
    print("\n| order | refine | elements | (G_h - G) / G | eta² / G_h | ratio |")
    print("|---|---|---|---|---|---|")
    for order in (2, 1):
        for refine in REFINES:
            spec = spec_from_dict({**SPOT, "mesh": {"size_um": 10.0, "refine": refine, "order": order}}).at()
            tm, system = system_of(spec)
            G_h, _, x = driven_solve(system.G, system.we, system.ce, system.interior, "auto", 1e-12)
            m, e = system.basis.mesh, system.basis.elem
            sides = [InteriorFacetBasis(m, e, side=k) for k in (0, 1)]
            jumps = facet_jump.elemental(sides[0], u1=sides[0].interpolate(x), u2=sides[1].interpolate(x)).sum()
            electrodes = np.concatenate([tm.boundaries.get(k, np.array([], int)) for k in ("we", "ce", "contacts")])
            walls = FacetBasis(m, e, facets=np.setdiff1d(m.boundary_facets(), electrodes.astype(int)))
            eta2 = sigma * (jumps + wall_flux.elemental(walls, u=walls.interpolate(x)).sum())
            real = (G_h.real - 1 / reference) / G_h.real
            print(f"| P{order} | {refine:g} | {tm.n_elements:,} | {real:.3e} | {eta2 / G_h.real:.3e} | "
                  f"{real * G_h.real / eta2:.3f} |", flush=True)


def crouzeix_raviart_resistance(tm: TaggedMesh, materials) -> float:
    """R_dc (ohm) of the nonconforming P1 solve on the mesh's straight tetrahedra (one dof a
    facet; the electrodes' facets held): Thomson's upper bound. The runs' own: the mixed
    form at flux degree 0 is this system (solve/mixed.py)."""
    return dc_resistance(assemble(tm, materials, flux_degree=0))[0]


def by_crouzeix_raviart(reference: float):
    print("\n| refine | elements | P1 | P2 (lower bound) | CR (upper bound) | bracket width | holds | P2 DC s | CR s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for refine in REFINES[1:] + (0.6,):
        values, seconds = {}, {}
        for order in (1, 2):
            spec = spec_from_dict({**SPOT, "mesh": {"size_um": 10.0, "refine": refine, "order": order}}).at()
            tm, system = system_of(spec)
            t0 = time.perf_counter()
            values[order] = dc_resistance(system)[0]
            seconds[order] = time.perf_counter() - t0
        t0 = time.perf_counter()
        upper = crouzeix_raviart_resistance(tm, materials_of(spec))
        seconds["cr"] = time.perf_counter() - t0  # assembly included
        error = {k: 100 * (v / reference - 1) for k, v in values.items()}
        holds = values[2] <= reference <= upper
        print(f"| {refine:g} | {tm.n_elements:,} | {error[1]:+.3f} % | {error[2]:+.4f} % | "
              f"{100 * (upper / reference - 1):+.3f} % | {100 * (upper - values[2]) / reference:.3f} % | "
              f"{'yes' if holds else 'NO'} | {seconds[2]:.1f} | {seconds['cr']:.1f} |", flush=True)


CYLINDER = {"shape": "cylinder", "radius_um": 50.0, "thickness_um": 100.0}
ELECTROLYTE = {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}}
MORPHOLOGIES = {
    "disk spot": {"cell": CYLINDER, "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}]},
    "pixel-map square": {"cell": {"shape": "box", "side_um": 24.0, "thickness_um": 24.0},
                         "layout": {"kind": "image", "pixels": [[1]], "pixel_um": 8.0}, "gap": {"height_um": 0.5}},
    "square array": {"cell": CYLINDER, "layout": {"kind": "square", "period_um": 30.0, "radius_um": 4.0},
                     "gap": {"height_um": 0.5}},
    "lens pore": {"cell": CYLINDER, "pores": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 20.0, "height_um": 3.0,
                                               "shape": "lens"}]},
    "floating metal sphere": {"cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
                              "inclusions": [{"shape": "sphere", "centre_um": [2.0, 0.0, 10.0], "radius_um": 4.0,
                                              "material": "metal"}]},
}


def by_morphology(disk_reference: float):
    print("\n| morphology | refine | elements | P2 R_dc | reference | RT0 bracket | BDM1 bracket | DC stage | "
          "RT0 bar | BDM1 bar | default run (no bar) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, tables in MORPHOLOGIES.items():
        base = {**tables, "materials": ELECTROLYTE}
        fine = None
        if name != "disk spot":
            fine = run(spec_from_dict({**base, "mesh": {"refine": 0.5}, "sweep": {"kind": "dc"}}), progress=False,
                       error_estimate="never").summary.R_dc_ohm
        reference = disk_reference if fine is None else fine
        for refine in (1.0, 2.0):
            spec = spec_from_dict({**base, "mesh": {"refine": refine}, "sweep": {"kind": "dc"}})
            bars = {}
            for policy in ("auto", "always"):
                summary = run(spec, progress=False, error_estimate=policy).summary
                bars[policy] = (summary.discretisation.R_dc_bracket, summary.seconds["error_estimate"])
            t0 = time.perf_counter()
            run(spec_from_dict({**base, "mesh": {"refine": refine}, "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9}}),
                progress=False, error_estimate="never")
            whole = time.perf_counter() - t0

            def pct(v):
                return f"{100 * (v / reference - 1):+.3f} %"
            dc = summary.seconds["dc"]
            (b0, t_0), (b1, t_1) = bars["auto"], bars["always"]
            print(f"| {name} | {refine:g} | {summary.elements:,} | {pct(summary.R_dc_ohm)} | "
                  f"{'axisymmetric' if fine is None else 'P2 at refine 0.5'} | [{pct(b0.lower_ohm)}, "
                  f"{pct(b0.upper_ohm)}] | [{pct(b1.lower_ohm)}, {pct(b1.upper_ohm)}] | {dc:.1f} s | "
                  f"{t_0:.1f} s ({t_0 / dc:.1f}x) | {t_1:.1f} s ({t_1 / dc:.1f}x) | {whole:.1f} s |", flush=True)


if __name__ == "__main__":
    reference = 1 / flux_tube_admittance(np.array([0.0]), 5e-6, 50e-6, 100e-6, 0.1, 10.0, n=320)[0].real
    if sys.argv[1:] == ["--morphologies"]:
        by_morphology(reference)
    elif sys.argv[1:] == ["--only", "cr"]:
        by_crouzeix_raviart(reference)
    else:
        main()
        by_subdivision(reference)
        by_residual(reference)
        by_crouzeix_raviart(reference)
