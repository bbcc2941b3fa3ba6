"""A test EHR for the CDS Hooks routes: generated keys, its JWKS and allow-list files, and an
httpx auth that signs every request the way the CDS Hooks 2.0 specification asks (a fresh
ES384 JWT with `aud` = the URL called, `jti`, `iat`, `exp`)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import Engine

from ldnkit.interop.cds_auth import CdsClients, CdsVerifier
from ldnkit.store import create_store_engine, upgrade
from ldnkit.web.routes.cds_hooks import CdsGuard, DatabaseStore, engine_writer

ISSUER = "https://ehr.test.example"


@dataclass
class EhrClient:
    """One CDS client: private keys by kid, and the files the server is configured with."""

    directory: Path
    keys: dict[str, Any]
    issuer: str = ISSUER

    @classmethod
    def create(cls, directory: Path, issuer: str = ISSUER) -> EhrClient:
        directory.mkdir(parents=True, exist_ok=True)
        ehr = cls(directory, {"ec-1": ec.generate_private_key(ec.SECP384R1())}, issuer)
        ehr.write()
        return ehr

    @property
    def jwks_path(self) -> Path:
        return self.directory / "ehr-jwks.json"

    @property
    def clients_path(self) -> Path:
        return self.directory / "cds-clients.yaml"

    def write(self) -> None:
        """Publish the public keys (JWKS) and the allow-list naming this issuer."""
        jwks = []
        for kid, key in self.keys.items():
            algo = ECAlgorithm if isinstance(key, ec.EllipticCurvePrivateKey) else RSAAlgorithm
            jwk = json.loads(algo.to_jwk(key.public_key()))
            jwk.update(kid=kid, use="sig")
            jwk["alg"] = "ES384" if algo is ECAlgorithm else "RS384"
            jwks.append(jwk)
        self.jwks_path.write_text(json.dumps({"keys": jwks}))
        self.clients_path.write_text(
            f"clients:\n  - iss: {self.issuer}\n    jwks_file: {self.jwks_path.name}\n"
        )

    def rotate(self, kid: str, kind: str = "ec") -> None:
        """Add a new key (the old ones stay published until removed)."""
        self.keys[kid] = (
            ec.generate_private_key(ec.SECP384R1())
            if kind == "ec"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        self.write()

    def token(
        self,
        aud: str,
        *,
        kid: str | None = None,
        claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        kid = kid or next(iter(self.keys))
        key = self.keys[kid]
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "ehr-client-1",
            "aud": aud,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
            **(claims or {}),
        }
        for name in drop:
            payload.pop(name, None)
        alg = "ES384" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS384"
        return jwt.encode(
            payload, key, algorithm=alg, headers={"kid": kid, "typ": "JWT", **(headers or {})}
        )

    def auth(self) -> httpx.Auth:
        return _SignEach(self)


class _SignEach(httpx.Auth):
    """Signs each request for the exact URL it goes to (query string left out)."""

    def __init__(self, ehr: EhrClient) -> None:
        self.ehr = ehr

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = str(request.url.copy_with(query=None))
        request.headers["Authorization"] = f"Bearer {self.ehr.token(url)}"
        yield request


def replay_engine(directory: Path) -> Engine:
    """A migrated SQLite database for the token ids and feedback."""
    engine = create_store_engine(f"sqlite:///{directory / 'cds.db'}")
    upgrade(engine)
    return engine


def guard_for(ehr: EhrClient, engine: Engine, **kwargs: Any) -> CdsGuard:
    """The guard a bare test app puts in `app.state.cds_guard`."""
    store = DatabaseStore(engine_writer(engine))
    verifier = CdsVerifier(CdsClients.from_file(ehr.clients_path), store)
    return CdsGuard(store=store, verifier=verifier, **kwargs)


__all__ = ["ISSUER", "EhrClient", "guard_for", "replay_engine"]
