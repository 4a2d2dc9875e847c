"""Abuse limits: rate limits answer 429 with Retry-After, oversized bodies 413, never a 5xx; the
server's log keeps no personal data a shopper typed; and a shop's sign-in cannot be bypassed.

`aisle serve` (subprocess, fake LLM, debug logging so every turn's message is logged) runs with
low limits (AISLE_RATE_PER_SESSION, AISLE_RATE_PER_IP) to reach them quickly; the body limit is
the default (AISLE_MAX_BODY_BYTES, 64 KB). It runs as a shop would: demo sign-in off
(AISLE_DEMO_SIGN_IN=false) and sign-in tokens checked against a secret of this run
(AISLE_SIGNIN_SECRET), so forged, expired and unsigned tokens, email sign-in, the demo customer
list and identifying by email in the chat must all be refused.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

from eval.reliability.base import CategoryResult, Options
from eval.reliability.client import chat

PER_SESSION, PER_IP = 8, 60  # per minute
PERSONAL = {  # what the privacy turn says; none of it may reach the log
    "email": "jane.doe.1987@example.com",
    "street": "742 Evergreen Terrace",
    "zip": "49007",
    "payment": "credit_card_4421337",
}


def run(options: Options) -> CategoryResult:
    import httpx

    from eval.reliability.client import client as client_of
    from eval.reliability.replicas import start_app

    result = CategoryResult(category="limits", tried=0, failures=0)
    log_path = Path(tempfile.gettempdir()) / "aisle-reliability-limits.log"
    secret = secrets.token_hex(32)
    env = {"AISLE_RATE_PER_SESSION": f"{PER_SESSION}/minute", "AISLE_RATE_PER_IP": f"{PER_IP}/minute",
           "AISLE_DEMO_SIGN_IN": "false", "AISLE_SIGNIN_SECRET": secret}  # fmt: skip
    server = start_app(options.stack, "fake", log_path, env=env, log_level="debug")
    try:
        server.wait_ready(900)
        with client_of(server, timeout=60) as client:  # replicas: each request to the next, one shared limit
            _sign_in(client, server, secret, result)
            _privacy(client, result)
            _body_size(client, result)
            _per_session(client, result)
            _per_ip(client, result)
    finally:
        server.stop()
    _log_is_clean(server.logs, result)
    result.notes.append(f"limits: {PER_SESSION}/minute per session, {PER_IP}/minute per address; server log: {log_path}")
    return result


def _expect(result: CategoryResult, case: str, response, status: int, header: str | None = None) -> None:
    result.tried += 1
    if response.status_code >= 500:
        result.fail(f"{case}: HTTP {response.status_code} (a server error)")
    elif response.status_code != status:
        result.fail(f"{case}: HTTP {response.status_code}, expected {status}: {response.text[:100]!r}")
    elif header and header not in response.headers:
        result.fail(f"{case}: no {header} header")
    elif status >= 400 and "detail" not in response.json():
        result.fail(f"{case}: no JSON detail")


def _sign_in(client, server, secret: str, result: CategoryResult) -> None:
    """Only a token signed with the shop's secret, unexpired, naming a customer, signs a conversation in."""
    import jwt

    from retrieval.store import Store

    store = Store(server.db_url)
    user = _a_customer(store)
    now = int(time.time())

    def token(claims: dict, key: str = secret, algorithm: str = "HS256") -> str:
        return jwt.encode(claims, key, algorithm=algorithm)

    _expect(result, "the demo customer list", client.get("/api/users/demo", params={"n": 50}), 404)
    for kind, value in (("email", user.email), ("user_id", user.user_id)):
        _expect(result, f"sign-in by {kind} alone", client.post("/api/sessions", json={"sign_in": {kind: value}}), 403)
    forged = {
        "another secret": token({"sub": user.user_id, "exp": now + 600}, secrets.token_hex(32)),
        "expired": token({"sub": user.user_id, "exp": now - 600}),
        "no expiry": token({"sub": user.user_id}),
        "unsigned (alg none)": token({"sub": user.user_id, "exp": now + 600}, None, "none"),
        "unknown customer": token({"sub": "nobody_at_all_0000", "exp": now + 600}),
        "tampered": token({"sub": user.user_id, "exp": now + 600})[:-3] + "abc",
    }
    for name, bad in forged.items():
        _expect(result, f"{name} token", client.post("/api/sessions", json={"sign_in": {"token": bad}}), 401)
    good = client.post("/api/sessions", json={"sign_in": {"token": token({"sub": user.user_id, "exp": now + 600})}})
    _expect(result, "a valid token", good, 201)
    result.tried += 1
    if good.status_code == 201 and (good.json().get("user") or {}).get("user_id") != user.user_id:
        result.fail("a valid token did not sign its customer in")
    anonymous = client.post("/api/sessions").json()["session_id"]
    turn = chat(client, anonymous, f"my email is {user.email}, show my orders")
    result.tried += 1
    signed = client.get(f"/api/sessions/{anonymous}").json().get("user")
    if not turn.ok or signed is not None:
        result.fail(f"identifying by email in the chat signed in {signed} (demo sign-in is off)")


