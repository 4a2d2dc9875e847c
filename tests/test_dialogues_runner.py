"""Playing scenarios: scripted and rule-based shoppers against the real agent (fake model, keyword routes)."""

from __future__ import annotations

import pytest

from eval.dialogues.report import pass_hat_k, summarise, write_report
from eval.dialogues.runner import DialogueRunner, RunResult
from eval.dialogues.scenario import Scenario
from tests.fakes import KeywordClassifier

EMAIL, USER, PENDING, OTHERS = "anya.lee3013@example.com", "anya_lee_8315", "#W3176007", "#W9160732"
CANCEL = {"name": "cancel_pending_order", "user_id": USER, "arguments": {"order_id": PENDING, "reason": "no longer needed"}}


@pytest.fixture(scope="module")
def runner(seeded_store, tmp_path_factory):
    from assistant.llm.fake import FakeLLM

    return DialogueRunner(seeded_store, tmp_path_factory.mktemp("runs"), llm=FakeLLM(), classifier=KeywordClassifier())


def _scripted(turns: list[str], sid: str = "t", **expect) -> Scenario:
    return Scenario.model_validate({"id": sid, "category": "cancel", "user": {"kind": "scripted", "turns": turns},
                                    "expect": expect})  # fmt: skip


def test_scripted_cancel_passes(runner):
    scenario = _scripted(
        [f"My email is {EMAIL}", f"I want to cancel order {PENDING}, I no longer need it", "yes"],
        actions=[CANCEL], tool_calls=[{"name": "find_user", "arguments": {"email": EMAIL}}, CANCEL_CALL],
        must_include=["cancelled"],
    )
    result = runner.run(scenario)
    assert result.passed, result.failures
    assert result.state_match is True and result.tool_recall == 1.0 and result.tool_precision == 1.0
    assert len(result.turns) == 3 and all(t.seconds >= 0 for t in result.turns)


CANCEL_CALL = {"name": "cancel_pending_order", "arguments": {"order_id": PENDING, "reason": "no longer needed"}}


def test_scripted_scenario_that_should_fail_fails(runner):
    # The shopper declines, so the expected cancellation never happens.
    scenario = _scripted(
        [f"My email is {EMAIL}", f"I want to cancel order {PENDING}, I no longer need it", "no"],
        actions=[CANCEL], tool_calls=[CANCEL_CALL],
    )
    result = runner.run(scenario)
    assert not result.passed
    assert result.state_match is False and result.tool_recall == 0.0
    assert result.divergence == "turn 2: cancel_pending_order proposed but never carried out"
    assert any("final state differs" in f for f in result.failures)
    assert result.mode == "proposed, not done"


def test_a_failed_run_is_counted_by_what_happened_to_its_actions(runner):
    # Cancelled where the store had to stay unchanged; cancelled where an address change was expected.
    turns = [f"My email is {EMAIL}", f"I want to cancel order {PENDING}, I no longer need it", "yes"]
    address = {"name": "modify_pending_order_address", "user_id": USER, "arguments": {
        "order_id": PENDING, "address1": "1 Main St", "address2": "", "city": "Austin", "state": "TX",
        "country": "USA", "zip": "78701"}}  # fmt: skip
    unexpected = runner.run(_scripted(turns, sid="m1", actions=[]))
    other = runner.run(_scripted(turns, sid="m2", actions=[address]))
    silent = runner.run(_scripted([f"My email is {EMAIL}"], sid="m3", actions=[CANCEL]))
    assert (unexpected.mode, other.mode, silent.mode) == ("action not expected", "other action", "nothing proposed")
    assert summarise([unexpected, other, silent], 1).failure_modes == {
        "action not expected": 1, "other action": 1, "nothing proposed": 1}


def test_other_users_order_is_not_revealed(runner):
    scenario = _scripted(
        [f"My email is {EMAIL}", f"What is the status of order {OTHERS}?"],
        actions=[], must_not_include=["Water Bottle", "Patio Umbrella"], must_include_any=["can't find", "cannot find"],
    )
    result = runner.run(scenario)
    assert result.passed, (result.failures, [t.reply for t in result.turns])


