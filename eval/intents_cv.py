"""`aisle eval intents-cv`: out-of-fold figures on the train split for each out-of-scope margin.

How ``assistant.intents.model.OOS_MARGIN`` is chosen, without dev or test: k-fold cross-validation
over the train split, where the hand-written sentences (Bitext, Aisle's own, shopper queries, CLINC
small talk and CLINC's own out-of-scope sentences) are held out by a hash of their text, CLINC's
non-shopping intents (weather, banking, …) a whole intent at a time, so a held-out one stands for
a topic the model never saw, as CLINC's out-of-scope test sentences are, and the generated template
sentences are always trained on (fillings of one template are near copies). The features (n-gram
vocabularies and the embeddings) are computed once on all of train; only the SVM is refitted per
fold. Each row: accuracy per group at one margin (an out-of-scope verdict on an in-scope sentence
is a miss; for the out-of-scope groups, the share judged out of scope), and per language the
balanced accuracy (in-scope accuracy + out-of-scope recall over that language's sentences, the rule
the old dev threshold was chosen by). ``chosen``: per language, the margin with the highest
balanced accuracy (the lowest of equals), which is what ``OOS_MARGIN`` holds.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import typer
from sklearn.svm import LinearSVC

from assistant.intents.data import OOS, Example, load_examples, normalise
from assistant.intents.model import C, EMBEDDING, build_pipeline, class_weights


def fold_of(example: Example, k: int) -> int:
    """The fold an example is held out in; -1 for generated sentences (always trained on)."""
    if example.source.startswith("template"):
        return -1
    held_out_topic = example.source.startswith("clinc:") and example.source != "clinc:oos" and example.intent == OOS
    key = example.source if held_out_topic else normalise(example.text)
    return int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16) % k


def out_of_fold_scores(
    examples: list[Example], k: int = 5, embedding: bool = EMBEDDING
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVM scores of each example from the fold model that did not train on it (NaN rows for templates)."""
    texts = [e.text for e in examples]
    y = np.array([e.intent for e in examples])
    folds = np.array([fold_of(e, k) for e in examples])
    x = build_pipeline(embedding=embedding).named_steps["features"].fit_transform(texts)
    labels = np.array(sorted(set(y)))
    scores = np.full((len(examples), len(labels)), np.nan)
    for fold in range(k):
        train, held = folds != fold, folds == fold
        if not held.any():
            continue
        svm = LinearSVC(C=C, class_weight=class_weights(list(y[train]))).fit(x[train], y[train])
        cols = np.searchsorted(labels, svm.classes_)
        block = np.full((int(held.sum()), len(labels)), -np.inf)  # a class absent from this fold's training never wins
        raw = svm.decision_function(x[held])
        block[:, cols] = np.c_[-raw, raw] if raw.ndim == 1 else raw  # two classes: one score column
        scores[held] = block
    return scores, labels, folds


def groups(examples: list[Example]) -> dict[str, np.ndarray]:
    src = np.array([e.source for e in examples])
    gold = np.array([e.intent for e in examples])
    lang = np.array([e.lang for e in examples])
    clinc = np.char.startswith(src.astype(str), "clinc:")
    return {
        "own_en": src == "aisle_en",
        "own_zh": src == "aisle_zh",
        "bitext": src == "bitext",
        "shopper_queries": np.isin(src, ["webshop", "wands"]),
        "small_talk": gold == "chit_chat",
        "clinc_oos": src == "clinc:oos",
        "clinc_held_out_intents": clinc & (src != "clinc:oos") & (gold == OOS),
        "zh_oos": (lang == "zh") & (gold == OOS),
    }


def margin_table(scores: np.ndarray, labels: np.ndarray, examples: list[Example], margins: list[float]) -> list[dict]:
    """Per margin, each group's accuracy under the classifier's rule (out of scope unless the best
    intent beats ``oos`` by the margin)."""
    gold = np.array([e.intent for e in examples])
    lang = np.array([e.lang for e in examples])
    oos = int(np.flatnonzero(labels == OOS)[0])
    top = scores.argmax(1)
    lead = scores[np.arange(len(scores)), top] - scores[:, oos]
    rows = []
    for margin in margins:
        pred = np.where((top == oos) | (lead < margin), OOS, labels[top])
        hit = pred == gold
        row: dict = {"margin": margin}
        for name, mask in groups(examples).items():
            row[name] = round(float(hit[mask].mean()), 4) if mask.any() else None
            row[f"{name}_n"] = int(mask.sum())
        for code in ("en", "zh"):
            inside, outside = (lang == code) & (gold != OOS), (lang == code) & (gold == OOS)
            if inside.any() and outside.any():
                row[f"{code}_balanced"] = round(float(hit[inside].mean() + hit[outside].mean()), 4)
        rows.append(row)
    return rows


def choose_margins(rows: list[dict]) -> dict[str, float]:
    """Per language, the margin whose balanced accuracy is highest (the lowest of equals)."""
    chosen = {}
    for code in ("en", "zh"):
        scored = [(row[f"{code}_balanced"], -row["margin"]) for row in rows if f"{code}_balanced" in row]
        if scored:
            chosen[code] = -max(scored)[1]
    return chosen


def main(
    margins: str = typer.Option(
        ",".join(f"{m / 100:g}" for m in range(0, 61, 5)), "--margins", help="Comma-separated margins to report."
    ),
    k: int = typer.Option(5, "--folds", min=2, help="Number of folds."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Out-of-fold accuracy per group on the train split for each out-of-scope margin (dev and test unused)."""
    try:
        values = [float(m) for m in margins.split(",") if m.strip()]
    except ValueError:
        raise typer.BadParameter("comma-separated numbers, e.g. 0.1,0.2", param_hint="--margins") from None
    examples = [e for e in load_examples() if e.split == "train"]
    scores, labels, folds = out_of_fold_scores(examples, k)
    held = folds >= 0
    rows = margin_table(scores[held], labels, [e for e, h in zip(examples, held) if h], values)
    result = {"folds": k, "chosen": choose_margins(rows), "rows": rows}
    if as_json:
        typer.echo(json.dumps(result))
        return
    for row in rows:
        typer.echo("  ".join(f"{key}={value}" for key, value in row.items() if not key.endswith("_n")))
    typer.echo(f"chosen (highest balanced accuracy per language): {result['chosen']}")
