from __future__ import annotations

from datetime import date

import pytest

from ldnkit.clinical.models import Patient

TODAY = date(2026, 3, 2)


@pytest.fixture
def today() -> date:
    return TODAY


def make_patient(**fields) -> Patient:
    data = {"id": "p1", "conditions": [{"code": "fibromyalgia"}]}
    data.update(fields)
    return Patient.model_validate(data)


# The opioids issue 2 requires screening to recognise by name.
REQUIRED_OPIOIDS = (
    "tramadol",
    "codeine",
    "buprenorphine",
    "methadone",
    "oxycodone",
    "morphine",
    "hydrocodone",
    "fentanyl",
    "tapentadol",
)
