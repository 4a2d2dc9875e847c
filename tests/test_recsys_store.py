"""The shop serves its trained ranking model from set-up on: a fresh data dir → `make run`'s set-up
(`aisle store init`, `aisle train --if-stale`) → `/api/chat` "recommend me something" for a signed-in
customer is ranked by the model and says so; a 👎 and a new order change the next list, and a
retrained model is swapped in, all without a restart."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from recsys.train import MEMBERS

from tests.fakes import KeywordClassifier

pytestmark = pytest.mark.slow  # trains the store model (seconds) and embeds the catalog with MiniLM

USER = "noah_brown_6181"


def _chat_cards(client, sid: str, message: str) -> tuple[str, list[dict]]:
    r = client.post("/api/chat", json={"session_id": sid, "message": message, "stream": False})
    assert r.status_code == 200, r.text
    body = r.json()
    return body["text"], body["cards"]


def _new_order(store, user_id: str, item_ids: list[str]) -> None:
    """An order placed in the shop (by whatever system writes orders): rows in the store database."""
    from retrieval.store import tables as t

    address = store.orders_of(user_id)[0].address.model_dump()
    with store.session() as s:
        order = t.Order(order_id="#W9990001", user_id=user_id, position=99, status="pending", address=address,
                        fulfillments=[])
        for n, item_id in enumerate(item_ids):
            v = s.get(t.Variant, item_id)
            order.items.append(t.OrderItemRow(position=n, item_id=v.item_id, product_id=v.product_id,
                                              name=v.product.name, price=v.price, options=v.options))
        s.add(order)


def test_set_up_trains_once_and_the_shop_serves_the_model_live(tmp_path, monkeypatch):
    from assistant.agent import Assistant
    from assistant.llm.fake import FakeLLM
    from recsys import Recommender
    from recsys.store_model import load_ranker, model_path, needs_retraining
    from retrieval.config import get_settings
    from retrieval.store import Store
    from ui.app import create_app
    from ui.cli import app
    from ui.service import ChatService

    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    cli = CliRunner()
    # `make run`'s set-up, on a fresh data dir.
    assert cli.invoke(app, ["store", "init"]).exit_code == 0
    first = cli.invoke(app, ["train", "--if-stale", "--epochs", "3", "--json"])  # few epochs: CI time
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["status"] == "trained"
    stamp = model_path().stat().st_mtime_ns
    again = cli.invoke(app, ["train", "--if-stale", "--json"])  # idempotent: a current model is kept
    assert json.loads(again.stdout)["status"] == "current"
    assert model_path().stat().st_mtime_ns == stamp
    ranker = load_ranker()
    assert not needs_retraining(Store.from_settings(), ranker)  # what `aisle train --every` checks
    assert len(ranker.models) == MEMBERS and ranker.meta["trained_on"] == "store"  # the benchmark's recipe

    store = Store.from_settings()
    recommender = Recommender.from_settings()
    service = ChatService(Assistant(store, llm=FakeLLM(), classifier=KeywordClassifier(),
                                    services={"recommender": recommender}))
    client = TestClient(create_app(service, gradio=False, warm=False))
    sid = client.post("/api/sessions", json={"sign_in": {"user_id": USER}}).json()["session_id"]

    text, cards = _chat_cards(client, sid, "recommend me something")
    assert len(cards) == 5
    assert ranker.name in text  # the answer names the model that ranked the list
    by_model = [c for c in cards if c["source"] == ranker.name]
    assert len(by_model) >= 4  # all but the exploration slot
    bought = {it.name for o in store.orders_of(USER) for it in o.items}
    assert any(c["reason"].removeprefix("because you bought ") in bought for c in by_model)
    assert "popular with shoppers" not in text

    # A 👎 on the top item and a new order: the next list changes, with no restart.
    top = cards[0]["item_id"]
    r = client.post("/api/feedback", json={"session_id": sid, "kind": "dislike", "item_id": top})
    assert r.status_code == 200 and r.json()["recorded"]
    new_items = [cards[1]["item_id"]]
    popularity_before = recommender.popularity[recommender.catalog.by_id[new_items[0]].index]
    co_before = sum(recommender.co.get(recommender.catalog.by_id[new_items[0]].index, {}).values())
    _new_order(store, USER, new_items)
    text2, cards2 = _chat_cards(client, sid, "recommend me something")
    after = [c["item_id"] for c in cards2]
    assert top not in after and new_items[0] not in after  # disliked; bought (another variant would not help)
    assert after != [c["item_id"] for c in cards]
    assert recommender.popularity[recommender.catalog.by_id[new_items[0]].index] == popularity_before + 1
    assert sum(recommender.co[recommender.catalog.by_id[new_items[0]].index].values()) > co_before

    # `aisle train` (by command or on its schedule) writes a new model; the running shop swaps it in.
    assert needs_retraining(store, ranker)
    retrained = cli.invoke(app, ["train", "--members", "1", "--epochs", "2", "--json"])
    assert retrained.exit_code == 0, retrained.output
    report = json.loads(retrained.stdout)
    assert report["interactions"] > ranker.meta["interactions"]  # it learnt from the new order and the event
    assert not needs_retraining(store, load_ranker())
    _, cards3 = _chat_cards(client, sid, "recommend me something")
    assert recommender.ranker is not ranker and len(recommender.ranker.models) == 1
    assert {c["source"] for c in cards3} - {"explore"} == {recommender.ranker.name}
