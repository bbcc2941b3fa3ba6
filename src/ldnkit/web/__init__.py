"""The web shell: FastAPI JSON API (OpenAPI at /docs) and server-rendered pages.

`create_app(settings, extra_routers=...)` builds the app; `ldnkit serve` runs it with uvicorn.
"""

from ldnkit.web.app import create_app
from ldnkit.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
