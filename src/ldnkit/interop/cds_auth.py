"""Who may call the CDS services: the CDS Hooks 2.0 client JWT, checked with PyJWT.

The specification has the CDS client (the EHR) sign a short-lived JWT for every call and send
it as `Authorization: Bearer <jwt>`. This module checks it:

- the algorithm is ES384 or RS384 (the two the specification names); `none`, the HMAC family
  and anything else is refused before any key is looked at, so a public key can never be
  used as an HMAC secret;
- `iss` is on the allow-list (`CdsClients`), which says where that issuer's public keys are:
  a JWKS file, a JWKS URL, and optionally the `jku` URLs the issuer may point to (a `jku`
  header not on that issuer's list is refused, never fetched);
- the key is picked by `kid`, so an issuer can rotate keys (a file is re-read when it
  changes, a URL is fetched again when an unknown `kid` appears);
- `aud` equals the exact URL of the service called; `exp`, `iat` and `jti` are required, the
  token may live at most five minutes, and clocks may differ by `leeway` seconds;
- the `jti` is claimed in a store every server process shares (the database), so a replayed
  token is refused wherever it lands.

All cryptography is PyJWT's (with `cryptography`); this module only decides what to ask it.
The checks are a pure function of the token, the allow-list, the replay store and the URL;
the HTTP shell (`ldnkit.web.routes.cds_hooks`) supplies those.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt
import yaml
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

log = logging.getLogger("ldnkit.interop.cds")

#: The algorithms CDS Hooks 2.0 names for the client JWT.
ALGORITHMS = ("ES384", "RS384")
#: The specification: "exp ... MUST NOT be more than 5 minutes in the future".
MAX_LIFETIME_S = 300
DEFAULT_LEEWAY_S = 60
_MAX_TOKEN_CHARS = 8192


class CdsAuthError(Exception):
    """The call is not authenticated; `reason` says why (safe to send back)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ReplayStore(Protocol):
    """Remembers token ids until they expire, across every server process."""

    def claim(self, issuer: str, jti: str, expires_at: dt.datetime) -> bool:
        """True the first time (issuer, jti) is seen; False for a replay."""
        ...


@dataclass
class TrustedIssuer:
    """One CDS client (EHR) and where its public keys are."""

    iss: str
    jwks_file: Path | None = None
    jwks_url: str | None = None
    jku: tuple[str, ...] = ()
    _file_keys: tuple[float, jwt.PyJWKSet] | None = field(default=None, repr=False)
    _clients: dict[str, jwt.PyJWKClient] = field(default_factory=dict, repr=False)

    def _from_file(self, kid: str | None) -> jwt.PyJWK:
        assert self.jwks_file is not None
        mtime = self.jwks_file.stat().st_mtime
        if self._file_keys is None or self._file_keys[0] != mtime:
            data = json.loads(self.jwks_file.read_text())
            self._file_keys = (mtime, jwt.PyJWKSet.from_dict(data))
        return _pick(self._file_keys[1].keys, kid)

    def _from_url(self, url: str, kid: str | None, token: str) -> jwt.PyJWK:
        client = self._clients.get(url)
        if client is None:
            client = self._clients[url] = jwt.PyJWKClient(url, cache_keys=True, timeout=5)
        try:
            if kid is None:
                return _pick(client.get_signing_keys(), None)
            return client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            raise CdsAuthError(f"no usable key at the issuer's JWKS ({exc})") from None

    def key_for(self, header: Mapping[str, Any], token: str) -> jwt.PyJWK:
        """The issuer's public key this token names (by `kid`, through an allowed `jku`)."""
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise CdsAuthError("kid must be a string")
        jku = header.get("jku")
        if jku is not None:
            if jku not in self.jku:
                raise CdsAuthError("jku is not on this issuer's allow-list")
            return self._from_url(jku, kid, token)
        if self.jwks_file is not None:
            try:
                return self._from_file(kid)
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                log.error("CDS client key set %s unreadable: %s", self.jwks_file, exc)
                raise CdsAuthError("the issuer's key set cannot be read on this server") from None
        if self.jwks_url is not None:
            return self._from_url(self.jwks_url, kid, token)
        raise CdsAuthError("no key set configured for this issuer")


def _pick(keys: Sequence[jwt.PyJWK], kid: str | None) -> jwt.PyJWK:
    if kid is None:
        if len(keys) == 1:
            return keys[0]
        raise CdsAuthError("token has no kid and the issuer has several keys")
    for key in keys:
        if key.key_id == kid:
            return key
    raise CdsAuthError("unknown kid for this issuer")