def _a_customer(store):
    from sqlalchemy import select

    from retrieval.store import tables as t

    with store.session() as s:
        user_id = s.scalars(select(t.User.user_id).order_by(t.User.user_id).limit(1)).one()
    return store.user(user_id)


def _privacy(client, result: CategoryResult) -> None:
    sid = client.post("/api/sessions").json()["session_id"]
    p = PERSONAL
    for message in (f"my email is {p['email']}",
                    f"ship my order to {p['street']}, Springfield, OR {p['zip']} and pay with {p['payment']}"):  # fmt: skip
        turn = chat(client, sid, message)
        result.tried += 1
        if not turn.ok:
            result.fail(f"privacy turn failed: HTTP {turn.status} {(turn.error or turn.text)[:100]!r}")
    client.get("/api/users/demo", params={"n": 1, "contact": p["email"]})  # lands in the access log


def _body_size(client, result: CategoryResult) -> None:
    sid = client.post("/api/sessions").json()["session_id"]
    big = {"session_id": sid, "message": "x" * 7000, "padding": "y" * 70_000}
    _expect(result, "body over 64 KB", client.post("/api/chat", json=big), 413)

    def chunks():  # no content-length: the limit must hold while reading
        for _ in range(20):
            yield b"z" * 8192

    _expect(result, "chunked body over 64 KB", client.post("/api/chat", content=chunks(),
                                                          headers={"content-type": "application/json"}), 413)  # fmt: skip
    _expect(result, "message over 8000 characters", client.post("/api/chat", json={"session_id": sid, "message": "m" * 9000}), 422)


def _per_session(client, result: CategoryResult) -> None:
    sid = client.post("/api/sessions").json()["session_id"]
    statuses = [client.get(f"/api/sessions/{sid}").status_code for _ in range(PER_SESSION)]
    result.tried += 1
    if any(s != 200 for s in statuses):
        result.fail(f"per-session limit refused requests under the limit: {statuses}")
    _expect(result, "per-session limit", client.get(f"/api/sessions/{sid}"), 429, "retry-after")
    other = client.post("/api/sessions").json()["session_id"]
    _expect(result, "another session is not limited", client.get(f"/api/sessions/{other}"), 200)


def _per_ip(client, result: CategoryResult) -> None:
    last = None
    for _ in range(PER_IP + 1):
        last = client.get("/v1/models")
        if last.status_code != 200:
            break
    _expect(result, "per-address limit", last, 429, "retry-after")
    result.tried += 1
    if client.get("/healthz").status_code != 200:
        result.fail("health checks must not be rate limited")


def _log_is_clean(logs: list[Path], result: CategoryResult) -> None:
    """Every app process's log (replicas each logged some of the turns), read as one."""
    text = "\n".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
    for kind, value in PERSONAL.items():
        result.tried += 1
        forms = {value, quote(value), quote_plus(value), value.split("@")[0]}  # as typed, URL-encoded, the mailbox name
        if found := [f for f in forms if f in text]:
            result.fail(f"the log holds the {kind} as {found[0]!r}")
    result.tried += 1
    if "[email]" not in text or "[payment_method]" not in text:  # the turns were logged, and redacted
        result.fail("the privacy turns are not in the debug log at all: the check saw nothing")