def test_forbidden_content_and_turn_limit_fail(runner):
    scenario = _scripted(["hello", "hello", "hello"], must_not_include=["Aisle"], max_turns=2)
    result = runner.run(scenario)
    assert not result.passed
    assert result.divergence == "turn 1: said forbidden 'Aisle'"
    assert any("turn limit" in f for f in result.failures)


def test_rule_user_answers_questions_and_confirms_its_goal(runner):
    scenario = Scenario.model_validate({
        "id": "rule", "category": "cancel",
        "user": {"kind": "rule", "opening": f"Please cancel my order {PENDING}.",
                 "facts": {"email": EMAIL, "reason": "ordered by mistake"},
                 "goal": [{"tool": "cancel_pending_order", "order_id": PENDING}]},
        "expect": {"actions": [{**CANCEL, "arguments": {"order_id": PENDING, "reason": "ordered by mistake"}}]},
    })  # fmt: skip
    result = runner.run(scenario)
    assert result.passed, (result.failures, [(t.user, t.reply) for t in result.turns])
    assert [t.user for t in result.turns][-1] == "yes"


def test_rule_user_declines_a_proposal_outside_its_goal(runner):
    scenario = Scenario.model_validate({
        "id": "rule-no", "category": "refusal",
        "user": {"kind": "rule", "opening": f"Please cancel my order {PENDING}.",
                 "facts": {"email": EMAIL, "reason": "ordered by mistake"},
                 "goal": [{"tool": "cancel_pending_order", "order_id": "#W0000000"}]},
        "expect": {"actions": []},
    })  # fmt: skip
    result = runner.run(scenario)
    assert result.passed and "no" in [t.user for t in result.turns]


def test_pass_hat_k_follows_tau_definition():
    def run(sid: str, ok: bool) -> RunResult:
        return RunResult(scenario_id=sid, category="c", lang="en", run=0, passed=ok)

    results = [run("a", True)] * 4 + [run("b", True), run("b", True), run("b", False), run("b", False)]
    k = pass_hat_k(results, 4)
    assert k[1] == pytest.approx((1 + 0.5) / 2)
    assert k[2] == pytest.approx((1 + 1 / 6) / 2, abs=1e-4)
    assert k[4] == pytest.approx(0.5)


def test_report_lists_failures_with_transcripts(runner, tmp_path):
    bad = runner.run(_scripted(["hello"], sid="bad", must_include=["tracking"]))
    good = runner.run(_scripted(["hello"], sid="good"))
    assert not bad.passed and good.passed, (bad.failures, good.failures)
    report = write_report([bad, good], summarise([bad, good], 1), tmp_path, {"source": "test"})
    text = report.read_text()
    assert "## Failed scenarios (1)" in text and "**shopper:** hello" in text and "never said 'tracking'" in text
    assert (tmp_path / "results.json").exists() and (tmp_path / "pass_hat_k.png").exists()


def test_a_held_out_report_counts_failures_without_showing_them(runner, tmp_path):
    import json

    bad = runner.run(_scripted(["hello"], sid="bad", must_include=["tracking"]))
    text = write_report([bad], summarise([bad], 1), tmp_path, {"source": "test"}, held_out=True).read_text()
    assert "| reply | 1 |" in text and "not shown" in text
    assert "hello" not in text and "tracking" not in text
    (run,) = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert run["scenario_id"] == "bad" and run["passed"] is False and run["mode"] == "reply"
    assert "turns" not in run and "failures" not in run and "divergence" not in run


