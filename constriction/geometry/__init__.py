"""The Gmsh cell: a pellet or periodic unit cell, its electrode, contact spots, gaps,
pores, voids, inclusions, grains and rims (cell.py builds it), and what the solved cell
writes (mesh_fields.py)."""
