"""Kinds of phrasing the reworded τ² tasks showed the agent and the rule shopper misread: the kind of another
item the shopper has ("the model from my pending order"), a count of a list ("two items: a … and a …"), the
orders' address said without "order address", an address set back "to what it was", part of an order
cancelled with a stated alternative, an identical replacement with one, "<a> over <b>, and <c> over …", a change
in the past participle; and, for the shopper, requests put through the agent and answers to give "if asked".
Wording here differs from the tasks'."""

from __future__ import annotations

import pytest

from assistant.understand import rules, wish
from eval.dialogues.scenario import RuleUser
from eval.dialogues.simulated_user import RuleSim
from eval.dialogues.tau import extract_facts, goals_from_text, if_asked, main_request, requests_and_fallbacks, sentences, wanted_kinds
from tests.agent_fixtures import assistant, state, store  # noqa: F401  (fixtures)


def _pending(assistant, state, *messages):
    for message in messages:
        reply = assistant.reply_text(state, message)
    assert state.pending is not None, reply
    return state.pending


@pytest.mark.parametrize("text", [
    "swap the kettle for the same model as the kettle I've already got",
    "make my lamp like the one from my other order",
    "exchange the delivered hose for the type in my pending order",
    "switch it to the same type as the heater I had already received",
])
def test_the_kind_of_another_item_the_shopper_has_in_other_words(text):
    assert rules.like_owned(text), text
    assert "charcoal" in rules.wish_like(text, {"type": "charcoal"})


@pytest.mark.parametrize("text", ["exchange the one in my pending order for a blue one",
                                  "the grill I have already received, change it to gas", "the same model I bought, but in red"])
def test_the_item_being_changed_is_still_not_another_one(text):
    assert rules.like_owned(text) is None


def test_the_kind_in_another_order_is_the_new_option_and_never_picks_the_order(assistant, state, store):
    pending = _pending(assistant, state, "My name is Isabella Johansson and my zip code is 32286.",
                       "Please swap the garden hose that was delivered for the model from my pending order.")
    assert pending.tool == "exchange_delivered_order_items"
    order = store.order(pending.arguments["order_id"])
    assert order.status == "delivered"
    hose = next(i for i in order.items if i.item_id in pending.arguments["item_ids"])
    other = [i for o in store.orders_of(order.user_id) if o.status.startswith("pending") for i in o.items
             if i.product_id == hose.product_id]
    assert other and pending.arguments["new_item_ids"] == [other[0].item_id]


def test_the_same_model_as_the_item_already_got(assistant, state, store):
    pending = _pending(assistant, state, "My name is Sofia Hernandez and my zip code is 98193.",
                       "Please change the grill I just ordered to the same model as the grill I've already got.")
    order = store.order(pending.arguments["order_id"])
    grill = next(i for i in order.items if i.item_id in pending.arguments["item_ids"])
    owned = [i for o in store.orders_of(order.user_id) if o.order_id != order.order_id for i in o.items if i.product_id == grill.product_id]
    assert owned and pending.arguments["new_item_ids"] == [owned[0].item_id]


def test_a_count_of_the_items_listed_is_no_plural_of_one_product(assistant, state, store):
    assistant.reply_text(state, "My name is Daiki Johnson and my zip code is 80273.")
    reply = assistant.reply_text(state, "Two items from my latest order have to be returned: a vacuum cleaner and an air purifier.")
    assert state.pending is None and "which one" in reply  # the order has two vacuum cleaners
    pending = _pending(assistant, state, "the robotic one")
    names = [i.options for i in store.order(pending.arguments["order_id"]).items if i.item_id in pending.arguments["item_ids"]]
    assert len(names) == 2 and sum(o.get("type") == "robotic" for o in names) == 1


def test_both_of_a_product_is_still_a_plural():
    from assistant.slots import read_slots

    order = {"order_id": "#W1", "items": [
        {"item_id": "a", "name": "Vacuum Cleaner", "options": {"type": "canister"}},
        {"item_id": "b", "name": "Vacuum Cleaner", "options": {"type": "robotic"}},
        {"item_id": "c", "name": "Air Purifier", "options": {"size": "large"}}]}
    text = "return both vacuum cleaners"
    assert sorted(rules.match_items(order, text, read_slots(text))) == ["a", "b"]
    text = "two things to return: a vacuum cleaner and the air purifier"
    assert rules.match_items(order, text, read_slots(text)) == [rules.AMBIGUOUS]


def test_both_items_after_a_product_named_stays_a_plural():
    from assistant.understand import Option
    from assistant.understand.narrow import narrow, speaks_of_several

    opts = [Option(id="a", label="Hoodie (grey, M)", kind="item", facts={"name": "Hoodie"}),
            Option(id="b", label="Hoodie (navy, L)", kind="item", facts={"name": "Hoodie"}),
            Option(id="c", label="Desk Lamp (LED)", kind="item", facts={"name": "Desk Lamp"})]
    assert sorted(narrow("the hoodie, both items", opts, many=True, question="Which items?").sure) == ["a", "b"]
    assert speaks_of_several("all items of the hoodie") and speaks_of_several("each of the products")
    assert not speaks_of_several("three things to swap: a hoodie, a lamp and a mug")  # a number counting the list


def test_a_preferring_verb_needs_the_speaker_and_no_negation():
    vals = {"color": ("white", "black", "red")}
    assert wish.preferred_values("i'd like the jacket in white to go with black boots", vals) == {}
    assert wish.preferred_values("i would never choose red; white please", vals) == {}
    assert wish.preferred_values("i don't prefer black, just white", vals) == {}
    assert wish.preferred_values("if both exist, i'd go with red", vals) == {"color": "red"}
    assert wish.preferred_values("i'll pick black if it's there", vals) == {"color": "black"}


