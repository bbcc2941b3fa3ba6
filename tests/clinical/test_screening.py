"""Screening findings for each rule the seeds give, with the right status and sources."""

from __future__ import annotations

from datetime import date

import pytest

from ldnkit.clinical.screening import screen
from ldnkit.evidence import default_evidence
from tests.clinical.conftest import REQUIRED_OPIOIDS, TODAY, make_patient


def codes(assessment) -> set[str]:
    return {f.code for f in assessment.findings}


def test_uncomplicated_patient_is_eligible_with_info_only() -> None:
    a = screen(make_patient(), TODAY)
    assert a.status == "eligible"
    assert codes(a) == {"NOT_MONOTHERAPY", "ID_CARD"}
    assert a.may_start_on == TODAY


@pytest.mark.parametrize(
    "drug",
    [*REQUIRED_OPIOIDS, "fentanyl patch", "Percocet"],
)
def test_active_opioid_contraindicates(drug: str) -> None:
    a = screen(make_patient(medications=[{"name": drug, "active": True}]), TODAY)
    assert a.status == "contraindicated"
    assert "ACTIVE_OPIOID" in codes(a)
    assert a.may_start_on is None


def test_opioid_free_window_gives_earliest_start_at_conservative_end() -> None:
    patient = make_patient(
        medications=[{"name": "tramadol", "active": False, "last_dose": "2026-02-26"}]
    )
    a = screen(patient, TODAY)
    assert a.status == "not_yet"
    assert a.earliest_start == date(2026, 3, 8)  # 10 days after the last dose
    washout = next(f for f in a.findings if f.code == "OPIOID_WASHOUT")
    assert "7-10 days" in washout.message
    later = screen(patient, date(2026, 3, 8))
    assert later.status != "not_yet"
    assert "OPIOID_WASHOUT_COMPLETE" in codes(later)


def test_buprenorphine_and_methadone_need_two_weeks() -> None:
    patient = make_patient(
        medications=[{"name": "Suboxone", "active": False, "last_dose": "2026-02-26"}]
    )
    assert screen(patient, TODAY).earliest_start == date(2026, 3, 12)


def test_opioid_stopped_without_date_is_not_yet_without_a_date() -> None:
    a = screen(make_patient(medications=[{"name": "morphine", "active": False}]), TODAY)
    assert a.status == "not_yet"
    assert a.earliest_start is None
    assert "OPIOID_LAST_DOSE_UNKNOWN" in codes(a)


def test_naloxone_challenge_when_occult_dependence_possible() -> None:
    a = screen(make_patient(opioid_use_disorder_history=True), TODAY)
    assert "NALOXONE_CHALLENGE" in codes(a)
    assert a.status == "eligible_with_cautions"
    done = screen(
        make_patient(opioid_use_disorder_history=True, naloxone_challenge="negative"), TODAY
    )
    assert "NALOXONE_CHALLENGE" not in codes(done)
    positive = screen(make_patient(naloxone_challenge="positive"), TODAY)
    assert positive.status == "contraindicated"


@pytest.mark.parametrize(
    ("status", "code", "overall"),
    [
        ("acute_hepatitis", "HEPATIC_CONTRAINDICATION", "contraindicated"),
        ("decompensated_cirrhosis", "HEPATIC_CONTRAINDICATION", "contraindicated"),
        ("compensated_cirrhosis", "HEPATIC_CAUTION", "eligible_with_cautions"),
    ],
)
def test_hepatic(status: str, code: str, overall: str) -> None:
    a = screen(make_patient(hepatic_status=status), TODAY)
    assert code in codes(a) and a.status == overall


def test_allergy_and_pregnancy() -> None:
    assert screen(make_patient(allergies=["Naltrexone"]), TODAY).status == "contraindicated"
    assert screen(make_patient(allergies=["penicillin"]), TODAY).status == "eligible"
    assert screen(make_patient(pregnancy="pregnant"), TODAY).status == "contraindicated"
    planning = screen(make_patient(pregnancy="planning"), TODAY)
    assert planning.status == "eligible_with_cautions"
    assert "PLANNED_PREGNANCY" in codes(planning)


def test_surgery_needing_opioids_advises_hold() -> None:
    a = screen(
        make_patient(planned_procedures=[{"name": "Hip replacement", "date": "2026-05-01"}]), TODAY
    )
    hold = next(f for f in a.findings if f.code == "SURGERY_HOLD")
    assert "2026-04-28" in hold.message and "2-3 days" in hold.message
    no_opioids = screen(
        make_patient(
            planned_procedures=[{"name": "Dental", "date": "2026-05-01", "opioids_expected": False}]
        ),
        TODAY,
    )
    assert "SURGERY_HOLD" not in codes(no_opioids)


def test_first_line_therapies_by_pain_type() -> None:
    neuro = make_patient(conditions=[{"code": "painful_diabetic_neuropathy"}])
    a = screen(neuro, TODAY)
    finding = next(f for f in a.findings if f.code == "FIRST_LINE_NOT_TRIED")
    assert "Pregabalin / gabapentin" in finding.message and "Duloxetine" in finding.message
    partly = screen(
        make_patient(
            conditions=[{"code": "painful_diabetic_neuropathy"}],
            prior_therapies=[{"name": "Gabapentin"}],
        ),
        TODAY,
    )
    assert "FIRST_LINE_PARTLY_TRIED" in codes(partly)
    all_tried = make_patient(
        conditions=[{"code": "chronic_low_back_pain"}],
        prior_therapies=[{"name": "ibuprofen"}, {"name": "physiotherapy"}, {"name": "exercise"}],
    )
    assert not codes(screen(all_tried, TODAY)) & {"FIRST_LINE_NOT_TRIED", "FIRST_LINE_PARTLY_TRIED"}


def test_naltrexone_bupropion_is_flagged_not_confused_with_ldn() -> None:
    a = screen(make_patient(medications=[{"name": "Contrave"}]), TODAY)
    assert "NALTREXONE_BUPROPION" in codes(a)
    assert a.status == "contraindicated"


def test_standard_dose_naltrexone_is_flagged() -> None:
    a = screen(make_patient(medications=[{"name": "naltrexone", "dose_mg": 50}]), TODAY)
    assert "STANDARD_DOSE_NALTREXONE" in codes(a)


def test_unknown_condition_is_a_caution() -> None:
    a = screen(make_patient(conditions=[{"code": "tennis_elbow"}]), TODAY)
    assert "NO_PROTOCOL_FOR_CONDITION" in codes(a)


def test_every_finding_cites_resolvable_sources() -> None:
    ev = default_evidence()
    a = screen(
        make_patient(
            medications=[{"name": "tramadol", "active": True}],
            hepatic_status="acute_hepatitis",
            pregnancy="planning",
        ),
        TODAY,
    )
    for f in a.findings:
        assert f.sources and all(ev.reference(s) for s in f.sources)
