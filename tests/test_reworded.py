"""The reworded τ² train tasks (eval/data/reworded/): the source's tasks with only the shopper's instructions
said in other words, and a suite that plays their dev and held-out parts side by side."""

from __future__ import annotations

import json
from pathlib import Path

from eval.dialogues.tau import task_split

REWORDED = Path(__file__).resolve().parents[1] / "eval" / "data" / "reworded" / "tau2_train_reworded.json"


def test_only_the_shoppers_words_differ_from_the_source(shared_data):
    reworded = json.loads(REWORDED.read_text(encoding="utf-8"))
    source = json.loads((shared_data / "tau2_retail" / "tasks_train.json").read_text(encoding="utf-8"))
    assert [t["id"] for t in reworded] == [t["id"] for t in source]
    for new, old in zip(reworded, source):
        assert {k: v for k, v in new.items() if k != "user_scenario"} == {k: v for k, v in old.items() if k != "user_scenario"}
        ins, was = new["user_scenario"]["instructions"], old["user_scenario"]["instructions"]
        assert ins.keys() == was.keys()
        assert ins["reason_for_call"] != was["reason_for_call"], new["id"]


def test_the_reworded_suite_puts_dev_beside_the_held_out_part(seeded_store):
    from eval.dialogues_eval import _suite_sets

    sets = _suite_sets(seeded_store, Path("unused"), "rule", "reworded")
    assert [(name, split, len(items)) for name, split, _, items in sets] == [
        ("reworded-dev", "dev", 48), ("reworded-heldout", "validation", 26)]
    ids = [t["id"] for t in json.loads(REWORDED.read_text(encoding="utf-8"))]
    assert sum(task_split(i) == "heldout" for i in ids) == 26
