"""Judge the shopper-style search queries against the demo catalog (`aisle eval search-judge`).

`eval/data/search/shopper/queries.yaml` holds each query with what it asks for, written as
conditions on the catalog (see that file's header and docs/search.md, "Shopper judgements"):
grade 2 = a variant of a named product meeting every condition, grade 1 = any other variant of
that product. This module applies the conditions to the catalog data, so the grades follow from
the products' options and prices, never from what the search engine returns, and writes
`dev.jsonl` / `test.jsonl` beside the queries: 60 / 40 by a hash of the query text, within each
language (so both splits hold the same share of Chinese). Queries under `dev_only` (written after
the split was fixed) join dev only, so adding them never moves a query between the splits. Queries
under `hard` (a later, harder batch) go to test when the hash of their own text is below
`HARD_TEST_SHARE`, else to dev, after the earlier rows and marked `"set": "hard"`: the split of
each is fixed by its text alone, before anything is run, and the earlier rows stay as they were.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated

import typer
import yaml

from retrieval.store.schema import ProductRecord
from retrieval.store.seed import load_store_data

SHOPPER_DIR = Path(__file__).parent / "data" / "search" / "shopper"
DEV_SHARE = 0.6
HARD_TEST_SHARE = 0.5
_CJK = re.compile(r"[\u3400-\u9fff]")
_COND = re.compile(r"^(price)\s*([<>])\s*([\d.]+)$|^([^=!<>]+?)(!?=)(.+)$")


class SpecError(ValueError):
    """A query's conditions do not fit the catalog (unknown product, option or value)."""


def _norm(text: str) -> str:
    return text.replace("_", " ").strip().lower()


def judge(want: str, products: dict[str, ProductRecord]) -> dict[str, int]:
    """Grades of the catalog's items for one `want` string ("PID key=v key!=v price<N ; PID …")."""
    grades: dict[str, int] = {}
    for clause in want.split(";"):
        pid, *conds = clause.split()
        product = products.get(pid)
        if product is None:
            raise SpecError(f"unknown product '{pid}'")
        keys = {_norm(k): k for v in product.variants for k in v.options}
        tests = []
        for cond in conds:
            m = _COND.match(cond)
            if not m:
                raise SpecError(f"'{cond}' is not a condition")
            if m.group(1):
                limit, below = float(m.group(3)), m.group(2) == "<"
                tests.append(lambda v, limit=limit, below=below: v.price <= limit if below else v.price >= limit)
                continue
            key, op, values = _norm(m.group(4)), m.group(5), {_norm(x) for x in m.group(6).split(",")}
            if key not in keys:
                raise SpecError(f"{pid} ({product.name}) has no option '{key}'")
            known = {_norm(v.options.get(keys[key], "")) for v in product.variants}
            if values - known:
                raise SpecError(f"{pid} ({product.name}) has no {key} {sorted(values - known)}")
            wanted = op == "="
            tests.append(lambda v, k=keys[key], vals=values, wanted=wanted: (_norm(v.options.get(k, "")) in vals) == wanted)
        for variant in product.variants:
            grades[variant.item_id] = 2 if all(t(variant) for t in tests) else max(grades.get(variant.item_id, 0), 1)
    return grades


def split_of(query: str) -> float:
    return int(hashlib.sha256(query.encode("utf-8")).hexdigest()[:8], 16) / 16**8


def build(spec: Path = SHOPPER_DIR / "queries.yaml", out: Path = SHOPPER_DIR, products: list[ProductRecord] | None = None) -> dict:
    if products is None:
        products = load_store_data().products
    by_id = {p.product_id: p for p in products}
    rows, errors = [], []
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    extra = data.get("dev_only") or []
    hard = data.get("hard") or []
    for n, (query, want) in enumerate(data["queries"] + extra + hard, start=1):
        try:
            relevant = judge(want, by_id)
        except SpecError as exc:
            errors.append(f"query {n} '{query}': {exc}")
            continue
        if 2 not in relevant.values():
            errors.append(f"query {n} '{query}': no variant meets every condition of '{want}'")
            continue
        row = {"query": query, "lang": "zh" if _CJK.search(query) else "en", "relevant": relevant, "want": want,
               "dev_only": n > len(data["queries"])}
        if n > len(data["queries"]) + len(extra):
            row["set"] = "hard"
        rows.append(row)
    if errors:
        raise SpecError("\n".join(errors))
    splits: dict[str, list[dict]] = {"dev": [], "test": []}
    for lang in sorted({r["lang"] for r in rows}):
        mine = sorted((r for r in rows if r["lang"] == lang and not r["dev_only"]), key=lambda r: split_of(r["query"]))
        cut = round(DEV_SHARE * len(mine))
        splits["dev"] += mine[:cut]
        splits["test"] += mine[cut:]
    splits["dev"] += [r for r in rows if r["dev_only"] and "set" not in r]
    for r in rows:
        if r.get("set") == "hard":
            splits["test" if split_of(r["query"]) < HARD_TEST_SHARE else "dev"].append(r)
    for r in rows:
        del r["dev_only"]
    counts = {}
    for name, split_rows in splits.items():
        path = out / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in split_rows), encoding="utf-8")
        counts[name] = {"queries": len(split_rows), "zh": sum(r["lang"] == "zh" for r in split_rows)}
    return counts


def main(
    spec: Annotated[Path, typer.Option(help="Queries and their conditions (YAML).")] = SHOPPER_DIR / "queries.yaml",
    out: Annotated[Path, typer.Option(help="Folder for dev.jsonl and test.jsonl.")] = SHOPPER_DIR,
) -> None:
    """Grade the shopper queries against the demo catalog and write their dev / test splits."""
    try:
        counts = build(spec, out)
    except (OSError, SpecError, yaml.YAMLError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(counts))
