"""Labelled 3D images as geometry: read.py reads and checks the labels, voxels.py
assembles the cell-centred finite volumes, voxel_fields.py writes the solved fields, and
error_bar.py estimates the discretisation error by subdivision."""
