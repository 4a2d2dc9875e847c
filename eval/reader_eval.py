"""`aisle eval reader`: how well each reader answers the narrow questions a flow asks it.

Questions are built from τ retail tasks, over the demo store's real data (the task's customer's
orders, an order's items, a product's variants):

- order: "which of the customer's orders is the request about?" (the first order action's order),
- items: "which items of that order?" (the first return / exchange / modify action's items, many),
- option: "which new option instead of this item?" (that action's first new item, among the product's
  other variants).

The reader sees only the question, the request text and the options; the answer comes from the
task's ground-truth actions and is used for grading only. Order ids are taken out of the request
text: a request naming its order is read by the id rules before any reader is asked, so what is
measured is reading a *description*. Questions with one option are left out (nothing to ask).

Splits: dev = τ² retail train + a fixed sample of τ-bench v1 retail train (the tasks Aisle is
developed on); validation = τ-bench v1 retail dev, never tuned on. Per reader and split: accuracy,
abstain rate (None: the shopper is asked), wrong-answer rate (worse than abstaining), ms per question.
A request about several orders has one gold order (its first action's); naming another order it
acts on counts as wrong, and is also shown as `wrong_but_requested`.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import typer
from tqdm import tqdm

from retrieval.store.schema import OrderRecord
from retrieval.store.seed import load_store_data

from assistant.understand import Option, make_reader
from assistant.understand.options import order_items, order_option, variant_option

# Next to the checkout by default; AISLE_SHARED_DATA points elsewhere (as for the tests).
SHARED_DATA = Path(os.environ.get("AISLE_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
ORDER_WRITES = {"cancel_pending_order": "cancel", "modify_pending_order_items": "modify",
                "return_delivered_order_items": "return", "exchange_delivered_order_items": "exchange",
                "modify_pending_order_address": "change the address of", "modify_pending_order_payment": "change the payment of"}  # fmt: skip
ITEM_WRITES = {"modify_pending_order_items", "return_delivered_order_items", "exchange_delivered_order_items"}
ORDER_ID = re.compile(r"#?\bW\d{7}\b")
KINDS = ("order", "items", "option")


@dataclass
class Question:
    split: str
    source: str  # which task file and task
    kind: str  # order | items | option
    question: str
    message: str
    options: list[Option]
    many: bool
    gold: list[str]
    also: tuple[str, ...] = ()  # order question: the other orders the request acts on (a wrong answer, but a requested one)
    context: tuple | None = None  # option question: (product, the order's item as a dict, the order as a dict)


class _Shop:
    """The demo store's records, indexed for building questions (read from its data files, no database)."""

    def __init__(self) -> None:
        data = load_store_data()
        self.orders = {o.order_id: o for o in data.orders}
        self.by_user: dict[str, list[OrderRecord]] = defaultdict(list)
        for o in data.orders:
            self.by_user[o.user_id].append(o)
        self.users = {u.user_id: u for u in data.users}
        self.by_email = {u.email.lower(): u.user_id for u in data.users}
        self.by_name_zip = {(u.first_name.lower(), u.last_name.lower(), u.address.zip): u.user_id for u in data.users}
        self.products = {p.product_id: p for p in data.products}

    def user_of(self, actions: list[dict]) -> str | None:
        for a in actions:
            args = a["arguments"]
            if a["name"] == "find_user_id_by_email":
                uid = self.by_email.get(str(args.get("email", "")).lower())
            elif a["name"] == "find_user_id_by_name_zip":
                uid = self.by_name_zip.get((str(args.get("first_name", "")).lower(), str(args.get("last_name", "")).lower(),
                                            str(args.get("zip", ""))))  # fmt: skip
            else:
                uid = args.get("user_id")
            if uid:
                return uid
        for a in actions:
            if (order := self.orders.get(a["arguments"].get("order_id", ""))) is not None:
                return order.user_id
        return None


