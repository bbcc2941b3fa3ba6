"""Nonsense input is rejected with a clear, one-line error naming the field."""

from __future__ import annotations

import numpy as np
import pytest

from ldnkit.cli import main
from ldnkit.errors import ValidationError
from ldnkit.pharmacology import PKParameters, Regimen, typical_parameters
from ldnkit.pharmacology.population import PopulationModel


def test_negative_dose_rejected() -> None:
    with pytest.raises(ValidationError, match=r"doses_mg\[1\].*negative"):
        Regimen([0.0, 24.0], [4.5, -1.5])


def test_schedule_out_of_order_rejected() -> None:
    with pytest.raises(ValidationError, match=r"times_h\[2\].*out of order"):
        Regimen([0.0, 24.0, 12.0], [1.5, 1.5, 1.5])
    with pytest.raises(ValidationError, match="out of order"):
        Regimen.from_steps([(0, 13, 1.5, 22), (10, 20, 3.0, 22)])


@pytest.mark.parametrize("field", ["Vc", "Vm", "CL"])
def test_zero_volume_or_clearance_rejected(field: str) -> None:
    values = {**typical_parameters().as_dict(), field: 0.0}
    with pytest.raises(ValidationError, match=f"{field}: must be greater than zero"):
        PKParameters(**values)


def test_bioavailability_must_be_a_fraction() -> None:
    with pytest.raises(ValidationError, match="F: must be a fraction"):
        PKParameters(**{**typical_parameters().as_dict(), "F": 1.5})


def test_mismatched_array_lengths_rejected() -> None:
    p = PKParameters(
        **{
            **typical_parameters().as_dict(),
            "CL": np.array([90.0, 100.0]),
            "Vc": np.array([1.0, 2.0, 3.0]),
        }
    )
    with pytest.raises(ValidationError, match="different lengths"):
        _ = p.n


def test_negative_variability_rejected() -> None:
    with pytest.raises(ValidationError, match=r"cv\.CL"):
        PopulationModel(typical_parameters(), {"CL": -0.1})


def test_cli_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "simulate", "--dose", "-3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --dose: must be > 0") and "\n" not in err


def test_unknown_scenario_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pk", "simulate", "--dose", "4.5", "--days", "2", "--scenario", "psychic"]) == 2
    err = capsys.readouterr().err
    assert "unknown occupancy scenario 'psychic'" in err and "equilibrium" in err
