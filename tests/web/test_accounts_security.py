"""Accounts under attack: parallel guessing, enumeration, budgets, proxies, policy, admin actions.

The budget tests run `Accounts` from two app instances ("workers") on one real database, on
SQLite and on PostgreSQL; the HTTP tests run a real uvicorn server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ldnkit.errors import ValidationError
from ldnkit.store import create_store_engine, upgrade
from ldnkit.store import repositories as repo
from ldnkit.store.models import AuditEventRow
from ldnkit.web import WebSettings
from ldnkit.web.accounts import Accounts, InvalidCredentials
from ldnkit.web.db import Database
from ldnkit.web.errors import LockedOut
from tests.db_fixtures import BACKENDS, create_pg_database, drop_pg_database, postgres_unavailable
from tests.web.conftest import PASSWORD, running_clinic

RIGHT = "orbit-lantern-quartz-7"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database holding one clinician account `victim`, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'accounts.db'}"
    else:
        reason = postgres_unavailable()
        if reason:
            pytest.skip(reason)
        url = create_pg_database("ldnkit_accounts")
    try:
        engine = create_store_engine(url)
        upgrade(engine)
        with Session(engine) as s, s.begin():
            c = repo.create_clinician(s, name="Dr V", actor="test")
            repo.create_user(
                s,
                username="victim",
                password=RIGHT,
                role="clinician",
                clinician_id=c.id,
                actor="test",
            )
        engine.dispose()
        yield url
    finally:
        if request.param != "sqlite":
            drop_pg_database(url)


def _workers(url: str, n: int = 2, **settings: object) -> list[Accounts]:
    out = []
    for _ in range(n):
        db = Database(url)
        db.start()
        out.append(Accounts(db, WebSettings(database_url=url, secret_key="k", **settings)))
    return out


def _stop(workers: list[Accounts]) -> None:
    for w in workers:
        w.db.stop()


def _failed_logins(url: str) -> int:
    """Password verifications that failed: one `login_failed` audit row each."""
    engine = create_store_engine(url)
    with Session(engine) as s:
        n = s.scalar(select(func.count()).where(AuditEventRow.action == "login_failed"))
    engine.dispose()
    return int(n or 0)


def _attempt(worker: Accounts, password: str, start: threading.Barrier) -> str:
    start.wait()
    try:
        worker.login("victim", password, "203.0.113.7")
    except LockedOut:
        return "locked"
    except InvalidCredentials:
        return "wrong"
    return "ok"


def test_forty_parallel_guesses_get_at_most_the_budget(db_url: str) -> None:
    """39 wrong passwords and the right one third from last, all at once, from two workers:
    no more than `lockout_attempts` passwords are verified, and once the budget is spent the
    right password is refused too."""
    workers = _workers(db_url)
    budget = workers[0].settings.lockout_attempts
    passwords = [f"wrong-guess-{i}" for i in range(40)]
    passwords[37] = RIGHT
    start = threading.Barrier(len(passwords))
    try:
        with ThreadPoolExecutor(len(passwords)) as pool:
            results = list(
                pool.map(
                    lambda i: _attempt(workers[i % 2], passwords[i], start), range(len(passwords))
                )
            )
        assert results.count("wrong") <= budget
        assert _failed_logins(db_url) == results.count("wrong") <= budget
        assert results.count("locked") >= len(passwords) - budget - 1
        # The budget is spent (the right password, if it won a slot, gave its own back).
        if results.count("wrong") == budget:
            with pytest.raises(LockedOut):
                workers[1].login("victim", RIGHT, "198.51.100.9")
    finally:
        _stop(workers)


def test_the_right_password_after_the_lock_is_refused(db_url: str) -> None:
    workers = _workers(db_url)
    try:
        for i in range(5):
            with pytest.raises(InvalidCredentials):
                workers[i % 2].login("victim", f"nope-{i}", "203.0.113.7")
        with pytest.raises(LockedOut) as locked:
            workers[0].login("victim", RIGHT, "198.51.100.9")  # another address, same account
        assert locked.value.retry_after > 0
        assert _failed_logins(db_url) == 5
    finally:
        _stop(workers)


def test_a_success_does_not_reset_the_budget(db_url: str) -> None:
    (worker,) = _workers(db_url, n=1)
    try:
        for i in range(4):
            with pytest.raises(InvalidCredentials):
                worker.login("victim", f"nope-{i}", "203.0.113.7")
        assert worker.login("victim", RIGHT, "203.0.113.7").username == "victim"
        with pytest.raises(InvalidCredentials):
            worker.login("victim", "nope-5", "203.0.113.7")
        with pytest.raises(LockedOut):
            worker.login("victim", RIGHT, "203.0.113.7")
    finally:
        _stop([worker])


def test_an_address_budget_spans_accounts_and_survives_a_success(db_url: str) -> None:
    (worker,) = _workers(db_url, n=1, lockout_address_attempts=6)
    try:
        for i in range(5):
            with pytest.raises(InvalidCredentials):
                worker.login(f"someone-{i}", "whatever-guess", "203.0.113.7")
        worker.login("victim", RIGHT, "203.0.113.7")  # the attacker's own account
        with pytest.raises(InvalidCredentials):
            worker.login("someone-else", "whatever-guess", "203.0.113.7")
        with pytest.raises(LockedOut):
            worker.login("victim", RIGHT, "203.0.113.7")
        assert worker.login("victim", RIGHT, "192.0.2.1").username == "victim"
    finally:
        _stop([worker])


def test_unknown_and_known_accounts_answer_alike(tmp_path: Path) -> None:
    with running_clinic(tmp_path) as clinic, httpx.Client(base_url=clinic.url) as c:
        answers = {}
        for name in ("dr_a", "no_such_user"):
            seen = []
            for i in range(6):
                r = c.post("/api/auth/login", json={"username": name, "password": f"bad-{i}"})
                seen.append((r.status_code, r.json()["error"].split(";")[0]))
            answers[name] = seen
        assert answers["dr_a"] == answers["no_such_user"]
        assert [code for code, _ in answers["dr_a"]] == [401] * 5 + [429]


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    """A client cannot pick a fresh address budget per request with X-Forwarded-For."""
    with (
        running_clinic(tmp_path, trusted_proxies="", lockout_address_attempts=3) as clinic,
        httpx.Client(base_url=clinic.url) as c,
    ):
        codes = [
            c.post(
                "/api/auth/login",
                json={"username": f"guess-{i}", "password": "bad-password"},
                headers={"X-Forwarded-For": f"10.9.8.{i}"},
            ).status_code
            for i in range(5)
        ]
        assert codes == [401, 401, 401, 429, 429]
        r = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in r.headers


def test_trusted_proxy_sets_address_and_scheme(tmp_path: Path) -> None:
    with (
        running_clinic(tmp_path, trusted_proxies="127.0.0.1", lockout_address_attempts=2) as clinic,
        httpx.Client(base_url=clinic.url) as c,
    ):
        codes = [
            c.post(
                "/api/auth/login",
                json={"username": f"guess-{i}", "password": "bad-password"},
                headers={"X-Forwarded-For": f"10.9.8.{i}"},
            ).status_code
            for i in range(4)
        ]
        assert codes == [401] * 4  # each forwarded address has its own budget
        r = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "strict-transport-security" not in c.get("/login").headers


WEAK = [
    ("drx", "password", "clinician"),
    ("drx", "12345678", "clinician"),
    ("drx", "password123", "clinician"),
    ("drlongname", "drlongname", "clinician"),
    ("drx", "qwertyuiop", "admin"),
    ("patx", "patxpatx1", "patient"),
    ("patx", "password12", "patient"),
    ("patx", "xtap-xtap", "patient"),
    ("patx", "PATX-PATX-1", "patient"),
]


def test_weak_passwords_are_refused_for_every_role(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(engine)
    with Session(engine) as s, s.begin():
        c = repo.create_clinician(s, name="Dr", actor="t")
        p = repo.create_patient(s, clinician_id=c.id, given_name="A", family_name="B", actor="t")
        cid, pid = c.id, p.id
    links = {"clinician": {"clinician_id": cid}, "patient": {"patient_id": pid}}
    for username, password, role in WEAK:
        with Session(engine) as s, s.begin(), pytest.raises(ValidationError) as err:
            repo.create_user(
                s, username=username, password=password, role=role, actor="t", **links.get(role, {})
            )
        assert err.value.field == "password", (username, password)
    with Session(engine) as s, s.begin():  # the demo's and the fixtures' passwords pass
        repo.create_user(s, username="ok1", password=PASSWORD, role="admin", actor="t")
        repo.create_user(
            s,
            username="ok2",
            password="ldn-demo-patient",
            role="patient",
            patient_id=pid,
            actor="t",
        )
    engine.dispose()


def test_admin_deactivates_unlocks_and_resets(tmp_path: Path) -> None:
    with running_clinic(tmp_path) as clinic:
        admin = clinic.client("admin")
        uid = clinic.ids["user_dr_b"]
        doctor = clinic.client("dr_b")
        assert doctor.get("/api/me").status_code == 200

        r = admin.post(f"/api/admin/users/{uid}/deactivate")
        assert r.status_code == 200 and r.json()["active"] is False
        assert doctor.get("/api/me").status_code == 401
        login = {"username": "dr_b", "password": PASSWORD}
        assert httpx.post(f"{clinic.url}/api/auth/login", json=login).status_code == 401
        assert admin.post(f"/api/admin/users/{uid}/activate").json()["active"] is True
        assert httpx.post(f"{clinic.url}/api/auth/login", json=login).status_code == 200

        for i in range(5):
            httpx.post(f"{clinic.url}/api/auth/login", json={**login, "password": f"bad-{i}"})
        assert httpx.post(f"{clinic.url}/api/auth/login", json=login).status_code == 429
        assert admin.post(f"/api/admin/users/{uid}/unlock").json()["failed_logins"] == 0
        token = httpx.post(f"{clinic.url}/api/auth/login", json=login).json()["token"]

        weak = admin.put(f"/api/admin/users/{uid}/password", json={"password": "password1"})
        assert weak.status_code == 422 and weak.json()["field"] == "password"
        new = "marble-heron-cascade-4"
        assert admin.put(f"/api/admin/users/{uid}/password", json={"password": new}).is_success
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{clinic.url}/api/me", headers=headers).status_code == 401
        assert httpx.post(f"{clinic.url}/api/auth/login", json=login).status_code == 401
        assert (
            httpx.post(f"{clinic.url}/api/auth/login", json={**login, "password": new}).status_code
            == 200
        )

        me = admin.get("/api/me").json()["user_id"]
        own = admin.post(f"/api/admin/users/{me}/deactivate")
        assert own.status_code == 422
        assert clinic.client("dr_a").post(f"/api/admin/users/{uid}/unlock").status_code == 403

        events = admin.get("/api/admin/audit", params={"entity": "user", "entity_id": uid}).json()
        actions = {e["action"] for e in events if e["actor"] == f"user:{me}"}
        assert {"deactivate", "activate", "unlock", "set_password"} <= actions


def test_refused_accesses_are_audited(tmp_path: Path) -> None:
    with running_clinic(tmp_path) as clinic:
        other = clinic.ids["patient_b"]
        dr_a = clinic.client("dr_a")
        assert dr_a.get(f"/api/patients/{other}").status_code == 403
        assert dr_a.get("/api/admin/audit").status_code == 403
        admin = clinic.client("admin")
        events = admin.get("/api/admin/audit", params={"limit": 1000}).json()
        refused = [
            e
            for e in events
            if e["action"] == "refused" and e["actor"] == f"user:{clinic.ids['user_dr_a']}"
        ]
        on_patient = [e for e in refused if e["entity"] == "patient" and e["entity_id"] == other]
        assert len(on_patient) >= 1
        assert any(e["details"]["reason"] == "role" for e in refused)


def test_csrf_token_of_one_session_fails_in_another(tmp_path: Path) -> None:
    with running_clinic(tmp_path) as clinic:

        def browser(who: str, csrf: str | None = None) -> tuple[httpx.Client, str]:
            c = httpx.Client(base_url=clinic.url, follow_redirects=False)
            if csrf:
                c.cookies.set("ldnkit_csrf", csrf)
            page = c.get("/login")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            r = c.post("/login", data={"username": who, "password": PASSWORD, "csrf_token": token})
            assert r.status_code == 303
            page = c.get("/patients")
            return c, page.text.split('name="csrf_token" value="')[1].split('"')[0]

        a, token_a = browser("dr_a")
        b, token_b = browser("dr_b", csrf=a.cookies.get("ldnkit_csrf"))
        assert a.cookies.get("ldnkit_csrf") == b.cookies.get("ldnkit_csrf")
        assert b.post("/logout", data={"csrf_token": token_a}).status_code == 403
        assert b.post("/logout", data={"csrf_token": token_b}).status_code == 303


def test_admin_pages_act_on_accounts(tmp_path: Path) -> None:
    with running_clinic(tmp_path) as clinic:
        uid = clinic.ids["user_dr_a"]
        c = httpx.Client(base_url=clinic.url, follow_redirects=False)
        page = c.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        login = {"username": "admin", "password": PASSWORD, "csrf_token": token}
        assert c.post("/login", data=login).status_code == 303
        users = c.get("/admin/users")
        assert users.status_code == 200 and f"/admin/users/{uid}/deactivate" in users.text
        token = users.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post(f"/admin/users/{uid}/deactivate", data={"csrf_token": token})
        assert r.status_code == 303
        events = clinic.client("admin").get(
            "/api/admin/audit", params={"entity": "user", "entity_id": uid}
        )
        assert events.json()[0]["action"] == "deactivate"
        assert f"/admin/users/{uid}/activate" in c.get("/admin/users").text
        weak = c.post(f"/admin/users/{uid}/password", data={"csrf_token": token, "password": "x"})
        assert weak.status_code == 422 and "at least 10 characters" in weak.text
        new = {"csrf_token": token, "password": "saffron-glacier-trumpet-2"}
        assert c.post(f"/admin/users/{uid}/password", data=new).status_code == 303
        assert c.post(f"/admin/users/{uid}/activate", data={"csrf_token": token}).status_code == 303
        r = httpx.post(
            f"{clinic.url}/api/auth/login",
            json={"username": "dr_a", "password": "saffron-glacier-trumpet-2"},
        )
        assert r.status_code == 200
        c.close()
