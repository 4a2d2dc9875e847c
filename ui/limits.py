"""Abuse limits on the HTTP API: a request body size limit (413) and rate limits per client
address and per conversation (429 with Retry-After), as one ASGI middleware.

Counting uses the `limits` library's moving window, in the storage AISLE_RATE_LIMIT_STORAGE names:
process memory by default (each `aisle serve` worker counts on its own, so N workers allow N times
the limit), or Redis (`redis://host:6379/0`), shared by every worker and replica, so a limit holds
for the whole shop. If that storage is unreachable, requests are let through and a warning logged:
the limiter going down must not take the shop down with it. Settings: AISLE_RATE_PER_IP,
AISLE_RATE_PER_SESSION, AISLE_RATE_LIMIT_STORAGE, AISLE_MAX_BODY_BYTES (the README's Configuration).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

LIMITED_PREFIXES = ("/api/", "/v1/")  # the Gradio UI at / has its own queue
SESSION_IN_PATH = re.compile(r"^/api/sessions/([^/]{1,64})")
SESSION_HEADER = b"x-aisle-session"


def parse_rate(text: str | None) -> RateLimitItem | None:
    """'60/minute' → the limit; '', '0' or None → no limit. Raises ValueError on nonsense."""
    if not text or text.strip() in ("0", "none", "off"):
        return None
    return parse(text)


def rate_storage(uri: str = "memory://"):
    """The `limits` asyncio storage for a URI (memory://, redis://…): counting never blocks the
    event loop. Redis through redis-py's asyncio client (one Redis client library in the project)."""
    uri = uri.strip() or "memory://"
    options = {"implementation": "redispy"} if uri.startswith(("redis", "rediss")) else {}
    return storage_from_string(uri if uri.startswith("async+") else f"async+{uri}", **options)


class AbuseLimits:
    """ASGI middleware: body size first (cheap), then the per-address and per-session rates."""

    def __init__(self, app: ASGIApp, per_ip: str | None = None, per_session: str | None = None, max_body_bytes: int = 0,
                 storage: str = "memory://") -> None:  # fmt: skip
        self.app = app
        self.per_ip = parse_rate(per_ip)
        self.per_session = parse_rate(per_session)
        self.max_body = max_body_bytes
        self.limiter = MovingWindowRateLimiter(rate_storage(storage))
        self._warned_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if self.max_body and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(send)
            return
        body, more = b"", True
        while more:  # read it all now (bounded): chunked bodies have no content-length to trust
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if self.max_body and len(body) > self.max_body:
                await self._too_large(send)
                return
        client = (scope.get("client") or ("unknown", 0))[0]
        checks = [(self.per_ip, f"ip:{client}", "this address")]
        if self.per_session is not None and (sid := _session_id(scope, headers, body)):
            checks.append((self.per_session, f"session:{sid}", "this conversation"))
        for item, key, who in checks:
            if item is not None and not await self._hit(item, key):
                reset = (await self.limiter.get_window_stats(item, key)).reset_time
                await _json(send, 429, f"too many requests from {who} (limit {item}); try again later",
                            [(b"retry-after", str(max(1, math.ceil(reset - time.time()))).encode())])  # fmt: skip
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)

    async def _hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one request; True if under the limit. An unreachable storage lets it through."""
        try:
            return await self.limiter.hit(item, key)
        except Exception as exc:  # the storage's client raises its own connection errors
            if time.monotonic() - self._warned_at > 60:  # once a minute, not once a request
                self._warned_at = time.monotonic()
                log.warning("rate-limit storage unavailable (%s); requests are not being limited", type(exc).__name__)
            return True

    async def _too_large(self, send: Send) -> None:
        await _json(send, 413, f"the request body is larger than {self.max_body} bytes")


def _session_id(scope: Scope, headers: dict[bytes, bytes], body: bytes) -> str | None:
    """The conversation a request belongs to: path, query, header, or the JSON body's session_id/user."""
    if m := SESSION_IN_PATH.match(scope["path"]):
        return m.group(1)
    query = scope.get("query_string", b"").decode("latin-1")
    if m := re.search(r"(?:^|&)session_id=([^&]{1,64})", query):
        return m.group(1)
    if SESSION_HEADER in headers:
        return headers[SESSION_HEADER].decode("latin-1")[:64]
    if body and (b'"session_id"' in body or b'"user"' in body):
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if isinstance(data, dict):
            sid = data.get("session_id") or data.get("user")
            return sid[:64] if isinstance(sid, str) else None
    return None


async def _json(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
