"""A small parameter study (spot radius x gap height) on Dask, and a lookup table from it.

    python examples/study_table.py         # writes the study to study_table/ and table.nc here
"""
from constriction import study_from_dict
from constriction.parametric.study import run_study
from constriction.parametric.table import build_table

study = study_from_dict({
    "study": {"name": "spots", "outputs": ["R_dc_ohm", "R_cstr_ohm", "C_cstr_F"]},
    "base": {"cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
             "contacts": [{"x_um": 0.0, "y_um": 0.0, "radius_um": 4.0}], "gap": {"height_um": 0.4},
             "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
             "sweep": {"f_min_Hz": 1e2, "f_max_Hz": 1e10, "points_per_decade": 4},
             "mesh": {"order": 1, "size_um": 4.0}},
    "axes": [{"name": "radius_over_side", "key": "contacts[0].radius_um", "per": "cell.side_um", "values": [0.15, 0.25]},
             {"name": "gap_over_radius", "key": "gap.height_um", "per": "contacts[0].radius_um", "values": [0.05, 0.1]}],
})
results = run_study(study, "study_table", serial=True)   # drop serial=True for a local Dask cluster
print(results["R_cstr_ohm"].to_dataframe())              # labelled by the axes, with units in attrs

table = build_table(results)
table.save("table.nc")
value = table(radius_over_side=0.2, gap_over_radius=0.07)
print(f"interpolated: R_cstr {value.parameters['R_cstr_ohm']:.4g} ohm, C_cstr {value.parameters['C_cstr_F']:.3g} F")
