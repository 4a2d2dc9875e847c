"""Aisle's own scenarios: well-formed, enough of them in both languages, real ids, replayable ground truth."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from eval.dialogues.runner import DialogueRunner
from eval.dialogues.scenario import ScenarioError, load_scenarios
from eval.dialogues_eval import SHIPPED_SCENARIOS


@pytest.fixture(scope="module")
def scenarios():
    return load_scenarios(SHIPPED_SCENARIOS)


def test_enough_scenarios_in_both_languages_and_categories(scenarios):
    assert len(scenarios) >= 30
    langs = Counter(s.lang for s in scenarios)
    assert langs["en"] >= 10 and langs["zh"] >= 10
    cats = {s.category for s in scenarios}
    assert {"search-refinement", "comparison", "recommendation", "faq", "handoff", "out-of-scope", "privacy"} <= cats
    for s in scenarios:  # a Chinese scenario speaks Chinese
        text = " ".join(getattr(s.user, "turns", None) or [s.user.opening])
        assert (s.lang == "zh") == bool(re.search(r"[\u4e00-\u9fff]", text)), s.id


def test_ids_are_real_and_ground_truth_replays(scenarios, seeded_store, tmp_path):
    runner = DialogueRunner(seeded_store, tmp_path)
    for s in scenarios:
        text = str(s.model_dump())
        for order_id in set(re.findall(r"#W\d{7}", text)):
            assert seeded_store.order(order_id) is not None, (s.id, order_id)
        for a in s.expect.actions or []:
            if a.user_id:
                assert seeded_store.user(a.user_id) is not None, (s.id, a.user_id)
        expected = runner.expected_state(s)
        assert not isinstance(expected, Exception), (s.id, expected)


def test_bad_files_give_clear_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("scenarios:\n  - id: x\n    user: {kind: scripted, turns: []}\n")
    with pytest.raises(ScenarioError, match="a.yaml: scenario #1"):
        load_scenarios(tmp_path / "a.yaml")
    (tmp_path / "a.yaml").write_text("- id: x\n  user: {kind: scripted, turns: [hi]}\n  expect: {colour: red}\n")
    with pytest.raises(ScenarioError, match="colour"):
        load_scenarios(tmp_path)
    (tmp_path / "b.json").write_text('[{"id": "x", "user": {"kind": "scripted", "turns": ["hi"]}}]')
    (tmp_path / "a.yaml").unlink()
    (tmp_path / "c.json").write_text('{"id": "x", "user": {"kind": "scripted", "turns": ["hi"]}}')
    with pytest.raises(ScenarioError, match="duplicate scenario ids: x"):
        load_scenarios(tmp_path)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenarios(tmp_path / "missing.yaml")
