"""`aisle eval proposals`: the split, the reading of each outcome through the real agent (fake LLM, keyword
classifier), the shipped setups reaching their proposals, and the blind-written cases file's schema."""

from __future__ import annotations

import hashlib
import json

import pytest

from assistant.llm.fake import FakeLLM
from eval.dialogues.tau import task_split
from eval.proposals_eval import CASES, DATA, Case, CaseError, ProposalRunner, case_split, load_cases, load_setups, report
from tests.fakes import KeywordClassifier

SETUPS = {s.id: s for s in load_setups()}


@pytest.fixture(scope="module")
def runner(seeded_store, tmp_path_factory):
    return ProposalRunner(seeded_store, llm=FakeLLM(lambda m: "Happy to help!"), classifier=KeywordClassifier(),
                          work_dir=tmp_path_factory.mktemp("proposals"))  # fmt: skip


def _case(id, setup, reply, outcome, lang="en", **arguments):
    return Case.model_validate({"id": id, "setup": setup, "lang": lang, "reply": reply,
                                "expect": {"outcome": outcome, "arguments": arguments}})  # fmt: skip


def test_split_is_the_dialogue_tasks_rule_and_stable():
    ids = [f"p-{n:03d}" for n in range(1, 501)]
    assert all(case_split(i) == ("test" if task_split(i) == "heldout" else "dev") for i in ids)
    assert all(case_split(i) == ("test" if int(hashlib.sha256(i.encode()).hexdigest(), 16) % 5 < 2 else "dev") for i in ids)
    assert 0.33 < sum(case_split(i) == "test" for i in ids) / len(ids) < 0.47
    # pinned: a change of the rule would move cases between dev and test
    assert [case_split(f"p-{n:03d}") for n in range(1, 9)] == ["test", "dev", "dev", "dev", "test", "test", "dev", "dev"]


# One reply per outcome (and a Chinese yes, a refund redirected, a return narrowed), and the same replies with a
# wrong expectation, which must count as wrong.
OWN = [
    _case("t-run", "cancel", "yes, go ahead", "run"),
    _case("t-run-zh", "change-payment", "好的", "run", lang="zh"),
    _case("t-decline", "change-payment", "no, leave it as it is", "decline"),
    _case("t-wait", "return-two", "which card?", "wait"),
    _case("t-change", "exchange-one", "no, make it the stainless steel one for induction", "change", new_item_ids=["1906487464"]),
    _case("t-change-refund", "return-one-giftcard", "no, refund it to my PayPal instead", "change", payment_method_id="paypal_3610783"),
    _case("t-change-fewer", "return-two", "actually only the Fleece Jacket", "change", item_ids=["9385662952"]),
]


@pytest.mark.parametrize("case", OWN, ids=lambda c: c.id)
def test_each_outcome_is_read_from_what_the_agent_did(runner, case):
    result = runner.run_case(case, SETUPS[case.setup])
    assert result.setup_error is None
    assert (result.observed, result.right) == (case.expect.outcome, True), result.agent_reply
    if case.expect.outcome in ("wait", "change"):
        assert result.observed_tool == SETUPS[case.setup].tool


def test_a_wrong_expectation_is_a_failure_with_what_was_seen(runner):
    wrong = [_case("w-1", "cancel", "yes, go ahead", "decline"),
             _case("w-2", "exchange-one", "no, make it the stainless steel one for induction", "change", new_item_ids=["3761330360"]),
             _case("w-3", "return-two", "which card?", "run")]  # fmt: skip
    results = [runner.run_case(c, SETUPS[c.setup]) for c in wrong]
    assert [(r.observed, r.right) for r in results] == [("run", False), ("change", False), ("wait", False)]
    summary = report(results, "all")["all"]
    assert (summary["n"], summary["right"]) == (3, 0)
    assert summary["confusion"] == {"decline": {"run": 1}, "change": {"change": 1}, "run": {"wait": 1}}
    assert summary["failures"] == [] and summary["failures_not_shown"] == 3  # w-1 … w-3 fall in the test split
    shown = report(results, "all", show_test=True)["all"]
    assert {f["id"] for f in shown["failures"]} == {"w-1", "w-2", "w-3"} and shown["failures_not_shown"] == 0


def test_a_dev_failure_is_shown_and_a_test_failure_only_counted(runner):
    cases = [_case("w-5", "cancel", "yes, go ahead", "decline"), _case("w-4", "cancel", "yes, go ahead", "decline")]
    assert [case_split(c.id) for c in cases] == ["dev", "test"]
    summary = report([runner.run_case(c, SETUPS[c.setup]) for c in cases], "all")["all"]
    assert [f["id"] for f in summary["failures"]] == ["w-5"] and summary["failures_not_shown"] == 1


def test_a_setup_not_reached_is_a_harness_error_not_a_failure(runner):
    broken = SETUPS["cancel"].model_copy(update={"arguments": {"order_id": "#W2631563", "reason": "ordered by mistake"}})
    result = runner.run_case(_case("b-1", "cancel", "yes", "run"), broken)
    assert result.setup_error and result.observed is None
    summary = report([result], "all")["all"]
    assert summary["n"] == 0 and summary["setup_errors"][0]["id"] == "b-1"


@pytest.mark.parametrize("setup_id", sorted(SETUPS))
def test_every_setup_reaches_its_proposal(runner, setup_id):
    error, text = runner.check_setup(SETUPS[setup_id])
    assert error is None
    assert text.strip()


def test_setups_md_is_written_from_the_current_setups():
    text = (DATA / "SETUPS.md").read_text(encoding="utf-8")
    assert text.count("\n## `") == len(SETUPS)
    for s in SETUPS.values():  # regenerate with `aisle eval proposals --write-setups-md` after editing setups.json
        assert f"## `{s.id}`" in text and json.dumps(s.arguments, ensure_ascii=False) in text and all(m in text for m in s.messages)


def test_the_cases_file_is_valid_and_names_known_setups():
    if not CASES.is_file():
        pytest.skip("no cases file yet (it is written blind from SETUPS.md)")
    cases = load_cases(CASES, list(SETUPS.values()))
    assert cases and all(c.setup in SETUPS for c in cases)


def test_a_bad_cases_file_is_refused(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text('[{"id": "p-1", "setup": "nowhere", "lang": "en", "reply": "yes", "expect": {"outcome": "run"}},'
                    ' {"id": "p-1", "setup": "cancel", "lang": "en", "reply": "no", "expect": {"outcome": "change"}}]')  # fmt: skip
    with pytest.raises(CaseError, match="duplicate ids.*unknown setup.*needs expect.arguments"):
        load_cases(path, list(SETUPS.values()))
    path.write_text('[{"id": "p-1", "setup": "cancel", "lang": "fr", "reply": "oui", "expect": {"outcome": "run"}}]')
    with pytest.raises(CaseError):
        load_cases(path, list(SETUPS.values()))
