"""Order actions as declared flows: one entry per action, driven by one generic form loop (form.py).

An entry says which tool the action ends in, which slots it needs in which order, how each slot is
asked (a key of prompts/replies.yaml) and how the confirmation reads. The order statuses it may
touch are not repeated here: they come from `OrderService`'s one table (assistant/orders.py).

Adding an order action = one entry below + one `OrderService` method (and its tool): see
docs/flows.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.orders import OrderService

# Slots a flow may need, in the order a person is asked them; each has a filler in form.py.
SLOTS = ("order_id", "item_ids", "new_item_ids", "reason", "address", "payment_method_id")


@dataclass(frozen=True)
class Flow:
    name: str
    route: str  # the conversation route (intent) that starts it
    tool: str  # the state-changing tool it proposes
    slots: tuple[str, ...]  # required, asked in this order
    ask: dict[str, str] = field(default_factory=dict)  # slot → reply key that asks for it
    confirm: str = ""  # reply key of the confirmation's description
    on_order: bool = True  # acts on one of the customer's orders (else on the account)

    @property
    def statuses(self) -> frozenset[str]:
        """The order statuses this action may touch: OrderService's table, nowhere else."""
        return OrderService.statuses_for(self.tool) if self.on_order else frozenset()

    def allows(self, status: str) -> bool:
        return OrderService.allows(self.tool, status)


_ASK = {"order_id": "ask_order", "item_ids": "ask_items", "new_item_ids": "ask_new_option",
        "payment_method_id": "ask_payment", "reason": "ask_cancel_reason", "address": "ask_address"}  # fmt: skip


def _flow(name: str, route: str, tool: str, slots: tuple[str, ...], confirm: str, on_order: bool = True) -> Flow:
    return Flow(name, route, tool, slots, {s: _ASK[s] for s in slots}, confirm, on_order)


FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        _flow("cancel", "cancel_order", "cancel_pending_order", ("order_id", "reason"), "desc_cancel"),
        _flow("modify_items", "modify_order", "modify_pending_order_items",
              ("order_id", "item_ids", "new_item_ids", "payment_method_id"), "desc_swap"),
        _flow("modify_payment", "payment", "modify_pending_order_payment", ("order_id", "payment_method_id"), "desc_payment"),
        _flow("modify_address", "update_address", "modify_pending_order_address", ("address", "order_id"), "desc_order_address"),
        _flow("return", "return", "return_delivered_order_items", ("order_id", "item_ids", "payment_method_id"), "desc_return"),
        _flow("exchange", "exchange", "exchange_delivered_order_items",
              ("order_id", "item_ids", "new_item_ids", "payment_method_id"), "desc_swap"),
        _flow("default_address", "update_address", "update_default_address", ("address",), "desc_default_address", on_order=False),
    )
}  # fmt: skip

BY_TOOL: dict[str, Flow] = {f.tool: f for f in FLOWS.values()}


def flow_for_tool(tool: str) -> Flow | None:
    return BY_TOOL.get(tool)


def routes_for(status: str) -> set[str]:
    """The routes (order actions) an order of this status allows: read from OrderService's table."""
    return {f.route for f in FLOWS.values() if f.on_order and f.allows(status)}

