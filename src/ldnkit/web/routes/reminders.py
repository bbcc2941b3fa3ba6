"""The patient's reminders: the daily time, opt-in e-mail, and a calendar file with alarms.

The calendar file here is the plan's (RFC 5545, `interop.ical.plan_to_ics`) with the daily
reminder at the time the patient chose and a link to the diary; the e-mail reminders are sent
by `ldnkit reminders send` from cron (`ldnkit.notify`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ldnkit import i18n
from ldnkit.errors import NotFound, ValidationError
from ldnkit.interop.ical import plan_to_ics
from ldnkit.store import repositories as repo
from ldnkit.store.repositories import reminders as store
from ldnkit.web import services
from ldnkit.web.deps import CurrentUser, Db, InScope
from ldnkit.web.templating import form_page, render, request_language

api = APIRouter(prefix="/api/patients/{patient_id}", tags=["reminders"])
pages = APIRouter(prefix="/patients/{patient_id}", include_in_schema=False)


class RemindersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminder_time: dt.time
    email: str | None = Field(default=None, max_length=320)
    email_opt_in: bool = False


class RemindersOut(BaseModel):
    reminder_time: dt.time
    email: str | None
    email_opt_in: bool
    chosen: bool


def _get(db: Db, patient_id: int) -> store.Reminders:
    with db.read() as s:
        return store.get_reminders(s, patient_id)


def _save(db: Db, patient_id: int, body: RemindersIn, actor: str) -> store.Reminders:
    return db.write(
        lambda s: store.save_reminders(
            s,
            patient_id,
            reminder_time=body.reminder_time,
            email=body.email,
            email_opt_in=body.email_opt_in,
            actor=actor,
        )
    )


def _ics(request: Request, db: Db, patient_id: int) -> Response:
    with db.read() as s:
        plan = services.plan_of(repo.current_plan(s, patient_id))
        settings = store.get_reminders(s, patient_id)
    if plan is None:
        raise NotFound("plan for patient", str(patient_id))
    diary = str(request.base_url).rstrip("/") + f"/patients/{patient_id}/diary/new"
    with i18n.use(request_language(request)):
        body = plan_to_ics(
            plan,
            request.url.hostname or "ldnkit.invalid",
            stamp=dt.datetime.now(dt.UTC),
            reminder=settings.reminder_time,
            diary_url=diary,
        )
    return Response(
        body,
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="ldn-plan.ics"'},
    )


@api.get("/reminders", response_model=RemindersOut)
def api_get(patient: InScope, db: Db) -> Any:
    return asdict(_get(db, patient.id))


@api.put("/reminders", response_model=RemindersOut)
async def api_put(patient: InScope, body: RemindersIn, user: CurrentUser, db: Db) -> Any:
    """Set the daily reminder time and e-mail opt-in (422 names a bad field)."""
    return asdict(await run_in_threadpool(_save, db, patient.id, body, user.actor))


@api.get("/reminders.ics", response_class=Response)
def api_ics(request: Request, patient: InScope, db: Db) -> Response:
    """The plan as an iCalendar file with a daily alarm at the patient's reminder time."""
    return _ics(request, db, patient.id)


@pages.get("/reminders.ics")
def page_ics(request: Request, patient: InScope, db: Db) -> Response:
    return _ics(request, db, patient.id)


@pages.get("/reminders")
def reminders_page(request: Request, patient: InScope, db: Db) -> Response:
    settings = _get(db, patient.id)
    return render(
        request, "reminders.html", {"patient": patient, "settings": settings, "values": {}}
    )


@pages.post("/reminders")
async def reminders_submit(
    request: Request, patient: InScope, user: CurrentUser, db: Db
) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    request.state.form_values = values
    settings = await run_in_threadpool(_get, db, patient.id)
    form_page(request, "reminders.html", patient=patient, settings=settings)
    try:
        at = dt.time.fromisoformat(values.get("reminder_time", ""))
    except ValueError:
        raise ValidationError("reminder_time", "choose a time such as 21:30") from None
    body = RemindersIn(
        reminder_time=at,
        email=values.get("email") or None,
        email_opt_in=values.get("email_opt_in") == "yes",
    )
    await run_in_threadpool(_save, db, patient.id, body, user.actor)
    return RedirectResponse(f"/patients/{patient.id}/reminders?saved=1", status_code=303)


__all__ = ["api", "pages"]
