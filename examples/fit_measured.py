"""A measured instrument file: its Kramers-Kronig check, its arcs and its DRT.

    python examples/fit_measured.py [FILE]   # default: a ZView file of two arcs; writes fit_measured.png here
"""
import sys
from pathlib import Path

import matplotlib.pyplot as plt

from constriction.analysis.arcs import fit_arcs, regularised_drt
from constriction.io.measured import kramers_kronig, read_spectrum
from constriction.analysis.spectrum import Spectrum

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "tests" / "data" / "Circuit2_EIS_2.z"
measured = read_spectrum(path)                  # any supported instrument format; errors name file and line
print(f"{path.name}: {len(measured.frequency_Hz)} points, KK max residual {kramers_kronig(measured).max_residual:.2%}")

arcs = fit_arcs(measured, n_arcs=2)             # R_inf - (R1 || C1) - (R2 || C2)
for arc in arcs.arcs:
    print(f"arc: R {arc.R_ohm:.4g} ohm, C {arc.C_F:.3g} F, apex {arc.f_apex_Hz:.3g} Hz")
drt = regularised_drt(measured)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
measured.nyquist(ax=left, label="measured")
Spectrum(measured.frequency_Hz, arcs.impedance(measured.frequency_Hz)).nyquist(ax=left, label="two arcs")
left.legend()
right.semilogx(drt.tau_s, drt.R_ohm, "-")
right.set(xlabel="τ / s", ylabel="R / Ω", title="regularised DRT")
fig.savefig("fit_measured.png", dpi=120)
