"""The JSON API over real HTTP: evidence, screening and plan previews, the patient workflow,
validation errors with field paths, CSRF, cookies, lock-out, logout and the audit trail."""

from __future__ import annotations

import httpx

from tests.web.conftest import FIBRO_PROFILE, PASSWORD, TODAY, Clinic


def test_evidence_is_public_and_cited(clinic: Clinic) -> None:
    with clinic.client() as c:
        dosing = c.get("/api/evidence/dosing").json()
        assert dosing and all(row["sources"] for row in dosing)
        protocols = c.get("/api/evidence/protocols").json()
        assert {"standard", "fibromyalgia"} <= {p["id"] for p in protocols}
        trials = c.get("/api/evidence/trials").json()
        assert trials["trials"] and all(t["sources"] for t in trials["trials"])
        refs = c.get("/api/evidence/references").json()
        assert any(r["id"] == "younger-2013" for r in refs)
        page = c.get("/evidence")
        assert page.status_code == 200 and "Dosing" in page.text
        assert c.get("/evidence/references").status_code == 200
        assert c.get("/evidence/trials").status_code == 200


def test_login_required_and_wrong_password(clinic: Clinic) -> None:
    with clinic.client() as c:
        assert c.get("/api/me").status_code == 401
        assert c.get("/api/patients").status_code == 401
        r = c.post("/api/auth/login", json={"username": "dr_a", "password": "nope-nope"})
        assert r.status_code == 401
        assert "wrong username or password" in r.json()["error"]
        page = c.get("/patients")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    with clinic.client("dr_a") as c:
        me = c.get("/api/me").json()
        assert me["role"] == "clinician" and me["clinician_id"] == clinic.ids["clinician_a"]


def test_screening_and_plan_preview(clinic: Clinic) -> None:
    patient = {"id": "x", **FIBRO_PROFILE}
    with clinic.client("dr_a") as c:
        r = c.post("/api/screening/preview", json={"patient": patient, "on": TODAY})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] in ("eligible", "eligible_with_cautions")
        assert all(f["sources"] for f in body["findings"])
        r = c.post("/api/plans/preview", json={"patient": patient, "start": TODAY})
        assert r.status_code == 200, r.text
        plan = r.json()
        assert plan["protocol_id"] == "fibromyalgia" and plan["steps"]
        opioid = {"id": "y", "medications": [{"name": "oxycodone", "active": True}]}
        r = c.post("/api/plans/preview", json={"patient": opioid, "start": TODAY})
        assert r.status_code == 409 and "contraindicated" in r.json()["error"]
        r = c.post(
            "/api/plans/preview",
            json={"patient": patient, "start": TODAY, "options": {"interval_days": 3}},
        )
        assert r.status_code == 422
        assert r.json()["field"] == "options.interval_days"
    with clinic.client("pat_a") as c:
        r = c.post("/api/screening/preview", json={"patient": patient, "on": TODAY})
        assert r.status_code == 403


