"""Measured spectra: instrument files read into a Spectrum, and their Kramers-Kronig check.

The instrument formats are read by impedance.py's readers; this module picks the reader
(from the extension, then the file's own header), checks what comes back, and turns any
failure into one `MeasurementError` naming the file and, where it can, the line:

    BioLogic .mpt, Gamry .DTA, ZView/ZPlot .z, VersaStudio .par, Autolab / CH Instruments /
    Parstat / PowerSuite .txt exports, and plain CSV (frequency, Re Z, Im Z; a header line
    is allowed). BioLogic .mpr is binary: export it as .mpt from EC-Lab.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from constriction.analysis.spectrum import Spectrum

BY_EXTENSION = {".mpt": "biologic", ".dta": "gamry", ".z": "zplot", ".par": "versastudio", ".csv": "csv"}
INSTRUMENTS = ("biologic", "gamry", "zplot", "versastudio", "autolab", "chinstruments", "parstat",
               "powersuite", "csv")
MAX_POINTS = 100_000  # an impedance spectrum has tens to thousands of points
MAX_FILE_BYTES = 50_000_000
_TOO_MANY = (f"more than {MAX_POINTS:,} data points: not an impedance spectrum as measured "
             f"(tens to thousands of frequencies); thin it out first")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class MeasurementError(ValueError):
    """A measured file that cannot be read: the message names the file (and line)."""

    def __init__(self, path, reason: str, line: int | None = None):
        self.path, self.line, self.reason = Path(path), line, reason
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {reason}")


def detect_instrument(path: str | Path) -> str:
    """The reader for a file: from its extension, or for .txt from its header."""
    path = Path(path)
    if path.suffix.lower() == ".mpr":
        raise MeasurementError(path, "BioLogic .mpr is binary: export the data as .mpt (EC-Lab: "
                                     "File > Export as text) and read that")
    if path.suffix.lower() in BY_EXTENSION:
        return BY_EXTENSION[path.suffix.lower()]
    head = _text(path)[:4000]
    if "Z60W" in head or "Freq (Hz)" in head:
        return "autolab"
    if "A.C. Impedance" in head:
        return "chinstruments"
    if "Zre (ohms)" in head:
        return "parstat"
    if re.match(r"\s*Frequency\s+Zre\s+Zimg", head):
        return "powersuite"
    raise MeasurementError(path, f"unknown format: not one of {', '.join(INSTRUMENTS)} (by extension "
                                 f"or header); save it as CSV with columns frequency, Re Z, Im Z")


def read_spectrum(path: str | Path, instrument: str | None = None) -> Spectrum:
    """Read a measured spectrum (Hz, ohm), sorted from high to low frequency."""
    path = Path(path)
    if not path.is_file():
        raise MeasurementError(path, "no such file" if not path.exists() else "not a file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise MeasurementError(path, f"{path.stat().st_size / 1e6:.0f} MB: " + _TOO_MANY)
    instrument = instrument or detect_instrument(path)
    if instrument not in INSTRUMENTS:
        raise MeasurementError(path, f"unknown instrument {instrument!r} (choose from {', '.join(INSTRUMENTS)})")
    try:
        f, Z = _read_csv(path) if instrument == "csv" else _read_with_impedance_py(path, instrument)
    except MeasurementError:
        raise
    except Exception as err:  # any reader failure is a problem of the file: say where, never a traceback
        line, reason = _diagnose(path)
        raise MeasurementError(path, reason or f"cannot read as {instrument} ({type(err).__name__}: {err})",
                               line) from None
    return _checked(path, np.asarray(f, float), np.asarray(Z, complex))


def _read_with_impedance_py(path: Path, instrument: str):
    from impedance import preprocessing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return preprocessing.readFile(str(path), instrument=instrument)


def _read_csv(path: Path):
    """Three columns (frequency, Re Z, Im Z), header lines allowed before the data. The
    separator and the decimal mark are read off the first data line: "," "." with
    comma-separated columns, either with ";" or tab columns; a file that mixes them, or
    any line that does not split into exactly three numbers the same way, is refused
    with its line number."""
    rows, style = [], None
    for number, line in enumerate(_text(path).splitlines(), start=1):
        text = line.strip().strip('"')
        if not text or (style is None and not _looks_numeric(text)):
            continue  # blank lines, and header lines before the data
        if style is None:
            style = _csv_style(path, text, number)
        separator, decimal = style
        fields = [f.strip().strip('"') for f in (text.split(separator) if separator else text.split())]
        if len(fields) != 3:
            raise MeasurementError(path, f"expected 3 columns (frequency, Re Z, Im Z) separated by "
                                         f"{_SEPARATOR_NAMES[separator]}, found {len(fields)}: {text[:60]!r}", number)
        if decimal == ",":
            if any("." in f for f in fields):
                raise MeasurementError(path, f"mixes decimal commas and points: {text[:60]!r}", number)
            fields = [f.replace(",", ".") for f in fields]
        if not all(_NUMBER.match(f) for f in fields):
            raise MeasurementError(path, f"non-numeric value in {text[:60]!r}", number)
        rows.append([float(f) for f in fields])
        if len(rows) > MAX_POINTS:
            raise MeasurementError(path, _TOO_MANY)
    if not rows:
        raise MeasurementError(path, "no numeric rows (frequency, Re Z, Im Z)")
    f, re_Z, im_Z = np.array(rows).T
    return f, re_Z + 1j * im_Z


_SEPARATOR_NAMES = {";": "semicolons", "\t": "tabs", ",": "commas", None: "spaces"}


def _looks_numeric(text: str) -> bool:
    first = re.split(r"[;\t ]|,(?=\s*[-+.\d])", text, maxsplit=1)[0].strip().strip('"')
    return bool(_NUMBER.match(first.replace(",", ".")))


def _csv_style(path: Path, line: str, number: int) -> tuple[str | None, str]:
    """(column separator, decimal mark) of the first data line, or refuse if ambiguous."""
    for separator in (";", "\t"):
        if separator in line:
            return separator, "," if "," in line else "."
    if "," in line:
        n = len(line.split(","))
        if n == 3 or "." in line or "e" in line.lower():  # decimal points: the commas separate columns
            return ",", "."
        if n == 6:  # three numbers with decimal commas, or six columns: truly ambiguous
            raise MeasurementError(path, f"cannot tell the column separator from the decimal mark in {line[:60]!r} "
                                         f"(use ';' between columns when numbers have decimal commas)", number)
        raise MeasurementError(path, f"3 columns (frequency, Re Z, Im Z) expected, {n} found with ',' between "
                                     f"columns in {line[:60]!r}", number)
    return None, "."


def _checked(path: Path, f: np.ndarray, Z: np.ndarray) -> Spectrum:
    if f.size < 3:
        raise MeasurementError(path, f"only {f.size} data points")
    if f.size > MAX_POINTS:
        raise MeasurementError(path, _TOO_MANY)
    bad = ~(np.isfinite(f) & np.isfinite(Z.real) & np.isfinite(Z.imag))
    if bad.any():
        raise MeasurementError(path, "non-finite values in the data", _line_with(path, f[bad][0]))
    if (f <= 0).any():
        first = f[f <= 0][0]
        raise MeasurementError(path, f"frequency {first:g} Hz is not positive", _line_with(path, first))
    if not np.any(Z):
        raise MeasurementError(path, "every impedance in the file is zero: not a measured spectrum")
    order = np.argsort(-f)
    f, Z = f[order], Z[order]
    repeated = np.flatnonzero(f[1:] == f[:-1])
    if repeated.size:
        twice = f[repeated[0]]
        raise MeasurementError(path, f"frequency {twice:g} Hz is measured more than once (keep one "
                                     f"measurement per frequency)", _line_with(path, twice))
    return Spectrum(frequency_Hz=f, Z_ohm=Z)


def _text(path: Path) -> str:
    """The file's text: UTF-16 where it starts with a UTF-16 byte-order mark (some
    Windows instrument software saves so), else UTF-8, else Latin-1."""
    head = path.read_bytes()[:2]
    encodings = ("utf-16",) if head in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "latin-1")
    for encoding in encodings:
        try:
            return path.read_text(encoding=encoding)
        except UnicodeDecodeError:
            continue
    return ""


def _fields(line: str) -> list[str]:
    return [s for s in re.split(r"[,;\t ]+", line.strip().strip('"')) if s]


def _diagnose(path: Path) -> tuple[int | None, str | None]:
    """Where a table of numbers breaks: the first line after the data starts that is not
    a row of numbers like the ones before it (a truncated or non-numeric row)."""
    lines = _text(path).splitlines()
    numeric = [len(f) if f and all(_NUMBER.match(s) for s in f) else 0 for f in map(_fields, lines)]
    width = max(set(numeric) - {0}, key=numeric.count, default=0)
    if not width or numeric.count(width) < 3:
        return None, "no table of numbers found (is a column missing, or is this not an impedance file?)"
    first = numeric.index(width)
    for i in range(first, len(lines)):
        if numeric[i] != width and lines[i].strip():
            what = "fewer columns than the rows before it (truncated?)" if 0 < numeric[i] < width \
                else f"not a row of numbers: {lines[i].strip()[:60]!r}"
            return i + 1, what
    return None, None


def _line_with(path: Path, value: float) -> int | None:
    """The first line holding a field equal to `value` (for pointing at a bad point)."""
    for number, line in enumerate(_text(path).splitlines(), start=1):
        for s in _fields(line):
            try:
                if float(s) == value or (np.isnan(value) and s.lower() == "nan"):
                    return number
            except ValueError:
                continue
    return None


# ---------------------------------------------------------------- Kramers-Kronig

@dataclass(frozen=True)
class KramersKronig:
    """Linear Kramers-Kronig test (Schönleber et al. 2014, as in impedance.py): residuals
    relative to |Z|; a valid, linear, stationary measurement has them at the noise level."""
    spectrum: Spectrum
    n_elements: int
    mu: float
    Z_fit_ohm: np.ndarray
    residual_real: np.ndarray
    residual_imag: np.ndarray

    @property
    def max_residual(self) -> float:
        return float(max(np.abs(self.residual_real).max(), np.abs(self.residual_imag).max()))

    @property
    def rms_residual(self) -> float:
        """An estimate of the relative noise of the measurement."""
        return float(np.sqrt(np.mean(np.concatenate([self.residual_real, self.residual_imag]) ** 2)))


def kramers_kronig(spectrum: Spectrum, per_decade: float = 3.0) -> KramersKronig:
    """Linear Kramers-Kronig test (Schönleber et al. 2014, the complex fit): M RC elements
    with time constants log-spaced over 1/(2 pi f) of the measurement, `per_decade` per
    decade (at most half the points), with a series R, L and C, fitted by linear least
    squares to Re and Im weighted by 1/|Z|:

        Z(w) = R0 + sum_k R_k / (1 + j w tau_k) + j w L + 1 / (j w C).

    A fixed M: the automatic choice (the mu criterion) stops at 4-8 elements even for an
    ideal two-arc spectrum and leaves 10 % residuals."""
    f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
    M = max(int(min(round(per_decade * np.log10(f.max() / f.min())), len(f) // 2)), 2)
    tau = np.geomspace(1 / (2 * np.pi * f.max()), 1 / (2 * np.pi * f.min()), M)
    jw = 2j * np.pi * f
    columns = np.column_stack([np.ones_like(jw), 1 / (1 + jw[:, None] * tau), jw, 1 / jw])
    weight = 1 / np.abs(Z)
    A = columns * weight[:, None]
    x, *_ = np.linalg.lstsq(np.vstack([A.real, A.imag]), np.concatenate([(Z * weight).real, (Z * weight).imag]),
                            rcond=None)
    R = x[1:M + 1]
    mu = 1 - np.abs(R[R < 0]).sum() / np.abs(R[R >= 0]).sum() if (R >= 0).any() else -np.inf
    Z_fit = columns @ x
    residual = (Z - Z_fit) * weight
    return KramersKronig(spectrum, M, float(mu), Z_fit, residual.real, residual.imag)
