"""The HTTP API of `aisle serve`, through FastAPI's TestClient, against a real store, real search
index and sessions in the database. The LLM is the fake backend and routing uses the keyword
classifier (tests/fakes.py), so answers do not depend on a statistical model's choices."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from tests.fakes import KeywordClassifier
from tests.ui_helpers import make_service, sse

ALLOWED = "http://shop.example"


@pytest.fixture(scope="module")
def world(tmp_path_factory, seeded_store):
    service = make_service(tmp_path_factory.mktemp("ui-api"), seeded_store)
    return service, service.store


@pytest.fixture(scope="module")
def client(world):
    from ui.app import create_app

    service, _ = world
    with TestClient(create_app(service, allowed_origins=[ALLOWED])) as c:  # warms up in a thread
        yield c


def new_session(client, **sign_in) -> str:
    r = client.post("/api/sessions", json={"sign_in": sign_in} if sign_in else None)
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def cards_of(events) -> list[dict]:
    return [c for name, data in events if name == "cards" for c in data["cards"]]


def a_user_with_orders(store):
    user = store.user("noah_brown_6181")
    return user, store.orders_of(user.user_id)[0]


# -- health, docs, static -----------------------------------------------------------------------


def test_health_and_readiness(client, world):
    assert client.get("/healthz").json() == {"status": "ok"}
    deadline = time.monotonic() + 60
    while (ready := client.get("/readyz")).status_code == 503 and time.monotonic() < deadline:
        assert "warming up" in ready.json()["problems"][0]
        time.sleep(0.1)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["store"] and body["search"] and body["llm"] and body["problems"] == []


def test_openapi_docs_and_widget_files(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/sessions", "/api/chat", "/api/feedback", "/api/profile", "/api/products/search", "/v1/chat/completions"):
        assert path in paths
    js = client.get("/widget.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and "/api/chat" in js.text
    assert client.get("/widget.css").status_code == 200


def test_gradio_chat_is_mounted_at_root(client):
    page = client.get("/")
    assert page.status_code == 200 and "gradio" in page.text.lower()


# -- sessions ---------------------------------------------------------------------------------


def test_session_lifecycle_and_sign_in(client, world):
    _, store = world
    user, _ = a_user_with_orders(store)
    sid = new_session(client)
    assert client.get(f"/api/sessions/{sid}").json()["user"] is None
    signed = client.post(f"/api/sessions/{sid}/signin", json={"email": user.email.upper()})
    assert signed.status_code == 200 and signed.json()["user"]["user_id"] == user.user_id
    assert client.post(f"/api/sessions/{sid}/signout").json()["user"] is None
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404


def test_session_errors(client):
    missing = client.get("/api/sessions/no-such-session")
    assert missing.status_code == 404 and "no-such-session" in missing.json()["detail"]
    sid = new_session(client)
    unknown = client.post(f"/api/sessions/{sid}/signin", json={"email": "nobody@example.com"})
    assert unknown.status_code == 404 and "nobody@example.com" in unknown.json()["detail"]
    assert client.post(f"/api/sessions/{sid}/signin", json={}).status_code == 422
    assert client.post(f"/api/sessions/{sid}/signin", json={"email": "a@b.c", "password": "x"}).status_code == 422


def test_demo_users(client):
    users = client.get("/api/users/demo", params={"n": 3}).json()
    assert len(users) == 3 and all("@" in u["email"] for u in users)


# -- chat -------------------------------------------------------------------------------------


def test_chat_streams_events_with_cards(client):
    sid = new_session(client)
    r = client.post("/api/chat", json={"session_id": sid, "message": "I'm looking for running shoes"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse(r.text)
    assert events[-1] == ("done", {"session_id": sid})
    cards = cards_of(events)
    assert cards and all({"item_id", "name", "price", "available", "reason"} <= c.keys() for c in cards)
    text = "".join(d["text"] for name, d in events if name == "text")
    assert cards[0]["name"] in text


def test_chat_without_streaming(client):
    sid = new_session(client)
    r = client.post("/api/chat", json={"session_id": sid, "message": "show me a blue t-shirt", "stream": False})
    body = r.json()
    assert r.status_code == 200 and body["text"] and body["cards"]
    assert client.get(f"/api/sessions/{sid}").json()["turns"] == 1


def test_chat_errors(client):
    r = client.post("/api/chat", json={"session_id": "gone", "message": "hi"})
    assert r.status_code == 404 and "gone" in r.json()["detail"]
    sid = new_session(client)
    assert client.post("/api/chat", json={"session_id": sid}).status_code == 422
    assert client.post("/api/chat", json={"session_id": sid, "message": ""}).status_code == 422
    assert client.post("/api/chat", content=b"not json", headers={"content-type": "application/json"}).status_code == 422


def test_dislike_removes_the_item_from_the_next_answer(client):
    sid = new_session(client)
    ask = {"session_id": sid, "message": "I'm looking for running shoes", "stream": False}
    first = client.post("/api/chat", json=ask).json()["cards"]
    disliked = first[0]["item_id"]
    r = client.post("/api/feedback", json={"session_id": sid, "kind": "dislike", "item_id": disliked})
    assert r.status_code == 200 and disliked in r.json()["excluded_items"]
    again = client.post("/api/chat", json=ask).json()["cards"]
    assert again and disliked not in [c["item_id"] for c in again]


def test_session_keeps_the_last_reply_cards_less_disliked(client):
    """What a reloaded page shows again: the cards of the last reply, less those disliked since."""
    sid = new_session(client)
    for message in ("I'm looking for running shoes", "我在找登山靴"):
        shown = client.post("/api/chat", json={"session_id": sid, "message": message, "stream": False}).json()["cards"]
        assert len(shown) >= 2 and client.get(f"/api/sessions/{sid}").json()["cards"] == shown
    client.post("/api/feedback", json={"session_id": sid, "kind": "not_interested", "item_id": shown[0]["item_id"]})
    assert client.get(f"/api/sessions/{sid}").json()["cards"] == shown[1:]
    client.post("/api/chat", json={"session_id": sid, "message": "what is your return policy?", "stream": False})
    assert client.get(f"/api/sessions/{sid}").json()["cards"] == []  # that reply showed none


@pytest.mark.parametrize("request_", ["I want to return something", "我想退货"])
def test_session_keeps_the_choices_while_their_question_is_open(client, request_):
    """What a reloaded page offers again: the last reply's choices, until the task is over or the customer changes."""
    sid = new_session(client, email="yusuf.rossi7301@example.com")

    def say(message: str) -> list[dict]:
        choices = client.post("/api/chat", json={"session_id": sid, "message": message, "stream": False}).json()["choices"]
        assert client.get(f"/api/sessions/{sid}").json()["choices"] == choices
        return choices

    orders = say(request_)
    assert orders and all(c["kind"] == "order" for c in orders)
    items = say(next(c["label"] for c in orders if c["id"] == "#W2378156"))
    assert items and all(c["kind"] == "item" for c in items)
    assert [c["kind"] for c in say(items[0]["label"])] == ["confirm", "confirm"]
    say("no")  # the task is over: nothing is open
    assert client.get(f"/api/sessions/{sid}").json()["choices"] == []

    assert say(request_)
    assert client.post(f"/api/sessions/{sid}/signout").json()["choices"] == []  # their orders are not the next person's
    client.post(f"/api/sessions/{sid}/signin", json={"email": "yusuf.rossi7301@example.com"})
    assert say(request_)
    other = client.post(f"/api/sessions/{sid}/signin", json={"user_id": "noah_brown_6181"}).json()
    assert other["choices"] == [] and other["cards"] == []


