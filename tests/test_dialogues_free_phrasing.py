"""The blind rule shopper reads free phrasing of its instructions: a text written in lower case, in the
shopper's own voice ("can you …" to the agent), a request said without its usual verb, numbered requests,
a fallback that accepts what the agent can do, and a refusal followed by the next question. The instruction
texts are written here (no benchmark task)."""

from __future__ import annotations

from assistant.state import AssistantEvent
from eval.dialogues.scenario import RuleUser
from eval.dialogues.simulated_user import RuleSim
from eval.dialogues.tau import extract_facts, first_person, goals_from_text, main_request, requests_and_fallbacks, sentences


def _sim(text: str) -> RuleSim:
    opening, rest = main_request(text)
    requests, fallbacks = requests_and_fallbacks(rest)
    return RuleSim(RuleUser(opening=opening, goal=goals_from_text(text), rephrase=rest[:4], instructions=text,
                            requests=requests, fallbacks=fallbacks, facts=extract_facts(text)))  # fmt: skip


def _kinds(text: str) -> list[str]:
    return [g.tool for g in goals_from_text(text)]


def test_a_text_in_lower_case_is_read_sentence_by_sentence():
    """Identity, requests and a fallback each a sentence, though none begins with a capital; an abbreviation
    ends none."""
    text = ("your name is ana lopez and your email is ana.lopez@example.com. hey. the kettle i got is cracked, i want "
            "to return it. if they say no just leave it. oh and cancel the rug order, i dont need it")
    assert _kinds(text) == ["return", "cancel"]
    opening, rest = main_request(text)
    assert "ana.lopez" not in opening and opening.endswith("i want to return it.")
    assert requests_and_fallbacks(rest) == (["oh and cancel the rug order, i dont need it"], ["if they say no just leave it."])
    assert sentences("ship it to 12 main st. louis is where i live now.") == ["ship it to 12 main st. louis is where i live now."]
    assert len(sentences("i need help. my order is late! can you check it?")) == 3


def test_a_sentence_in_the_shoppers_own_voice_keeps_the_agent_as_you():
    assert first_person("the lamp i bought flickers, can you swap it for another one?") == (
        "the lamp i bought flickers, can you swap it for another one?")
    assert first_person("My mug arrived chipped. Could you replace it for me?") == (
        "My mug arrived chipped. Could you replace it for me?")
    # the task's second person is still the shopper's
    assert first_person("You want to know if you can return your mug.") == "I want to know if I can return my mug."
    assert first_person("You got the lamp i mentioned and you want to return it.") == (
        "I got the lamp i mentioned and I want to return it.")


def test_sending_it_somewhere_else_instead_asks_an_address_change():
    for text in ("the rug i ordered goes to my old flat, can you send it to 12 Pine Street, Dover instead?",
                 "Please ship the pending order to my office at 4 Main Road instead.",
                 "Your parcel is headed to your parents; you want them to forward it to 9 Elm Street instead."):  # fmt: skip
        assert _kinds(text) == ["address"], text
    for text in ("You want the agent to send the refund to your card instead.", "Can you send me the receipt instead?"):
        assert "address" not in _kinds(text), text


def test_a_modal_change_after_a_negated_clause_is_asked():
    """"the <item> that has not shipped should be the <value> one instead": the negation is the clause's before it."""
    for text in ("The kettle that hasn't shipped yet should be the glass one instead.",
                 "Your desk lamp, which was not delivered, would be better as the white one instead.",
                 "The jacket you ordered that is not here yet should be a medium instead of a large."):  # fmt: skip
        assert _kinds(text) == ["change-items"], text
    assert _kinds("You do not want the kettle in glass instead.") == []


def test_wanting_another_option_of_the_same_item_asks_an_item_change():
    for text in ("The sneakers you got are a size 9 and too small; you want a size 10 of the same sneakers.",
                 "You would like the same backpack but in a bigger size.",
                 "You'd prefer one of the same lamps in brass."):  # fmt: skip
        assert _kinds(text) == ["change-items"], text
    for text in ("You want a refund of the same amount.", "You want the same card charged for the difference."):
        assert "change-items" not in _kinds(text), text


