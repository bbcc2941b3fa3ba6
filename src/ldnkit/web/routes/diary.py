"""The patient diary: today's dose, the 30-second diary form, history, today's advice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ldnkit.clinical.diary import SEVERITIES, DiaryEntry, validate_diary_entry
from ldnkit.clinical.history import plan_in_force
from ldnkit.errors import NotFound
from ldnkit.evidence import default_evidence
from ldnkit.store import repositories as repo
from ldnkit.web import forms, services
from ldnkit.web.charts import timeline_figure
from ldnkit.web.deps import CurrentUser, Db, InScope, Today
from ldnkit.web.routes.nof1 import today_card as nof1_today_card
from ldnkit.web.schemas import AdviceOut, DiaryOut
from ldnkit.web.templating import form_page, render
from ldnkit.web.writes import DIARY, DiaryWrite

api = APIRouter(prefix="/api/patients/{patient_id}", tags=["diary"])
pages = APIRouter(prefix="/patients/{patient_id}", include_in_schema=False)


async def _store(db: Db, patient_id: int, data: Any, today: dt.date, actor: str) -> dict[str, Any]:
    """Validate now (errors never reach the writer), then queue for the next group commit."""
    entry = validate_diary_entry(data, today=today)
    return await db.awrite_item(DIARY, DiaryWrite(patient_id, entry, actor))


@api.get("/diary", response_model=list[DiaryOut])
def api_list(
    patient: InScope, db: Db, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """The current revision of each day, oldest first."""
    with db.read() as s:
        return [
            services.diary_row_dict(r)
            for r in repo.current_entries(s, patient.id, start=start, end=end)
        ]


@api.post("/diary", response_model=DiaryOut, status_code=201)
async def api_add(
    patient: InScope, body: DiaryEntry, user: CurrentUser, db: Db, today: Today
) -> dict[str, Any]:
    """Record a day's entry; a second entry for the same day is kept as a correction.

    The response is sent only after the entry is committed to disk.
    """
    return await _store(db, patient.id, body, today, user.actor)


@api.get("/diary/{entry_date}/history", response_model=list[DiaryOut])
def api_history(patient: InScope, entry_date: dt.date, db: Db) -> list[dict[str, Any]]:
    """Every revision of one day, oldest first (corrections never overwrite)."""
    with db.read() as s:
        rows = repo.entry_history(s, patient.id, entry_date)
        if not rows:
            raise NotFound("diary entry", f"{patient.id}/{entry_date.isoformat()}")
        return [services.diary_row_dict(r) for r in rows]


@api.get("/advice", response_model=AdviceOut)
def api_advice(patient: InScope, user: CurrentUser, db: Db, today: Today) -> dict[str, Any]:
    """Today's response-guided advice: reasons and sources for the clinician; the patient gets
    patient language only (no dose, no clinical reasoning), as on their Today page."""
    with db.read() as s:
        advice = services.advice_for(s, patient.id, today)
    return (advice.for_patient() if user.role == "patient" else advice).as_dict()


# -- pages -------------------------------------------------------------------------------


def _today_context(db: Db, patient_id: int, today: dt.date) -> dict[str, Any]:
    with db.read() as s:
        versions = services.plan_history(s, patient_id)
        done = repo.current_entries(s, patient_id, start=today, end=today)
        advice = services.advice_for(s, patient_id, today).for_patient()
        nof1 = nof1_today_card(s, patient_id, today)
    # A revision dated in the future leaves the earlier version in force until it starts.
    plan = plan_in_force(versions, today) or (versions[-1] if versions else None)
    step = plan.step_on(today) if plan else None
    upcoming = None
    if plan is not None:
        # The next change: the plan's own next step or a saved revision, whichever comes first.
        candidates = [st for st in plan.steps if st.start > today][:1]
        candidates += [v.steps[0] for v in versions if v.start > today]
        upcoming = min(candidates, key=lambda st: st.start, default=None)
        visit = next((v for v in plan.visits if v.date >= today), None)
    else:
        visit = None
    return {
        "plan": plan,
        "step": step,
        "next_step": upcoming,
        "next_visit": visit,
        "done_today": bool(done),
        "advice": advice,
        "nof1": nof1,
    }


@pages.get("/today")
def today_page(request: Request, patient: InScope, db: Db, today: Today) -> Response:
    ctx = _today_context(db, patient.id, today)
    return render(request, "today.html", {"patient": patient, **ctx})


#: The diary form lists the days without an entry within this many days before today.
MISSED_WINDOW_DAYS = 7


def entry_values(row: Any) -> dict[str, Any]:
    """A saved entry as form values, so correcting a day starts from what was recorded."""
    out: dict[str, Any] = {"entry_date": row.entry_date.isoformat(), "pain": str(row.pain)}
    for name in ("sleep", "mood", "energy", "clarity"):
        value = getattr(row, name)
        if value is not None:
            out[name] = str(value)
    out["dose_taken"] = "yes" if row.dose_taken else "no"
    if row.dose_time is not None:
        out["dose_time"] = row.dose_time.strftime("%H:%M")
    if row.dose_mg is not None:
        out["dose_mg"] = str(row.dose_mg)
    effects = list(row.side_effects or [])
    out["side_effects"] = [e["code"] for e in effects]
    for e in effects:
        out[f"severity_{e['code']}"] = e.get("severity", "mild")
    if row.note:
        out["note"] = row.note
    return out


def missed_days(recorded: set[dt.date], today: dt.date, since: dt.date | None) -> list[dt.date]:
    """Recent days (newest first, today excluded) with no diary entry, from `since` on."""
    days = [today - dt.timedelta(days=n) for n in range(1, MISSED_WINDOW_DAYS + 1)]
    return [d for d in days if d not in recorded and (since is None or d >= since)]


def _diary_form_context(db: Db, patient_id: int, today: dt.date, day: dt.date) -> dict[str, Any]:
    with db.read() as s:
        plan = services.plan_of(repo.current_plan(s, patient_id))
        existing = repo.current_entries(s, patient_id, start=day, end=day)
        window = repo.current_entries(
            s, patient_id, start=today - dt.timedelta(days=MISSED_WINDOW_DAYS), end=today
        )
    recorded = {e.entry_date for e in window}
    return {
        "missed": missed_days(recorded, today, plan.start if plan else None),
        "planned_mg": plan.dose_on(day) if plan else None,
        "timing": plan.step_on(day).timing if plan and plan.step_on(day) else "bedtime",
        "side_effects": default_evidence().side_effects.effects,
        "severities": SEVERITIES,
        "day": day,
        "existing": existing[0] if existing else None,
    }


@pages.get("/diary/new")
def diary_page(
    request: Request, patient: InScope, db: Db, today: Today, day: dt.date | None = None
) -> Response:
    d = services.check_date("day", day, today) if day else today
    ctx = _diary_form_context(db, patient.id, today, d)
    values = entry_values(ctx["existing"]) if ctx["existing"] is not None else {}
    return render(request, "diary_form.html", {"patient": patient, "values": values, **ctx})


@pages.post("/diary")
async def diary_submit(
    request: Request, patient: InScope, user: CurrentUser, db: Db, today: Today
) -> Response:
    form = await request.form()
    request.state.form_values = forms.values(form)
    ctx = await run_in_threadpool(_diary_form_context, db, patient.id, today, today)
    form_page(request, "diary_form.html", patient=patient, **ctx)  # a bad date shows the form
    day = forms.optional_date(form, "entry_date") or today
    if day != today and abs((day - today).days) <= 3660:
        ctx = await run_in_threadpool(_diary_form_context, db, patient.id, today, day)
        form_page(request, "diary_form.html", patient=patient, **ctx)
    data = forms.diary_from_form(form, today)
    row = await _store(db, patient.id, data, today, user.actor)
    target = (
        f"/patients/{patient.id}/today?saved={row['revision']}"
        if user.role == "patient"
        else f"/patients/{patient.id}#diary"
    )
    return RedirectResponse(target, status_code=303)


@pages.get("/history")
def history_page(request: Request, patient: InScope, db: Db, today: Today) -> Response:
    with db.read() as s:
        plan = services.plan_of(repo.current_plan(s, patient.id))
        entries = repo.current_entries(s, patient.id)
    points = [(e.entry_date, e.pain, e.dose_mg if e.dose_taken else None) for e in entries]
    return render(
        request,
        "history.html",
        {
            "patient": patient,
            "chart": timeline_figure(points, plan, title="My pain and dose", end=today),
            "entries": list(reversed(entries))[:60],
            "missed": missed_days(
                {e.entry_date for e in entries}, today, plan.start if plan else None
            ),
        },
    )
