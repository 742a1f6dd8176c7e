"""An image solved over MPI ranks with PETSc (`--backend petsc`, under mpiexec).

Each rank reads its band of the image's rows from the file (bands.py), assembles the
rows of G it owns (grid.py) and PETSc's CG with algebraic multigrid solves the DC
problems over all ranks (dc.py); run.py gathers the numbers a serial run reports, and
rank 0 writes the result folder. No rank holds the whole image."""
