"""Order tools: thin wrappers; the rules live in assistant/orders.py (OrderService)."""

from __future__ import annotations

from assistant.tools.args import (
    CancelArgs,
    HandoffArgs,
    OrderAddressArgs,
    OrderArgs,
    OrderPaymentArgs,
    ReturnArgs,
    SwapItemsArgs,
)
from retrieval.store import Address


def _dump(order) -> dict:
    return order.model_dump(mode="json", exclude_none=True)


def get_order_details(ctx, args: OrderArgs) -> dict:
    return _dump(ctx.orders.order(ctx.user_id, args.order_id))


def cancel_pending_order(ctx, args: CancelArgs) -> dict:
    return _dump(ctx.orders.cancel_pending_order(ctx.user_id, args.order_id, args.reason))


def modify_pending_order_address(ctx, args: OrderAddressArgs) -> dict:
    address = Address(**args.model_dump(exclude={"order_id"}))
    return _dump(ctx.orders.modify_pending_order_address(ctx.user_id, args.order_id, address))


def modify_pending_order_payment(ctx, args: OrderPaymentArgs) -> dict:
    return _dump(ctx.orders.modify_pending_order_payment(ctx.user_id, args.order_id, args.payment_method_id))


def modify_pending_order_items(ctx, args: SwapItemsArgs) -> dict:
    return _dump(
        ctx.orders.modify_pending_order_items(
            ctx.user_id, args.order_id, args.item_ids, args.new_item_ids, args.payment_method_id
        )
    )


def return_delivered_order_items(ctx, args: ReturnArgs) -> dict:
    return _dump(
        ctx.orders.return_delivered_order_items(ctx.user_id, args.order_id, args.item_ids, args.payment_method_id)
    )


def exchange_delivered_order_items(ctx, args: SwapItemsArgs) -> dict:
    return _dump(
        ctx.orders.exchange_delivered_order_items(
            ctx.user_id, args.order_id, args.item_ids, args.new_item_ids, args.payment_method_id
        )
    )


def transfer_to_human(ctx, args: HandoffArgs) -> dict:
    """Puts the conversation in the shop's hand-off queue (assistant/handoffs.py), with its summary."""
    from assistant.handoffs import HandoffQueue

    ctx.handoff_summary = args.summary
    handoff = HandoffQueue(ctx.store).add(ctx.session_id, ctx.user_id, args.summary, ctx.transcript)
    return {"transferred": True, "handoff_id": handoff.handoff_id, "summary": args.summary}