def test_patient_workflow(clinic: Clinic) -> None:
    with clinic.client("dr_a") as c:
        r = c.post(
            "/api/patients",
            json={
                "given_name": "Api",
                "family_name": "Flow",
                "profile": FIBRO_PROFILE,
                "account": {"username": "api_flow", "password": PASSWORD},
            },
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = c.post(f"/api/patients/{pid}/assessments", json={"on": TODAY})
        assert r.status_code == 201, r.text
        assert r.json()["status"] in ("eligible", "eligible_with_cautions")
        r = c.post(f"/api/patients/{pid}/plans", json={"start": "2026-11-01"})
        assert r.status_code == 201, r.text
        assert r.json()["version"] == 1
        r = c.post(
            f"/api/patients/{pid}/plans",
            json={"start": "2026-11-01", "protocol_id": "standard"},
        )
        assert r.json()["version"] == 2
        assert len(c.get(f"/api/patients/{pid}/plans").json()) == 2
        ids = [p["id"] for p in c.get("/api/patients").json()]
        assert pid in ids and clinic.ids["patient_b"] not in ids
    with clinic.client("api_flow") as c:
        entry = {
            "entry_date": TODAY,
            "pain": 6,
            "sleep": 5,
            "dose_taken": True,
            "dose_mg": "1.5",
            "dose_time": "22:00:00",
            "side_effects": [{"code": "vivid_dreams", "severity": "mild"}],
        }
        r = c.post(f"/api/patients/{pid}/diary", json=entry)
        assert r.status_code == 201, r.text
        assert r.json()["revision"] == 1
        r = c.post(f"/api/patients/{pid}/diary", json={**entry, "pain": 5})
        assert r.json()["revision"] == 2
        history = c.get(f"/api/patients/{pid}/diary/{TODAY}/history").json()
        assert [h["pain"] for h in history] == [6, 5] and history[0]["superseded"]
        assert len(c.get(f"/api/patients/{pid}/diary").json()) == 1
        advice = c.get(f"/api/patients/{pid}/advice").json()
        # The patient gets patient language only: no dose, no clinical reasons or sources.
        assert advice["available"] and advice["code"] and advice["audience"] == "patient"
        assert advice["title"] == advice["patient_title"] and advice["message"]
        assert advice["suggested_dose_mg"] is None and not advice["reasons"]
        ics = c.get(f"/api/patients/{pid}/plans/current.ics")
        assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.content
        assert c.get("/api/patients").json()[0]["id"] == pid
        assert c.post(f"/api/patients/{pid}/plans", json={"start": TODAY}).status_code == 403
    with clinic.client("dr_a") as c:
        advice = c.get(f"/api/patients/{pid}/advice").json()
        assert advice["audience"] == "clinician" and advice["sources"] and advice["rule"]


def test_invalid_diary_input_is_422_with_field_and_nothing_changes(clinic: Clinic) -> None:
    pid = clinic.ids["patient_a"]
    with clinic.client("pat_a") as c:
        before = c.get(f"/api/patients/{pid}/diary").json()
        cases = [
            ({"entry_date": TODAY, "pain": 11, "dose_taken": True}, "pain"),
            ({"entry_date": "2026-12-30", "pain": 3, "dose_taken": True}, "entry_date"),
            (
                {
                    "entry_date": TODAY,
                    "pain": 3,
                    "dose_taken": True,
                    "side_effects": [{"code": "hiccups", "severity": "mild"}],
                },
                "side_effects[0].code",
            ),
            ({"entry_date": TODAY, "pain": 3}, "dose_taken"),
            (
                {"entry_date": TODAY, "pain": 3, "dose_taken": False, "dose_time": "22:00"},
                "dose_time",
            ),
            ({"entry_date": "0001-01-01", "pain": 3, "dose_taken": True}, "entry_date"),
            ({"entry_date": "1899-12-31", "pain": 3, "dose_taken": True}, "entry_date"),
            ({"entry_date": TODAY, "pain": True, "dose_taken": True}, "pain"),
            ({"entry_date": TODAY, "pain": 3, "sleep": False, "dose_taken": True}, "sleep"),
            ({"entry_date": TODAY, "pain": 3, "dose_taken": True, "dose_mg": True}, "dose_mg"),
            ({"entry_date": TODAY, "pain": 3, "dose_taken": True, "note": "a\x00b"}, "note"),
        ]
        for body, field in cases:
            r = c.post(f"/api/patients/{pid}/diary", json=body)
            assert r.status_code == 422, (body, r.text)
            got = r.json()
            assert got["field"].replace(".0.", "[0].") == field, got
            assert got["reason"]
        r = c.post(
            f"/api/patients/{pid}/diary",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 422
        assert c.get(f"/api/patients/{pid}/diary").json() == before


def test_unknown_ids_are_404(clinic: Clinic) -> None:
    with clinic.client("dr_a") as c:
        assert c.get("/api/patients/999999").status_code == 404
        assert c.get("/api/patients/999999/diary").status_code == 404
        assert c.get("/patients/999999").status_code == 404
        pid = clinic.ids["patient_a"]
        assert c.get(f"/api/patients/{pid}/diary/2020-01-01/history").status_code == 404
        r = c.post(
            "/api/plans/preview",
            json={"patient": {"id": "z"}, "start": TODAY, "protocol_id": "nope"},
        )
        assert r.status_code == 404


def test_cookie_session_flags_and_csrf(clinic: Clinic) -> None:
    with httpx.Client(base_url=clinic.url, follow_redirects=False) as c:
        page = c.get("/login")
        csrf_cookie = page.headers["set-cookie"]
        assert "HttpOnly" in csrf_cookie and "SameSite=lax" in csrf_cookie.replace("Lax", "lax")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post("/login", data={"username": "dr_a", "password": PASSWORD})
        assert r.status_code == 403  # no CSRF token
        r = c.post("/login", data={"username": "dr_a", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303, r.text
        cookie = r.headers["set-cookie"]
        assert "ldnkit_session=" in cookie and "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower() and "Secure" not in cookie
        listing = c.get("/patients")
        assert listing.status_code == 200
        r = c.post(f"/patients/{clinic.ids['patient_a']}/screen", data={"on": TODAY})
        assert r.status_code == 403
        # The login form's token was bound to the pre-login cookie, not to this session.
        r = c.post(
            f"/patients/{clinic.ids['patient_a']}/screen", data={"on": TODAY, "csrf_token": token}
        )
        assert r.status_code == 403
        token = listing.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post(
            f"/patients/{clinic.ids['patient_a']}/screen", data={"on": TODAY, "csrf_token": token}
        )
        assert r.status_code == 303
        # A cookie-authenticated API write needs the header too.
        r = c.post(f"/api/patients/{clinic.ids['patient_a']}/assessments", json={"on": TODAY})
        assert r.status_code == 403
        r = c.post(
            f"/api/patients/{clinic.ids['patient_a']}/assessments",
            json={"on": TODAY},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 201
        r = c.post("/logout", data={"csrf_token": token})
        assert r.status_code == 303
        assert c.get("/patients").status_code == 303
    clinic.tokens.pop("dr_a", None)  # logging out voids every token of the account


def test_secure_cookie_under_https(clinic: Clinic) -> None:
    with httpx.Client(base_url=clinic.url) as c:
        page = c.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        # The fixture lists loopback in LDNKIT_TRUSTED_PROXIES, as behind a TLS proxy.
        r = c.post(
            "/login",
            data={"username": "dr_b", "password": PASSWORD, "csrf_token": token},
            headers={"X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"]


def test_lockout_after_repeated_failures(clinic: Clinic) -> None:
    with clinic.client() as c:
        for _ in range(5):
            r = c.post("/api/auth/login", json={"username": "locked_dr", "password": "wrong-pass"})
            assert r.status_code == 401
        r = c.post("/api/auth/login", json={"username": "locked_dr", "password": PASSWORD})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0
        page = c.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post(
            "/login", data={"username": "locked_dr", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 429 and "too many failed logins" in r.text
        assert 'name="password"' in r.text  # the login form again, with the message


def test_logout_voids_token(clinic: Clinic) -> None:
    r = httpx.post(f"{clinic.url}/api/auth/login", json={"username": "pat_b", "password": PASSWORD})
    token = r.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{clinic.url}/api/me", headers=headers).status_code == 200
    assert httpx.post(f"{clinic.url}/api/auth/logout", headers=headers).status_code == 204
    assert httpx.get(f"{clinic.url}/api/me", headers=headers).status_code == 401
    clinic.tokens.pop("pat_b", None)


def test_reads_and_writes_are_audited_without_names(clinic: Clinic) -> None:
    pid = clinic.ids["patient_a"]
    with clinic.client("dr_a") as c:
        assert c.get(f"/api/patients/{pid}").status_code == 200
        assert c.get("/api/admin/audit").status_code == 403
    with clinic.client("admin") as c:
        events = c.get("/api/admin/audit", params={"entity": "patient", "entity_id": pid}).json()
        actor = f"user:{clinic.ids['user_dr_a']}"
        assert any(e["action"] == "read" and e["actor"] == actor for e in events)
        diary = c.get("/api/admin/audit", params={"entity": "diary_entry"}).json()
        assert diary and all(e["action"] in ("create", "correct") for e in diary)
        everything = c.get("/api/admin/audit", params={"limit": 1000}).json()
        text = str(everything)
        assert "Pat" not in text and "Flow" not in text  # ids and codes only
        assert c.get(f"/api/patients/{pid}").status_code == 403  # admins see no patient data
        page = c.get("/admin/audit")
        assert page.status_code == 200 and "read" in page.text
