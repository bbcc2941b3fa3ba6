"""Age, renal function and breastfeeding in screening and planning (issue 11, part 2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldnkit.clinical.models import Patient
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import plan_for_patient
from ldnkit.errors import UnsafeToStart
from ldnkit.evidence import default_evidence
from tests.clinical.conftest import TODAY, make_patient

EV = default_evidence()


def codes(a) -> set[str]:
    return {f.code for f in a.findings}


def test_ten_year_old_gets_a_finding_and_no_plan() -> None:
    child = make_patient(birth_date=date(2016, 1, 15))
    a = screen(child, TODAY)
    assert a.status == "contraindicated"
    finding = next(f for f in a.findings if f.code == "PAEDIATRIC")
    assert "Age 10" in finding.message and "2034-01-15" in finding.message
    assert set(finding.sources) <= set(EV.references)
    with pytest.raises(UnsafeToStart, match="PAEDIATRIC"):
        plan_for_patient(child, "fibromyalgia", TODAY)


def test_birth_date_in_2030_is_an_input_error_not_a_plan() -> None:
    unborn = make_patient(birth_date=date(2030, 5, 1))
    a = screen(unborn, TODAY)
    assert a.status == "contraindicated"
    assert "BIRTH_DATE_AFTER_START" in codes(a)
    with pytest.raises(UnsafeToStart, match="birth_date: Recorded birth date 2030-05-01"):
        plan_for_patient(unborn, "fibromyalgia", TODAY)


def test_eighteenth_birthday_is_adult_and_the_day_before_is_not() -> None:
    born = date(2008, 3, 2)
    assert "PAEDIATRIC" not in codes(screen(make_patient(birth_date=born), TODAY))
    day_before = TODAY - timedelta(days=1)
    assert "PAEDIATRIC" in codes(screen(make_patient(birth_date=born), day_before))


def test_leap_day_birth_turns_18_on_first_of_march() -> None:
    a = screen(make_patient(birth_date=date(2008, 2, 29)), date(2026, 2, 28))
    finding = next(f for f in a.findings if f.code == "PAEDIATRIC")
    assert "2026-03-01" in finding.message
    assert "PAEDIATRIC" not in codes(screen(make_patient(birth_date=date(2008, 2, 29)), TODAY))


def test_clinician_override_allows_a_plan_with_a_caution_naming_the_reason() -> None:
    reason = "Specialist paediatric pain team agreed after CRPS failed first-line care"
    child = make_patient(birth_date=date(2010, 6, 1), paediatric_override=reason)
    a = screen(child, TODAY)
    assert a.status == "eligible_with_cautions"
    override = next(f for f in a.findings if f.code == "PAEDIATRIC_OVERRIDE")
    assert override.severity == "caution" and reason in override.message
    assert plan_for_patient(child, "fibromyalgia", TODAY).patient_id == "p1"


def test_override_needs_a_real_reason() -> None:
    with pytest.raises(ValueError, match="paediatric_override"):
        make_patient(birth_date=date(2010, 6, 1), paediatric_override="ok")


def test_older_than_trials_is_information_only() -> None:
    a = screen(make_patient(birth_date=date(1950, 1, 1)), TODAY)
    assert a.status == "eligible" and "AGE_ABOVE_TRIAL_RANGE" in codes(a)


@pytest.mark.parametrize("status", ["mild", "moderate", "severe", "dialysis"])
def test_renal_impairment_is_a_cited_caution(status: str) -> None:
    a = screen(make_patient(renal_status=status), TODAY)
    assert a.status == "eligible_with_cautions"
    finding = next(f for f in a.findings if f.code == "RENAL_IMPAIRMENT")
    assert finding.severity == "caution"
    assert "fda-naltrexone-label" in finding.sources


def test_renal_unknown_is_flagged_and_normal_is_silent() -> None:
    assert "RENAL_STATUS_UNKNOWN" in codes(screen(make_patient(renal_status="unknown"), TODAY))
    assert not {"RENAL_IMPAIRMENT", "RENAL_STATUS_UNKNOWN"} & codes(screen(make_patient(), TODAY))


def test_breastfeeding_is_a_caution_citing_label_and_lactmed() -> None:
    a = screen(make_patient(breastfeeding=True), TODAY)
    finding = next(f for f in a.findings if f.code == "BREASTFEEDING")
    assert finding.severity == "caution"
    assert {"fda-naltrexone-label", "lactmed-naltrexone"} <= set(finding.sources)


def test_earliest_start_is_the_latest_deferring_date_and_exact() -> None:
    p = make_patient(
        medications=[
            {"name": "tramadol", "active": False, "last_dose": "2026-02-25"},
            {"name": "codeine", "active": False, "last_dose": "2026-02-27"},
        ]
    )
    a = screen(p, TODAY)
    assert a.status == "not_yet" and a.earliest_start == date(2026, 3, 9)
    with pytest.raises(UnsafeToStart, match="2026-03-09") as exc:
        plan_for_patient(p, "fibromyalgia", TODAY)
    assert exc.value.earliest_start == date(2026, 3, 9)
    assert screen(p, date(2026, 3, 8)).status == "not_yet"
    assert screen(p, date(2026, 3, 9)).status != "not_yet"


def test_unknown_last_dose_means_no_earliest_date_even_with_a_dated_washout() -> None:
    p = make_patient(
        medications=[
            {"name": "tramadol", "active": False, "last_dose": "2026-02-25"},
            {"name": "codeine", "active": False},
        ]
    )
    a = screen(p, TODAY)
    assert a.status == "not_yet" and a.earliest_start is None


births = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(birth=births, start=starts, override=st.booleans())
def test_no_plan_for_a_minor_without_override_or_for_the_unborn(
    birth: date, start: date, override: bool
) -> None:
    patient = Patient.model_validate(
        {
            "id": "hyp",
            "birth_date": birth,
            "conditions": [{"code": "fibromyalgia"}],
            "paediatric_override": "Agreed by the paediatric pain MDT" if override else None,
        }
    )
    minor = (
        birth <= start
        and (start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))) < 18
    )
    try:
        plan = plan_for_patient(patient, "fibromyalgia", start)
    except UnsafeToStart:
        assert birth > start or (minor and not override)
        return
    assert birth <= start
    assert not minor or override
    assert plan.start == start


def test_override_may_name_the_clinician_and_date() -> None:
    override = {"reason": "MDT agreed: refractory CRPS", "clinician": "Dr Rivera"}
    child = make_patient(birth_date=date(2012, 1, 1), paediatric_override=override)
    finding = next(f for f in screen(child, TODAY).findings if f.code == "PAEDIATRIC_OVERRIDE")
    assert "refractory CRPS (Dr Rivera)" in finding.message


def test_impossible_birth_date_is_an_input_error_naming_the_field() -> None:
    from ldnkit.errors import ImpossibleInput, ValidationError

    unborn = make_patient(birth_date=date(2030, 5, 1))
    with pytest.raises(ValidationError) as exc:
        plan_for_patient(unborn, "fibromyalgia", TODAY)
    assert isinstance(exc.value, ImpossibleInput) and isinstance(exc.value, UnsafeToStart)
    assert exc.value.field == "birth_date" and "2030-05-01" in exc.value.reason
