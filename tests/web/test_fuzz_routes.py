"""Fuzz every route of the served product over real HTTP: no response is ever a 5xx.

schemathesis (`test_schemathesis.py`) covers the JSON API from its OpenAPI schema; it cannot
reach the pages, the raw-body CDS Hooks and FHIR routes, or inputs outside the schema (wrong
content types, bytes that are not JSON, deep nesting, NUL characters, odd ids and headers).
Here hypothesis draws, for every route of the assembled app: path ids, query strings, headers
(content type, credentials of each role, a session cookie with or without its CSRF token,
forwarded-for noise) and bodies (random bytes, JSON of any shape, deep JSON, form fields,
near-valid diary and hook bodies). CDS calls are signed by a configured EHR half the time,
so the JWT check and the card logic behind it are fuzzed too.

The number of requests sent is printed; LDNKIT_FUZZ_ROUTE_EXAMPLES raises the count per route.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.interop import hooks as h
from tests.interop.cds_keys import EhrClient
from tests.web.conftest import PASSWORD, running_clinic

EXAMPLES = int(os.environ.get("LDNKIT_FUZZ_ROUTE_EXAMPLES", "12"))


@dataclass
class Target:
    url: str
    ids: dict[str, int]
    ehr: EhrClient
    tokens: dict[str, str]
    cookie: dict[str, str]
    csrf: str
    routes: list[tuple[str, str]]
    sent: dict[str, int] = field(default_factory=dict)


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, prefix + route.path
        elif hasattr(route, "original_router"):
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)


def _all_routes() -> list[tuple[str, str]]:
    from ldnkit.web import WebSettings, create_app
    from ldnkit.web.main import interop_routers

    settings = WebSettings(database_url="sqlite://", secret_key="x", cds_open_sandbox=True)
    app = create_app(settings, extra_routers=interop_routers(settings))
    found = set(_walk(app.router.routes))
    found |= {("GET", "/static/style.css"), ("GET", "/docs-assets/swagger-ui.css")}
    return sorted(found)


ROUTES = _all_routes()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    directory = tmp_path_factory.mktemp("fuzz")
    ehr = EhrClient.create(directory / "ehr")
    with running_clinic(
        directory,
        interop=True,
        cds_clients=str(ehr.clients_path),
        lockout_address_attempts=10_000,
    ) as clinic:
        tokens = {who: clinic.token(who) for who in ("dr_a", "pat_a", "admin")}
        browser = httpx.Client(base_url=clinic.url, follow_redirects=False)
        page = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        browser.post("/login", data={"username": "dr_b", "password": PASSWORD, "csrf_token": token})
        listing = browser.get("/patients")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', listing.text).group(1)
        cookie = dict(browser.cookies)
        browser.close()
        t = Target(clinic.url, clinic.ids, ehr, tokens, cookie, csrf, ROUTES)
        yield t
        total = sum(t.sent.values())
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(t.sent.items()))
        print(f"\nfuzzed {len(ROUTES)} routes with {total} requests ({statuses})")


printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
#: Header values HTTP can carry at all (no leading/trailing blanks, not empty).
header_text = printable.map(str.strip).filter(bool)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
diary_like = st.fixed_dictionaries(
    {},
    optional={
        "entry_date": st.dates().map(str) | printable,
        "pain": st.integers(-5, 15) | st.booleans() | st.floats(allow_nan=False) | printable,
        "sleep": st.integers(-5, 15) | st.none(),
        "dose_taken": st.booleans() | printable | st.integers(),
        "dose_mg": st.decimals(allow_nan=False, allow_infinity=False).map(str) | st.booleans(),
        "dose_time": printable,
        "side_effects": st.lists(
            st.fixed_dictionaries({"code": printable, "severity": printable}), max_size=2
        )
        | printable,
        "note": st.text(max_size=50),
    },
)
hook_like = st.sampled_from(
    [
        h.order_select(h.med_request("oxy-1", "oxycodone 5 mg", dose_mg=5)),
        h.patient_view(()),
    ]
).flatmap(
    lambda base: st.fixed_dictionaries({k: st.just(v) | json_values for k, v in base.items()})
)
deep = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=300),
    json_values.map(json.dumps),
    diary_like.map(json.dumps),
    hook_like.map(json.dumps),
    deep,
    st.dictionaries(printable, st.text(max_size=30), max_size=5).map(
        lambda d: "&".join(f"{quote(k)}={quote(v)}" for k, v in d.items())
    ),
)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/fhir+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zz",
        "text/plain",
        "application/json; charset=utf-16",
    ]
)


def _ids(target: Target) -> st.SearchStrategy[str]:
    real = sorted({v for k, v in target.ids.items()})
    return st.one_of(
        st.sampled_from(real).map(str),
        st.integers(-(2**70), 2**70).map(str),
        st.text(max_size=12),
        st.sampled_from(["0", "-1", "2147483648", "1e3", "%00", "..", "ldn-order-select"]),
    ).map(lambda v: quote(v, safe=""))


def _fill(path: str, draw: Any, target: Target) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        special = {
            "service_id": st.sampled_from(
                ["ldn-order-select", "ldn-patient-view", "ldn-order-sign"]
            ),
            "kind": st.sampled_from(["handout", "wallet_card", "prescription"]),
            "action": st.sampled_from(["deactivate", "activate", "unlock"]),
            "protocol_id": st.sampled_from(["standard", "fibromyalgia", "slow"]),
            "entry_date": st.dates().map(str),
        }.get(name)
        if name == "user_id":  # never the fuzzer's own accounts
            own = {target.ids["user_dr_a"]}
            return str(draw(st.integers(-3, 40).filter(lambda i: i not in own)))
        strategy = _ids(target) if special is None else special | _ids(target)
        return draw(strategy)

    return re.sub(r"\{([a-z_]+)\}", value, path)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def _fuzz_one(target: Target, method: str, path: str, data: st.DataObject) -> None:
    url = _fill(path, data.draw, target)
    query = data.draw(
        st.dictionaries(
            st.sampled_from(["entity", "entity_id", "limit", "format", "next", "on", "since", "x"]),
            printable | st.integers(-(2**40), 2**40).map(str),
            max_size=3,
        )
    )
    who = data.draw(st.sampled_from(["none", "dr_a", "pat_a", "admin", "garbage", "cookie"]))
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if who in target.tokens:
        headers["Authorization"] = f"Bearer {target.tokens[who]}"
    elif who == "garbage":
        headers["Authorization"] = data.draw(header_text)
    elif who == "cookie":
        cookies = dict(target.cookie)
        if data.draw(st.booleans()):
            headers["X-CSRF-Token"] = target.csrf
    if "cds-services/" in url and data.draw(st.booleans()):
        headers["Authorization"] = f"Bearer {target.ehr.token(target.url + url)}"
    ctype = data.draw(content_types)
    if ctype:
        headers["Content-Type"] = ctype
    if data.draw(st.booleans()):
        headers["X-Forwarded-For"] = data.draw(header_text)
    body = data.draw(bodies) if method in ("POST", "PUT") else None
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    with httpx.Client(base_url=target.url, cookies=cookies, timeout=60) as client:
        resp = client.request(method, url, params=query, headers=headers, content=content)
    key = f"{resp.status_code // 100}xx"
    target.sent[key] = target.sent.get(key, 0) + 1
    assert resp.status_code < 500, f"{method} {url} -> {resp.status_code}: {resp.text[:300]}"


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_no_route_answers_5xx(target: Target, method: str, path: str) -> None:
    _fuzz_one(target, method, path)
