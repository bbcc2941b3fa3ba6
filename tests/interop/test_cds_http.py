"""The CDS Hooks service over real HTTP, with requests shaped like the specification's examples.

Every resource in every suggestion is validated with fhir.resources; malformed requests get a
400 naming the field, a missing prefetch 412.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from ldnkit.evidence import default_evidence
from ldnkit.interop.fhir import common as fc
from ldnkit.store.repositories import cds as cds_store
from ldnkit.web.routes.cds_hooks import cds_today
from ldnkit.web.routes.cds_hooks import router as cds_router
from tests.interop import hooks as h
from tests.interop.cds_keys import EhrClient, guard_for, replay_engine
from tests.interop.server import serve

TODAY = dt.date(2026, 5, 4)
SPEC_EXAMPLE = Path(__file__).parent / "data" / "order_select_r4_example.json"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):  # type: ignore[no-untyped-def]
    eng = replay_engine(tmp_path_factory.mktemp("cds"))
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def client(tmp_path_factory, engine) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """The CDS router served over HTTP; every request signed by a configured EHR."""
    ehr = EhrClient.create(tmp_path_factory.mktemp("ehr"))
    app = FastAPI()
    app.include_router(cds_router)
    app.dependency_overrides[cds_today] = lambda: TODAY
    app.state.cds_guard = guard_for(ehr, engine)
    with serve(app) as base, httpx.Client(base_url=base, timeout=10, auth=ehr.auth()) as c:
        yield c


def call(client: httpx.Client, service: str, body: object) -> httpx.Response:
    return client.post(f"/cds-services/{service}", json=body)


def cards_of(resp: httpx.Response) -> list[dict]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"cards"}
    for card in body["cards"]:
        check_card(card)
    return body["cards"]


def check_card(card: dict) -> None:
    """Spec shape, cited sources, and every suggested resource valid FHIR."""
    assert card["indicator"] in ("info", "warning", "critical")
    assert 0 < len(card["summary"]) < 140
    assert card["source"]["label"]
    assert "**Sources**" in card["detail"] and "- [" in card["detail"]
    ev = default_evidence()
    for link in card["links"]:
        assert link["type"] == "absolute" and link["url"].startswith("https://")
    cited = [
        line.split("]")[0][3:] for line in card["detail"].split("\n") if line.startswith("- [")
    ]
    assert all(ev.reference(ref_id) for ref_id in cited)
    for suggestion in card.get("suggestions", []):
        assert card["selectionBehavior"] in ("at-most-one", "any")
        assert suggestion["label"] and suggestion["uuid"]
        for action in suggestion["actions"]:
            assert action["type"] in ("create", "update", "delete") and action["description"]
            if action["type"] in ("create", "update"):
                fc.validate_resource(action["resource"], "suggestion")
            else:
                assert action["resourceId"].count("/") == 1


LDN_ACTIVE = h.med_request(
    "ldn-1",
    "Naltrexone 3 mg compounded capsule",
    status="active",
    dose_mg=3,
    start=TODAY - dt.timedelta(days=40),
)


def test_discovery_lists_services_with_prefetch_templates(client):
    resp = client.get("/cds-services")
    assert resp.status_code == 200
    services = {s["id"]: s for s in resp.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-select", "order-sign"}
    for s in services.values():
        assert s["title"] and s["description"]
        assert all("{{context.patientId}}" in t for t in s["prefetch"].values())
    assert "medications" in services["ldn-order-select"]["prefetch"]
    assert "pain" in services["ldn-patient-view"]["prefetch"]
    assert "72514-3" in services["ldn-patient-view"]["prefetch"]["pain"]


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_opioid_for_a_patient_on_ldn_is_critical(client, hook):
    oxy = h.med_request("oxy-1", "oxycodone hydrochloride 5 MG Oral Tablet", dose_mg=5)
    body = h.order_select(oxy, medications=(LDN_ACTIVE,), hook=hook)
    (card,) = cards_of(call(client, f"ldn-{hook}", body))
    assert card["indicator"] == "critical"
    assert "LDN" in card["summary"] and "blocked" in card["summary"]
    assert "hold LDN 2-3 days before" in card["detail"]
    assert "sensitivity increases after stopping LDN" in card["detail"]
    assert card["links"], "sources must be linked"
    assert "[seed-droracle-dosing-2026]" in card["detail"]


def test_opioid_without_ldn_gives_no_card(client):
    oxy = h.med_request("oxy-1", "Percocet 5/325", dose_mg=5)
    assert cards_of(call(client, "ldn-order-select", h.order_select(oxy))) == []


def test_naltrexone_with_active_opioid_is_critical(client):
    nal = h.med_request("nal-1", "naltrexone 1.5 mg compounded", dose_mg=1.5, start=TODAY)
    tram = h.med_request("tram-1", "tramadol 50 mg tablet", status="active", dose_mg=50)
    cards = cards_of(call(client, "ldn-order-select", h.order_select(nal, medications=(tram,))))
    assert [c["indicator"] for c in cards] == ["critical"]
    assert "active opioids" in cards[0]["summary"]
    assert "7-10 days after the last opioid dose" in cards[0]["detail"]


def test_opioid_in_the_same_ordering_session_counts(client):
    nal = h.med_request("nal-1", "naltrexone 1.5 mg compounded", dose_mg=1.5, start=TODAY)
    oxy = h.med_request("oxy-9", "oxycodone 5 mg", dose_mg=5)
    body = h.order_select(nal, others=(oxy,))
    cards = cards_of(call(client, "ldn-order-select", body))
    assert cards and cards[0]["indicator"] == "critical"


@pytest.mark.parametrize(
    ("drug", "days_ago", "window"),
    [("hydrocodone 10 mg", 3, 10), ("methadone 10 mg", 5, 14)],
)
def test_naltrexone_inside_the_opioid_free_window_gives_earliest_date(
    client, drug, days_ago, window
):
    last = TODAY - dt.timedelta(days=days_ago)
    stopped = h.med_request(
        "op-1", drug, status="completed", dose_mg=10, start=last - dt.timedelta(days=30), end=last
    )
    nal = h.med_request("nal-1", "naltrexone 1.5 mg", dose_mg=1.5, start=TODAY)
    cards = cards_of(call(client, "ldn-order-select", h.order_select(nal, medications=(stopped,))))
    earliest = (last + dt.timedelta(days=window)).isoformat()
    assert cards[0]["indicator"] == "critical"
    assert earliest in cards[0]["summary"]
    assert f"Earliest safe start: **{earliest}**" in cards[0]["detail"]


def test_fixed_4_5_mg_order_gets_a_titration_suggestion(client):
    nal = h.med_request(
        "nal-45", "Naltrexone 4.5 mg capsule (compounded)", dose_mg=4.5, start=TODAY
    )
    fibro = {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"text": "Fibromyalgia"},
        "subject": {"reference": f"Patient/{h.PATIENT_ID}"},
    }
    cards = cards_of(call(client, "ldn-order-select", h.order_select(nal, conditions=(fibro,))))
    (card,) = cards
    assert card["indicator"] == "info"
    assert "without titration" in card["summary"]
    (suggestion,) = card["suggestions"]
    assert suggestion["isRecommended"] is True
    delete, create = suggestion["actions"]
    assert (delete["type"], delete["resourceId"]) == ("delete", "MedicationRequest/nal-45")
    mr = create["resource"]
    assert mr["resourceType"] == "MedicationRequest" and mr["status"] == "draft"
    assert mr["instantiatesUri"] == ["urn:ldnkit:protocol:fibromyalgia"]
    doses = [d["doseAndRate"][0]["doseQuantity"]["value"] for d in mr["dosageInstruction"]]
    assert doses == [1.5, 3, 4.5]
    assert [d["sequence"] for d in mr["dosageInstruction"]] == [1, 2, 3]
    first = mr["dosageInstruction"][0]["timing"]["repeat"]
    assert first["boundsPeriod"]["start"] == TODAY.isoformat() and first["when"] == ["HS"]
    assert mr["subject"] == {"reference": f"Patient/{h.PATIENT_ID}"}


def test_fixed_dose_in_washout_suggests_a_plan_from_the_safe_date(client):
    last = TODAY - dt.timedelta(days=2)
    stopped = h.med_request(
        "op-1", "codeine 30 mg", status="stopped", dose_mg=30, start=last, end=last
    )
    nal = h.med_request("nal-45", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    cards = cards_of(call(client, "ldn-order-select", h.order_select(nal, medications=(stopped,))))
    assert [c["indicator"] for c in cards] == ["critical", "info"]
    mr = cards[1]["suggestions"][0]["actions"][1]["resource"]
    start = mr["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["start"]
    assert start == (last + dt.timedelta(days=10)).isoformat()


def test_continuing_ldn_at_4_5_mg_is_not_flagged(client):
    current = h.med_request("ldn-old", "naltrexone 4.5 mg", status="active", dose_mg=4.5)
    renewal = h.med_request("nal-45", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    body = h.order_select(renewal, medications=(current,))
    assert cards_of(call(client, "ldn-order-select", body)) == []


def test_spec_example_request_is_accepted_as_is(client):
    body = json.loads(SPEC_EXAMPLE.read_text())
    body["prefetch"] = {"medications": h.bundle(LDN_ACTIVE)}
    assert cards_of(call(client, "ldn-order-select", body)) == []  # amoxicillin: nothing to say


def _pain_history(start: dt.date, before: int, after: int, days: int = 10) -> tuple[dict, ...]:
    out = [h.pain_obs(start - dt.timedelta(days=d), before, d) for d in range(1, 8)]
    out += [h.pain_obs(TODAY - dt.timedelta(days=d), after, 100 + d) for d in range(days)]
    return tuple(out)


def _titrating_order(start: dt.date) -> dict:
    """An ldnkit-style LDN order: 1.5 -> 3 -> 4.5 mg every 14 days (a previous export)."""
    from ldnkit.clinical.titration import titration_plan
    from ldnkit.interop.fhir.export import medication_request

    plan = titration_plan("fibromyalgia", start, patient_id=h.PATIENT_ID)
    return medication_request(plan, {"reference": f"Patient/{h.PATIENT_ID}"}, rid="ldn-plan")


def test_patient_view_status_card(client):
    start = TODAY - dt.timedelta(days=20)
    body = h.patient_view(
        (_titrating_order(start),),
        _pain_history(start, 8, 5),
        (
            {
                "resourceType": "Encounter",
                "id": "e1",
                "status": "finished",
                "period": {"start": (start + dt.timedelta(days=15)).isoformat()},
            },
        ),
    )
    (card,) = cards_of(call(client, "ldn-patient-view", body))
    next_day = (start + dt.timedelta(days=28)).isoformat()
    assert card["indicator"] == "info"
    assert card["summary"].startswith(f"LDN 3 mg; next 4.5 mg from {next_day}")
    assert "responder" in card["summary"]
    assert "**Current dose:** 3 mg" in card["detail"]
    assert "**Responder status:** responder (pain 8.0 -> 5.0, 38% lower" in card["detail"]
    assert "**Today's advice:**" in card["detail"]
    assert "none overdue" in card["detail"]


def test_patient_view_flags_overdue_follow_up(client):
    start = TODAY - dt.timedelta(days=35)
    body = h.patient_view((_titrating_order(start),), _pain_history(start, 6, 6, days=3))
    (card,) = cards_of(call(client, "ldn-patient-view", body))
    assert card["indicator"] == "warning"
    assert "follow-up OVERDUE" in card["summary"]
    due = (start + dt.timedelta(days=28)).isoformat()
    assert f"by {due}; no visit recorded since" in card["detail"]
    assert "unknown (not enough pain scores" in card["detail"]


def test_patient_view_without_ldn_has_no_card(client):
    amox = h.med_request("amox", "amoxicillin 500 mg", status="active", dose_mg=500)
    assert cards_of(call(client, "ldn-patient-view", h.patient_view((amox,)))) == []


def _base() -> dict:
    nal = h.med_request("nal-1", "naltrexone 1.5 mg", dose_mg=1.5, start=TODAY)
    return h.order_select(nal)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("hook"), "hook"),
        (lambda b: b.update(hook="patient-view"), "hook"),
        (lambda b: b.pop("hookInstance"), "hookInstance"),
        (lambda b: b.pop("context"), "context"),
        (lambda b: b.update(context=[]), "context"),
        (lambda b: b["context"].pop("patientId"), "context.patientId"),
        (lambda b: b["context"].pop("userId"), "context.userId"),
        (lambda b: b["context"].update(selections="MedicationRequest/nal-1"), "context.selections"),
        (lambda b: b["context"].pop("draftOrders"), "context.draftOrders"),
        (
            lambda b: b["context"].update(draftOrders={"resourceType": "Patient"}),
            "context.draftOrders",
        ),
        (
            lambda b: b["context"]["draftOrders"]["entry"].append({"x": 1}),
            "context.draftOrders.entry[2].resource",
        ),
        (
            lambda b: b["context"]["selections"].append("MedicationRequest/ghost"),
            "context.selections",
        ),
        (lambda b: b.update(prefetch=[1]), "prefetch"),
        (lambda b: b["prefetch"].update(medications="yes"), "prefetch.medications"),
        (lambda b: b.update(fhirServer=42), "fhirServer"),
        (
            lambda b: b["context"]["draftOrders"]["entry"][1]["resource"]["dosageInstruction"][
                0
            ].update(timing="tonight"),
            "context",
        ),
    ],
)
def test_malformed_requests_get_400_with_a_reason(client, mutate, field):
    body = copy.deepcopy(_base())
    mutate(body)
    resp = call(client, "ldn-order-select", body)
    assert resp.status_code == 400, resp.text
    err = resp.json()
    assert err["error"] == "bad_request" and err["field"] == field and err["reason"]


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_unparseable_bodies_get_400(client, raw):
    resp = client.post(
        "/cds-services/ldn-order-select", content=raw, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.json()["reason"]


def test_missing_prefetch_is_412_and_unknown_service_404(client):
    body = _base()
    del body["prefetch"]
    resp = call(client, "ldn-order-select", body)
    assert resp.status_code == 412 and resp.json()["keys"] == ["medications"]
    assert call(client, "no-such-service", _base()).status_code == 404


def _feedback_rows(engine) -> list[dict]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return cds_store.list_feedback(s, limit=1000)


def test_feedback_endpoint(client, engine):
    oxy = h.med_request("oxy-1", "oxycodone 5 mg", dose_mg=5)
    (card,) = cards_of(
        call(client, "ldn-order-select", h.order_select(oxy, medications=(LDN_ACTIVE,)))
    )
    before = len(_feedback_rows(engine))
    fb = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "surgery"},
                "outcomeTimestamp": "2026-05-04T10:00:00Z",
            }
        ]
    }
    resp = client.post("/cds-services/ldn-order-select/feedback", json=fb)
    assert resp.status_code == 200 and resp.json() == {}
    rows = _feedback_rows(engine)
    assert len(rows) == before + 1
    assert rows[0]["override_code"] == card["overrideReasons"][0]["code"]
    assert rows[0]["client"] == "https://ehr.test.example"
    bad = client.post("/cds-services/ldn-order-select/feedback", json={"feedback": [{"card": 1}]})
    assert bad.status_code == 400 and bad.json()["field"] == "feedback[0].card"
    assert client.post("/cds-services/nope/feedback", json=fb).status_code == 404


@pytest.mark.parametrize(
    "path", ["/cds-services/ldn-patient-view", "/cds-services/ldn-order-select/feedback"]
)
@pytest.mark.parametrize("depth", [65, 5000, 100_000])
def test_deeply_nested_json_is_a_400_not_a_crash(client, path, depth):
    """Without the app's body middleware too: the route's own parser bounds the depth."""
    body = b'{"hook": ' + b"[" * depth + b"]" * depth + b"}"
    resp = client.post(path, content=body)
    assert resp.status_code == 400, resp.text
    assert "nested" in resp.json()["reason"]


def test_feedback_is_bounded(client):
    item = {"card": "c" * 129, "outcome": "accepted", "outcomeTimestamp": "2026-05-04T10:00:00Z"}
    resp = client.post("/cds-services/ldn-order-select/feedback", json={"feedback": [item]})
    assert resp.status_code == 400 and resp.json()["field"] == "feedback[0].card"
    many = [{**item, "card": f"c{i}"} for i in range(101)]
    resp = client.post("/cds-services/ldn-order-select/feedback", json={"feedback": many})
    assert resp.status_code == 400 and resp.json()["field"] == "feedback"
