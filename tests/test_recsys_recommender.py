"""Recommender behaviour on the real demo store: feedback rules, profiles, explanations, bad input."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from recsys import (
    FeedbackEvent,
    ProfilePatch,
    ProfileService,
    Ranker,
    RecommendRequest,
    Recommender,
    RemoteRanker,
    UnknownItemError,
    UnknownUserError,
)
from recsys.catalog import Catalog
from recsys.model import SeqRecModel
from recsys.store_model import store_model_config
from recsys.train import set_seed
from eval.stack import free_port

USER = "noah_brown_6181"


@pytest.fixture(scope="module")
def catalog(seeded_store, tmp_path_factory):
    return Catalog.from_store(seeded_store, tmp_path_factory.mktemp("recsys-cache"))


@pytest.fixture(scope="module")
def ranker(catalog):
    # An untrained network of the store model's shape: the rules under test must hold whatever the
    # weights; training itself is tested in test_recsys_model.py and test_recsys_store.py.
    set_seed(0)
    model = SeqRecModel(store_model_config(catalog), catalog.item_attrs, catalog.content)
    return Ranker(model, [it.item_id for it in catalog.items])


@pytest.fixture
def store(seeded_store, tmp_path):
    return seeded_store.copy_to(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture
def rec(store, catalog, ranker):
    return Recommender(store, catalog=catalog, ranker=ranker)


def test_a_disliked_item_never_comes_back_in_the_session(rec):
    disliked = set()
    for _ in range(4):
        recs = rec.recommend(RecommendRequest(user_id=USER, session_id="s1", k=10))
        assert len(recs) == 10
        assert not disliked & {r.item_id for r in recs}
        rec.feedback(FeedbackEvent(user_id=USER, session_id="s1", kind="dislike", item_id=recs[0].item_id))
        disliked.add(recs[0].item_id)
    assert all(r.source in ("model", "explore") for r in recs)


def test_not_this_brand_and_not_this_category(rec):
    req = RecommendRequest(user_id=USER, session_id="s2", k=30)
    recs = rec.recommend(req)
    branded = next(r for r in recs if r.brand)
    rec.feedback(FeedbackEvent(user_id=USER, session_id="s2", kind="not_brand", item_id=branded.item_id))
    rec.feedback(FeedbackEvent(user_id=USER, session_id="s2", kind="not_category", category=recs[0].category))
    after = rec.recommend(req)
    assert after and all(r.brand != branded.brand for r in after)
    assert all(r.category != recs[0].category for r in after)


def test_a_liked_brand_rises(rec):
    req = RecommendRequest(user_id=USER, session_id="s3", k=10)
    before = sum(r.brand == "Apple" for r in rec.recommend(req))
    rec.feedback(FeedbackEvent(user_id=USER, session_id="s3", kind="like", brand="Apple"))
    recs = rec.recommend(req)
    after = sum(r.brand == "Apple" for r in recs)
    assert after > before and after >= 3
    assert any(r.reason == "matches your liked brand Apple" for r in recs)


def test_reasons_are_grounded_in_the_users_data(rec, store):
    bought = {it.name for o in store.orders_of(USER) for it in o.items}
    recs = rec.recommend(RecommendRequest(user_id=USER, session_id="s4", k=8, surprise=True))
    assert sum(r.source == "explore" for r in recs) >= 2  # surprise widens exploration
    for r in recs:
        if r.reason.startswith("because you bought "):
            assert r.reason.removeprefix("because you bought ") in bought
        elif r.reason.startswith("popular with people who bought "):
            assert r.reason.removeprefix("popular with people who bought ") in bought
        elif r.source == "explore":
            assert r.reason.startswith("something new for you")
        else:
            pytest.fail(f"ungrounded reason {r.reason!r}")
    assert len({r.product_id for r in recs}) == len(recs)  # one variant per product


def test_profile_edit_opt_out_and_delete(rec, store):
    profiles = ProfileService(store)
    profile = profiles.get(USER)
    assert profile.personalised and profile.categories and profile.n_orders >= 1
    assert profile.price_band is not None and profile.price_band.low <= profile.price_band.high

    rec.feedback(FeedbackEvent(user_id=USER, session_id="s5", kind="not_brand", brand="Samsung"))
    patched = profiles.patch(USER, ProfilePatch(liked_brands=["Rolex"], colours=["red"]))
    assert patched.liked_brands == ["Rolex"] and patched.colours == ["red"] and patched.blocked_brands == ["Samsung"]
    recs = rec.recommend(RecommendRequest(user_id=USER, session_id="other", k=10))
    assert any(r.brand == "Rolex" for r in recs) and not any(r.brand == "Samsung" for r in recs)

    profiles.set_personalised(USER, False)
    recs = rec.recommend(RecommendRequest(user_id=USER, session_id="other", k=10))
    assert {r.source for r in recs} <= {"popularity", "explore"}
    assert not any(r.reason.startswith(("because you", "matches your")) for r in recs)

    gone = profiles.delete(USER)
    assert store.events(user_id=USER) == [] and gone.edits == {} and gone.liked_brands == []
    assert gone.personalised is False  # the opt-out outlives a reset
    assert profiles.set_personalised(USER, True).personalised


def test_service_down_falls_back_with_a_warning(store, catalog, ranker, caplog):
    remote = RemoteRanker(f"http://127.0.0.1:{free_port()}", timeout=0.2)
    req = RecommendRequest(user_id=USER, session_id="s6", k=5)
    with caplog.at_level(logging.WARNING):
        recs = Recommender(store, catalog=catalog, ranker=ranker, remote=remote).recommend(req)
    assert recs and {r.source for r in recs} <= {"model", "explore"}
    assert "falling back to the in-process model" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        recs = Recommender(store, catalog=catalog, ranker=None, remote=remote).recommend(req)
    assert recs and {r.source for r in recs} <= {"popularity", "explore"}  # says nothing about a model
    assert "falling back to popularity" in caplog.text


def test_bad_input_gives_clear_errors_or_cold_start(rec, store):
    with pytest.raises(UnknownUserError, match="nobody_0"):
        rec.recommend(RecommendRequest(user_id="nobody_0"))
    with pytest.raises(UnknownUserError):
        rec.feedback(FeedbackEvent(user_id="nobody_0", kind="dislike", item_id=rec.catalog.items[0].item_id))
    with pytest.raises(UnknownItemError, match="no-such-item"):
        rec.feedback(FeedbackEvent(user_id=USER, kind="dislike", item_id="no-such-item"))
    with pytest.raises(ValidationError):
        RecommendRequest(user_id=USER, k=-1)
    with pytest.raises(ValidationError):
        FeedbackEvent(user_id=USER, kind="dislike")  # a dislike of nothing
    from sqlalchemy import text

    with store.engine.connect() as c:
        no_orders = c.execute(text("select user_id from users where user_id not in (select user_id from orders)")).scalar()
    for user in (no_orders, None):  # empty history and a guest: popularity cold start
        recs = rec.recommend(RecommendRequest(user_id=user, session_id="s7", k=5))
        assert len(recs) == 5 and {r.source for r in recs} <= {"popularity", "explore"}
    assert rec.recommend(RecommendRequest(user_id=USER, category="no-such-category")) == []


def test_counts_follow_new_events_and_a_new_model_file_is_swapped_in(store, catalog, ranker, tmp_path, monkeypatch):
    import recsys.recommender


    path = ranker.save(tmp_path / "ranker.pt")
    rec = Recommender(store, catalog=catalog, ranker=Ranker.load(path), model_file=path)
    first = rec.ranker
    item = catalog.items[0]
    before = rec.popularity[item.index]
    other_user = "yusuf_rossi_9620"
    rec.feedback(FeedbackEvent(user_id=other_user, session_id="c1", kind="add_to_cart", item_id=item.item_id))
    rec.feedback(FeedbackEvent(user_id=USER, session_id="c2", kind="dislike", item_id=item.item_id))  # the last id
    rec.recommend(RecommendRequest(user_id=USER, session_id="c2", k=3))
    assert rec.popularity[item.index] == before + 1  # counted as it arrived, no restart
    assert rec.ranker is first  # the file did not change
    ProfileService(store).delete(other_user)  # rows removed: everything is counted again…
    rec.recommend(RecommendRequest(user_id=USER, session_id="c2", k=3))
    assert rec.popularity[item.index] == before + 1  # …at the next row-count check, not on every request
    monkeypatch.setattr(recsys.recommender, "COUNT_CHECK_S", 0.0)
    rec.recommend(RecommendRequest(user_id=USER, session_id="c2", k=3))
    assert rec.popularity[item.index] == before

    set_seed(1)
    newer = Ranker(SeqRecModel(store_model_config(catalog), catalog.item_attrs, catalog.content),
                   [it.item_id for it in catalog.items], meta={"trained_at": "later"})
    newer.save(path)
    recs = rec.recommend(RecommendRequest(user_id=USER, session_id="c3", k=5))
    assert rec.ranker is not first and rec.ranker.meta["trained_at"] == "later"
    assert {r.model for r in recs if r.source == "model"} == {rec.ranker.name}
