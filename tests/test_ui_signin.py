"""Real sign-in for shops and what integrators meet, over the HTTP API (FastAPI's TestClient, real
store, real search index; fake LLM, keyword classifier): AISLE_DEMO_SIGN_IN off and on, the shop's
sign-in tokens (JWT, HS256), the origin policy's 403 with its reason, /docs served offline, and the
OpenAI endpoint's session names and usage."""

from __future__ import annotations

import json
import re
import time

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.fakes import KeywordClassifier
from tests.ui_helpers import make_service

SECRET = "test-secret-" + "x" * 32
ALLOWED = "http://shop.example"
USER_ID = "noah_brown_6181"


def token(sub: str = USER_ID, secret: str = SECRET, exp_in: float = 600, **claims) -> str:
    payload = {"sub": sub, "exp": int(time.time() + exp_in), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture(scope="module")
def world(tmp_path_factory, seeded_store):
    return make_service(tmp_path_factory.mktemp("ui-signin"), seeded_store)


def _app(world, demo: bool, secret: str | None, gradio: bool = False):
    from assistant.agent import Assistant
    from assistant.llm.fake import FakeLLM
    from ui.app import create_app
    from ui.service import ChatService

    assistant = Assistant(world.store, llm=FakeLLM(), classifier=KeywordClassifier(), services=world.assistant.services,
                          demo_sign_in=demo)  # fmt: skip
    return create_app(ChatService(assistant, signin_secret=secret), allowed_origins=[ALLOWED], gradio=gradio, warm=False)


@pytest.fixture(scope="module")
def shop(world):
    """Production: demo sign-in off, tokens signed with SECRET accepted."""
    with TestClient(_app(world, demo=False, secret=SECRET)) as c:
        yield c


@pytest.fixture(scope="module")
def demo(world):
    """The demo store (`make run`): demo sign-in on, and tokens too."""
    with TestClient(_app(world, demo=True, secret=SECRET)) as c:
        yield c


def chat(client, sid: str, message: str) -> dict:
    r = client.post("/api/chat", json={"session_id": sid, "message": message, "stream": False})
    assert r.status_code == 200, r.text
    return r.json()


# -- demo sign-in off --------------------------------------------------------------------------


def test_demo_customer_list_is_not_found_when_demo_sign_in_is_off(shop, demo):
    assert shop.get("/api/users/demo", params={"n": 50}).status_code == 404
    assert demo.get("/api/users/demo", params={"n": 3}).status_code == 200


def test_email_or_user_id_sign_in_is_refused_when_demo_sign_in_is_off(shop, world):
    user = world.store.user(USER_ID)
    for sign_in in ({"email": user.email}, {"user_id": USER_ID}):
        created = shop.post("/api/sessions", json={"sign_in": sign_in})
        assert created.status_code == 403 and "AISLE_DEMO_SIGN_IN" in created.json()["detail"], created.text
        sid = shop.post("/api/sessions").json()["session_id"]
        signed = shop.post(f"/api/sessions/{sid}/signin", json=sign_in)
        assert signed.status_code == 403 and "token" in signed.json()["detail"]
        assert shop.get(f"/api/sessions/{sid}").json()["user"] is None


def test_in_chat_identification_is_off_with_demo_sign_in(shop, world):
    user = world.store.user(USER_ID)
    order = world.store.orders_of(USER_ID)[0]
    sid = shop.post("/api/sessions").json()["session_id"]
    reply = chat(shop, sid, f"my email is {user.email}, where is my order {order.order_id}?")
    assert "sign in on the shop's website" in reply["text"]
    assert not [e for e in reply["events"] if e["kind"] == "tool" and e["tool"] == "find_user" and e["ok"]]
    by_name = chat(shop, sid, f"I'm {user.first_name} {user.last_name}, zip {user.address.zip}; cancel my order")
    assert "sign in on the shop's website" in by_name["text"]
    assert shop.get(f"/api/sessions/{sid}").json()["user"] is None


def gradio_sign_in(client, text: str) -> list:
    """The Gradio chat's sign-in button, through Gradio's HTTP API (what gradio_client calls)."""
    r = client.post("/gradio_api/call/sign_in", json={"data": [None, text, None]})
    assert r.status_code == 200, r.text
    stream = client.get(f"/gradio_api/call/sign_in/{r.json()['event_id']}").text
    data = [line[6:] for line in stream.splitlines() if line.startswith("data: ")]
    return json.loads(data[-1])[:3]  # session, who, the token box (then the redrawn chat, cards and choices)


def test_gradio_chat_without_demo_sign_in(world):
    user = world.store.user(USER_ID)
    with TestClient(_app(world, demo=False, secret=SECRET, gradio=True)) as c:
        config = c.get("/config").text
        assert "Sign-in token" in config and user.email not in config and "@example.com" not in config  # no customer list
        _, said, _ = gradio_sign_in(c, user.email)
        assert "AISLE_DEMO_SIGN_IN" in said and "Signed in" not in said
        _, said, _ = gradio_sign_in(c, token())
        assert f"Signed in as **{user.first_name} {user.last_name}**" in said
        _, said, _ = gradio_sign_in(c, token(exp_in=-600))
        assert "expired" in said and "Signed in" not in said


# -- the shop's sign-in token ------------------------------------------------------------------


def test_a_valid_token_signs_in_on_create_and_on_signin(shop, world):
    created = shop.post("/api/sessions", json={"sign_in": {"token": token()}})
    assert created.status_code == 201 and created.json()["user"]["user_id"] == USER_ID
    sid = shop.post("/api/sessions").json()["session_id"]
    signed = shop.post(f"/api/sessions/{sid}/signin", json={"token": token()})
    assert signed.status_code == 200 and signed.json()["user"]["user_id"] == USER_ID
    # The token's customer sees their own orders; an email typed in the chat changes nothing.
    order = world.store.orders_of(USER_ID)[0]
    reply = chat(shop, sid, f"where is my order {order.order_id}?")
    assert order.order_id in reply["text"] and order.status in reply["text"].lower()
    other = world.store.user("yusuf_rossi_9620")
    chat(shop, sid, f"actually I am {other.email}")
    assert shop.get(f"/api/sessions/{sid}").json()["user"]["user_id"] == USER_ID


@pytest.mark.parametrize("bad, reason", [
    (lambda: token(secret="another-shop-" + "y" * 32), "signature"),
    (lambda: token(exp_in=-600), "expired"),
    (lambda: token(sub="no_such_customer_0000"), "no customer"),
    (lambda: jwt.encode({"sub": USER_ID}, SECRET, algorithm="HS256"), "'exp'"),
    (lambda: token()[:-4] + "AAAA", "signature"),
    (lambda: "not-a-token", "not valid"),
    # alg "none": an unsigned token must never pass
    (lambda: jwt.encode({"sub": USER_ID, "exp": int(time.time()) + 600}, None, algorithm="none"), "not valid"),
    (lambda: token(sub=""), "sub"),
])  # fmt: skip
def test_forged_expired_or_unknown_tokens_are_401(shop, demo, bad, reason):
    for client in (shop, demo):
        created = client.post("/api/sessions", json={"sign_in": {"token": bad()}})
        assert created.status_code == 401 and reason in created.json()["detail"], created.text
        assert created.headers["www-authenticate"].startswith("Bearer")
        sid = client.post("/api/sessions").json()["session_id"]
        signed = client.post(f"/api/sessions/{sid}/signin", json={"token": bad()})
        assert signed.status_code == 401 and client.get(f"/api/sessions/{sid}").json()["user"] is None


def test_token_sign_in_needs_a_secret(world):
    with TestClient(_app(world, demo=False, secret=None)) as c:
        r = c.post("/api/sessions", json={"sign_in": {"token": token()}})
        assert r.status_code == 403 and "AISLE_SIGNIN_SECRET" in r.json()["detail"]


def test_sign_in_takes_one_kind_of_credential(shop):
    both = shop.post("/api/sessions", json={"sign_in": {"token": token(), "email": "a@b.c"}})
    assert both.status_code == 422


def test_one_customer_per_conversation_with_tokens(shop, world):
    # Signing in as someone else starts that customer afresh: nothing of the first one carries over.
    order = world.store.orders_of(USER_ID)[0]
    sid = shop.post("/api/sessions", json={"sign_in": {"token": token()}}).json()["session_id"]
    assert order.order_id in chat(shop, sid, f"where is my order {order.order_id}?")["text"]
    switched = shop.post(f"/api/sessions/{sid}/signin", json={"token": token(sub="yusuf_rossi_9620")})
    assert switched.status_code == 200 and switched.json()["history"] == []
    assert order.order_id not in json.dumps(shop.get(f"/api/sessions/{sid}").json())


# -- showing a stored conversation again (a reload, the shop's next page) ------------------------

OTHER = "yusuf_rossi_9620"


def signed_conversation(client, world) -> tuple[str, str]:
    """A conversation signed in with the shop's token that has talked about one of the customer's orders."""
    order = world.store.orders_of(USER_ID)[0].order_id
    sid = client.post("/api/sessions", json={"sign_in": {"token": token()}}).json()["session_id"]
    assert order in chat(client, sid, f"where is my order {order}?")["text"]
    return sid, order


@pytest.mark.parametrize("body", [None, {}, {"token": None}])
def test_a_signed_in_conversation_is_not_resumed_without_the_customers_token(shop, world, body):
    sid, order = signed_conversation(shop, world)
    resumed = shop.post(f"/api/sessions/{sid}/resume", json=body)
    assert resumed.status_code == 200, resumed.text
    info = resumed.json()
    assert info["user"] is None and info["history"] == [] and info["cards"] == [] and info["choices"] == []
    assert order not in json.dumps(shop.get(f"/api/sessions/{sid}").json())  # signed out on the server, not only hidden
    # … so it can no longer act for that customer either
    assert "sign in on the shop's website" in chat(shop, sid, f"where is my order {order}?")["text"]


def test_a_signed_in_conversation_is_resumed_with_the_same_customers_token(shop, world):
    sid, order = signed_conversation(shop, world)
    resumed = shop.post(f"/api/sessions/{sid}/resume", json={"token": token()})  # a fresh token for the same customer
    assert resumed.status_code == 200 and resumed.json()["user"]["user_id"] == USER_ID
    assert order in json.dumps(resumed.json()["history"])
    assert "sign in on the shop's website" not in chat(shop, sid, f"where is my order {order}?")["text"]  # still acts for them


def test_another_customers_token_resumes_nothing_of_the_first(shop, world):
    sid, order = signed_conversation(shop, world)
    resumed = shop.post(f"/api/sessions/{sid}/resume", json={"token": token(sub=OTHER)})
    assert resumed.status_code == 200 and resumed.json()["user"]["user_id"] == OTHER
    assert resumed.json()["history"] == [] and order not in json.dumps(shop.get(f"/api/sessions/{sid}").json())


def test_a_refused_token_does_not_resume_and_signs_the_conversation_out(shop, world):
    for bad in (token(exp_in=-600), token(secret="another-shop-" + "y" * 32), "not-a-token"):
        sid, order = signed_conversation(shop, world)
        resumed = shop.post(f"/api/sessions/{sid}/resume", json={"token": bad})
        assert resumed.status_code == 401, resumed.text
        info = shop.get(f"/api/sessions/{sid}").json()
        assert info["user"] is None and order not in json.dumps(info)


def test_an_anonymous_conversation_is_resumed_as_it_is(shop, demo, world):
    for client in (shop, demo):
        sid = client.post("/api/sessions").json()["session_id"]
        chat(client, sid, "I'm looking for hiking boots")
        before = client.get(f"/api/sessions/{sid}").json()
        resumed = client.post(f"/api/sessions/{sid}/resume").json()
        assert resumed["user"] is None and resumed["history"] == before["history"] and resumed["cards"] == before["cards"]
        assert len(resumed["history"]) == 2 and resumed["cards"]
    assert shop.post("/api/sessions/no-such-session/resume").status_code == 404


def test_a_conversation_signed_in_by_what_was_typed_needs_a_token_too(demo, world):
    """The demo store identifies a shopper from the chat (an email): that proves nothing to the next page."""
    user = world.store.user(USER_ID)
    sid = demo.post("/api/sessions").json()["session_id"]
    chat(demo, sid, f"my email is {user.email}")
    assert demo.get(f"/api/sessions/{sid}").json()["user"]["user_id"] == USER_ID
    assert demo.post(f"/api/sessions/{sid}/resume").json()["history"] == []
    sid = demo.post("/api/sessions").json()["session_id"]
    chat(demo, sid, f"my email is {user.email}")
    assert demo.post(f"/api/sessions/{sid}/resume", json={"token": token()}).json()["history"]


# -- origins -----------------------------------------------------------------------------------


def test_a_refused_origin_gets_403_with_the_setting_to_change(shop):
    evil = "http://elsewhere.example"
    pre = shop.options("/api/sessions", headers={"Origin": evil, "Access-Control-Request-Method": "POST",
                                                 "Access-Control-Request-Headers": "content-type"})  # fmt: skip
    assert pre.status_code == 403 and "AISLE_ALLOWED_ORIGINS" in pre.json()["detail"] and evil in pre.json()["detail"]
    assert "access-control-allow-origin" not in pre.headers  # the preflight fails: the browser sends nothing more
    simple = shop.get("/api/users/demo", headers={"Origin": evil})  # a simple request needs no preflight: refused too
    assert simple.status_code == 403 and "AISLE_ALLOWED_ORIGINS" in simple.json()["detail"]
    assert "access-control-allow-origin" not in simple.headers  # the refused page may not read anything
    # The widget checks that Aisle is up with a no-cors request: health checks answer any origin.
    assert shop.get("/healthz", headers={"Origin": evil}).status_code == 200
    ok = shop.options("/api/sessions", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED


# -- /docs offline -----------------------------------------------------------------------------


def test_docs_are_served_from_the_app_itself(shop):
    for page in ("/docs", "/redoc"):
        html = shop.get(page)
        assert html.status_code == 200
        urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html.text)
        assert urls, html.text
        for url in urls:
            assert not re.match(r"(?:https?:)?//", url), f"{page} loads {url} from another host"
            if url.startswith("/") and not url.startswith("/openapi.json"):
                asset = shop.get(url)
                assert asset.status_code == 200 and len(asset.content) > 500, url
    assert '"validatorUrl": null' in shop.get("/docs").text
    assert shop.get("/openapi.json").json()["paths"]["/api/sessions/{session_id}/signin"]


# -- OpenAI-compatible endpoint ----------------------------------------------------------------


def test_openai_user_names_a_new_session(shop, world):
    name = f"crm-contact-{time.monotonic_ns()}"
    body = {"model": "aisle", "user": name, "messages": [{"role": "user", "content": "I'm looking for running shoes"}]}
    first = shop.post("/v1/chat/completions", json=body)
    assert first.status_code == 200 and first.headers["x-aisle-session"] == name
    info = shop.get(f"/api/sessions/{name}").json()
    assert info["turns"] == 1 and info["user"] is None  # a name is only a key, never a customer
    again = shop.post("/v1/chat/completions", json={**body, "messages": [{"role": "user", "content": "cheaper"}]})
    assert again.status_code == 200 and shop.get(f"/api/sessions/{name}").json()["turns"] == 2
    header = shop.post("/v1/chat/completions", headers={"X-Aisle-Session": name + "-h"},
                       json={"messages": [{"role": "user", "content": "hello"}]})  # fmt: skip
    assert header.status_code == 200 and header.headers["x-aisle-session"] == name + "-h"
    for bad in ("has space", "a/b", "x" * 65):
        assert shop.post("/v1/chat/completions", json={**body, "user": bad}).status_code == 422


def test_openai_usage_is_counted(shop):
    from ui.api import estimate_tokens

    message = "I'm looking for running shoes under 200"
    r = shop.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "be brief"},
                                                             {"role": "user", "content": message}]})  # fmt: skip
    usage, text = r.json()["usage"], r.json()["choices"][0]["message"]["content"]
    assert usage["prompt_tokens"] == estimate_tokens(message) > 0
    assert usage["completion_tokens"] == estimate_tokens(text) > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert estimate_tokens("退货政策是什么") == 7 and estimate_tokens("abcdefgh") == 2

    streamed = shop.post("/v1/chat/completions", json={"stream": True, "stream_options": {"include_usage": True},
                                                       "messages": [{"role": "user", "content": message}]})  # fmt: skip
    chunks = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: {")]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    plain = shop.post("/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": "hello"}]})
    assert all("usage" not in json.loads(line[6:]) for line in plain.text.splitlines() if line.startswith("data: {"))


# -- settings ----------------------------------------------------------------------------------


def test_sign_in_settings(monkeypatch, tmp_path):
    from pydantic import ValidationError

    from retrieval.config import Settings

    monkeypatch.delenv("AISLE_DEMO_SIGN_IN", raising=False)
    monkeypatch.delenv("AISLE_SIGNIN_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env
    assert Settings().demo_sign_in is False and Settings().signin_secret is None  # safe defaults
    monkeypatch.setenv("AISLE_DEMO_SIGN_IN", "true")
    monkeypatch.setenv("AISLE_SIGNIN_SECRET", SECRET)
    s = Settings()
    assert s.demo_sign_in is True and s.signin_secret.get_secret_value() == SECRET and SECRET not in repr(s)
    monkeypatch.setenv("AISLE_SIGNIN_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings()
