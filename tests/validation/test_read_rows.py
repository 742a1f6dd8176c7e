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


@pytest.mark.parametrize("suffix", [".npy", ".tif", "compressed"])
@pytest.mark.parametrize("face", ["+z", "-z", "+y", "-x"])
@pytest.mark.parametrize("image", [{}, {"coarsen": 2}, {"subdivide": 3}, {"crop": {"x": [1, 8], "z": [2, 11]}},
                                   {"crop": {"y": [1, 9]}, "coarsen": 2, "subdivide": 2}])
def test_rows_are_the_whole_images_rows(tmp_path, suffix, face, image):
    zyx = np.random.default_rng(1).integers(0, 4, size=(12, 10, 9), dtype=np.uint8)
    path = tmp_path / ("a.npy" if suffix == ".npy" else "a.tif")
    if suffix == ".npy":
        np.save(path, zyx)
    else:  # a compressed stack is no memory map: read page by page
        tifffile.imwrite(path, zyx, compression="zlib" if suffix == "compressed" else None)
    s = spec(path, working_electrode=face, **image)
    whole = read_labels(s)
    assert whole.array.shape == solved_shape(s)
    n0 = whole.array.shape[0]
    for lo, hi in [(0, n0), (0, 1), (n0 - 1, n0), (1, n0 // 2), (n0 // 3, n0 - 2)]:
        rows = read_rows(s, lo, hi)
        np.testing.assert_array_equal(rows.array, whole.array[lo:hi])
        assert rows.turned_voxel_um == whole.turned_voxel_um


def test_a_compressed_stack_is_read_page_by_page(tmp_path, monkeypatch):
    """Only the pages of the crop are read, each cropped: a band of rows never holds the stack."""
    zyx = np.random.default_rng(2).integers(0, 4, size=(12, 10, 9), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", zyx, compression="zlib")
    read = []
    original = tifffile.TiffFile.asarray
    monkeypatch.setattr(tifffile.TiffFile, "asarray", lambda self, key=None, **kw: read.append(key) or
                        original(self, key=key, **kw))
    s = spec(tmp_path / "a.tif", crop={"z": [3, 7]})
    np.testing.assert_array_equal(read_rows(s, 2, 5).array, np.transpose(zyx[3:7], (2, 1, 0))[2:5])
    assert read == [3, 4, 5, 6]
