"""Training examples made from phrasing templates and the shop's own catalog, in English and Chinese.

The hand-written examples give each shop intent a few dozen sentences; shoppers name the shop's own
products, options, prices and order ids in many more ways. ``data/templates_en.yaml`` and
``data/templates_zh.yaml`` hold, per intent, templates grouped by kind of phrasing (colloquial,
polite, terse, typed with typos, mixed Chinese-English); each is filled with product names, option
words and prices of the shipped demo catalog (Chinese names through the search lexicon) and with
order and item ids of the store's shapes. Everything generated goes to the train split only: dev
and test stay hand-written, and a generated sentence equal to a hand-written one is dropped.
Generation is seeded, so the same files give the same examples (and the same model cache key).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.intents.lang import Lang
from retrieval.search.query import LEXICON_PATH
from retrieval.store.seed import DEMO_DATA_DIR

TEMPLATE_FILES: dict[Lang, str] = {"en": "templates_en.yaml", "zh": "templates_zh.yaml"}
CATALOG = DEMO_DATA_DIR / "products.jsonl"
ORDERS = DEMO_DATA_DIR / "orders.jsonl"
LEXICON = LEXICON_PATH
SEED = 7
FILLS = 3  # fillings per template with slots (chosen on dev)
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass
class Fillers:
    """Words a template's slots are filled with, per language."""

    products: list[dict] = field(default_factory=list)  # {"name", "options": {key: [values]}}
    zh_products: list[str] = field(default_factory=list)
    zh_options: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)  # (key, value) over the catalog
    categories: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)


@lru_cache(maxsize=2)
def load_fillers(catalog: Path = CATALOG, orders: Path = ORDERS, lexicon: Path = LEXICON) -> Fillers:
    """The demo catalog's names, options, prices and ids; Chinese words the search lexicon maps onto them."""
    f = Fillers()
    values: set[str] = set()
    for line in catalog.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        p = json.loads(line)
        opts: dict[str, list[str]] = {}
        for v in p.get("variants", []):
            f.item_ids.append(v["item_id"])
            f.prices.append(float(v["price"]))
            for key, value in v.get("options", {}).items():
                if value not in opts.setdefault(key, []):
                    opts[key].append(str(value))
                    f.options.append((key, str(value)))
                    values.add(str(value).lower())
        f.products.append({"name": p["name"], "options": opts})
        if p.get("category"):
            f.categories.append(p["category"].replace("-", " "))
    f.categories = sorted(set(f.categories))
    # A Chinese word names a product when the search lexicon reads it as a product's name, the
    # head noun ending one ("laptop" for "... Screen Laptop"), or a category; as an option when it
    # reads as an option value.
    heads = {p["name"].lower() for p in f.products} | set(f.categories)
    heads |= {" ".join(p["name"].lower().split()[-k:]) for p in f.products for k in (1, 2)}
    zh_en = {zh: en.strip().lower() for zh, en in json.loads(lexicon.read_text(encoding="utf-8"))["zh_en"].items()}
    f.zh_products = sorted(zh for zh, en in zh_en.items() if en and len(zh) > 1 and en in heads and en not in values)
    f.zh_options = sorted(zh for zh, en in zh_en.items() if en and len(zh) > 1 and en in values and en not in heads)
    f.order_ids = [json.loads(line)["order_id"] for line in orders.read_text(encoding="utf-8").splitlines() if line.strip()]
    return f


def _price(rng: random.Random, prices: list[float], lang: Lang) -> str:
    """A round budget near a real catalog price, written as shoppers write amounts."""
    value = rng.choice(prices)
    step = 10 if value < 100 else 50 if value < 1000 else 500
    amount = max(step, int(round(value / step) * step))
    if lang == "zh":
        spoken = _zh_number(amount)
        return rng.choice([f"{amount}", f"{amount}块", f"{amount}元", f"{amount}块钱", f"${amount}", f"{spoken}块", f"{spoken}元"])
    return rng.choice([f"{amount}", f"${amount}", f"{amount} bucks", f"{amount} dollars", f"${amount}.00"])


