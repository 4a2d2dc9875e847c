"""Wishes with a bound, and items that stay (the eighth and ninth batches' dev kinds). "A version with at least 5x
zoom" bounds the option, "only if it costs at most $10 more" bounds the price difference, "the waterproof version" of a
non-waterproof item names the yes of a yes/no option, "for a 7-inch one with more storage" keeps the 7-inch. Asked what
an item should become, "no, not the <item>: I keep it" leaves it out. "The dumbbells" name a Dumbbell Set; "I also want
the <item> as the <value> version" is a change of the shopper's own item; "any difference on PayPal" said alone is
noted, not searched. The simulated shopper applies its rule "if several fit, the cheapest" when it is offered versions
with prices, says it keeps an item its text only lists, and takes the method offered when its own is not possible
without objecting to it at the proposal. Wording here is our own."""

from __future__ import annotations

import pytest

from assistant.understand import rules
from assistant.understand.wish import option_limits, pick_variant
from tests.agent_fixtures import assistant, state, store  # noqa: F401  (fixtures)

CAMERA = {"zoom": ("3x", "5x", "10x"), "resolution": ("20MP", "24MP", "30MP"), "storage": ("SD card", "CF card")}


@pytest.mark.parametrize("text, bounds", [
    ("a version with at least 5x zoom", {"zoom": (1, 5.0)}),
    ("10x or better", {"zoom": (1, 10.0)}),
    ("no more than 24mp please", {"resolution": (-1, 24.0)}),
    ("至少5x", {"zoom": (1, 5.0)}),
    ("at least $10 less", {}),  # money, no option
    ("5 or more items", {}),  # a count of things, no option's unit or name
])
def test_a_bound_on_a_numeric_option(text, bounds):
    assert option_limits(text, CAMERA) == bounds


def test_a_bound_is_read_in_the_options_own_scale():
    assert option_limits("1.5l or more", {"capacity": ("1L", "1.5L", "2L")}) == {"capacity": (1, 1500.0)}


@pytest.mark.parametrize("text, limit", [
    ("I would swap it only if that costs at most $10 more.", 10.0),
    ("fine, as long as it is no more than $15 extra", 15.0),
    ("only if the difference is under $20", 20.0),
    ("I want it for under $200", None),  # a price, not what it costs over the item now
])
def test_a_bound_on_the_price_difference(text, limit):
    assert rules.extra_limit(text) == limit


def test_the_yes_of_a_yes_no_option_and_its_no_said_with_a_hyphen():
    assert rules.yes_no("waterproof", "yes", "the waterproof version")
    assert rules.yes_no("waterproof", "no", "i want the non-waterproof ones")
    assert not rules.yes_no("waterproof", "yes", "i want the non-waterproof ones")


def _pick(store, item_id: str, wish: str) -> str | None:
    product = next(p for p in store.products() if any(v.item_id == item_id for v in p.variants))
    variant = next(v for v in product.variants if v.item_id == item_id)
    item = {"item_id": item_id, "name": product.name, "product_id": product.product_id, "options": variant.options}
    return pick_variant(product, item, wish)[0]


def test_the_new_items_own_words_keep_a_value_the_item_has(store):
    # Tablet 7-inch, 32GB, gold: "a 7-inch one with more storage" is the 7-inch 128GB (black), not a 10-inch one
    assert _pick(store, "6501071631", "Exchange the 7-inch 32GB gold tablet for a 7-inch one with more storage.") == "4913411651"


def test_the_waterproof_version_of_boots_that_are_not(store):
    assert _pick(store, "5676696062", "the size-11 leather hiking boots for the waterproof version") == "6159919747"


def test_a_value_two_options_share_is_not_the_one_said_kept(store):
    # Helmet S, white, low ventilation: "a medium in the same colour and ventilation" is size M
    assert _pick(store, "1596993217", "It is too small; I would swap it for a medium in the same colour and ventilation.") == "8591113813"


def test_a_set_is_named_by_the_things_it_holds():
    item = {"item_id": "1", "name": "Dumbbell Set", "product_id": "p", "options": {}}
    assert rules.names_item(item, "exchange the fixed urethane dumbbells for adjustable ones")


