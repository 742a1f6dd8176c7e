"""Without petsc4py the serial path runs and `--backend petsc` is refused in one line that
says how to install it; how an image's rows are shared between ranks."""

import numpy as np
import pytest

from cases import MPI_LABELS, MPI_PHASES, mpi_image
from constriction.cli.main import main
from constriction.parallel import mpi
from constriction.parallel.bands import band_rows


@pytest.fixture
def toml(tmp_path):
    np.save(tmp_path / "cell.npy", mpi_image(16, "porous"))
    labels = "\n".join(f'{k} = "{v}"' for k, v in MPI_LABELS.items())
    phases = "\n".join(f"[phases.{name}]\n" + "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in table.items())
                       for name, table in MPI_PHASES.items())
    path = tmp_path / "cell.toml"
    path.write_text(f'[image]\npath = "cell.npy"\nvoxel_um = 1.0\n[image.labels]\n{labels}\n{phases}\n'
                    f'[sweep]\nkind = "dc"\n')
    return path


def test_petsc_is_refused_in_one_line_where_it_is_missing(toml, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mpi, "petsc_installed", lambda: False)
    out = tmp_path / "ranks"
    assert main(["run", str(toml), "--backend", "petsc", "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "petsc4py" in error and "apt-get install" in error
    assert not out.exists()
    assert main(["run", str(toml), "--out", str(tmp_path / "serial")]) == 0  # the serial path runs
    assert (tmp_path / "serial" / "summary.json").exists()


def test_rows_are_shared_in_whole_blocks():
    assert band_rows(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert band_rows(12, 2, block=3) == [(0, 6), (6, 12)]     # a subdivided voxel's rows stay together
    assert band_rows(9, 2, block=3) == [(0, 3), (3, 9)]
    with pytest.raises(ValueError, match="3 MPI ranks for an image of 2 rows"):
        band_rows(4, 3, block=2)
