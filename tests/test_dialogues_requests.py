"""The blind rule shopper says every request of its instructions: the next one when one is done or it is
asked what else, a fallback the instructions state after a refusal, and it does not leave with one unsaid.
The instruction texts are written here (no benchmark task)."""

from __future__ import annotations

from assistant.state import AssistantEvent
from eval.dialogues.scenario import RuleUser
from eval.dialogues.simulated_user import RuleSim
from eval.dialogues.tau import extract_facts, goals_from_text, main_request, requests_and_fallbacks

TWO = ("You are Lena Okafor, zip 30301. You want to return the garden hose you received. "
       "You also want to change the address of your pending order to 12 Pine Street, Atlanta. "
       "Finally, you want to know how much the refund will be.")  # fmt: skip
FALLBACK = ("You are Lena Okafor, zip 30301. You want to exchange your kettle for a larger one. "
            "If that is not possible, you want to return the kettle instead. "
            "You also want to cancel the pending order with the rug.")  # fmt: skip
RETURNED = [AssistantEvent(kind="tool", tool="return_delivered_order_items", ok=True, arguments={"order_id": "#W1000001"})]


def _sim(text: str) -> RuleSim:
    opening, rest = main_request(text)
    requests, fallbacks = requests_and_fallbacks(rest)
    return RuleSim(RuleUser(opening=opening, goal=goals_from_text(text), rephrase=rest[:4], instructions=text,
                            requests=requests, fallbacks=fallbacks, facts=extract_facts(text)))  # fmt: skip


def test_reads_requests_and_fallbacks_by_kind_of_sentence():
    opening, rest = main_request(FALLBACK)
    assert opening == "I want to exchange my kettle for a larger one."
    assert requests_and_fallbacks(rest) == (
        ["I also want to cancel the pending order with the rug."],
        ["If that is not possible, I want to return the kettle instead."],
    )


def test_says_each_request_in_turn_after_one_is_done_and_then_ends():
    sim = _sim(TWO)
    assert sim.opening() == "I want to return the garden hose I received."
    assert sim.reply("Done. Order #W1000001 is now return requested.", RETURNED) == (
        "I also want to change the address of my pending order to 12 Pine Street, Atlanta."
    )
    moved = [AssistantEvent(kind="tool", tool="modify_pending_order_address", ok=True, arguments={"order_id": "#W1000002"})]
    assert sim.reply("Done. Order #W1000002 is now pending.", moved) == "Finally, I want to know how much the refund will be."
    assert sim.reply("The refund is $25.00. Anything else?", []) is None  # every request said and answered


def test_asked_what_else_it_says_the_next_request():
    sim = _sim(TWO)
    assert sim.reply("Your return is requested. Is there anything else I can help with?", []) == (
        "I also want to change the address of my pending order to 12 Pine Street, Atlanta."
    )


def test_after_a_refusal_says_the_stated_fallback_then_the_next_request():
    sim = _sim(FALLBACK)
    refusal = "I couldn't do that: order #W1000001 is pending; only delivered orders can be exchanged."
    assert sim.reply(refusal, []) == "If that is not possible, I want to return the kettle instead."
    assert sim.reply(refusal, []) == "I also want to cancel the pending order with the rug."
    assert sim.reply(refusal, []) is None  # nothing left to ask for


def test_a_question_queued_after_a_done_task_is_answered_not_ended_on():
    sim = _sim(TWO)
    text = "Done. Order #W1000001 is now return requested.\nNext, the other thing you asked for:\nWhat is the new address (street, apartment if any, city, state, zip, country)?"
    said = sim.reply(text, RETURNED)
    assert said is not None and "Pine Street" in said


