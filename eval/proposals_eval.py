"""`aisle eval proposals`: how the agent reads the shopper's reply to a proposal, one reply at a time.

Each setup (eval/data/proposals/setups.json) is a signed-in conversation over the demo store that ends with
ONE pending proposal; each case (cases.json, written blind from SETUPS.md) is one reply to it and the outcome
it should have: run, decline, wait or change. Every case runs on a fresh copy of the store.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Literal

import typer
from pydantic import BaseModel, ConfigDict, Field

DATA = Path(__file__).parent / "data" / "proposals"
SETUPS = DATA / "setups.json"
CASES = DATA / "cases.json"
OUTCOMES = ("run", "decline", "wait", "change")
SPLITS = ("dev", "test", "all")
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


# ---------------------------------------------------------------------------------------------- cases and the run


class CaseError(ValueError):
    """A cases file that does not parse, or names an unknown setup."""


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["run", "decline", "wait", "change"]
    arguments: dict = Field(default_factory=dict, description="For 'change': keys the new proposal's arguments must hold.")


class Case(BaseModel):
    """One reply to a setup's proposal, and what should follow."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    setup: str
    lang: Literal["en", "zh"]
    reply: str = Field(min_length=1)
    style: str = ""
    expect: Expect


def load_cases(path: Path, setups: list[Setup]) -> list[Case]:
    """The cases of `path`, checked: the schema, unique ids, known setups, and arguments for each change."""
    from pydantic import TypeAdapter, ValidationError

    try:
        cases = TypeAdapter(list[Case]).validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        raise CaseError(f"{path}: {exc}") from exc
    known = {s.id for s in setups}
    dup = [i for i, n in Counter(c.id for c in cases).items() if n > 1]
    problems = [f"duplicate ids {dup}"] if dup else []
    problems += [f"{c.id}: unknown setup {c.setup!r}" for c in cases if c.setup not in known]
    problems += [f"{c.id}: a change needs expect.arguments" for c in cases if c.expect.outcome == "change" and not c.expect.arguments]
    if problems:
        raise CaseError(f"{path}: " + "; ".join(problems))
    return cases


def case_split(case_id: str) -> str:
    """'test' (two in five) or 'dev', from a hash of the case id alone, by the rule of the dialogue tasks."""
    from eval.dialogues.tau import task_split

    return "test" if task_split(case_id) == "heldout" else "dev"


def _norm(value):
    """Compared loosely: strings by their words, case aside; lists as sets."""
    if isinstance(value, str):
        return " ".join(value.split()).lower()
    if isinstance(value, (list, tuple)):
        return sorted({json.dumps(_norm(v), sort_keys=True) for v in value})
    return value


def holds(actual: dict, expected: dict) -> bool:
    """`actual` has every key of `expected` with the same value (lists as sets)."""
    return all(k in actual and _norm(actual[k]) == _norm(v) for k, v in expected.items())


def _pairs(arguments: dict) -> list:
    return sorted(zip(arguments.get("item_ids", []), arguments.get("new_item_ids", [])))


def same_call(tool: str, arguments: dict, other_tool: str, other: dict) -> bool:
    """The same action: the same tool and arguments, each replacement still paired with the item it replaces."""
    if tool != other_tool or set(arguments) != set(other):
        return False
    if tool in SWAP_TOOLS and _pairs(arguments) != _pairs(other):
        return False
    return all(_norm(arguments[k]) == _norm(other[k]) for k in arguments)


class CaseResult(BaseModel):
    id: str
    setup: str
    lang: str
    style: str = ""
    split: str
    reply: str
    expected: str
    expected_arguments: dict = Field(default_factory=dict)
    observed: str | None = None  # run | decline | wait | change | other (something else ran, or failed) | error
    observed_tool: str | None = None
    observed_arguments: dict | None = None
    agent_reply: str = ""
    right: bool = False
    setup_error: str | None = None
    seconds: float = 0.0


