"""`ldnkit reminders send` against a real SMTP server (aiosmtpd, started here): opted-in
patients whose time has come and who have not logged today get one e-mail a day, with a
greeting and a link and no health data; everyone else gets none."""

from __future__ import annotations

import datetime as dt
import email
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from ldnkit.cli import main
from ldnkit.store import create_store_engine, upgrade
from ldnkit.store import repositories as repo
from ldnkit.store.repositories.reminders import get_reminders, save_reminders
from tests.web.conftest import seed

TODAY = dt.date(2026, 11, 25)
BASE = "https://clinic.example"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    inbox = _Inbox()
    port = _port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("LDNKIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LDNKIT_SMTP_PORT", str(port))
    monkeypatch.setenv("LDNKIT_SMTP_SENDER", "Clinic <clinic@clinic.example>")
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, dict[str, int]]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    ids = seed(url)
    engine = create_store_engine(url)
    with Session(engine) as s, s.begin():
        a, b = ids["patient_a"], ids["patient_b"]
        save_reminders(
            s,
            a,
            reminder_time=dt.time(21, 0),
            email="pat.a@example.org",
            email_opt_in=True,
            actor="test",
        )
        save_reminders(
            s,
            b,
            reminder_time=dt.time(21, 0),
            email="pat.b@example.org",
            email_opt_in=False,
            actor="test",
        )
        third = repo.create_patient(
            s,
            clinician_id=ids["clinician_a"],
            given_name="Cy",
            family_name="C",
            profile={},
            actor="test",
        )
        ids["patient_c"] = third.id
        save_reminders(
            s,
            third.id,
            reminder_time=dt.time(20, 0),
            email="cy@example.org",
            email_opt_in=True,
            actor="test",
        )
        repo.add_diary_entry(
            s,
            third.id,
            {"entry_date": TODAY, "pain": 4, "dose_taken": True},
            today=TODAY,
            actor="test",
        )
    engine.dispose()
    return url, ids


def _send(url: str, now: str) -> int:
    return main(
        [
            "reminders",
            "send",
            "--db",
            url,
            "--base-url",
            BASE,
            "--today",
            TODAY.isoformat(),
            "--now",
            now,
        ]
    )


def test_one_reminder_a_day_to_opted_in_patients_who_have_not_logged(smtp, db, capsys) -> None:  # type: ignore[no-untyped-def]
    url, ids = db
    assert _send(url, "20:30") == 0
    assert smtp.messages == []  # nobody's time has come (c's has, but c has logged today)
    assert _send(url, "21:05") == 0
    assert [rcpt for rcpt, _ in smtp.messages] == [["pat.a@example.org"]]
    msg = smtp.messages[0][1]
    body = msg.get_payload(decode=True).decode()
    assert f"{BASE}/patients/{ids['patient_a']}/diary/new" in body
    assert body.startswith("Hello Pat,")
    for word in ("naltrexone", "LDN", "mg", "pain", "dose", "fibromyalgia", "duloxetine"):
        assert word.lower() not in (body + msg["Subject"]).lower(), word
    assert _send(url, "22:00") == 0  # the cron job runs again: no second e-mail today
    assert len(smtp.messages) == 1
    assert "sent 0" in capsys.readouterr().out


def test_no_smtp_server_is_a_one_line_error(db, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    url, _ = db
    monkeypatch.setenv("LDNKIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LDNKIT_SMTP_PORT", str(_port()))
    assert _send(url, "21:30") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: LDNKIT_SMTP_HOST: cannot reach") and err.count("\n") == 1


def test_opting_in_needs_a_valid_address(db) -> None:  # type: ignore[no-untyped-def]
    from ldnkit.errors import ValidationError

    url, ids = db
    engine = create_store_engine(url)
    with Session(engine) as s:
        with pytest.raises(ValidationError, match="email"):
            save_reminders(
                s,
                ids["patient_b"],
                reminder_time=dt.time(9, 0),
                email=None,
                email_opt_in=True,
                actor="test",
            )
        with pytest.raises(ValidationError, match="email"):
            save_reminders(
                s,
                ids["patient_b"],
                reminder_time=dt.time(9, 0),
                email="not-an-address",
                email_opt_in=False,
                actor="test",
            )
        assert get_reminders(s, ids["patient_b"]).email_opt_in is False
    engine.dispose()
