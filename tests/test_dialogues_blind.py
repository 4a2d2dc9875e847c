"""The τ shoppers know only the task's text: what they say never depends on the ground-truth actions."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from assistant.state import AssistantEvent
from eval.dialogues.scenario import RuleUser, ScenarioError
from eval.dialogues.simulated_user import RuleSim
from eval.dialogues.tau import goals_from_text, main_request, tau2_scenarios
from ui.cli import app

TEXT = ("You are Yusuf Rossi in zipcode 19122. You received your order and want to return the water bottle. "
        "You want the refund on your PayPal account.")  # fmt: skip
CONFIRM = "Please confirm: return {name} (1000ml, blue) from order #W1234567; the refund goes to {method}. Shall I go ahead? (yes/no)"


def _pending(tool: str = "return_delivered_order_items", **arguments) -> list[AssistantEvent]:
    return [AssistantEvent(kind="pending", tool=tool, arguments={"order_id": "#W1234567", **arguments})]


def _blind(text: str = TEXT) -> RuleSim:
    opening, rest = main_request(text)
    return RuleSim(RuleUser(opening=opening, goal=goals_from_text(text), rephrase=rest, instructions=text,
                            facts={"items": "The water bottle."}))  # fmt: skip


def test_opens_with_the_main_request_and_reads_its_goal_from_the_text():
    opening, rest = main_request(TEXT)
    assert opening == "I received my order and want to return the water bottle."
    assert rest == ["I want the refund on my PayPal account."]
    assert [(g.tool, g.order_id) for g in goals_from_text(TEXT)] == [("return", None)]
    assert [g.tool for g in goals_from_text("You want to cancel #W1111111 but you don't want to return anything.")] == ["cancel"]


def test_judges_a_proposal_by_its_own_instructions_and_says_what_is_wrong():
    sim = _blind()
    assert sim.reply(CONFIRM.format(name="Water Bottle", method="paypal_1"), _pending()) == "yes"
    assert sim.reply(CONFIRM.format(name="Water Bottle", method="gift_card_2"), _pending()) == "No, I want to use my PayPal."
    assert sim.reply(CONFIRM.format(name="Desk Lamp", method="paypal_1"), _pending()) == "No, I didn't ask about the Desk Lamp."
    assert sim.reply("Please confirm: cancel order #W1234567. Shall I go ahead?", _pending("cancel_pending_order")) == (
        "No, I didn't ask to cancel that order."
    )


def test_a_proposal_to_the_address_its_own_text_spells_out_is_recognised():
    """Reading the text found no address request ("you want that to be the address on your account"), but the
    shopper knows the street and zip it gave: it accepts shipping there, and still declines another address."""
    text = ("You are Yusuf Rossi in zipcode 19122. You are moving to 12 Elm Street, Apt 3, Dover, DE 19901. You want "
            "that to be where your pending order goes. You also want to return the water bottle.")  # fmt: skip
    sim = _blind(text)
    assert [g.tool for g in sim.goal] == ["return"]
    card = "Please confirm: ship order #W1234567 to {street}, Dover, DE, USA, {zip}. Shall I go ahead? (yes/no)"
    own = _pending("modify_pending_order_address", address1="12 Elm Street", zip="19901")
    assert sim.reply(card.format(street="12 Elm Street", zip="19901"), own) == "yes"
    other = _pending("modify_pending_order_address", address1="40 Oak Road", zip="19901")
    assert sim.reply(card.format(street="40 Oak Road", zip="19901"), other).startswith("No, I didn't ask")


def test_a_method_said_after_an_orders_item_list_is_that_orders():
    """"For #W1, change payment to <a>. For #W1, modify <item> …; <item> …; via <b>": both are #W1's methods
    (the clauses after "For #W1" naming no order are still about #W1), and #W2's is not."""
    text = ("For #W1234567, change payment to paypal_1. For #W1234567, modify Water Bottle {'color': 'blue'} to "
            "{'color': 'red'}; Desk Lamp {'color': 'black'} to {'color': 'white'}; via credit_card_2. "
            "Return #W7654321 via gift_card_3: Water Bottle;")  # fmt: skip
    sim = _blind(text)
    card = "Please confirm: in order #W1234567: Water Bottle (blue) → Water Bottle (red); you pay $1.00 via credit_card_2. Shall I go ahead? (yes/no)"
    assert sim.reply(card, _pending("modify_pending_order_items")) == "yes"
    gift = card.replace("credit_card_2", "gift_card_3")
    assert sim.reply(gift, _pending("modify_pending_order_items")) != "yes"


def test_a_clause_naming_two_orders_is_each_ones():
    """"Return #W1 and #W2 via <method>": the method is both orders' (not only the first one named)."""
    text = ("Return the Water Bottle of #W1234567 and the Desk Lamp of #W7654321 via paypal_1. "
            "Cancel #W5555555 and have it refunded to gift_card_3.")
    sim = _blind(text)
    card = "Please confirm: return from order #W7654321: Desk Lamp (black); refunded to {m}. Shall I go ahead? (yes/no)"
    pending = _pending("return_delivered_order_items", order_id="#W7654321")
    assert sim.reply(card.format(m="paypal_1"), pending) == "yes"
    assert sim.reply(card.format(m="gift_card_3"), pending) != "yes"


def test_knows_no_order_id_unless_told():
    sim = _blind()
    ask = "Which order is it? Your orders: #W7000001 (pending: Desk Lamp); #W8000002 (delivered: Water Bottle, Lamp)."
    assert sim.reply(ask, []) == "I think it's #W8000002, the one with the Water Bottle."
    sim = _blind()
    assert sim.reply("Which order is it? Your orders: #W7000001 (pending: Desk Lamp).", []) == (
        "I don't remember the order number, sorry. The water bottle."
    )
    done = [AssistantEvent(kind="tool", tool="return_delivered_order_items", ok=True, arguments={"order_id": "#W8000002"})]
    assert sim.reply("Done. The return is requested.", done) is None  # what it asked for is done: it stops


def test_converted_shopper_names_only_order_ids_from_the_text(shared_data, seeded_store):
    path = shared_data / "tau2_retail" / "tasks_train.json"
    for scenario in tau2_scenarios(path, seeded_store):
        text = scenario.user.instructions
        said = [scenario.user.opening, *scenario.user.rephrase, *(g.order_id or "" for g in scenario.user.goal),
                *scenario.user.facts.order_ids]  # fmt: skip
        for order_id in re.findall(r"#W\d{7}", " ".join(said)):
            assert order_id in text, (scenario.id, order_id)
        assert scenario.expect.actions is not None  # the ground truth still grades the run
    # No shopper kind is given the ground truth (the old "rule-oracle" diagnostic was): unknown kinds are refused.
    with pytest.raises(ScenarioError, match="unknown shopper"):
        tau2_scenarios(path, seeded_store, user="rule-oracle")


def test_shopper_turns_are_the_same_without_the_ground_truth(shared_data, tmp_path):
    """Every τ² train task, played end to end through the CLI with the deterministic fake model: the
    shopper says exactly the same whether or not the task file holds the ground-truth actions."""
    tasks = json.loads((shared_data / "tau2_retail" / "tasks_train.json").read_text())
    turns = {}
    for variant in ("with", "without"):
        folder = tmp_path / variant
        folder.mkdir()
        if variant == "without":
            for task in tasks:
                (task.get("evaluation_criteria") or {}).pop("actions", None)
        (folder / "tasks_train.json").write_text(json.dumps(tasks))
        out = folder / "out"
        result = CliRunner().invoke(app, ["eval", "dialogues", "--tau2-tasks", str(folder / "tasks_train.json"), "--llm",
                                          "fake", "--runs", "1", "--json", "--quiet", "--out", str(out)])  # fmt: skip
        assert result.exit_code == 0, result.output
        runs = json.loads((out / "results.json").read_text())["runs"]
        assert len(runs) == len(tasks)
        turns[variant] = {r["scenario_id"]: [t["user"] for t in r["turns"]] for r in runs}
    assert turns["with"] == turns["without"]


def test_standard_suite_reports_dev_and_validation_with_the_gap(shared_data, tmp_path):
    data = tmp_path / "data"
    for rel in ("tau_retail_v1/tasks_train.json", "tau2_retail/tasks_train.json", "tau_retail_v1/tasks_dev.json"):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(json.dumps(json.loads((shared_data / rel).read_text())[:2]))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "dialogues", "--suite", "standard", "--data-dir", str(data), "--llm", "fake",
                                      "--runs", "2", "--json", "--quiet", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload["sets"]) == {"v1-train", "tau2-train", "v1-dev"}
    assert payload["dev"]["scenarios"] == 4 and payload["validation"]["scenarios"] == 2
    gap = payload["dev"]["pass_hat_k"]["2"] - payload["validation"]["pass_hat_k"]["2"]
    assert abs(payload["gap"]["2"] - gap) < 1e-3 and payload["meta"]["user"] == "rule"
    report = (out / "report.md").read_text()
    assert "gap (dev − validation)" in report and (out / "v1-dev" / "results.json").exists()


