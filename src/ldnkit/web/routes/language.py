"""The patient's language: English or Spanish for their pages, documents and reminders.

The patient sets it on their Reminders page and the clinician on the patient's page; "browser"
clears the choice so the browser's Accept-Language decides again. Staff pages stay English.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from ldnkit import i18n
from ldnkit.errors import ValidationError
from ldnkit.store.repositories.people import set_patient_language
from ldnkit.web.deps import CurrentUser, Db, InScope

api = APIRouter(prefix="/api/patients/{patient_id}", tags=["language"])
pages = APIRouter(prefix="/patients/{patient_id}", include_in_schema=False)


class LanguageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A supported language, or null to follow the browser.
    language: Literal["en", "es"] | None = None


class LanguageOut(BaseModel):
    language: str | None


def _save(request: Request, db: Db, patient_id: int, language: str | None, actor: str) -> None:
    db.write(lambda s: set_patient_language(s, patient_id, language, actor=actor))
    # The access cache keeps the patient's identity and language; the next page must see
    # the new choice at once.
    request.app.state.patients.drop(lambda key: key == patient_id)


@api.put("/language", response_model=LanguageOut)
async def api_put(
    request: Request, patient: InScope, body: LanguageIn, user: CurrentUser, db: Db
) -> Any:
    """Set the patient's language ("en", "es", or null to follow the browser)."""
    await run_in_threadpool(_save, request, db, patient.id, body.language, user.actor)
    return {"language": body.language}


@pages.post("/language")
async def language_submit(
    request: Request, patient: InScope, user: CurrentUser, db: Db
) -> Response:
    form = await request.form()
    raw = str(form.get("language") or "")
    if raw not in (*i18n.LANGUAGES, "browser"):
        raise ValidationError("language", f"choose one of {', '.join(i18n.LANGUAGES)}")
    language = None if raw == "browser" else raw
    await run_in_threadpool(_save, request, db, patient.id, language, user.actor)
    back = "reminders" if user.role == "patient" else ""
    target = f"/patients/{patient.id}/{back}" if back else f"/patients/{patient.id}"
    return RedirectResponse(f"{target}?language=saved", status_code=303)


__all__ = ["api", "pages"]
