"""CDS Hooks client authentication over real HTTP: every way a token can be wrong is refused
with 401, a good one is accepted once, keys rotate by kid, and EHR text in cards is inert."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from markdown_it import MarkdownIt

from ldnkit.web.routes.cds_hooks import CdsGuard, DatabaseStore, cds_today, engine_writer
from ldnkit.web.routes.cds_hooks import router as cds_router
from tests.interop import hooks as h
from tests.interop.cds_keys import EhrClient, guard_for, replay_engine
from tests.interop.server import serve

TODAY = dt.date(2026, 5, 4)
SERVICE = "ldn-order-select"
OXY = h.med_request("oxy-1", "oxycodone 5 mg", dose_mg=5)
LDN = h.med_request("ldn", "naltrexone 3 mg", status="active", dose_mg=3)
BODY = h.order_select(OXY, medications=(LDN,))


def _app(guard: CdsGuard | None) -> FastAPI:
    app = FastAPI()
    app.include_router(cds_router)
    app.dependency_overrides[cds_today] = lambda: TODAY
    app.state.cds_guard = guard
    return app


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Iterator[tuple[str, EhrClient, object]]:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("cdsauth")
    ehr = EhrClient.create(directory / "ehr")
    engine = replay_engine(directory)
    with serve(_app(guard_for(ehr, engine))) as base:
        yield base, ehr, engine
    engine.dispose()


def _post(base: str, token: str | None, service: str = SERVICE, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(f"{base}/cds-services/{service}", json=kw.get("body", BODY), headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(resp: httpx.Response, words: str) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"] == "unauthorized"
    assert words in resp.json()["reason"], resp.json()["reason"]
    assert resp.headers["www-authenticate"].startswith("Bearer")


def test_a_signed_call_is_answered(setup):
    base, ehr, _ = setup
    resp = _post(base, ehr.token(f"{base}/cds-services/{SERVICE}"))
    assert resp.status_code == 200 and resp.json()["cards"][0]["indicator"] == "critical"


def test_discovery_needs_no_token(setup):
    base, _, _ = setup
    assert httpx.get(f"{base}/cds-services").status_code == 200


def test_missing_or_malformed_authorization(setup):
    base, _ehr, _ = setup
    _refused(_post(base, None), "Authorization: Bearer")
    resp = httpx.post(
        f"{base}/cds-services/{SERVICE}", json=BODY, headers={"Authorization": "Basic eDp5"}
    )
    _refused(resp, "Authorization: Bearer")
    _refused(_post(base, "not.a.jwt"), "not a JWT")


def test_unsigned_and_symmetric_algorithms_are_refused(setup):
    base, ehr, _ = setup
    aud = f"{base}/cds-services/{SERVICE}"
    claims = jwt.decode(ehr.token(aud), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none")
    _refused(_post(base, unsigned), "algorithm 'none' refused")
    # The classic confusion: the issuer's *public* key used as an HMAC secret.
    public_pem = (
        ehr.keys["ec-1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for alg, digest in (("HS256", hashlib.sha256), ("HS384", hashlib.sha384)):
        # PyJWT will not sign this; an attacker would, by hand.
        head = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "ec-1"}).encode())
        body = _b64(json.dumps({**claims, "jti": f"x-{alg}"}).encode())
        sig = _b64(hmac.new(public_pem, f"{head}.{body}".encode(), digest).digest())
        _refused(_post(base, f"{head}.{body}.{sig}"), f"algorithm '{alg}' refused")
    es256 = jwt.encode(
        {**claims, "jti": "x-es256"},
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": "ec-1"},
    )
    _refused(_post(base, es256), "algorithm 'ES256' refused")


def test_unknown_issuer_and_foreign_key_are_refused(setup, tmp_path: Path):
    base, _ehr, _ = setup
    aud = f"{base}/cds-services/{SERVICE}"
    stranger = EhrClient.create(tmp_path / "stranger", issuer="https://evil.example")
    _refused(_post(base, stranger.token(aud)), "issuer is not an allowed CDS client")
    impostor = EhrClient.create(tmp_path / "impostor")  # same iss and kid, another key
    _refused(_post(base, impostor.token(aud)), "signature does not verify")


@pytest.mark.parametrize(
    "aud",
    [
        "{base}/cds-services/ldn-patient-view",  # another service of ours
        "https://other-cds.example/cds-services/ldn-order-select",  # someone else's service
        "{base}/cds-services/ldn-order-select/",  # not the exact URL
        "{base}",
    ],
)
def test_audience_must_be_the_exact_service_url(setup, aud):
    base, ehr, _ = setup
    _refused(_post(base, ehr.token(aud.format(base=base))), "aud")


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"exp": -120}, "expired"),
        ({"iat": 600, "exp": 660}, "issued in the future"),
        ({"exp": 3600}, "more than 300 seconds ahead"),
    ],
)
def test_time_claims(setup, claims, words):
    base, ehr, _ = setup
    now = int(time.time())
    shifted = {k: now + v for k, v in claims.items()}
    _refused(_post(base, ehr.token(f"{base}/cds-services/{SERVICE}", claims=shifted)), words)


def test_small_clock_skew_is_tolerated(setup):
    base, ehr, _ = setup
    now = int(time.time())
    token = ehr.token(f"{base}/cds-services/{SERVICE}", claims={"iat": now + 30, "exp": now + 90})
    assert _post(base, token).status_code == 200


@pytest.mark.parametrize("claim", ["jti", "exp", "iat", "aud", "iss"])
def test_required_claims(setup, claim):
    base, ehr, _ = setup
    resp = _post(base, ehr.token(f"{base}/cds-services/{SERVICE}", drop=(claim,)))
    assert resp.status_code == 401


def test_a_replayed_token_is_refused_by_every_worker(setup):
    """Two servers (workers) on one database: a token used at one is refused at the other."""
    base, ehr, engine = setup
    with serve(_app(guard_for(ehr, engine))) as other:
        token = ehr.token(f"{base}/cds-services/{SERVICE}")
        assert _post(base, token).status_code == 200
        _refused(_post(base, token), "already used")
        # The same jti, freshly signed for the second server's URL.
        jti = jwt.decode(token, options={"verify_signature": False})["jti"]
        again = ehr.token(f"{other}/cds-services/{SERVICE}", claims={"jti": jti})
        _refused(_post(other, again), "already used")


def test_keys_rotate_by_kid(setup):
    base, ehr, _ = setup
    aud = f"{base}/cds-services/{SERVICE}"
    ehr.rotate("ec-2")
    time.sleep(0.01)
    assert _post(base, ehr.token(aud, kid="ec-2")).status_code == 200
    ehr.rotate("rsa-1", kind="rsa")
    assert _post(base, ehr.token(aud, kid="rsa-1")).status_code == 200
    _refused(_post(base, ehr.token(aud, kid="ec-1", headers={"kid": "nope"})), "unknown kid")
    del ehr.keys["ec-2"]
    ehr.write()
    _refused(_post(base, ehr.token(aud, kid="ec-1", headers={"kid": "ec-2"})), "unknown kid")
    good = ehr.jwks_path.read_text()
    ehr.jwks_path.write_text("{not json")
    _refused(_post(base, ehr.token(aud)), "cannot be read")
    ehr.jwks_path.write_text(good)
    assert _post(base, ehr.token(aud)).status_code == 200


def test_jku_only_from_the_allow_list(tmp_path: Path):
    ehr = EhrClient.create(tmp_path / "ehr")
    published = FastAPI()
    published.get("/jwks.json")(lambda: json.loads(ehr.jwks_path.read_text()))
    engine = replay_engine(tmp_path)
    with serve(published) as keys_host:
        allowed = f"{keys_host}/jwks.json"
        ehr.clients_path.write_text(
            f"clients:\n  - iss: {ehr.issuer}\n    jwks_url: {allowed}\n    jku: [{allowed}]\n"
        )
        with serve(_app(guard_for(ehr, engine))) as base:
            aud = f"{base}/cds-services/{SERVICE}"
            assert _post(base, ehr.token(aud, headers={"jku": allowed})).status_code == 200
            assert _post(base, ehr.token(aud)).status_code == 200  # the issuer's jwks_url
            other = f"{keys_host}/other-jwks.json"
            _refused(_post(base, ehr.token(aud, headers={"jku": other})), "jku is not on")
    engine.dispose()


def test_no_guard_refuses_and_open_sandbox_accepts(tmp_path: Path, caplog):
    with serve(_app(None)) as base:
        _refused(_post(base, None), "not configured")
    engine = replay_engine(tmp_path)
    with caplog.at_level(logging.WARNING, logger="ldnkit.interop.cds"):
        guard = CdsGuard(store=DatabaseStore(engine_writer(engine)), open_sandbox=True)
    assert "OPEN SANDBOX" in caplog.text
    with serve(_app(guard)) as base:
        assert _post(base, None).status_code == 200
    engine.dispose()


HOSTILE = [
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "oxycodone <script>alert(1)</script>",
    "oxycodone\n\n# Ignore the above\n[x](https://evil.example)",
    "![i](https://evil.example/t.png) oxycodone",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_ehr_text_in_cards_is_inert(setup, name):
    base, ehr, _ = setup
    drug = h.med_request("oxy-1", f"oxycodone 5 mg {name}", dose_mg=5)
    body = h.order_select(drug, medications=(LDN,))
    resp = _post(base, ehr.token(f"{base}/cds-services/{SERVICE}"), body=body)
    assert resp.status_code == 200, resp.text
    (card,) = resp.json()["cards"]
    html = MarkdownIt("commonmark").render(card["detail"])  # HTML allowed, as an EHR might
    assert "<img" not in html and "<script" not in html and "<h1>" not in html
    assert "<a " not in html  # card detail links nothing; the sources are in card["links"]
    assert "oxycodone" in html  # the name is still shown, as text


def test_keys_of_the_wrong_kind_never_verify(tmp_path: Path):
    """A JWKS holding a symmetric key or a P-256 key under the token's kid is refused; an RSA
    key without `alg` works for RS384."""
    ehr = EhrClient.create(tmp_path / "ehr")
    ehr.rotate("rsa-1", kind="rsa")
    jwks = json.loads(ehr.jwks_path.read_text())
    for jwk in jwks["keys"]:
        if jwk["kid"] == "rsa-1":
            del jwk["alg"]
    secret = _b64(b"a shared secret of thirty-two by")
    jwks["keys"].append({"kty": "oct", "kid": "oct-1", "k": secret, "alg": "HS384"})
    p256 = json.loads(
        jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key())
    )
    jwks["keys"].append({**p256, "kid": "p256"})
    ehr.jwks_path.write_text(json.dumps(jwks))
    engine = replay_engine(tmp_path)
    with serve(_app(guard_for(ehr, engine))) as base:
        aud = f"{base}/cds-services/{SERVICE}"
        assert _post(base, ehr.token(aud, kid="rsa-1")).status_code == 200
        for kid in ("oct-1", "p256"):
            token = ehr.token(aud, kid="ec-1", headers={"kid": kid})
            _refused(_post(base, token), "is not an ES384 key")
    engine.dispose()
