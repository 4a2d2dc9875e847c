"""Options built from the store's own records: a customer's orders, an order's items, a product's variants.

The label is what a person (or the model) reads; the facts are what the rule reader scores (option
values without their keys: "size", "color" are said of every item and tell nothing apart).
"""

from __future__ import annotations

from retrieval.store.schema import OrderItem, OrderRecord, VariantRecord

from assistant.understand import Option


def _option_words(options: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in options.items())


def order_option(order: OrderRecord, position: int | None = None) -> Option:
    """'<order id> · <status> · <city>, <state> · <item> (<option values>), …'."""
    a = order.address
    names = list(dict.fromkeys(i.name for i in order.items))
    items = ", ".join(f"{i.name} ({', '.join(i.options.values())})" if i.options else i.name for i in order.items)
    return Option(
        id=order.order_id,
        kind="order",
        label=f"{order.order_id} · {order.status} · {a.city}, {a.state} · {items}",
        facts={
            "name": "; ".join(names),
            "options": "; ".join(", ".join(i.options.values()) for i in order.items),
            "status": order.status,
            "city": a.city,
            "state": a.state,
        },
        price=round(sum(i.price for i in order.items), 2),
        position=position,
    )


def item_option(item: OrderItem) -> Option:
    """'<item> (<option> <value>, …) · $<price>'."""
    opts = f" ({_option_words(item.options)})" if item.options else ""
    return Option(
        id=item.item_id,
        kind="item",
        label=f"{item.name}{opts} · ${item.price:.2f}",
        facts={"name": item.name, "options": ", ".join(item.options.values())},
        price=item.price,
    )


def variant_option(product_name: str, variant: VariantRecord, current: dict[str, str] | None = None) -> Option:
    """A new option to exchange or change to: its option values are what tells variants apart; with the
    item it replaces (`current`), the values it keeps ("the same one but in black": change only what is said)."""
    stock = "" if variant.available else " · unavailable"
    facts = {"options": ", ".join(variant.options.values())}
    if current:
        facts["kept"] = ", ".join(v for k, v in variant.options.items() if current.get(k) == v)
    return Option(
        id=variant.item_id,
        kind="option",
        label=f"{product_name} ({_option_words(variant.options)}) · ${variant.price:.2f}{stock}",
        facts=facts,
        price=variant.price,
    )


def order_items(order: OrderRecord) -> list[Option]:
    """The order's items, one option per item id (two identical units are one choice)."""
    seen: dict[str, OrderItem] = {}
    for item in order.items:
        seen.setdefault(item.item_id, item)
    return [item_option(i) for i in seen.values()]
