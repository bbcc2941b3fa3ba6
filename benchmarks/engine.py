"""Throughput of the clinical engine: screening plus plan for many random patients.

Baselines (same run, same patients):
- validating each patient record with pydantic, the work every shell already pays to accept
  input; the engine should cost the same order, so that it is never the slow part;
- "today's engine": the same screening and planning with the exact-word opioid lookup it had
  before medication recognition (kept here only, as `_exact_word_*`), so the cost of full
  recognition (tokens, multi-word names, codes, rapidfuzz near-misses) shows as a ratio.

Medication lines are chart wording ("OXYCODONE HCL 5 MG PO TABS", "Tylenol #3", "tramodol").
The recogniser memoises each distinct line, so the run is repeated with every line made unique
(a per-patient strength) to measure the uncached cost too; recognition of those unique lines
alone is then timed against the exact-word lookup (microseconds per line), since screening +
plan also pays for plan building and findings that both engines share.
Target from the issue: >= 5,000 patients/s for screening + plan, one core.

    .venv/bin/python benchmarks/engine.py [--patients 100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from ldnkit.clinical import screening
from ldnkit.clinical.models import Finding, Patient
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
    "OXYCODONE HCL 5 MG PO TABS",
    "hydrocodone-acetaminophen 10-325 mg tablet",
    "Tylenol #3",
    "co-codamol 30/500",
    "fentanyl 25 mcg/hr patch",
    "MS Contin 30 mg BID",
    "Suboxone film 8/2",
    "Sublocade 100 mg monthly",
    "tramodol 50mg",
    "Lyrica 75mg BID",
    "Cymbalta 60 mg",
    "Lisinopril 10 mg tablet, take one by mouth daily",
    "Atorvastatin 40mg nightly",
    "Vitamin D3 50,000 units weekly",
    "Imodium 2 mg prn",
    "Vivitrol",
    "Contrave ER",
    "zorblax 5 mg",
]

# -- today's engine: the exact-word opioid lookup screening used before recognition ---------
_EXACT_OPIOIDS = {
    "morphine": ("standard", "ms contin kadian oramorph sevredol"),
    "codeine": ("standard", "tylenol 3|co-codamol|codeine phosphate"),
    "dihydrocodeine": ("standard", "df118 co-dydramol"),
    "tramadol": ("standard", "ultram ultracet zydol tramal conzip"),
    "tapentadol": ("standard", "nucynta palexia"),
    "oxycodone": ("standard", "oxycontin percocet roxicodone endocet oxynorm targin"),
    "hydrocodone": ("standard", "vicodin norco lortab zohydro hysingla"),
    "hydromorphone": ("standard", "dilaudid exalgo palladone"),
    "oxymorphone": ("standard", "opana"),
    "fentanyl": ("standard", "duragesic actiq fentora abstral durogesic"),
    "meperidine": ("standard", "pethidine demerol"),
    "levorphanol": ("standard", ""),
    "pentazocine": ("standard", "talwin"),
    "butorphanol": ("standard", "stadol"),
    "nalbuphine": ("standard", "nubain"),
    "diamorphine": ("standard", "heroin"),
    "dextropropoxyphene": ("standard", "propoxyphene darvon"),
    "buprenorphine": ("long_acting", "suboxone subutex butrans belbuca sublocade zubsolv temgesic"),
    "methadone": ("long_acting", "methadose dolophine physeptone"),
}
_EXACT_NAMES = {
    alias: (oid, washout)
    for oid, (washout, aliases) in _EXACT_OPIOIDS.items()
    for alias in (oid, *aliases.replace("|", " ").split())
}
_EXACT_NAMES |= {"tylenol 3": ("codeine", "standard"), "ms contin": ("morphine", "standard")}


def _exact_word_opioid(name: str) -> tuple[str, str] | None:
    low = name.strip().lower()
    if low in _EXACT_NAMES:
        return _EXACT_NAMES[low]
    for word in low.replace("/", " ").replace("-", " ").replace("+", " ").split():
        if word in _EXACT_NAMES:
            return _EXACT_NAMES[word]
    return None


def _exact_word_findings(patient: Patient, on: date, ev: Any) -> list[Finding]:
    """The medication part of screening as it was: exact words, no codes, no depots."""
    safety = ev.dosing.safety
    window = safety.opioid_free_days
    out: list[Finding] = []
    for med in patient.medications:
        low = med.name.lower()
        if "contrave" in low or "mysimba" in low or ("naltrexone" in low and "bupropion" in low):
            if med.active:
                out.append(screening._finding(ev, "NALTREXONE_BUPROPION", drug=med.name))
            continue
        if "naltrexone" in low:
            continue
        hit = _exact_word_opioid(med.name)
        if hit is None:
            continue
        oid, washout = hit
        days = safety.long_acting_opioid_free_days if washout == "long_acting" else int(window.max)
        span = str(days) if washout == "long_acting" else f"{int(window.min)}-{days}"
        if med.active:
            out.append(screening._finding(ev, "ACTIVE_OPIOID", drug=med.name, what=oid))
        elif med.last_dose is None:
            out.append(
                screening._finding(
                    ev,
                    "OPIOID_LAST_DOSE_UNKNOWN",
                    drug=med.name,
                    what=oid,
                    days=span,
                    max_days=days,
                )
            )
        elif on < med.last_dose + timedelta(days=days):
            earliest = med.last_dose + timedelta(days=days)
            out.append(
                screening._finding(
                    ev,
                    "OPIOID_WASHOUT",
                    earliest_start=earliest,
                    drug=med.name,
                    what=oid,
                    basis="opioid-free window",
                    last_dose=med.last_dose.isoformat(),
                    days=span,
                    max_days=days,
                    earliest=earliest.isoformat(),
                )
            )
        else:
            out.append(
                screening._finding(
                    ev,
                    "OPIOID_WASHOUT_COMPLETE",
                    drug=med.name,
                    what=oid,
                    last_dose=med.last_dose.isoformat(),
                    max_days=days,
                )
            )
    return out


def _exact_word_occult(patient: Patient, ev: Any) -> str | None:
    if patient.opioid_use_disorder_history:
        return "history of opioid use disorder"
    past = [m.name for m in patient.medications if _exact_word_opioid(m.name) is not None]
    return f"recent opioid use ({', '.join(past)})" if past else None


def random_patient(rng: random.Random, i: int, base: date, unique: bool = False) -> dict[str, Any]:
    ev = default_evidence()
    meds = []
    for k in range(rng.randint(0, 3)):
        active = rng.random() < 0.3
        name = rng.choice(DRUGS)
        meds.append(
            {
                # unique: a per-patient strength makes every line a cache miss
                "name": f"{name} {i}.{k} mg" if unique else name,
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


def _run(patients: list[Patient], base: date) -> tuple[float, Counter[str], int]:
    """Seconds for screening + plan of every patient (`plan_for_patient` screens first and
    refuses what screening forbids), as the issue's target counts it."""
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
    return time.perf_counter() - t0, outcomes, steps


