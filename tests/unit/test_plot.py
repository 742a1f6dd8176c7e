"""Every plot kind is drawn and checked for content: axes, labels, data."""

import numpy as np

from constriction.analysis import plot
from constriction.geometry.mesh_fields import contact_current, fields_of
from constriction.geometry.tagged_mesh import UM
from constriction.solve.reduced import reduce
from constriction.analysis.spectrum import Spectrum

from conftest import make_spec, system_of

SPEC = make_spec(contacts=[{"x_um": 0.0, "y_um": 0.0, "radius_um": 5.0}], gap={"height_um": 0.5},
                 mesh={"order": 1, "size_um": 12.0})


def solved():
    _, system = system_of(SPEC)
    model = reduce(system, 1.0, 1e9, progress=False)
    f = np.logspace(0, 9, 91)
    return system, model, Spectrum(f, model.impedance(f))


def test_every_plot_kind(tmp_path):
    system, model, spectrum = solved()

    ax = plot.nyquist(spectrum, title="cell")
    fig = ax.figure
    plot.save(ax, tmp_path / "n.png")
    assert ax.get_xlabel().startswith("Re Z /") and ax.get_ylabel().startswith("−Im Z /")
    assert ax.get_aspect() == 1.0
    x, y = ax.lines[0].get_data()
    assert len(x) == len(spectrum.frequency_Hz) and np.all(y >= -1e-9)
    assert any("Hz" in t.get_text() for t in ax.texts)  # decade markers

    axes = plot.bode(spectrum)
    fig = axes[0].figure
    plot.save(axes, tmp_path / "b.png")
    assert [a.get_ylabel() for a in fig.axes] == ["|Z| / Ω", "−phase / °"]
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[1].lines[0].get_xdata()) == 91

    ax = plot.drt(model.relaxation_times_s, model.resistances_ohm)
    plot.save(ax, tmp_path / "d.png")
    assert ax.get_xlabel() == "relaxation time τ / s" and ax.get_xscale() == "log"
    assert len(ax.lines[0].get_xdata()) >= 2  # the bulk and the constriction terms

    fields = fields_of(system, {f: model.potential(f) for f in (1.0, 2e7)}, 100 * UM)
    fig = plot.equipotentials(fields)[0].figure
    plot.save(fig.axes, tmp_path / "e.png")
    panels = [a for a in fig.axes if a.get_title().startswith("f =")]
    assert len(panels) == 2 and panels[0].get_xlabel() == "x / µm"
    assert all(len(a.collections) > 0 for a in panels)

    current = contact_current(system, model.potential(1.0), 1.0)
    fig = plot.current_map(current).figure
    plot.save(fig.axes, tmp_path / "c.png")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x / µm" and ax.get_aspect() == 1.0
    assert len(ax.collections[0].get_array()) > 0
    assert "mean" in fig.axes[1].get_ylabel()  # the colour bar

    for name in ("n", "b", "d", "e", "c"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_study_and_measurement_plots(tmp_path):
    from constriction.analysis.compare import compare
    from constriction.io.measured import kramers_kronig

    panels = [("contact area", "fraction", [0.1, 0.05, 0.02], {"R_cstr": [1.0, 2.0, 5.0], "C_cstr": [3.0, 4.0, 5.0]}),
              ("pore depth", "h / µm", [0.1, 0.3], {"C_cstr": [2.0, 1.0]})]
    fig = plot.trends(panels, title="trends")[0].figure
    plot.save(fig.axes, tmp_path / "t.png")
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 2 and visible[0].get_yscale() == "log"
    assert visible[0].get_xlabel() == "fraction" and len(visible[0].lines) == 2
    np.testing.assert_allclose(visible[0].lines[0].get_ydata(), [1.0, 2.0, 5.0])  # relative to the first

    f = np.logspace(0, 6, 30)
    Z = 10 + 100 / (1 + 2j * np.pi * f * 1e-4)
    fig = plot.comparison(compare(Spectrum(f, 1.01 * Z), 1.0, Spectrum(f, Z), 1.0))[0].figure
    assert len(fig.axes) == 4 and fig.axes[0].get_xlabel() == "Re Z / Ω cm²"
    assert all(len(ax.lines) >= 2 for ax in fig.axes)
    fig = plot.kramers_kronig(kramers_kronig(Spectrum(f, Z))).figure
    assert fig.axes[0].get_ylabel().startswith("KK residual") and len(fig.axes[0].lines[0].get_xdata()) == 30


def test_plots_draw_on_the_axes_they_are_given_and_leave_the_backend_alone():
    """In a notebook: draw two spectra on one Axes of the user's figure; importing the
    package and drawing changes no matplotlib setting (the backend stays the user's)."""
    import subprocess
    import sys
    import matplotlib.pyplot as plt
    f = np.logspace(0, 6, 30)
    first, second = (Spectrum(f, R / (1 + 2j * np.pi * f * 1e-4)) for R in (100.0, 50.0))
    fig, ax = plt.subplots()
    assert first.nyquist(ax=ax, label="a") is ax and second.nyquist(ax=ax, label="b") is ax
    assert [line.get_label() for line in ax.lines if not line.get_label().startswith("_")][:2] == ["a", "b"]
    fig2, axes = plt.subplots(2, 1)
    assert list(first.bode(axes=axes)) == list(axes) and len(axes[0].lines) == 1
    plt.close(fig)
    plt.close(fig2)
    code = ("import matplotlib; import constriction, constriction.analysis.plot, constriction.pipeline; "
            "import numpy as np; from constriction.analysis.spectrum import Spectrum; "
            "Spectrum(np.logspace(0, 3, 5), np.ones(5) + 0j).nyquist(); print(matplotlib.get_backend())")
    for backend in ("svg", "pdf"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**__import__("os").environ, "MPLBACKEND": backend})
        assert out.stdout.strip() == backend, out.stderr


