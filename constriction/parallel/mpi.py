"""Whether this Python can run the PETSc backend, and how to get it where it cannot."""

from __future__ import annotations

import importlib.util

INSTALL = ("the petsc backend needs petsc4py and mpi4py: on Debian or Ubuntu, `apt-get install "
           "python3-petsc4py-real python3-mpi4py`, then a venv made by the system's python3 with "
           "--system-site-packages and PETSC_DIR=/usr/lib/petscdir/petsc3.18/x86_64-linux-gnu-real "
           "(README.md, \"Images past one machine\"); or conda-forge's petsc4py and mpi4py")


def petsc_installed() -> bool:
    """petsc4py and mpi4py are found (not imported: importing petsc4py initialises PETSc)."""
    return all(importlib.util.find_spec(name) is not None for name in ("petsc4py", "mpi4py"))


def world():
    """(PETSc, the MPI world communicator) once petsc4py is initialised; ImportError, with
    INSTALL, where either package is missing."""
    if not petsc_installed():
        raise ImportError(INSTALL)
    import petsc4py
    petsc4py.init()
    from petsc4py import PETSc
    from mpi4py import MPI
    return PETSc, MPI.COMM_WORLD
