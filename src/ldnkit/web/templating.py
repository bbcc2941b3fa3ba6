"""Server-rendered pages: one Jinja2 environment, the CSRF token in every form.

`render` also makes sure the browser holds a CSRF cookie, so the very first page (the login
form) already carries a valid token. `form_page` remembers which template a POST handler is
validating, so the central error handler can re-display that form with the message and the
values the user typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from ldnkit import i18n
from ldnkit.clinical.models import fmt_mg
from ldnkit.store.models import PatientRow
from ldnkit.web.security import CSRF_COOKIE, SESSION_COOKIE, new_csrf_cookie

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.i18n")
# One environment for every reader: `_()` looks the language up per rendering (`render` sets
# it), so a Spanish and an English patient can be served at the same moment.
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
)


def _mg(value: Any) -> str:
    """A dose in the page's language: "4.5" in English, "4,5" in Spanish."""
    if value is None or value == "":
        return "–"
    if i18n.current() == i18n.DEFAULT:
        return fmt_mg(Decimal(str(value)))
    return i18n.format_mg(value)


def _date(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return i18n.format_long_date(value)
    return str(value or "")


def _shortdate(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return i18n.format_short_date(value)
    return str(value or "")


templates.env.filters["mg"] = _mg
templates.env.filters["longdate"] = _date
templates.env.filters["shortdate"] = _shortdate
templates.env.filters["monthtitle"] = i18n.month_title
templates.env.globals["weekday_names"] = i18n.weekday_names
# `value|t` translates a word that comes from data (a side effect, a timing, advice text):
# plain gettext, never %-formatted, so a "%" in evidence text cannot break the page.
templates.env.filters["t"] = i18n.gettext
templates.env.globals["language_names"] = i18n.LANGUAGE_NAMES


def offline_messages() -> dict[str, str]:
    """The offline script's messages in the page's language, keyed by their English text."""
    from ldnkit.web.patient_terms import OFFLINE

    return {m: i18n.gettext(m) for m in OFFLINE}


templates.env.globals["offline_messages"] = offline_messages


#: Accounts whose pages stay in English whatever the browser says (DESIGN.md: clinician
#: pages are English; the record they work on must read the same for every colleague).
STAFF_ROLES = frozenset({"clinician", "admin", "pharmacist"})


def page_language(request: Request, context: dict[str, Any]) -> str:
    """The language of this page: staff get English; a patient gets their profile choice,
    else the browser's Accept-Language, else English; so does a visitor not logged in."""
    user = context.get("user")
    role = getattr(user, "role", None)
    if role in STAFF_ROLES:
        return i18n.DEFAULT
    chosen: str | None = None
    if role == "patient":
        chosen = patient_language(request, getattr(user, "patient_id", None), context)
    return i18n.choose(chosen, request.headers.get("accept-language"))


def request_language(request: Request) -> str:
    """The language for a file made for this request (a calendar file, a PDF)."""
    return page_language(request, {"user": getattr(request.state, "user", None)})


def patient_language(
    request: Request, patient_id: int | None, context: dict[str, Any] | None = None
) -> str | None:
    """The patient's chosen language, from the page's patient or the access cache."""
    if patient_id is None:
        return None
    patient = (context or {}).get("patient")
    if (
        patient is not None
        and getattr(patient, "id", None) == patient_id
        and hasattr(patient, "language")
    ):
        return patient.language
    ref = request.app.state.patients.get(patient_id)
    if ref is not None and hasattr(ref, "language"):
        return ref.language
    with request.app.state.db.read() as session:
        return session.scalar(select(PatientRow.language).where(PatientRow.id == patient_id))


templates.env.globals["label"] = lambda s: str(s or "").replace("_", " ")


# -- issue 15: human field labels, errors next to their field, flash messages -------------

#: What each form field is called on the page, so an error reads "Pain right now: ..." and
#: never "pain: ..." or "options.ceiling_mg: ...". Keys are form field names; a dotted API
#: path ("options.ceiling_mg", "account.password") is looked up by its last part.
FIELD_LABELS: dict[str, str] = {
    "pain": "Pain right now",
    "sleep": "Sleep last night",
    "mood": "Mood",
    "energy": "Energy",
    "clarity": "Mental clarity",
    "dose_taken": "Did you take your dose",
    "dose_time": "Time you took it",
    "dose_mg": "Dose",
    "entry_date": "Diary date",
    "note": "Note",
    "side_effects": "Side effects",
    "given_name": "Given name",
    "family_name": "Family name",
    "birth_date": "Date of birth",
    "mrn": "Record number (MRN)",
    "weight_kg": "Weight (kg)",
    "medications": "Medications",
    "prior_therapies": "Prior therapies",
    "allergies": "Allergies",
    "procedure_name": "Planned procedure",
    "procedure_date": "Procedure date",
    "screen_on": "Screen on",
    "on": "Screen again on",
    "username": "Username",
    "account_username": "Patient username",
    "password": "Password",
    "account_password": "Patient initial password",
    "start": "Start",
    "protocol_id": "Protocol",
    "start_mg": "Starting dose (mg)",
    "step_mg": "Step (mg)",
    "interval_days": "Days between steps",
    "target_mg": "Target dose (mg)",
    "ceiling_mg": "Highest dose (mg)",
    "timing": "Time of day",
    "follow_up_days": "First follow-up after (days)",
    "review_after_days": "Review after (days)",
    "surgery_date": "Surgery date",
    "name": "Name",
    "email": "Email",
    "date": "Date",
}

#: API-path prefixes that name a form field by their last part.
_PATH_TO_FIELD = {"account.username": "account_username", "account.password": "account_password"}


def form_field(path: str | None) -> str | None:
    """The form field an error's path points at ("options.ceiling_mg" -> "ceiling_mg")."""
    if not path:
        return None
    if path in _PATH_TO_FIELD:
        return _PATH_TO_FIELD[path]
    return path.split(".")[-1]


def _plain_reason(reason: str) -> str:
    """Pydantic's wording, said plainly ("Input should be less than or equal to 10")."""
    r = reason.removeprefix("Value error, ").strip()
    swaps = (
        ("Input should be less than or equal to ", "must be at most "),
        ("Input should be greater than or equal to ", "must be at least "),
        ("Input should be less than ", "must be less than "),
        ("Input should be greater than ", "must be more than "),
        ("Input should be a valid number, unable to parse string as a number", "enter a number"),
        ("Input should be a valid decimal", "enter a number"),
        ("Input should be a valid integer", "enter a whole number"),
        ("Input should be a valid time", "enter a time such as 22:00"),
        ("Input should be a valid date", "enter a date"),
        ("String should have at least ", "needs at least "),
        ("String should have at most ", "allows at most "),
        ("Input should be ", "choose "),
        ("required field missing", "required"),
        ("Field required", "required"),
    )
    for old, new in swaps:
        if r.startswith(old):
            r = new + r[len(old) :]
            break
    return r


def field_message(path: str | None, reason: str) -> str:
    """The one-line message shown next to a field: its label and a plain reason."""
    name = form_field(path)
    label = FIELD_LABELS.get(name or "", (name or "").replace("_", " ").capitalize())
    return f"{label}: {_plain_reason(reason)}" if label else _plain_reason(reason)


templates.env.globals["field_label"] = lambda name: FIELD_LABELS.get(name, name.replace("_", " "))

#: Confirmations after a redirect, keyed by (query parameter, value). Only these fixed texts
#: are ever shown: nothing from the query string is echoed into the page.
FLASH: dict[tuple[str, str], str] = {
    ("created", "1"): "Saved.",
    ("plan", "saved"): "Plan saved. The patient sees the new dose from its start date.",
    ("screened", "1"): "Screening saved as a new assessment.",
    ("profile", "saved"): "Profile saved and screened again; the result is the newest assessment.",
    ("language", "saved"): "Language saved.",
}
_FLASH_BY_PATH = {
    "/admin/users": {("created", "1"): "Account created."},
}


def flash_message(request: Request) -> str | None:
    """The confirmation for a redirect target's query string, if it carries one."""
    special = _FLASH_BY_PATH.get(request.url.path, {})
    for (key, value), text in {**FLASH, **special}.items():
        if request.query_params.get(key) == value:
            if key == "created" and request.url.path.startswith("/patients/"):
                return "Patient saved and screened."
            return text
    return None


@dataclass
class FormState:
    """The template being validated and the context it needs to be shown again."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


def form_page(request: Request, template: str, **context: Any) -> None:
    """Declare the form a POST handler is processing (used only if validation fails)."""
    request.state.form = FormState(template, context)


def csrf_token(request: Request) -> str:
    """The token for this browser's forms, creating the CSRF cookie value if needed."""
    cached = getattr(request.state, "csrf_token", None)
    if cached:
        return cached
    signer = request.app.state.signer
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        cookie = new_csrf_cookie()
        request.state.new_csrf_cookie = cookie
    binding = signer.csrf_binding(request.cookies.get(SESSION_COOKIE), cookie)
    token = signer.csrf_for(binding)
    request.state.csrf_token = token
    return token


def set_csrf_cookie(request: Request, response: Any) -> None:
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            httponly=True,
            samesite="lax",
            secure=request.app.state.cookie_secure(request),
            path="/",
        )


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    ctx = {
        "request": request,
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
        "today": request.app.state.settings.current_date(),
        "flash": flash_message(request),
        **(context or {}),
    }
    language = page_language(request, ctx)
    ctx["page_lang"] = language
    # Starlette renders the template inside TemplateResponse, so the language holds for it.
    with i18n.use(language):
        response = templates.TemplateResponse(request, template, ctx, status_code=status)
    response.headers["Content-Language"] = language
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept-Language" if vary else "Accept-Language"
    set_csrf_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response


def render_form_error(
    request: Request, form: FormState, message: str, status: int, field_name: str | None
) -> HTMLResponse:
    values = getattr(request.state, "form_values", {})
    # Only an error about one field ("pain: ...") is shown at that field; a refused login or a
    # lock-out concerns the whole form and stays at the top as written.
    field = form_field(field_name)
    if field_name and message.startswith(f"{field_name}: "):
        text = field_message(field_name, message[len(field_name) + 2 :])
    else:
        field, text = None, message
    ctx = {
        **form.context,
        "error": text,
        "error_field": field,
        "errors": {field: text} if field else {},
        "values": values,
    }
    return render(request, form.template, ctx, status=status)


__all__ = [
    "FIELD_LABELS",
    "FLASH",
    "FormState",
    "csrf_token",
    "field_message",
    "flash_message",
    "form_field",
    "form_page",
    "render",
    "render_form_error",
    "templates",
]
