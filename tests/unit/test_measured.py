"""Measured spectra: every shared instrument file loads or fails clearly; bad files name
the file and line; Kramers-Kronig; `constriction compare`."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from constriction.io.measured import MeasurementError, kramers_kronig, read_spectrum
from constriction.analysis.spectrum import Spectrum

DATA = Path(__file__).resolve().parents[1] / "data"  # instrument files from impedance.py's examples (LICENSE-impedance.py.txt)

# file -> (points, lowest Hz, highest Hz), or the words of its error
EXPECTED = {
    "Circuit1_EIS_1.z": (48, 1.0, 5e4), "Circuit1_EIS_2.z": (48, 1.0, 5e4),
    "Circuit2_EIS_1.z": (56, 1.0, 3e5), "Circuit2_EIS_2.z": (56, 1.0, 3e5),
    "Circuit3_EIS_1.z": (53, 1.0, 1.5e5), "Circuit3_EIS_2.z": (53, 1.0, 1.5e5),
    "exampleData.csv": (66, 0.0031623, 1e4),
    "exampleDataAutolab.txt": (41, 0.1, 1e4),
    "exampleDataBioLogic.mpt": (43, 0.01689554, 1000.3201),
    "exampleDataCHInstruments.txt": (73, 0.1, 99610.0),
    "exampleDataGamry.DTA": (72, 0.0158898, 200015.6),
    "exampleDataGamryABORT.DTA": (72, 0.0158898, 200015.6),
    "exampleDataParstat.txt": (31, 10.0, 1e4),
    "exampleDataPowersuite.txt": (30, 0.1, 2e6),
    "exampleDataVersaStudio.par": (61, 0.02154435, 1e5),
    "exampleDataZPlot.z": (21, 3000.0, 3e5),
    "exampleDataZPlot_noComments.z": (31, 300.0, 3e5),
    "exampleDataBioLogic_MissingFreq.mpt": '"freq/Hz" not found',
    "LICENSE-impedance.py.txt": "unknown format",
}


def test_every_shared_file_is_listed():
    assert {p.name for p in DATA.iterdir()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_instrument_file_loads_or_fails_clearly(name):
    expected = EXPECTED[name]
    if isinstance(expected, str):
        with pytest.raises(MeasurementError) as err:
            read_spectrum(DATA / name)
        assert name in str(err.value) and expected in str(err.value)
        return
    spectrum = read_spectrum(DATA / name)
    n, f_lo, f_hi = expected
    assert len(spectrum.frequency_Hz) == n
    assert spectrum.frequency_Hz.min() == pytest.approx(f_lo)
    assert spectrum.frequency_Hz.max() == pytest.approx(f_hi)
    assert np.all(np.diff(spectrum.frequency_Hz) < 0) and np.all(np.isfinite(spectrum.Z_ohm))


def _variant(tmp_path, name, edit):
    lines = (DATA / name).read_text(encoding="latin-1").splitlines()
    path = tmp_path / name
    path.write_text("\n".join(edit(lines)) + "\n", encoding="latin-1")
    return path


@pytest.mark.parametrize("name, edit, line, words", [
    ("exampleData.csv", lambda L: L[:10] + [L[10].split(",")[0]], 11, "expected 3 columns"),       # truncated
    ("exampleData.csv", lambda L: L[:5] + ["1.0,abc,2.0"] + L[5:], 6, "non-numeric"),
    ("exampleData.csv", lambda L: L[:3] + ["-" + L[3]] + L[4:], 4, "not positive"),                 # negative f
    ("exampleDataZPlot.z", lambda L: L[:-3] + [L[-3].split("\t")[0][:5]] + L[-2:], None, "truncated"),
    ("exampleDataPowersuite.txt", lambda L: L[:5] + ["0.5\t n/a\t -3"] + L[5:], 6, "not a row of numbers"),
])
def test_bad_files_name_the_file_and_the_line(tmp_path, name, edit, line, words):
    path = _variant(tmp_path, name, edit)
    with pytest.raises(MeasurementError) as err:
        read_spectrum(path)
    message = str(err.value)
    assert str(path) in message and words.lower() in message.lower()
    if line is not None:
        assert err.value.line == line


def test_kramers_kronig_passes_an_rc_spectrum_and_flags_a_drifting_one():
    f = np.logspace(-1, 6, 60)
    Z = 10 + 100 / (1 + 2j * np.pi * f * 1e-3) + 50 / (1 + 2j * np.pi * f * 1e-6)
    assert kramers_kronig(Spectrum(f, Z)).max_residual < 5e-3
    drift = Z * (1 + 0.5 * np.linspace(0, 1, f.size))  # the cell changed during the sweep
    assert kramers_kronig(Spectrum(f, drift)).max_residual > 3e-2


def test_compare_cli_overlays_a_measurement_on_a_simulation(tmp_path):
    sim = tmp_path / "sim"
    sim.mkdir()
    f = np.logspace(0, 6, 40)
    Spectrum(f, 100 / (1 + 2j * np.pi * f * 1e-4)).to_csv(sim / "spectrum.csv")
    from constriction.io.summary import Conservation, Constriction, Summary, SweepSummary
    Summary(name="sim", R_dc_ohm=100.0, R_inf_ohm=100.0, constriction=Constriction(0.0, 0.0, 0.0, 0.0),
            contact_current_density=None, normalisation={"ohm_cm2_geometric": 1.0}, area_um2=1e8,  # 1 cm2
            thickness_um=1e3, contact_area_um2=1e8, meshed_ce_area_um2=1e8, dofs=1, elements=1, order=1,
            conservation=Conservation(0.0, 0.0), passive=True,
            sweep=SweepSummary("direct", "superlu", 40, 1.0, 1e6)).write(sim / "summary.json")
    measured = tmp_path / "measured.csv"
    Spectrum(f[::2], 1.02 * 100 / (1 + 2j * np.pi * f[::2] * 1e-4)).to_csv(measured)
    result = subprocess.run([sys.executable, "-m", "constriction", "compare", str(measured), str(sim)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "results" / "compare_measured"  # beside the simulation, never inside it
    assert sorted(p.name for p in sim.iterdir()) == ["spectrum.csv", "summary.json"]
    residual = np.loadtxt(out / "residuals.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(residual[:, 1], 0.02 * np.cos(np.angle(1 / (1 + 2j * np.pi * residual[:, 0] * 1e-4))),
                               atol=2e-3)
    assert (out / "compare.png").stat().st_size > 10_000 and (out / "kramers_kronig.png").is_file()


def test_cli_refuses_a_bad_file_in_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n")
    result = subprocess.run([sys.executable, "-m", "constriction", "compare", str(bad), str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "bad.csv:1" in result.stderr


@pytest.mark.parametrize("name", ["exampleData.csv", "exampleDataGamry.DTA", "Circuit1_EIS_1.z"])
def test_our_kramers_kronig_fit_is_impedance_pys_linkk(name):
    """The linear KK test is a short least-squares fit of our own; on real files it gives
    impedance.py's linKK (complex fit, series capacitor, the same element count)."""
    import contextlib
    import io
    import warnings
    from impedance.models.circuits.elements import circuit_elements
    from impedance.validation import linKK
    circuit_elements.setdefault("np", np)  # impedance.py 1.7.1 under NumPy 2 (its issue 296), in the test only
    s = read_spectrum(DATA / name)
    ours = kramers_kronig(s)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        M, mu, Z_fit, res_re, res_im = linKK(s.frequency_Hz, s.Z_ohm, c=-np.inf, max_M=ours.n_elements,
                                             fit_type="complex", add_cap=True)
    assert ours.n_elements == M and ours.mu == pytest.approx(mu, abs=1e-8)
    np.testing.assert_allclose(ours.Z_fit_ohm, Z_fit, atol=1e-8 * np.abs(s.Z_ohm).max())
    np.testing.assert_allclose(ours.residual_real, res_re, atol=1e-8)
