"""Database access for the web shell: short read sessions, and one writer that group-commits.

SQLite allows one writer at a time, and with `synchronous=FULL` every commit waits for an
fsync (a few milliseconds here). Letting each request commit on its own would serialise the
clinic on the disk. Instead every write is a job handed to a single writer thread, which runs
all jobs waiting at that moment in one transaction, each inside its own SAVEPOINT (a job that
fails rolls back alone), then commits once. A request is answered only after the commit that
contains its job has returned, so an acknowledged diary entry is on disk. PostgreSQL takes the
same path; it simply benefits less.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from ldnkit.store import create_store_engine, session_factory

_T = TypeVar("_T")


def _sqlite_transactions(engine: Engine, begin: str) -> None:
    """Let SQLAlchemy, not the sqlite3 module, issue BEGIN (so SAVEPOINTs nest correctly)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _no_implicit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


@dataclass
class _Job:
    fn: Callable[[Session], Any] | None
    future: Future[Any] = field(default_factory=Future)
    kind: str | None = None
    item: Any = None


@dataclass(frozen=True)
class BatchKind:
    """A kind of write that many requests make at once (diary entries, audit reads).

    `many(session, items)` stores a whole group with few statements; if it raises, each item
    is retried alone with `one(session, item)` in its own savepoint, so one bad item never
    fails the others.
    """

    many: Callable[[Session, list[Any]], list[Any]]
    one: Callable[[Session, Any], Any]


class Database:
    """Engines, read sessions and the group-commit writer for one app instance."""

    def __init__(self, url: str, *, batch: int = 64) -> None:
        self.url = url
        self.read_engine = create_store_engine(url)
        _sqlite_transactions(self.read_engine, "BEGIN")
        self.write_engine = create_store_engine(url)
        _sqlite_transactions(self.write_engine, "BEGIN IMMEDIATE")
        self._read_sessions = session_factory(self.read_engine)
        self._write_sessions = session_factory(self.write_engine)
        self._batch = max(1, batch)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._kinds: dict[str, BatchKind] = {}
        #: Transactions committed and jobs run, for the benchmark's report.
        self.commits = 0
        self.jobs = 0

    # -- reads -------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; anything it changed is rolled back when it closes."""
        with self._read_sessions() as session:
            yield session

    # -- writes ------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ldnkit-writer", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=30)
                self._thread = None
        self.read_engine.dispose()
        self.write_engine.dispose()

    def submit(self, fn: Callable[[Session], _T]) -> Future[_T]:
        """Queue a write job; the future resolves once its transaction has committed."""
        self.start()
        job = _Job(fn)
        self._queue.put(job)
        return job.future

    def register(self, kind: str, handler: BatchKind) -> None:
        self._kinds[kind] = handler

    def submit_item(self, kind: str, item: Any) -> Future[Any]:
        """Queue one item of a registered batch kind; resolves after its commit."""
        if kind not in self._kinds:
            raise KeyError(kind)
        self.start()
        job = _Job(None, kind=kind, item=item)
        self._queue.put(job)
        return job.future

    async def awrite_item(self, kind: str, item: Any) -> Any:
        return await asyncio.wrap_future(self.submit_item(kind, item))

    def write_item(self, kind: str, item: Any) -> Any:
        return self.submit_item(kind, item).result()

    def write(self, fn: Callable[[Session], _T]) -> _T:
        """Run a write job and wait for its commit (from a worker thread)."""
        return self.submit(fn).result()

    async def awrite(self, fn: Callable[[Session], _T]) -> _T:
        """Run a write job and wait for its commit (from the event loop)."""
        return await asyncio.wrap_future(self.submit(fn))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < self._batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _run_kind(
        self,
        session: Session,
        handler: BatchKind,
        jobs: list[_Job],
        outcomes: list[tuple[_Job, Any, BaseException | None]],
    ) -> None:
        try:
            with session.begin_nested():
                results = handler.many(session, [j.item for j in jobs])
            outcomes.extend((job, r, None) for job, r in zip(jobs, results, strict=True))
            return
        except Exception:
            pass  # retry one by one below, so only the offending item fails
        for job in jobs:
            try:
                with session.begin_nested():
                    result = handler.one(session, job.item)
                outcomes.append((job, result, None))
            except Exception as exc:
                outcomes.append((job, None, exc))

    def _commit(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        groups: dict[str, list[_Job]] = {}
        try:
            with self._write_sessions() as session:
                session.begin()
                for job in batch:
                    if job.kind is not None:
                        groups.setdefault(job.kind, []).append(job)
                        continue
                    try:
                        with session.begin_nested():
                            result = job.fn(session)  # type: ignore[misc]
                        outcomes.append((job, result, None))
                    except Exception as exc:
                        outcomes.append((job, None, exc))
                for kind, jobs in groups.items():
                    self._run_kind(session, self._kinds[kind], jobs, outcomes)
                session.commit()
        except Exception as exc:
            # The commit itself failed: nothing in this batch is durable; say so to everyone.
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        self.commits += 1
        self.jobs += len(batch)
        for job, result, error in outcomes:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)


__all__ = ["BatchKind", "Database"]
