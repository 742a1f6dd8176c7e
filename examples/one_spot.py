"""One contact spot under a gap, from a spec in Python to a Nyquist plot.

    python examples/one_spot.py            # writes one_spot.png here
"""
import matplotlib.pyplot as plt

from constriction import run, spec_from_dict

spec = spec_from_dict({
    "cell": {"shape": "cylinder", "radius_um": 20.0, "thickness_um": 20.0},   # electrolyte, CE below
    "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 4.0}],                # where the metal touches
    "gap": {"height_um": 0.2},                                                 # gas elsewhere under it
    "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
    "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e10, "points_per_decade": 10},
    "mesh": {"order": 1, "size_um": 4.0},
}, name="one spot")
result = run(spec)

c = result.summary.constriction
print(f"R_dc {result.summary.R_dc_ohm:.4g} ohm, R_cstr {c.R_cstr_ohm:.4g} ohm, C_cstr {c.arc.C_cstr_F:.3g} F")
fig, ax = plt.subplots()
result.spectrum.nyquist(ax=ax, title="one spot under a 0.2 µm gap")
fig.savefig("one_spot.png", dpi=120)
