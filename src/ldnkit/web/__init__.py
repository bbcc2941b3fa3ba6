"""The web shell: FastAPI JSON API (OpenAPI at /docs) and server-rendered pages.

`create_app(settings, extra_routers=...)` builds the app; `ldnkit.web.main.served_app` adds the
FHIR, CDS Hooks and document routers, and `ldnkit serve` runs that with uvicorn.
"""

from ldnkit.web.app import create_app
from ldnkit.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
