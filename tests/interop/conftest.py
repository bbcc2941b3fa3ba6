from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ldnkit.clinical.diary import DiaryEntry
from ldnkit.clinical.models import Assessment, Patient, Plan, PlanOptions
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import plan_for_patient
from ldnkit.inputs import load_patient

START = dt.date(2026, 3, 2)


@pytest.fixture
def patient() -> Patient:
    return load_patient("src/ldnkit/examples/fibromyalgia.yaml")


@pytest.fixture
def plan(patient: Patient) -> Plan:
    return plan_for_patient(patient, "fibromyalgia", START)


@pytest.fixture
def surgery_plan(patient: Patient) -> Plan:
    opts = PlanOptions(surgery_date=dt.date(2026, 4, 20), capsule_strengths_mg=[Decimal("1.5")])
    return plan_for_patient(patient, "fibromyalgia", START, opts)


@pytest.fixture
def assessment(patient: Patient) -> Assessment:
    return screen(patient, START)


@pytest.fixture
def diary() -> list[DiaryEntry]:
    out = []
    for i in range(21):
        day = START + dt.timedelta(days=i - 7)
        effects = [{"code": "vivid_dreams", "severity": "mild"}] if i % 5 == 0 else []
        if i == 10:
            effects.append({"code": "headache", "severity": "moderate"})
        out.append(
            DiaryEntry(
                entry_date=day,
                pain=max(0, 7 - i // 4),
                sleep=5 if i % 2 else None,
                mood=6,
                energy=None,
                clarity=4 if i % 3 == 0 else None,
                dose_taken=i >= 7,
                dose_time=dt.time(22, 30) if i >= 7 and i % 2 else None,
                dose_mg=Decimal("1.5") if i >= 7 else None,
                side_effects=effects,
                note="woke twice" if i == 12 else None,
            )
        )
    return out
