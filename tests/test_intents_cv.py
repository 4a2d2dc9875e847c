"""`aisle eval intents-cv`: folds and the per-margin table, on tiny data (no embedding)."""

from __future__ import annotations

import numpy as np

from assistant.intents.data import OOS, Example
from eval.intents_cv import choose_margins, fold_of, margin_table, out_of_fold_scores


def _examples() -> list[Example]:
    out = []
    words = ["red", "blue", "green", "black", "white", "small", "large", "new", "old", "cheap", "nice", "warm"]
    for w in words:  # distinct after normalising (digits fold to 0)
        out.append(Example(f"where is my {w} order now", "track_order", "en", "train", "aisle_en"))
        out.append(Example(f"i want to return the {w} item please", "return_item", "en", "train", "aisle_en"))
        out.append(Example(f"what is the weather like in {w} town", OOS, "en", "train", "clinc:weather"))
        out.append(Example(f"play the {w} song for me", OOS, "en", "train", "clinc:play_music"))
        out.append(Example(f"how tall is the {w} tower", OOS, "en", "train", "clinc:oos"))  # by text: oos in every fold
    out.append(Example("track order {order}", "track_order", "en", "train", "template_en"))
    return out


def test_templates_are_never_held_out_and_a_clinc_intent_is_held_out_whole():
    ex = _examples()
    assert fold_of(ex[-1], 5) == -1
    weather = {fold_of(e, 5) for e in ex if e.source == "clinc:weather"}
    assert len(weather) == 1
    own = {fold_of(e, 5) for e in ex if e.source == "aisle_en"}
    assert len(own) > 1


def test_out_of_fold_scores_and_margin_table():
    ex = _examples()
    scores, labels, folds = out_of_fold_scores(ex, k=3, embedding=False)
    assert np.isnan(scores[folds == -1]).all() and not np.isnan(scores[folds >= 0]).any()
    held = folds >= 0
    rows = margin_table(scores[held], labels, [e for e, h in zip(ex, held) if h], [0.0, 100.0])
    assert rows[0]["own_en_n"] == 24 and rows[0]["clinc_held_out_intents_n"] == 24
    # an enormous margin sends everything out of scope
    assert rows[1]["own_en"] == 0.0 and rows[1]["clinc_held_out_intents"] == 1.0
    assert rows[0]["own_en"] > 0.5
    # balanced accuracy per language: an enormous margin keeps only the out-of-scope half
    assert rows[1]["en_balanced"] == 1.0 and rows[0]["en_balanced"] > 1.0 and "zh_balanced" not in rows[0]


def test_the_chosen_margin_is_the_best_balanced_one_per_language_and_the_lowest_of_equals():
    rows = [{"margin": 0.1, "en_balanced": 1.9, "zh_balanced": 1.8}, {"margin": 0.2, "en_balanced": 1.95, "zh_balanced": 1.8},
            {"margin": 0.3, "en_balanced": 1.95, "zh_balanced": 1.7}]
    assert choose_margins(rows) == {"en": 0.2, "zh": 0.1}
