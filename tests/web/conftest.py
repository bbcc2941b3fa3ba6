"""A real server for the web tests: uvicorn on a free loopback port, a fresh migrated SQLite
database, two clinicians (so access control has someone else's patient to refuse), their
patients with logins, and an administrator."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session

from ldnkit.store import create_store_engine, upgrade
from ldnkit.store import repositories as repo
from ldnkit.web import WebSettings, create_app

TODAY = "2026-11-25"
PASSWORD = "correct-horse-9"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

FIBRO_PROFILE = {
    "sex": "female",
    "conditions": [{"code": "fibromyalgia"}],
    "medications": [{"name": "duloxetine", "dose_mg": "60"}],
    "prior_therapies": [
        {"name": "duloxetine", "outcome": "partial"},
        {"name": "graded exercise", "outcome": "inadequate"},
    ],
    "pregnancy": "not_pregnant",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Clinic:
    """Ids and usernames of what the fixture seeded."""

    url: str
    ids: dict[str, int] = field(default_factory=dict)
    db_url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(who)}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def token(self, who: str) -> str:
        if who not in self.tokens:
            r = httpx.post(
                f"{self.url}/api/auth/login",
                json={"username": who, "password": PASSWORD},
                timeout=30,
            )
            r.raise_for_status()
            self.tokens[who] = r.json()["token"]
        return self.tokens[who]


def seed(url: str) -> dict[str, int]:
    engine = create_store_engine(url)
    ids: dict[str, int] = {}
    with Session(engine) as s, s.begin():
        for tag in ("a", "b"):
            c = repo.create_clinician(s, name=f"Dr {tag.upper()}", actor="test")
            ids[f"clinician_{tag}"] = c.id
            u = repo.create_user(
                s,
                username=f"dr_{tag}",
                password=PASSWORD,
                role="clinician",
                clinician_id=c.id,
                actor="test",
            )
            ids[f"user_dr_{tag}"] = u.id
            p = repo.create_patient(
                s,
                clinician_id=c.id,
                given_name="Pat",
                family_name=tag.upper(),
                profile=FIBRO_PROFILE,
                actor="test",
            )
            ids[f"patient_{tag}"] = p.id
            repo.create_user(
                s,
                username=f"pat_{tag}",
                password=PASSWORD,
                role="patient",
                patient_id=p.id,
                actor="test",
            )
        repo.create_user(s, username="admin", password=PASSWORD, role="admin", actor="test")
        for name in ("locked_dr",):
            c = repo.create_clinician(s, name="Dr Locked", actor="test")
            repo.create_user(
                s,
                username=name,
                password=PASSWORD,
                role="clinician",
                clinician_id=c.id,
                actor="test",
            )
    engine.dispose()
    return ids


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


@contextmanager
def running_clinic(
    directory: Path, *, interop: bool = False, **overrides: object
) -> Iterator[Clinic]:
    """A migrated, seeded database and uvicorn serving the app on a free loopback port
    (with `interop`: the served product's FHIR, CDS Hooks and document routers too)."""
    url = f"sqlite:///{directory / 'clinic.db'}"
    upgrade(url)
    ids = seed(url)
    overrides.setdefault("trusted_proxies", "127.0.0.1")  # as behind a TLS-terminating proxy
    settings = WebSettings(database_url=url, secret_key="test-secret", today=TODAY, **overrides)
    if interop:
        from ldnkit.web.main import interop_routers

        app = create_app(settings, extra_routers=interop_routers(settings))
    else:
        app = create_app(settings)
    port = free_port()
    server = _Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # as `ldnkit serve`: the app decides whom to believe
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield Clinic(url=f"http://127.0.0.1:{port}", ids=ids, db_url=url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    with running_clinic(tmp_path_factory.mktemp("web")) as c:
        yield c
