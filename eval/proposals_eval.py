"""`aisle eval proposals`: how the agent reads the shopper's reply to a proposal, one reply at a time.

Each setup (eval/data/proposals/setups.json) is a signed-in conversation over the demo store that ends with
ONE pending proposal; each case (cases.json, written blind from SETUPS.md) is one reply to it and the outcome
it should have: run, decline, wait or change. Every case runs on a fresh copy of the store.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DATA = Path(__file__).parent / "data" / "proposals"
SETUPS = DATA / "setups.json"
SWAP_TOOLS = ("exchange_delivered_order_items", "modify_pending_order_items")
MAX_VARIANTS = 12  # other variants listed per product in SETUPS.md


class Setup(BaseModel):
    """A conversation that reaches one pending proposal."""

    model_config = ConfigDict(extra="forbid")

    id: str
    customer_email: str
    messages: list[str] = Field(min_length=1)
    tool: str
    arguments: dict


def load_setups(path: Path = SETUPS) -> list[Setup]:
    import json

    return [Setup.model_validate(s) for s in json.loads(path.read_text(encoding="utf-8"))]


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _options(options: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in options.items())


def _method(m) -> str:
    if m.source == "gift_card":
        return f"`{m.payment_method_id}`: gift card, balance {_money(m.balance or 0)}"
    if m.source == "credit_card":
        return f"`{m.payment_method_id}`: credit card, {m.brand} ending {m.last_four}"
    return f"`{m.payment_method_id}`: PayPal"


def _address(a) -> str:
    return ", ".join(x for x in (a.address1, a.address2, a.city, a.state, a.zip, a.country) if x)


def _others(product, current_id: str, keep: set[str]) -> list:
    """The product's other available variants, those closest to the ordered one first (at most MAX_VARIANTS,
    always keeping the proposed ones)."""
    now = next((v for v in product.variants if v.item_id == current_id), None)
    base = now.options if now else {}
    others = [v for v in product.variants if v.available and v.item_id != current_id]
    others.sort(key=lambda v: (v.item_id not in keep, sum(base.get(k) != x for k, x in v.options.items()), v.item_id))
    return others[:MAX_VARIANTS]


def _proposed_in_words(setup: Setup, order, names: dict[str, str]) -> str:
    a, tool = setup.arguments, setup.tool
    items = {i.item_id: i for i in order.items}
    if tool in SWAP_TOOLS:
        verb = "exchange" if tool.startswith("exchange") else "change (modify) in the pending order"
        pairs = "; ".join(f"{items[o].name} `{o}` ({_options(items[o].options)}) → `{n}`" for o, n in zip(a["item_ids"], a["new_item_ids"]))
        return f"{verb}: {pairs}; the price difference paid or refunded via `{a['payment_method_id']}` ({names[a['payment_method_id']]})"
    if tool == "return_delivered_order_items":
        listed = ", ".join(f"{items[i].name} `{i}`" for i in a["item_ids"])
        return f"return {listed}; refund to `{a['payment_method_id']}` ({names[a['payment_method_id']]})"
    if tool == "cancel_pending_order":
        return f"cancel the whole order, reason \"{a['reason']}\""
    if tool == "modify_pending_order_address":
        return "ship the order to " + ", ".join(str(a[k]) for k in ("address1", "address2", "city", "state", "zip", "country") if a.get(k))
    if tool == "modify_pending_order_payment":
        return f"pay the order with `{a['payment_method_id']}` ({names[a['payment_method_id']]}) instead"
    return tool


def setups_markdown(setups: list[Setup], store, proposals: dict[str, str] | None = None) -> str:
    """SETUPS.md: what a blind case writer reads about each setup (facts of the store, nothing about how the
    agent reads a reply). `proposals`: the agent's own proposal text per setup id, shown as said."""
    out = [SETUPS_HEADER]
    for s in setups:
        user = store.user_by_email(s.customer_email)
        order = store.order(s.arguments["order_id"])
        names = {m.payment_method_id: _method(m).split(": ", 1)[1] for m in user.payment_methods}
        out.append(f"## `{s.id}`\n")
        out.append(f"**Customer:** {user.first_name} {user.last_name}, {user.email} (user id `{user.user_id}`). "
                   f"Default address: {_address(user.address)}.\n")  # fmt: skip
        out.append("**Payment methods:** " + "; ".join(_method(m) for m in user.payment_methods) + ".\n")
        paid = ", ".join(f"{_money(p.amount)} {p.transaction_type} via `{p.payment_method_id}`" for p in order.payment_history)
        out.append(f"**Order {order.order_id}** ({order.status}), shipping to {_address(order.address)}; paid: {paid}.\n")
        out += [f"- `{i.item_id}` {i.name} ({_options(i.options)}), {_money(i.price)}" for i in order.items]
        others = [o for o in store.orders_of(user.user_id) if o.order_id != order.order_id]
        if others:
            out.append("\n**The customer's other orders:** " + "; ".join(
                f"{o.order_id} ({o.status}: {', '.join(i.name for i in o.items)})" for o in others) + ".")  # fmt: skip
        out.append("\n**What the customer said to get here:**\n")
        out += [f"{n}. \"{m}\"" for n, m in enumerate(s.messages, 1)]
        out.append(f"\n**Pending proposal:** {_proposed_in_words(s, order, names)}.\n")
        out.append(f"Tool `{s.tool}`, arguments `{_json(s.arguments)}`.\n")
        if proposals and s.id in proposals:
            out.append("The agent's last message (verbatim):\n\n> " + proposals[s.id].strip().replace("\n", "\n> ") + "\n")
        if s.tool in SWAP_TOOLS:
            out.append("**Other available variants** (item id, options, price) of the products in this order:\n")
            keep = set(s.arguments["new_item_ids"])
            seen: set[str] = set()
            for i in order.items:
                if i.product_id in seen:
                    continue
                seen.add(i.product_id)
                out.append(f"- {i.name} (ordered: `{i.item_id}`):")
                out += [f"  - `{v.item_id}` {_options(v.options)}, {_money(v.price)}" for v in _others(store.product(i.product_id), i.item_id, keep)]
            out.append("")
        out.append("")
    return "\n".join(out)


