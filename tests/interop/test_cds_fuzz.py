"""Fuzzing the hook request: any JSON anywhere in a request gives cards, 400 or 412, never a
server error. Pure-function level (fast); the HTTP tests show these map to 400/412."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldnkit.errors import ValidationError
from ldnkit.interop import cds
from tests.interop import hooks as h

TODAY = dt.date(2026, 5, 4)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _bases() -> list[dict[str, Any]]:
    start = TODAY - dt.timedelta(days=30)
    nal = h.med_request("nal-45", "naltrexone 4.5 mg", dose_mg=4.5, start=TODAY)
    oxy = h.med_request("oxy", "oxycodone 5 mg", dose_mg=5)
    ldn = h.med_request("ldn", "naltrexone 3 mg", status="active", dose_mg=3, start=start)
    stopped = h.med_request(
        "tr", "tramadol 50 mg", status="completed", dose_mg=50, start=start, end=TODAY
    )
    return [
        h.order_select(nal, medications=(stopped,)),
        h.order_select(oxy, medications=(ldn,), hook="order-sign"),
        h.patient_view((ldn,), (h.pain_obs(start, 7, 1), h.pain_obs(TODAY, 4, 2))),
    ]


BASES = _bases()
SERVICE = {
    "order-select": "ldn-order-select",
    "order-sign": "ldn-order-sign",
    "patient-view": "ldn-patient-view",
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(BASES) - 1), st.integers(0, 10**6), json_values)
def test_no_input_makes_the_service_fail(which, pick, value):
    body = copy.deepcopy(BASES[which])
    service = SERVICE[body["hook"]]
    paths = _paths(body)[1:]
    path = paths[pick % len(paths)]
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        out = cds.cards(service, body, TODAY)
    except (ValidationError, cds.PrefetchMissing):
        return
    assert isinstance(out["cards"], list)


def _export() -> dict[str, Any]:
    from decimal import Decimal

    from ldnkit.clinical.diary import DiaryEntry
    from ldnkit.clinical.models import PlanOptions
    from ldnkit.clinical.titration import plan_for_patient
    from ldnkit.inputs import load_patient
    from ldnkit.interop.fhir.export import export_bundle

    patient = load_patient("src/ldnkit/examples/fibromyalgia.yaml")
    plan = plan_for_patient(
        patient, "fibromyalgia", dt.date(2026, 3, 2), PlanOptions(liquid_mg_per_ml=Decimal(1))
    )
    diary = [
        DiaryEntry(
            entry_date=dt.date(2026, 3, 2),
            pain=5,
            sleep=4,
            dose_taken=True,
            dose_mg=Decimal("1.5"),
            dose_time=dt.time(22, 0),
            side_effects=[{"code": "insomnia", "severity": "severe"}],
            note="n",
        )
    ]
    return export_bundle(patient, plan=plan, diary=diary)


EXPORT = _export()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), json_values)
def test_no_bundle_makes_the_import_fail(pick, value):
    from ldnkit.interop.fhir.reading import diary_from_bundle, patient_from_bundle, plan_from_bundle

    body = copy.deepcopy(EXPORT)
    paths = _paths(body)[1:]
    path = paths[pick % len(paths)]
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    for read in (
        lambda b: diary_from_bundle(b, today=TODAY),
        plan_from_bundle,
        patient_from_bundle,
    ):
        with contextlib.suppress(ValidationError):
            read(body)
