"""Property-based safety guards over random patients and options (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldnkit.clinical.medications import find_opioid
from ldnkit.clinical.models import Patient, PlanOptions
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import plan_for_patient, titration_plan
from ldnkit.errors import UnsafeToStart, ValidationError
from ldnkit.evidence import default_evidence
from tests.clinical.conftest import REQUIRED_OPIOIDS

EV = default_evidence()
PROTOCOLS = sorted(EV.protocols)
DRUGS = [
    *REQUIRED_OPIOIDS,
    "ibuprofen",
    "gabapentin",
    "duloxetine",
]
BASE = date(2026, 1, 1)

days = st.integers(min_value=0, max_value=400).map(lambda d: BASE + timedelta(days=d))
half_mg = st.integers(min_value=1, max_value=24).map(lambda n: Decimal(n) / 2)
tenth_mg = st.integers(min_value=1, max_value=100).map(lambda n: Decimal(n) / 10)

medications = st.builds(
    dict,
    name=st.sampled_from(DRUGS),
    active=st.booleans(),
    last_dose=st.one_of(st.none(), days),
)
patients = st.builds(
    lambda meds, cond, oud, hep, preg, allergy, surgery: Patient.model_validate(
        {
            "id": "hyp",
            "conditions": [{"code": cond}],
            "medications": meds,
            "opioid_use_disorder_history": oud,
            "hepatic_status": hep,
            "pregnancy": preg,
            "allergies": ["naltrexone"] if allergy else [],
            "planned_procedures": [{"name": "op", "date": surgery}] if surgery else [],
        }
    ),
    st.lists(medications, max_size=3),
    st.sampled_from([*sorted(EV.conditions), "unknown_condition"]),
    st.booleans(),
    st.sampled_from(
        ["normal", "unknown", "compensated_cirrhosis", "acute_hepatitis", "decompensated_cirrhosis"]
    ),
    st.sampled_from(["not_pregnant", "pregnant", "planning", "not_applicable"]),
    st.booleans(),
    st.one_of(st.none(), days),
)
options = st.builds(
    PlanOptions,
    start_mg=st.one_of(st.none(), tenth_mg),
    step_mg=st.one_of(st.none(), tenth_mg),
    interval_days=st.one_of(st.none(), st.sampled_from([7, 10, 14])),
    target_mg=st.one_of(st.none(), half_mg),
    ceiling_mg=st.one_of(st.none(), half_mg),
    surgery_date=st.one_of(st.none(), days),
    post_surgery_opioid_days=st.integers(min_value=0, max_value=14),
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _active_opioid(patient: Patient) -> bool:
    return any(m.active and find_opioid(m.name, EV) for m in patient.medications)


def _inside_window(patient: Patient, start: date) -> bool:
    for m in patient.medications:
        op = find_opioid(m.name, EV)
        if op is None or m.active:
            continue
        if m.last_dose is None:
            return True
        window = 14 if op.washout == "long_acting" else 10
        if start < m.last_dose + timedelta(days=window):
            return True
    return False


@SETTINGS
@given(protocol=st.sampled_from(PROTOCOLS), start=days, opts=options)
def test_no_step_exceeds_ceiling_and_doses_only_fall_at_a_hold(protocol, start, opts) -> None:
    try:
        plan = titration_plan(protocol, start, opts)
    except ValidationError:
        return
    ceiling = EV.protocol(protocol).options.ceiling_mg.max
    assert plan.ceiling_mg <= ceiling
    previous = None
    for step in plan.steps:
        assert step.dose_mg <= plan.ceiling_mg <= ceiling
        assert step.dose_mg <= plan.target_mg
        assert step.start <= step.end
        if previous is not None:
            assert step.start == previous.end + timedelta(days=1)
            if step.dose_mg < previous.dose_mg:
                assert step.kind == "hold"
            if previous.kind == "hold":
                assert step.kind == "resume"
        previous = step
    for s in (
        plan.sources
        + [x for st_ in plan.steps for x in st_.sources]
        + [x for v in plan.visits for x in v.sources]
    ):
        EV.reference(s)


@SETTINGS
@given(patient=patients, start=days, protocol=st.sampled_from(PROTOCOLS))
def test_never_plans_with_active_opioids_or_inside_the_window(patient, start, protocol) -> None:
    try:
        plan = plan_for_patient(patient, protocol, start)
    except (UnsafeToStart, ValidationError):
        return
    assert not _active_opioid(patient)
    assert not _inside_window(patient, plan.start)
    assert plan.steps[0].dose_mg > 0


@SETTINGS
@given(patient=patients, on=days)
def test_screening_status_matches_findings_and_sources_resolve(patient, on) -> None:
    a = screen(patient, on)
    severities = {f.severity for f in a.findings}
    if _active_opioid(patient):
        assert a.status == "contraindicated"
    if "contraindicated" in severities:
        assert a.status == "contraindicated"
    elif "defer" in severities:
        assert a.status == "not_yet"
        if a.earliest_start is not None:
            assert a.earliest_start > on
    for f in a.findings:
        assert f.sources
        for s in f.sources:
            EV.reference(s)
