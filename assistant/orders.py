"""Order service: the shop policy's rules for reading and changing orders, enforced in code.

Every method takes the signed-in user's id from the session (never from the model) and refuses
orders of anyone else with the same answer as a missing order, so nothing leaks. State-changing
methods run in one database transaction and follow the τ²-bench retail rules
(retrieval/store/data/policy.md), so a τ task's ground-truth actions replay to the same state.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from retrieval.store import Address, OrderRecord, Store, UserRecord
from retrieval.store import tables as t
from retrieval.store.db import order_record, user_record

CANCEL_REASONS = ("no longer needed", "ordered by mistake")


class OrderAction(NamedTuple):
    statuses: frozenset[str]
    refusal: str  # said after "Order #… is <status>; "


# The one status → action table (policy.md): which order statuses each order tool accepts. The
# service's own checks read it, and so does everything else (flows, the agent's routing, choices):
# an order an action cannot touch is never offered for it.
ACTIONS: dict[str, OrderAction] = {
    "cancel_pending_order": OrderAction(frozenset({"pending"}), "only pending orders can be cancelled."),
    "modify_pending_order_items": OrderAction(frozenset({"pending"}), "items can be changed once, and only while pending."),
    "modify_pending_order_address": OrderAction(frozenset({"pending", "pending (item modified)"}), "only pending orders can be changed."),
    "modify_pending_order_payment": OrderAction(frozenset({"pending", "pending (item modified)"}), "only pending orders can be changed."),
    "return_delivered_order_items": OrderAction(frozenset({"delivered"}), "only delivered orders can be returned."),
    "exchange_delivered_order_items": OrderAction(frozenset({"delivered"}), "only delivered orders can be exchanged."),
}  # fmt: skip


class PolicyError(ValueError):
    """The request breaks the shop policy or names something that isn't there; the message says which."""


