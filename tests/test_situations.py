"""The situation tasks shipped with the evaluation (eval/data/situations/tasks.json): their format, their
split (by a hash of the task id, recorded in each task) and gold actions that replay on the demo store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.dialogues.scenario import WRITE_TOOLS, ScenarioError
from eval.dialogues.state_diff import replay
from eval.dialogues.tau import task_split, tau2_scenarios

TASKS = Path(__file__).resolve().parents[1] / "eval" / "data" / "situations" / "tasks.json"


def _tasks() -> list[dict]:
    return json.loads(TASKS.read_text(encoding="utf-8"))


def test_tasks_have_the_tau2_shape_and_describe_orders_and_items_without_ids():
    tasks = _tasks()
    assert len(tasks) == 280 and len({t["id"] for t in tasks}) == 280
    for t in tasks:
        ins = t["user_scenario"]["instructions"]
        assert {"reason_for_call", "known_info", "unknown_info", "task_instructions"} <= ins.keys()
        assert "#W" not in ins["reason_for_call"], t["id"]  # orders are described, never numbered
        assert t["evaluation_criteria"]["actions"], t["id"]


def test_the_split_is_the_hash_of_the_id_and_is_recorded_in_each_task():
    tasks = _tasks()
    assert all(t["description"]["notes"] == f"split: {task_split(t['id'])}" for t in tasks)
    assert sum(task_split(t["id"]) == "heldout" for t in tasks) == 114


def test_split_selects_its_part_of_a_task_file(seeded_store):
    dev = tau2_scenarios(TASKS, seeded_store, split="dev")
    held = tau2_scenarios(TASKS, seeded_store, split="heldout")
    assert len(dev) == 166 and len(held) == 114 and not {s.id for s in dev} & {s.id for s in held}
    with pytest.raises(ScenarioError):
        tau2_scenarios(TASKS, seeded_store, split="validation")


def test_every_gold_action_replays_on_the_demo_store(seeded_store, tmp_path):
    for n, scenario in enumerate(tau2_scenarios(TASKS, seeded_store)):
        store = seeded_store.copy_to(f"sqlite:///{tmp_path / f'{n}.db'}")
        writes = [a for a in scenario.expect.actions if a.name in WRITE_TOOLS]
        assert writes, scenario.id
        replay(store, writes)  # raises ReplayError when the task and the store disagree


def test_the_situations_suite_puts_dev_beside_the_held_out_part(seeded_store):
    from eval.dialogues_eval import _suite_sets

    sets = _suite_sets(seeded_store, Path("unused"), "rule", "situations")
    assert [(name, split, len(items)) for name, split, _, items in sets] == [
        ("situations-dev", "dev", 166), ("situations-heldout", "validation", 114)]
