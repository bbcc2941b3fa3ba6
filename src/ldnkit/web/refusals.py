"""The audit row of a refused access (403), written once per request.

Its own module because both the access rules (`web.deps`) and the error handlers
(`web.errors`, for refusals raised elsewhere) write it, and `deps` already imports `errors`:
here neither imports the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from ldnkit.web.writes import AUDIT

if TYPE_CHECKING:
    from ldnkit.web.db import Database
    from ldnkit.web.deps import Principal

__all__ = ["audit_refusal"]


async def audit_refusal(
    request: Request,
    *,
    reason: str,
    user: Principal | None = None,
    patient_id: int | None = None,
) -> None:
    """Write the audit row of a refused access, once per request."""
    if getattr(request.state, "refusal_audited", False):
        return
    request.state.refusal_audited = True
    user = user or getattr(request.state, "user", None)
    route = request.scope.get("route")
    name = (getattr(route, "name", None) or "unknown")[:64]
    db: Database = request.app.state.db
    await db.awrite_item(
        AUDIT,
        {
            "actor": user.actor if user is not None else "anonymous",
            "action": "refused",
            "entity": "patient" if patient_id is not None else "route",
            "entity_id": patient_id,
            "details": {"route": name, "method": request.method[:16], "reason": reason},
        },
    )
