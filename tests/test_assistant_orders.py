"""Order rules of the shop policy, on a real store (τ²-bench semantics)."""

from __future__ import annotations

import pytest

from assistant.orders import OrderService, PolicyError
from retrieval.store import Address, Store

YUSUF = "yusuf_rossi_9620"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(seeded_store, tmp_path, request):
    """Every rule on both engines: a SQLite copy of the demo store, and one in PostgreSQL."""
    if request.param == "sqlite":
        yield seeded_store.copy_to(f"sqlite:///{tmp_path / 'orders.db'}")
        return
    postgres, template = request.getfixturevalue("postgres"), request.getfixturevalue("pg_demo")
    store = Store(postgres.database(template=template))
    yield store
    store.engine.dispose()


@pytest.fixture
def orders(store):
    return OrderService(store)


def _gift_card_user(store: Store) -> tuple[str, str, str]:
    """A user with a pending order paid by gift card: (user, order, gift card)."""
    from sqlalchemy import select

    from retrieval.store import tables as t

    with store.session() as s:
        for order in s.scalars(select(t.Order).where(t.Order.status == "pending")):
            method = order.payments[0].payment_method_id
            if method.startswith("gift_card") and len(order.payments) == 1:
                return order.user_id, order.order_id, method
    raise AssertionError("no gift-card order in the demo store")


def test_find_user_by_email_and_by_name_zip(orders):
    assert orders.find_user_by_email("Yusuf.Rossi7301@example.com") == YUSUF
    assert orders.find_user_by_name_zip("yusuf", "rossi", "19122") == YUSUF
    with pytest.raises(PolicyError):
        orders.find_user_by_name_zip("Yusuf", "Rossi", "00000")


def test_someone_elses_order_looks_missing(orders):
    with pytest.raises(PolicyError, match="can't find order #W2611340 on your account"):
        orders.order(YUSUF, "#W2611340")  # james_li_5688's order
    with pytest.raises(PolicyError, match="can't find order #W0000000 on your account"):
        orders.order(YUSUF, "#W0000000")


def test_cancel_pending_refunds_and_records_reason(orders, store):
    user, order_id, card = _gift_card_user(store)
    balance = next(m.balance for m in store.user(user).payment_methods if m.payment_method_id == card)
    paid = store.order(order_id).payment_history[0].amount
    order = orders.cancel_pending_order(user, order_id, "no longer needed")
    assert order.status == "cancelled" and order.cancel_reason == "no longer needed"
    assert order.payment_history[-1].model_dump() == {"transaction_type": "refund", "amount": paid, "payment_method_id": card}
    after = next(m.balance for m in store.user(user).payment_methods if m.payment_method_id == card)
    assert after == round(balance + paid, 2)


def test_cancel_rules(orders, store):
    with pytest.raises(PolicyError, match="only pending orders"):
        orders.cancel_pending_order(YUSUF, "#W2378156", "no longer needed")  # delivered
    with pytest.raises(PolicyError, match="reason"):
        orders.cancel_pending_order(YUSUF, "#W6247578", "changed my mind")
    assert store.order("#W6247578").status == "pending"


def test_exchange_records_items_and_price_difference(orders, store):
    order = orders.exchange_delivered_order_items(
        YUSUF, "#W2378156", ["1151293680", "4983901480"], ["7706410293", "7747408585"], "credit_card_9513926"
    )
    assert order.status == "exchange requested"
    assert order.exchange_items == ["1151293680", "4983901480"]
    assert order.exchange_new_items == ["7706410293", "7747408585"]
    expected = 0.0
    for old, new in (("1151293680", "7706410293"), ("4983901480", "7747408585")):
        old_price = next(i.price for i in order.items if i.item_id == old)
        new_price = next(v.price for p in store.products() for v in p.variants if v.item_id == new)
        expected += new_price - old_price
    assert order.exchange_price_difference == round(expected, 2)
    with pytest.raises(PolicyError, match="only delivered"):
        orders.exchange_delivered_order_items(YUSUF, "#W2378156", ["1151293680"], ["7706410293"], "credit_card_9513926")


def test_exchange_refuses_other_products_and_unknown_methods(orders):
    with pytest.raises(PolicyError, match="same product"):
        orders.exchange_delivered_order_items(YUSUF, "#W2378156", ["1151293680"], ["9612497925"], "credit_card_9513926")
    with pytest.raises(PolicyError, match="not one of yours"):
        orders.exchange_delivered_order_items(YUSUF, "#W2378156", ["1151293680"], ["7706410293"], "paypal_5727330")
    # "…to an available new item of the same product but of different product option": not the item itself
    with pytest.raises(PolicyError, match="replaced by itself"):
        orders.exchange_delivered_order_items(YUSUF, "#W2378156", ["1151293680"], ["1151293680"], "credit_card_9513926")


def test_modify_items_once_with_payment(orders, store):
    # T-Shirt black XXL cotton crew neck -> blue M cotton crew neck (9612497925)
    order = orders.modify_pending_order_items(YUSUF, "#W6247578", ["3799046073"], ["9612497925"], "credit_card_9513926")
    assert order.status == "pending (item modified)"
    assert order.items[0].item_id == "9612497925" and order.items[0].options["size"] == "M"
    diff = round(50.88 - 53.27, 2)
    assert order.payment_history[-1].transaction_type == "refund"
    assert order.payment_history[-1].amount == abs(diff)
    with pytest.raises(PolicyError, match="once"):
        orders.modify_pending_order_items(YUSUF, "#W6247578", ["9612497925"], ["3799046073"], "credit_card_9513926")


def test_return_goes_to_original_method_or_gift_card(orders):
    order = orders.return_delivered_order_items(YUSUF, "#W6679257", ["5996159312"], "credit_card_9513926")
    assert order.status == "return requested" and order.return_items == ["5996159312"]
    with pytest.raises(PolicyError, match="not in order"):
        orders.return_delivered_order_items(YUSUF, "#W2378156", ["0000000000"], "credit_card_9513926")


def test_address_changes(orders):
    address = Address(address1="1 Main St", city="Philadelphia", state="PA", country="USA", zip="19122")
    assert orders.modify_pending_order_address(YUSUF, "#W6247578", address).address == address
    with pytest.raises(PolicyError, match="only pending"):
        orders.modify_pending_order_address(YUSUF, "#W2378156", address)
    assert orders.update_default_address(YUSUF, address).address == address


def test_failed_action_changes_nothing(orders, store):
    before = store.order("#W2378156")
    with pytest.raises(PolicyError):
        orders.exchange_delivered_order_items(YUSUF, "#W2378156", ["1151293680", "4983901480"],
                                              ["7706410293", "9612497925"], "credit_card_9513926")  # fmt: skip
    assert store.order("#W2378156") == before