def test_numbered_requests_are_said_together():
    text = ("Two things. First, the kettle you received leaks; you want to return it. Second, the pending order with the "
            "rug should go to 5 Oak Road instead. You pay with PayPal.")
    opening, rest = main_request(text)
    assert opening.startswith("Two things. First,") and "Second, the pending order" in opening
    assert rest == ["I pay with PayPal."]
    text = "1) You want to cancel the rug order. 2) You want to return the kettle. 3) You want your default address changed."
    assert main_request(text) == (
        "1) I want to cancel the rug order. 2) I want to return the kettle. 3) I want my default address changed.", [])
    # not numbered: the next request waits its turn
    assert main_request("You want to cancel the rug order. Then you want to return the kettle.")[1] == ["Then I want to return the kettle."]


CANCEL = ("Please confirm: cancel order #W1000001 (Rug), reason 'no longer needed'; $50.00 is refunded to gift card, "
          "balance $10.00. Shall I go ahead? (yes/no)")  # fmt: skip
PENDING = [AssistantEvent(kind="pending", tool="cancel_pending_order", arguments={"order_id": "#W1000001", "reason": "no longer needed"})]


def test_a_fallback_accepting_what_the_agent_can_do_takes_the_same_proposal_again():
    for accept in ("accept that", "you accept it", "that would be alright", "you'd settle for it"):
        sim = _sim(f"Cancel the rug order. You want the refund on PayPal; if the agent says it must go to the original card, {accept}.")
        assert sim.reply(CANCEL, PENDING) == "No, I want to use my PayPal."
        assert sim.reply("It can only go back to the method that paid. " + CANCEL, PENDING) == "yes", accept
    # a fallback asking for something else is said, not taken as a yes
    sim = _sim("Cancel the rug order. You want the refund on PayPal; if the agent says it must go to the original card, keep the order.")
    sim.reply(CANCEL, PENDING)
    assert sim.reply("It can only go back to the method that paid. " + CANCEL, PENDING) != "yes"


def test_a_refusal_followed_by_the_next_question_is_answered_then_the_fallback_said():
    text = ("You want your pending lamp order sent to 3 Oak Road instead. If that can't be done, you want it cancelled. "
            "You also want to cancel the rug order.")
    sim = _sim(text)
    said = sim.reply("I couldn't do that: order #W1000002 is processed. | Next, the other thing you asked for: | "
                     "Why do you want to cancel order #W1000001: 'no longer needed' or 'ordered by mistake'?", [])
    assert said == "no longer needed"
    assert sim.reply(CANCEL, PENDING) == "yes"
    done = [AssistantEvent(kind="tool", tool="cancel_pending_order", ok=True, arguments={"order_id": "#W1000001"})]
    assert sim.reply("Done. Order #W1000001 is now cancelled.", done) == "If that can't be done, I want it cancelled."
    # a refusal with nothing after it is still met with the fallback at once
    sim = _sim(text)
    assert sim.reply("I couldn't do that: order #W1000002 is processed.", []) == "If that can't be done, I want it cancelled."


def test_a_done_change_settles_the_request_naming_its_item():
    """Two item changes about no named order: the one done is the one whose item the proposal named."""
    text = "You want to change the kettle to the glass one. You also want to change the lamp to the white one."
    sim = _sim(text)
    card = "Please confirm: in order #W1000001: Desk Lamp (black) → Desk Lamp (white). Shall I go ahead? (yes/no)"
    assert sim.reply(card, [AssistantEvent(kind="pending", tool="modify_pending_order_items", arguments={"order_id": "#W1000001"})]) == "yes"
    done = [AssistantEvent(kind="tool", tool="modify_pending_order_items", ok=True, arguments={"order_id": "#W1000001"})]
    sim.reply("Done. Order #W1000001 is now pending (items modified).", done)
    assert [g.say for g in sim.goal] == ["I want to change the kettle to the glass one."]


def test_one_change_of_several_items_settles_each_request_naming_them():
    text = ("You want to change the kettle to the glass one. The mug in the same order also needs changing, to the blue one. "
            "You also want to change the lamp to the white one.")
    sim = _sim(text)
    card = ("Please confirm: in order #W1000001: Kettle (steel) → Kettle (glass); Mug (red) → Mug (blue). "
            "Shall I go ahead? (yes/no)")
    assert sim.reply(card, [AssistantEvent(kind="pending", tool="modify_pending_order_items", arguments={"order_id": "#W1000001"})]) == "yes"
    done = [AssistantEvent(kind="tool", tool="modify_pending_order_items", ok=True, arguments={"order_id": "#W1000001"})]
    sim.reply("Done. Order #W1000001 is now pending (items modified).", done)
    assert [g.say for g in sim.goal] == ["I also want to change the lamp to the white one."]