def test_the_orders_address_said_as_for_all_my_orders_and_set_back_to_what_it_was(assistant, state, store):
    pending = _pending(assistant, state, "My name is Ethan Garcia and my zip code is 80280.",
                       "Please update my default address to 12 Oak Lane, Austin, TX 78701 and use it for all my orders as well.")
    assert pending.tool == "modify_pending_order_address"
    before = store.user("ethan_garcia_1261").address.address1
    pending = _pending(assistant, state, "yes")
    assert pending.tool == "update_default_address" and pending.arguments["address1"] == "12 Oak Lane"
    assistant.reply_text(state, "yes")
    pending = _pending(assistant, state, "Could you put my account address back to what it was before?")
    assert pending.tool == "update_default_address" and pending.arguments["address1"] == before
    assert rules.asks_former_address("my profile address should go back to how it was")
    assert not rules.asks_former_address("set the colour back to what it was")  # no address: not this


def test_part_of_an_order_cancelled_takes_the_stated_alternative(assistant, state, store):
    pending = _pending(assistant, state, "My name is Noah Patel and my zip code is 10108.",
                       "Can you cancel just part of my order? If that's impossible, have it shipped to my place in New York instead.")
    assert pending.tool == "modify_pending_order_address" and pending.arguments["city"] == "New York"


def test_part_of_an_order_cancelled_is_refused_not_the_whole_order(assistant, state, store):
    assistant.reply_text(state, "My name is Noah Patel and my zip code is 10108.")
    reply = assistant.reply_text(state, "I'd like to cancel only some of the things in my pending order.")
    assert state.pending is None and "whole order" in reply


def test_an_identical_replacement_refused_takes_the_stated_alternative(assistant, state, store):
    pending = _pending(assistant, state, "My name is Olivia Lopez and my zip code is 76171.",
                       "I want to exchange my tablet for exactly the same one; if an identical one can't be had, just send it back for a refund.")
    assert pending.tool == "return_delivered_order_items"


def test_a_value_preferred_over_another_does_not_run_on_past_and():
    avoided, _ = wish.avoided_values("i'd pick m over l, and black or red over any other colour",
                                      {"size": ("m", "l"), "color": ("black", "red", "blue")})
    assert avoided == {"size": {"l"}}
    avoided, _ = wish.avoided_values("anything but black or red", {"color": ("black", "red", "blue")})
    assert avoided == {"color": {"black", "red"}}


def test_a_change_said_in_the_past_participle_inside_a_condition(assistant, state, store):
    pending = _pending(assistant, state, "My name is Daiki Sanchez and my zip code is 46236.",
                       "If neither works, I'd like to know whether all my items could be switched to the least expensive options "
                       "so the total drops below $1,100.")
    assert pending.tool == "modify_pending_order_items" and len(pending.arguments["item_ids"]) > 1


# -- the rule shopper reading its own instructions -----------------------------------------------------------

def test_answers_to_give_if_asked_in_other_words():
    said = {tuple(r.words): r.say for r in if_asked(
        "If you're asked for the order number, give 1234567. Should the agent ask you to confirm the size, say large. "
        "When asked which lamp, say the desk one.")}
    assert said == {("order", "number"): "Give 1234567.", ("confirm",): "Large.", ("which", "lamp"): "The desk one."}


def test_a_request_put_through_the_agent_is_said_as_the_shoppers_own():
    text = ("You are Lena Okafor, zip 30301. You'd like the agent to help you return the rug you received. "
            "If the rug cannot be returned, make the agent tell you what else can be done. Ask them to cancel the pending order too.")
    opening, rest = main_request(text)
    assert opening == "I would like to return the rug I received."
    requests, fallbacks = requests_and_fallbacks(rest)
    assert fallbacks == ["If the rug cannot be returned, tell me what else can be done."]
    assert requests == ["Please cancel the pending order too."]
    assert {g.tool for g in goals_from_text(text)} == {"return", "cancel"}


def test_having_the_order_sent_somewhere_is_an_address_change():
    goals = goals_from_text("You are Lena Okafor, zip 30301. You want to have your pending order sent to your office instead.")
    assert [g.tool for g in goals] == ["address"]


def test_a_condition_on_what_they_ask_is_no_question_of_the_shopper():
    text = "If they ask which kettle, say it's the electric one."
    assert sentences(text) == [text]
    assert [r.say for r in if_asked(text)] == ["It's the electric one."]


def test_a_description_or_a_refund_sent_elsewhere_is_no_address_request():
    assert "address" not in wanted_kinds("You have three orders that were delivered to your former home in Ohio.")
    assert "address" not in wanted_kinds("You'd like the money sent to your gift card instead of the visa.")
    assert "address" not in wanted_kinds("You want the refund sent to your bank card instead.")
    assert "address" in wanted_kinds("You want the order sent to your office instead.")


def test_the_shopper_ends_once_everything_is_done_and_said():
    text = "You are Lena Okafor, zip 30301. You want to return the rug you received. You don't want anything cancelled."
    opening, rest = main_request(text)
    requests, fallbacks = requests_and_fallbacks(rest)
    sim = RuleSim(RuleUser(opening=opening, goal=goals_from_text(text), rephrase=rest[:4], instructions=text,
                           requests=requests, fallbacks=fallbacks, facts=extract_facts(text)))  # fmt: skip
    from assistant.state import AssistantEvent

    done = [AssistantEvent(kind="tool", tool="return_delivered_order_items", ok=True, arguments={"order_id": "#W1000001"})]
    assert sim.reply("Done. Order #W1000001 is now return requested.", done) == "I don't want anything cancelled."
    assert sim.reply("Happy to help!", []) is None  # nothing left to do: it does not rephrase its request
