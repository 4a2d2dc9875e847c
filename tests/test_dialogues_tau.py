"""τ²-bench and τ-bench task files → scenarios: first-person opening, facts, ground truth replayed."""

from __future__ import annotations

import json

from eval.dialogues.runner import DialogueRunner
from eval.dialogues.tau import extract_facts, first_person, tau2_scenarios, tau_scenarios


def test_first_person_rules():
    assert first_person("You received your order and wish to exchange it; you'd like them to call you.") == (
        "I received my order and wish to exchange it; I would like them to call me."
    )
    assert first_person("You are Yusuf Rossi.") == "I am Yusuf Rossi."


def test_facts_from_task_text():
    facts = extract_facts("You are mei_kovacs_8020 living in zipcode 28236. Return order #W6390527 to your gift card.")
    assert (facts.first_name, facts.last_name, facts.zip) == ("Mei", "Kovacs", "28236")
    assert facts.order_ids == ["#W6390527"] and "gift card" in facts.payment
    for known in ("You are an interesting guy called Noah Patel, living in the Big Apple in 10108.",
                  "You're Noah Patel, living in Jacksonville 10108.", "You name is Noah Patel and your zip code is 10108."):
        facts = extract_facts(known)
        assert (facts.first_name, facts.last_name, facts.zip) == ("Noah", "Patel", "10108"), known
    facts = extract_facts("Your email is jane.doe1@example.com. You want to cancel #W1234567 because you ordered by mistake.")
    assert facts.email == "jane.doe1@example.com" and facts.reason == "ordered by mistake"


def test_two_tau2_tasks_convert_and_replay(shared_data, seeded_store, tmp_path):
    tasks = json.loads((shared_data / "tau2_retail" / "tasks_train.json").read_text())
    chosen = [tasks[0], next(t for t in tasks if any(a["name"] == "cancel_pending_order"
                                                     for a in t["evaluation_criteria"]["actions"]))]  # fmt: skip
    path = tmp_path / "two.json"
    path.write_text(json.dumps(chosen))
    exchange, cancel = tau2_scenarios(path, seeded_store)

    assert exchange.id == "tau2-two-0" and exchange.category == "exchange"
    assert exchange.user.opening.startswith("I received my order #W2378156 and wish to exchange")
    assert "You" not in exchange.user.opening and "agent" not in exchange.user.opening
    facts = exchange.user.facts
    assert (facts.first_name, facts.last_name, facts.zip) == ("Yusuf", "Rossi", "19122")
    [write] = exchange.expect.actions
    assert write.name == "exchange_delivered_order_items" and write.user_id == "yusuf_rossi_9620"
    # The shopper's goal is read from the text alone: a change of items on the order the text names.
    assert [(g.tool, g.order_id) for g in exchange.user.goal] == [("change-items", "#W2378156")]
    assert exchange.user.instructions and "#W2378156" in exchange.user.instructions
    assert {c.name for c in exchange.expect.tool_calls} == {"find_user", "exchange_delivered_order_items"}
    assert cancel.category.startswith("cancel") and cancel.expect.actions[0].name == "cancel_pending_order"

    runner = DialogueRunner(seeded_store, tmp_path / "runs")
    expected = runner.expected_state(exchange)
    order = expected["orders"]["#W2378156"]
    assert order["status"] == "exchange requested"
    assert order["exchange_new_items"] == ["7706410293", "7747408585"]
    cancelled = runner.expected_state(cancel)["orders"][cancel.expect.actions[0].arguments["order_id"]]
    assert cancelled["status"] == "cancelled" and cancelled["payment_history"][-1]["transaction_type"] == "refund"


def test_tau_v1_dev_tasks_convert(shared_data, seeded_store):
    scenarios = tau_scenarios(shared_data / "tau_retail_v1" / "tasks_dev.json", seeded_store)
    assert len(scenarios) == 20
    first = scenarios[0]
    assert first.user.opening.startswith("I have ordered an item (#W5442520)")
    assert first.user.facts.zip == "80218" and first.expect.actions[0].user_id == "olivia_ito_3591"


def test_conditional_instructions_become_if_asked_answers():
    from eval.dialogues.tau import if_asked, opening_text

    rules = if_asked("You want to exchange the lamp. If the agent asks for confirmation, only exchange the desk lamp. "
                     "If the agent asks you for which vacuum cleaner, mention the robotic one. If the agent asks for "
                     "payment method, you say gift card initially, but when the agent asks you to confirm before "
                     "proceeding, you change your mind to using PayPal.")  # fmt: skip
    assert [(r.words, r.say) for r in rules] == [
        (["confirm"], "Only exchange the desk lamp."),
        (["which", "vacuum", "cleaner"], "The robotic one."),
        (["payment", "method"], "Gift card initially."),
        (["confirm"], "I change my mind to using PayPal."),
    ]
    # How the question is put ("which … you're referring to") is not part of what it is about.
    [which] = if_asked("When they ask which blender you're referring to, it's the glass one.")
    assert (which.words, which.say) == (["which", "blender"], "It's the glass one.")
    [refused] = if_asked("If the agent doesn't allow the exchange, get the 32GB storage E-Reader instead.")
    assert (refused.words, refused.say) == (["not", "allow"], "Get the 32GB storage E-Reader instead.")
    facts = extract_facts("You are Sofia Thomas and your emails are s.t3019@example.com and s.t3069@example.com.")
    assert (facts.email, facts.other_emails) == ("s.t3019@example.com", ["s.t3069@example.com"])
    # Asides to the shopper about the agent go; a sentence starting "You are angry…" is not an identity.
    assert opening_text("You are angry about the two skateboards. Move it to your default address (the agent can look it up).") == (
        "I am angry about the two skateboards. Move it to my default address."
    )
