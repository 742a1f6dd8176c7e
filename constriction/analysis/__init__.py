"""From solutions to what the user reads: the Spectrum (spectrum.py), arcs and DRT
(arcs.py), the static/dynamic split (split.py), reference electrodes (probes.py), measured
against simulated (compare.py) and the plots (plot.py)."""
