"""An image solved over MPI ranks with PETSc (`--backend petsc`, under mpiexec).

Each rank reads its band of the image's rows from the file (bands.py), assembles the
rows of G and C it owns (grid.py); PETSc's CG with algebraic multigrid solves the DC
problems over all ranks (dc.py) and the reduced sweep runs solve/reduced.py's algorithm
on distributed vectors (sweep.py); run.py gathers the numbers a serial run reports, and
rank 0 writes the result folder. No rank holds the whole image."""
