"""Category "bad_input": hard and generated input against the chat, the HTTP API and the widget's calls.

Cases come from fixed hard inputs (eval/data/reliability/bad_inputs.json) and hypothesis
strategies drawn with a fixed seed (`--seed`), so a run is repeatable. Three surfaces:

1. chat: the assistant itself, as every surface calls it (sessions from the database, then
   `Assistant.respond`): empty, whitespace, 1 MB, control characters, lone surrogates, absurd
   prices, other people's order ids, non-strings, unknown and expired sessions;
2. http: `aisle serve` in a subprocess on 127.0.0.1, over real HTTP (so invalid UTF-8 and
   malformed JSON reach the server byte for byte): every /api and /v1 route with wrong types,
   NaN and 10^40, huge k, oversized bodies and fields, unknown session ids;
3. widget: the calls ui/static/widget.js makes (/api/sessions, /api/chat, /api/feedback) with the
   Origin header of the shop's page, of other sites, and odd ones.

Rules per case: the API answers 4xx with a JSON `detail` message where the input is wrong (never
5xx, never a traceback in the body); the chat answers with a polite non-empty reply (no exception,
no traceback, no "something went wrong"); requests from origins not allowed are refused; and
the customer tables (users, payment methods, orders, items, payments, profiles) are unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from tqdm import tqdm

from eval.reliability.base import CategoryResult, Options
from eval.reliability.digest import changes, digest
from eval.reliability.sandbox import Sandbox, app_server

DATA = Path(__file__).resolve().parents[1] / "data" / "reliability" / "bad_inputs.json"
ALLOWED_ORIGIN = "http://shop.example"
SIGNED_IN_EMAIL = "noah.brown7922@example.com"  # a demo customer with orders
# Text that must never reach a shopper or a client: a traceback, or the chat's "it crashed" apology.
BROKEN_MARKS = ("Traceback (most recent call last)", 'File "/', "something went wrong on our side")
# Bytes that are not UTF-8: a stray continuation byte, an overlong '/', an encoded surrogate, 5-byte form, 0xFF.
BAD_UTF8 = (b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xff\xfe", b"\xc3\x28")
COUNTS = {False: {"chat": 90, "http": 150, "widget": 40}, True: {"chat": 14, "http": 20, "widget": 8}}

Surface = Literal["chat", "http", "widget"]
PLACEHOLDERS = ("@session@", "@signed@", "@unknown@", "@expired@")  # session ids made when a case runs


@dataclass(frozen=True)
class Case:
    surface: Surface
    name: str
    message: Any = None  # chat: what the shopper sends (not always a str)
    session: str = "@session@"  # chat: @session@ | @signed@ | @unknown@ | @expired@
    method: str = "POST"
    path: str = "/api/chat"  # http/widget; placeholders as in `body`
    body: bytes | None = None  # http/widget: the raw body; @session@, @signed@, … become real ids
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    must_refuse: bool = False  # only a 4xx is right
    own_writes: tuple[str, ...] = ()  # tables a valid request may change for its signed-in customer

    def label(self) -> str:
        return f"{self.surface} {self.method} {self.path} {self.name}"[:200]


# -- generation -------------------------------------------------------------------------------


def load_data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def draw(strategy: st.SearchStrategy, n: int, seed: int) -> list:
    """n values of `strategy`, the same for the same seed (hypothesis driven as a generator)."""
    drawn: list = []

    @hypothesis_seed(seed)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(value) -> None:
        if len(drawn) < n:
            drawn.append(value)

    collect()
    return drawn


def _encode(obj: Any, ascii_only: bool) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity literals, lone surrogates as escapes
    (ascii_only) or as raw surrogate bytes (not valid UTF-8)."""
    return json.dumps(obj, allow_nan=True, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}…({len(text)} chars)"


