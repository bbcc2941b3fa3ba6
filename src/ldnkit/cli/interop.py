"""`ldnkit fhir ...`, `ldnkit document ...` and `ldnkit cds serve`: interoperability from the CLI."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from ldnkit.clinical.diary import validate_diary_entry
from ldnkit.clinical.models import Patient, Plan, PlanOptions, fmt_mg
from ldnkit.clinical.screening import screen
from ldnkit.clinical.titration import default_protocol_for, plan_for_patient
from ldnkit.errors import ValidationError
from ldnkit.inputs import load_patient, parse_date, parse_mg, parse_model
from ldnkit.yamlio import describe_error, load_json, load_yaml

fhir_app = typer.Typer(help="FHIR R4: export a patient's LDN care, read a Bundle back.")
cds_app = typer.Typer(help="CDS Hooks service.")


class DocKind(StrEnum):
    handout = "handout"
    wallet_card = "wallet_card"
    prescription = "prescription"


class DocFormat(StrEnum):
    pdf = "pdf"
    html = "html"


def _plan(
    patient: Patient,
    start: str,
    protocol: str | None,
    surgery: str | None,
    capsules: str | None,
    liquid: str | None,
) -> Plan:
    raw: dict[str, Any] = {
        "surgery_date": None if surgery is None else parse_date("--surgery", surgery),
        "capsule_strengths_mg": None
        if capsules is None
        else [parse_mg("--capsules", c) for c in capsules.split(",")],
        "liquid_mg_per_ml": None if liquid is None else parse_mg("--liquid", liquid),
    }
    options = parse_model(PlanOptions, {k: v for k, v in raw.items() if v is not None}, "options")
    return plan_for_patient(
        patient,
        protocol if protocol is not None else default_protocol_for(patient),
        parse_date("--start", start),
        options,
    )


def _read_diary(path: Path, today: dt.date) -> list[Any]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError("--diary", f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValidationError("--diary", f"{path.name}: {describe_error(exc)}") from None
    if not isinstance(data, list):
        raise ValidationError("--diary", "expected a list of diary entries (YAML or JSON)")
    out = []
    for i, item in enumerate(data):
        try:
            out.append(validate_diary_entry(item, today=today))
        except ValidationError as exc:
            raise ValidationError(f"--diary[{i}].{exc.field}", exc.reason) from None
    return out


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        typer.echo(data.decode())
    else:
        output.write_bytes(data)


_START = typer.Option(..., "--start", help="First dose date YYYY-MM-DD")
_PROTOCOL = typer.Option(None, "--protocol", help="Protocol id (default: from the condition)")
_SURGERY = typer.Option(None, "--surgery", help="Surgery date needing opioids")
_CAPSULES = typer.Option(None, "--capsules", help="Capsule strengths in mg, e.g. 1.5,3")
_LIQUID = typer.Option(None, "--liquid", help="Liquid concentration in mg/mL")
_OUTPUT = typer.Option(None, "--output", "-o", help="Write to this file")


@fhir_app.command("export")
def export_cmd(
    patient_file: Path = typer.Argument(..., metavar="PATIENT.yaml"),
    start: str = _START,
    protocol: str = _PROTOCOL,
    surgery: str = _SURGERY,
    capsules: str = _CAPSULES,
    liquid: str = _LIQUID,
    diary: Path = typer.Option(None, "--diary", help="Diary entries (YAML/JSON list)"),
    base_url: str = typer.Option(None, "--base-url", help="REST base for fullUrls"),
    output: Path = _OUTPUT,
) -> None:
    """A FHIR R4 Bundle: patient, conditions, LDN order, plan, findings, diary Observations."""
    from ldnkit.interop.fhir.common import validate_bundle
    from ldnkit.interop.fhir.export import bundle_json, export_bundle

    patient = load_patient(patient_file)
    plan = _plan(patient, start, protocol, surgery, capsules, liquid)
    entries = _read_diary(diary, dt.date.today()) if diary else []
    bundle = export_bundle(
        patient,
        plan=plan,
        assessment=screen(patient, plan.start),
        diary=entries,
        base_url=base_url,
    )
    validate_bundle(bundle)
    _write(bundle_json(bundle).encode(), output)


@fhir_app.command("read")
def read_cmd(
    bundle_file: Path = typer.Argument(..., metavar="BUNDLE.json"),
    today: str = typer.Option(None, "--today", help="Reject entries after this date"),
) -> None:
    """What importing a Bundle would bring: diary days and the plan (nothing is stored)."""
    from ldnkit.interop.fhir.reading import diary_from_bundle, plan_from_bundle

    day = parse_date("--today", today) if today is not None else dt.date.today()
    try:
        bundle = load_json(bundle_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError("BUNDLE", f"cannot read {bundle_file}: {exc}") from None
    imported = diary_from_bundle(bundle, today=day)
    plan = plan_from_bundle(bundle)
    console = Console(width=140)
    table = Table(title=f"Diary days ({len(imported.entries)})")
    for col in ("date", "pain", "dose", "side effects", "note"):
        table.add_column(col)
    for e in imported.entries:
        dose = (
            f"{fmt_mg(e.dose_mg)} mg"
            if e.dose_mg is not None
            else ("taken" if e.dose_taken else "-")
        )
        effects = ", ".join(f"{s.code} ({s.severity})" for s in e.side_effects)
        table.add_row(str(e.entry_date), str(e.pain), dose, effects, e.note or "")
    console.print(table)
    for reason in imported.skipped:
        console.print(f"[yellow]skipped[/]: {reason}")
    if plan is not None:
        ladder = ", ".join(
            f"{s.start} {fmt_mg(s.dose_mg)} mg" if s.dose_mg else f"{s.start} hold"
            for s in plan.steps
        )
        console.print(f"Plan: {plan.protocol_name} from {plan.start}: {ladder}")


def register(app: typer.Typer) -> None:
    """Add `ldnkit fhir`, `ldnkit document` and `ldnkit cds` to the main app."""
    app.add_typer(fhir_app, name="fhir")
    app.add_typer(cds_app, name="cds")

    @app.command("document")
    def document_cmd(
        kind: DocKind = typer.Argument(..., help="handout, wallet_card or prescription"),
        patient_file: Path = typer.Argument(..., metavar="PATIENT.yaml"),
        start: str = _START,
        protocol: str = _PROTOCOL,
        surgery: str = _SURGERY,
        capsules: str = _CAPSULES,
        liquid: str = _LIQUID,
        fmt: DocFormat = typer.Option(DocFormat.pdf, "--format"),
        clinic: str = typer.Option("Your pain clinic", "--clinic"),
        clinician: str = typer.Option("your prescriber", "--clinician"),
        phone: str = typer.Option(None, "--phone"),
        calendar_url: str = typer.Option(None, "--calendar-url", help="Link to the .ics file"),
        output: Path = _OUTPUT,
    ) -> None:
        """A printable handout, wallet card or compounding prescription (PDF or HTML)."""
        from ldnkit.interop.documents import Clinic, document_view, to_html, to_pdf

        patient = load_patient(patient_file)
        plan = _plan(patient, start, protocol, surgery, capsules, liquid)
        who = parse_model(
            Clinic, {"clinic": clinic, "clinician": clinician, "phone": phone}, "clinic"
        )
        view = document_view(kind.value, plan, patient, who, calendar_url=calendar_url)  # type: ignore[arg-type]
        data = to_pdf(view) if fmt is DocFormat.pdf else to_html(view).encode()
        if output is None and fmt is DocFormat.pdf:
            raise ValidationError("--output", "a PDF needs a file (-o handout.pdf)")
        _write(data, output)


@cds_app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8090, "--port", min=1, max=65535),
    open_sandbox: bool = typer.Option(
        False, "--open-sandbox", help="LOCAL TRIALS ONLY: accept calls without a client JWT"
    ),
) -> None:
    """Run the CDS Hooks service alone (discovery at /cds-services).

    Service calls need the EHR's signed JWT, checked against LDNKIT_CDS_CLIENTS; token ids
    and feedback go to the store's database (LDNKIT_DATABASE_URL, upgraded first).
    """
    from types import SimpleNamespace

    import uvicorn
    from fastapi import FastAPI

    from ldnkit.store import create_store_engine, upgrade
    from ldnkit.web.app import body_rules
    from ldnkit.web.body_limit import BodyLimit
    from ldnkit.web.routes.cds_hooks import cds_guard, engine_writer, router
    from ldnkit.web.settings import WebSettings

    settings = WebSettings()
    if open_sandbox:
        settings.cds_open_sandbox = True
    engine = create_store_engine(settings.url())
    upgrade(engine)
    try:
        guard = cds_guard(settings, SimpleNamespace(write=engine_writer(engine)))
    except ValueError as exc:
        raise ValidationError("LDNKIT_CDS_CLIENTS", str(exc)) from None
    app = FastAPI(title="ldnkit CDS Hooks")
    app.include_router(router)
    app.state.cds_guard = guard
    app.add_middleware(
        BodyLimit,
        rules=body_rules(settings),
        default_bytes=settings.max_body_bytes,
        max_depth=settings.max_json_depth,
    )
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
