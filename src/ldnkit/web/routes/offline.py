"""The installable, offline diary: web app manifest, service worker, idempotent diary sync.

Why: patients log their pain at bedtime, often where the signal is poor; an entry typed while
offline must not be lost, and one sent twice (a retry after a dropped connection) must not
become a second revision. The browser queues each entry with an id it generates (a UUID) and
sends it with `PUT /api/patients/{id}/diary/entries/{uuid}`: the first PUT stores it (201), any
repeat returns the stored row (200). The id is kept in `diary_entries.client_id`, unique per
patient, so even two server processes racing on the same retry store it once.

The service worker is served from the app root (`/sw.js`, scope `/`) as a file, so it runs
under the app's `script-src 'self'` policy; it caches the patient's pages for offline reading
and never caches or replays API writes itself (the page's script owns the queue).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ldnkit.clinical.diary import DiaryEntry, validate_diary_entry
from ldnkit.store import repositories as repo
from ldnkit.store.models import DiaryEntryRow
from ldnkit.web import services
from ldnkit.web.deps import CurrentUser, Db, InScope, Today
from ldnkit.web.schemas import DiaryOut
from ldnkit.web.templating import csrf_token, render, set_csrf_cookie

api = APIRouter(prefix="/api", tags=["diary"])
pages = APIRouter(include_in_schema=False)

_STATIC = Path(__file__).resolve().parents[1] / "static"

MANIFEST: dict[str, Any] = {
    "name": "ldnkit diary",
    "short_name": "LDN diary",
    "description": "Your low-dose naltrexone plan and daily pain diary, also offline.",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#1f5f8b",
    "icons": [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {
            "src": "/static/icons/icon-maskable-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ],
}


def _by_client_id(session: Session, patient_id: int, client_id: str) -> DiaryEntryRow | None:
    return session.scalars(
        select(DiaryEntryRow).where(
            DiaryEntryRow.patient_id == patient_id, DiaryEntryRow.client_id == client_id
        )
    ).first()


def store_once(
    session: Session, patient_id: int, entry: DiaryEntry, client_id: str, actor: str
) -> tuple[dict[str, Any], bool]:
    """Store the entry unless this client id was stored already; (row, created)."""
    existing = _by_client_id(session, patient_id, client_id)
    if existing is not None:
        return services.diary_row_dict(existing), False
    row = repo.add_diary_entry(session, patient_id, entry, today=entry.entry_date, actor=actor)
    row.client_id = client_id
    session.flush()
    return services.diary_row_dict(row), True


@api.put(
    "/patients/{patient_id}/diary/entries/{client_id}",
    response_model=DiaryOut,
    status_code=201,
    responses={200: {"description": "this id was stored before: the stored entry, unchanged"}},
)
async def put_entry(
    patient: InScope,
    client_id: UUID,
    body: DiaryEntry,
    user: CurrentUser,
    db: Db,
    today: Today,
    response: Response,
) -> dict[str, Any]:
    """Store a diary entry made on the patient's device, exactly once per client id."""
    entry = validate_diary_entry(body, today=today)
    key = str(client_id)
    try:
        row, created = await db.awrite(lambda s: store_once(s, patient.id, entry, key, user.actor))
    except IntegrityError:
        # Another server process stored the same id a moment ago: answer with its row.
        with db.read() as s:
            stored = _by_client_id(s, patient.id, key)
            if stored is None:
                raise
            row, created = services.diary_row_dict(stored), False
    if not created:
        response.status_code = 200
    return row


@api.get("/csrf")
def api_csrf(request: Request) -> Response:
    """A fresh CSRF token for the page script's queued writes (the cookie is set if missing)."""
    response = JSONResponse({"token": csrf_token(request)})
    set_csrf_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.get("/manifest.webmanifest")
def manifest() -> Response:
    return JSONResponse(MANIFEST, media_type="application/manifest+json")


@pages.get("/sw.js")
def service_worker() -> Response:
    """The service worker from the root, so its scope covers the whole app."""
    return FileResponse(
        _STATIC / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@pages.get("/offline")
def offline_page(request: Request) -> Response:
    """What the service worker shows for a page it has not cached while offline."""
    return render(request, "offline.html", {})


@pages.get("/patients/{patient_id}/diary")
def diary_get(patient: InScope, day: dt.date | None = None) -> Response:
    """A GET here (after logging in again from an expired session) goes back to the form,
    instead of "Method Not Allowed"; the page script then sends the kept draft."""
    target = f"/patients/{patient.id}/diary/new"
    if day is not None:
        target += f"?day={day.isoformat()}"
    return RedirectResponse(target, status_code=303)


__all__ = ["MANIFEST", "api", "pages", "store_once"]
