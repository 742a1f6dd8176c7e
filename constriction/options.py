"""What a user chooses between, and the default size limits: names only, importable
without numpy, so that the command line can describe itself before it computes."""

SWEEPS = ("reduced", "direct")                   # pipeline.py
BACKENDS = ("auto", "superlu", "pardiso", "amg")  # linalg.py
PLOTS = {"nyquist": "nyquist.png", "bode": "bode.png", "drt": "drt.png",
         "equipotentials": "equipotentials.png", "current": "current.png"}  # pipeline.py: kind -> file

MAX_ELEMENTS = 400_000  # about 6e5 P2 unknowns: what a 24 GiB machine meshes and solves
MAX_VOXELS = 256**3     # about 16 GiB at 1 KiB per voxel (benchmarks/README.md)