def test_shopper_options_are_checked(tmp_path):
    for args, message in ((["--user", "bogus"], "--user must be one of"),
                          (["--user-llm-url", "http://127.0.0.1:9/v1"], "need --user llm"),
                          (["--suite", "other"], "--suite must be")):  # fmt: skip
        result = CliRunner().invoke(app, ["eval", "dialogues", *args, "--llm", "fake", "--out", str(tmp_path)])
        assert result.exit_code != 0 and message in result.output, result.output


def test_two_sentences_each_asking_a_return_are_two_returns():
    """τ² train 103: two returns about orders it cannot name, then an address and an item change of one order."""
    text = ("You want to return the bookshelf and jigsaw you received in the same order. Make sure you mention that "
            "you want to cancel these two things. You also want to return the backpack you received with the vacuum "
            "cleaner. You also want to change your pending order address to the default one, and change its item "
            "color to red. You want to get the tracking number of your cancelled order.")  # fmt: skip
    assert [g.tool for g in goals_from_text(text)] == ["return", "return", "address", "change-items"]
    sim = _blind(text)
    done = [AssistantEvent(kind="tool", tool="return_delivered_order_items", ok=True, arguments={"order_id": "#W1111111"})]
    sim.reply("Done. The return is on its way.", done)
    card = "Please confirm: return from order #W2222222: Backpack (black); refunded to paypal_1. Shall I go ahead? (yes/no)"
    assert sim.reply(card, _pending(order_id="#W2222222")) == "yes"
    # but a cancellation it never asked for is still declined
    assert sim.reply("Please confirm: cancel order #W3333333. Shall I go ahead?", _pending("cancel_pending_order")) != "yes"