class OrderService:
    def __init__(self, store: Store, dry_run: bool = False) -> None:
        self.store = store
        self.dry_run = dry_run  # check every rule, then roll back: how a proposal is tested before asking

    @staticmethod
    def allows(tool: str, status: str) -> bool:
        """Whether an order of this status accepts this action (the ACTIONS table)."""
        return tool in ACTIONS and status in ACTIONS[tool].statuses

    @staticmethod
    def actions_for(status: str) -> set[str]:
        """The order tools an order of this status accepts."""
        return {tool for tool, action in ACTIONS.items() if status in action.statuses}

    @staticmethod
    def statuses_for(tool: str) -> frozenset[str]:
        return ACTIONS[tool].statuses

    @staticmethod
    def _require(order: t.Order, tool: str) -> None:
        if order.status not in ACTIONS[tool].statuses:
            raise PolicyError(f"Order {order.order_id} is {order.status}; {ACTIONS[tool].refusal}")

    def _tx(self):
        return self.store.session(dry_run=self.dry_run)

    # -- identity ---------------------------------------------------------------------------

    def find_user_by_email(self, email: str) -> str:
        user = self.store.user_by_email(email)
        if user is None:
            raise PolicyError("No customer found with that email.")
        return user.user_id

    def find_user_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        with self._tx() as s:
            rows = s.scalars(
                select(t.User).where(
                    t.User.first_name.ilike(first_name.strip()),
                    t.User.last_name.ilike(last_name.strip()),
                )
            ).all()
            for row in rows:
                if row.address.get("zip") == zip.strip():
                    return row.user_id
        raise PolicyError("No customer found with that name and zip code.")

    def user(self, user_id: str) -> UserRecord:
        user = self.store.user(user_id)
        if user is None:
            raise PolicyError("Customer not found.")
        return user

    # -- reads ------------------------------------------------------------------------------

    def order(self, user_id: str, order_id: str) -> OrderRecord:
        with self._tx() as s:
            return order_record(self._own_order(s, user_id, order_id))

    def orders(self, user_id: str) -> list[OrderRecord]:
        return self.store.orders_of(user_id)

    # -- writes -----------------------------------------------------------------------------

    def cancel_pending_order(self, user_id: str, order_id: str, reason: str) -> OrderRecord:
        with self._tx() as s:
            order = self._own_order(s, user_id, order_id)
            self._require(order, "cancel_pending_order")
            if reason not in CANCEL_REASONS:
                raise PolicyError("The reason must be 'no longer needed' or 'ordered by mistake'.")
            for payment in list(order.payments):
                self._add_payment(order, "refund", payment.amount, payment.payment_method_id)
                method = self._method(s, user_id, payment.payment_method_id)
                if method.source == "gift_card":  # gift cards are refunded at once
                    method.balance = round((method.balance or 0) + payment.amount, 2)
            order.status = "cancelled"
            order.cancel_reason = reason
            s.flush()
            return order_record(order)

    def modify_pending_order_address(self, user_id: str, order_id: str, address: Address) -> OrderRecord:
        with self._tx() as s:
            order = self._own_order(s, user_id, order_id)
            self._require(order, "modify_pending_order_address")
            order.address = address.model_dump()
            s.flush()
            return order_record(order)

    def modify_pending_order_payment(self, user_id: str, order_id: str, payment_method_id: str) -> OrderRecord:
        with self._tx() as s:
            order = self._own_order(s, user_id, order_id)
            self._require(order, "modify_pending_order_payment")
            method = self._method(s, user_id, payment_method_id)
            if len(order.payments) != 1 or order.payments[0].transaction_type != "payment":
                raise PolicyError("This order's payment can no longer be changed.")
            old = order.payments[0]
            if old.payment_method_id == payment_method_id:
                raise PolicyError("That is already the payment method of this order.")
            amount = old.amount
            _require_cover(method, amount)
            self._add_payment(order, "payment", amount, payment_method_id)
            self._add_payment(order, "refund", amount, old.payment_method_id)
            if method.source == "gift_card":
                method.balance = round(method.balance - amount, 2)
            old_method = self._method(s, user_id, old.payment_method_id)
            if old_method.source == "gift_card":
                old_method.balance = round((old_method.balance or 0) + amount, 2)
            s.flush()
            return order_record(order)

    def modify_pending_order_items(
        self, user_id: str, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> OrderRecord:
        with self._tx() as s:
            order = self._own_order(s, user_id, order_id)
            self._require(order, "modify_pending_order_items")
            pairs = self._swaps(s, order, item_ids, new_item_ids)
            diff = round(sum(new.price - old.price for old, new in pairs), 2)
            method = self._method(s, user_id, payment_method_id)
            _require_cover(method, diff)
            self._add_payment(order, "payment" if diff > 0 else "refund", abs(diff), payment_method_id)
            if method.source == "gift_card":
                method.balance = round(method.balance - diff, 2)
            for old, new in pairs:
                old.item_id, old.price, old.options = new.item_id, new.price, dict(new.options)
            order.status = "pending (item modified)"
            s.flush()
            return order_record(order)

    def return_delivered_order_items(
        self, user_id: str, order_id: str, item_ids: list[str], payment_method_id: str
    ) -> OrderRecord:
        with self._tx() as s:
            order = self._own_order(s, user_id, order_id)
            self._require(order, "return_delivered_order_items")
            method = self._method(s, user_id, payment_method_id)
            if method.source != "gift_card" and payment_method_id != order.payments[0].payment_method_id:
                raise PolicyError("A refund goes to the original payment method or to a gift card.")
            self._check_items_in_order(order, item_ids)
            order.status = "return requested"
            order.return_items = sorted(item_ids)
            order.return_payment_method_id = payment_method_id
            s.flush()
            return order_record(order)

    def exchange_delivered_order_items(
        self, user_id: str, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> OrderRecord:
        with self._tx() as s:
            order = self._own_order(s, user_id, order_id)
            self._require(order, "exchange_delivered_order_items")
            pairs = self._swaps(s, order, item_ids, new_item_ids)
            diff = round(sum(new.price - old.price for old, new in pairs), 2)
            method = self._method(s, user_id, payment_method_id)
            _require_cover(method, diff)
            order.status = "exchange requested"
            order.exchange_items = sorted(item_ids)
            order.exchange_new_items = sorted(new_item_ids)
            order.exchange_payment_method_id = payment_method_id
            order.exchange_price_difference = diff
            s.flush()
            return order_record(order)

    def update_default_address(self, user_id: str, address: Address) -> UserRecord:
        with self._tx() as s:
            user = s.get(t.User, user_id)
            if user is None:
                raise PolicyError("Customer not found.")
            user.address = address.model_dump()
            s.flush()
            return user_record(user)

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _own_order(s: Session, user_id: str, order_id: str) -> t.Order:
        order_id = order_id.strip()
        if order_id and not order_id.startswith("#"):
            order_id = "#" + order_id
        order = s.get(t.Order, order_id)
        # Someone else's order gets the same answer as a missing one: nothing to learn by guessing ids.
        if order is None or order.user_id != user_id:
            raise PolicyError(f"I can't find order {order_id} on your account.")
        return order

    @staticmethod
    def _method(s: Session, user_id: str, payment_method_id: str) -> t.PaymentMethodRow:
        method = s.get(t.PaymentMethodRow, payment_method_id)
        if method is None or method.user_id != user_id:
            raise PolicyError(f"Payment method {payment_method_id} is not one of yours.")
        return method

    @staticmethod
    def _check_items_in_order(order: t.Order, item_ids: list[str]) -> None:
        if not item_ids:
            raise PolicyError("Name at least one item.")
        have = Counter(i.item_id for i in order.items)
        for item_id, n in Counter(item_ids).items():
            if n > have[item_id]:
                raise PolicyError(f"Item {item_id} is not in order {order.order_id}.")

    def _swaps(
        self, s: Session, order: t.Order, item_ids: list[str], new_item_ids: list[str]
    ) -> list[tuple[t.OrderItemRow, t.Variant]]:
        self._check_items_in_order(order, item_ids)
        if len(item_ids) != len(new_item_ids):
            raise PolicyError("Each item needs exactly one replacement.")
        pairs, used = [], set()
        for item_id, new_id in zip(item_ids, new_item_ids):
            if item_id == new_id:  # the policy: "…to a new item of the same product but of different product option"
                raise PolicyError(f"Item {item_id} would be replaced by itself; only a different option is allowed.")
            old = next(i for i in order.items if i.item_id == item_id and id(i) not in used)
            used.add(id(old))
            new = s.get(t.Variant, new_id)
            if new is None or new.product_id != old.product_id:
                raise PolicyError(f"Item {new_id} is not an option of the same product as {item_id}.")
            if not new.available:
                raise PolicyError(f"Item {new_id} is not available.")
            pairs.append((old, new))
        return pairs

    @staticmethod
    def _add_payment(order: t.Order, kind: str, amount: float, method_id: str) -> None:
        order.payments.append(
            t.PaymentRow(
                position=len(order.payments), transaction_type=kind, amount=amount, payment_method_id=method_id
            )
        )


def _require_cover(method: t.PaymentMethodRow, amount: float) -> None:
    """A gift card must hold enough to pay what it is asked to pay."""
    if method.source == "gift_card" and (method.balance or 0) < amount:
        raise PolicyError(f"The gift card balance ({method.balance or 0:.2f}) does not cover {amount:.2f}.")