def _questions_of_task(shop: _Shop, split: str, source: str, request: str, actions: list[dict], user_id: str | None) -> list[Question]:
    writes = [a for a in actions if a["name"] in ORDER_WRITES and "order_id" in a["arguments"]]
    if not user_id or not writes:
        return []
    mine = shop.by_user.get(user_id, [])
    message = re.sub(r"\s{2,}", " ", ORDER_ID.sub("", request)).strip()
    out: list[Question] = []
    first = writes[0]["arguments"]["order_id"]
    if first in {o.order_id for o in mine} and len(mine) > 1:  # v1 tasks whose order is not in this store are left out
        out.append(Question(split, source, "order", "Which of the customer's orders is the request about?", message,
                            [order_option(o) for o in mine], False, [first],
                            tuple({a["arguments"]["order_id"] for a in writes} - {first})))  # fmt: skip
    item_write = next((a for a in writes if a["name"] in ITEM_WRITES), None)
    if item_write is None:
        return out
    order = shop.orders.get(item_write["arguments"]["order_id"])
    item_ids = item_write["arguments"].get("item_ids") or []
    if order is None or order.user_id != user_id or not item_ids:
        return out
    options = order_items(order)
    known = {o.id for o in options}
    if not set(item_ids) <= known:
        return out
    verb = ORDER_WRITES[item_write["name"]]
    if len(options) > 1:
        out.append(Question(split, source, "items", f"Which items of order {order.order_id} does the customer want to {verb}?",
                            message, options, True, sorted(set(item_ids))))  # fmt: skip
    new_ids = item_write["arguments"].get("new_item_ids") or []
    if new_ids:
        item = next(i for i in order.items if i.item_id == item_ids[0])
        product = shop.products.get(item.product_id)
        if product is not None:
            # What the flow offers: the product's other variants that can be ordered now.
            variants = [v for v in product.variants if v.item_id != item.item_id and v.available]
            if new_ids[0] in {v.item_id for v in variants} and len(variants) > 1:
                current = ", ".join(f"{k} {v}" for k, v in item.options.items())
                out.append(Question(split, source, "option",
                                    f"Which {product.name} does the customer want instead of the one they have ({current})?",
                                    message, [variant_option(product.name, v, item.options) for v in variants], False, [new_ids[0]],
                                    context=(product, item.model_dump(), order.model_dump())))  # fmt: skip
    return out


def _tau2_tasks(path: Path):
    """(task, request text, actions) of a τ²-format task file (τ² retail, Aisle's situations)."""
    for task in json.loads(path.read_text(encoding="utf-8")):
        ins = task["user_scenario"]["instructions"]
        actions = [{"name": a["name"], "arguments": a.get("arguments") or {}}
                   for a in (task.get("evaluation_criteria") or {}).get("actions") or []]  # fmt: skip
        yield task, " ".join(x for x in (ins.get("reason_for_call"), ins.get("task_instructions")) if x), actions


def _tau1_tasks(path: Path, sample: int | None, seed: int):
    """(number, task, actions) of a τ v1 task file, a fixed sample of it when `sample` is less than all."""
    tasks = list(enumerate(json.loads(path.read_text(encoding="utf-8"))))
    if sample is not None and sample < len(tasks):
        tasks = sorted(random.Random(seed).sample(tasks, sample))
    for n, task in tasks:
        yield n, task, [{"name": a["name"], "arguments": a.get("kwargs") or {}} for a in task.get("actions") or []]


def _tau2(shop: _Shop, path: Path, split: str) -> list[Question]:
    return [q for task, request, actions in _tau2_tasks(path)
            for q in _questions_of_task(shop, split, f"tau2:{path.name}:{task['id']}", request, actions, shop.user_of(actions))]


def _tau1(shop: _Shop, path: Path, split: str, sample: int | None, seed: int) -> list[Question]:
    return [q for n, task, actions in _tau1_tasks(path, sample, seed)
            for q in _questions_of_task(shop, split, f"tau:{path.name}:{n}", task["instruction"], actions,
                                        task.get("user_id") or shop.user_of(actions))]


def build_questions(data: Path, v1_sample: int | None = 100, seed: int = 0) -> list[Question]:
    shop = _Shop()
    return [
        *_tau2(shop, data / "tau2_retail" / "tasks_train.json", "dev"),
        *_tau1(shop, data / "tau_retail_v1" / "tasks_train.json", "dev", v1_sample, seed),
        *_tau1(shop, data / "tau_retail_v1" / "tasks_dev.json", "validation", None, seed),
    ]


def _limit(questions: list[Question], per_kind: int | None, seed: int) -> list[Question]:
    """At most `per_kind` questions of each split and kind, a fixed sample (the model is slow on 2 cores)."""
    if per_kind is None:
        return questions
    groups: dict[tuple[str, str], list[Question]] = defaultdict(list)
    for q in questions:
        groups[(q.split, q.kind)].append(q)
    out = []
    for key in sorted(groups):
        rows = groups[key]
        out += rows if len(rows) <= per_kind else random.Random(seed).sample(rows, per_kind)
    return out


