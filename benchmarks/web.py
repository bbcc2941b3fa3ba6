"""Load check of the web app over loopback: concurrent diary submissions and patient-page views.

A real server (`ldnkit serve`, one uvicorn process, embedded SQLite with synchronous=FULL) is
started on a free port with a fresh database of one clinician and many patients with plans.
Concurrent clients then post diary entries (each to a distinct patient-day) and open patient
pages for a bounded time, over keep-alive HTTP/1.1 connections from a small raw asyncio client
(so the client costs little of the 2 cores). Printed: requests per second, p50/p99 latency and
errors per kind of request. Afterwards the server is stopped and every acknowledged (201)
submission is looked up in the database by its id and values: none may be missing.

Baseline, same run, same machine: the same server with group commit switched off
(`LDNKIT_WRITE_BATCH=1`, one transaction and one fsync per request).
A final phase kills the server with SIGKILL in the middle of the load and checks again that
everything acknowledged before the kill is in the database.

    python benchmarks/web.py [--seconds 15] [--diary-clients 16] [--page-clients 2]
    python benchmarks/web.py --postgres [ADMIN_URL]   # PostgreSQL: 1 vs 2 workers, a worker killed
Targets (issue 4): >= 300 diary submissions/s, p99 < 100 ms, 0 errors, none missing.
Targets (issue 12, --postgres): the same with 2 workers, and 0 acknowledged submissions lost when
one worker is killed with SIGKILL in the middle of the load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ldnkit.clinical.titration import titration_plan  # noqa: E402
from ldnkit.store import create_store_engine, upgrade  # noqa: E402
from ldnkit.store import repositories as repo  # noqa: E402
from ldnkit.store.models import DiaryEntryRow  # noqa: E402

TODAY = dt.date(2026, 11, 25)
PASSWORD = "bench-password-1"
DAYS = 365


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(url: str, patients: int) -> list[int]:
    """One clinician with a login, `patients` patients each with a plan; returns patient ids."""
    upgrade(url)
    engine = create_store_engine(url)
    plan = titration_plan("standard", TODAY - dt.timedelta(days=60))
    payload = plan.model_dump(mode="json")
    ids = []
    with Session(engine) as s, s.begin():
        c = repo.create_clinician(s, name="Bench", actor="bench")
        repo.create_user(
            s,
            username="bench",
            password=PASSWORD,
            role="clinician",
            clinician_id=c.id,
            actor="bench",
        )
        for i in range(patients):
            p = repo.create_patient(
                s,
                clinician_id=c.id,
                given_name="P",
                family_name=str(i),
                profile={"conditions": [{"code": "fibromyalgia"}]},
                actor="bench",
            )
            repo.save_plan(
                s,
                patient_id=p.id,
                protocol_id=plan.protocol_id,
                start_date=plan.start,
                payload=payload,
                actor="bench",
            )
            ids.append(p.id)
    engine.dispose()
    return ids


class Server:
    """`ldnkit serve` in a child process."""

    def __init__(self, url: str, port: int, batch: int, workers: int = 1) -> None:
        env = {
            **os.environ,
            "LDNKIT_DATABASE_URL": url,
            "LDNKIT_SECRET_KEY": "bench-secret",
            "LDNKIT_TODAY": TODAY.isoformat(),
            "LDNKIT_WRITE_BATCH": str(batch),
            "PYTHONPATH": str(ROOT / "src"),
        }
        self.port = port
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ldnkit",
                "serve",
                "--port",
                str(port),
                "--no-access-log",
                "--no-upgrade-db",
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    async def wait_ready(self) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = await Conn.open(self.port)
                status, _ = await conn.request("GET", "/api/evidence/protocols")
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("server did not start: " + self.proc.stderr.read().decode()[-2000:])

    def _pids(self, pid: int) -> list[int]:
        out = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            for child in task.read_text().split():
                out += self._pids(int(child))
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU the server processes (and worker children) have used (Linux)."""
        total = 0
        for pid in self._pids(self.proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)

    def workers(self) -> list[int]:
        """The worker processes under uvicorn's supervisor (its direct children that serve)."""
        kids = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            kids += [int(c) for c in task.read_text().split()]
        serving = []
        for pid in kids:
            with contextlib.suppress(FileNotFoundError):
                if (
                    b"multiprocessing.resource_tracker"
                    not in Path(f"/proc/{pid}/cmdline").read_bytes()
                ):
                    serving.append(pid)
        return serving

    def connections(self, pid: int) -> int:
        """Established client connections this process holds on the server's port (Linux)."""
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(FileNotFoundError):
                for line in Path(table).read_text().splitlines()[1:]:
                    cols = line.split()
                    local_port = int(cols[1].rsplit(":", 1)[1], 16)
                    if local_port == self.port and cols[3] == "01" and cols[9] in inodes:
                        count += 1
        return count

    def kill_one_worker(self) -> tuple[int, int]:
        """SIGKILL the worker holding most client connections (the supervisor replaces it).

        Returns the pid and how many connections it held, so the report shows that the
        killed worker was really serving.
        """
        held = {pid: self.connections(pid) for pid in self.workers()}
        victim = max(held, key=lambda pid: held[pid])
        os.kill(victim, signal.SIGKILL)
        return victim, held[victim]

    def kill(self) -> None:
        """SIGKILL the server and every worker process it started, all at once."""
        for pid in reversed(self._pids(self.proc.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


class Conn:
    """One keep-alive HTTP/1.1 connection; just enough protocol for this benchmark."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b"", token: str | None = None
    ) -> tuple[int, bytes]:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    def close(self) -> None:
        self.writer.close()


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.first_errors) < 3:
            self.first_errors.append(what)


@dataclass
class Acked:
    """Acknowledged submissions: id -> (patient, date, pain)."""

    rows: dict[int, tuple[int, str, int]] = field(default_factory=dict)


class Slots:
    """Distinct patient-days, handed out so no two submissions hit the same day."""

    def __init__(self, patients: list[int], seed: int) -> None:
        self._patients = patients
        self._next = {p: 0 for p in patients}
        self._rng = random.Random(seed)

    def take(self) -> tuple[int, dt.date]:
        p = self._rng.choice(self._patients)
        n = self._next[p]
        self._next[p] = n + 1
        return p, TODAY - dt.timedelta(days=DAYS - 1 - (n % DAYS))


async def login(port: int) -> str:
    conn = await Conn.open(port)
    body = json.dumps({"username": "bench", "password": PASSWORD}).encode()
    status, data = await conn.request("POST", "/api/auth/login", body)
    conn.close()
    if status != 200:
        raise RuntimeError(f"login failed: {status} {data[:200]!r}")
    return json.loads(data)["token"]


async def diary_client(
    port: int,
    token: str,
    slots: Slots,
    stop_at: float,
    stats: Stats,
    acked: Acked,
    seed: int,
    reconnect: bool = False,
) -> None:
    """Post diary days until `stop_at`; with `reconnect`, a dropped connection is reopened
    (a killed worker) and the unacknowledged request counted as an error, never as saved."""
    rng = random.Random(seed)
    conn = await Conn.open(port)
    try:
        while time.perf_counter() < stop_at:
            pid, day = slots.take()
            pain = rng.randint(0, 10)
            body = json.dumps(
                {
                    "entry_date": day.isoformat(),
                    "pain": pain,
                    "sleep": rng.randint(0, 10),
                    "mood": rng.randint(0, 10),
                    "dose_taken": True,
                    "dose_mg": "1.5",
                    "dose_time": "22:00:00",
                    "side_effects": [],
                }
            ).encode()
            t0 = time.perf_counter()
            try:
                status, data = await conn.request("POST", f"/api/patients/{pid}/diary", body, token)
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
                stats.error(f"{type(exc).__name__}")
                if not reconnect:
                    return
                conn.close()
                conn = await _reopen(port, stop_at)
                if conn is None:
                    return
                continue
            stats.latencies.append(time.perf_counter() - t0)
            if status == 201:
                row = json.loads(data)
                acked.rows[row["id"]] = (pid, day.isoformat(), pain)
            else:
                stats.error(f"{status} {data[:120]!r}")
    finally:
        conn.close()


async def _reopen(port: int, stop_at: float) -> Conn | None:
    """A new connection once a live worker accepts one (None when the load is over)."""
    while time.perf_counter() < stop_at:
        try:
            return await Conn.open(port)
        except OSError:
            await asyncio.sleep(0.05)
    return None


async def page_client(
    port: int, token: str, patients: list[int], stop_at: float, stats: Stats, seed: int
) -> None:
    rng = random.Random(seed)
    conn = await Conn.open(port)
    try:
        while time.perf_counter() < stop_at:
            pid = rng.choice(patients)
            t0 = time.perf_counter()
            try:
                status, data = await conn.request("GET", f"/patients/{pid}", b"", token)
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
                stats.error(f"{type(exc).__name__}")
                return
            stats.latencies.append(time.perf_counter() - t0)
            if status != 200 or b"Today's advice" not in data:
                stats.error(f"{status} {data[:120]!r}")
    finally:
        conn.close()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def report(label: str, stats: Stats, seconds: float) -> dict[str, float]:
    n = len(stats.latencies)
    rps = n / seconds
    p50, p99 = _pct(stats.latencies, 0.50), _pct(stats.latencies, 0.99)
    print(
        f"  {label:<22} {n:>7} requests  {rps:>8.1f} req/s  p50 {p50:>7.1f} ms  "
        f"p99 {p99:>7.1f} ms  errors {stats.errors}"
    )
    for e in stats.first_errors:
        print(f"      error: {e}")
    return {"rps": rps, "p50": p50, "p99": p99, "errors": stats.errors, "n": n}


def missing(url: str, acked: Acked) -> int:
    """Acknowledged submissions not found in the database with the same values."""
    engine = create_store_engine(url)
    found = 0
    ids = list(acked.rows)
    with Session(engine) as s:
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            rows = s.execute(
                select(
                    DiaryEntryRow.id,
                    DiaryEntryRow.patient_id,
                    DiaryEntryRow.entry_date,
                    DiaryEntryRow.pain,
                ).where(DiaryEntryRow.id.in_(chunk))
            ).all()
            for rid, pid, day, pain in rows:
                if acked.rows[rid] == (pid, day.isoformat(), pain):
                    found += 1
    engine.dispose()
    return len(ids) - found


async def run_load(
    url: str,
    patients: list[int],
    batch: int,
    seconds: float,
    diary_n: int,
    page_n: int,
    kill_after: float | None = None,
    label: str = "",
    workers: int = 1,
    kill_worker_after: float | None = None,
) -> dict[str, object]:
    port = _free_port()
    server = Server(url, port, batch, workers)
    await server.wait_ready()
    token = await login(port)
    slots = Slots(patients, seed=batch * 7 + int(kill_after or 0))
    diary, pages, acked = Stats(), Stats(), Acked()
    # Warm-up: a second of load that is not measured.
    warm = Stats()
    stop = time.perf_counter() + 1.0
    await asyncio.gather(
        *(diary_client(port, token, slots, stop, warm, acked, i) for i in range(diary_n))
    )
    start = time.perf_counter()
    cpu0 = server.cpu_seconds()
    load0 = os.getloadavg()[0]
    stop_at = start + (kill_after if kill_after else seconds)
    tasks = [
        asyncio.create_task(diary_client(port, token, slots, stop_at + 60, diary, acked, 100 + i))
        if kill_after
        else asyncio.create_task(
            diary_client(
                port,
                token,
                slots,
                stop_at,
                diary,
                acked,
                100 + i,
                reconnect=kill_worker_after is not None,
            )
        )
        for i in range(diary_n)
    ] + [
        asyncio.create_task(page_client(port, token, patients, stop_at, pages, 500 + i))
        for i in range(page_n)
    ]
    if kill_after:
        await asyncio.sleep(kill_after)
        server.kill()
        await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.perf_counter() - start
        return {"acked": acked, "elapsed": elapsed, "in_flight": diary.errors}
    killed = None
    if kill_worker_after is not None:
        await asyncio.sleep(kill_worker_after)
        killed = server.kill_one_worker()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    cpu = server.cpu_seconds() - cpu0
    load = max(load0, os.getloadavg()[0])
    server.stop()
    print(f"{label} ({elapsed:.1f} s, {diary_n} diary clients + {page_n} page clients):")
    if killed is not None:
        print(
            f"  worker {killed[0]} (holding {killed[1]} client connections) killed with "
            f"SIGKILL {kill_worker_after:.1f} s into the load"
        )
    d = report("diary submissions", diary, elapsed)
    p = report("patient-page views", pages, elapsed)
    n = len(diary.latencies) + len(pages.latencies)
    print(
        f"  server CPU {cpu:.1f} s in {elapsed:.1f} s ({cpu / elapsed:.2f} cores busy), "
        f"{cpu / max(n, 1) * 1000:.2f} ms CPU per request; machine load average {load:.1f} "
        f"on {os.cpu_count()} CPUs (other work shares them)"
    )
    return {"diary": d, "pages": p, "acked": acked, "cpu": cpu, "elapsed": elapsed}


def _pg_database(admin_url: str) -> tuple[str, object]:
    """A fresh PostgreSQL database for one phase; returns its URL and a function dropping it."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    name = f"ldnkit_bench_{uuid.uuid4().hex[:8]}"

    def _exec(sql: str) -> None:
        with psycopg.connect(
            host=admin.host,
            port=admin.port or 5432,
            user=admin.username,
            password=admin.password,
            dbname=admin.database,
            autocommit=True,
        ) as conn:
            conn.execute(sql)

    _exec(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    return url, lambda: _exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main_postgres(args: argparse.Namespace) -> int:
    """Issue 12: PostgreSQL with 2 workers against 1 worker, then one worker killed mid-load."""
    print(
        f"ldnkit web load check on PostgreSQL ({args.postgres}): {os.cpu_count()} CPUs, "
        f"{args.patients} patients, group commit on"
    )
    phases = [
        ("baseline: PostgreSQL, 1 worker", 1, args.page_clients, None),
        ("PostgreSQL, 2 workers", 2, args.page_clients, None),
        ("PostgreSQL, 2 workers, one SIGKILLed mid-load", 2, 0, args.seconds / 2),
    ]
    results = []
    for label, workers, pages, kill_at in phases:
        url, drop = _pg_database(args.postgres)
        try:
            patients = seed(url, args.patients)
            res = asyncio.run(
                run_load(
                    url,
                    patients,
                    64,
                    args.seconds,
                    args.diary_clients,
                    pages,
                    label=label,
                    workers=workers,
                    kill_worker_after=kill_at,
                )
            )
            gone = missing(url, res["acked"])  # type: ignore[arg-type]
        finally:
            drop()  # type: ignore[operator]
        print(
            f"  acknowledged submissions {len(res['acked'].rows)}, missing from the "  # type: ignore[union-attr]
            f"database afterwards: {gone}"
        )
        res["missing"] = gone
        results.append(res)
    one, two, killed = (r["diary"] for r in results)
    print(
        f"ratio 2 workers / 1 worker: throughput {two['rps'] / one['rps']:.2f}x, "  # type: ignore[index]
        f"p99 {one['p99'] / two['p99']:.2f}x lower"  # type: ignore[index]
    )
    ok = (
        two["rps"] >= 300  # type: ignore[index]
        and two["p99"] < 100  # type: ignore[index]
        and two["errors"] == 0  # type: ignore[index]
        and all(r["missing"] == 0 for r in results)
    )
    print(
        f"in the kill phase {killed['errors']} requests were in flight on the killed worker "  # type: ignore[index]
        "(unacknowledged, so the client knows to retry)"
    )
    print(
        "target (2 workers) >= 300 diary submissions/s with p99 < 100 ms, 0 errors, "
        f"0 acknowledged submissions lost in every phase: {'MET' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--diary-clients", type=int, default=16)
    ap.add_argument("--page-clients", type=int, default=2)
    ap.add_argument("--patients", type=int, default=500)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument(
        "--postgres",
        nargs="?",
        const="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        default=None,
        help="run the PostgreSQL phases (1 vs 2 workers, a worker killed) on this admin URL",
    )
    args = ap.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.postgres:
        return main_postgres(args)
    print(
        f"ldnkit web load check: {os.cpu_count()} CPUs, SQLite (WAL, synchronous=FULL), "
        f"{args.workers} server process(es), {args.patients} patients"
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="ldnkit-bench-") as tmp:
        configs = [("group commit (default)", 64, "main")]
        if not args.no_baseline:
            configs.append(("baseline: commit per request", 1, "baseline"))
        for label, batch, key in configs:
            url = f"sqlite:///{Path(tmp) / (key + '.db')}"
            patients = seed(url, args.patients)
            res = asyncio.run(
                run_load(
                    url,
                    patients,
                    batch,
                    args.seconds,
                    args.diary_clients,
                    args.page_clients,
                    label=label,
                    workers=args.workers,
                )
            )
            gone = missing(url, res["acked"])  # type: ignore[arg-type]
            print(
                f"  acknowledged submissions {len(res['acked'].rows)}, missing from the "  # type: ignore[union-attr]
                f"database afterwards: {gone}"
            )
            res["missing"] = gone
            results[key] = res
        url = f"sqlite:///{Path(tmp) / 'kill.db'}"
        patients = seed(url, args.patients)
        res = asyncio.run(
            run_load(
                url,
                patients,
                64,
                args.seconds,
                args.diary_clients,
                0,
                kill_after=min(5.0, args.seconds),
                workers=args.workers,
            )
        )
        gone_kill = missing(url, res["acked"])  # type: ignore[arg-type]
        print(
            f"SIGKILL during load: {len(res['acked'].rows)} submissions acknowledged before the "  # type: ignore[union-attr]
            f"kill, {gone_kill} missing afterwards ({res['in_flight']} in flight, unacknowledged)"
        )
    main_d = results["main"]["diary"]
    ok = (
        main_d["rps"] >= 300
        and main_d["p99"] < 100
        and main_d["errors"] == 0
        and results["main"]["pages"]["errors"] == 0
        and results["main"]["missing"] == 0
        and gone_kill == 0
    )
    if "baseline" in results:
        b = results["baseline"]["diary"]
        print(
            f"ratio group commit / baseline: throughput {main_d['rps'] / b['rps']:.2f}x, "
            f"p99 {b['p99'] / main_d['p99']:.2f}x lower"
        )
    print(
        f"target >= 300 diary submissions/s with p99 < 100 ms, 0 errors, none missing: "
        f"{'MET' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
