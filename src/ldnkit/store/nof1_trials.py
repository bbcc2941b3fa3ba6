"""N-of-1 trials between the store and the core: start, monitor, analyse, pool.

The web app, the CLI and the demo seed all go through these functions, so a trial started or
analysed by any door is stored, audited and computed the same way. The core (research.nof1)
stays pure; this module reads the diary and the sealed list and hands the core plain data.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ldnkit.errors import NotFound, ValidationError
from ldnkit.research.nof1 import (
    Nof1Design,
    Nof1Prior,
    Nof1Report,
    Nof1Settings,
    PooledTrials,
    blinding_check,
    build_report,
    check_stopping,
    design_trial,
    fit,
    pool_trials,
    series_from_diary,
)
from ldnkit.research.nof1.analysis import Nof1Result
from ldnkit.store import repositories as repo
from ldnkit.store.models import Nof1TrialRow
from ldnkit.store.repositories import nof1 as trials

__all__ = [
    "analyse_trial",
    "clinic_prior",
    "monitor",
    "pool_clinic",
    "pooled_export",
    "start_trial",
    "titrated_dose",
    "trial_diary",
]


def titrated_dose(session: Session, patient_id: int) -> Decimal:
    """The dose the patient reached in titration: the last dosed step of the current plan."""
    row = repo.current_plan(session, patient_id)
    if row is None:
        raise NotFound("plan for patient", str(patient_id))
    doses = [Decimal(str(s["dose_mg"])) for s in row.payload.get("steps", [])]
    doses = [d for d in doses if d > 0]
    if not doses:
        raise ValidationError("plan", "the current plan has no dosed step")
    return doses[-1]


def start_trial(
    session: Session,
    patient_id: int,
    start: dt.date,
    actor: str,
    *,
    dose_mg: Decimal | None = None,
    seed: int | None = None,
    **options: Any,
) -> tuple[Nof1TrialRow, Nof1Design]:
    """Design and store a trial; the dose defaults to the titrated dose, the seed to a fresh
    random one (kept only in the sealed list)."""
    if dose_mg is None:
        try:
            dose = titrated_dose(session, patient_id)
        except (NotFound, ValidationError):
            raise ValidationError(
                "dose_mg", "the patient has no dosed titration plan; enter the trial dose"
            ) from None
    else:
        dose = dose_mg
    settings = Nof1Settings(
        dose_mg=dose,
        start=start,
        seed=seed if seed is not None else secrets.randbits(62),
        **options,
    )
    design, alloc = design_trial(settings)
    row = trials.create_trial(session, patient_id, design, alloc, actor)
    return row, design


def trial_diary(
    session: Session, trial: Nof1TrialRow
) -> tuple[dict[dt.date, float], dict[dt.date, list[dict[str, str]]]]:
    """Pain and side effects by date over the trial's dates (current diary revisions)."""
    rows = repo.current_entries(
        session, trial.patient_id, start=trial.start_date, end=trial.end_date
    )
    pain = {r.entry_date: float(r.pain) for r in rows}
    se = {r.entry_date: list(r.side_effects or []) for r in rows if r.side_effects}
    return pain, se


def monitor(session: Session, trial: Nof1TrialRow, today: dt.date) -> dict[str, Any]:
    """What the clinician sees while the trial runs: progress, stop signals, pain per pack.

    Blinded: periods are listed by pack letter only; mean pain per pack letter is shown
    because the letters alone say nothing about which is LDN.
    """
    design = trials.design_of(trial)
    pain, se = trial_diary(session, trial)
    info = design.day_info(today)
    per_pack: dict[str, list[float]] = {"A": [], "B": []}
    for when, v in pain.items():
        d = design.day_info(when)
        if d.stage == "period" and d.analysed and d.period is not None:
            per_pack[d.period.pack].append(v)
    request_on = trial.stopped_on if trial.stop_reason == "patient_request" else None
    signals = check_stopping(design, pain, se, patient_request_on=request_on)
    expected = max(0, min(design.day_of(today), design.total_days))
    return {
        "ref": trial.ref,
        "status": trial.status,
        "day": info.day,
        "stage": info.stage,
        "period": info.period.index if info.period else None,
        "pack": info.period.pack if info.period else None,
        "days_recorded": len(pain),
        "days_expected": expected,
        "mean_pain_by_pack": {
            k: (round(sum(v) / len(v), 2) if v else None) for k, v in per_pack.items()
        },
        "answers": len(trials.answers(session, trial.id)),
        "stop_signals": [sig.to_dict() for sig in signals],
        "end": design.end.isoformat(),
        "washout_days": design.washout_days,
        "period_days": design.period_days,
    }