def test_a_proposal_made_again_unchanged_is_taken_if_its_stated_fallback_allows_it():
    text = ("You are Lena Okafor, zip 30301. You want to return the kettle and get the refund on your credit card. "
            "If the refund cannot go to the credit card, you accept a gift card.")  # fmt: skip
    sim = _sim(text)
    offer = "Please confirm: return Kettle (1L, steel) from order #W1000001; $40.00 is refunded to gift card, balance $5.00. Shall I go ahead? (yes/no)"
    pending = [AssistantEvent(kind="pending", tool="return_delivered_order_items", arguments={"order_id": "#W1000001"})]
    assert sim.reply(offer, pending) == "No, I want to use my credit card."
    assert sim.reply("OK, I have not changed anything.\n" + offer, pending) == (
        "If the refund cannot go to the credit card, I accept a gift card."
    )


def test_with_several_requests_a_proposal_is_judged_by_the_clause_naming_its_order():
    text = "Return #W1000001 via paypal_1234567: Garden Hose; Cancel order #W2000002 because no longer needed."
    sim = _sim(text)
    cancel = "Please confirm: cancel order #W2000002 (Rug), reason 'no longer needed'; $80.00 is refunded to Visa ending 1111. Shall I go ahead? (yes/no)"
    pending = [AssistantEvent(kind="pending", tool="cancel_pending_order", arguments={"order_id": "#W2000002"})]
    assert sim.reply(cancel, pending) == "yes"  # no method asked for this order: the original one is fine
    ret = "Please confirm: return Garden Hose (50ft) from order #W1000001; $30.00 is refunded to Visa ending 1111. Shall I go ahead? (yes/no)"
    pending = [AssistantEvent(kind="pending", tool="return_delivered_order_items", arguments={"order_id": "#W1000001"})]
    assert sim.reply(ret, pending) == "No, I want to use my PayPal."


def test_asked_which_order_for_the_next_task_it_names_one_not_acted_on_yet():
    sim = _sim("Return #W1000001 via paypal_1234567: Garden Hose; Cancel order #W2000002 because no longer needed.")
    returned = [AssistantEvent(kind="tool", tool="return_delivered_order_items", ok=True, arguments={"order_id": "#W1000001"})]
    ask = "Done. Order #W1000001 is now return requested.\nNext, the other thing you asked for:\nWhich order is it? Your orders:\n- #W2000002 · pending · Rug"
    assert sim.reply(ask, returned) == "It's order #W2000002."


def test_requests_it_is_told_to_say_together_open_the_conversation_together():
    """τ² train task 99's kind of instruction ("Make sure you mention these at the same time"), written anew."""
    text = ("You are Lena Okafor, zip 30301. You want to swap your tent for a bigger one. "
            "The sleeping bag from that order needs a warmer rating too. "
            "If no warmer one exists, you keep it. Be sure to bring up both together. "
            "Finally, you want to cancel the pending order with the rug.")  # fmt: skip
    opening, rest = main_request(text)
    assert opening == ("I want to swap my tent for a bigger one. "
                       "The sleeping bag from that order needs a warmer rating too.")  # fmt: skip
    requests, fallbacks = requests_and_fallbacks(rest)
    assert requests == ["Finally, I want to cancel the pending order with the rug."]
    assert fallbacks == ["If no warmer one exists, I keep it."]
    assert not any("together" in s for s in rest)  # the instruction about how to say it is never said


def test_asked_whether_offered_items_belong_it_names_those_its_own_text_names():
    """Asked "are any of these about <topic> too?", it answers from its own text, even an aside it would
    not volunteer (τ² train 13/14's kind of instruction, written anew)."""
    from assistant.state import Choice

    sim = _sim("You are Lena Okafor, zip 30301. You gave up cycling and want to return everything related to it "
               "(a bike and a helmet, but do not reveal it to the agent).")  # fmt: skip
    question = "I take Bicycle as about cycling. Are any of these about cycling too: Cycling Helmet (M, red), Yoga Mat (6mm)?"
    offered = [AssistantEvent(kind="choices", choices=[Choice(id="1", label="Cycling Helmet (M, red)", kind="item"),
                                                       Choice(id="2", label="Yoga Mat (6mm)", kind="item")])]  # fmt: skip
    assert sim.reply(question, offered) == "Yes: Cycling Helmet (M, red)."
    only_mat = [AssistantEvent(kind="choices", choices=[Choice(id="2", label="Yoga Mat (6mm)", kind="item")])]
    assert _sim("You are Lena Okafor, zip 30301. You want to return everything related to cycling.").reply(
        "Which of these are about cycling: Yoga Mat (6mm)?", only_mat) == "No, none of them."


