"""Latency of a CDS Hooks `order-select` call against a no-op endpoint on the same server.

One uvicorn server (its own process, loopback only) serves both the ldnkit CDS router and a
no-op `POST /noop` that reads the same request body and answers a constant `{"cards": []}`.
One keep-alive HTTP client alternates the two requests in the same run, so both see the same
server, connection and machine load. The CDS request is the heaviest card: a fixed 4.5 mg LDN
order, which runs screening, builds a titration plan and returns a FHIR MedicationRequest
suggestion. Target from the issue: CDS p50 within 2x of the no-op p50.

    .venv/bin/python benchmarks/cds.py [--requests 2000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import subprocess
import sys
import time
import uuid
from statistics import quantiles
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

TARGET_RATIO = 2.0


def make_app() -> Any:
    """The server side: the CDS router plus the no-op baseline endpoint."""
    from ldnkit.interop.cds_routes import router

    app = FastAPI()
    app.include_router(router)
    empty = b'{"cards":[]}'

    @app.post("/noop")
    async def noop(request: Request) -> Response:
        await request.body()
        return Response(empty, media_type="application/json")

    return app


def order_select_request(today: dt.date) -> dict[str, Any]:
    """An order-select call shaped like the spec's R4 example: a fixed 4.5 mg LDN order."""
    patient = "1288992"
    order = {
        "resourceType": "MedicationRequest",
        "id": "ldn-fixed-45",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "7243",
                    "display": "naltrexone",
                }
            ],
            "text": "Naltrexone 4.5 mg capsule (compounded)",
        },
        "subject": {"reference": f"Patient/{patient}"},
        "dosageInstruction": [
            {
                "text": "4.5 mg at bedtime",
                "timing": {
                    "repeat": {
                        "boundsPeriod": {"start": today.isoformat()},
                        "frequency": 1,
                        "period": 1,
                        "periodUnit": "d",
                    }
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 4.5,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
    }
    duloxetine = {
        "resourceType": "MedicationRequest",
        "id": "dlx",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "duloxetine 60 mg capsule"},
        "subject": {"reference": f"Patient/{patient}"},
    }
    return {
        "hook": "order-select",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "https://ehr.example.org/fhir",
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": patient,
            "encounterId": "89284",
            "selections": ["MedicationRequest/ldn-fixed-45"],
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": order}]},
        },
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": patient, "gender": "female"},
            "medications": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": duloxetine}],
            },
            "statements": None,
            "conditions": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Condition",
                            "id": "fm",
                            "code": {"text": "Fibromyalgia"},
                            "subject": {"reference": f"Patient/{patient}"},
                        }
                    }
                ],
            },
            "allergies": None,
        },
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(make_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _pct(values: list[float], q: int) -> float:
    return quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per endpoint")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve)
        return 0

    port = _free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/cds-services").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    print("server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
            body = json.dumps(order_select_request(dt.date.today())).encode()
            headers = {"content-type": "application/json"}
            first = client.post("/cds-services/ldn-order-select", content=body, headers=headers)
            cards = first.json()["cards"]
            assert first.status_code == 200 and cards and cards[0]["suggestions"], first.text
            timings: dict[str, list[float]] = {"cds": [], "noop": []}
            paths = {"cds": "/cds-services/ldn-order-select", "noop": "/noop"}
            for i in range(args.warmup + args.requests):
                for name in ("cds", "noop") if i % 2 == 0 else ("noop", "cds"):
                    t0 = time.perf_counter()
                    resp = client.post(paths[name], content=body, headers=headers)
                    elapsed = time.perf_counter() - t0
                    if resp.status_code != 200:
                        print(f"{name}: HTTP {resp.status_code}", file=sys.stderr)
                        return 1
                    if i >= args.warmup:
                        timings[name].append(elapsed * 1000)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(
        f"CDS order-select vs no-op, same uvicorn server over loopback, one keep-alive httpx "
        f"client, {args.requests} timed requests each (alternating), {args.warmup} warm-up"
    )
    print(f"response: {len(cards)} card(s), {len(first.content)} bytes; request {len(body)} bytes")
    print(f"{'endpoint':<22}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    stats = {}
    for name, label in (("noop", "no-op (baseline)"), ("cds", "CDS order-select")):
        values = timings[name]
        stats[name] = (_pct(values, 50), _pct(values, 99))
        print(
            f"{label:<22}{stats[name][0]:>10.3f}{stats[name][1]:>10.3f}{sum(values) / len(values):>10.3f}"
        )
    ratio = stats["cds"][0] / stats["noop"][0]
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(
        f"ratio p50 CDS / no-op: {ratio:.2f}x  (p99: {stats['cds'][1] / stats['noop'][1]:.2f}x); "
        f"{verdict} the target of <= {TARGET_RATIO:.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
