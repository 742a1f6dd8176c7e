"""The user's own tetrahedral mesh (any file meshio reads) as geometry: read.py."""