def test_an_order_address_and_the_default_address_are_two_requests():
    """τ² train 109 and 41: both addresses in one sentence; an item change in another clause of a sentence
    about an address is still asked for."""
    both = "You want to change your wrong order address to the new home, and also your user default address to the new home."
    assert [g.tool for g in goals_from_text(both)] == ["modify_pending_order_address", "update_default_address"]
    destination = "You want to change your pending order address to the default Chicago one."
    assert [g.tool for g in goals_from_text(destination)] == ["address"]  # the default address is where it goes
    text = ("You have two problems: first, you wonder if you can change the jigsaw to the easiest one; second, you "
            "might have typed your address wrong. You want to correct all order addresses and your user address.")
    assert sorted(g.tool for g in goals_from_text(text)) == [  # "all order addresses": more than one
        "change-items", "modify_pending_order_address", "modify_pending_order_address", "update_default_address"]
    assert [g.tool for g in goals_from_text("You want to return the lamps you received in different orders.")] == ["return", "return"]


def test_adjusting_an_item_is_asked_for_but_an_adjustable_one_is_not():
    """τ² train 72 ("adjust the desk lamp to be black") in other words: "adjust" asks an item change, the
    option value "adjustable" does not, and adjusting an address is an address change."""
    assert [g.tool for g in goals_from_text("You would like to adjust the kettle to be glass.")] == ["change-items"]
    assert goals_from_text("You like your adjustable dumbbell set a lot.") == []
    assert [g.tool for g in goals_from_text("You want to adjust the address of your order to your office.")] == ["address"]