def strategies(data: dict) -> dict[str, st.SearchStrategy]:
    numbers = st.one_of(
        st.integers(-(10**40), 10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([-5, -0.0, 10**30, -(10**30), 1e308, 5e-324]),
    )
    texts = st.one_of(
        st.sampled_from(data["messages"]),
        st.text(max_size=300),
        # control and format characters, lone surrogates, private use, line/paragraph separators
        st.text(st.characters(categories=["Cc", "Cf", "Cs", "Co", "Zl", "Zp"]), min_size=1, max_size=60),
        st.builds(lambda s, n: s * n, st.sampled_from(["a", "鞋", "\x00", "🙂", "#W2378156 ", "yes "]),
                  st.sampled_from([4001, 8001, 70_000, 1_000_000])),  # fmt: skip
        st.builds(lambda tpl, x: tpl.format(x), st.sampled_from(["shoes under ${}", "show me {} laptops",
                  "a kettle between {} and 5 dollars", "鞋子 {} 元以下"]), numbers),  # fmt: skip
    )
    json_values = st.recursive(
        st.none() | st.booleans() | numbers | st.text(max_size=40),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=12,
    )
    sessions = st.sampled_from(["@session@", "@signed@", "@unknown@", "@expired@", *data["session_ids"]])
    return {"numbers": numbers, "texts": texts, "json": json_values, "sessions": sessions}


def chat_cases(data: dict, n: int, seed: int) -> list[Case]:
    s = strategies(data)
    fixed = [
        Case("chat", "message None", message=None),
        Case("chat", "message int", message=12345),
        Case("chat", "message bytes", message=b"\xff\xfe shoes"),
        Case("chat", "message list", message=["where", "is", "my", "order"]),
        Case("chat", "unknown session", message="hello", session="@unknown@"),
        Case("chat", "expired session", message="hello", session="@expired@"),
        Case("chat", "another customer's order", message="where is order #W4316152?", session="@signed@"),
        Case("chat", "cancel another customer's order", message="cancel #W9300146, ordered by mistake", session="@signed@"),
    ]
    generated = draw(st.tuples(s["texts"], st.sampled_from(["@session@", "@signed@"])), max(0, n - len(fixed)), seed)
    return fixed[:n] + [Case("chat", _short(m), message=m, session=sess) for m, sess in generated]


def http_cases(data: dict, n: int, seed: int) -> list[Case]:
    s = strategies(data)
    enc = st.booleans()  # ASCII-escaped JSON, or raw (possibly invalid) UTF-8

    def body(path: str, must_refuse: bool = False, method: str = "POST", own_writes: tuple[str, ...] = ()):
        return lambda obj, ascii_only: Case("http", _short(obj), method=method, path=path, body=_encode(obj, ascii_only),
                                            must_refuse=must_refuse, own_writes=own_writes)  # fmt: skip

    chat = st.builds(body("/api/chat"), st.fixed_dictionaries(
        {"session_id": s["sessions"], "message": s["texts"]}, optional={"stream": s["json"]}), enc)  # fmt: skip
    wrong_types = st.builds(body("/api/chat", must_refuse=True), st.fixed_dictionaries(
        {"session_id": s["json"], "message": s["json"]}), enc)  # fmt: skip
    search = st.builds(body("/api/products/search"), st.fixed_dictionaries({"query": s["texts"]}, optional={
        "k": s["numbers"], "min_price": s["numbers"], "max_price": s["numbers"], "options": s["json"],
        "in_stock": s["json"], "exclude_item_ids": s["json"], "brand": s["json"]}), enc)  # fmt: skip
    huge_k = st.builds(body("/api/products/search", must_refuse=True), st.fixed_dictionaries({
        "query": st.just("shoes"), "k": st.integers(max_value=0) | st.integers(min_value=101)}), enc)  # fmt: skip
    feedback = st.builds(body("/api/feedback"), st.fixed_dictionaries(
        {"session_id": s["sessions"], "kind": st.sampled_from(["like", "dislike", "not_interested", "not_brand",
                                                              "not_category", "love", "", "LIKE"])},
        optional={"item_id": s["texts"], "brand": s["texts"], "category": s["json"], "extra": s["json"]}), enc)  # fmt: skip
    big_feedback = st.builds(body("/api/feedback", must_refuse=True), st.fixed_dictionaries({
        "session_id": st.just("@session@"), "kind": st.just("like"),
        "item_id": st.sampled_from([129, 10_000, 1_000_000]).map(lambda k: "9" * k)}), enc)  # fmt: skip
    profile = st.builds(body("/api/profile?session_id=@signed@", method="PATCH", own_writes=("user_profiles",)),
                        st.fixed_dictionaries({}, optional={
        "price_band": st.fixed_dictionaries({"low": s["numbers"], "high": s["numbers"]}) | s["json"],
        "brands": st.lists(s["texts"], max_size=5), "colours": s["json"], "nickname": s["json"]}), enc)  # fmt: skip
    openai = st.builds(body("/v1/chat/completions"), st.fixed_dictionaries({"messages": st.lists(
        st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant", "tool", "hacker"]),
                               "content": s["texts"] | st.lists(st.dictionaries(
                                   st.sampled_from(["type", "text", "image_url"]), s["json"]), max_size=3) | s["json"]}),
        max_size=3)}, optional={"user": s["sessions"], "stream": s["json"], "model": s["json"]}), enc)  # fmt: skip
    raw = st.builds(lambda b, path: Case("http", f"raw {_short(b)}", path=path, body=b, must_refuse=True),
                    st.binary(max_size=200), st.sampled_from(["/api/chat", "/api/feedback", "/api/products/search",
                                                             "/v1/chat/completions", "/api/sessions/@session@/signin"]))  # fmt: skip
    malformed = st.builds(lambda text, path: Case("http", f"malformed {_short(text)}", path=path, body=text.encode(),
                                                  must_refuse=True),
                          st.sampled_from(data["malformed_json"]), st.sampled_from(["/api/chat", "/api/feedback",
                                                                                   "/api/products/search"]))  # fmt: skip
    bad_utf8 = st.builds(
        lambda bad, path: Case("http", f"invalid UTF-8 {bad!r}", path=path, must_refuse=True,
                               body=b'{"session_id": "@session@", "message": "shoes ' + bad + b'", "query": "x"}'),
        st.sampled_from(BAD_UTF8), st.sampled_from(["/api/chat", "/api/products/search"]))  # fmt: skip
    session_ops = st.builds(
        lambda sid, op: Case("http", f"{op[0]} unknown session {_short(sid)}", method=op[0],
                             path=op[1].format(sid if sid in PLACEHOLDERS else quote(sid, safe="")), body=op[2],
                             must_refuse=True),
        st.sampled_from(["@unknown@", "@expired@", *data["session_ids"]]) | st.text(min_size=1, max_size=80),
        st.sampled_from([("GET", "/api/sessions/{}", None), ("DELETE", "/api/sessions/{}", None),
                         ("POST", "/api/sessions/{}/signin", b'{"email": "noah.brown7922@example.com"}'),
                         ("POST", "/api/sessions/{}/signout", None), ("GET", "/api/profile?session_id={}", None),
                         ("DELETE", "/api/profile?session_id={}", None)]))  # fmt: skip
    sign_in = st.builds(body("/api/sessions/@session@/signin"), st.fixed_dictionaries({}, optional={
        "email": s["texts"], "user_id": s["json"], "password": s["json"]}), enc)  # fmt: skip
    every = st.one_of(chat, wrong_types, search, huge_k, feedback, big_feedback, profile, openai, raw, malformed,
                      bad_utf8, session_ops, sign_in)  # fmt: skip
    return draw(every, n, seed)