def test_their_item_wanted_as_another_version_is_a_change():
    assert rules.asks_change_without_verb("I also want the tactile 80% keyboard with white backlight as the full-size "
                                          "version (still tactile, white backlight).")
    assert rules.asks_change_without_verb("I want the bookshelf in black (still metal, 6 feet).")
    assert not rules.asks_change_without_verb("I want a keyboard as a gift for my brother.")


def test_an_option_bound_picks_the_version_and_an_item_said_kept_is_left_out(assistant, state, store):
    assistant.reply_text(state, "lei.patel2400@example.com")
    text = assistant.reply_text(state, "My pending order holds a 20MP digital camera with 5x zoom that uses CF cards, and "
                                       "a bottle of perfume. I want a version of the camera that uses SD cards, with at least 5x zoom.")
    assert state.frame is not None and state.frame.new_item_ids == ["9228757377"], text  # 30MP, 10x, SD: the one with ≥ 5x
    text = assistant.reply_text(state, "No, not the perfume: I want to keep it.")
    assert state.pending is not None and state.pending.arguments["item_ids"] == ["9644439410"], text
    assert state.pending.arguments["new_item_ids"] == ["9228757377"], text


def test_a_change_above_the_difference_said_is_not_proposed(assistant, state):
    assistant.reply_text(state, "omar.taylor9929@example.com")
    text = assistant.reply_text(state, "My delivered cycling helmet (small, white, low ventilation) is too small. I would swap it "
                                       "for a medium in the same colour and ventilation only if that costs at most $10 more.")
    assert "$12.63 more" in text and state.pending is None, text  # M, white, low costs $12.63 more: not proposed
    text = assistant.reply_text(state, "Then I want to return it for a refund.")
    assert state.pending is not None and state.pending.tool == "return_delivered_order_items", text


def _sim(text: str):
    from tests.test_dialogues_requests import _sim

    return _sim(text)


def test_the_shopper_applies_its_rule_among_versions_with_prices():
    sim = _sim("You are Lena Okafor, zip 30301. From your delivered order with a coffee maker and a rug, the French-press "
               "coffee maker should be a drip one. If several fit, take the cheapest.")
    question = ("What should Coffee Maker (white, 4 cups, french press) become? Available options: stainless steel, 4 cups, "
                "drip $236.95; white, 4 cups, drip $226.05.")
    assert sim.reply(question, []) == "The cheapest of the ones that fit, please."


def test_the_shopper_keeps_an_item_its_text_only_lists():
    sim = _sim("You are Lena Okafor, zip 30301. Your pending order holds a camera and a bottle of perfume. You want a "
               "version of the camera that uses SD cards.")
    question = "What should Perfume (oriental, 100ml, men) become? Available options: fresh, 50ml, men $318.96."
    assert sim.reply(question, []) == "No, not the Perfume: I want to keep it."


def test_the_shopper_takes_the_method_offered_and_does_not_object_to_it_after():
    from assistant.state import AssistantEvent, Choice

    sim = _sim("You are Lena Okafor, zip 30301. You want to return your delivered hiking boots and would like the refund "
               "on your Mastercard.")
    asked = "Which payment method should receive the refund? Yours: gift card, balance $19.00."
    sim.reply(asked, [])
    buttons = [AssistantEvent(kind="choices", choices=[Choice(id="gift_card_1", label="gift card, balance $19.00", kind="payment")])]
    assert sim.reply("None of your payment methods that can receive the refund is a credit card. You can choose: gift "
                     "card, balance $19.00.", buttons) == "gift card, balance $19.00"
    proposal = ("Please confirm: return Hiking Boots (8, synthetic, no) from order #W1000001; $253.54 is refunded to gift card, "
                "balance $19.00. Shall I go ahead? (yes/no)")
    pending = [AssistantEvent(kind="pending", tool="return_delivered_order_items",
                              arguments={"order_id": "#W1000001", "item_ids": ["1"], "payment_method_id": "gift_card_1"})]
    assert sim.reply(proposal, pending) == "yes"


