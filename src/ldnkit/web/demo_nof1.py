"""The demo clinic's N-of-1 trials: two completed and unblinded (one responder, one not, so
the clinician can pool them), and one in its third period. Called by `demo_seed.seed_demo`.

Diaries are written the way patients would: pain follows the sealed pack contents (an effect
on LDN days, AR(1) day-to-day noise), with a few missed days and end-of-period guesses.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.clinical.titration import default_protocol_for, plan_for_patient
from ldnkit.store import nof1_trials as svc
from ldnkit.store import repositories as repo
from ldnkit.store.models import Nof1AllocationRow
from ldnkit.store.profiles import core_patient, save_plan_version, screen_and_save
from ldnkit.store.repositories import nof1 as trials

__all__ = ["NOF1_PATIENTS", "seed_nof1_demo"]

NOF1_PATIENTS: list[dict[str, Any]] = [
    {
        "login": "erin",
        "given_name": "Erin",
        "family_name": "Walsh",
        "birth_date": dt.date(1981, 2, 14),
        "condition": "fibromyalgia",
        "effect": -1.6,
        "phase": "completed",
        "seed": 4401,
    },
    {
        "login": "gina",
        "given_name": "Gina",
        "family_name": "Rossi",
        "birth_date": dt.date(1969, 11, 2),
        "condition": "fibromyalgia",
        "effect": -0.2,
        "phase": "completed",
        "seed": 4402,
    },
    {
        "login": "frank",
        "given_name": "Frank",
        "family_name": "Osei",
        "birth_date": dt.date(1975, 7, 21),
        "condition": "chronic_low_back_pain",
        "effect": -1.0,
        "phase": "mid",
        "seed": 4403,
    },
]


def _profile(condition: str) -> dict[str, Any]:
    return {
        "sex": "unknown",
        "conditions": [{"code": condition}],
        "medications": [],
        "prior_therapies": [{"name": "physiotherapy", "outcome": "inadequate"}],
    }


def _trial_diary(
    s: Session, trial_id: int, effect: float, upto: dt.date, rng: random.Random
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    row = trials.get_trial(s, trial_id)
    design = trials.design_of(row)
    alloc = trials.allocation_of(
        s.scalars(select(Nof1AllocationRow).where(Nof1AllocationRow.trial_id == trial_id)).one()
    )
    entries, guesses, e = [], [], 0.0
    for day in range(design.total_days):
        when = design.date_of(day)
        if when > upto:
            break
        e = 0.45 * e + rng.gauss(0, 0.85)
        info = design.day_info(when)
        on = info.period is not None and alloc.is_ldn(info.period)
        run_in = 0.6 * effect if info.stage == "run_in" else 0.0
        pain = max(0, min(10, round(6.3 + e + (effect if on else 0.0) + run_in)))
        if rng.random() < 0.06 and info.period is not None and not info.last_day_of_period:
            continue
        effects = []
        if on and rng.random() < 0.1:
            effects.append({"code": "vivid_dreams", "severity": "mild"})
        entries.append(
            {
                "entry_date": when,
                "pain": pain,
                "sleep": max(0, min(10, round(6 + rng.gauss(0, 1)))),
                "dose_taken": True,
                "side_effects": effects,
            }
        )
        if info.last_day_of_period and info.period is not None:
            p = info.period
            if abs(effect) >= 1 and rng.random() < 0.7:
                guesses.append((p.index, "ldn" if on else "comparator"))
            else:
                guesses.append((p.index, rng.choice(["ldn", "comparator", "unsure"])))
    return entries, guesses


def seed_nof1_demo(
    s: Session, clinician_id: int, today: dt.date, passwords: dict[str, str], actor: str
) -> None:
    """Create the N-of-1 demo patients, their titration, trials, diaries and results."""
    rng = random.Random(20261201)
    for spec in NOF1_PATIENTS:
        profile = _profile(spec["condition"])
        row = repo.create_patient(
            s,
            clinician_id=clinician_id,
            given_name=spec["given_name"],
            family_name=spec["family_name"],
            birth_date=spec["birth_date"],
            profile=profile,
            actor=actor,
        )
        repo.create_user(
            s,
            username=spec["login"],
            password=passwords[spec["login"]],
            role="patient",
            patient_id=row.id,
            actor=actor,
        )
        patient = core_patient(row.id, profile)
        # Titration first (it gives the trial's dose), then the blinded trial.
        days_back = 230 if spec["phase"] == "completed" else 130
        titration_start = today - dt.timedelta(days=days_back)
        screen_and_save(s, row.id, profile, titration_start - dt.timedelta(days=7), actor)
        plan = plan_for_patient(patient, default_protocol_for(patient), titration_start)
        save_plan_version(s, row.id, plan, actor)
        dose = svc.titrated_dose(s, row.id)
        trial_start = titration_start + dt.timedelta(days=56)
        trial, design = svc.start_trial(
            s, row.id, trial_start, actor, dose_mg=Decimal(dose), seed=spec["seed"]
        )
        upto = min(design.end, today - dt.timedelta(days=1))
        entries, guesses = _trial_diary(s, trial.id, spec["effect"], upto, rng)
        repo.add_diary_entries(s, [(row.id, e) for e in entries], today=today, actor=actor)
        for period, guess in guesses:
            trials.save_answer(s, trial.id, period, guess, None, actor)
        if spec["phase"] == "completed":
            trials.unblind(s, trial.id, actor=actor, kind="final", today=today)
            svc.analyse_trial(s, trial.id, actor)
