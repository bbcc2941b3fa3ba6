"""Patient factors through the JSON API on a real server (issue 11, part 2): the stored birth
date reaches screening and planning, a child needs an override, a future birth date is a 422."""

from __future__ import annotations

from tests.web.conftest import FIBRO_PROFILE, TODAY, Clinic


def _create(c, **body) -> int:
    r = c.post("/api/patients", json={"given_name": "Young", "family_name": "Person", **body})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_child_is_screened_by_stored_birth_date_and_refused_a_plan(clinic: Clinic) -> None:
    with clinic.client("dr_a") as c:
        pid = _create(c, birth_date="2016-05-01", profile=FIBRO_PROFILE)
        r = c.post(f"/api/patients/{pid}/assessments", json={"on": TODAY})
        assert r.status_code == 201 and r.json()["status"] == "contraindicated"
        assert "PAEDIATRIC" in {f["code"] for f in r.json()["payload"]["findings"]}
        before = c.get(f"/api/patients/{pid}/plans").json()
        r = c.post(f"/api/patients/{pid}/plans", json={"start": TODAY})
        assert r.status_code == 409 and "PAEDIATRIC" in r.text
        assert c.get(f"/api/patients/{pid}/plans").json() == before == []


def test_override_is_recorded_and_allows_a_cautioned_plan(clinic: Clinic) -> None:
    reason = "Paediatric pain MDT 2026-11-20: CRPS refractory to first-line care"
    with clinic.client("dr_a") as c:
        pid = _create(
            c, birth_date="2010-05-01", profile={**FIBRO_PROFILE, "paediatric_override": reason}
        )
        stored = c.get(f"/api/patients/{pid}").json()["profile"]["paediatric_override"]
        assert stored["reason"] == reason
        r = c.post(f"/api/patients/{pid}/assessments", json={"on": TODAY})
        assert r.json()["status"] == "eligible_with_cautions"
        assert c.post(f"/api/patients/{pid}/plans", json={"start": TODAY}).status_code == 201


def test_future_birth_date_is_422_naming_the_field(clinic: Clinic) -> None:
    with clinic.client("dr_a") as c:
        before = len(c.get("/api/patients").json())
        r = c.post(
            "/api/patients",
            json={"given_name": "A", "family_name": "B", "birth_date": "2030-01-01"},
        )
        assert r.status_code == 422 and r.json()["field"] == "birth_date"
        assert len(c.get("/api/patients").json()) == before


def test_renal_and_breastfeeding_are_stored_and_screened(clinic: Clinic) -> None:
    profile = {**FIBRO_PROFILE, "renal_status": "severe", "breastfeeding": True}
    with clinic.client("dr_a") as c:
        pid = _create(c, birth_date="1990-01-01", profile=profile)
        stored = c.get(f"/api/patients/{pid}").json()["profile"]
        assert stored["renal_status"] == "severe" and stored["breastfeeding"] is True
        r = c.post(f"/api/patients/{pid}/assessments", json={"on": TODAY})
        codes = {f["code"] for f in r.json()["payload"]["findings"]}
        assert {"RENAL_IMPAIRMENT", "BREASTFEEDING"} <= codes
        bad = c.put(f"/api/patients/{pid}/profile", json={**profile, "renal_status": "poor"})
        assert bad.status_code == 422 and "renal_status" in bad.json()["field"]
