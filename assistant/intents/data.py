"""The shipped training examples: loading, de-duplication, the fixed train/dev/test split, the data hash.

Sources (all in ``data/``, licences in ``data/LICENSES/``): Bitext customer support (27 support
intents), Aisle's own English and Chinese examples, real shopper queries (WebShop, WANDS) as
``search_products``, and CLINC150 (small talk as ``chit_chat``, everything else not about shopping
as ``oos``). See ``data/README.md``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

from assistant.intents.lang import Lang, detect_lang

DATA_DIR = Path(__file__).resolve().parent / "data"
Split = Literal["train", "dev", "test"]
OOS = "oos"
# Hand-written test sentences typed the way shoppers type: always in the test split, never trained on.
TEST_ONLY = ("aisle_en_test.csv", "aisle_zh_test.csv")
# Hand-written dev sentences typed the way shoppers type: always in the dev split (what the
# phrasing templates and settings are judged on), never trained on.
DEV_ONLY = ("aisle_zh_dev.csv",)
# Files read, in priority order: when two sources hold the same normalised text, the first one's
# label and split win (so a test sentence is never also a dev or training example).
SOURCES = (*TEST_ONLY, *DEV_ONLY, "bitext.csv", "aisle_en.csv", "aisle_zh.csv", "shop_queries.csv", "clinc.csv")


class Example(NamedTuple):
    text: str
    intent: str
    lang: Lang
    split: Split
    source: str


def normalise(text: str) -> str:
    """The form used for de-duplication: case, width, punctuation, spacing and digits folded.

    Digits are folded because Bitext repeats sentences with different order numbers; those copies
    must not straddle train and test.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\d+", "0", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def split_of(text: str) -> Split:
    """A fixed 70/10/20 split by hash of the normalised text.

    A hash rather than a shuffle: an example keeps its split when others are added, and copies of
    one sentence always land in the same split.
    """
    bucket = int(hashlib.md5(normalise(text).encode("utf-8")).hexdigest(), 16) % 10
    return "train" if bucket < 7 else "dev" if bucket < 8 else "test"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_file(path: Path, source: str | None = None, split: Split | None = None) -> list[Example]:
    """Examples of one CSV (``text``/``instruction``, ``intent``, optional ``split``), not de-duplicated.

    ``split`` forces every row into that split; otherwise a row's own ``split`` column, else the hash split.
    """
    out = []
    for row in _read_csv(path):
        text = (row.get("text") or row.get("instruction") or "").strip()
        intent = (row.get("intent") or "").strip()
        if not text or not intent:
            continue
        part = split or row.get("split") or split_of(text)
        out.append(Example(text, intent, detect_lang(text), part, row.get("source") or source or path.stem))
    return out


def generated_examples(data_dir: Path = DATA_DIR) -> list[Example]:
    """Examples made from the phrasing templates and the demo catalog (``templates.py``): train only."""
    from assistant.intents.templates import generate

    return [Example(text, intent, lang, "train", f"template_{lang}") for text, intent, lang, _ in generate(data_dir)]


def load_examples(data_dir: Path = DATA_DIR, generated: bool = True) -> list[Example]:
    """Every example once (by normalised text), with its split; ``generated`` adds the templates' examples.

    Generated examples come last, so one equal to a hand-written sentence (of any split) is dropped.
    """
    seen: set[str] = set()
    out = []
    forced: dict[str, Split] = {**{n: "test" for n in TEST_ONLY}, **{n: "dev" for n in DEV_ONLY}}
    files = [read_file(data_dir / name, source=Path(name).stem, split=forced.get(name)) for name in SOURCES]
    for ex in [e for rows in files for e in rows] + (generated_examples(data_dir) if generated else []):
        key = normalise(ex.text)
        if key and key not in seen:
            seen.add(key)
            out.append(ex)
    return out


def data_hash(data_dir: Path = DATA_DIR) -> str:
    """Hash of everything that shapes the model: the example files, the routes, and what the
    generated examples are made from (the template files, the catalog, order and lexicon files
    that fill them, and the generator's code), so a change in any of them means retraining.

    The inputs are hashed rather than the generated sentences: generating them costs a second
    or more at every start-up, and the same inputs always give the same sentences (seeded).
    """
    from assistant.intents import templates

    h = hashlib.sha256()
    inputs = [data_dir / name for name in (*SOURCES, "routes.json")]
    inputs += [data_dir / name for name in templates.TEMPLATE_FILES.values()]
    inputs += [templates.CATALOG, templates.ORDERS, templates.LEXICON, Path(templates.__file__)]
    for path in inputs:
        h.update(path.name.encode())
        h.update(path.read_bytes() if path.is_file() else b"<absent>")
    return h.hexdigest()


@lru_cache(maxsize=4)
def load_routes(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Fine intent -> Aisle route (``data/routes.json``)."""
    return dict(json.loads((data_dir / "routes.json").read_text(encoding="utf-8"))["routes"])
