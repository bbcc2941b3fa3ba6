"""Optional: re-validate an export with the real FHIR R4 (4.0.1) models.

R4 models exist only in fhir.resources <= 6.1 (pydantic 1), which cannot share the project's
environment. Point `LDNKIT_FHIR_R4_PYTHON` at a Python that has it, e.g.

    python3 -m venv /tmp/r4 && /tmp/r4/bin/pip install "fhir.resources==6.1.0" "pydantic<2"
    LDNKIT_FHIR_R4_PYTHON=/tmp/r4/bin/python pytest tests/interop/test_r4_strict.py

Skipped otherwise (with the reason). The main suite validates with the R4B models.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ldnkit.interop.fhir.export import export_bundle
from tests.interop import hooks as h

R4_PYTHON = os.environ.get("LDNKIT_FHIR_R4_PYTHON")

_CHECK = """
import json, sys
import fhir.resources as fr
from fhir.resources import construct_fhir_element
assert fr.__fhir_version__ == "4.0.1", fr.__fhir_version__
data = json.load(open(sys.argv[1]))
count = 0
for bundle in data:
    construct_fhir_element("Bundle", bundle)
    for entry in bundle.get("entry", []):
        construct_fhir_element(entry["resource"]["resourceType"], entry["resource"])
        count += 1
print(count)
"""


@pytest.mark.skipif(not R4_PYTHON, reason="LDNKIT_FHIR_R4_PYTHON not set (see module docstring)")
def test_export_and_suggestions_validate_against_r4(
    tmp_path, patient, surgery_plan, assessment, diary
):
    import datetime as dt

    from ldnkit.interop import cds

    bundles = [export_bundle(patient, plan=surgery_plan, assessment=assessment, diary=diary)]
    nal = h.med_request("nal-45", "naltrexone 4.5 mg", dose_mg=4.5, start=dt.date(2026, 5, 4))
    out = cds.cards("ldn-order-select", h.order_select(nal), dt.date(2026, 5, 4))
    resources = [
        a["resource"]
        for c in out["cards"]
        for s in c.get("suggestions", [])
        for a in s["actions"]
        if "resource" in a
    ]
    assert resources
    bundles.append(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }
    )
    path = tmp_path / "bundles.json"
    path.write_text(json.dumps(bundles))
    done = subprocess.run(
        [R4_PYTHON, "-c", _CHECK, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) == sum(len(b["entry"]) for b in bundles)
