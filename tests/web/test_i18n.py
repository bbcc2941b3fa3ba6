"""Two languages for what a patient sees (issue 16 item 4).

The catalogue test extracts the patient-facing text the way `make messages` does (babel.cfg)
and fails on any msgid without a checked Spanish msgstr; the HTTP tests render the patient's
Today, diary and calendar pages against a real server, in Spanish by Accept-Language and by
the profile choice, and in English by default.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import typing
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import icalendar
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from ldnkit import i18n
from ldnkit.clinical.diary import SEVERITIES
from ldnkit.clinical.models import Timing, Visit
from ldnkit.evidence import default_evidence
from ldnkit.notify.reminders import reminder_message
from ldnkit.web import patient_terms
from tests.web.conftest import PASSWORD, Clinic, running_clinic

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/ldnkit/locale/es/LC_MESSAGES/messages.po"


def _extracted() -> set[str]:
    """Every msgid babel.cfg marks as patient-facing, extracted as `make messages` does."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        # A plural message is keyed by its singular form.
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_patient_facing_message_has_a_checked_spanish_translation() -> None:
    extracted = _extracted()
    assert len(extracted) > 150  # the templates, advice, terms, calendar file and mail
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="es")
    missing = sorted(m for m in extracted if m not in catalog)
    assert not missing, f"not in messages.po (run `make messages`): {missing}"

    def checked(m: typing.Any) -> bool:
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        return not m.fuzzy and all(forms)

    untranslated = sorted(
        str(m.id)
        for m in catalog
        if m.id and (m.id if isinstance(m.id, str) else m.id[0]) in extracted and not checked(m)
    )
    assert not untranslated, f"no checked Spanish msgstr: {untranslated}"
    # Placeholders must match, or a Spanish page would crash or drop the dose or date.
    problems = [(m.id, errs) for m, errs in catalog.check() if errs]
    assert not problems, problems


def test_words_from_data_are_all_in_the_catalogue() -> None:
    """Side effects from the evidence, severities, timings and visit kinds reach the patient
    through `_(value)`: each value the data can hold must be a marked, translated term."""
    terms = {
        *patient_terms.SIDE_EFFECTS,
        *patient_terms.SEVERITIES,
        *patient_terms.TIMINGS,
        *patient_terms.VISIT_KINDS,
    }
    names = {e.name for e in default_evidence().side_effects.effects}
    labels = {e.id.replace("_", " ").capitalize() for e in default_evidence().side_effects.effects}
    kinds = {k.replace("_", " ") for k in typing.get_args(Visit.model_fields["kind"].annotation)}
    needed = names | labels | set(SEVERITIES) | set(typing.get_args(Timing)) | kinds
    assert needed <= terms, sorted(needed - terms)
    with i18n.use("es"):
        assert all(i18n.gettext(t) != t for t in needed if t not in {"placebo", "No"})


def test_language_choice_and_locale_formats() -> None:
    assert i18n.choose(None, None) == "en"
    assert i18n.choose(None, "es-MX,es;q=0.9,en;q=0.5") == "es"
    assert i18n.choose(None, "fr-FR, en;q=0.4, es;q=0.6") == "es"  # q-values decide
    assert i18n.choose(None, "de-DE") == "en"
    assert i18n.choose(None, "es;q=0") == "en"  # q=0 means "not this one"
    assert i18n.choose("en", "es") == "en"  # the patient's own choice beats the browser
    assert i18n.choose("es", None) == "es"
    day = dt.date(2026, 12, 1)
    assert i18n.format_long_date(day, "es") == "1 de diciembre de 2026"
    assert i18n.format_long_date(day, "en") == "Tue 01 Dec 2026"
    assert i18n.format_mg(Decimal("4.50"), "es") == "4,5"
    assert i18n.format_mg(Decimal("0.25"), "es") == "0,25"
    assert i18n.format_mg(Decimal("4.5"), "en") == "4.5"
    assert i18n.month_title(day, "es") == "diciembre de 2026"
    assert i18n.weekday_names("es")[0] == "lun"


