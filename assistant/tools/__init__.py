"""Aisle's tools and the one gate every tool call passes through.

`ToolRunner.run` executes read tools; a state-changing tool is only ever *proposed* and runs
through `ToolRunner.confirm` when the shopper's very next message is an explicit yes. Account
and order tools need a signed-in user, which only `find_user` can set. Unknown tools and invalid
arguments are refused before anything runs.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from assistant.orders import OrderService, PolicyError
from assistant.tools import account, catalog, orders
from assistant.tools.args import (
    AddressArgs,
    CancelArgs,
    CompareArgs,
    FaqArgs,
    FindUserArgs,
    HandoffArgs,
    NoArgs,
    OrderAddressArgs,
    OrderArgs,
    OrderPaymentArgs,
    ProductDetailsArgs,
    ReturnArgs,
    SwapItemsArgs,
)
from assistant.tools.base import StoreUnavailable, Tool, ToolError, ToolResult
from assistant.tools.context import ToolContext
from retrieval.store import retry_when_busy

log = logging.getLogger(__name__)

__all__ = ["TOOLS", "PendingAction", "StoreUnavailable", "Tool", "ToolContext", "ToolError", "ToolResult", "ToolRunner", "is_affirmative"]


def _search_args():
    from retrieval.search import SearchRequest

    return SearchRequest


def _recommend_args():
    from recsys import RecommendRequest

    return RecommendRequest


def _recommend(ctx, args) -> dict:
    recs = ctx.recommender.recommend(args)
    return {"recommendations": [r.model_dump(mode="json") for r in recs]}


def _answer_faq(ctx, args: FaqArgs) -> dict:
    answer = ctx.faq.ask(args.question)
    return answer.model_dump(mode="json")


def _build_tools() -> dict[str, Tool]:
    tools = [
        Tool("search_products", "find products and exact variants matching a request", _search_args(), catalog.search_products),
        Tool("get_product_details", "a product's description, options, prices, stock, reviews", ProductDetailsArgs, catalog.get_product_details),
        Tool("compare_products", "compare 2-4 products or items side by side", CompareArgs, catalog.compare_products),
        Tool("recommend", "personalised product suggestions with reasons", _recommend_args(), _recommend,
             session_fields=frozenset({"user_id", "session_id"})),
        Tool("answer_faq", "shop policy passages answering a question, with their section", FaqArgs, _answer_faq),
        Tool("find_user", "identify the shopper by email, or by first+last name and zip", FindUserArgs, account.find_user),
        Tool("get_user_details", "the signed-in shopper's profile, payment methods and order ids", NoArgs,
             account.get_user_details, needs_user=True),
        Tool("get_order_details", "status, items, tracking and payments of one of the shopper's orders", OrderArgs,
             orders.get_order_details, needs_user=True),
        Tool("cancel_pending_order", "cancel a pending order", CancelArgs, orders.cancel_pending_order,
             writes=True, needs_user=True),
        Tool("modify_pending_order_address", "change a pending order's shipping address", OrderAddressArgs,
             orders.modify_pending_order_address, writes=True, needs_user=True),
        Tool("modify_pending_order_payment", "change a pending order's payment method", OrderPaymentArgs,
             orders.modify_pending_order_payment, writes=True, needs_user=True),
        Tool("modify_pending_order_items", "swap items of a pending order for other options of the same products (once)",
             SwapItemsArgs, orders.modify_pending_order_items, writes=True, needs_user=True),
        Tool("return_delivered_order_items", "return items of a delivered order", ReturnArgs,
             orders.return_delivered_order_items, writes=True, needs_user=True),
        Tool("exchange_delivered_order_items", "exchange items of a delivered order for other options of the same products",
             SwapItemsArgs, orders.exchange_delivered_order_items, writes=True, needs_user=True),
        Tool("update_default_address", "change the shopper's default address", AddressArgs,
             account.update_default_address, writes=True, needs_user=True),
        Tool("transfer_to_human", "hand the conversation to a human agent with a summary", HandoffArgs,
             orders.transfer_to_human),
    ]  # fmt: skip
    return {t.name: t for t in tools}


@lru_cache(maxsize=1)
def _tools() -> dict[str, Tool]:
    return _build_tools()


class _Tools:
    """Mapping of tool name to Tool, built on first use (search and recsys load lazily)."""

    def __getitem__(self, name: str) -> Tool:
        return _tools()[name]

    def __contains__(self, name: object) -> bool:
        return name in _tools()

    def __iter__(self):
        return iter(_tools())

    def values(self):
        return _tools().values()

    def get(self, name: str, default=None):
        return _tools().get(name, default)


TOOLS = _Tools()


@lru_cache(maxsize=1)
def confirm_words() -> dict:
    """assistant/data/confirm.json: the words of a yes, a no and fillers (read once)."""
    return json.loads((Path(__file__).parent.parent / "data" / "confirm.json").read_text(encoding="utf-8"))


def is_affirmative(message: str, proposed: list[str] | tuple[str, ...] = (), action: str | None = None) -> bool:
    """An explicit yes, and nothing but a yes (see assistant/data/confirm.json). With `proposed`, the option values
    of what is proposed: those values said with an approving word ("black is fine") are a yes to it too. With
    `action`, the tool proposed: its own verbs may stand beside the yes word ("ok, go ahead and swap it", 好的，换吧)."""
    words = confirm_words()
    text = message.strip().lower()
    if not text or len(text) > 60 or re.search(r"(?:…|\.\.\.)\W*$", text):
        return False  # "ok…", "嗯……": trailing off, a hesitation rather than a yes
    verbs = words.get("action_verbs", {}).get(action or "", {})
    if verbs and any(" " in n and re.search(rf"\b{re.escape(n)}\b", text) for n in words["no"]):
        return False  # "ok, cancel that": a no phrase, whatever verbs the action has
    if re.search(r"[\u4e00-\u9fff]", text):
        rest = re.sub(r"[\s\W_]+", "", text)
        found_yes = False
        while rest:
            for phrase in sorted(words["zh_yes"] + words["zh_filler"] + verbs.get("zh", []), key=len, reverse=True):
                if rest.startswith(phrase):
                    found_yes |= phrase in words["zh_yes"]
                    rest = rest[len(phrase):]
                    break
            else:
                return False
        return found_yes
    tokens = re.findall(r"[a-z']+", text)
    # a value's words, but never a "no" ("no" is a value of some options)
    values = {w for v in proposed for w in re.findall(r"[a-z']+", str(v).lower())} - {w for n in words["no"] for w in n.split()}
    allowed = set(words["en_yes"]) | set(words["en_filler"]) | values | set(words["approving"] if values else ()) | set(verbs.get("en", ()))
    # a word drawn out ("yesss", "okk"): the word itself
    tokens = [t if t in allowed else re.sub(r"([a-z])\1+$", r"\1", t) for t in tokens]
    said = [t for t in tokens if t in words["en_yes"]]
    if any(re.search(rf"\b{re.escape(c)}\b", text) for c in words["closing"]) and all(t in words["closing_ack"] for t in said):
        return False  # "ok thanks, that's all": thanks for an answer and goodbye, not a yes to what is proposed
    approved = any(t in values for t in tokens) and any(t in words["approving"] for t in tokens)
    return bool(tokens) and all(t in allowed for t in tokens) and (bool(said) or approved)


class PendingAction(BaseModel):
    """A state-changing call waiting for the shopper's explicit yes."""

    tool: str
    arguments: dict
    description: str
    values: list[str] = []  # the option values of the new items proposed, if any (see is_affirmative)