def drawn_aspect(ax) -> float:
    """Height over width of the frame as drawn."""
    ax.figure.canvas.draw()
    box = ax.get_window_extent()
    return box.height / box.width


def test_a_nyquist_plot_of_a_nearly_resistive_spectrum_is_readable():
    """A porous image at 1 Hz - 1 MHz is nearly a resistor: on equal axes from Re Z = 0 its
    frame was 1 % as tall as wide. The frame follows the data, to scale, never flatter or
    taller than 1 : 3; an arc that reaches back toward Re Z = 0 keeps the usual frame."""
    f = np.logspace(0, 6, 25)
    cases = {"partial arc": 1e5 + 2e3 / (1 + 2j * np.pi * f * 1e-6),      # apex at 160 kHz
             "a resistor": 1e5 - 0.1 * np.log10(f) - 1e-4j,                 # no arc to see
             "a porous image": 9.27e5 - 1e-4 * f - 1e-2j * f}                 # 1 % of R at 1 MHz
    for name, Z in cases.items():
        ax = plot.nyquist(Spectrum(f, Z))
        assert 0.3 < drawn_aspect(ax) < 3.4 and ax.get_aspect() == 1.0, name
        assert ax.get_xlim()[0] > 0.5 * ax.get_xlim()[1], name  # around the data, not from 0
        x, y = ax.lines[0].get_data()
        assert ax.get_xlim()[0] <= x.min() and x.max() <= ax.get_xlim()[1] and y.max() <= ax.get_ylim()[1]
    arc = Spectrum(f, 10 + 100 / (1 + 2j * np.pi * f * 1e-4))
    ax = plot.nyquist(arc)
    assert ax.get_aspect() == 1.0 and ax.get_xlim()[0] == 0.0


def test_a_series_labels_its_stages_in_the_axis_unit():
    """A series over stripping time (h): stages labelled in h, not in the impedance's MΩ."""
    f = np.logspace(0, 6, 20)
    Z = np.array([R / (1 + 2j * np.pi * f * 1e-4) for R in (2e6, 3e6)])
    nyq, trend = plot.series([0.0, 2.0], "stage", Z, {"R_dc_ohm": [2e6, 3e6]}, unit="h")
    labels = [line.get_label() for line in nyq.lines]
    assert labels[:2] == ["stage = 0 h", "stage = 2 h"] and trend.get_xlabel() == "stage / h"
    assert nyq.get_xlabel() == "Re Z / MΩ"


def test_an_image_section_shows_which_voxels_are_not_electrolyte():
    from constriction.image.voxel_fields import GridFields
    from constriction.image.voxels import ELECTROLYTE, GAS, INSULATOR, METAL
    kind = np.full((8, 8, 8), ELECTROLYTE, np.int8)
    kind[:, :, -1], kind[2:5, :, 2:4], kind[5:7, :, 5] = METAL, INSULATOR, GAS
    potential = np.broadcast_to(np.linspace(0, 1, 8), (2, 8, 8, 8)).astype(complex)
    fields = GridFields(frequency_Hz=(1.0, 1e6), spacing_um=(1.0, 1.0, 1.0), potential=potential, kind=kind)
    assert set(fields.section_phases) == {"metal", "gas", "insulator"}
    panels = plot.equipotentials(fields)
    legend = panels[-1].get_legend()
    assert legend is not None and {t.get_text() for t in legend.get_texts()} == {"metal", "gas", "insulator"}
    hatched = [c for c in panels[0].collections if any(getattr(c, "hatches", None) or [])]
    assert len(hatched) == 3
