"""Figures of a simulation and a population: built with the Figure API, written when asked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ldnkit.pharmacology import Regimen, simulate, simulate_population
from ldnkit.pharmacology.plots import plot_bands, plot_concentrations


def test_simulation_plot_draws_the_patient_and_writes_svg(tmp_path: Path) -> None:
    sim = simulate(Regimen.daily(4.5, days=3))
    out = tmp_path / "deep" / "sim.svg"
    fig = sim.plot(str(out))
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    conc, occ = fig.axes
    assert np.allclose(occ.lines[0].get_ydata(), 100 * sim.occupancy[0])
    assert np.allclose(conc.lines[0].get_xdata(), sim.times_h / 24.0)
    assert out.read_text().lstrip().startswith("<?xml")


def test_population_plot_has_bands_for_each_series(tmp_path: Path) -> None:
    pop = simulate_population(Regimen.daily(4.5, days=3), n=40, seed=2)
    fig = pop.plot(str(tmp_path / "pop.png"))
    assert len(fig.axes) == 6
    assert (tmp_path / "pop.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{pop.n} patients" in fig.texts[0].get_text()


def test_plot_functions_take_arrays_without_a_result() -> None:
    t = np.arange(0.0, 48.0, 1.0)
    conc = np.exp(-t / 10.0)
    fig = plot_concentrations(t, conc, conc / 2, conc / 3, title="arrays", scenario="s")
    assert fig.axes[0].get_title() == "arrays"
    kept = np.tile(conc, (5, 1))
    fig = plot_bands(t, (kept, kept, kept / 2), (conc, conc, conc / 2), title="bands")
    assert fig.texts[0].get_text() == "bands"


def test_plotting_leaves_pyplot_and_the_backend_alone() -> None:
    code = (
        "import sys, matplotlib\n"
        "before = dict.__getitem__(matplotlib.rcParams, 'backend')\n"
        "from ldnkit.pharmacology import Regimen, simulate\n"
        "simulate(Regimen.daily(1.5, days=1)).plot()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') == before\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