class ToolRunner:
    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx

    def _check(self, name: str, arguments: dict) -> tuple[Tool, BaseModel]:
        tool = TOOLS.get(name)
        if tool is None:
            raise ToolError(f"There is no tool called {name!r}.")
        args = tool.validate(arguments, self.ctx.session_values())
        if tool.needs_user and self.ctx.user_id is None:
            raise ToolError("Please identify yourself first: your email, or your name and zip code.")
        return tool, args

    def run(self, name: str, arguments: dict) -> ToolResult:
        """Run a read tool. Write tools are refused here: use propose() then confirm()."""
        try:
            tool, args = self._check(name, arguments)
            if tool.writes:
                raise ToolError(f"{name} changes your account; it needs your explicit confirmation first.")
            return ToolResult(tool=name, ok=True, data=tool.run(self.ctx, args))
        except (ToolError, PolicyError) as exc:
            return ToolResult(tool=name, ok=False, message=str(exc))
        except OperationalError as exc:
            raise _unavailable(name, exc) from exc

    def propose(self, name: str, arguments: dict, description: str) -> PendingAction:
        """Check a write call now, by running it and rolling it back, so an action the policy forbids
        is refused before the shopper is asked to confirm it."""
        tool, args = self._check(name, arguments)
        if not tool.writes:
            raise ToolError(f"{name} does not need confirmation.")
        rehearsal = ToolContext(store=self.ctx.store, session_id=self.ctx.session_id, user_id=self.ctx.user_id)
        rehearsal.__dict__["orders"] = OrderService(self.ctx.store, dry_run=True)
        try:
            tool.run(rehearsal, args)
        except PolicyError as exc:
            raise ToolError(str(exc)) from exc
        except OperationalError as exc:
            raise _unavailable(name, exc) from exc
        visible = args.model_dump(mode="json", exclude=set(tool.session_fields))
        return PendingAction(tool=name, arguments=visible, description=description, values=self._new_values(visible))

    def _new_values(self, arguments: dict) -> list[str]:
        """The option values of the new items a proposed change has (none for other actions)."""
        new_ids = set(arguments.get("new_item_ids") or ())
        order = self.ctx.store.order(arguments.get("order_id") or "") if new_ids else None
        products = [self.ctx.store.product(i.product_id) for i in order.items] if order is not None else []
        return [str(x) for p in products if p is not None for v in p.variants if v.item_id in new_ids for x in v.options.values()]

    def confirm(self, pending: PendingAction, user_message: str) -> ToolResult | None:
        """Execute the pending action if `user_message` is an explicit yes; None if it is not."""
        if not is_affirmative(user_message, pending.values, action=pending.tool):
            return None
        try:
            tool, args = self._check(pending.tool, pending.arguments)
            # A write is one transaction: after a transient lock it can simply run again.
            result = ToolResult(tool=pending.tool, ok=True, data=retry_when_busy(tool.run)(self.ctx, args))
            log.info("executed %s after confirmation", pending.tool)
            return result
        except (ToolError, PolicyError) as exc:
            return ToolResult(tool=pending.tool, ok=False, message=str(exc))
        except OperationalError as exc:
            raise _unavailable(pending.tool, exc) from exc


