"""The clinic deployment: `ldnkit serve --workers 2` on the real PostgreSQL server.

Sessions must hold whichever worker answers (every worker signs with one key even when none is
configured), a logout must end the session on every worker, and killing one worker with SIGKILL
in the middle of diary submissions must lose none that was acknowledged.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ldnkit.store import create_store_engine, upgrade
from ldnkit.store.models import DiaryEntryRow
from tests.db_fixtures import create_pg_database, drop_pg_database, postgres_unavailable
from tests.web.conftest import PASSWORD, TODAY, free_port, seed

pytestmark = pytest.mark.database
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    url: str
    db_url: str
    ids: dict[str, int]
    proc: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        kids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            kids += [int(c) for c in task.read_text().split()]
        return [
            pid
            for pid in kids
            if Path(f"/proc/{pid}/cmdline").exists()
            and b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    db_url = create_pg_database("ldnkit_workers")
    upgrade(db_url)
    ids = seed(db_url)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDNKIT_")} | {
        "LDNKIT_DATABASE_URL": db_url,
        "LDNKIT_TODAY": TODAY,
        "LDNKIT_CACHE_SECONDS": "0",
        "PYTHONPATH": str(ROOT / "src"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ldnkit",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
            "--no-upgrade-db",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        served = Served(url, db_url, ids, proc)
        deadline = time.monotonic() + 30
        while len(served.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield served
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        drop_pg_database(db_url)


def _fresh(url: str, method: str, path: str, token: str, **kw: object) -> httpx.Response:
    """One request on its own connection, so the kernel hands it to either worker."""
    with httpx.Client(base_url=url, timeout=30, headers={"Connection": "close"}) as c:
        return c.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


def _login(url: str, who: str) -> str:
    r = httpx.post(f"{url}/api/auth/login", json={"username": who, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_two_workers_serve_one_session_and_one_logout(served: Served) -> None:
    assert len(served.workers()) == 2
    token = _login(served.url, "dr_a")
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda _: _fresh(served.url, "GET", "/api/me", token).status_code, range(60))
        )
    assert codes == [200] * 60
    assert _fresh(served.url, "POST", "/api/auth/logout", token).status_code == 204
    with ThreadPoolExecutor(8) as pool:
        after = list(
            pool.map(lambda _: _fresh(served.url, "GET", "/api/me", token).status_code, range(60))
        )
    assert after == [401] * 60


def test_killing_a_worker_loses_no_acknowledged_diary_entry(served: Served) -> None:
    token = _login(served.url, "pat_a")
    pid = served.ids["patient_a"]
    today = dt.date.fromisoformat(TODAY)
    acknowledged: dict[int, tuple[dt.date, int]] = {}
    unacknowledged = 0

    def post(i: int) -> None:
        nonlocal unacknowledged
        day = today - dt.timedelta(days=i)
        body = {"entry_date": day.isoformat(), "pain": i % 11, "dose_taken": True}
        try:
            r = _fresh(served.url, "POST", f"/api/patients/{pid}/diary", token, json=body)
        except httpx.TransportError:
            unacknowledged += 1
            return
        if r.status_code == 201:
            acknowledged[r.json()["id"]] = (day, i % 11)
        else:
            unacknowledged += 1

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post, i) for i in range(160)]
        while len(acknowledged) < 40:
            time.sleep(0.005)
        os.kill(served.workers()[0], signal.SIGKILL)  # with requests in flight
        for f in futures:
            f.result()
    assert len(acknowledged) >= 100, (len(acknowledged), unacknowledged)
    engine = create_store_engine(served.db_url)
    try:
        with Session(engine) as s:
            stored = {
                r.id: (r.entry_date, r.pain)
                for r in s.execute(
                    select(DiaryEntryRow.id, DiaryEntryRow.entry_date, DiaryEntryRow.pain).where(
                        DiaryEntryRow.id.in_(list(acknowledged))
                    )
                )
            }
    finally:
        engine.dispose()
    assert stored == acknowledged
