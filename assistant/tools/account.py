"""Identity and profile tools. find_user is the only way a conversation gets a user."""

from __future__ import annotations

from assistant.orders import PolicyError
from assistant.tools.args import AddressArgs, FindUserArgs, NoArgs
from assistant.tools.base import ToolError
from retrieval.store import Address


def find_user(ctx, args: FindUserArgs) -> dict:
    if not ctx.identify_in_chat:  # an email or a name + zip proves nothing outside the demo store
        raise ToolError("Identifying in chat is off here: please sign in on the shop's website.")
    try:
        if args.email:
            user_id = ctx.orders.find_user_by_email(args.email)
        else:
            user_id = ctx.orders.find_user_by_name_zip(args.first_name, args.last_name, args.zip)
    except PolicyError as exc:
        raise ToolError(str(exc)) from exc
    if ctx.user_id is not None and ctx.user_id != user_id:
        # One customer per conversation: a second identity is refused, not switched to.
        raise ToolError("This conversation is already signed in as another customer; I can only help one customer.")
    ctx.user_id = user_id
    return {"user_id": user_id, "authenticated": True}


def get_user_details(ctx, args: NoArgs) -> dict:
    user = ctx.orders.user(ctx.user_id)
    data = user.model_dump(mode="json", exclude_none=True)
    data["orders"] = [o.order_id for o in ctx.orders.orders(ctx.user_id)]
    return data


def update_default_address(ctx, args: AddressArgs) -> dict:
    return ctx.orders.update_default_address(ctx.user_id, Address(**args.model_dump())).model_dump(
        mode="json", exclude_none=True
    )
