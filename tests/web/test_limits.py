"""Request bounds on the served product (`ldnkit serve`, its own process): oversized bodies are
refused before they are read and the server's memory stays flat; deep JSON is a 400.

Before the body limit, a 300 MB post to the CDS service took the server from about 200 MB to
1.1 GB resident, and 200 MB to the login 776 MB.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text

from ldnkit.store import upgrade
from tests.web.conftest import free_port, seed

MB = 1024 * 1024
#: Resident memory the server may gain over all the oversized posts together.
RSS_ALLOWANCE = 40 * MB


@dataclass
class Served:
    url: str
    port: int
    process: psutil.Process
    ids: dict[str, int]
    db_url: str

    def rss(self) -> int:
        return self.process.memory_info().rss


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{directory / 'clinic.db'}"
    upgrade(url)
    ids = seed(url)
    port = free_port()
    env = {
        **os.environ,
        "LDNKIT_DATABASE_URL": url,
        "LDNKIT_SECRET_KEY": "limits-secret",
        "LDNKIT_CDS_OPEN_SANDBOX": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ldnkit", "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("ldnkit serve did not start")
        time.sleep(0.1)
    try:
        yield Served(base, port, psutil.Process(proc.pid), ids, url)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _raw_post(port: int, path: str, size: int, *, chunked: bool, headers: str = "") -> bytes:
    """Stream `size` bytes of a JSON-looking body, stopping as soon as the server answers;
    returns the raw response. The client never holds more than one 1 MB chunk."""
    chunk = b"[" + b"0," * (MB // 2 - 1) + b"0"
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{headers}{framing}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sent = 0
        try:
            while sent < size:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the server has answered: stop sending
                piece = chunk[: size - sent]
                if chunked:
                    sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                else:
                    sock.sendall(piece)
                sent += len(piece)
            if chunked and sent >= size:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = b""
        try:
            while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
                data = sock.recv(65536)
                if not data:
                    break
                response += data
        except (ConnectionResetError, TimeoutError):
            pass
    return response


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _token(served: Served, who: str) -> str:
    r = httpx.post(
        f"{served.url}/api/auth/login",
        json={"username": who, "password": "correct-horse-9"},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()["token"]


def test_oversized_bodies_are_refused_and_memory_stays_flat(served: Served) -> None:
    token = _token(served, "dr_a")
    pid = served.ids["patient_a"]
    for _ in range(3):  # warm every route class once
        httpx.get(f"{served.url}/api/cds-services")
    before = served.rss()
    cases = [
        ("/api/cds-services/ldn-patient-view", 300 * MB, False, ""),
        ("/api/cds-services/ldn-patient-view", 300 * MB, True, ""),
        ("/api/auth/login", 200 * MB, False, ""),
        ("/api/auth/login", 200 * MB, True, ""),
        ("/api/cds-services/ldn-patient-view/feedback", 30 * MB, True, ""),
        (f"/fhir/Patient/{pid}", 30 * MB, False, f"Authorization: Bearer {token}\r\n"),
        (f"/fhir/Patient/{pid}", 30 * MB, True, f"Authorization: Bearer {token}\r\n"),
        (f"/api/patients/{pid}/diary", 5 * MB, True, f"Authorization: Bearer {token}\r\n"),
    ]
    peak = before
    for path, size, chunked, headers in cases:
        response = _raw_post(served.port, path, size, chunked=chunked, headers=headers)
        assert _status(response) == 413, (path, chunked, response[:300])
        assert b'"payload_too_large"' in response and b'"limit"' in response
        peak = max(peak, served.rss())
    after = served.rss()
    print(
        f"server RSS before {before / MB:.0f} MB, peak seen {peak / MB:.0f} MB, after {after / MB:.0f} MB"
    )
    assert after - before < RSS_ALLOWANCE
    # Still serving.
    assert httpx.get(f"{served.url}/api/cds-services").status_code == 200


def test_bodies_under_the_limit_still_work(served: Served) -> None:
    token = _token(served, "dr_a")
    pid = served.ids["patient_a"]
    # 1.5 MB of valid JSON to the FHIR import: over the JSON API limit, under the FHIR one.
    filler = {"resourceType": "Bundle", "type": "collection", "entry": [], "meta": {"tag": []}}
    filler["meta"]["tag"] = [{"code": "x" * 64} for _ in range(20_000)]
    r = httpx.post(
        f"{served.url}/fhir/Patient/{pid}",
        json=filler,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert r.status_code != 413 and r.status_code < 500, r.text[:300]


@pytest.mark.parametrize(
    "path",
    [
        "/api/cds-services/ldn-patient-view",
        "/api/cds-services/ldn-patient-view/feedback",
        "/fhir/Patient/{pid}",
        "/api/auth/login",
        "/api/patients/{pid}/diary",
    ],
)
def test_deep_json_is_a_400_everywhere(served: Served, path: str) -> None:
    token = _token(served, "dr_a")
    body = b"[" * 5000 + b"]" * 5000
    r = httpx.post(
        served.url + path.format(pid=served.ids["patient_a"]),
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "too_deep"


def test_feedback_goes_to_the_database_not_to_memory(served: Served) -> None:
    item = {"card": "card-1", "outcome": "accepted", "outcomeTimestamp": "2026-05-04T10:00:00Z"}
    r = httpx.post(
        f"{served.url}/api/cds-services/ldn-patient-view/feedback",
        json={"feedback": [item] * 50},
    )
    assert r.status_code == 200, r.text
    engine = create_engine(served.db_url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM cds_feedback")).scalar()
    engine.dispose()
    assert n == 50


def test_bad_content_length_is_a_400(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n")
        data = sock.recv(65536)
    assert _status(data) == 400