def _json(x) -> str:
    import json

    return json.dumps(x, ensure_ascii=False)


SETUPS_HEADER = """# Proposal setups (for the case writer)

Each setup below is a conversation with Aisle's shop assistant, signed in as a demo-store customer, that ends
with the assistant proposing ONE state-changing action and asking the customer to confirm it. A case is the
customer's next message (the reply) and what should happen. Outcomes:

- `run`: the proposed action is carried out exactly as proposed.
- `decline`: nothing is carried out and no proposal is left waiting.
- `wait`: nothing is carried out and the same proposal is still waiting (a question answered, or an unclear
  reply asked again).
- `change`: nothing is carried out yet and a NEW proposal is waiting whose arguments contain `expect.arguments`
  (only the keys given are compared; lists compared as sets). The new proposal must be possible in the store:
  replacements are other available variants of the same product, refunds go to the original payment method or a
  gift card, a cancel reason is "no longer needed" or "ordered by mistake".

Argument keys by tool: `exchange_delivered_order_items` / `modify_pending_order_items`: order_id, item_ids,
new_item_ids (paired with item_ids in order), payment_method_id; `return_delivered_order_items`: order_id,
item_ids, payment_method_id; `cancel_pending_order`: order_id, reason; `modify_pending_order_address`: order_id,
address1, address2, city, state, country, zip; `modify_pending_order_payment`: order_id, payment_method_id.

Case format (a list in cases.json): `{"id": "p-001", "setup": "<setup id>", "lang": "en" | "zh", "reply": "…",
"style": "<short free label>", "expect": {"outcome": "run" | "decline" | "wait" | "change", "arguments": {…}}}`
(`arguments` only for `change`).
"""
