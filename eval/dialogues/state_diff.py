"""Field-by-field comparison of two stores' orders and users, as τ-bench compares database state.

A snapshot reads the tables that order actions change (orders with their items and payment
history, users with their address and payment methods) into plain dicts; `diff` walks two
snapshots and reports every differing field by path, e.g. `orders[#W1].payment_history[1]`.
`replay` applies ground-truth actions to a store through OrderService, the same rules the agent's
tools use, so the expected state is what a correct conversation would leave behind.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from assistant.orders import OrderService
from retrieval.store import Address, Store
from retrieval.store import tables as t

from eval.dialogues.scenario import WRITE_TOOLS, Action

ORDER_FIELDS = ("user_id", "status", "address", "fulfillments", "cancel_reason", "return_items",
                "return_payment_method_id", "exchange_items", "exchange_new_items",
                "exchange_payment_method_id", "exchange_price_difference")  # fmt: skip


class FieldDiff(BaseModel):
    path: str
    expected: Any = None
    actual: Any = None


def snapshot(store: Store) -> dict:
    """{'orders': {order_id: {...}}, 'users': {user_id: {...}}} straight from the tables, as plain rows
    (no ORM objects: a snapshot is taken twice per run, and building ~10k objects was most of its time)."""
    items_t, payments_t = t.OrderItemRow.__table__, t.PaymentRow.__table__
    with store.session() as s:
        items, payments, methods = defaultdict(list), defaultdict(list), defaultdict(dict)
        for r in s.execute(select(items_t).order_by(items_t.c.order_id, items_t.c.position)):
            items[r.order_id].append({"item_id": r.item_id, "product_id": r.product_id, "price": r.price,
                                      "options": r.options})  # fmt: skip
        for r in s.execute(select(payments_t).order_by(payments_t.c.order_id, payments_t.c.position)):
            payments[r.order_id].append({"transaction_type": r.transaction_type, "amount": round(r.amount, 2),
                                         "payment_method_id": r.payment_method_id})  # fmt: skip
        for r in s.execute(select(t.PaymentMethodRow.__table__)):
            methods[r.user_id][r.payment_method_id] = {"source": r.source, "balance": r.balance}
        orders = {
            o.order_id: {**{f: getattr(o, f) for f in ORDER_FIELDS}, "items": items[o.order_id],
                         "payment_history": payments[o.order_id]}
            for o in s.execute(select(t.Order.__table__))
        }  # fmt: skip
        users = {
            u.user_id: {"first_name": u.first_name, "last_name": u.last_name, "email": u.email,
                        "address": u.address, "payment_methods": methods[u.user_id]}
            for u in s.execute(select(t.User.__table__))
        }  # fmt: skip
    return {"orders": orders, "users": users}


def diff(expected: Any, actual: Any, path: str = "") -> list[FieldDiff]:
    """Every differing leaf between two snapshots (or parts of them); floats compared to the cent."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            sub = f"{path}[{key}]" if path in ("orders", "users") or path.endswith("payment_methods") else (
                f"{path}.{key}" if path else str(key))
            if key not in actual:
                out.append(FieldDiff(path=sub, expected=expected[key], actual=None))
            elif key not in expected:
                out.append(FieldDiff(path=sub, expected=None, actual=actual[key]))
            else:
                out.extend(diff(expected[key], actual[key], sub))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            sub = f"{path}[{i}]"
            if i >= len(actual):
                out.append(FieldDiff(path=sub, expected=expected[i], actual=None))
            elif i >= len(expected):
                out.append(FieldDiff(path=sub, expected=None, actual=actual[i]))
            else:
                out.extend(diff(expected[i], actual[i], sub))
        return out
    if isinstance(expected, float | int) and isinstance(actual, float | int) and not isinstance(expected, bool):
        return [] if abs(expected - actual) < 0.005 else [FieldDiff(path=path, expected=expected, actual=actual)]
    return [] if expected == actual else [FieldDiff(path=path, expected=expected, actual=actual)]


class ReplayError(RuntimeError):
    """A ground-truth action cannot be applied to the store (the task and the store disagree)."""


def replay(store: Store, actions: list[Action]) -> None:
    """Apply write actions in order through OrderService; read-only actions are skipped."""
    service = OrderService(store)
    for action in actions:
        if action.name not in WRITE_TOOLS:
            continue
        if not action.user_id:
            raise ReplayError(f"{action.name}: replaying a write action needs its user_id")
        args = dict(action.arguments)
        try:
            if action.name in ("update_default_address", "modify_pending_order_address"):
                order_id = args.pop("order_id", None)
                address = Address.model_validate({"address2": "", "country": "USA", **args})
                if order_id is None:
                    service.update_default_address(action.user_id, address)
                else:
                    service.modify_pending_order_address(action.user_id, order_id, address)
            else:
                getattr(service, action.name)(action.user_id, **args)
        except Exception as exc:  # PolicyError, TypeError from wrong arguments
            raise ReplayError(f"{action.name}({args}) as {action.user_id}: {exc}") from exc