class ProposalRunner:
    """Plays setups and replies on fresh copies of `base` through `Assistant.respond`."""

    def __init__(self, base, llm=None, classifier=None, services: dict | None = None, work_dir: Path | None = None) -> None:
        from eval.dialogues.runner import DialogueRunner

        self._copies = DialogueRunner(base, work_dir)  # its fresh_store: a page copy of the seeded store
        self.llm, self.classifier, self.services = llm, classifier, services if services is not None else {}

    def reach(self, setup: Setup, store, session: str):
        """(assistant, state, the last turn's text, error): the setup's messages played; error when the
        pending proposal is not exactly the setup's."""
        from assistant.agent import Assistant
        from assistant.state import DialogueState

        assistant = Assistant(store, llm=self.llm, classifier=self.classifier, services=self.services)
        state = DialogueState(session_id=session)
        text = ""
        for message in setup.messages:
            text = "".join(e.text for e in assistant.respond(state, message) if e.kind in ("text", "handoff"))
        p = state.pending
        if p is None or not same_call(p.tool, p.arguments, setup.tool, setup.arguments):
            got = f"{p.tool} {_json(p.arguments)}" if p is not None else "no proposal"
            return assistant, state, text, f"setup {setup.id} did not reach its proposal: {got}; the agent said: {text.strip()[:300]}"
        return assistant, state, text, None

    def check_setup(self, setup: Setup) -> tuple[str | None, str]:
        """(error or None, the agent's proposal text)."""
        store = self._copies.fresh_store()
        try:
            _, _, text, error = self.reach(setup, store, f"proposals-setup-{setup.id}")
            return error, text
        finally:
            store.drop()

    def run_case(self, case: Case, setup: Setup) -> CaseResult:
        from assistant.tools import TOOLS

        result = CaseResult(id=case.id, setup=case.setup, lang=case.lang, style=case.style, split=case_split(case.id),
                            reply=case.reply, expected=case.expect.outcome, expected_arguments=case.expect.arguments)  # fmt: skip
        started = time.perf_counter()
        store = self._copies.fresh_store()
        try:
            try:
                assistant, state, _, error = self.reach(setup, store, f"proposals-{case.id}")
            except Exception as exc:  # the harness's failure, never the case's
                error = f"setup {setup.id} raised {type(exc).__name__}: {exc}"
            if error:
                result.setup_error = error
                return result
            proposal = state.pending
            try:
                events = list(assistant.respond(state, case.reply))
            except Exception as exc:
                result.observed, result.agent_reply = "error", f"{type(exc).__name__}: {exc}"
                return result
            result.agent_reply = "".join(e.text for e in events if e.kind in ("text", "handoff")).strip()
            writes = [e for e in events if e.kind == "tool" and e.tool in TOOLS and TOOLS[e.tool].writes]
            if writes:
                first = writes[0]
                result.observed_tool, result.observed_arguments = first.tool, first.arguments
                ran = len(writes) == 1 and first.ok and same_call(first.tool, first.arguments or {}, proposal.tool, proposal.arguments)
                result.observed = "run" if ran else "other"
            elif state.pending is None:
                result.observed = "decline"
            else:
                result.observed_tool, result.observed_arguments = state.pending.tool, state.pending.arguments
                same = same_call(state.pending.tool, state.pending.arguments, proposal.tool, proposal.arguments)
                result.observed = "wait" if same else "change"
            result.right = result.observed == case.expect.outcome and (
                case.expect.outcome != "change" or holds(result.observed_arguments or {}, case.expect.arguments))
            return result
        finally:
            store.drop()
            result.seconds = round(time.perf_counter() - started, 3)


def _score(rows: list[CaseResult]) -> dict:
    right = sum(r.right for r in rows)
    return {"n": len(rows), "right": right, "accuracy": round(right / len(rows), 3) if rows else None}


def summarise(results: list[CaseResult], show_test: bool = False) -> dict:
    """Accuracy, per expected outcome and per language, the confusion of expected → observed outcome, the
    failures; setups that were not reached are listed apart and left out of every figure. A test case's failure is
    counted but not shown unless `show_test`: reading the test split's replies is how a test set turns into a dev set."""
    scored = [r for r in results if r.setup_error is None]
    confusion: dict[str, dict[str, int]] = {}
    for r in scored:
        row = confusion.setdefault(r.expected, {})
        row[r.observed] = row.get(r.observed, 0) + 1
    return {
        **_score(scored),
        "outcomes": {o: _score([r for r in scored if r.expected == o]) for o in OUTCOMES},
        "langs": {lang: _score([r for r in scored if r.lang == lang]) for lang in sorted({r.lang for r in scored})},
        "confusion": confusion,
        "failures": [r.model_dump(include={"id", "setup", "lang", "reply", "expected", "expected_arguments", "observed",
                                           "observed_tool", "observed_arguments", "agent_reply"})
                     for r in scored if not r.right and (show_test or r.split != "test")],  # fmt: skip
        "failures_not_shown": sum(1 for r in scored if not r.right and not show_test and r.split == "test"),
        "setup_errors": [{"id": r.id, "setup": r.setup, "error": r.setup_error} for r in results if r.setup_error],
    }


def report(results: list[CaseResult], split: str, show_test: bool = False) -> dict:
    """The summary of each split asked for ('all': dev, test and both together)."""
    parts = ("dev", "test", "all") if split == "all" else (split,)
    return {p: summarise([r for r in results if p == "all" or r.split == p], show_test) for p in parts}