def test_an_aside_for_the_shopper_alone_is_never_said_unasked():
    """The aside ("…, but keep that from the agent") answers only the agent's own question about the items it
    offers; the opening, what-else, refusals and other questions never carry its words."""
    text = ("You are Lena Okafor, zip 30301. You took up pottery and no longer paint; you want to return everything "
            "linked to painting (the easel and the brush set are, but keep that from the agent). "
            "If the agent asks why, say you lost interest.")  # fmt: skip
    sim = _sim(text)
    said = [sim.spec.opening, *(sim.reply(q, []) or "" for q in (
        "What can I do for you?", "Which order is it?", "Why do you want to return them?",
        "I couldn't do that: only delivered orders can be returned.", "Is there anything else?",
        "Which items of order #W1000001? It has: Easel, Brush Set, Mug."))]  # fmt: skip
    assert not [x for x in said if "easel" in x.lower() or "brush" in x.lower()], said


def test_a_wish_on_availability_is_said_with_its_request_and_a_refusal_fallback_waits():
    """τ² train task 91's kind of instruction ("If the same item is available online, you're willing to
    exchange it"), written anew: a wish about the request, not what to do when it is refused."""
    text = ("You are Lena Okafor, zip 30301. You want to return the drone you received. "
            "You also want to return the blender. If a newer blender is in stock, you would rather swap it for that. "
            "If that is not possible, you want store credit.")  # fmt: skip
    opening, rest = main_request(text)
    assert requests_and_fallbacks(rest) == (
        ["I also want to return the blender. If a newer blender is in stock, I would rather swap it for that."],
        ["If that is not possible, I want store credit."],
    )


def test_a_fallback_stated_in_the_persona_is_said_after_a_refusal():
    """τ² train task 98's kind of instruction: the fallback sits in the persona, outside the request."""
    from eval.dialogues.tau import shopper

    request = "You want to cancel the blender in your pending order."
    persona = "You are calm. If only whole orders can be cancelled, you accept cancelling all of it because you no longer need it."
    sim = RuleSim(shopper(f"You are Lena Okafor, zip 30301. {request} {persona}", request))
    refusal = "I couldn't do that: only a whole order can be cancelled, not single items."
    assert sim.reply(refusal, []) == ("If only whole orders can be cancelled, "
                                      "I accept cancelling all of it because I no longer need it.")  # fmt: skip


def test_a_fallback_after_a_semicolon_is_a_sentence_of_its_own_and_a_kept_option_is_said_with_the_request():
    """A request and its fallback joined by a semicolon ("…with my store card; if that is refused, …") read
    as two sentences; what the new item must keep, said after the request, belongs to it (written anew)."""
    text = ("You are Lena Okafor, zip 30301. You want both of your lamps switched to the brightest model. "
            "Colours may differ, but the new desk lamp must still run on batteries. "
            "You'd like to settle any extra cost with your gift card; if the agent says that won't do, use PayPal.")  # fmt: skip
    opening, rest = main_request(text)
    assert opening == ("I want both of my lamps switched to the brightest model. "
                       "Colours may differ, but the new desk lamp must still run on batteries.")  # fmt: skip
    requests, fallbacks = requests_and_fallbacks(rest)
    assert requests == ["I would like to settle any extra cost with my gift card."]
    assert fallbacks == ["If the agent says that won't do, use PayPal."]
    assert "gift card" in extract_facts(text).payment


