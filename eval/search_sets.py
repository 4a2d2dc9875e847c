"""Derive search relevance sets from the τ-bench retail tasks (`aisle eval search-sets`).

How queries and judgements are made:
- **Structured set** (`tau_{dev,test}.jsonl`): the τ-bench v1 train tasks say, for each exchange
  or modification, "modify <Product> {old options} to {changed options}". The wanted item is the
  product with the old options updated by the changed ones; it must be one of the task's
  ground-truth `new_item_ids` (checked). The query describes that item in words, the way the
  instruction gives it ("a blue, cotton t-shirt with size M, crew neck style"); the wording
  template is picked by a hash, not by hand. Judgements: the item = 2, other variants of the
  same product = 1. One query per distinct (item, wording).
- **Free-text set** (`tau_freetext_{dev,test}.jsonl`): τ-bench v1 dev and τ²-bench train tasks
  are free text. For each ground-truth new item, the query is the instruction's sentences that
  name the product (e.g. "...exchange it for a white mouse, you also prefer an optical mouse...").
  These mix old and new attributes and are much harder; they are reported as their own row.
- **Split**: by a hash of the wanted item id (structured) or of the task (free text):
  30 % test, 70 % dev, so no item's queries are on both sides. Tune on dev, report test.
The Chinese set (`zh_{dev,test}.jsonl`) is written by hand (translations of some of these queries).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated

import typer

from retrieval.store.seed import load_store_data
from retrieval.store.schema import ProductRecord

OUT_DIR = Path(__file__).parent / "data" / "search"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_ADJECTIVE_KEYS = {"color", "material"}
_TEMPLATES = [
    "a {adj} {name} with {rest}",
    "{adj} {name}, {rest}",
    "looking for a {adj} {name} with {rest}",
    "I want the {name} in {adj}, {rest}",
]


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def split_of(key: str) -> str:
    return "test" if _h(key) % 10 < 3 else "dev"


def describe(name: str, options: dict[str, str]) -> str:
    """Words for an item as a shopper gives them: colour and material as adjectives, the rest named."""
    seed = _h(name + json.dumps(options, sort_keys=True))
    adj = [v for k, v in options.items() if k in _ADJECTIVE_KEYS]
    rest = []
    for i, (k, v) in enumerate((k, v) for k, v in options.items() if k not in _ADJECTIVE_KEYS):
        if k == "brand" or v.lower().startswith(k.lower()):
            rest.append(v)
        elif k == "size" or (seed >> i) & 1:
            rest.append(f"{k} {v}")
        else:
            rest.append(f"{v} {k}")
    template = _TEMPLATES[seed % len(_TEMPLATES)]
    if not adj:
        template = template.replace("{adj} ", "").replace(" in {adj},", " with")
    if not rest:
        return template.split(" with")[0].split(",")[0].format(adj=", ".join(adj), name=name.lower())
    return template.format(adj=", ".join(adj), name=name.lower(), rest=", ".join(rest))


def _judgements(product: ProductRecord, item_id: str) -> dict[str, int]:
    return {v.item_id: (2 if v.item_id == item_id else 1) for v in product.variants}


_CHANGE = re.compile(r"(?:modify|exchange) (.+?) (\{[^{}]*\}) to (\{[^{}]*\})")


def structured(tasks: list[dict], products: dict[str, ProductRecord], item_product: dict[str, str]) -> list[dict]:
    rows, seen = [], set()
    for task in tasks:
        wanted = {i for a in task.get("actions", []) for i in a.get("kwargs", {}).get("new_item_ids", []) or []}
        for name, old, new in _CHANGE.findall(task.get("instruction", "")):
            options = {**ast.literal_eval(old), **ast.literal_eval(new)}
            match = [
                i for i in wanted
                if products[item_product[i]].name == name
                and next(v for v in products[item_product[i]].variants if v.item_id == i).options == options
            ]
            if len(match) != 1:
                continue  # the instruction and the ground truth disagree: leave the task out
            item_id = match[0]
            query = describe(name, options)
            if (item_id, query) in seen:
                continue
            seen.add((item_id, query))
            rows.append({"query": query, "lang": "en", "relevant": _judgements(products[item_product[item_id]], item_id),
                         "split": split_of(item_id), "source": "tau_retail_v1/tasks_train.json"})
    return rows


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _mentions(sentence: str, name: str) -> bool:
    s = sentence.lower().replace("-", "").replace(" ", "")
    head = name.lower().split()[-1].replace("-", "")
    return name.lower().replace("-", "").replace(" ", "") in s or head in s


def free_text(tasks: list[tuple[str, str, list[str]]], products, item_product) -> list[dict]:
    """tasks: (task key, instruction text, ground-truth new item ids)."""
    rows = []
    for key, text, wanted in tasks:
        text = re.sub(r"^Your name is .*?\. You are [^.]*\.\s*", "", text)
        for item_id in dict.fromkeys(wanted):
            product = products[item_product[item_id]]
            said = [s for s in _sentences(text) if _mentions(s, product.name)]
            if not said:
                continue
            rows.append({"query": " ".join(said), "lang": "en", "relevant": _judgements(product, item_id),
                         "split": split_of(key), "source": key.split("#")[0]})
    return rows


def build(source: Path, out: Path = OUT_DIR) -> dict[str, int]:
    products = {p.product_id: p for p in load_store_data().products}  # the shipped catalog, no database needed
    item_product = {v.item_id: p.product_id for p in products.values() for v in p.variants}
    v1_train = json.loads((source / "tau_retail_v1" / "tasks_train.json").read_text())
    v1_dev = json.loads((source / "tau_retail_v1" / "tasks_dev.json").read_text())
    tau2 = json.loads((source / "tau2_retail" / "tasks_train.json").read_text())
    rows = structured(v1_train, products, item_product)
    ft_tasks = []
    for i, t in enumerate(v1_dev):
        ids = [x for a in t["actions"] for x in a["kwargs"].get("new_item_ids", []) or []]
        ft_tasks.append((f"tau_retail_v1/tasks_dev.json#{i}", t["instruction"], ids))
    for t in tau2:
        instr = t["user_scenario"]["instructions"]
        text = " ".join(x for x in (instr.get("reason_for_call"), instr.get("task_instructions")) if x)
        ids = [x for a in t["evaluation_criteria"]["actions"] for x in a["arguments"].get("new_item_ids", []) or []]
        ft_tasks.append((f"tau2_retail/tasks_train.json#{t['id']}", text, ids))
    ft = free_text(ft_tasks, products, item_product)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for prefix, data in (("tau", rows), ("tau_freetext", ft)):
        for split in ("dev", "test"):
            part = [{k: r[k] for k in ("query", "lang", "relevant", "source")} for r in data if r["split"] == split]
            path = out / f"{prefix}_{split}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
            counts[path.name] = len(part)
    return counts


def main(
    source: Annotated[Path, typer.Option(help="Folder holding tau_retail_v1/ and tau2_retail/.")] = SHARED_DATA,
    out: Annotated[Path, typer.Option(help="Where to write the JSONL sets.")] = OUT_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Derive the search relevance sets (dev/test JSONL) from the τ-bench retail tasks."""
    if not (source / "tau_retail_v1").is_dir() or not (source / "tau2_retail").is_dir():
        typer.secho(f"error: {source} does not hold tau_retail_v1/ and tau2_retail/", fg="red", err=True)
        raise typer.Exit(1)
    counts = build(source, out)
    typer.echo(json.dumps(counts) if as_json else "\n".join(f"{k}: {v}" for k, v in counts.items()))
