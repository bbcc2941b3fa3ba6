"""CDS Hooks 2.0 card logic as pure functions: hook request (context + prefetch) -> cards.

No I/O and no clock: the HTTP shell (`ldnkit.web.routes.cds_hooks`) passes `today`. The
service never calls back to the EHR's FHIR server; it works from the request's context and
prefetch alone, and answers `PrefetchMissing` (HTTP 412, as the spec requires) when a prefetch
it needs is absent.

Modules, one job each:

- `parsing`: the hook request's and the feedback body's shape checks, and reading the
  prefetched resources;
- `services`: the services offered (discovery, prefetch templates) and the call, `cards()`;
- `orders`: order-select and order-sign rules (opioid on LDN, naltrexone with opioids, fixed
  dose);
- `patient_view`: the patient's LDN status card;
- `card`: one card with its cited sources and links.

Safety rules are not restated here: naltrexone orders are checked by running the clinical
core's `screen()` on a Patient rebuilt from the prefetched resources, and every number and
citation comes from the evidence base. Client authentication is `ldnkit.interop.cds_auth`.
"""

from __future__ import annotations

from ldnkit.interop.cds.orders import condition_id, order_cards
from ldnkit.interop.cds.parsing import (
    MAX_FEEDBACK_ITEMS,
    HookRequest,
    PrefetchMissing,
    parse_feedback,
    parse_request,
)
from ldnkit.interop.cds.patient_view import LdnStatus, ldn_status, patient_view_cards
from ldnkit.interop.cds.services import SERVICES, Service, cards, discovery

__all__ = [
    "MAX_FEEDBACK_ITEMS",
    "SERVICES",
    "HookRequest",
    "LdnStatus",
    "PrefetchMissing",
    "Service",
    "cards",
    "condition_id",
    "discovery",
    "ldn_status",
    "order_cards",
    "parse_feedback",
    "parse_request",
    "patient_view_cards",
]
