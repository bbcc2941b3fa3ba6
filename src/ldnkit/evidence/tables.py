"""Evidence figures as display rows, shared by the CLI tables and the web pages.

One definition of what the dosing table shows, so the terminal and the browser never drift.
"""

from __future__ import annotations

from typing import Any

from ldnkit.evidence.loader import Evidence


def dosing_rows(ev: Evidence) -> list[dict[str, Any]]:
    g, p, m, s = ev.dosing.general, ev.dosing.personalised, ev.dosing.monitoring, ev.dosing.safety
    rows = [
        ("Starting dose", f"{g.start_mg} mg daily", g.sources),
        ("Titration step", f"+{g.step_mg} mg every {g.interval_days} days", g.sources),
        ("Target dose", f"{g.target_mg} mg daily", g.sources),
        ("Maximum dose", f"{g.maximum_mg} mg daily", g.sources),
        ("Timing", g.timing, g.sources),
        (
            "Personalised start",
            f"{p.start_mg} mg (sensitive: {p.sensitive_start_mg} mg)",
            p.sources,
        ),
        ("Personalised step", f"+{p.step_mg} mg every {p.interval_days} days", p.sources),
        ("Effective dose", f"{p.effective_dose_mg} mg (idiosyncratic)", p.sources),
        ("Follow-up after start", f"{m.follow_up_days} days", m.follow_up_sources),
        (
            "Adequate trial at optimal dose",
            f"{m.adequate_trial_days} days",
            m.adequate_trial_sources,
        ),
        ("Response goal", f"{m.response_goal_percent}% pain reduction", m.response_goal_sources),
        ("Opioid-free before start", f"{s.opioid_free_days} days", s.opioid_free_sources),
        (
            "Opioid-free (buprenorphine, methadone)",
            f"up to {s.long_acting_opioid_free_days} days",
            s.opioid_free_sources,
        ),
        ("Hold before surgery", f"{s.perioperative_hold_days} days", s.perioperative_sources),
    ]
    return [{"parameter": a, "value": b, "sources": list(c)} for a, b, c in rows]


__all__ = ["dosing_rows"]
