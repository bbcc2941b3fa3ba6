"""`ldnkit db|clinician|patient|diary|cohort|plot`: the store, diary and cohort from the CLI.

A thin shell: it reads the clock (today's date for diary checks), opens the database from
`--db` or `LDNKIT_DATABASE_URL`, calls repositories inside one transaction per command, and
renders results with Rich. Every rule lives in the core or the repositories.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ldnkit.errors import LdnkitError, ValidationError
from ldnkit.inputs import parse_date

DB_HELP = "Database URL (default: LDNKIT_DATABASE_URL, else a SQLite file in the user data dir)."
ACTOR = "cli"

db_app = typer.Typer(help="Database schema: create or upgrade it.", no_args_is_help=True)
clinician_app = typer.Typer(help="Clinicians who own patients.", no_args_is_help=True)
patient_app = typer.Typer(help="Patients: register, list, outcomes.", no_args_is_help=True)
diary_app = typer.Typer(
    help="The patient diary: add a day, import a CSV, show.", no_args_is_help=True
)
cohort_app = typer.Typer(help="Cohort analytics over the diary (DuckDB).", no_args_is_help=True)


def _console() -> Console:
    return Console(width=140)


class NotInitialised(LdnkitError):
    """The database has no ldnkit schema yet, or an older one."""


def _safe_url(engine: Engine) -> str:
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def _engine(db: str | None) -> Engine:
    from ldnkit.store import create_store_engine

    return create_store_engine(db)


@contextmanager
def _session(db: str | None) -> Iterator[Session]:
    """A migrated database's session inside one transaction (committed on success)."""
    from ldnkit.store import current_revision, head_revision

    engine = _engine(db)
    try:
        if current_revision(engine) != head_revision():
            raise NotInitialised(
                f"database {_safe_url(engine)} is not at the current schema; "
                "run `ldnkit db upgrade` first"
            )
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        engine.dispose()


#: Public name for other CLI modules (`ldnkit advise`, `ldnkit prescribe`) that open the store.
open_session = _session


# -- db ----------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Create the tables, or migrate them to this version of ldnkit (safe to repeat)."""
    from ldnkit.store import current_revision, upgrade

    engine = _engine(db)
    try:
        before = current_revision(engine)
        after = upgrade(engine)
    finally:
        engine.dispose()
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    _console().print(
        f"Database {_safe_url(engine)}: {change} revision {after} (head)", soft_wrap=True
    )


