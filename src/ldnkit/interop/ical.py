"""A titration plan as an iCalendar file: one all-day event per dose change and per visit,
so a patient's phone reminds them the night a dose changes and the day a visit is due."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event

from ldnkit.clinical.models import Plan, fmt_mg


def plan_to_ics(plan: Plan, domain: str = "ldnkit.invalid") -> bytes:
    """Serialise the plan's steps and visits as VEVENTs (stable UIDs, all-day dates)."""
    cal = Calendar()
    cal.add("prodid", "-//ldnkit//LDN titration plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"LDN plan ({plan.protocol_name})")
    owner = plan.patient_id or "plan"
    for step in plan.steps:
        ev = Event()
        if step.dose_mg > 0:
            summary = f"LDN {fmt_mg(step.dose_mg)} mg at {step.timing} from tonight"
        else:
            summary = "HOLD LDN (no doses)"
        ev.add("summary", summary)
        ev.add("dtstart", step.start)
        ev.add("dtend", step.start + timedelta(days=1))
        ev.add("description", f"{step.note}. Until {step.end}. Sources: {', '.join(step.sources)}")
        ev.add("uid", f"{owner}-{plan.protocol_id}-{plan.start}-step{step.index}@{domain}")
        ev.add("categories", ["LDN", "dose"])
        cal.add_component(ev)
    for i, visit in enumerate(plan.visits):
        ev = Event()
        ev.add("summary", f"LDN {visit.kind.replace('_', ' ')}")
        ev.add("dtstart", visit.date)
        ev.add("dtend", visit.date + timedelta(days=1))
        ev.add(
            "description",
            f"{visit.note}. Window {visit.window_start} to {visit.window_end}. "
            f"Sources: {', '.join(visit.sources)}",
        )
        ev.add("uid", f"{owner}-{plan.protocol_id}-{plan.start}-visit{i}@{domain}")
        ev.add("categories", ["LDN", "visit"])
        cal.add_component(ev)
    return cal.to_ical()
