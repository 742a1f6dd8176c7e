"""What a user chooses between: names only, importable without numpy, so that the
command line can describe itself before it computes."""

SWEEPS = ("reduced", "direct")                   # pipeline.py
BACKENDS = ("auto", "superlu", "pardiso", "amg", "petsc")  # solve/linalg.py; petsc: parallel/ (MPI)
ERROR_ESTIMATES = ("auto", "always", "never")    # image/error_bar.py
PLOTS = {"nyquist": "nyquist.png", "bode": "bode.png", "drt": "drt.png",
         "equipotentials": "equipotentials.png", "current": "current.png"}  # pipeline.py: kind -> file
