"""Patient-facing words that come from data, not from a template: marked for the catalogue.

A template shows these through `_(value)` (a side effect's name from the evidence YAML, a
severity, the time of day, a visit kind, a questionnaire's reason, a confirmation). Listing
them here puts them in the extracted catalogue (`make messages`), and the tests check that
every value the data can produce is listed, so a new side effect in the evidence cannot reach
a Spanish-speaking patient untranslated.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a word for extraction; it is translated where it is shown."""
    return message


#: Side effects in the evidence base (name as the YAML writes it, and the code as a label).
SIDE_EFFECTS = (
    N_("Vivid dreams"),
    N_("Insomnia"),
    N_("Headache"),
    N_("Tachycardia"),
    N_("Drowsiness"),
    N_("Dizziness"),
    N_("Nausea"),
    N_("Other"),
)
#: How bad a side effect was (`ldnkit.clinical.diary.SEVERITIES`).
SEVERITIES = (N_("mild"), N_("moderate"), N_("severe"))
#: When the dose is taken (`ldnkit.clinical.models.Timing`).
TIMINGS = (N_("bedtime"), N_("morning"))
#: Visit kinds as `label()` writes them (`ldnkit.clinical.models.Visit.kind`).
VISIT_KINDS = (
    N_("follow up"),
    N_("efficacy review"),
    N_("pre operative hold"),
    N_("restart check"),
)
#: Why a questionnaire is due (`ldnkit.clinical.instruments.Due.reason`; "week N" is a
#: template message of its own).
DUE_REASONS = (N_("baseline"),)
#: What the offline diary script (static/offline.js) says; the page hands it these in the
#: patient's language (`offline_messages` in base.html), keyed by the English text.
OFFLINE = (
    N_("%(n)s diary entry saved on this phone, waiting to be sent."),
    N_("%(n)s diary entries saved on this phone, waiting to be sent."),
    N_("Your unsaved diary was restored."),
    N_("Diary for %(date)s"),
    N_("Not saved: %(error)s. Check the values and save again."),
    N_("%(n)s diary entry sent."),
    N_("%(n)s diary entries sent."),
)
#: Confirmations a patient can see after a redirect (`templating.FLASH`).
FLASH = (N_("Saved."), N_("Language saved."))

__all__ = [
    "DUE_REASONS",
    "FLASH",
    "OFFLINE",
    "SEVERITIES",
    "SIDE_EFFECTS",
    "TIMINGS",
    "VISIT_KINDS",
]