def test_a_value_the_item_has_said_with_its_option_among_the_new_items_words_stays(store):
    # Helmet S, black, medium ventilation; no M black medium on offer: "with medium ventilation" said for the new one holds
    assert _pick(store, "5537798301", "Exchange the small black helmet with medium ventilation for a size M: black with medium "
                                      "ventilation if possible, otherwise the cheapest size-M one with medium ventilation in "
                                      "another colour.") == "1719127154"  # M, red, medium


def test_an_item_said_kept_and_an_option_said_kept():
    items = [{"item_id": "1", "name": "Desk Lamp", "product_id": "p1", "options": {"color": "white", "size": "small"}},
             {"item_id": "2", "name": "Perfume", "product_id": "p2", "options": {"size": "100ml"}}]
    assert rules.kept_items(items, "No, not the perfume: I want to keep it.") == {"2"}
    assert rules.kept_items(items, "leave the perfume as it is") == {"2"}
    assert rules.kept_items(items, "keep the lamp white but make it bigger") == set()  # its colour stays, not the lamp


def test_more_of_the_unit_an_options_values_carry(store):
    # Coffee Maker black, 4 cups, espresso, timer: "one that makes more cups" is the 8-cup espresso one, not the 2-cup
    assert _pick(store, "5952720925", "Exchange the black 4-cup espresso coffee maker with a timer for a black espresso one "
                                      "that makes more cups.") == "7211586944"


def test_an_option_left_to_the_shop_is_not_kept(store):
    # Yoga Mat 6mm, PVC, green: "a 4mm one, still PVC (any colour)" is the blue 4mm PVC one
    assert _pick(store, "7510236436", "Exchange the mat for a 4mm one, still PVC (any colour).") == "5586947715"
    assert rules.free_options("the colour doesn't matter", {"color": "green"}) == {"color"}


def test_a_superlative_of_an_option_and_the_new_items_words_keep_the_rest(store):
    # LED bulb 60W, daylight, none: "the brightest daylight bulb" is the 75W daylight one, not the 100W warm white
    assert _pick(store, "5570660360", "Exchange the 60W-equivalent daylight bulb for the brightest daylight bulb available.") == "7445824652"
    assert rules.extra_limit("only if it costs no more than mine") == 0.0


def test_a_unit_said_in_the_singular_names_the_plural_value():
    assert rules.mentioned("55-75 lbs", "the cheapest adjustable 55-75 lb set")
    assert rules.mentioned("4 cups", "a 4 cup one")


def test_a_change_said_as_what_the_item_should_become():
    assert rules.asks_change_without_verb("The 60% clicky RGB keyboard should become the 80% clicky RGB one.")


def test_the_account_address_said_to_stay_is_not_changed():
    action = rules.read_action("The order should go to my new flat, 58 Grandview Avenue, Apt 2, Columbus, OH 43212 "
                               "(my account address stays as it is).")
    assert action.flows == ["modify_address"], action


def test_the_method_said_for_when_the_gift_card_falls_short():
    from types import SimpleNamespace as NS

    methods = [NS(payment_method_id="gift_card_1", source="gift_card", brand=None, last_four=None, balance=77.0),
               NS(payment_method_id="credit_card_2", source="credit_card", brand="visa", last_four="4204", balance=None)]
    text = "…paid by the gift card if it covers the net difference, otherwise by Visa."
    assert rules.method_if_short(methods, text) == "credit_card_2"
    assert rules.method_if_short(methods, "paid by the gift card") is None



def test_a_value_wished_only_if_possible_is_not_kept_when_its_fallback_says_otherwise(assistant, state):
    # Harper's keyboard is linear, white, 60%: no full-size linear white on offer, so "otherwise without backlight"
    assistant.reply_text(state, "harper.smith5467@example.com")
    text = assistant.reply_text(state, "From my delivered order to Austin I want to exchange the linear 60% keyboard with white "
                                       "backlight for a full-size linear one: with white backlight if available, otherwise "
                                       "without backlight.")
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == ["9570044148"]  # linear, none, full size, text


def test_where_the_difference_goes_said_alone_is_noted_not_searched(assistant, state):
    assistant.reply_text(state, "harper.smith5467@example.com")
    text = assistant.reply_text(state, "any difference on PayPal.")
    assert "Noted" in text and "PayPal" in text and "Here is what I found" not in text, text