def _unavailable(tool: str, exc: OperationalError) -> StoreUnavailable:
    # Only the error's kind is logged: its text can hold the statement's parameters (personal data).
    log.warning("%s: store unavailable (%s)", tool, str(exc.orig).split("\n")[0][:80])
    return StoreUnavailable(tool)


# Ranking internals: no use to a model, and about half of a search result's tokens.
HIDDEN_FROM_MODEL = frozenset({"score", "score_parts", "parsed"})


def for_model(data):
    """What a model reads of a tool result: without ranking internals, nulls and empty values."""
    if isinstance(data, dict):
        return {k: for_model(v) for k, v in data.items() if k not in HIDDEN_FROM_MODEL and v not in (None, "", [], {})}
    if isinstance(data, list):
        return [for_model(v) for v in data]
    return data


def as_langchain_tools(runner: ToolRunner) -> list:
    """The tools as LangChain StructuredTools, for use in other LangChain/LangGraph agents.

    The same gates hold: a write tool returns the proposal and waits for `runner.confirm`. A tool
    message's content is what the model reads (`for_model`); its artifact is the whole result (cards).
    """
    from langchain_core.tools import StructuredTool

    def make(tool: Tool):
        def call(**kwargs):
            if tool.writes:
                try:
                    pending = runner.propose(tool.name, kwargs, f"{tool.name} {json.dumps(kwargs)}")
                except ToolError as exc:  # refused by a gate or by the policy's rehearsal: the model reads why
                    data = {"error": str(exc)}
                    return data, data
                # Returned, never kept in `ctx.services`: that dict is shared by every session.
                data = {"needs_confirmation": pending.model_dump()}
                return data, data
            result = runner.run(tool.name, kwargs)
            data = result.data if result.ok else {"error": result.message}
            return for_model(data), data

        return StructuredTool.from_function(
            func=call, name=tool.name, description=tool.description, args_schema=tool.model_schema(),
            response_format="content_and_artifact",
        )

    return [make(t) for t in TOOLS.values()]