def _for_algorithm(key: jwt.PyJWK, alg: str) -> jwt.PyJWK:
    """The key, usable only with the token's (allowed) algorithm.

    PyJWT verifies with the algorithm the JWK names, so a key set holding, say, a symmetric
    `oct` key or a P-256 key must never verify a token that says ES384/RS384. An RSA public
    key is the same key whatever RSA algorithm its JWK names (PyJWT assumes RS256 when it names
    none), so it is rebuilt for RS384.
    """
    if key.algorithm_name == alg:
        return key
    if alg == "RS384" and isinstance(key.key, RSAPublicKey):
        return jwt.PyJWK(key.Algorithm.to_jwk(key.key, as_dict=True), algorithm="RS384")
    raise CdsAuthError(f"the key for this kid is not an {alg} key")


@dataclass
class CdsClients:
    """The allow-list of CDS clients: issuer -> key source."""

    issuers: dict[str, TrustedIssuer] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path) -> CdsClients:
        """Read the allow-list (YAML or JSON); relative key file paths are beside it.

        clients:
          - iss: https://ehr.example.org
            jwks_file: ehr-jwks.json          # or jwks_url: https://...
            jku: [https://ehr.example.org/jwks.json]   # optional
        """
        path = Path(path)
        data = yaml.safe_load(path.read_text()) or {}
        issuers: dict[str, TrustedIssuer] = {}
        for i, entry in enumerate(data.get("clients") or []):
            where = f"{path}: clients[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("iss"), str):
                raise ValueError(f"{where}: needs an 'iss' string")
            file = entry.get("jwks_file")
            url = entry.get("jwks_url")
            if not file and not url:
                raise ValueError(f"{where}: needs 'jwks_file' or 'jwks_url'")
            jwks_file = (path.parent / file).resolve() if file else None
            if jwks_file is not None and not jwks_file.is_file():
                raise ValueError(f"{where}: jwks_file {jwks_file} not found")
            issuers[entry["iss"]] = TrustedIssuer(
                iss=entry["iss"],
                jwks_file=jwks_file,
                jwks_url=url,
                jku=tuple(entry.get("jku") or ()),
            )
        return cls(issuers)


@dataclass(frozen=True)
class CdsClaims:
    """What a verified call says about its caller."""

    iss: str
    sub: str | None
    jti: str
    expires_at: dt.datetime


class CdsVerifier:
    """Checks the Authorization header of one CDS service call."""

    def __init__(
        self,
        clients: CdsClients,
        replay: ReplayStore,
        *,
        leeway: int = DEFAULT_LEEWAY_S,
    ) -> None:
        self.clients = clients
        self.replay = replay
        self.leeway = leeway

    def verify(self, authorization: str | None, audiences: Sequence[str]) -> CdsClaims:
        """The caller's claims, or CdsAuthError saying what is wrong."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise CdsAuthError("send the CDS client JWT as 'Authorization: Bearer <jwt>'")
        if len(token) > _MAX_TOKEN_CHARS:
            raise CdsAuthError("token too long")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise CdsAuthError("not a JWT") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise CdsAuthError(f"algorithm {str(alg)[:16]!r} refused; use ES384 or RS384")
        iss = unverified.get("iss")
        issuer = self.clients.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise CdsAuthError("issuer is not an allowed CDS client")
        key = _for_algorithm(issuer.key_for(header, token), alg)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=list(audiences),
                issuer=iss,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "exp", "iat", "jti"], "strict_aud": False},
            )
        except jwt.InvalidAudienceError:
            raise CdsAuthError("aud is not this service's URL") from None
        except jwt.ExpiredSignatureError:
            raise CdsAuthError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise CdsAuthError("token issued in the future") from None
        except jwt.MissingRequiredClaimError as exc:
            raise CdsAuthError(f"claim {exc.claim!r} required") from None
        except jwt.InvalidSignatureError:
            raise CdsAuthError("signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise CdsAuthError(f"invalid token ({exc.__class__.__name__})") from None
        jti, exp, iat = claims["jti"], claims["exp"], claims["iat"]
        if not isinstance(jti, str) or not 0 < len(jti) <= 255:
            raise CdsAuthError("jti must be a string of 1-255 characters")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise CdsAuthError("exp and iat must be numbers")
        if exp - dt.datetime.now(dt.UTC).timestamp() > MAX_LIFETIME_S + self.leeway:
            raise CdsAuthError(f"exp more than {MAX_LIFETIME_S} seconds ahead")
        expires_at = dt.datetime.fromtimestamp(exp, dt.UTC)
        if not self.replay.claim(iss, jti, expires_at):
            raise CdsAuthError("token already used (jti replay)")
        sub = claims.get("sub")
        return CdsClaims(iss, sub if isinstance(sub, str) else None, jti, expires_at)


__all__ = [
    "ALGORITHMS",
    "MAX_LIFETIME_S",
    "CdsAuthError",
    "CdsClaims",
    "CdsClients",
    "CdsVerifier",
    "ReplayStore",
    "TrustedIssuer",
]
