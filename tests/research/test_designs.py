"""Designs, schedules, randomisation lists and trial eligibility."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from icalendar import Calendar

from ldnkit.clinical.models import Medication, Patient
from ldnkit.errors import ValidationError
from ldnkit.research.designs import (
    DESIGNS,
    Design,
    n_of_1,
    schedule,
    schedule_ics,
    two_period_crossover,
    younger_2009_crossover,
)
from ldnkit.research.eligibility import TrialCandidate, TrialCriteria, check
from ldnkit.research.randomisation import n_of_1_orders, randomisation_list


def test_seed_protocol_phases_and_visits() -> None:
    d = younger_2009_crossover()
    assert [(p.name, p.days) for p in d.phases] == [
        ("baseline", 14),
        ("placebo", 14),
        ("ldn", 56),
        ("washout", 14),
    ]
    rows = schedule(d, date(2026, 1, 5))
    assert rows[0].date == date(2026, 1, 5) and "esr" in rows[0].assessments
    lab_days = [r.day for r in rows if "heat_threshold" in r.assessments]
    assert lab_days[:4] == [0, 14, 28, 42]  # bi-weekly lab visits
    assert all("symptom_severity" in r.assessments for r in rows)
    daily = schedule(d, daily=True)
    assert len(daily) == d.total_days == 98


def test_calendar_is_valid_icalendar() -> None:
    d = younger_2009_crossover()
    cal = Calendar.from_ical(schedule_ics(d, date(2026, 1, 5)))
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(d.visits)
    assert events[0]["dtstart"].dt == date(2026, 1, 5)


def test_all_ready_designs_validate() -> None:
    for build in DESIGNS.values():
        d = build()
        assert d.total_days > 0 and d.treatment_periods
    cx = two_period_crossover(period_weeks=4, washout_weeks=1)
    assert [p.name for p in cx.phases] == ["baseline", "period 1", "washout", "period 2"]
    assert n_of_1(cycles=4).treatment_periods[-1].period == 8


def test_design_and_criteria_sources_resolve() -> None:
    from ldnkit.evidence import default_evidence

    refs = default_evidence().references
    for build in DESIGNS.values():
        d = build()
        assert d.sources and all(s in refs for s in d.sources)
        assert all(s in refs for a in d.assessments for s in a.sources)
    assert all(s in refs for s in TrialCriteria().sources)


def test_parsing_a_design_file_runs_the_checks() -> None:
    d = younger_2009_crossover().model_dump()
    d["phases"][2]["start_day"] = 30  # gap of 2 days before 'ldn'
    with pytest.raises(ValidationError, match="gap of 2 days"):
        Design.model_validate(d)


def test_overlapping_phases_are_rejected_by_name() -> None:
    d = younger_2009_crossover().model_dump()
    d["phases"][1]["start_day"] = 10  # placebo now overlaps the baseline
    with pytest.raises(ValidationError) as err:
        Design(**d)
    assert err.value.field == "phases"
    assert "overlaps 'baseline'" in str(err.value)


def test_sequence_must_cover_every_phase() -> None:
    d = younger_2009_crossover().model_dump()
    del d["sequences"][0]["treatments"]["washout"]
    with pytest.raises(ValidationError, match="missing \\['washout'\\]"):
        Design(**d)


def test_blocked_stratified_randomisation_is_balanced_and_seeded() -> None:
    d = two_period_crossover()
    lst = randomisation_list(d, 24, strata=("ESR high", "ESR low"), block_sizes=(2, 4), seed=3)
    assert lst == randomisation_list(d, 24, ("ESR high", "ESR low"), (2, 4), seed=3)
    assert lst != randomisation_list(d, 24, ("ESR high", "ESR low"), (2, 4), seed=4)
    for stratum in ("ESR high", "ESR low"):
        arms = [a.arm for a in lst if a.stratum == stratum]
        assert len(arms) == 24
        assert Counter(arms) == {"LDN-placebo": 12, "placebo-LDN": 12}
        # balance holds at the end of every complete block
        seen: Counter[str] = Counter()
        for a in (a for a in lst if a.stratum == stratum):
            seen[a.arm] += 1
            if a.number == sum(1 for b in lst if b.stratum == stratum and b.block <= a.block):
                assert seen["LDN-placebo"] == seen["placebo-LDN"]
    with pytest.raises(ValidationError, match="block_sizes"):
        randomisation_list(d, 10, block_sizes=(3,))
    with pytest.raises(ValidationError, match="nothing to randomise"):
        randomisation_list(younger_2009_crossover(), 10)
    assert len(n_of_1_orders(3, seed=1)) == 3


ON = date(2026, 3, 1)


def _candidate(**kw) -> TrialCandidate:
    base = dict(id="T1", birth_date=date(1980, 5, 1), sex="female", pregnancy="not_pregnant")
    base.update(kw)
    return TrialCandidate(patient=Patient(**base), meets_acr_fibromyalgia=True)


def test_eligible_candidate() -> None:
    res = check(_candidate(), ON)
    assert res.status == "eligible" and res.eligible and res.reasons() == []
    assert all(c.sources for c in res.criteria)


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"birth_date": date(1950, 1, 1)}, "AGE"),
        ({"birth_date": date(2010, 1, 1)}, "AGE"),
        ({"medications": [Medication(name="tramadol")]}, "NO_OPIOID_ANALGESICS"),
        ({"allergies": ["naltrexone"]}, "NO_NALTREXONE_ALLERGY"),
        ({"pregnancy": "planning"}, "NOT_PREGNANT_OR_PLANNING"),
        ({"pregnancy": "pregnant"}, "NOT_PREGNANT_OR_PLANNING"),
    ],
)
def test_trial_exclusions(kw, code) -> None:
    res = check(_candidate(**kw), ON)
    assert res.status == "ineligible"
    assert code in {c.code for c in res.criteria if not c.met}


def test_acr_criteria_required() -> None:
    cand = TrialCandidate(patient=_candidate().patient, meets_acr_fibromyalgia=False)
    assert check(cand, ON).status == "ineligible"
    relaxed = TrialCriteria(require_acr_fibromyalgia=False)
    assert check(cand, ON, relaxed).status == "eligible"


def test_clinical_screening_is_combined() -> None:
    # Trial criteria pass, but the clinical screen contraindicates (decompensated cirrhosis).
    res = check(_candidate(hepatic_status="decompensated_cirrhosis"), ON)
    assert res.status == "ineligible"
    assert res.screening.status == "contraindicated"
    assert any("irrhosis" in r for r in res.reasons())
    # Opioid stopped 3 days ago: not a current opioid user, but inside the opioid-free window.
    stopped = Medication(name="oxycodone", active=False, last_dose=date(2026, 2, 26))
    res = check(_candidate(medications=[stopped]), ON)
    assert res.status == "not_yet"
    assert res.screening.earliest_start is not None