def test_a_preference_among_the_new_items_options_is_said_with_the_request_but_a_payment_preference_waits():
    text = ("You are Lena Okafor, zip 30301. You'd like to have your kettle traded for a bigger one. "
            "As for its colour, ideally steel, failing that black. You'd rather pay with PayPal. "
            "Finally, you want to cancel the pending order with the rug.")  # fmt: skip
    opening, rest = main_request(text)
    assert opening == "I would like to have my kettle traded for a bigger one. As for its colour, ideally steel, failing that black."
    assert rest[0] == "I would rather pay with PayPal."


def test_what_a_return_or_an_exchange_is_for_says_which_the_shopper_wants():
    from eval.dialogues.tau import wanted_kinds

    assert wanted_kinds("You want to 'return' the glass kettle for the 2-litre one.") == ["change-items"]
    assert wanted_kinds("You want to 'exchange' the rug for your money back.") == ["return"]
    assert wanted_kinds("You want to return the lamp for a refund.") == ["return"]


def test_requests_said_as_what_should_be_are_read():
    from eval.dialogues.tau import wanted_kinds

    assert wanted_kinds("Your account address should become 12 Pine Street, Atlanta, GA 30301.") == ["address"]
    assert wanted_kinds("The other one, with the lamp, should go to your office.") == ["address"]
    assert wanted_kinds("The refund should go to your gift card.") != ["address"]
    assert wanted_kinds("The order was paid with PayPal; you want it charged to your Visa instead.") == ["payment"]
    assert wanted_kinds("The bookshelf should be black, still wood and 5 ft tall.") == ["change-items"]
    assert wanted_kinds("The sunglasses should have green lenses instead of brown.") == ["change-items"]


def test_an_item_is_named_by_another_name_people_call_it():
    from eval.dialogues.simulated_user import _names, _words

    assert _names("Portable Charger", _words("the 20,000 mAh power bank should be the 5,000 mAh one", short=True))
    assert not _names("Portable Charger", _words("the desk lamp should be blue", short=True))


def test_a_fallback_ending_in_a_bare_accept_takes_the_proposal_made_again():
    text = ("You are Lena Okafor, zip 30301. You want to cancel your pending order with the rug and have the refund on your "
            "gift card. If the agent says a cancelled order is refunded to the card that paid, accept.")
    sim = _sim(text)
    proposal = "Please confirm: cancel order #W1000001 (Rug); $50.00 is refunded to Visa ending 1111. Shall I go ahead? (yes/no)"
    pending = [AssistantEvent(kind="pending", tool="cancel_pending_order", arguments={"order_id": "#W1000001", "reason": "no longer needed"})]
    first = sim.reply(proposal, pending)
    assert first != "yes"  # it asks for its gift card first
    assert sim.reply("A cancelled order's refund can only go back to the method that paid. " + proposal, pending) == "yes"


def test_a_quotation_closed_after_a_bracket_ends_its_sentence():
    from eval.dialogues.tau import extract_facts

    text = ("You call the lamp 'the glowy one (a desk lamp, I think they call it)'. When the agent asks, say what you mean. "
            "Any money back goes to your gift card, not the Visa.")
    assert extract_facts(text).payment == "Any money back goes to my gift card, not the Visa."


def test_an_order_it_knows_by_number_once_done_does_not_stop_the_other_order_it_describes():
    text = ("You are Lena Okafor, zip 30301. Your delivered order #W1000001 has a rug you want to return. "
            "Your other order, the one with the lamp, must go to 12 Pine Street, Atlanta, GA 30301.")
    sim = _sim(text)
    sim.reply("Done. Order #W1000001 is now return requested.", RETURNED)
    proposal = "Please confirm: ship order #W2000002 to 12 Pine Street, Atlanta, GA, USA, 30301. Shall I go ahead? (yes/no)"
    pending = [AssistantEvent(kind="pending", tool="modify_pending_order_address",
                              arguments={"order_id": "#W2000002", "address1": "12 Pine Street"})]
    assert sim.reply(proposal, pending) == "yes"