def widget_cases(data: dict, n: int, seed: int) -> list[Case]:
    s = strategies(data)

    def make(origin: str, call: str, message: str) -> Case:
        path, obj = {
            "session": ("/api/sessions", None),
            "chat": ("/api/chat", {"session_id": "@session@", "message": message}),
            "feedback": ("/api/feedback", {"session_id": "@session@", "kind": "dislike", "item_id": message[:200]}),
        }[call]
        headers = (("Content-Type", "application/json"), ("Origin", origin))
        return Case("widget", f"from {origin}: {_short(message)}", path=path, headers=headers,
                    body=None if obj is None else _encode(obj, True), must_refuse=origin != ALLOWED_ORIGIN)  # fmt: skip

    origins = st.sampled_from([ALLOWED_ORIGIN, ALLOWED_ORIGIN, *data["origins"]])
    return draw(st.builds(make, origins, st.sampled_from(["session", "chat", "chat", "feedback"]), s["texts"]), n, seed)


def generate(seed: int = 0, quick: bool = False) -> list[Case]:
    data, counts = load_data(), COUNTS[quick]
    return (chat_cases(data, counts["chat"], seed) + http_cases(data, counts["http"], seed + 1)
            + widget_cases(data, counts["widget"], seed + 2))  # fmt: skip


