"""Latency of a CDS Hooks `order-select` call against a no-op endpoint on the same server.

One uvicorn server (its own process, loopback only) serves both the ldnkit CDS router and a
no-op `POST /noop` that reads the same request body and answers a constant `{"cards": []}`.
One keep-alive HTTP client alternates the two requests in the same run, so both see the same
server, connection and machine load. The CDS request is the heaviest card: a fixed 4.5 mg LDN
order, which runs screening, builds a titration plan and returns a FHIR MedicationRequest
suggestion. Target from the issue: CDS p50 within 2x of the no-op p50.

Every CDS call carries a fresh ES384 client JWT, as the CDS Hooks 2.0 specification requires
(signed by the client before the timer starts; the server verifies it and records its `jti`
in a SQLite database). A third endpoint, `POST /noop-auth`, runs the same JWT check and
nothing else, so the output separates what authentication costs from what the cards cost.

    .venv/bin/python benchmarks/cds.py [--requests 2000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import quantiles
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends, FastAPI, Request, Response
from jwt.algorithms import ECAlgorithm

TARGET_RATIO = 2.0


ISSUER = "https://ehr.bench.example"


def write_client_files(directory: Path) -> Any:
    """The EHR's key pair: its JWKS and the server's allow-list go to `directory`; the private
    key is returned to the client side."""
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="bench-1", alg="ES384", use="sig")
    (directory / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    (directory / "clients.yaml").write_text(
        f"clients:\n  - iss: {ISSUER}\n    jwks_file: jwks.json\n"
    )
    return key


def sign(key: Any, aud: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": aud, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm="ES384", headers={"kid": "bench-1"})


def make_app(directory: Path) -> Any:
    """The server side: the CDS router, the no-op baseline, and the no-op behind the JWT check."""
    from ldnkit.interop.cds_auth import CdsClients, CdsVerifier
    from ldnkit.store import create_store_engine, upgrade
    from ldnkit.web.routes.cds_hooks import (
        CdsGuard,
        DatabaseStore,
        engine_writer,
        get_guard,
        router,
        token_id_writer,
    )

    engine = create_store_engine(f"sqlite:///{directory / 'cds.db'}")
    upgrade(engine)
    store = DatabaseStore(engine_writer(engine), token_id_writer(str(engine.url)))
    verifier = CdsVerifier(CdsClients.from_file(directory / "clients.yaml"), store)
    app = FastAPI()
    app.include_router(router)
    app.state.cds_guard = CdsGuard(store=store, verifier=verifier)
    empty = b'{"cards":[]}'

    @app.post("/noop")
    async def noop(request: Request) -> Response:
        await request.body()
        return Response(empty, media_type="application/json")

    @app.post("/noop-auth")
    async def noop_auth(request: Request, guard: CdsGuard = Depends(get_guard)) -> Response:
        guard.audiences = lambda request, service_id, feedback: [str(request.url)]  # type: ignore[method-assign]
        await guard.authenticate(request, "noop")
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


def _serve(port: int, directory: str) -> None:
    import uvicorn

    uvicorn.run(
        make_app(Path(directory)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def _pct(values: list[float], q: int) -> float:
    return quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per endpoint")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.dir)
        return 0

    port = _free_port()
    scratch = tempfile.TemporaryDirectory(prefix="ldnkit-cds-bench-")
    key = write_client_files(Path(scratch.name))
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--dir", scratch.name]
    )
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
            paths = {
                "cds": "/cds-services/ldn-order-select",
                "noop": "/noop",
                "noop-auth": "/noop-auth",
            }

            def signed(name: str) -> dict[str, str]:
                token = sign(key, f"{base}{paths[name]}")
                return {**headers, "authorization": f"Bearer {token}"}

            first = client.post(paths["cds"], content=body, headers=signed("cds"))
            cards = first.json()["cards"]
            assert first.status_code == 200 and cards and cards[0]["suggestions"], first.text
            timings: dict[str, list[float]] = {"cds": [], "noop": [], "noop-auth": []}
            orders = (("cds", "noop", "noop-auth"), ("noop-auth", "noop", "cds"))
            for i in range(args.warmup + args.requests):
                for name in orders[i % 2]:
                    sent = signed(name)  # the client's signing is not timed
                    t0 = time.perf_counter()
                    resp = client.post(paths[name], content=body, headers=sent)
                    elapsed = time.perf_counter() - t0
                    if resp.status_code != 200:
                        print(f"{name}: HTTP {resp.status_code}", file=sys.stderr)
                        return 1
                    if i >= args.warmup:
                        timings[name].append(elapsed * 1000)
    finally:
        server.terminate()
        server.wait(timeout=10)
        scratch.cleanup()

    print(
        f"CDS order-select vs no-op, same uvicorn server over loopback, one keep-alive httpx "
        f"client, {args.requests} timed requests each (alternating), {args.warmup} warm-up"
    )
    print(f"response: {len(cards)} card(s), {len(first.content)} bytes; request {len(body)} bytes")
    print(f"{'endpoint':<22}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    stats = {}
    for name, label in (
        ("noop", "no-op (baseline)"),
        ("noop-auth", "no-op + client JWT"),
        ("cds", "CDS order-select"),
    ):
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
    auth = stats["cds"][0] / stats["noop-auth"][0]
    print(
        f"ratio p50 CDS / no-op with the same JWT check: {auth:.2f}x "
        f"(what the cards cost beyond authentication)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