def test_an_item_asked_for_one_action_is_not_given_another():
    """Two requests said together: the speaker is to be sent back, the laptop changed; an exchange of the
    speaker is declined, its return and the laptop's change are not."""
    text = "Two things. First, you want to send back the speaker. Second, you want to switch the laptop to the 13-inch one."
    sim = _sim(text)
    swap = "Please confirm: exchange in order #W1000001: Speaker (blue) → Speaker (red). Shall I go ahead? (yes/no)"
    assert sim.reply(swap, [AssistantEvent(kind="pending", tool="exchange_delivered_order_items", arguments={"order_id": "#W1000001"})]) == (
        "No, I didn't ask to exchange that.")
    back = "Please confirm: return Speaker (blue) from order #W1000001. Shall I go ahead? (yes/no)"
    assert sim.reply(back, [AssistantEvent(kind="pending", tool="return_delivered_order_items", arguments={"order_id": "#W1000001"})]) == "yes"
    change = "Please confirm: in order #W1000002: Laptop (17-inch) → Laptop (13-inch). Shall I go ahead? (yes/no)"
    assert sim.reply(change, [AssistantEvent(kind="pending", tool="modify_pending_order_items", arguments={"order_id": "#W1000002"})]) == "yes"
    # a cancellation lists its order's items, and where the money goes is no item
    text = ("You want to return the kettle, refunded to PayPal. You would like the lamp in white instead if it costs "
            "less; if it costs more, you would rather cancel the lamp order.")
    sim = _sim(text)
    cancel = ("Please confirm: cancel order #W1000003 (Desk Lamp), reason 'no longer needed'; $10.00 is refunded to "
              "PayPal (at once for a gift card). Shall I go ahead? (yes/no)")
    assert sim.reply(cancel, [AssistantEvent(kind="pending", tool="cancel_pending_order", arguments={"order_id": "#W1000003"})]) == "yes"
    # a condition may ask this kind of an item it points at, or name an item without asking anything of it
    for text in ("You want to return the speaker. If the same one is in stock, you'd exchange it for it.",
                 "You want to know where the speaker is. If the speaker is sent back, also cancel the cable order. And return the mug."):
        sim = _sim(text)
        tool = "exchange_delivered_order_items" if "exchange" in text else "return_delivered_order_items"
        card = swap if "exchange" in text else back
        assert sim.reply(card, [AssistantEvent(kind="pending", tool=tool, arguments={"order_id": "#W1000001"})]) == "yes", text


def test_a_reply_saying_one_thing_is_done_and_proposing_the_next_names_only_the_proposals_items():
    sim = _sim("You want to change the lamp to the white one. You also want to return the kettle.")
    reply = ("Done. Order #W1000001 is now pending (items modified). | Next, the other thing you asked for: | "
             "Please confirm: return Kettle (steel) from order #W1000002. Shall I go ahead? (yes/no)")
    assert sim.reply(reply, [AssistantEvent(kind="pending", tool="return_delivered_order_items", arguments={"order_id": "#W1000002"})]) == "yes"


def _shopper(text: str) -> RuleSim:
    """The shopper as the task converter builds it (its questions said as questions)."""
    from eval.dialogues.tau import shopper

    return RuleSim(shopper(text, text))


def test_sentences_about_how_the_shopper_talks_are_not_requests():
    """Its language, wording, tone and how much it says per message: how it speaks, never something it asks for."""
    for manner in ("English is your second language and you write short broken sentences ('I want change', 'is possible send back?').",
                   "You never say 'cancel' or 'exchange'; you say 'stop it' and 'swap'.",
                   "You answer only what you are asked, one detail per message, and volunteer nothing.",
                   "Answer every yes/no question with just yes or no.",
                   "You type in lower case with many typos.",
                   "Begin as if you only wanted to chat: just a greeting in your first message.",
                   "You are impatient and curt."):  # fmt: skip
        text = f"You want to return the kettle you received. {manner}"
        assert _kinds(text) == ["return"], manner
        sim = _shopper(text)
        assert not any(manner[:20] in r or first_person(manner)[:20] in r for r in sim.spec.requests + sim.spec.rephrase), manner
    # a quotation of what it says first is one sentence, not a request of its own
    assert _kinds("You want the lamp in white instead. Your first message is only: 'hi. need to change an order'.") == ["change-items"]
    # a request that speaks of talking is still one
    assert _kinds("You want to talk about returning the kettle.") == ["return"]