_ZH_DIGITS = "零一二三四五六七八九"


def _zh_number(n: int) -> str:
    """An amount as Chinese shoppers say it: 500 -> 五百, 1500 -> 一千五百, 250 -> 两百五十."""
    out, units = [], [(10000, "万"), (1000, "千"), (100, "百"), (10, "十")]
    for value, unit in units:
        d, n = divmod(n, value)
        if d:
            out.append(("两" if d == 2 and value >= 100 else _ZH_DIGITS[d]) + unit)
    if n:
        out.append(_ZH_DIGITS[n])
    text = "".join(out) or "零"
    return text[1:] if text.startswith("一十") else text  # 十五, not 一十五


def _order(rng: random.Random, ids: list[str]) -> str:
    oid = rng.choice(ids)
    return rng.choice([oid, oid, oid.lstrip("#"), "#" + oid.lstrip("#").lower()])


def fill(template: str, lang: Lang, f: Fillers, rng: random.Random) -> str:
    """One filling of a template's slots: {product}, {product2}, {product_en}, {option}, {option2},
    {key}, {category}, {price}, {order}, {item}, {n}."""
    product = rng.choice(f.products)
    keyed = [(k, v) for k, vs in product["options"].items() if len(vs) > 1 for v in vs]
    key, option = rng.choice(keyed) if keyed else rng.choice(f.options)
    others = [v for k, v in f.options if k == key and v != option]
    option2 = rng.choice(others) if others else option
    name = product["name"] if rng.random() < 0.3 else product["name"].lower()
    other = rng.choice(f.products)["name"].lower()
    values = {
        "product": name,
        "product2": other,
        "product_en": name,
        "key": key,
        "option": option,
        "option2": option2,
        "category": rng.choice(f.categories),
        "price": _price(rng, f.prices, lang),
        "order": _order(rng, f.order_ids),
        "item": rng.choice(f.item_ids),
        "n": str(rng.randint(2, 5)),
    }
    if lang == "zh":
        values["product"], values["product2"] = rng.sample(f.zh_products, 2)
        values["option"], values["option2"] = rng.sample(f.zh_options, 2)
    missing = set(_SLOT.findall(template)) - set(values)
    if missing:
        raise ValueError(f"template {template!r}: unknown slot(s) {sorted(missing)}")
    return _SLOT.sub(lambda m: values[m.group(1)], template)


def read_templates(path: Path) -> dict[str, dict[str, list[str]]]:
    """intent -> kind of phrasing -> templates, from one YAML file (keys starting with ``_`` are notes)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, dict[str, list[str]]] = {}
    for intent, kinds in data.items():
        if intent.startswith("_"):
            continue
        if not isinstance(kinds, dict) or not all(isinstance(v, list) for v in kinds.values()):
            raise ValueError(f"{path.name}: {intent} must map kinds of phrasing to lists of templates")
        out[intent] = {kind: [str(t) for t in ts] for kind, ts in kinds.items()}
    return out


def generate(data_dir: Path, fills: int | None = None, seed: int = SEED) -> Iterator[tuple[str, str, Lang, str]]:
    """(text, intent, lang, kind) for every filling of every template, in a fixed order."""
    fills = FILLS if fills is None else fills
    fillers = load_fillers()
    for lang, name in TEMPLATE_FILES.items():
        path = data_dir / name
        if not path.is_file():
            continue
        rng = random.Random(f"{seed}:{lang}")
        for intent, kinds in read_templates(path).items():
            for kind, templates in kinds.items():
                for template in templates:
                    n = fills if _SLOT.search(template) else 1
                    for _ in range(n):
                        yield fill(template, lang, fillers, rng), intent, lang, kind


__all__ = ["TEMPLATE_FILES", "generate", "load_fillers", "read_templates"]
