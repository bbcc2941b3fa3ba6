"""Access control for every route that touches patient data, found by walking the app's routes
(so a new route cannot slip through untested): another clinician's patient and another
patient's record are refused (403), admins see no patient data, anonymous callers are sent to
log in, and unknown ids are 404."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ldnkit.web import WebSettings, create_app
from tests.web.conftest import TODAY, Clinic


def _routes() -> Iterator[tuple[str, str]]:
    app = create_app(WebSettings(database_url="sqlite:///:memory:", secret_key="x"))

    def walk(routes):  # type: ignore[no-untyped-def]
        for r in routes:
            if hasattr(r, "effective_route_contexts"):
                yield from r.effective_route_contexts()
            else:
                yield r

    seen = set()
    for route in walk(app.routes):
        path = getattr(route, "path", "")
        if "{patient_id}" not in path:
            continue
        for method in sorted(getattr(route, "methods", ()) or ()):
            if method == "HEAD" or (method, path) in seen:
                continue
            seen.add((method, path))
            yield method, path


ROUTES = sorted(_routes())


def _url(path: str, patient_id: int) -> str:
    return path.replace("{patient_id}", str(patient_id)).replace("{entry_date}", TODAY)


def test_every_patient_route_is_covered() -> None:
    assert len(ROUTES) >= 20, ROUTES
    assert ("POST", "/api/patients/{patient_id}/diary") in ROUTES
    assert ("GET", "/patients/{patient_id}") in ROUTES


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_patient_route_access(clinic: Clinic, method: str, path: str) -> None:
    own = clinic.ids["patient_a"]
    url = _url(path, own)
    for who in ("dr_b", "pat_b", "admin"):
        with clinic.client(who) as c:
            r = c.request(method, url, json={} if method != "GET" else None)
            assert r.status_code == 403, (who, method, url, r.status_code, r.text[:200])
    with httpx.Client(base_url=clinic.url) as anon:
        r = anon.request(method, url, json={} if method != "GET" else None)
        if path.startswith("/api"):
            assert r.status_code == 401, (method, url, r.status_code)
        else:
            # A page: anonymous GETs go to the login form; POSTs fail the CSRF check first.
            assert r.status_code in (303, 403), (method, url, r.status_code)
            if r.status_code == 303:
                assert r.headers["location"].startswith("/login")
    with clinic.client("dr_a") as c:
        r = c.request(method, _url(path, 987654), json={} if method != "GET" else None)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:200])
