"""State comparison: replaying ground truth vs what a run did, field by field."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from eval.dialogues.runner import DialogueRunner
from eval.dialogues.scenario import Action
from eval.dialogues.state_diff import ReplayError, diff, replay, snapshot
from retrieval.store import tables as t

# Real ids from the demo store.
USER, DELIVERED, PENDING = "aarav_santos_2259", "#W8528674", "#W9672333"  # pays with paypal_7664977
GIFT_USER, GIFT_PENDING, GIFT = "aarav_thomas_2711", "#W5158064", "gift_card_6253568"


@pytest.fixture
def copies(seeded_store, tmp_path):
    runner, made = DialogueRunner(seeded_store, tmp_path), []

    def fresh():
        made.append(runner.fresh_store())
        return made[-1]

    yield fresh
    for s in made:
        s.drop()


def _return(item_id: str) -> Action:
    return Action(name="return_delivered_order_items", user_id=USER,
                  arguments={"order_id": DELIVERED, "item_ids": [item_id], "payment_method_id": "paypal_7664977"})  # fmt: skip


def test_identical_states_have_no_diff(seeded_store):
    assert diff(snapshot(seeded_store), snapshot(seeded_store)) == []


def test_wrong_item_id_is_caught(copies):
    expected, actual = copies(), copies()
    replay(expected, [_return("4716977452")])
    replay(actual, [_return("6704763132")])  # the other Bluetooth speaker of the same order
    diffs = diff(snapshot(expected), snapshot(actual))
    assert [d.path for d in diffs] == [f"orders[{DELIVERED}].return_items[0]"]
    assert diffs[0].expected == "4716977452" and diffs[0].actual == "6704763132"


def test_missing_refund_is_caught(copies):
    expected, actual = copies(), copies()
    replay(expected, [Action(name="cancel_pending_order", user_id=GIFT_USER,
                             arguments={"order_id": GIFT_PENDING, "reason": "no longer needed"})])  # fmt: skip
    # An agent that only flips the status, with no refund and no gift-card credit.
    with actual.session() as s:
        s.execute(update(t.Order).where(t.Order.order_id == GIFT_PENDING).values(status="cancelled", cancel_reason="no longer needed"))
    paths = {d.path for d in diff(snapshot(expected), snapshot(actual))}
    assert f"orders[{GIFT_PENDING}].payment_history[1]" in paths
    assert f"users[{GIFT_USER}].payment_methods[{GIFT}].balance" in paths


def test_extra_action_is_caught(copies):
    start = copies()
    actual = copies()
    replay(actual, [Action(name="cancel_pending_order", user_id=USER,
                           arguments={"order_id": PENDING, "reason": "ordered by mistake"})])  # fmt: skip
    paths = {d.path for d in diff(snapshot(start), snapshot(actual))}
    assert f"orders[{PENDING}].status" in paths and f"orders[{PENDING}].cancel_reason" in paths


def test_replay_refuses_impossible_actions(copies):
    with pytest.raises(ReplayError, match="pending"):
        replay(copies(), [Action(name="cancel_pending_order", user_id=USER,
                                 arguments={"order_id": DELIVERED, "reason": "no longer needed"})])  # fmt: skip
    with pytest.raises(ReplayError, match="user_id"):
        replay(copies(), [Action(name="cancel_pending_order", arguments={"order_id": PENDING, "reason": "no longer needed"})])


def test_address_actions_replay(copies):
    store = copies()
    address = {"address1": "1 Elm St", "city": "Austin", "state": "TX", "zip": "78701"}
    replay(store, [Action(name="update_default_address", user_id=USER, arguments=address),
                   Action(name="modify_pending_order_address", user_id=USER, arguments={"order_id": PENDING, **address})])  # fmt: skip
    snap = snapshot(store)
    assert snap["users"][USER]["address"]["address1"] == "1 Elm St"
    assert snap["orders"][PENDING]["address"]["zip"] == "78701"