def test_a_question_it_is_told_to_ask_is_said_as_that_question():
    for text, question in (
        ("You want to buy a kettle. First you ask whether the glass kettle is lighter than the steel one.",
         "Is the glass kettle lighter than the steel one?"),
        ("You want to return the lamp. Ask the agent if the lamp can still be returned after a month.",
         "Can the lamp still be returned after a month?"),
        ("You want to return the lamp. Then you would like to know how long the money takes to arrive.",
         "Can you tell me how long the money takes to arrive?"),
    ):  # fmt: skip
        assert question in _shopper(text).spec.requests, text


def test_a_choice_said_after_a_question_is_the_answer_when_asked():
    text = ("Your delivered order has a kettle and a lamp; you want to return only the kettle. Before you say yes, ask "
            "which is quicker, a refund to your credit card or to PayPal, and then pick PayPal.")
    sim = _shopper(text)
    question = "Can you tell me which is quicker, a refund to my credit card or to PayPal?"
    assert sim.spec.requests == [question]
    assert sim.reply("Which payment method should receive the refund? Yours: PayPal; credit card.", []) == "PayPal, please."
    card = "Please confirm: return Kettle (steel) from order #W1000001; $20.00 is refunded to PayPal. Shall I go ahead? (yes/no)"
    pending = [AssistantEvent(kind="pending", tool="return_delivered_order_items", arguments={"order_id": "#W1000001"})]
    assert sim.reply(card, pending) == question  # asked before confirming, once
    assert sim.reply(card, pending) == "yes"


def test_an_item_described_with_the_option_wanted_instead_asks_an_item_change():
    for text in ("The kettle in your order has a white lid and you want a black lid, otherwise the same kettle.",
                 "The jacket came in M, which is too small; you need it in L.",
                 "Her scarf is red and she says red is boring, she wants blue.",
                 "The lamp you received is brass but you would prefer the silver one."):  # fmt: skip
        assert _kinds(text) == ["change-items"], text
    for text in ("The lamp is broken and you want a refund.", "Your order is late and you want to know why.",
                 "The lamp is broken and you want your money back.", "Your order was delivered and you want the lamp returned.",
                 "Your account is locked and you need help with it.", "Both orders are pending and you want both cancelled."):  # fmt: skip
        assert "change-items" not in _kinds(text), text


SWAP_ONE = ("Please confirm: in order #W1000001: Kettle (steel) → Kettle (glass, $30.00); you pay $2.00 via PayPal. This can "
            "be done only once for this order, so make sure every item you want changed is listed. Shall I go ahead? (yes/no)")
SWAP_BOTH = ("Please confirm: in order #W1000001: Kettle (steel) → Kettle (glass, $30.00); Rug (blue) → Rug (grey, $40.00); "
             "you pay $2.00 via PayPal. This can be done only once for this order, so make sure every item you want changed "
             "is listed. Shall I go ahead? (yes/no)")


def test_asked_whether_every_item_is_listed_it_adds_another_change_in_that_order():
    swap = [AssistantEvent(kind="pending", tool="exchange_delivered_order_items", arguments={"order_id": "#W1000001"})]
    for second in ("In that same order the rug came in blue; you want it in grey.",
                   "The rug in it is blue and you want it in grey.",
                   "You also want to exchange the rug from that order for a grey one."):  # fmt: skip
        sim = _sim(f"Your delivered order has a kettle and a rug. You want to exchange the steel kettle for the glass one. {second}")
        assert sim.reply(SWAP_ONE, swap) == first_person(second), second
        assert sim.reply(SWAP_BOTH, swap) == "yes"
        done = [AssistantEvent(kind="tool", tool="exchange_delivered_order_items", ok=True, arguments={"order_id": "#W1000001"})]
        sim.reply("Done. Order #W1000001 is now exchange requested.", done)
        assert sim.goal == []
    # another change about another order waits its turn; with nothing more to add, it is yes
    sim = _sim("You want to exchange the steel kettle for the glass one. You also want to exchange the rug of your other order for a grey one.")
    assert sim.reply(SWAP_ONE, swap) == "yes"
    sim = _sim("You want to exchange the steel kettle for the glass one.")
    assert sim.reply(SWAP_ONE, swap) == "yes"


