"""Patient-facing language: English and Spanish message catalogues, and locale formatting.

Everything a patient reads (pages, the leaflet and wallet card, calendar files, reminder
mails, advice) is written in English in the source and translated through the gettext
catalogue in `ldnkit/locale/<lang>/LC_MESSAGES/messages.po`. The `.po` file is the only
source: it is compiled into memory with Babel the first time a language is used, so a fresh
clone needs no build step and there is no `.mo` file to go stale.

Which language a page uses is decided per request (the patient's own profile choice, else
the browser's Accept-Language, else English) and kept in a context variable for the length
of one rendering, so the templates, the `mg`/`longdate` filters and `gettext` all agree.
Clinician pages stay in English (DESIGN.md): the clinician's tools only ever ask for "en".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gettext as _gettext
import io
from collections.abc import Iterator
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

#: The languages a patient may choose, the first being the default.
LANGUAGES: tuple[str, ...] = ("en", "es")
DEFAULT = LANGUAGES[0]
#: What each language is called in itself (the language picker shows these).
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "es": "Español"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("ldnkit_language", default=DEFAULT)


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalogue for a language (English: the source strings as they are)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT or not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    # Fuzzy entries are left out: an unchecked guess must never reach a patient.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def supported(language: str | None) -> str | None:
    """The supported language for a code such as "es", "es-MX" or "ES_es"; None if none."""
    if not language:
        return None
    base = language.replace("_", "-").split("-")[0].strip().lower()
    return base if base in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The best supported language in an Accept-Language header, by its q-values."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            weighted.append((-q, index, tag.strip()))
    preferred = [tag.replace("-", "_") for _, _, tag in sorted(weighted)]
    found = negotiate_locale(preferred, [*LANGUAGES], sep="_")
    if found is None:
        # "es-MX" against "es": Babel matches only exact tags or its aliases, so fall back to
        # the first tag whose base language we have.
        found = next((lang for tag in preferred if (lang := supported(tag))), None)
    return supported(found)


def choose(profile_language: str | None, accept_language: str | None) -> str:
    """The page language: the patient's own choice, else the browser's, else English."""
    return supported(profile_language) or from_accept_language(accept_language) or DEFAULT


def current() -> str:
    """The language of the page or document being produced now."""
    return _current.get()


@contextlib.contextmanager
def use(language: str | None) -> Iterator[str]:
    """Produce text in a language for the length of a `with` block."""
    lang = supported(language) or DEFAULT
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """`message` in the current language (the English source if it has no translation)."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(_current.get()).pgettext(context, message)


_ = gettext


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):  # pragma: no cover - LANGUAGES are all known
        return Locale.parse(DEFAULT)


def format_mg(value: Decimal | float | int | str, language: str | None = None) -> str:
    """A dose number for the language: "4.5" in English, "4,5" in Spanish.

    At most two decimals and no trailing zeros, like the English `fmt_mg`; a dose is never
    rounded to fewer places than a tablet or liquid step needs (0.25 mg stays 0.25).
    """
    lang = supported(language) or current()
    number = Decimal(str(value))
    return format_decimal(number, format="#,##0.##", locale=_locale(lang))


def format_long_date(value: dt.date, language: str | None = None) -> str:
    """A date written out: "Tue 01 Dec 2026" in English, "1 de diciembre de 2026" in Spanish.

    English keeps the app's established short weekday form; other languages use the CLDR
    long date of their locale through Babel.
    """
    lang = supported(language) or current()
    if isinstance(value, dt.datetime):
        value = value.date()
    if lang == DEFAULT:
        return value.strftime("%a %d %b %Y")
    return format_date(value, format="long", locale=_locale(lang))


def format_short_date(value: dt.date, language: str | None = None) -> str:
    """A day in a list of days: "Tue 01 Dec" in English, "mar, 1 dic" in Spanish."""
    lang = supported(language) or current()
    if lang == DEFAULT:
        return value.strftime("%a %d %b")
    return format_date(value, format="EEE d MMM", locale=_locale(lang))


def weekday_names(language: str | None = None) -> list[str]:
    """Abbreviated weekday names Monday first, for a calendar's header row."""
    lang = supported(language) or current()
    if lang == DEFAULT:
        return ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    names = _locale(lang).days["stand-alone"]["abbreviated"]
    return [str(names[i]) for i in range(7)]


def month_title(value: dt.date, language: str | None = None) -> str:
    """A calendar month's heading: "December 2026" / "diciembre de 2026"."""
    lang = supported(language) or current()
    if lang == DEFAULT:
        return value.strftime("%B %Y")
    return format_skeleton("yMMMM", value, locale=_locale(lang))


__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "LOCALE_DIR",
    "choose",
    "current",
    "format_long_date",
    "format_mg",
    "format_short_date",
    "from_accept_language",
    "gettext",
    "month_title",
    "ngettext",
    "pgettext",
    "supported",
    "translations",
    "use",
    "weekday_names",
]
