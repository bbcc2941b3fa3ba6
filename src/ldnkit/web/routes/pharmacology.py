"""Why a low dose blocks only transiently (or not): the occupancy model as a page and JSON.

The page shows, for 1.5, 3, 4.5 and 50 mg at bedtime, the hours per day above 50% and 90%
mu-opioid receptor occupancy under each brain-equilibration scenario of `ldnkit.pharmacology`
(the default `fitted` one first), the last day's occupancy curve as a server-drawn SVG, and the
stored maximum-likelihood fit: steady-state hours above 50% with 95% intervals from parameter
uncertainty, the structure comparison and the held-out check. The fit is read from
`occupancy_fit.yaml`, never recomputed by a request.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ldnkit.pharmacology.fit import StoredFit, occupancy_data, stored_fit
from ldnkit.pharmacology.published import pk_evidence
from ldnkit.pharmacology.regimen import Regimen
from ldnkit.pharmacology.simulation import simulate
from ldnkit.pharmacology.table import occupancy_table
from ldnkit.web.deps import optional_user
from ldnkit.web.templating import render

api = APIRouter(prefix="/api/evidence", tags=["evidence"])
# Public pages still know who is signed in, so they keep that user's menu (issue 15, item 9).
pages = APIRouter(
    prefix="/evidence", include_in_schema=False, dependencies=[Depends(optional_user)]
)

DOSES = (1.5, 3.0, 4.5, 50.0)
DAYS, HOUR, DT_H = 14, 22.0, 0.25
W, H, LEFT, RIGHT, TOP, BOTTOM = 360, 200, 36, 10, 12, 28
COLOURS = ("#6a9fd4", "#2c6fb3", "#153e75", "#b3402c")


@lru_cache(maxsize=1)
def occupancy_rows() -> dict[str, Any]:
    """The typical-adult table (computed once per process: about 2 s of numerics)."""
    table = occupancy_table(doses_mg=DOSES, days=DAYS, hour=HOUR)
    return {
        "title": table.title,
        "columns": list(table.columns),
        "rows": [list(r) for r in table.rows],
    }


def _curve_svg(scenario: str) -> str:
    """Occupancy over the last 24 h at steady state, one line per dose."""
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="Occupancy over the last day, {escape(scenario)} scenario">'
    ]
    for pct in (0, 50, 90, 100):
        y = TOP + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc" '
            f'stroke-dasharray="{"0" if pct in (0, 100) else "3 3"}"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{pct}%</text>'
        )
    for h in (0, 6, 12, 18, 24):
        x = LEFT + plot_w * h / 24
        parts.append(
            f'<text x="{x:.1f}" y="{H - 10}" font-size="10" text-anchor="middle">{h} h</text>'
        )
    for dose, colour in zip(DOSES, COLOURS, strict=True):
        sim = simulate(Regimen.daily(dose, DAYS, hour=HOUR), scenario=scenario, dt_h=DT_H)
        times, occ = sim.times_h, sim.occupancy[0]
        start = times[-1] - 24.0
        pts = [
            f"{LEFT + plot_w * (t - start) / 24:.1f},{TOP + plot_h * (1 - o):.1f}"
            for t, o in zip(times, occ, strict=True)
            if t >= start
        ]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(pts)}">'
            f"<title>{dose:g} mg</title></polyline>"
        )
    parts.append("</svg>")
    return "".join(parts)


@lru_cache(maxsize=4)
def curve_svg(scenario: str) -> str:
    return _curve_svg(scenario)


def fit_summary() -> dict[str, Any]:
    """The stored fit as plain data: intervals, estimates, comparison, held-out check."""
    sf: StoredFit = stored_fit()
    data = {o.id: o for o in occupancy_data().observations}
    held = []
    for h in sf.held_out:
        o = data[h["id"]]
        if o.value is not None:
            observed = f"{100 * o.value:.1f}%"
        elif o.range is not None:
            observed = f"{100 * o.range.min:.0f}-{100 * o.range.max:.0f}%"
        else:
            observed = o.finding or ""
        held.append(
            {
                "id": h["id"],
                "observed": observed,
                "predicted": h["predicted"],
                "sources": o.sources,
            }
        )
    return {
        "default_structure": sf.default_structure,
        "description": sf.description,
        "measurement_error": sf.measurement_error,
        "estimates": {k: v.model_dump() for k, v in sf.estimates.items()},
        "hours_above_50": sf.hours_above_50.model_dump(),
        "comparison": sf.comparison,
        "held_out": held,
        "sources": sf.sources,
    }


def _context() -> dict[str, Any]:
    ev = pk_evidence()
    return {
        "fit": fit_summary(),
        "table": occupancy_rows(),
        "scenarios": [
            {"name": name, "svg": curve_svg(name), "info": info}
            for name, info in ev.scenarios.items()
        ],
        "doses": [{"dose": d, "colour": c} for d, c in zip(DOSES, COLOURS, strict=True)],
    }


@api.get("/occupancy")
async def api_occupancy() -> dict[str, Any]:
    """Hours above 50%/90% MOR occupancy, peak and trough, per dose and scenario."""
    return await run_in_threadpool(occupancy_rows)


@api.get("/occupancy/fit")
async def api_occupancy_fit() -> dict[str, Any]:
    """The stored maximum-likelihood occupancy fit: hours above 50% with 95% intervals."""
    return await run_in_threadpool(fit_summary)


@pages.get("/pharmacology")
async def pharmacology_page(request: Request) -> Response:
    return render(request, "evidence_pharmacology.html", await run_in_threadpool(_context))
