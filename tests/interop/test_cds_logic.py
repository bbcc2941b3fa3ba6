"""CDS card logic as pure functions (the HTTP tests cover the same cards end to end)."""

from __future__ import annotations

import datetime as dt

import pytest

from ldnkit.errors import ValidationError
from ldnkit.interop import cds
from tests.interop import hooks as h

TODAY = dt.date(2026, 5, 4)


def test_responder_status_from_pain_scores():
    start = TODAY - dt.timedelta(days=70)
    ldn = h.med_request(
        "ldn", "low dose naltrexone 4.5 mg", status="active", dose_mg=4.5, start=start
    )
    pains = [h.pain_obs(start - dt.timedelta(days=d), 8, d) for d in range(1, 8)]
    pains += [h.pain_obs(TODAY - dt.timedelta(days=d), 5, 100 + d) for d in range(0, 10)]
    req = cds.parse_request(cds.SERVICES["ldn-patient-view"], h.patient_view((ldn,), tuple(pains)))
    st = cds.ldn_status(req, TODAY)
    assert st is not None and st.responder is not None
    assert st.responder.category == "responder"
    assert st.responder.percent_reduction == 37.5
    assert st.current_mg == 4.5 and st.next_step is None


def test_unknown_selection_is_a_bad_request():
    nal = h.med_request("nal", "naltrexone 4.5 mg", dose_mg=4.5)
    body = h.order_select(nal)
    body["context"]["selections"].append("MedicationRequest/nope")
    with pytest.raises(ValidationError, match="nope"):
        cds.cards("ldn-order-select", body, TODAY)


def test_missing_prefetch_is_a_precondition_failure():
    nal = h.med_request("nal", "naltrexone 4.5 mg", dose_mg=4.5)
    body = h.order_select(nal)
    del body["prefetch"]["medications"]
    with pytest.raises(cds.PrefetchMissing):
        cds.cards("ldn-order-select", body, TODAY)


def test_contraindicated_naltrexone_gets_no_titration_offer():
    nal = h.med_request("nal", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    oxy = h.med_request("oxy", "oxycodone 5 mg tablet", status="active", dose_mg=5)
    out = cds.cards("ldn-order-select", h.order_select(nal, medications=(oxy,)), TODAY)
    assert [c["indicator"] for c in out["cards"]] == ["critical"]
    assert "active opioids" in out["cards"][0]["summary"]


def test_feedback_is_checked():
    ok = {
        "feedback": [
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "already-addressed", "system": "urn:ldnkit:override-reason"},
                    "userComment": "discussed",
                },
                "outcomeTimestamp": "2026-05-04T14:22:10Z",
            }
        ]
    }
    (item,) = cds.parse_feedback(ok)
    assert item["override_code"] == "already-addressed"
    with pytest.raises(ValidationError, match="outcome"):
        cds.parse_feedback({"feedback": [{**ok["feedback"][0], "outcome": "maybe"}]})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fibromyalgia (disorder)", "fibromyalgia"),
        ("Complex regional pain syndrome type I of left upper limb", "crps"),
        ("CRPS", "crps"),
        ("Painful diabetic neuropathy", "painful_diabetic_neuropathy"),
        ("Crohn's disease of ileum", "crohns_disease"),
        ("Essential hypertension", None),
    ],
)
def test_condition_text_maps_to_the_evidence(text, expected):
    from ldnkit.evidence import default_evidence

    assert cds.condition_id(text, default_evidence()) == expected


def test_naltrexone_order_for_a_child_gets_a_critical_paediatric_card():
    nal = h.med_request("nal", "naltrexone 1.5 mg", dose_mg=1.5, start=TODAY)
    body = h.order_select(nal)
    body["prefetch"]["patient"]["birthDate"] = "2016-02-01"
    out = cds.cards("ldn-order-select", body, TODAY)
    child = [c for c in out["cards"] if "Under 18" in c["summary"]]
    assert child and child[0]["indicator"] == "critical"
    adult = cds.cards("ldn-order-select", h.order_select(nal), TODAY)
    assert not [c for c in adult["cards"] if "Under 18" in c["summary"]]