def _clear_caches() -> None:
    from ldnkit.clinical.medications import recogniser

    screening._cached_finding.cache_clear()
    recogniser.cache_clear()
    default_evidence()


def _recognition_only(patients: list[Patient], chunks: int) -> dict[str, float]:
    """Microseconds per medication line: a fresh recogniser's `medication` against the
    exact-word lookup, over the same (unique) lines, in alternating chunks."""
    from ldnkit.clinical.medications import Recogniser

    lines = [(m.name, m.codes) for p in patients for m in p.medications]
    rec = Recogniser(default_evidence())
    seconds: Counter[str] = Counter()
    step = max(1, len(lines) // chunks)
    for j, start in enumerate(range(0, len(lines), step)):
        part = lines[start : start + step]
        order = ["today", "recognition"] if j % 2 == 0 else ["recognition", "today"]
        for name in order:
            t0 = time.perf_counter()
            if name == "today":
                for text, _ in part:
                    _exact_word_opioid(text)
            else:
                for text, codes in part:
                    rec.medication(text, codes)
            seconds[name] += time.perf_counter() - t0
    return {name: s / len(lines) * 1e6 for name, s in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunks", type=int, default=20, help="alternations of the engines")
    args = parser.parse_args()
    base = date(2026, 6, 1)
    default_evidence()  # load once, outside the timings
    n = args.patients
    raw = [random_patient(random.Random(args.seed * 1_000_003 + i), i, base) for i in range(n)]
    raw_unique = [
        random_patient(random.Random(args.seed * 1_000_003 + i), i, base, unique=True)
        for i in range(n)
    ]

    t0 = time.perf_counter()
    patients = [Patient.model_validate(r) for r in raw]
    t_parse = time.perf_counter() - t0
    unique = [Patient.model_validate(r) for r in raw_unique]

    # The engines run in alternating chunks (and alternating order within a chunk), so load
    # from other processes on a shared machine falls on both alike; caches are cleared once
    # per patient group.
    full, full_occult = screening._medication_findings, screening._occult_dependence_reason
    engines = {
        "today": (_exact_word_findings, _exact_word_occult),
        "recognition": (full, full_occult),
    }
    seconds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    out_today: Counter[str] = Counter()
    steps = 0
    chunk = max(1, n // args.chunks)
    try:
        for suffix, group in (("", patients), (", unique", unique)):
            _clear_caches()
            for j, start in enumerate(range(0, n, chunk)):
                part = group[start : start + chunk]
                order = list(engines.items())
                for name, (findings, occult) in order if j % 2 == 0 else order[::-1]:
                    screening._medication_findings = findings  # type: ignore[assignment]
                    screening._occult_dependence_reason = occult  # type: ignore[assignment]
                    t, out, k = _run(part, base)
                    seconds[name + suffix] += t
                    if not suffix:
                        (outcomes if name == "recognition" else out_today).update(out)
                        steps += k if name == "recognition" else 0
    finally:
        screening._medication_findings = full  # type: ignore[assignment]
        screening._occult_dependence_reason = full_occult  # type: ignore[assignment]
    t_today, t_today_u = seconds["today"], seconds["today, unique"]
    t_new, t_new_u = seconds["recognition"], seconds["recognition, unique"]

    rate = {
        "parse (baseline)": n / t_parse,
        "today": n / t_today,
        "today, unique": n / t_today_u,
        "recognition": n / t_new,
        "recognition, unique": n / t_new_u,
    }
    print(f"patients: {n:,}  outcomes: {dict(outcomes)}  plan steps: {steps:,}")
    print(f"today's engine outcomes (exact words): {dict(out_today)}")
    print("screening + plan per patient:")
    labels = {"today": "today's engine", "today, unique": "today's engine, unique"}
    for name, r in rate.items():
        print(f"{labels.get(name, name):>24}: {r:>10,.0f} patients/s")
    print(f"ratio recognition / today's engine: {rate['recognition'] / rate['today']:.2f}")
    print(
        "ratio recognition, unique / today's, unique: "
        f"{rate['recognition, unique'] / rate['today, unique']:.2f}"
    )
    print(
        f"ratio recognition / parse baseline: {rate['recognition'] / rate['parse (baseline)']:.2f}"
    )
    for name in ("recognition", "recognition, unique"):
        print(f"ratio {name} / target {TARGET_PER_S:,}/s: {rate[name] / TARGET_PER_S:.2f}")
    per_line = _recognition_only(unique, args.chunks)
    print(
        "unique lines alone: recognition "
        f"{per_line['recognition']:.2f} us/line, exact-word lookup {per_line['today']:.2f} us/line"
        f", ratio {per_line['recognition'] / per_line['today']:.1f}"
    )


if __name__ == "__main__":
    main()