def _summary(rows: list[dict]) -> dict:
    n = len(rows)
    if not n:
        return {"n": 0}
    right = sum(r["outcome"] == "right" for r in rows)
    abstain = sum(r["outcome"] == "abstain" for r in rows)
    wrong = n - right - abstain
    ms = sorted(r["ms"] for r in rows)
    calls = [r["call"] for r in rows if r.get("call")]
    model = {}
    if calls:
        call_ms = sorted(c["ms"] for c in calls)
        tokens = [c for c in calls if c["prompt_tokens"]]
        model = {"model_calls": round(len(calls) / n, 3), "ms_per_model_call_p50": round(call_ms[len(calls) // 2], 1),
                 "prompt_tokens_mean": round(statistics.fmean(c["prompt_tokens"] for c in tokens), 1) if tokens else None,
                 "cached_prompt_tokens_mean": round(statistics.fmean(c["cached_tokens"] or 0 for c in tokens), 1) if tokens else None}  # fmt: skip
    return {"n": n, "accuracy": round(right / n, 3), "abstain": round(abstain / n, 3), "wrong": round(wrong / n, 3),
            "wrong_but_requested": round(sum(r["other_requested"] for r in rows) / n, 3),
            "precision": round(right / (right + wrong), 3) if right + wrong else None,
            "ms_mean": round(statistics.fmean(ms), 1), "ms_p50": round(ms[n // 2], 1), **model}  # fmt: skip


def evaluate(readers: list[str], llm=None, data: Path = SHARED_DATA, v1_sample: int | None = 100, per_kind: int | None = None,
             seed: int = 0, margin: float | None = None, show: bool = True) -> dict:  # fmt: skip
    questions = _limit(build_questions(data, v1_sample, seed), per_kind, seed)
    result: dict = {"questions": {f"{s}/{k}": sum(q.split == s and q.kind == k for q in questions)
                                  for s in ("dev", "validation") for k in KINDS},  # fmt: skip
                    "v1_train_sample": v1_sample, "per_kind_limit": per_kind, "seed": seed, "readers": {}}
    for name in readers:
        reader = make_reader(name, llm)
        model = getattr(reader, "model", reader)
        if hasattr(model, "timeout_s"):
            model.timeout_s = None  # accuracy, not speed: no pick is left to the shopper for time
        if margin is not None:
            (reader.rules if name == "hybrid" else reader).margin = margin
        if hasattr(reader, "warm"):
            reader.warm()
        elif hasattr(reader, "model"):
            reader.model.warm()
        model = reader if name == "llm" else getattr(reader, "model", None)
        rows = []
        for q in tqdm(questions, desc=name, leave=False, disable=not show):
            if model is not None:
                model.last_ms, llm_stats_before = None, getattr(llm, "last_stats", None)
            start = time.perf_counter()
            picked = reader.pick(q.question, q.message, q.options, q.many)
            ms = (time.perf_counter() - start) * 1000
            call = None
            if model is not None and model.last_ms is not None:
                stats = getattr(llm, "last_stats", None)
                call = {"ms": model.last_ms,
                        "prompt_tokens": getattr(stats, "prompt_tokens", None) if stats is not llm_stats_before else None,
                        "cached_tokens": getattr(stats, "cached_prompt_tokens", None) if stats is not llm_stats_before else None}  # fmt: skip
            if picked is not None and not set(picked) <= {o.id for o in q.options}:
                raise AssertionError(f"reader {name} answered ids outside the options: {picked}")
            outcome = "abstain" if picked is None else "right" if sorted(set(picked)) == sorted(q.gold) else "wrong"
            rows.append({"split": q.split, "kind": q.kind, "outcome": outcome, "ms": ms, "source": q.source,
                         "other_requested": outcome == "wrong" and picked[0] in q.also, "call": call})
        out = {split: {"all": _summary([r for r in rows if r["split"] == split]),
                       **{k: _summary([r for r in rows if r["split"] == split and r["kind"] == k]) for k in KINDS}}
               for split in ("dev", "validation")}  # fmt: skip
        result["readers"][name] = out
    return result


def _flow_answer(reader, product, item: dict, text: str) -> str | None:
    """What the flow makes of a new option with this reader (FormLoop._fill_new_item_ids): its `variant` exactly; an id
    is the answer. None where the flow asks the shopper: what was asked exists only with other changes, a verdict (keep,
    same, unmet), or several that fit alike and the reader cannot tell them apart either."""
    from assistant.understand import rules

    chosen, choices = reader.variant(product, item, text, exact=True)
    if chosen is None and reader.variant(product, item, text)[0] not in (None, rules.KEEP, rules.SAME, rules.UNMET):
        return None
    if chosen is None and len(choices) > 1 and not rules.says_fit(text):
        variants = {v.item_id: v for v in product.variants}
        options = [variant_option(product.name, variants[i], current=item["options"]) for i, _ in choices[:8] if i in variants]
        picked = reader.pick(f"new option for {item['name']}", text, options)
        return picked[0] if picked else None
    return chosen if chosen not in (rules.KEEP, rules.SAME, rules.UNMET) else None


SITUATIONS = Path(__file__).resolve().parent / "data" / "situations" / "tasks.json"


def wish_questions(data: Path, v1_sample: int | None = 100, seed: int = 0) -> list[Question]:
    """Every (item, new item) pair of every exchange / modify action whose new item is among the product's other
    available variants (and not the only one): τ² train and the τ v1 train sample (dev), τ v1 dev (validation),
    and Aisle's situations by their own split (dev / held-out)."""
    shop = _Shop()
    tasks: list[tuple[str, str, str, list[dict], str | None]] = []  # split, source, request, actions, user
    for path, split in ((data / "tau2_retail" / "tasks_train.json", "dev"), (SITUATIONS, None)):
        if path.is_file():
            for task, request, actions in _tau2_tasks(path):
                own = split or ("held-out" if "split: heldout" in str((task.get("description") or {}).get("notes")) else "dev")
                tasks.append((own, f"{'tau2' if split else 'situations'}:{task['id']}", request, actions, shop.user_of(actions)))
    for path, split, sample in ((data / "tau_retail_v1" / "tasks_train.json", "dev", v1_sample), (data / "tau_retail_v1" / "tasks_dev.json", "validation", None)):
        for n, task, actions in _tau1_tasks(path, sample, seed):
            tasks.append((split, f"tau:{path.name}:{n}", task["instruction"], actions, task.get("user_id") or shop.user_of(actions)))
    out = []
    for split, source, request, actions, user_id in tasks:
        message = re.sub(r"\s{2,}", " ", ORDER_ID.sub("", request)).strip()
        for a in actions:
            args = a["arguments"]
            order = shop.orders.get(args.get("order_id", ""))
            if a["name"] not in ITEM_WRITES or order is None or order.user_id != user_id:
                continue
            for old, new in zip(args.get("item_ids") or [], args.get("new_item_ids") or []):
                item = next((i for i in order.items if i.item_id == old), None)
                product = shop.products.get(item.product_id) if item else None
                if product is None:
                    continue
                variants = [v for v in product.variants if v.item_id != item.item_id and v.available]
                if new in {v.item_id for v in variants} and len(variants) > 1:
                    out.append(Question(split, source, "option", f"new option for {item.name}", message,
                                        [variant_option(product.name, v, item.options) for v in variants], False, [new],
                                        context=(product, item.model_dump(), order.model_dump())))  # fmt: skip
    return out


def evaluate_wishes(readers: list[str], llm=None, data: Path = SHARED_DATA, v1_sample: int | None = 100, show: bool = True) -> dict:
    """Option questions as the flow answers them with each reader (`_flow_answer`): rules (the rules' `Wish`, then
    the rule reader on what is left tied), llm (the model's `Wish` under the product's schema, then the model on ties),
    hybrid (the rules; the model's `Wish` only where the rules' reading chooses nothing, then the ties)."""
    from assistant.understand import rules

    questions = wish_questions(data, v1_sample)
    splits, sources = ("dev", "validation", "held-out"), ("tau", "situations")
    result: dict = {"questions": {f"{s}/{src}": sum(q.split == s and q.source.startswith(src) for q in questions)
                                  for s in splits for src in sources}, "readers": {}}  # fmt: skip
    for name in readers:
        reader = make_reader(name, llm)
        model = reader if name == "llm" else getattr(reader, "model", None)
        if model is not None:
            model.timeout_s = None  # accuracy, not speed
        rows = []
        for q in tqdm(questions, desc=f"wish {name}", leave=False, disable=not show):
            product, item, order = q.context
            text = rules.about_item(q.message, item, order)
            if model is not None:
                model.last_ms = None
            start = time.perf_counter()
            picked = _flow_answer(reader, product, item, text)
            ms = (time.perf_counter() - start) * 1000
            call = {"ms": model.last_ms, "prompt_tokens": None, "cached_tokens": None} if model is not None and model.last_ms else None
            outcome = "abstain" if picked is None else "right" if picked == q.gold[0] else "wrong"
            rows.append({"split": q.split, "kind": "option", "outcome": outcome, "ms": ms, "source": q.source,
                         "other_requested": False, "call": call, "picked": picked, "gold": q.gold[0]})
        result["readers"][name] = {f"{s}/{src}": _summary([r for r in rows if r["split"] == s and r["source"].startswith(src)])
                                   for s in splits for src in sources}  # fmt: skip
        result["readers"][name]["rows"] = [r for r in rows if r["split"] == "dev"]  # what development reads: dev only
    return result


def _table(result: dict) -> str:
    lines = ["| reader | split | question | n | accuracy | abstain | wrong (of which another requested order) | ms / question (mean) | model calls |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, by_split in result["readers"].items():
        for split, by_kind in by_split.items():
            for kind, s in by_kind.items():
                if s.get("n"):
                    lines.append(f"| {name} | {split} | {kind} | {s['n']} | {s['accuracy']:.3f} | {s['abstain']:.3f} | "
                                 f"{s['wrong']:.3f} ({s['wrong_but_requested']:.3f}) | {s['ms_mean']:.1f} | {s.get('model_calls', 0):.2f} |")  # fmt: skip
    return "\n".join(lines)


def main(
    reader: str = typer.Option("all", "--reader", help="rules | llm | hybrid | all"),
    llm: str = typer.Option("default", "--llm", help="The model for llm / hybrid: 'default' (AISLE_LLM_BACKEND) or a backend name, e.g. fake."),
    data: Path = typer.Option(SHARED_DATA, "--data", help="The shared data folder (tau2_retail/, tau_retail_v1/)."),
    v1_sample: int = typer.Option(100, "--v1-sample", help="τ v1 train tasks sampled into dev (0 = all 500)."),
    per_kind: int | None = typer.Option(None, "--per-kind", help="At most this many questions per split and kind, a fixed sample (for the slow model)."),
    seed: int = typer.Option(0, "--seed"),
    wishes: bool = typer.Option(False, "--wishes", help="New-option questions as the flow answers them: a Wish read by the rules, "
                                "the model or both, then chosen (τ tasks and Aisle's situations, every item pair)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Readers (rules, llm, hybrid) on narrow questions from τ tasks: accuracy, abstain and wrong rates, ms."""
    if not (data / "tau2_retail" / "tasks_train.json").is_file() or not (data / "tau_retail_v1" / "tasks_dev.json").is_file():
        typer.echo(f"skipped: the τ task files are not in {data} (tau2_retail/tasks_train.json, tau_retail_v1/tasks_*.json); "
                   "pass --data FOLDER")  # fmt: skip
        raise typer.Exit(0)
    names = ["rules", "llm", "hybrid"] if reader == "all" else [reader]
    if any(n not in ("rules", "llm", "hybrid") for n in names):
        raise typer.BadParameter(f"unknown reader {reader!r}: rules | llm | hybrid | all", param_hint="--reader")
    model = None
    if any(n != "rules" for n in names):
        from assistant.llm import get_llm, make_llm

        model = get_llm() if llm == "default" else make_llm(llm)
    if wishes:
        result = evaluate_wishes(names, model, data, v1_sample or None)
        result["llm"] = None if model is None else (llm if llm != "default" else f"default ({model.name})")
        if not as_json:
            for name, by_split in result["readers"].items():
                by_split.pop("rows")
                for split, s in by_split.items():
                    if s.get("n"):
                        typer.echo(f"{name:7} {split:20} n={s['n']:4} right {s['accuracy']:.3f}  asked {s['abstain']:.3f}  "
                                   f"wrong {s['wrong']:.3f}  {s['ms_mean']:.0f} ms")  # fmt: skip
            return
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    result = evaluate(names, model, data, v1_sample or None, per_kind, seed)  # progress goes to stderr
    result["llm"] = None if model is None else (llm if llm != "default" else f"default ({model.name})")
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(json.dumps(result["questions"]))
    typer.echo(_table(result))
