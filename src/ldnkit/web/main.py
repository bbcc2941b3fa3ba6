"""The served app, built in one place: the web app with every router mounted.

`create_app` (`ldnkit.web.app`) mounts the built-in resources (`ldnkit.web.routes`); this
module adds the standards-facing ones, so "where is /fhir mounted?" has one answer, here:

- CDS Hooks under `/api` (`routes.cds_hooks.mounted()`): discovery at `/api/cds-services`,
  every service call authenticated by the EHR's signed JWT (`LDNKIT_CDS_CLIENTS`);
- FHIR REST (`routes.fhir.router()`): `/fhir/Patient/{patient_id}/$everything` and
  `POST /fhir/Patient/{patient_id}`, under the app's access rules;
- documents (`routes.documents.plan_documents()`):
  `/api/patients/{patient_id}/documents/{kind}?format=pdf|html`.

`served_app` is what `ldnkit serve` runs, and a factory for `uvicorn --workers N`
(`ldnkit.web.main:served_app`).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from ldnkit.web.app import create_app
from ldnkit.web.routes import cds_hooks, documents, fhir
from ldnkit.web.settings import WebSettings

#: What `uvicorn --factory` imports in each worker process.
FACTORY = "ldnkit.web.main:served_app"


def interop_routers(settings: WebSettings | None = None) -> list[APIRouter]:
    """CDS Hooks, FHIR REST and documents routers for `create_app(extra_routers=...)`.

    `settings` (default: from the environment) is checked here, at start-up: a broken CDS
    client list fails now rather than on the first call, and an open sandbox is logged.
    """
    cds_hooks.check_clients(settings or WebSettings())
    return [cds_hooks.mounted(), fhir.router(), documents.plan_documents()]


def served_app(settings: WebSettings | None = None) -> FastAPI:
    """The served product: the web app with the FHIR, CDS Hooks and document routers mounted.

    Module-level and callable without arguments, so `uvicorn --workers N` can import it as a
    factory (each worker reads its settings from the environment).
    """
    current = settings or WebSettings()
    return create_app(current, extra_routers=interop_routers(current))