def test_reminder_mail_in_the_patients_language() -> None:
    es = reminder_message(
        to="p@example.org", given_name="Ana", link="https://x/d", sender="c <c@x>", language="es"
    )
    assert es["Subject"] == "Su recordatorio diario del diario"
    assert es["Content-Language"] == "es"
    body = es.get_content()
    assert body.startswith("Hola, Ana:") and "https://x/d" in body
    en = reminder_message(to="p@example.org", given_name="Ana", link="https://x/d", sender="c")
    assert en["Subject"] == "Your daily diary reminder" and en.get_content().startswith("Hello")


# -- over HTTP, against a real server -------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    with running_clinic(tmp_path_factory.mktemp("i18n")) as c:
        with c.client("dr_a") as dr:
            pid = c.ids["patient_a"]
            assert dr.post(f"/api/patients/{pid}/plans", json={"start": "2026-11-11"}).is_success
        yield c


@contextlib.contextmanager
def _login(site: Clinic, who: str, accept_language: str | None) -> Iterator[httpx.Client]:
    """A cookie session, as a browser with this Accept-Language holds one."""
    headers = {"Accept-Language": accept_language} if accept_language else {}
    with httpx.Client(base_url=site.url, timeout=30, follow_redirects=True, headers=headers) as c:
        page = c.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post("/login", data={"username": who, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 200
        yield c


def _dose(html: str) -> str:
    return html.split('data-testid="dose">')[1].split("</p>")[0]


def test_patient_pages_follow_the_browser_and_english_stays_the_default(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    with _login(site, "pat_a", None) as en:
        today = en.get(f"/patients/{pid}/today")
        assert '<html lang="en">' in today.text and "Today, Wed 25 Nov 2026" in today.text
        assert today.headers["content-language"] == "en"
        assert 'id="ldnkit-messages"' not in today.text  # English needs no message table
        en_dose = _dose(today.text)
        assert "Next change: 4.5 mg from Wed 09 Dec 2026." in today.text
    with _login(site, "pat_a", "es-ES,es;q=0.9,en;q=0.8") as es:
        today = es.get(f"/patients/{pid}/today")
        assert '<html lang="es">' in today.text
        assert "Hoy, 25 de noviembre de 2026" in today.text
        assert "Rellenar el diario de hoy" in today.text
        assert "Vary" in today.headers and "Accept-Language" in today.headers["vary"]
        # The same dose, written the Spanish way (a decimal comma where there is a fraction).
        assert _dose(today.text) == en_dose.replace(".", ",")
        assert "Próximo cambio: 4,5 mg desde el 9 de diciembre de 2026." in today.text
        assert "al acostarse" in today.text and "seguimiento" in today.text
        diary = es.get(f"/patients/{pid}/diary/new")
        assert "Diario del 25 de noviembre de 2026" in diary.text
        assert "Dolor ahora" in diary.text and "¿Tomó su dosis" in diary.text
        assert "Sueños vívidos" in diary.text and ">leve</option>" in diary.text
        assert "Pain right now" not in diary.text
        # The offline script's messages travel with the page, in Spanish.
        assert "anotaciones del diario guardadas" in diary.text.split('id="ldnkit-messages">')[1]
        calendar = es.get(f"/patients/{pid}/calendar")
        assert "noviembre de 2026" in calendar.text and "<th>lun</th>" in calendar.text
        assert "Mi plan" in calendar.text and "Añadir a mi calendario" in calendar.text
        ics = es.get(f"/patients/{pid}/reminders.ics")
        summaries = [
            str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
        ]
        assert any(s.startswith("Tome LDN") for s in summaries), summaries


def test_profile_language_beats_the_browser_and_staff_pages_stay_english(site: Clinic) -> None:
    pid = site.ids["patient_a"]
    url = f"/api/patients/{pid}/language"
    with site.client("dr_b") as other:  # not this clinician's patient
        assert other.put(url, json={"language": "es"}).status_code == 403
    with site.client("dr_a") as dr:  # the clinician may set it
        assert dr.put(url, json={"language": "en"}).json() == {"language": "en"}
    with site.client("pat_a") as api:
        assert api.put(url, json={"language": "fr"}).status_code == 422
        assert api.put(url, json={"language": "es"}).json() == {"language": "es"}
        assert (
            api.put(f"/api/patients/{site.ids['patient_b']}/language", json={}).status_code == 403
        )
    try:
        with _login(site, "pat_a", "en-GB,en") as c:
            today = c.get(f"/patients/{pid}/today")
            assert "Hoy, 25 de noviembre de 2026" in today.text
            history = c.get(f"/patients/{pid}/history")
            assert "Mi historial" in history.text
        with _login(site, "dr_a", "es") as dr:  # the clinician's pages stay English
            page = dr.get(f"/patients/{pid}/calendar")
            assert '<html lang="en">' in page.text and "<th>Mon</th>" in page.text
    finally:
        with site.client("pat_a") as api:
            assert api.put(url, json={"language": None}).json() == {"language": None}
    with _login(site, "pat_a", None) as c:
        assert "Today, Wed 25 Nov 2026" in c.get(f"/patients/{pid}/today").text


def test_language_form_on_the_reminders_page(site: Clinic) -> None:
    pid = site.ids["patient_b"]
    with _login(site, "pat_b", None) as c:
        page = c.get(f"/patients/{pid}/reminders")
        assert 'data-testid="language-form"' in page.text
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        bad = c.post(f"/patients/{pid}/language", data={"language": "xx", "csrf_token": token})
        assert bad.status_code == 422
        ok = c.post(f"/patients/{pid}/language", data={"language": "es", "csrf_token": token})
        assert ok.status_code == 200 and "Idioma guardado." in ok.text
        assert 'value="es" lang="es" selected' in ok.text
        back = c.post(
            f"/patients/{pid}/language", data={"language": "browser", "csrf_token": token}
        )
        assert "Language saved." in back.text


def test_wallet_card_and_leaflet_in_spanish_prescription_stays_english(site: Clinic) -> None:
    from pypdf import PdfReader

    pid = site.ids["patient_a"]
    with _login(site, "pat_a", "es") as c:
        card = c.get(f"/patients/{pid}/documents/wallet_card.pdf")
        assert card.status_code == 200
        pages = PdfReader(io.BytesIO(card.content)).pages
        text = " ".join(" ".join(p.extract_text() for p in pages).split())  # lines re-joined
        assert "Tomo naltrexona a dosis bajas (LDN)" in text
        assert "Los analgésicos opioides pueden no funcionar" in text
        assert "11 de noviembre de 2026" in text  # the plan's start, as a Spanish date
        page = c.get(f"/patients/{pid}/documents")
        assert "Su plan de naltrexona a dosis bajas (LDN)" in page.text
        assert "Cómo y cuándo tomarla" in page.text and "al acostarse" in page.text
    with _login(site, "dr_a", "es") as dr:
        page = dr.get(f"/patients/{pid}/documents")
        assert "Your low-dose naltrexone (LDN) plan" in page.text
        assert "Su plan" not in page.text


def test_words_from_data_are_translated_as_is_even_with_a_percent_sign() -> None:
    """`value|t` is plain gettext: Jinja's newstyle `_()` would %-format evidence text such as
    "aim for 30-50% less pain" and fail the page."""
    from ldnkit.web.templating import templates

    tpl = templates.env.from_string("{{ note|t }} · {{ effect|t }}")
    with i18n.use("es"):
        out = tpl.render(note="aim for 30-50% less pain", effect="Nausea")
    assert out == "aim for 30-50% less pain · Náuseas"