def analyse_trial(
    session: Session,
    trial_id: int,
    actor: str,
    *,
    prior: Nof1Prior | None = None,
    save: bool = True,
) -> tuple[Nof1TrialRow, Nof1Result, Nof1Report]:
    """Fit and report an unblinded trial (reading the sealed list is audited)."""
    trial = trials.get_trial(session, trial_id)
    if trial.unblinded_at is None:
        raise ValidationError("trial", f"trial {trial.ref} must be unblinded before analysis")
    design = trials.design_of(trial)
    purpose = "emergency" if trial.unblind_kind == "emergency" else "final"
    alloc = trials.read_allocation(session, trial_id, actor=actor, purpose=purpose)
    pain, se = trial_diary(session, trial)
    s = design.settings
    result = fit(
        series_from_diary(design, alloc, pain),
        prior=prior,
        goal_points=s.goal_points,
        relative=s.goal_relative,
    )
    guesses = [(a.period, a.guess) for a in trials.answers(session, trial_id)]
    chk = blinding_check(design, alloc, guesses) if guesses else None  # type: ignore[arg-type]
    report = build_report(design, alloc, result, pain, se, chk)
    if save:
        trials.save_result(
            session, trial_id, {"report": report.to_dict(), "svg": report.svg}, actor
        )
    return trial, result, report


def _completed_results(
    session: Session, clinician_id: int | None
) -> list[tuple[Nof1TrialRow, Mapping[str, Any]]]:
    out = []
    for t in trials.list_trials(session, clinician_id=clinician_id):
        if t.unblinded_at is not None and t.unblind_kind == "final" and t.result:
            out.append((t, t.result["report"]["result"]))
    return out


def pool_clinic(
    session: Session, clinician_id: int | None = None, responder_points: float = 1.0
) -> PooledTrials:
    """Pool every completed, unblinded trial with a saved result (one clinician's or all)."""
    rows = _completed_results(session, clinician_id)
    pairs: Sequence[tuple[str, Any]] = [(t.ref, _Stored(r)) for t, r in rows]
    return pool_trials(pairs, responder_points=responder_points)  # type: ignore[arg-type]


class _Stored:
    """A saved result as the two numbers pooling reads (posterior mean and SD of the effect)."""

    def __init__(self, r: Mapping[str, Any]) -> None:
        self.effect_mean = float(r["effect_mean"])
        self.effect_sd = float(r["effect_sd"])


def clinic_prior(
    session: Session, exclude_trial_id: int | None = None, clinician_id: int | None = None
) -> Nof1Prior:
    """A prior for one more patient from the clinic's other completed trials (Zucker 1997):
    the predictive N(mu, tau^2 + SE(mu)^2) of the pooled model, on the conjugate scale of
    their average day-to-day SD, labelled with where it came from."""
    rows = [
        (t, r) for t, r in _completed_results(session, clinician_id) if t.id != exclude_trial_id
    ]
    if len(rows) < 2:
        raise ValidationError("prior", "an informed prior needs at least 2 other completed trials")
    pooled = pool_trials([(t.ref, _Stored(r)) for t, r in rows])  # type: ignore[misc]
    sd = (pooled.meta.tau2 + pooled.meta.se**2) ** 0.5
    sigma = sum(float(r["sigma_mean"]) for _, r in rows) / len(rows)
    return Nof1Prior.informed(
        pooled.mean, sd, sigma, f"the clinic's {len(rows)} completed N-of-1 trials"
    )


def pooled_export(session: Session, clinician_id: int | None = None) -> list[dict[str, Any]]:
    """One row per completed trial, without names, ids of patients or dates of birth."""
    out = []
    for t, r in _completed_results(session, clinician_id):
        d = t.design["settings"]
        out.append(
            {
                "trial": t.ref,
                "dose_mg": d["dose_mg"],
                "comparator": "placebo"
                if d.get("comparator_dose_mg") is None
                else d["comparator_dose_mg"],
                "pairs": d["pairs"],
                "effect_mean": r["effect_mean"],
                "effect_sd": r["effect_sd"],
                "ci95_low": r["ci95"][0],
                "ci95_high": r["ci95"][1],
                "p_benefit": r["p_benefit"],
                "p_goal": r["p_goal"],
                "n_days": r["n_days"],
            }
        )
    return out
