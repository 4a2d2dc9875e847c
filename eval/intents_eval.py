"""`aisle eval intents`: accuracy of the intent classifier on held-out data, OOS detection, latency.

What is measured (the classifier is trained on the train split, its softmax temperature is fitted
on dev, its out-of-scope margin was chosen by cross-validation on train; nothing here is tuned on):

- Bitext held-out: the test split of de-duplicated Bitext (digits and punctuation folded before
  the hash split, so no test sentence or order-number variant of it is in training).
- Aisle's own English and Chinese examples: the hash test split of ``aisle_en.csv`` / ``aisle_zh.csv``
  and the hand-written sentences typed the way shoppers type (``aisle_en_test.csv`` /
  ``aisle_zh_test.csv``, test only, not made by the training templates); each alone and together
  (``own_en`` / ``own_zh``, the figures the targets name). The real shopper queries: their test split.
- In-scope accuracy: Bitext test + Aisle test + shopper-query test, without the ``oos`` examples;
  a hit is the exact fine intent (an OOS verdict counts as a miss).
- CLINC150 ``oos_test`` (never shipped, never trained on): share predicted out of scope. Also
  CLINC's test sentences of non-shopping intents (should be ``oos``) and of small talk
  (should be ``chit_chat``), as separate rows. Needs the shared data folder (or --clinc).
- Latency: one ``predict`` call per message, single thread.

``--split dev`` reports the same figures on the dev split instead (Bitext dev, the dev split of
``aisle_en.csv`` / ``aisle_zh.csv`` plus ``aisle_zh_dev.csv``'s typed sentences, CLINC's shipped
validation sentences): what changes to the templates and settings are judged on, so the test split
is run once, at the end. Dev figures are optimistic: the temperature is fitted there, and settings were chosen on them.

``--path FILE`` instead evaluates any CSV with ``instruction`` (or ``text``) and ``intent`` columns.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import typer
from sklearn.metrics import f1_score
from tqdm import tqdm

from assistant.intents import IntentClassifier
from assistant.intents.data import DATA_DIR, OOS, load_examples, read_file

SHARED_DATA = Path(os.environ.get("AISLE_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
TARGETS = {
    "bitext_accuracy": 0.995,
    "clinc_oos_recall": 0.85,
    "in_scope_accuracy": 0.95,
    "own_en_accuracy": 0.90,
    "own_zh_accuracy": 0.90,
}
LATENCY_MESSAGES = 300


def _score(clf: IntentClassifier, texts: list[str], gold: list[str]) -> dict:
    pred = [p.intent for p in clf.predict_many(texts)] if texts else []
    hits = sum(p == g for p, g in zip(pred, gold))
    out = {"n": len(gold), "accuracy": round(hits / len(gold), 4) if gold else None}
    if gold:
        labels = sorted(set(gold))
        out["macro_f1"] = round(float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)), 4)
    out["_pred"] = pred
    return out


def _confusion(gold: list[str], pred: list[str]) -> dict[str, dict[str, int]]:
    """Errors only: gold intent -> {predicted intent: count}, most confused first."""
    errors: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gold, pred):
        if g != p:
            errors[g][p] += 1
    ordered = sorted(errors.items(), key=lambda kv: -sum(kv[1].values()))
    return {g: dict(c.most_common()) for g, c in ordered}


def _clinc(clf: IntentClassifier, path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    mapping = json.loads((DATA_DIR / "clinc_map.json").read_text(encoding="utf-8"))
    chit_chat, exclude = set(mapping["chit_chat"]), set(mapping["exclude"])
    oos_texts = [t for t, _ in data["oos_test"]]
    other = [t for t, i in data["test"] if i not in chit_chat and i not in exclude]
    small_talk = [t for t, i in data["test"] if i in chit_chat]
    oos = [p.in_scope for p in clf.predict_many(oos_texts)]
    oth = [p.in_scope for p in clf.predict_many(other)]
    chat = [p.intent == "chit_chat" for p in clf.predict_many(small_talk)]
    return {
        "clinc_oos_recall": round(1 - sum(oos) / len(oos), 4),
        "clinc_oos_n": len(oos),
        "clinc_non_shop_intents_oos_recall": round(1 - sum(oth) / len(oth), 4),
        "clinc_non_shop_intents_n": len(oth),
        "clinc_small_talk_chit_chat_accuracy": round(sum(chat) / len(chat), 4),
        "clinc_small_talk_n": len(chat),
    }


def _clinc_dev(clf: IntentClassifier, rows: list) -> dict:
    """The dev counterpart of ``_clinc``: CLINC's out-of-scope and non-shopping validation sentences."""
    oos = [e.text for e in rows if e.source == "clinc:oos"]
    other = [e.text for e in rows if e.source != "clinc:oos" and e.intent == OOS]
    small_talk = [e.text for e in rows if e.intent == "chit_chat"]
    share = lambda texts, ok: round(sum(map(ok, clf.predict_many(texts))) / len(texts), 4) if texts else None  # noqa: E731
    return {
        "clinc_oos_recall": share(oos, lambda p: not p.in_scope),
        "clinc_oos_n": len(oos),
        "clinc_non_shop_intents_oos_recall": share(other, lambda p: not p.in_scope),
        "clinc_non_shop_intents_n": len(other),
        "clinc_small_talk_chit_chat_accuracy": share(small_talk, lambda p: p.intent == "chit_chat"),
        "clinc_small_talk_n": len(small_talk),
    }


