"""Throughput of the clinical engine: screening plus plan for many random patients.

Baseline (same run, same patients): validating each patient record with pydantic, the work
every shell already pays to accept input. The engine should cost the same order, so that it is
never the slow part. Target from the issue: >= 5,000 patients/s for screening + plan, one core.

    .venv/bin/python benchmarks/engine.py [--patients 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from ldnkit.clinical.models import Patient
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import default_protocol_for, plan_for_patient
from ldnkit.errors import LdnkitError
from ldnkit.evidence import default_evidence

TARGET_PER_S = 5_000
DRUGS = [
    "tramadol",
    "codeine",
    "buprenorphine",
    "oxycodone",
    "morphine",
    "fentanyl",
    "ibuprofen",
    "gabapentin",
    "duloxetine",
    "naproxen",
    "pregabalin",
]


def random_patient(rng: random.Random, i: int, base: date) -> dict[str, Any]:
    ev = default_evidence()
    meds = []
    for _ in range(rng.randint(0, 3)):
        active = rng.random() < 0.3
        meds.append(
            {
                "name": rng.choice(DRUGS),
                "active": active,
                "last_dose": None
                if active
                else (base - timedelta(days=rng.randint(0, 40))).isoformat(),
            }
        )
    procs = []
    if rng.random() < 0.2:
        procs.append(
            {"name": "op", "date": (base + timedelta(days=rng.randint(5, 200))).isoformat()}
        )
    return {
        "id": f"p{i}",
        "conditions": [{"code": rng.choice(sorted(ev.conditions))}],
        "medications": meds,
        "opioid_use_disorder_history": rng.random() < 0.05,
        "hepatic_status": rng.choices(
            ["normal", "compensated_cirrhosis", "acute_hepatitis"], [0.95, 0.04, 0.01]
        )[0],
        "pregnancy": rng.choices(["not_applicable", "pregnant", "planning"], [0.95, 0.02, 0.03])[0],
        "prior_therapies": [{"name": rng.choice(DRUGS)} for _ in range(rng.randint(0, 2))],
        "planned_procedures": procs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = date(2026, 6, 1)
    default_evidence()  # load once, outside the timings
    raw = [random_patient(rng, i, base) for i in range(args.patients)]

    t0 = time.perf_counter()
    patients = [Patient.model_validate(r) for r in raw]
    t_parse = time.perf_counter() - t0

    t0 = time.perf_counter()
    for p in patients:
        screen(p, base)
    t_screen = time.perf_counter() - t0

    outcomes: Counter[str] = Counter()
    steps = 0
    t0 = time.perf_counter()
    for p in patients:
        try:
            plan = plan_for_patient(p, default_protocol_for(p), base)
            steps += len(plan.steps)
            outcomes["planned"] += 1
        except LdnkitError as exc:
            outcomes[type(exc).__name__] += 1
    t_both = time.perf_counter() - t0

    n = args.patients
    rate = {
        name: n / t
        for name, t in (
            ("parse (baseline)", t_parse),
            ("screen", t_screen),
            ("screen + plan", t_both),
        )
    }
    print(f"patients: {n:,}  outcomes: {dict(outcomes)}  plan steps: {steps:,}")
    for name, r in rate.items():
        print(f"{name:>18}: {r:>10,.0f} patients/s")
    print(
        f"ratio screen+plan / parse baseline: {rate['screen + plan'] / rate['parse (baseline)']:.2f}"
    )
    print(
        f"ratio screen+plan / target {TARGET_PER_S:,}/s: {rate['screen + plan'] / TARGET_PER_S:.2f}"
    )


if __name__ == "__main__":
    main()