def _print(splits: dict) -> None:
    for name, s in splits.items():
        acc = f"{s['accuracy']:.3f}" if s["accuracy"] is not None else "n/a"
        typer.echo(f"{name}: {s['right']}/{s['n']} right (accuracy {acc})")
        typer.echo("  by outcome: " + ", ".join(f"{o} {v['right']}/{v['n']}" for o, v in s["outcomes"].items()))
        typer.echo("  by language: " + ", ".join(f"{lang} {v['right']}/{v['n']}" for lang, v in s["langs"].items()))
        typer.echo("  expected → observed: " + "; ".join(
            f"{e} → " + ", ".join(f"{o} {n}" for o, n in sorted(row.items())) for e, row in s["confusion"].items()))  # fmt: skip
        for f in s["failures"]:
            args = f" {_json(f['expected_arguments'])}" if f["expected"] == "change" else ""
            seen = f" {f['observed_tool']} {_json(f['observed_arguments'])}" if f["observed"] in ("change", "other") else ""
            typer.echo(f"  ✗ {f['id']} [{f['setup']}, {f['lang']}] {f['reply']!r}: expected {f['expected']}{args}, "
                       f"observed {f['observed']}{seen}; agent: {f['agent_reply'][:200]!r}")  # fmt: skip
        if s["failures_not_shown"]:
            typer.echo(f"  ({s['failures_not_shown']} test-split failures not shown: --show-test-failures)")
        for e in s["setup_errors"]:
            typer.echo(f"  setup error {e['id']}: {e['error']}")


def main(
    split: str = typer.Option("dev", "--split", help="dev, test (two in five cases, by a hash of the case id) or all."),
    llm: str = typer.Option("default", "--llm", help="The assistant's model: 'default' (AISLE_LLM_BACKEND) or a backend name, e.g. fake."),
    cases: Path = typer.Option(CASES, "--cases", help="The cases file (default: the shipped, blind-written set)."),
    setups: Path = typer.Option(SETUPS, "--setups", help="The setups file the cases refer to."),
    only: str | None = typer.Option(None, "--only", help="Comma-separated case ids."),
    write_setups_md: bool = typer.Option(False, "--write-setups-md", help="Check every setup reaches its proposal and "
                                         "write SETUPS.md (what a case writer reads) next to the setups file; no cases run."),
    out: Path | None = typer.Option(None, "--out", help="Folder for results.json."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object (the summary) on stdout."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    show_test_failures: bool = typer.Option(False, "--show-test-failures", help="Also show the test split's failed "
                                            "cases (replies, expected, observed), here and in results.json; by default "
                                            "they are only counted, so that reading the output never tunes on test."),
) -> None:
    """How the agent reads the shopper's reply to a proposal: run, decline, wait or change, per case."""
    import retrieval.config  # noqa: F401  (offline settings before any model library)
    from tqdm import tqdm

    from eval.dialogues_eval import _classifier, _LazySearch
    from retrieval.store import Store

    logging.basicConfig(level=logging.WARNING)
    if split not in SPLITS:
        raise typer.BadParameter(f"--split must be one of {', '.join(SPLITS)}")
    the_setups = load_setups(setups)
    by_id = {s.id: s for s in the_setups}
    selected: list[Case] = []
    if not write_setups_md:
        if not cases.is_file():
            raise typer.BadParameter(f"{cases}: no cases file (cases are written blind from {setups.parent / 'SETUPS.md'})")
        try:
            selected = load_cases(cases, the_setups)
        except CaseError as exc:
            raise typer.BadParameter(str(exc)) from exc
        wanted = {x.strip() for x in only.split(",")} if only else None
        selected = [c for c in selected if (split == "all" or case_split(c.id) == split) and (wanted is None or c.id in wanted)]
        if not selected:
            raise typer.BadParameter("no cases selected")
    model = None
    if llm != "default":
        from assistant.llm import make_llm

        model = make_llm(llm)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aisle-proposals-") as tmp:
        base = Store(f"sqlite:///{Path(tmp) / 'base.db'}")
        base.init()  # the demo store, fresh: the shopper's own database is never touched
        runner = ProposalRunner(base, llm=model, classifier=_classifier(), services={"search": _LazySearch(base)},
                                work_dir=Path(tmp) / "runs")  # fmt: skip
        if write_setups_md:
            checked = {s.id: runner.check_setup(s) for s in tqdm(the_setups, desc="setups", disable=quiet or json_out)}
            errors = [e for e, _ in checked.values() if e]
            if errors:
                typer.echo("\n".join(errors), err=True)
                raise typer.Exit(1)
            target = setups.parent / "SETUPS.md"
            target.write_text(setups_markdown(the_setups, base, {k: t for k, (_, t) in checked.items()}), encoding="utf-8")
            typer.echo(f"{len(the_setups)} setups reach their proposals; wrote {target}")
            return
        results = [runner.run_case(c, by_id[c.setup]) for c in tqdm(selected, desc="proposals", unit="case", disable=quiet or json_out)]
    from retrieval.config import get_settings

    meta = {"cases": str(cases), "split": split, "llm": llm if llm != "default" else f"default ({get_settings().llm_backend})",
            "wall_seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    payload = {"meta": meta, "splits": report(results, split, show_test_failures)}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        shown = [r.model_dump() for r in results if show_test_failures or r.split != "test"]
        (out / "results.json").write_text(json.dumps({**payload, "results": shown},
                                                     ensure_ascii=False, indent=1), encoding="utf-8")  # fmt: skip
        payload["results"] = str(out / "results.json")
    if json_out:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo(f"{len(results)} cases ({split}) in {meta['wall_seconds']} s, llm {meta['llm']}")
    _print(payload["splits"])
