"""The demo clinic that `make run` opens on: one clinician, an administrator and four patients.

Diaries are generated relative to "today" from a fixed random seed, so the clinic always looks
lived-in and tells the same stories: a responder whose pain falls by more than half, a
non-responder after twelve weeks at target, a patient whose vivid dreams and insomnia persist
(the advice moves the dose to the morning), and a new patient still in the opioid washout.
Seeding happens once; a database that already holds the demo clinician is left untouched.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ldnkit.clinical.titration import default_protocol_for, plan_for_patient
from ldnkit.store import repositories as repo
from ldnkit.store.profiles import core_patient, save_plan_version, screen_and_save

ACTOR = "seed-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    who: str


LOGINS = (
    DemoLogin("clinician", "ldn-demo-clinician", "clinician", "Dr Morgan Lee, pain clinic"),
    DemoLogin("alice", "ldn-demo-patient", "patient", "fibromyalgia, responder"),
    DemoLogin("bob", "ldn-demo-patient", "patient", "low back pain, non-responder at 12 weeks"),
    DemoLogin("carol", "ldn-demo-patient", "patient", "CRPS, vivid dreams and insomnia"),
    DemoLogin("dan", "ldn-demo-patient", "patient", "new: tramadol washout, not yet started"),
    DemoLogin("admin", "ldn-demo-admin", "admin", "administrator (audit log, accounts)"),
    DemoLogin("erin", "ldn-demo-patient", "patient", "N-of-1 trial completed, LDN helped"),
    DemoLogin("gina", "ldn-demo-patient", "patient", "N-of-1 trial completed, no clear benefit"),
    DemoLogin("frank", "ldn-demo-patient", "patient", "N-of-1 trial in progress (packs A/B)"),
    DemoLogin("pharmacist", "ldn-demo-pharmacist", "pharmacist", "compounding pharmacist"),
)

_PATIENTS: list[dict[str, Any]] = [
    {
        "login": "alice",
        "given_name": "Alice",
        "family_name": "Moreno",
        "birth_date": dt.date(1978, 4, 12),
        "profile": {
            "sex": "female",
            "conditions": [{"code": "fibromyalgia"}],
            "medications": [{"name": "duloxetine", "dose_mg": "60"}],
            "prior_therapies": [
                {"name": "duloxetine", "outcome": "partial"},
                {"name": "graded exercise", "outcome": "inadequate"},
            ],
            "pregnancy": "not_pregnant",
        },
        "started_days_ago": 70,
        "story": "responder",
    },
    {
        "login": "bob",
        "given_name": "Bob",
        "family_name": "Okafor",
        "birth_date": dt.date(1966, 9, 3),
        "profile": {
            "sex": "male",
            "conditions": [{"code": "chronic_low_back_pain"}],
            "medications": [{"name": "naproxen", "dose_mg": "500"}],
            "prior_therapies": [
                {"name": "naproxen", "outcome": "inadequate"},
                {"name": "physiotherapy", "outcome": "inadequate"},
                {"name": "exercise", "outcome": "partial"},
            ],
        },
        "started_days_ago": 90,
        "story": "non_responder",
    },
    {
        "login": "carol",
        "given_name": "Carol",
        "family_name": "Nguyen",
        "birth_date": dt.date(1985, 1, 27),
        "profile": {
            "sex": "female",
            "conditions": [{"code": "crps"}],
            "medications": [{"name": "pregabalin", "dose_mg": "150"}],
            "prior_therapies": [{"name": "pregabalin", "outcome": "partial"}],
            "pregnancy": "not_pregnant",
        },
        "started_days_ago": 30,
        "story": "side_effects",
    },
    {
        "login": "dan",
        "given_name": "Dan",
        "family_name": "Fischer",
        "birth_date": dt.date(1972, 6, 30),
        "profile": {
            "sex": "male",
            "conditions": [{"code": "painful_diabetic_neuropathy"}],
            "medications": [{"name": "tramadol", "dose_mg": "50", "active": False}],
            "prior_therapies": [{"name": "gabapentin", "outcome": "not_tolerated"}],
        },
        "tramadol_stopped_days_ago": 3,
        "story": "washout",
    },
]


def _pain(story: str, day_index: int, total: int, rng: random.Random) -> int:
    """Pain on day `day_index` of treatment (negative: baseline week)."""
    base = {"responder": 7.2, "non_responder": 6.6, "side_effects": 7.0}[story]
    if day_index < 0:
        level = base
    elif story == "responder":
        level = base - 4.0 * min(1.0, day_index / (0.7 * total))
    elif story == "non_responder":
        level = base - 0.6 * min(1.0, day_index / total)
    else:
        level = base - 1.0 * min(1.0, day_index / total)
    return max(0, min(10, round(level + rng.gauss(0, 0.7))))


def _scale(center: float, rng: random.Random) -> int:
    return max(0, min(10, round(center + rng.gauss(0, 1))))


def _diary(story: str, plan: Any, today: dt.date, rng: random.Random) -> list[dict[str, Any]]:
    entries = []
    total = (today - plan.start).days
    for offset in range(-7, total + 1):
        day = plan.start + dt.timedelta(days=offset)
        if offset >= 0 and rng.random() < 0.08 and day != today and (today - day).days > 3:
            continue  # a few missed diary days, as in life
        pain = _pain(story, offset, max(total, 1), rng)
        on_treatment = offset >= 0
        dose = plan.dose_on(day) if on_treatment else None
        if on_treatment and day > plan.end:
            dose = plan.steps[-1].dose_mg  # the maintenance dose goes on after the plan's review
        taken = on_treatment and dose is not None and dose > 0 and rng.random() > 0.04
        effects: list[dict[str, str]] = []
        sleep_center = 5.5 if story != "responder" else 5 + 2.5 * min(1, max(0, offset) / 40)
        if story == "side_effects" and on_treatment and (today - day).days < 10:
            if rng.random() < 0.85:
                effects.append({"code": "vivid_dreams", "severity": "moderate"})
            if rng.random() < 0.6:
                effects.append({"code": "insomnia", "severity": "moderate"})
            sleep_center = 3.0
        elif on_treatment and offset < 10 and rng.random() < 0.2:
            effects.append({"code": "vivid_dreams", "severity": "mild"})
        entry: dict[str, Any] = {
            "entry_date": day,
            "pain": pain,
            "sleep": _scale(sleep_center, rng),
            "mood": _scale(7 - pain * 0.4, rng),
            "energy": _scale(6.5 - pain * 0.4, rng),
            "clarity": _scale(6.5, rng),
            "dose_taken": taken,
            "side_effects": effects,
        }
        if taken:
            entry["dose_time"] = dt.time(21 + rng.randint(0, 1), rng.choice((0, 15, 30, 45)))
            entry["dose_mg"] = dose
        entries.append(entry)
    return entries


def is_seeded(engine: Engine) -> bool:
    with Session(engine) as s:
        return repo.get_user_by_username(s, "clinician") is not None


def seed_demo(engine: Engine, today: dt.date) -> bool:
    """Create the demo clinic unless it exists; True when something was created."""
    if is_seeded(engine):
        return False
    rng = random.Random(20261125)
    passwords = {login.username: login.password for login in LOGINS}
    with Session(engine) as s, s.begin():
        clinician = repo.create_clinician(
            s, name="Dr Morgan Lee", email="morgan.lee@clinic.invalid", actor=ACTOR
        )
        repo.create_user(
            s,
            username="clinician",
            password=passwords["clinician"],
            role="clinician",
            clinician_id=clinician.id,
            actor=ACTOR,
        )
        repo.create_user(
            s, username="admin", password=passwords["admin"], role="admin", actor=ACTOR
        )
        for spec in _PATIENTS:
            profile = dict(spec["profile"])
            if "tramadol_stopped_days_ago" in spec:
                stopped = today - dt.timedelta(days=spec["tramadol_stopped_days_ago"])
                profile["medications"] = [
                    {**profile["medications"][0], "last_dose": stopped.isoformat()}
                ]
            row = repo.create_patient(
                s,
                clinician_id=clinician.id,
                given_name=spec["given_name"],
                family_name=spec["family_name"],
                birth_date=spec["birth_date"],
                profile=profile,
                actor=ACTOR,
            )
            repo.create_user(
                s,
                username=spec["login"],
                password=passwords[spec["login"]],
                role="patient",
                patient_id=row.id,
                actor=ACTOR,
            )
            patient = core_patient(row.id, profile)
            if "started_days_ago" not in spec:
                screen_and_save(s, row.id, profile, today, ACTOR)
                continue
            start = today - dt.timedelta(days=spec["started_days_ago"])
            screen_and_save(s, row.id, profile, start - dt.timedelta(days=7), ACTOR)
            plan = plan_for_patient(patient, default_protocol_for(patient), start)
            save_plan_version(s, row.id, plan, ACTOR)
            entries = _diary(spec["story"], plan, today, rng)
            repo.add_diary_entries(s, [(row.id, e) for e in entries], today=today, actor=ACTOR)
        _seed_nof1(s, clinician.id, today, passwords)
    return True


def _seed_nof1(s: Session, clinician_id: int, today: dt.date, passwords: dict[str, str]) -> None:
    """N-of-1 trials (web/demo_nof1.py) and the pharmacist who holds their sealed lists."""
    from ldnkit.web.demo_nof1 import seed_nof1_demo

    repo.create_user(
        s, username="pharmacist", password=passwords["pharmacist"], role="pharmacist", actor=ACTOR
    )
    seed_nof1_demo(s, clinician_id, today, passwords, ACTOR)


__all__ = ["LOGINS", "DemoLogin", "is_seeded", "seed_demo"]