def _latency(clf: IntentClassifier, texts: list[str]) -> dict:
    clf.predict(texts[0])  # warm-up
    times = []
    for text in tqdm(texts, desc="latency", leave=False):
        start = time.perf_counter()
        clf.predict(text)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "latency_ms_p50": round(statistics.median(times), 2),
        "latency_ms_p95": round(times[int(0.95 * (len(times) - 1))], 2),
        "latency_n": len(times),
    }


def evaluate(clinc_path: Path | None = None, split: str = "test") -> dict:
    """Every figure of the default evaluation (or of the dev split), as a flat-ish dict."""
    clf = IntentClassifier.load()
    examples = load_examples()
    test = [e for e in examples if e.split == split]
    result: dict = {"split": f"{split} (hash split 70/10/20 of de-duplicated examples)", "oos_margin": clf.oos_margin, "temperature": clf.temperature}

    groups = {
        "bitext": [e for e in test if e.source == "bitext"],
        "aisle_en": [e for e in test if e.source == "aisle_en"],
        "aisle_zh": [e for e in test if e.source == "aisle_zh"],
        "aisle_en_typed": [e for e in test if e.source == f"aisle_en_{split}"],
        "aisle_zh_typed": [e for e in test if e.source == f"aisle_zh_{split}"],
        "shopper_queries": [e for e in test if e.source in ("webshop", "wands")],
    }
    gold_all, pred_all = [], []
    for name, rows in groups.items():
        scored = _score(clf, [e.text for e in rows], [e.intent for e in rows])
        pred = scored.pop("_pred")
        result[name] = scored
        gold_all += [e.intent for e in rows]
        pred_all += pred
    result["bitext_accuracy"] = result["bitext"]["accuracy"]
    for lang in ("en", "zh"):  # the hash test split and the typed sentences together
        rows = groups[f"aisle_{lang}"] + groups[f"aisle_{lang}_typed"]
        scored = _score(clf, [e.text for e in rows], [e.intent for e in rows])
        scored.pop("_pred")
        result[f"own_{lang}"] = scored
        result[f"own_{lang}_accuracy"] = scored["accuracy"]
    result["zh_accuracy"] = result["own_zh_accuracy"]

    in_scope = [(g, p) for g, p in zip(gold_all, pred_all) if g != OOS]
    result["in_scope_accuracy"] = round(sum(g == p for g, p in in_scope) / len(in_scope), 4)
    result["in_scope_n"] = len(in_scope)
    routes = clf.routes
    result["in_scope_route_accuracy"] = round(
        sum(routes.get(g) == routes.get(p) for g, p in in_scope) / len(in_scope), 4
    )

    clinc_path = clinc_path or SHARED_DATA / "clinc150" / "data_full.json"
    if split == "dev":  # CLINC's validation sentences shipped in clinc.csv (its test part is never shipped)
        result.update(_clinc_dev(clf, [e for e in test if e.source.startswith("clinc:")]))
    elif clinc_path.is_file():
        result.update(_clinc(clf, clinc_path))
    else:
        result["clinc_skipped"] = f"CLINC150 not found at {clinc_path}; pass --clinc FILE"

    result.update(_latency(clf, [e.text for e in test][:LATENCY_MESSAGES]))
    result["targets"] = TARGETS
    result["targets_met"] = {k: (result.get(k) is not None and result[k] >= v) for k, v in TARGETS.items()}
    result["confusion"] = _confusion(gold_all, pred_all)
    return result


def evaluate_file(path: Path) -> dict:
    """Accuracy, macro-F1 and confusion of the classifier on one labelled CSV."""
    rows = read_file(path)
    if not rows:
        raise typer.BadParameter(f"{path}: no rows with `instruction` (or `text`) and `intent` columns")
    clf = IntentClassifier.load()
    known = set(clf.labels)
    unknown = sorted({e.intent for e in rows} - known)
    scored = _score(clf, [e.text for e in rows], [e.intent for e in rows])
    pred = scored.pop("_pred")
    return {
        "path": str(path),
        **scored,
        "unknown_intents": unknown,
        "confusion": _confusion([e.intent for e in rows], pred),
    }


def main(
    path: Path | None = typer.Option(None, "--path", help="CSV with instruction and intent columns to evaluate instead."),
    clinc: Path | None = typer.Option(None, "--clinc", help="CLINC150 data_full.json (default: the shared data folder)."),
    split: str = typer.Option("test", "--split", help="test (the reported figures) or dev (what changes are judged on)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Intent classifier: Bitext held-out accuracy/macro-F1, OOS recall, in-scope accuracy, Chinese, latency."""
    if path is not None and not path.is_file():
        raise typer.BadParameter(f"no such file: {path}", param_hint="--path")
    if split not in ("test", "dev"):
        raise typer.BadParameter("must be test or dev", param_hint="--split")
    result = evaluate_file(path) if path is not None else evaluate(clinc, split)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    for key, value in result.items():
        if key != "confusion":
            typer.echo(f"{key}: {value}")
    typer.echo("confusion (gold -> predicted: count):")
    for gold, preds in result["confusion"].items():
        typer.echo(f"  {gold}: {preds}")