def test_feedback_errors(client):
    sid = new_session(client)
    assert client.post("/api/feedback", json={"session_id": sid, "kind": "love", "item_id": "x"}).status_code == 422
    assert client.post("/api/feedback", json={"session_id": sid, "kind": "like"}).status_code == 422
    assert client.post("/api/feedback", json={"session_id": "gone", "kind": "like", "item_id": "x"}).status_code == 404


def test_signed_in_order_status(client, world):
    _, store = world
    user, order = a_user_with_orders(store)
    sid = new_session(client, email=user.email)
    r = client.post("/api/chat", json={"session_id": sid, "message": f"where is my order {order.order_id}?", "stream": False})
    assert r.status_code == 200
    assert order.order_id in r.json()["text"] and order.status in r.json()["text"].lower()


def test_sessions_live_in_the_database(client, world):
    """A second app on the same database (another process, or a restart) continues the conversation."""
    from assistant.agent import Assistant
    from assistant.llm.fake import FakeLLM
    from ui.app import create_app
    from ui.service import ChatService

    service, store = world
    sid = new_session(client)
    client.post("/api/chat", json={"session_id": sid, "message": "I'm looking for running shoes", "stream": False})
    other = ChatService(Assistant(store, llm=FakeLLM(), classifier=KeywordClassifier(), services=service.assistant.services))
    with TestClient(create_app(other, gradio=False, warm=False)) as second:
        info = second.get(f"/api/sessions/{sid}").json()
        assert info["turns"] == 1 and info["history"][0]["content"] == "I'm looking for running shoes"
        r = second.post("/api/chat", json={"session_id": sid, "message": "cheaper", "stream": False})
        assert r.status_code == 200 and r.json()["cards"]


# -- search, profile --------------------------------------------------------------------------


def test_product_search_uses_the_tool_models(client):
    r = client.post("/api/products/search", json={"query": "wireless headphones", "k": 3})
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert 0 < len(hits) <= 3 and {"item_id", "price", "why"} <= hits[0].keys()
    assert client.post("/api/products/search", json={"query": "x", "k": 0}).status_code == 422
    assert client.post("/api/products/search", json={"query": "x", "colour": "red"}).status_code == 422