# -- checking ---------------------------------------------------------------------------------


def check_chat(case: Case, sandbox_store, assistant) -> str | None:
    """One chat case as every surface runs a turn: load the session, respond, save. None = passed."""
    from assistant.sessions import SessionNotFound, SessionStore

    sessions = SessionStore(sandbox_store)
    session_id = _session_id(case.session, sessions, sandbox_store)
    try:
        state, version = sessions.load(session_id)
    except SessionNotFound:
        return None if case.session in ("@unknown@", "@expired@") else "its own session was not found"
    if case.session in ("@unknown@", "@expired@"):
        return f"a {case.session.strip('@')} session was accepted"
    try:
        events = list(assistant.respond(state, case.message))
        sessions.save(state, version)
    except Exception as exc:  # the rule: a shopper never sees an exception
        return f"raised {type(exc).__name__}: {str(exc)[:120]}"
    text = "".join(e.text for e in events if e.kind in ("text", "handoff"))
    if not text.strip():
        return "empty reply"
    if mark := next((m for m in BROKEN_MARKS if m in text), None):
        return f"reply shows {mark!r}"
    return None


def _session_id(ref: str, sessions, store, signed_in_user: str | None = None) -> str:
    """A real id for a placeholder: a new anonymous or signed-in session, an unknown or an expired one."""
    from sqlalchemy import update

    from retrieval.store import tables as t

    if ref == "@unknown@":
        return f"unknown-{uuid.uuid4().hex[:12]}"
    user_id = None
    if ref == "@signed@":
        user_id = signed_in_user or store.user_by_email(SIGNED_IN_EMAIL).user_id
    state = sessions.create(user_id=user_id)
    if ref == "@expired@":
        with store.session() as s:
            s.execute(update(t.ChatSessionRow).where(t.ChatSessionRow.session_id == state.session_id)
                      .values(updated_at=t.utcnow() - sessions.ttl - timedelta(days=1)))  # fmt: skip
    return state.session_id


def check_response(case: Case, status: int, content_type: str, body: bytes) -> str | None:
    """The HTTP rules for one answer. None = passed."""
    text = body.decode("utf-8", "replace")
    if status >= 500:
        return f"{status}: {text[:100]}"
    if mark := next((m for m in BROKEN_MARKS if m in text), None):
        return f"{status} with {mark!r} in the body"
    if case.must_refuse and not 400 <= status < 500:
        return f"expected a 4xx, got {status}"
    if status >= 400:
        try:
            detail = json.loads(text)["detail"]
        except (ValueError, KeyError, TypeError):
            return f"{status} without a JSON detail message: {text[:80]!r}"
        if not detail:
            return f"{status} with an empty detail"
    elif "application/json" in content_type:
        try:
            json.loads(text)
        except ValueError:
            return f"{status} with a body that is not JSON"
    elif "text/event-stream" in content_type and "event: done" not in text and "[DONE]" not in text:
        return f"{status}: the event stream did not finish"
    return None