@db_app.command("backup")
def db_backup(
    file: Path = typer.Argument(..., help="Backup file to write (replaced only when complete)"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """A consistent copy of the database, safe to take while the server is writing.

    SQLite through its online backup API; PostgreSQL through pg_dump (custom format).
    """
    from ldnkit.store.backup import backup_database

    engine = _engine(db)
    try:
        result = backup_database(engine, file)
    finally:
        engine.dispose()
    _report_backup(f"Backed up {_safe_url(engine)} to {file}", result)


@db_app.command("restore")
def db_restore(
    file: Path = typer.Argument(..., help="A file written by `ldnkit db backup`"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite a database that already has tables"
    ),
) -> None:
    """Restore a backup into an empty database (or replace one with --replace)."""
    from ldnkit.store.backup import restore_database

    engine = _engine(db)
    try:
        result = restore_database(file, engine, replace=replace)
    finally:
        engine.dispose()
    _report_backup(f"Restored {file} into {_safe_url(engine)}", result)


def _report_backup(headline: str, result: Any) -> None:
    console = _console()
    console.print(f"{headline} ({result.kind}, {result.bytes:,} bytes)")
    if result.rows is not None:
        table = Table("table", "rows")
        for name, count in result.rows.items():
            table.add_row(name, f"{count:,}")
        console.print(table)


@db_app.command("current")
def db_current(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Show the schema revision of the database."""
    from ldnkit.store import current_revision, head_revision

    engine = _engine(db)
    try:
        rev = current_revision(engine)
    finally:
        engine.dispose()
    _console().print(
        f"Database {_safe_url(engine)}: revision {rev} (head {head_revision()})", soft_wrap=True
    )


# -- clinicians and patients -------------------------------------------------------------------
@clinician_app.command("add")
def clinician_add(
    name: str = typer.Argument(..., help="Display name, e.g. 'Dr Rivera'"),
    email: str | None = typer.Option(None, help="Contact e-mail (unique)"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Register a clinician; prints the new id."""
    from ldnkit.store import repositories as repo

    with _session(db) as s:
        c = repo.create_clinician(s, name=name, email=email, actor=ACTOR)
    _console().print(f"Clinician {c.id} added")


@patient_app.command("add")
def patient_add(
    clinician: int = typer.Option(..., "--clinician", help="Id of the treating clinician"),
    given: str | None = typer.Option(None, help="Given name"),
    family: str | None = typer.Option(None, help="Family name"),
    birth_date: str | None = typer.Option(None, "--birth-date", help="YYYY-MM-DD"),
    mrn: str | None = typer.Option(None, help="Medical record number (unique)"),
    profile: Path | None = typer.Option(
        None, help="Patient YAML (as for `ldnkit screen`) stored as the clinical profile"
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Register a patient under a clinician; prints the new id."""
    from ldnkit.store import repositories as repo

    data: dict[str, Any] = {}
    born = parse_date("--birth-date", birth_date) if birth_date is not None else None
    if profile is not None:
        from ldnkit.inputs import load_patient

        model = load_patient(profile)
        data = model.model_dump(mode="json")
        if model.name and not (given and family):
            parts = model.name.rsplit(" ", 1)
            given = given or parts[0]
            family = family or (parts[1] if len(parts) > 1 else parts[0])
        born = born or model.birth_date
    if born is not None and born > dt.date.today():
        raise ValidationError("--birth-date", f"{born.isoformat()} is in the future")
    if not given:
        raise ValidationError("given", "required (or give --profile with a name)")
    if not family:
        raise ValidationError("family", "required (or give --profile with a name)")
    with _session(db) as s:
        p = repo.create_patient(
            s,
            clinician_id=clinician,
            given_name=given,
            family_name=family,
            birth_date=born,
            mrn=mrn,
            profile=data,
            actor=ACTOR,
        )
    _console().print(f"Patient {p.id} added (clinician {clinician})")


@patient_app.command("list")
def patient_list(
    clinician: int | None = typer.Option(None, "--clinician", help="Only this clinician's"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """List patients with their clinician."""
    from ldnkit.store import repositories as repo

    with _session(db) as s:
        patients = repo.list_patients(s, clinician_id=clinician)
        t = Table(title="Patients")
        for col in ("id", "name", "born", "clinician", "mrn"):
            t.add_column(col)
        for p in patients:
            t.add_row(
                str(p.id),
                f"{p.given_name} {p.family_name}",
                p.birth_date.isoformat() if p.birth_date else "",
                str(p.clinician_id),
                p.mrn or "",
            )
    _console().print(t)


@patient_app.command("outcome")
def patient_outcome(
    patient: int = typer.Argument(..., help="Patient id"),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: last entry)"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Baseline vs latest pain, responder status at 30%/50%/2 points, time to response, adherence."""
    from ldnkit.clinical.outcomes import patient_outcomes
    from ldnkit.store import repositories as repo

    with _session(db) as s:
        repo.get_patient(s, patient)
        entries = repo.diary.diary(s, patient)
    outcome = patient_outcomes(entries, as_of=parse_date("as_of", as_of) if as_of else None)
    _console().print(f"Patient {patient}: {len(entries)} diary days")
    _console().print(outcome.summary())


# -- diary -------------------------------------------------------------------------------------
@diary_app.command("add")
def diary_add(
    patient: int = typer.Argument(..., help="Patient id"),
    pain: int = typer.Option(..., help="Pain NRS 0-10"),
    date: str | None = typer.Option(None, help="YYYY-MM-DD (default: today)"),
    sleep: int | None = typer.Option(None, help="Sleep quality 0-10"),
    mood: int | None = typer.Option(None, help="Mood 0-10"),
    energy: int | None = typer.Option(None, help="Energy 0-10"),
    clarity: int | None = typer.Option(None, help="Mental clarity 0-10"),
    taken: bool = typer.Option(True, "--taken/--not-taken", help="Was the dose taken?"),
    time: str | None = typer.Option(None, help="Time the dose was taken, HH:MM"),
    dose_mg: str | None = typer.Option(None, "--dose-mg", help="Dose taken in mg"),
    side_effect: list[str] | None = typer.Option(
        None, "--side-effect", help="code:severity, e.g. vivid_dreams:mild (repeatable)"
    ),
    note: str | None = typer.Option(None, help="Free note (never logged or exported)"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Record one day; a second entry for the same day is kept as a correction."""
    from ldnkit.store import repositories as repo

    today = dt.date.today()
    data = {
        "entry_date": date or today.isoformat(),
        "pain": pain,
        "sleep": sleep,
        "mood": mood,
        "energy": energy,
        "clarity": clarity,
        "dose_taken": taken,
        "dose_time": time,
        "dose_mg": dose_mg,
        "side_effects": ";".join(side_effect or []),
        "note": note,
    }
    with _session(db) as s:
        row = repo.add_diary_entry(s, patient, data, today=today, actor=ACTOR)
    kind = "added" if row.revision == 1 else f"corrected (revision {row.revision})"
    _console().print(f"Diary {row.entry_date.isoformat()} for patient {patient} {kind}")


CSV_COLUMNS = (
    "patient_id", "date", "pain", "sleep", "mood", "energy", "clarity",
    "dose_taken", "dose_time", "dose_mg", "side_effects", "note",
)  # fmt: skip


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_csv(data: bytes) -> str:
    """The CSV's text: UTF-8, or UTF-8/16/32 announced by a byte-order mark (as spreadsheet
    programs write them). Anything else is refused with one line naming the first bad byte,
    rather than guessed: a wrong guess (Latin-1 for Windows-1252, say) silently changes notes.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    "CSV",
                    f"not valid {codec} after its byte-order mark ({exc.reason} at byte {exc.start})",
                ) from None
    head = data[:4096]
    if head and head.count(0) > len(head) // 4:  # every other byte NUL: UTF-16 text
        raise ValidationError(
            "CSV", "looks like UTF-16 without a byte-order mark; save it as UTF-8"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "CSV",
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8, or UTF-16 with a byte-order mark",
        ) from None


def _read_csv(path: Path, patient: int | None) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError("CSV", f"cannot read {path}: {exc.strerror}") from None
    try:
        return _parse_csv(decode_csv(data), patient)
    except csv.Error as exc:
        raise ValidationError("CSV", f"not a readable CSV file ({exc})") from None


def _parse_csv(text: str, patient: int | None) -> list[tuple[int, dict[str, Any]]]:
    items: list[tuple[int, dict[str, Any]]] = []
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        required = {"date", "pain", "dose_taken"} | ({"patient_id"} if patient is None else set())
        if missing := sorted(required - header):
            raise ValidationError("CSV", f"missing column(s): {', '.join(missing)}")
        if unknown := sorted(header - set(CSV_COLUMNS)):
            raise ValidationError("CSV", f"unknown column(s): {', '.join(unknown)}")
        for i, raw in enumerate(reader, start=1):
            row = {k: v for k, v in raw.items() if k != "patient_id" and v not in (None, "")}
            pid_text = raw.get("patient_id") or (str(patient) if patient is not None else "")
            try:
                pid = int(pid_text)
            except ValueError:
                raise ValidationError(f"row {i}: patient_id", f"not an id: {pid_text!r}") from None
            if patient is not None and pid != patient:
                # A file about someone else is never filed under --patient: all or nothing.
                raise ValidationError(
                    f"row {i}: patient_id",
                    f"{pid} is not --patient {patient}; nothing was imported",
                )
            items.append((pid, row))
    return items


@diary_app.command("import")
def diary_import(
    csv_path: Path = typer.Argument(..., metavar="CSV", help=f"Columns: {', '.join(CSV_COLUMNS)}"),
    patient: int | None = typer.Option(None, help="Patient id for a CSV without patient_id"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Import diary rows all-or-nothing: one bad row names itself and nothing is stored."""
    from ldnkit.store import repositories as repo

    items = _read_csv(csv_path, patient)
    console = _console()
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress, _session(db) as s:
        task = progress.add_task("Validating and storing", total=2 * len(items))
        result = repo.add_diary_entries(
            s,
            items,
            today=dt.date.today(),
            actor=ACTOR,
            on_progress=lambda n: progress.advance(task, n),
        )
    console.print(
        f"Imported {len(items)} rows for {len(result.patients)} patient(s): "
        f"{result.created} new days, {result.corrected} corrections"
    )


@diary_app.command("show")
def diary_show(
    patient: int = typer.Argument(..., help="Patient id"),
    history: bool = typer.Option(False, help="Show superseded revisions too"),
    since: str | None = typer.Option(None, help="Only days from YYYY-MM-DD on"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """The patient's diary, one row per day (current revision)."""
    from sqlalchemy import select

    from ldnkit.store import repositories as repo
    from ldnkit.store.models import DiaryEntryRow

    first = parse_date("since", since) if since else dt.date.min
    with _session(db) as s:
        repo.get_patient(s, patient)
        if history:
            rows = s.scalars(
                select(DiaryEntryRow)
                .where(DiaryEntryRow.patient_id == patient, DiaryEntryRow.entry_date >= first)
                .order_by(DiaryEntryRow.entry_date, DiaryEntryRow.revision)
            ).all()
        else:
            rows = repo.current_entries(s, patient, start=first)
    t = Table(title=f"Diary of patient {patient}")
    for col in (
        "date",
        "rev",
        "pain",
        "sleep",
        "mood",
        "energy",
        "clarity",
        "dose",
        "side effects",
    ):
        t.add_column(col)
    for r in rows:
        dose = "no" if not r.dose_taken else (f"{_mg(r.dose_mg)} mg" if r.dose_mg else "yes")
        if r.dose_taken and r.dose_time:
            dose += f" {r.dose_time.strftime('%H:%M')}"
        t.add_row(
            r.entry_date.isoformat(),
            f"{r.revision}{' (old)' if r.superseded else ''}",
            *(
                str(v) if v is not None else ""
                for v in (r.pain, r.sleep, r.mood, r.energy, r.clarity)
            ),
            dose,
            ", ".join(f"{x['code']} ({x['severity']})" for x in r.side_effects or ()),
        )
    _console().print(t)


def _mg(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


# -- cohort ------------------------------------------------------------------------------------
@cohort_app.command("export")
def cohort_export(
    path: Path = typer.Argument(..., help="Parquet file to write"),
    clinician: int | None = typer.Option(None, "--clinician", help="Only this clinician's"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the current diary (ids, dates, scores, doses, side-effect codes; no names or notes)."""
    from ldnkit.analytics import export_diary_parquet

    with _session(db) as s:
        result = export_diary_parquet(s, path, clinician_id=clinician)
    _console().print(f"Wrote {result.rows} diary rows for {result.patients} patients to {path}")


@cohort_app.command("summary")
def cohort_summary_cmd(
    parquet: Path | None = typer.Option(
        None, help="Summarise these Parquet file(s)/directory instead of the database"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: last entry)"),
    grace_days: int = typer.Option(
        14, min=0, help="A dose within this many days = still on therapy"
    ),
    clinician: int | None = typer.Option(None, "--clinician", help="Only this clinician's"),
    chart: Path | None = typer.Option(None, help="Also write the responder chart (.svg/.png)"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Treatment duration, share on therapy, pain change, responders, adverse effects vs VA."""
    from ldnkit.analytics import cohort_summary, export_diary_parquet

    day = parse_date("as_of", as_of) if as_of else None
    with tempfile.TemporaryDirectory(prefix="ldnkit-cohort-") as tmp:
        source = parquet
        if source is None:
            source = Path(tmp) / "diary.parquet"
            with _session(db) as s:
                exported = export_diary_parquet(s, source, clinician_id=clinician)
            if exported.rows == 0:
                raise ValidationError("diary", "no diary entries to summarise")
        summary = cohort_summary(source, as_of=day, grace_days=grace_days)
    console = _console()
    t = Table(title=f"Cohort summary as of {summary.as_of.isoformat()} (DuckDB)")
    for col in ("figure", "this cohort", "VA cohort", "VA sources"):
        t.add_column(col)
    t.add_row("Diary rows", f"{summary.rows:,}", "", "")
    t.add_row("Patients (treated / evaluable)", f"{summary.patients:,} ({summary.treated:,} / "
              f"{summary.evaluable:,})", "", "")  # fmt: skip
    for name, ours, va, sources in summary.va_comparison():
        t.add_row(name, _num(ours), _num(va), ", ".join(sources))
    from ldnkit.clinical.outcomes import ResponseThresholds

    th = ResponseThresholds.from_evidence()
    for name, value in (
        (f"Responders >={th.moderate_percent:g}% (%)", summary.responder_moderate_percent),
        (f"Responders >={th.substantial_percent:g}% (%)", summary.responder_substantial_percent),
        (f"Responders >={th.points:g} points (%)", summary.responder_points_percent),
    ):
        t.add_row(name, _num(value), "", ", ".join(th.sources))
    console.print(t)
    if chart is not None:
        from ldnkit.report.plots import cohort_responder_chart

        cohort_responder_chart(summary, chart)
        console.print(f"Chart written to {chart}")


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.2f}"


# -- plot --------------------------------------------------------------------------------------
def plot_cmd(
    patient: int = typer.Argument(..., help="Patient id"),
    out: Path = typer.Option(..., "--out", "-o", help="File to write (.svg or .png)"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Pain and dose on one timeline for a patient (SVG or PNG)."""
    from ldnkit.clinical.outcomes import patient_outcomes
    from ldnkit.report.plots import patient_timeline
    from ldnkit.store import repositories as repo

    with _session(db) as s:
        repo.get_patient(s, patient)
        entries = repo.diary.diary(s, patient)
    if not entries:
        raise ValidationError("patient", f"patient {patient} has no diary entries to plot")
    patient_timeline(patient_outcomes(entries), out, label=f"Patient {patient}")
    _console().print(f"Timeline of patient {patient} ({len(entries)} days) written to {out}")


def register(app: typer.Typer) -> None:
    """Add the store, diary, cohort and plot commands to the main app."""
    app.add_typer(db_app, name="db")
    app.add_typer(clinician_app, name="clinician")
    app.add_typer(patient_app, name="patient")
    app.add_typer(diary_app, name="diary")
    app.add_typer(cohort_app, name="cohort")
    app.command("plot")(plot_cmd)


__all__ = ["ACTOR", "CSV_COLUMNS", "DB_HELP", "open_session", "register"]
