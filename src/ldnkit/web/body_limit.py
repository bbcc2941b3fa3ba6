"""Bounded request bodies, enforced at the ASGI layer before any route reads a byte.

Why here and not in the routes: a route that calls `await request.body()` and then checks the
length has already held the whole body in memory (a 300 MB post to the CDS service took the
server from 202 MB to 1.1 GB), and FastAPI reads a JSON body for pydantic before the handler
runs. This middleware looks up the limit for the request's route class, refuses a declared
`Content-Length` above it at once (413, the body never read), counts a streamed (chunked)
body as it arrives and stops at the limit (413), and hands the route the body it collected.
Bodies that look like JSON also get their nesting checked (`ldnkit.jsonbounds`) so that no
parser downstream can hit `RecursionError` (400). NUL characters are refused wherever a request
can carry text (path, query, JSON and form bodies; 400): no clinical text needs them, and
PostgreSQL cannot store them, so one that slipped past a model would otherwise be a 500. When
the body parses (JSON, form) the answer is the app's 422 naming the field; otherwise 400.

Every refusal is a small JSON object `{"error": ..., "reason": ..., "limit": ...}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ldnkit.jsonbounds import MAX_DEPTH, JsonInvalid, JsonTooDeep, json_depth, loads


@dataclass(frozen=True)
class BodyRule:
    """Requests whose path matches `pattern` (a regular expression, anchored at the start)
    may carry at most `max_bytes`."""

    pattern: str
    max_bytes: int
    name: str = ""


class _TooLarge(Exception):
    pass


_JSONISH = re.compile(rb"^\s*[\[{]")


def _is_json(content_type: str, body: bytes) -> bool:
    """JSON by its declared type, or any body that starts like a JSON array or object
    (the CDS Hooks and FHIR routes parse the raw body whatever the header says)."""
    if "json" in content_type:
        return True
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
        return False
    return bool(_JSONISH.match(body[:64]))


_NUL_REASON = "NUL characters (\\u0000, %00) are not accepted"


def _has_nul(content_type: str, body: bytes) -> bool:
    if content_type.startswith("multipart/"):
        return False  # parts are checked by the form's own fields
    if b"\x00" in body or (b"%00" in body and "urlencoded" in content_type):
        return True
    return b"\\u0000" in body


class BodyLimit:
    """Pure ASGI middleware: a size limit per route class and a JSON nesting limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rules: Sequence[BodyRule] = (),
        default_bytes: int = 256 * 1024,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.app = app
        self.rules = [(re.compile(r.pattern), r) for r in rules]
        self.default_bytes = default_bytes
        self.max_depth = max_depth

    def limit_for(self, path: str) -> int:
        """The byte limit of the first rule whose pattern matches `path`, else the default."""
        for regex, rule in self.rules:
            if regex.match(path):
                return rule.max_bytes
        return self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _refuse(send, 400, "bad_request", _NUL_REASON, limit)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _refuse(send, 400, "bad_request", "Content-Length is not a number", limit)
                return
            if size > limit:
                await _refuse(send, 413, "payload_too_large", _too_large(limit), limit)
                return
        try:
            body, disconnected = await _collect(receive, limit)
        except _TooLarge:
            await _refuse(send, 413, "payload_too_large", _too_large(limit), limit)
            return
        if disconnected:
            return
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if body and _has_nul(content_type, body):
            where = _nul_field(content_type, body)
            if where is None:
                await _refuse(send, 400, "bad_request", _NUL_REASON, limit)
            else:
                await _refuse_field(send, where, "contains a NUL character")
            return
        if body and _is_json(content_type, body):
            depth = json_depth(body)
            if depth > self.max_depth:
                reason = f"JSON nested {depth} levels deep; at most {self.max_depth} are accepted"
                await _refuse(send, 400, "too_deep", reason, limit)
                return
        await self.app(scope, _replay(body, receive), send)


def _nul_field(content_type: str, body: bytes) -> str | None:
    """The field path holding the NUL, when the body parses (JSON or form), else None."""
    from urllib.parse import parse_qsl

    from ldnkit.web.schemas import _nul_path

    if "urlencoded" in content_type:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        return next((k.replace("\x00", "") or "(body)" for k, v in pairs if "\x00" in k + v), None)
    try:
        return _nul_path(loads(body), "")
    except (JsonInvalid, JsonTooDeep):
        return None


async def _refuse_field(send: Send, field: str, reason: str) -> None:
    """422 shaped like the app's own validation errors (field path and reason)."""
    payload = json.dumps(
        {
            "error": f"{field}: {reason}",
            "field": field,
            "reason": reason,
            "detail": [{"loc": field.split("."), "msg": reason, "type": "ldnkit.validation"}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes; this route accepts at most {limit}"


async def _collect(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, refusing (`_TooLarge`) as soon as more than `limit` bytes arrived."""
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over the collected body once, then waits for the disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, error: str, reason: str, limit: int) -> None:
    payload = json.dumps({"error": error, "reason": reason, "limit": limit}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


__all__ = ["BodyLimit", "BodyRule"]