def check_http(case: Case, client, store) -> str | None:
    """Send one case (client: an httpx.Client or a TestClient with the app's base URL)."""
    from assistant.sessions import SessionStore

    sessions = SessionStore(store)
    ids: dict[str, str] = {}

    def fill(raw: bytes) -> bytes:
        for ref in PLACEHOLDERS:
            if ref.encode() in raw:
                ids.setdefault(ref, _session_id(ref, sessions, store))
                raw = raw.replace(ref.encode(), ids[ref].encode())
        return raw

    path = fill(case.path.encode()).decode()
    body = fill(case.body) if case.body is not None else None
    try:
        response = client.request(case.method, path, content=body, headers=dict(case.headers))
    except Exception as exc:  # the server hung up or timed out: as bad as a 5xx
        return f"no answer: {type(exc).__name__}: {str(exc)[:100]}"
    problem = check_response(case, response.status_code, response.headers.get("content-type", ""), response.content)
    if problem is None and case.surface == "widget" and case.must_refuse:
        origin = dict(case.headers).get("Origin")
        if response.headers.get("access-control-allow-origin") in (origin, "*"):
            problem = f"CORS allows {origin}"
    return problem


def run_cases(cases: list[Case], result: CategoryResult, store, check: Callable[[Case], str | None],
              progress: bool = True) -> None:  # fmt: skip
    """Run `check` on each case with a digest of the customer tables before and after."""
    signed_in = store.user_by_email(SIGNED_IN_EMAIL).user_id
    before = digest(store)
    for case in tqdm(cases, desc=f"bad input ({cases[0].surface if cases else ''})", unit="case", disable=not progress):
        result.tried += 1
        try:
            problem = check(case)
        except Exception as exc:  # a broken check is a failed case, not a crashed suite
            problem = f"the check raised {type(exc).__name__}: {exc}"
        after = digest(store)
        changed = [c for c in changes(before, after) if not (c.table in case.own_writes and c.owner == signed_in)]
        before = after
        if changed:
            problem = (problem + "; " if problem else "") + f"store changed: {', '.join(map(str, changed[:3]))}"
        if problem:
            result.fail(f"{case.label()}: {problem}")


# -- the category -----------------------------------------------------------------------------


def run(options: Options) -> CategoryResult:
    result = CategoryResult(category="bad_input", tried=0, failures=0)
    cases = generate(options.seed, options.quick)
    by_surface = {k: [c for c in cases if c.surface == k] for k in ("chat", "http", "widget")}
    sandbox = Sandbox()
    server = None
    try:
        # The server prepares its own copy of the shop while the chat cases run here.
        server = app_server(sandbox, options.stack, allowed_origins=[ALLOWED_ORIGIN])
        store = sandbox.fresh_store()
        assistant = sandbox.assistant(store)
        run_cases(by_surface["chat"], result, store, lambda c: check_chat(c, store, assistant))
        from eval.reliability.client import client as client_of

        server.wait_ready(timeout=300)
        with client_of(server, timeout=120) as client:
            for surface in ("http", "widget"):
                run_cases(by_surface[surface], result, server.store, lambda c: check_http(c, client, server.store))
        result.notes.append(
            f"{len(by_surface['chat'])} chat cases (Assistant over sessions in the store), "
            f"{len(by_surface['http'])} HTTP and {len(by_surface['widget'])} widget cases against `aisle serve` on 127.0.0.1 "
            f"(fake LLM, {len(server.logs)} app process(es), stack {options.stack}); seed {options.seed}"
        )
    finally:
        if server is not None:
            server.stop()
        sandbox.close()
    return result
