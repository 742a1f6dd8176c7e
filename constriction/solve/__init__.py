"""From an assembled pencil G + sC to numbers: fem.py assembles tetrahedral meshes,
linalg.py factorises and solves, direct.py does the DC and frequency-by-frequency solves,
reduced.py the reduced-order sweep."""
