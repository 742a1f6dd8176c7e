"""Reading a band of rows of an image (what each MPI rank reads) gives the rows of the
whole image as read_labels turns, crops, coarsens and subdivides it."""

import numpy as np
import pytest
import tifffile

from constriction.image.read import read_labels, read_rows, solved_shape
from constriction import spec_from_dict


def spec(path, **image):
    return spec_from_dict({"image": {"path": str(path), "voxel_um": [1.0, 2.0, 3.0],
                                     "labels": {str(v): f"p{v}" for v in range(4)}, **image},
                           "phases": {f"p{v}": {"kind": "electrolyte", "sigma_S_per_m": 1.0 + v, "eps_r": 5.0}
                                      for v in range(3)} | {"p3": {"kind": "metal"}},
                           "sweep": {"kind": "dc"}}, name="rows")


@pytest.mark.parametrize("suffix", [".npy", ".tif"])
@pytest.mark.parametrize("face", ["+z", "-z", "+y", "-x"])
@pytest.mark.parametrize("image", [{}, {"coarsen": 2}, {"subdivide": 3}, {"crop": {"x": [1, 8], "z": [2, 11]}},
                                   {"crop": {"y": [1, 9]}, "coarsen": 2, "subdivide": 2}])
def test_rows_are_the_whole_images_rows(tmp_path, suffix, face, image):
    zyx = np.random.default_rng(1).integers(0, 4, size=(12, 10, 9), dtype=np.uint8)
    path = tmp_path / f"a{suffix}"
    np.save(path, zyx) if suffix == ".npy" else tifffile.imwrite(path, zyx)
    s = spec(path, working_electrode=face, **image)
    whole = read_labels(s)
    assert whole.array.shape == solved_shape(s)
    n0 = whole.array.shape[0]
    for lo, hi in [(0, n0), (0, 1), (n0 - 1, n0), (1, n0 // 2), (n0 // 3, n0 - 2)]:
        rows = read_rows(s, lo, hi)
        np.testing.assert_array_equal(rows.array, whole.array[lo:hi])
        assert rows.turned_voxel_um == whole.turned_voxel_um