def test_llm_user_plays_from_instructions_and_stops(runner):
    from assistant.llm.fake import FakeLLM

    seen = []

    def shopper(messages):
        seen.append(messages)
        said = [m.content for m in messages if m.role == "assistant"]
        if len(said) == 1:
            return f"My email is {EMAIL}"
        return "###STOP###"

    scenario = Scenario.model_validate({
        "id": "llm", "category": "order-status",
        "user": {"kind": "llm", "opening": "Where is my order #W1335809?",
                 "instructions": "You want to know where your order #W1335809 is.", "facts": {"email": EMAIL}},
        "expect": {"actions": [], "must_include": ["465535118094"]},
    })  # fmt: skip
    llm_runner = DialogueRunner(runner.base, runner.work_dir, llm=runner.llm, classifier=runner.classifier,
                                user_llm=FakeLLM(shopper))  # fmt: skip
    result = llm_runner.run(scenario)
    assert [t.user for t in result.turns] == ["Where is my order #W1335809?", f"My email is {EMAIL}"]
    assert result.passed, result.failures
    # The shopper model sees its instructions, and the assistant's replies as the other side.
    assert "order #W1335809 is." in seen[0][0].content and seen[0][-1].role == "user"


def test_rule_user_falls_back_to_name_and_zip_and_describes_items():
    from eval.dialogues.scenario import RuleUser
    from eval.dialogues.simulated_user import RuleSim

    sim = RuleSim(RuleUser(opening="Exchange my keyboard.", facts={
        "email": "wrong@example.com", "first_name": "Yusuf", "last_name": "Rossi", "zip": "19122",
        "items": "The mechanical keyboard."}))  # fmt: skip
    ask = "To look at your account I first need to identify you: please give your email, or your first name, last name and zip code."
    assert sim.reply(ask, []) == "My email is wrong@example.com."
    assert sim.reply("No customer found with that email. " + ask, []) == (
        "My name is Yusuf Rossi and my zip code is 19122."
    )
    # It knows no order id: it picks the listed order whose items it named, else says it does not remember.
    assert sim.reply("Which order is it? Your orders: #W1000001 (delivered: Keyboard).", []) == (
        "I think it's #W1000001, the one with the Keyboard."
    )
    assert sim.reply("Which order is it? Your orders: #W2000002 (pending: Lamp).", []) == "I'm not sure, sorry."
    assert sim.reply("Something unrelated.", []) == "Exchange my keyboard."  # restates once
    assert sim.reply("Something unrelated.", []) is None  # then gives up


def test_rule_user_tries_each_email_and_answers_if_asked_once():
    from assistant.state import AssistantEvent
    from eval.dialogues.scenario import RuleUser
    from eval.dialogues.simulated_user import RuleSim

    sim = RuleSim(RuleUser(
        opening="Exchange the water bottle and the desk lamp.",
        facts={"email": "a@example.com", "other_emails": ["b@example.com"], "payment": "To my credit card."},
        goal=[{"tool": "exchange_delivered_order_items"}],
        if_asked=[{"words": ["confirm"], "say": "Only exchange the desk lamp."}],
    ))  # fmt: skip
    ask = "please give your email, or your first name, last name and zip code."
    assert sim.reply(ask, []) == "My email is a@example.com."
    assert sim.reply("No customer found with that email. " + ask, []) == "My email is b@example.com."
    pending = [AssistantEvent(kind="pending", tool="exchange_delivered_order_items", arguments={"order_id": "#W1"})]
    assert sim.reply("Please confirm: … Shall I go ahead? (yes/no)", pending) == "Only exchange the desk lamp."
    assert sim.reply("Please confirm: … Shall I go ahead? (yes/no)", pending) == "yes"  # said once only
    # Asked for what it cannot have, it takes the one method offered.
    assert sim.reply("Which payment method should receive the refund? Yours: gift_card_1.", []) == "To my credit card."
    assert sim.reply("None of your payment methods … is a credit card. You can choose: gift_card_1.", []) == (
        "OK, gift_card_1 then."
    )


@pytest.mark.parametrize(("name", "split", "held"), [
    ("tasks_train.json", None, False), ("tasks_dev.json", None, True), ("tasks_test.json", None, True),
    ("tasks.json", "dev", False), ("tasks.json", "heldout", True), ("tasks.json", None, True),
])  # fmt: skip
def test_only_train_files_and_dev_parts_are_developed_on(name, split, held):
    from pathlib import Path

    from eval.dialogues_eval import _held_out

    assert _held_out(Path("/data") / name, split) is held
    assert _held_out(None, None) is False  # Aisle's own scenarios
