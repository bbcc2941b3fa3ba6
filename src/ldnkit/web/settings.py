"""Web shell configuration from `LDNKIT_*` environment variables (pydantic-settings).

Defaults give a working embedded setup: the store's SQLite file, a secret key kept in a file
beside it (so sessions survive a restart of `make run`), cookies marked Secure whenever the
request arrived over HTTPS.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class WebSettings(BaseSettings):
    """Everything the app factory needs; tests build one explicitly."""

    model_config = SettingsConfigDict(env_prefix="LDNKIT_", extra="ignore")

    database_url: str = ""
    #: HMAC key for session and CSRF tokens; generated and kept in a file when empty.
    secret_key: str = ""
    #: "auto": Secure cookies when the request came over HTTPS; "always" / "never" to force.
    secure_cookies: str = "auto"
    session_hours: int = 12
    #: Lock an account after this many failed logins within `lockout_minutes`.
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    #: Failed logins one client address may make within `lockout_minutes`, all accounts
    #: together (a clinic behind one NAT address shares it).
    lockout_address_attempts: int = 20
    #: Proxies whose X-Forwarded-For / X-Forwarded-Proto headers are believed: a comma-separated
    #: list of addresses or networks (e.g. "10.0.0.5,172.16.0.0/12"). Empty: none, the peer
    #: address is the client (a header anyone can send must not choose the lock-out budget).
    trusted_proxies: str = ""
    #: Fixed "today" (YYYY-MM-DD) for reproducible demos and tests; empty: the real date.
    today: str = ""
    #: Seconds a verified session and a patient's assignment are reused without a database
    #: read (a logout in this process still takes effect at once).
    cache_seconds: float = 5.0
    #: Largest number of queued writes committed in one transaction (group commit).
    write_batch: int = 64
    #: After start-up, move the objects the process keeps for life (routes, models, evidence)
    #: out of the garbage collector's full passes (`gc.freeze`); see `web.app._settle_heap`.
    freeze_heap: bool = True
    #: Request body limits in bytes per route class (`web.body_limit`): JSON APIs and forms,
    #: login, CDS Hooks service calls (their prefetch can hold a few bundles), CDS feedback,
    #: FHIR Bundle import. A larger body is refused with 413 before it is read.
    max_body_bytes: int = 256 * 1024
    max_login_bytes: int = 16 * 1024
    max_cds_bytes: int = 4 * 1024 * 1024
    max_cds_feedback_bytes: int = 64 * 1024
    max_fhir_bytes: int = 20 * 1024 * 1024
    #: Deepest JSON nesting accepted in any request body (`ldnkit.jsonbounds`).
    max_json_depth: int = 64
    #: CDS Hooks clients allowed to call the services: a YAML/JSON file listing each EHR's
    #: `iss` and its keys (`interop.cds_auth.CdsClients.from_file`). Without it (and without
    #: the sandbox below) every CDS service call is refused with 401.
    cds_clients: str = ""
    #: LOCAL TRIALS ONLY: accept CDS service calls without a client JWT (logged loudly).
    cds_open_sandbox: bool = False
    #: The public CDS base URL (e.g. https://ldn.example.org/api) the `aud` claim must name;
    #: empty: the URL each request arrived at.
    cds_base_url: str = ""
    #: Where clinicians' browsers reach this app (e.g. https://ldn.example.org), for links the
    #: app puts into CDS cards and reminder mails; empty: the URL each request arrived at.
    public_url: str = ""
    #: Clock difference tolerated between the EHR and this server for `exp` / `iat`.
    cds_clock_skew_s: int = 60
    #: The clinic printed on the patient handout and wallet card (issue 15): who to call.
    clinic_name: str = "Your pain clinic"
    clinic_phone: str = ""
    #: A clinic's own instrument definitions (YAML; see `ldnkit.clinical.instruments`), added
    #: to the shipped NRS, PEG-3 and PGIC. Empty: the shipped ones only.
    instruments_file: str = ""

    def url(self) -> str:
        from ldnkit.store import database_url

        return database_url(self.database_url or None)

    def current_date(self) -> dt.date:
        """The shell reads the clock here, once per request; the core only receives dates."""
        return dt.date.fromisoformat(self.today) if self.today else dt.date.today()

    def resolved_secret(self) -> bytes:
        """The configured key, else one stored next to the SQLite file (created once)."""
        if self.secret_key:
            return self.secret_key.encode()
        url = make_url(self.url())
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            path = Path(url.database).expanduser().with_suffix(".secret")
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text(secrets.token_hex(32))
                path.chmod(0o600)
            return path.read_text().strip().encode()
        return secrets.token_hex(32).encode()


__all__ = ["WebSettings"]