def test_profile_needs_a_signed_in_session(client):
    sid = new_session(client)
    r = client.get("/api/profile", params={"session_id": sid})
    assert r.status_code == 401 and "sign in" in r.json()["detail"]
    assert client.get("/api/profile", params={"session_id": "gone"}).status_code == 404
    assert client.get("/api/profile").status_code == 422


def test_profile_view_edit_switch_delete(client, world):
    _, store = world
    user, _ = a_user_with_orders(store)
    sid = new_session(client, email=user.email)
    got = client.get("/api/profile", params={"session_id": sid})
    assert got.status_code == 200 and got.json()["user_id"] == user.user_id and got.json()["n_orders"] > 0
    edited = client.patch("/api/profile", params={"session_id": sid}, json={"blocked_brands": ["Apple"]})
    assert edited.status_code == 200 and "Apple" in edited.json()["blocked_brands"]
    assert client.patch("/api/profile", params={"session_id": sid}, json={"no_such_field": 1}).status_code == 422
    off = client.put("/api/profile/personalised", params={"session_id": sid}, json={"personalised": False})
    assert off.status_code == 200 and off.json()["personalised"] is False
    forgot = client.delete("/api/profile", params={"session_id": sid})
    assert forgot.status_code == 200 and forgot.json()["edits"] == {} and forgot.json()["personalised"] is False


# -- origins ----------------------------------------------------------------------------------


def test_allowed_origin_gets_cors_headers(client):
    pre = client.options("/api/chat", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"})  # fmt: skip
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == ALLOWED
    r = client.post("/api/sessions", headers={"Origin": ALLOWED})
    assert r.status_code == 201 and r.headers["access-control-allow-origin"] == ALLOWED


def test_disallowed_origin_is_refused(client):
    evil = "http://evil.example"
    r = client.post("/api/sessions", headers={"Origin": evil})
    assert r.status_code == 403 and evil in r.json()["detail"]
    pre = client.options("/api/chat", headers={"Origin": evil, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 403 and "AISLE_ALLOWED_ORIGINS" in pre.json()["detail"] and "access-control-allow-origin" not in pre.headers
    assert client.post("/v1/chat/completions", headers={"Origin": evil},
                       json={"messages": [{"role": "user", "content": "hi"}]}).status_code == 403  # fmt: skip


# -- OpenAI-compatible ------------------------------------------------------------------------


def test_openai_completion_keeps_the_session(client):
    body = {"model": "aisle", "messages": [{"role": "user", "content": "I'm looking for running shoes"}]}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200
    sid = r.headers["x-aisle-session"]
    reply = r.json()
    assert reply["object"] == "chat.completion" and reply["choices"][0]["message"]["role"] == "assistant"
    assert "$" in reply["choices"][0]["message"]["content"]
    again = client.post("/v1/chat/completions", json={**body, "user": sid, "messages": [{"role": "user", "content": "hello"}]})
    assert again.headers["x-aisle-session"] == sid
    assert client.get(f"/api/sessions/{sid}").json()["turns"] == 2
    header = client.post("/v1/chat/completions", headers={"X-Aisle-Session": sid}, json=body)
    assert header.headers["x-aisle-session"] == sid


def test_openai_streaming(client):
    body = {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}], "stream": True}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    lines = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(x) for x in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks).strip()
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_errors(client):
    assert client.post("/v1/chat/completions", json={"messages": []}).status_code == 422
    assert client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "x"}]}).status_code == 422
    bad_name = client.post("/v1/chat/completions", json={"user": "a b", "messages": [{"role": "user", "content": "hi"}]})
    assert bad_name.status_code == 422  # a new name starts a session (tests/test_ui_signin.py); this one cannot be one
    assert client.get("/v1/models").json()["data"][0]["id"] == "aisle"


def test_a_failing_turn_is_a_message_not_a_traceback(world):
    """Whatever breaks inside a turn, the shopper reads a short apology; the session survives."""
    from assistant.agent import Assistant
    from ui.app import create_app
    from ui.service import ChatService

    class Broken:
        def predict(self, text):
            raise RuntimeError("model file corrupt")

    service, store = world
    broken = ChatService(Assistant(store, llm=None, classifier=Broken(), services=service.assistant.services))
    with TestClient(create_app(broken, gradio=False, warm=False)) as c:
        sid = new_session(c)
        r = c.post("/api/chat", json={"session_id": sid, "message": "tell me a joke", "stream": False})
        assert r.status_code == 200
        assert "something went wrong" in r.json()["text"] and "Traceback" not in r.json()["text"]
        assert c.get(f"/api/sessions/{sid}").status_code == 200
