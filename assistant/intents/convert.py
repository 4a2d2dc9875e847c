"""Rebuild the shipped third-party example files in ``data/`` from their public sources.

``python -m assistant.intents.convert --source ../shared/data`` reads a folder holding
``bitext_support/``, ``clinc150/`` and ``queries/`` and writes ``bitext.csv``, ``clinc.csv`` and
``shop_queries.csv``. Aisle's own examples (``aisle_en.csv``, ``aisle_zh.csv``) are written by hand.
A test checks the shipped files are exactly what this makes.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import typer

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 13
# Real shopper phrasing for `search_products`: enough to cover search styles, few enough not to
# swamp the other intents.
N_WEBSHOP, N_WANDS = 300, 200


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def bitext_csv(source: Path) -> str:
    """Bitext instructions and intents, in file order (de-duplication happens at load time)."""
    with (source / "bitext_support" / "bitext_customer_support_4514.csv").open(encoding="utf-8") as f:
        rows = [[r["instruction"].strip(), r["intent"]] for r in csv.DictReader(f)]
    return _csv_text(["text", "intent"], rows)


def clinc_csv(source: Path) -> str:
    """CLINC150 train/val as Aisle labels: chit_chat, or oos; CLINC's test part is never shipped."""
    data = json.loads((source / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    mapping = json.loads((DATA_DIR / "clinc_map.json").read_text(encoding="utf-8"))
    chit_chat, exclude = set(mapping["chit_chat"]), set(mapping["exclude"])
    rng = random.Random(SEED)
    rows = []
    for part, split in (("train", "train"), ("val", "dev")):
        by_intent: dict[str, list[str]] = {}
        for text, intent in data[part]:
            by_intent.setdefault(intent, []).append(text)
        for intent in sorted(by_intent):
            if intent in exclude:
                continue
            texts = rng.sample(by_intent[intent], mapping["per_intent"][split])
            label = "chit_chat" if intent in chit_chat else "oos"
            rows += [[t, label, split, f"clinc:{intent}"] for t in texts]
        rows += [[t, "oos", split, "clinc:oos"] for t, _ in data[f"oos_{part}"]]
    return _csv_text(["text", "intent", "split", "source"], rows)


def shop_queries_csv(source: Path) -> str:
    """A fixed sample of WebShop shopping instructions and WANDS queries, as `search_products`."""
    rng = random.Random(SEED)
    goals = json.loads((source / "queries" / "webshop_human_goals.json").read_text(encoding="utf-8"))
    goals = sorted({" ".join(g.split()) for g in goals if g.strip()})
    with (source / "queries" / "wands_query.csv").open(encoding="utf-8") as f:
        wands = sorted({r["query"].strip() for r in csv.DictReader(f, delimiter="\t") if r["query"].strip()})
    rows = [[t, "search_products", "webshop"] for t in rng.sample(goals, N_WEBSHOP)]
    rows += [[t, "search_products", "wands"] for t in rng.sample(wands, N_WANDS)]
    return _csv_text(["text", "intent", "source"], rows)


BUILDERS = {"bitext.csv": bitext_csv, "clinc.csv": clinc_csv, "shop_queries.csv": shop_queries_csv}


def build(source: Path) -> dict[str, str]:
    """File name -> content, for every third-party file in ``data/``."""
    return {name: make(source) for name, make in BUILDERS.items()}


def main(source: Path = typer.Option(..., help="Folder with bitext_support/, clinc150/ and queries/.")) -> None:
    """Rebuild assistant/intents/data/{bitext,clinc,shop_queries}.csv from the public sources."""
    for name, text in build(source).items():
        (DATA_DIR / name).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {name}: {text.count(chr(10)) - 1} rows")


if __name__ == "__main__":
    typer.run(main)
