"""`run(spec)`: the whole pipeline for one cell, and writing its result to a folder.

spec -> Gmsh mesh -> TaggedMesh -> System (G, C) -> DC solves and sweep -> Spectrum.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .fem import assemble
from .geometry import build_mesh
from .mesh import UM, tagged_mesh
from .plot import nyquist
from .spec import Material, Spec
from .spectrum import Spectrum
from .linalg import choose_backend
from .reduced import reduce
from .sweep import dc_resistance, sweep_direct

SWEEPS = ("reduced", "direct")


@dataclass(frozen=True)
class Result:
    spec: Spec
    spectrum: Spectrum
    summary: dict = field(default_factory=dict)


def materials_of(spec: Spec) -> dict[str, Material]:
    """Region name -> Material: the electrolyte, and the gap (sigma = 0) if there is one."""
    materials = {"electrolyte": spec.electrolyte}
    if spec.has_gap:
        materials["gap"] = Material(sigma_S_per_m=0.0, eps_r=spec.gap.eps_r)
    return materials


def run(spec: Spec, sweep: str = "reduced", backend: str = "auto", tol: float = 1e-6,
        progress: bool = True) -> Result:
    """Mesh, assemble and sweep the cell described by `spec`.

    sweep: "reduced" (default; reduced-order model to relative tolerance `tol`) or
    "direct" (the reference: one complex factorisation per frequency).
    backend: sparse solver for the real solves (see linalg.py)."""
    if sweep not in SWEEPS:
        raise ValueError(f"unknown sweep {sweep!r} (choose from {', '.join(SWEEPS)})")
    say = (lambda message: print(message, file=sys.stderr, flush=True)) if progress else (lambda _: None)
    clock = {}
    say(f"{spec.name}: meshing (Gmsh)")
    t0 = time.perf_counter()
    tm = tagged_mesh(build_mesh(spec))
    clock["mesh"] = time.perf_counter() - t0

    say(f"{spec.name}: assembling P{spec.mesh.order} on {tm.n_elements} elements")
    t0 = time.perf_counter()
    system = assemble(tm, materials_of(spec), spec.mesh.order)
    clock["assemble"] = time.perf_counter() - t0

    say(f"{spec.name}: DC solves, {system.n_dofs} unknowns")
    t0 = time.perf_counter()
    R_dc, dc_check = dc_resistance(system, backend=backend)
    R_inf, _ = dc_resistance(system, short_gaps=True, backend=backend)
    clock["dc"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    f = spec.frequencies_Hz()
    if sweep == "reduced":
        model = reduce(system, f[0], f[-1], tol=tol, backend=backend, progress=progress)
        Z, mismatch = model.impedance(f), model.conservation
        sweep_info = {"kind": "reduced",
                      "backend": choose_backend(backend, False, len(system.interior)),
                      "n_shifts": len(model.shifts_Hz), "order": model.order,
                      "estimated_error": model.estimated_error, "tolerance": tol}
    else:
        admittance = sweep_direct(system, f, progress=progress)
        Z, mismatch = 1.0 / admittance.Y_S, float(admittance.conservation.max())
        sweep_info = {"kind": "direct", "backend": "superlu"}
    spectrum = Spectrum(frequency_Hz=f, Z_ohm=Z)
    clock["sweep"] = time.perf_counter() - t0

    summary = {
        "name": spec.name,
        "R_dc_ohm": R_dc if math.isfinite(R_dc) else None,
        "R_inf_ohm": R_inf,
        "area_um2": spec.electrode_area_um2,
        "contact_area_um2": spec.contact_area_um2,
        "meshed_ce_area_um2": tm.facet_area_m2("ce") / UM**2,
        "dofs": int(system.n_dofs),
        "elements": int(tm.n_elements),
        "order": spec.mesh.order,
        "conservation": {
            "dc_relative_mismatch": dc_check,
            "sweep_max_relative_mismatch": mismatch,
        },
        "passive": bool(np.all(spectrum.Z_ohm.real >= 0) and np.all(spectrum.Z_ohm.imag <= 0)),
        "sweep": {**sweep_info, "n_frequencies": len(f),
                  "f_min_Hz": float(f[0]), "f_max_Hz": float(f[-1])},
        "seconds": clock,
    }
    return Result(spec=spec, spectrum=spectrum, summary=summary)


def write_result(result: Result, out_dir: str | Path) -> dict[str, Path]:
    """Write spectrum.csv, summary.json and nyquist.png into `out_dir`, all or nothing:
    files go to a temporary folder beside it that is renamed into place at the end."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        result.spectrum.to_csv(tmp / "spectrum.csv")
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
        nyquist(result.spectrum, tmp / "nyquist.png", title=result.spec.name)
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {name: out_dir / name for name in ("spectrum.csv", "summary.json", "nyquist.png")}


def _replace_dir(new: Path, target: Path) -> None:
    """Put folder `new` at `target`, replacing an older result there."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)