def test_names_items_by_plural_and_compound_words():
    """τ² train 112 ("watch" → Wristwatch) and 104 ("bookshelves" → Bookshelf); an unrelated item is still declined."""
    text = "You received your order and want to return the bookshelves and the watch. You want the refund on your PayPal account."
    sim = _blind(text)
    card = "Please confirm: return {name} (oak) from order #W1234567; the refund goes to paypal_1. Shall I go ahead? (yes/no)"
    assert sim.reply(card.format(name="Bookshelf"), _pending()) == "yes"
    assert sim.reply(card.format(name="Wristwatch"), _pending()) == "yes"
    assert sim.reply(card.format(name="Desk Lamp"), _pending()) == "No, I didn't ask about the Desk Lamp."


def test_an_item_it_keeps_is_declined():
    """τ² train 54: "return all … except the boots, but exchange them": the boots' return is declined,
    their exchange and the return of other items are not."""
    text = ("You want to return all possible items. Well, except the boots that you love, but you are happy to exchange "
            "them for cheaper boots. You want the refund on your PayPal account.")  # fmt: skip
    sim = _blind(text)
    card = "Please confirm: return {name} (size 9) from order #W1234567; the refund goes to paypal_1. Shall I go ahead? (yes/no)"
    assert sim.reply(card.format(name="Hiking Boots"), _pending()) == "No, not the Hiking Boots: I want to keep it."
    assert sim.reply(card.format(name="Water Bottle"), _pending()) == "yes"
    swap = "Please confirm: exchange in order #W1234567: Hiking Boots (size 9) → Hiking Boots (size 9, cheaper); refunded to paypal_1. Shall I go ahead? (yes/no)"
    assert sim.reply(swap, _pending("exchange_delivered_order_items")) == "yes"
    dearer = swap.replace("refunded to paypal_1", "you pay $5.39 via paypal_1")  # only if the new ones are cheaper
    assert sim.reply(dearer, _pending("exchange_delivered_order_items")) == "No, only if the new one is cheaper."


def test_a_passive_wish_on_every_order_and_an_exception_said_as_a_noun():
    """Said other ways: "each order that can be sent back to be returned" is several returns (the orders
    named before the verb); "the only exception being the lamp" keeps the lamp."""
    text = ("You are short of money and want each order that can be given back to be returned. "
            "The only exception being the desk lamp, which you need for work. You want the refund on your PayPal account.")  # fmt: skip
    assert [g.tool for g in goals_from_text(text)] == ["return", "return"]
    sim = _blind(text)
    card = "Please confirm: return {name} (white) from order #W1234567; the refund goes to paypal_1. Shall I go ahead? (yes/no)"
    assert sim.reply(card.format(name="Desk Lamp"), _pending()) == "No, not the Desk Lamp: I want to keep it."
    assert sim.reply(card.format(name="Water Bottle"), _pending()) == "yes"


def test_a_condition_and_a_request_about_one_order_are_not_more_requests():
    """τ² train 63 and 16: a kind word that is a condition's subject asks nothing; "all pending orders" is
    several cancellations but the watch's return in the same sentence is one."""
    text = "You never want to cancel your entire order, and would prefer to return the speaker if canceling the order is the only option."
    assert [g.tool for g in goals_from_text(text)] == ["return"]
    text = "You want to cancel all pending orders and return the watch you have received (but nothing else)."
    assert [g.tool for g in goals_from_text(text)] == ["cancel", "cancel", "return"]
    assert [g.tool for g in goals_from_text("You want to cancel or return all possible orders.")] == ["cancel", "cancel", "return", "return"]
    text = "If cancelling part of the order is not possible, you don't care, just cancel the whole order."  # τ² train 81
    assert [(g.tool, g.fallback) for g in goals_from_text(text)] == [("cancel", True)]


def test_a_request_for_after_the_agent_is_done_is_said_last():
    """τ² train 22: "Once the agent has confirmed …, then you regret it and want …": said after the rest."""
    text = ("You are Ann Lee in 10001. You want to cancel your pending order. Once the agent has cancelled it, then "
            "you change your mind and want to update your default address to 5 Elm Street, Austin, TX, 73301.")  # fmt: skip
    spec = tau2_like(text)
    assert spec.requests[-1].startswith("I change my mind and want to update my default address")
    assert {g.tool for g in spec.goal} >= {"cancel", "address"}