def test_a_fallback_that_gives_up_settles_its_request():
    for give_up in ("skip it", "forget about it", "never mind", "whatever, leave it"):
        text = (f"You want your pending lamp order sent to 3 Oak Road instead. If that can't be done, {give_up}. "
                "You also want to cancel the rug order.")
        sim = _sim(text)
        assert sim.reply("I couldn't do that: order #W1000002 is processed.", []) == "I also want to cancel the rug order.", give_up
        assert sim.reply(CANCEL, PENDING) == "yes"
        done = [AssistantEvent(kind="tool", tool="cancel_pending_order", ok=True, arguments={"order_id": "#W1000001"})]
        assert sim.reply("Done. Order #W1000001 is now cancelled.", done) is None, give_up  # the address is not asked again
        assert not sim.goal
    # asked after a refusal that came with the next question: settled too
    sim = _sim("You want your pending lamp order sent to 3 Oak Road instead. If not, never mind. You also want to cancel the rug order.")
    assert sim.reply("I couldn't do that: order #W1000002 is processed. | Next, the other thing you asked for: | "
                     "Why do you want to cancel order #W1000001: 'no longer needed' or 'ordered by mistake'?", []) == "no longer needed"
    assert sim.reply(CANCEL, PENDING) == "yes"
    done = [AssistantEvent(kind="tool", tool="cancel_pending_order", ok=True, arguments={"order_id": "#W1000001"})]
    assert "Oak Road" not in (sim.reply("Done. Order #W1000001 is now cancelled.", done) or "")
    assert not sim.goal


def test_a_proposal_leaving_out_a_change_an_earlier_one_held_is_told_it():
    swap = [AssistantEvent(kind="pending", tool="exchange_delivered_order_items", arguments={"order_id": "#W1000001"})]
    sim = _sim("You want to exchange the steel kettle for the glass one. In that same order the rug came in blue; you want it in grey.")
    assert sim.reply(SWAP_ONE, swap) == "In that same order the rug came in blue; I want it in grey."
    rug_only = SWAP_ONE.replace("Kettle (steel) → Kettle (glass, $30.00)", "Rug (blue) → Rug (grey, $40.00)")
    assert sim.reply(rug_only, swap) == "I want to exchange the steel kettle for the glass one."
    assert sim.reply(SWAP_BOTH, swap) == "yes"


def test_the_method_chosen_after_asking_is_the_one_it_wants():
    text = ("You want to return the kettle. Before you agree, ask whether PayPal refunds are faster than gift card ones, "
            "and then go with the gift card.")
    sim = _shopper(text)
    pending = [AssistantEvent(kind="pending", tool="return_delivered_order_items", arguments={"order_id": "#W1000001"})]
    to_paypal = "Please confirm: return Kettle (steel) from order #W1000001; $20.00 is refunded to PayPal. Shall I go ahead? (yes/no)"
    assert sim.reply(to_paypal, pending) == "No, I want to use my gift card."
    to_card = to_paypal.replace("PayPal", "gift card, balance $5.00")
    assert sim.reply(to_card, pending) == "Are PayPal refunds faster than gift card ones?"
    assert sim.reply(to_card, pending) == "yes"


def test_keep_everything_else_declines_an_item_no_request_names():
    pending = [AssistantEvent(kind="pending", tool="return_delivered_order_items", arguments={"order_id": "#W1000001"})]
    card = "Please confirm: return Desk Lamp (black), Kettle (steel) from order #W1000001. Shall I go ahead? (yes/no)"
    for keep in ("Keep everything else.", "You keep the rest of the order.", "Everything else stays."):
        sim = _sim(f"Your order had a lamp and a kettle. You want to return only the kettle. {keep}")
        sim.spec.goal = goals_from_text("You want to return only the kettle.")
        assert sim.reply(card, pending) == "No, not the Desk Lamp: I want to keep it.", keep
        assert sim.reply(card.replace("Desk Lamp (black), ", ""), pending) == "yes"
