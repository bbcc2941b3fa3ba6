"""Completed patient-reported instruments as FHIR R4 Observations (pure, no I/O).

One Observation per completed instrument: the score as `valueQuantity` (UCUM `{score}`) coded
with the instrument's LOINC score code (PEG-3: 91147-9) or panel code, plus an ldnkit code;
each answer as a `component` coded with the item's LOINC code where one exists. The category is
`survey`, `derivedFrom` is not used (the answers travel inside the Observation), and ids are
stable, so two exports of the same data are identical.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ldnkit.clinical.instruments import Instrument
from ldnkit.interop.fhir import common as fc

SYS_INSTRUMENT = "urn:ldnkit:instrument"
SYS_INSTRUMENT_ITEM = "urn:ldnkit:instrument-item"


def _number(value: Decimal) -> dict[str, Any]:
    if value == value.to_integral_value():
        return {"valueInteger": int(value)}
    return {"valueQuantity": {"value": float(value), "system": fc.UCUM, "code": "{score}"}}


def instrument_observation(
    response: Mapping[str, Any],
    instrument: Instrument | None,
    patient_id: str,
    subject: dict[str, str],
) -> dict[str, Any]:
    """A stored response (`store.repositories.instruments.response_dict`) as an Observation.

    `instrument` gives the LOINC codes and names; a response to an instrument no longer
    defined (a clinic removed it from its file) still exports with ldnkit codes only.
    """
    inst_id = str(response["instrument_id"])
    day = response["completed_on"]
    day_s = day.isoformat() if isinstance(day, dt.date) else str(day)
    coding: list[dict[str, str]] = []
    name = inst_id
    items = {}
    if instrument is not None:
        name = instrument.name
        items = {i.id: i for i in instrument.items}
        code = instrument.loinc_score or instrument.loinc_panel
        if code:
            coding.append(
                {
                    "system": fc.LOINC,
                    "code": code,
                    "display": instrument.score_display or instrument.name,
                }
            )
    coding.append({"system": SYS_INSTRUMENT, "code": inst_id, "display": name})
    components = []
    for item_id, value in response["answers"].items():
        item = items.get(item_id)
        item_coding = [{"system": SYS_INSTRUMENT_ITEM, "code": f"{inst_id}.{item_id}"}]
        if item is not None and item.loinc:
            item_coding.insert(0, {"system": fc.LOINC, "code": item.loinc})
        components.append(
            {
                "code": {"coding": item_coding, "text": item.text if item else item_id},
                **_number(Decimal(str(value))),
            }
        )
    score = Decimal(str(response["score"]))
    return {
        "resourceType": "Observation",
        "id": fc.fhir_id("instrument", inst_id, response["id"]),
        "identifier": [
            {"system": SYS_INSTRUMENT, "value": f"{patient_id}/{inst_id}/{response['id']}"}
        ],
        "status": "final",
        "category": [{"coding": [{"system": fc.OBS_CATEGORY, "code": "survey"}]}],
        "code": {"coding": coding, "text": name},
        "subject": subject,
        "effectiveDateTime": day_s,
        "valueQuantity": {"value": float(score), "system": fc.UCUM, "code": "{score}"},
        "component": components,
    }


__all__ = ["SYS_INSTRUMENT", "SYS_INSTRUMENT_ITEM", "instrument_observation"]
