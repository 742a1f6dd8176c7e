"""Reference electrodes ([[probes]]): three-electrode impedances from the same solutions."""

import numpy as np
import pytest

from constriction import run, spec_from_dict
from constriction.cli import main

from cases import TINY_SPEC, refused

SLAB = {"cell": {"shape": "box", "side_um": 20.0, "thickness_um": 20.0},
        "materials": {"electrolyte": {"sigma_S_per_m": 0.1, "eps_r": 10.0}},
        "sweep": {"f_min_Hz": 1.0, "f_max_Hz": 1e9, "points_per_decade": 2}}


@pytest.mark.parametrize("order, sweep", [(1, "reduced"), (2, "reduced"), (1, "direct")])
def test_a_probe_in_a_uniform_slab_reads_its_share_of_the_cell_impedance(order, sweep):
    """Full contact: the potential is linear in depth at every frequency, so a probe d below
    the WE of a cell L thick reads Z_WE-RE = (d / L) Z_cell exactly (mid-plane: half)."""
    probes = [{"name": "mid", "x_um": 3.0, "y_um": -2.0, "depth_um": 10.0}, {"name": "deep", "depth_um": 15.0},
              {"name": "shallow", "x_um": -7.0, "depth_um": 1.3}]
    result = run(spec_from_dict({**SLAB, "mesh": {"size_um": 5.0, "order": order}, "probes": probes}),
                 sweep=sweep, progress=False)
    Z, p = result.spectrum.Z_ohm, result.probes
    for k, share in enumerate([0.5, 0.75, 1.3 / 20]):
        np.testing.assert_allclose(p.Z_we_re_ohm[k], share * Z, rtol=1e-9)
        np.testing.assert_allclose(p.Z_we_re_ohm[k] + p.Z_re_ce_ohm[k], Z, rtol=1e-12)
    assert [s.name for s in result.summary.probes] == ["mid", "deep", "shallow"]


def test_a_probe_beside_a_constricted_contact_sees_less_than_its_depth_share(tmp_path, monkeypatch, capsys):
    """Under a small spot the potential drops within a few radii of it: a probe deep in the
    cell but near the surface far from the spot reads close to the potential there, which
    is below 1 - depth / L (the constriction sits between WE and probe). The columns of
    terminals.csv say what they hold."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spot.toml").write_text(TINY_SPEC + '[[probes]]\nname = "RE"\nx_um = 7.0\ny_um = 7.0\ndepth_um = 2.0\n')
    assert main(["run", "spot.toml", "--out", "res"]) == 0
    out = capsys.readouterr().out
    assert "probe RE (2 µm below the WE)" in out and "terminals.csv" in out
    header = (tmp_path / "res" / "terminals.csv").read_text().splitlines()[0].split(",")
    assert header == ["frequency_Hz", "Z_cell_real_ohm", "Z_cell_imag_ohm", "Z_WE_RE_real_ohm", "Z_WE_RE_imag_ohm",
                      "Z_RE_CE_real_ohm", "Z_RE_CE_imag_ohm"]
    data = np.loadtxt(tmp_path / "res" / "terminals.csv", delimiter=",", skiprows=1)
    share = data[0, 3] / data[0, 1]  # Z_WE-RE / Z_cell at the lowest frequency
    assert 1 - 2.0 / 20 > share > 0.5  # most of the drop is the constriction, between WE and probe
    np.testing.assert_allclose(data[:, 3] + data[:, 5], data[:, 1], rtol=1e-9)
    # read back for `constriction plot`, which draws WE-RE over the cell's Nyquist plot
    from constriction.analysis.probes import ProbeImpedances
    back = ProbeImpedances.from_csv(tmp_path / "res" / "terminals.csv")
    assert back.names == ("RE",)
    np.testing.assert_allclose(back.Z_we_re_ohm[0], data[:, 3] + 1j * data[:, 4], rtol=1e-10)
    (tmp_path / "res" / "nyquist.png").unlink()
    assert main(["plot", "res", "--kind", "nyquist"]) == 0
    assert (tmp_path / "res" / "nyquist.png").stat().st_size > 10_000


@pytest.mark.parametrize("probe, words", [
    ('depth_um = 0.0', ["probes[0].depth_um", "working electrode"]),
    ('depth_um = 20.0', ["probes[0].depth_um", "counter electrode"]),
    ('x_um = 30.0\ndepth_um = 5.0', ["probes[0]", "outside the electrolyte"]),
    ('name = "a b"\ndepth_um = 5.0', ["probes[0].name"]),
])
def test_a_probe_that_is_not_in_the_electrolyte_is_refused(place, capsys, probe, words):  # noqa: F811
    (place / "bad.toml").write_text(TINY_SPEC + "[[probes]]\n" + probe + "\n")
    refused(["run", "bad.toml", "--out", "res"], place, *words, capsys=capsys)