def tau2_like(text: str):
    from eval.dialogues.tau import shopper

    return shopper(text, text)


def test_told_there_is_none_as_asked_it_says_its_fallback():
    """τ² train 35: "If no exact item is available, …" is said when the assistant says there is none."""
    text = ("You are Ann Lee in 10001. You want to change your desk lamp to a brighter one. If there is no such lamp, "
            "you want the cheapest one in black.")  # fmt: skip
    sim = RuleSim(tau2_like(text))
    said = sim.reply("There is no Desk Lamp with what you asked that keeps the rest as it is (white, low). Which one "
                     "would you like?", [])  # fmt: skip
    assert said.startswith("If there is no such lamp")

def test_an_order_wanted_somewhere_else_is_an_address_change():
    """Said without "change": where the shopper wants an order to go now, not where one went."""
    assert [g.tool for g in goals_from_text("You'd like the blender order sent to your office address instead.")] == ["address"]
    assert [g.tool for g in goals_from_text("You need your lamp order delivered to your sister's place.")] == ["address"]
    assert [g.tool for g in goals_from_text("You want to return the order that was shipped to Ohio.")] == ["return"]
    assert goals_from_text("You want to know when the order shipped to your mom arrives.") == []


@pytest.mark.parametrize("text", [
    "You are Yusuf Rossi in zipcode 19122. You had an order with two lamps in it. You want to return the cheaper of the two "
    "and keep the other. You want the refund on your PayPal account.",
    "You are Yusuf Rossi in zipcode 19122. You want to return the two most expensive things in your order and keep the "
    "rest; ask the agent which two cost the most. You want the refund on your PayPal account.",
])
def test_items_picked_by_how_they_compare_are_the_agents_to_name(text):
    """Its text picks items by price without naming them: which ones those are, it cannot tell from its words, so the
    proposal's names are not held against it (the method still is)."""
    sim = _blind(text)
    assert sim.reply(CONFIRM.format(name="Desk Lamp", method="paypal_1"), _pending()) == "yes"
    assert sim.reply(CONFIRM.format(name="Desk Lamp", method="gift_card_2"), _pending()) == "No, I want to use my PayPal."


def test_a_fallback_keeping_things_as_they_are_is_said_after_a_refusal():
    """A conditional sentence outside the request that asks no action but keeps things ("…, keep the <item> and do not
    cancel the order") is its answer when the agent refuses and asks whether to cancel everything instead."""
    from eval.dialogues.tau import shopper

    request = "You do not need the desk lamp after all, and the kettle should be the glass version."
    text = request + " If the agent says one item cannot be removed, keep the lamp and do not cancel the order."
    sim = RuleSim(shopper(text, request))
    refusal = ("I couldn't do that: only a whole order can be cancelled, not single items. Should I cancel the whole order "
               "#W1234567 instead, or leave it as it is?")  # fmt: skip
    assert sim.reply(refusal, []) == "If the agent says one item cannot be removed, keep the lamp and do not cancel the order."


def test_a_request_opening_with_a_pronoun_names_the_item_of_the_sentence_before():
    """"Keep everything else": an item the request points at with "it", named in the sentence before, is not one it keeps;
    an item its text never names still is."""
    text = ("You are Yusuf Rossi in zipcode 19122. Your sister gave you a desk lamp. It is white and you want a black one. "
            "Keep everything else. You want the refund on your PayPal account.")  # fmt: skip
    sim = _blind(text)
    card = ("Please confirm: in order #W1234567: {name} (white, LED) → {name} (black, LED, $10.00); you get $1.00 back via "
            "paypal_1. Shall I go ahead? (yes/no)")  # fmt: skip
    pending = _pending("exchange_delivered_order_items")
    assert sim.reply(card.format(name="Desk Lamp"), pending) == "yes"
    assert sim.reply(card.format(name="Water Bottle"), pending) == "No, not the Water Bottle: I want to keep it."
