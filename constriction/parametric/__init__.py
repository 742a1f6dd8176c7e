"""Many cells at once: parameter studies on Dask (study.py), lookup tables (table.py) and
fitting measured spectra against a table (fit.py)."""
