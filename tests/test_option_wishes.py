"""New options said the way people say them, matched against a product's real variants (wish.pick_variant),
and which of two items of one product a clause is about (rules.about_item). Products are built here."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from assistant.understand.rules import about_item, like_owned
from assistant.understand.wish import avoided_values, pick_variant
from tests.agent_fixtures import assistant, state, store  # noqa: F401  (fixtures)


def _product(*variants):
    return SimpleNamespace(variants=[SimpleNamespace(item_id=i, options=o, price=p, available=a) for i, o, p, a in variants])


VACUUM = _product(
    ("v1", {"type": "upright", "bagged/bagless": "bagged", "features": "cordless"}, 500, True),
    ("v2", {"type": "robotic", "bagged/bagless": "bagged", "features": "cordless"}, 520, True),
    ("v3", {"type": "robotic", "bagged/bagless": "bagless", "features": "cordless"}, 510, True),
    ("v4", {"type": "canister", "bagged/bagless": "bagless", "features": "cordless"}, 490, True),
)
VACUUM_ITEM = {"item_id": "v1", "options": {"type": "upright", "bagged/bagless": "bagged", "features": "cordless"}, "price": 500}


@pytest.mark.parametrize("text", [
    "Please make it the robotic type; the bagged/bagless setting can stay as it is.",
    "I'd like the robotic one instead. Its bagged/bagless option should not change.",
    "modify Vacuum Cleaner {'type': 'upright', 'bagged/bagless': 'bagged', 'features': 'cordless'} to {'type': 'robotic'}",
])
def test_an_option_name_holding_its_values_is_no_wish_for_either(text):
    chosen, _ = pick_variant(VACUUM, VACUUM_ITEM, text)
    assert chosen == "v2"  # robotic, and still bagged (the name "bagged/bagless" does not ask for bagless)


PUZZLE = _product(
    ("p1", {"pieces": "500", "theme": "art", "difficulty level": "intermediate"}, 20, True),
    ("p2", {"pieces": "1500", "theme": "art", "difficulty level": "intermediate"}, 25, True),
    ("p3", {"pieces": "1500", "theme": "animals", "difficulty level": "intermediate"}, 26, True),
    ("p4", {"pieces": "1500", "theme": "fantasy", "difficulty level": "intermediate"}, 27, True),
)
PUZZLE_ITEM = {"item_id": "p1", "options": {"pieces": "500", "theme": "art", "difficulty level": "intermediate"}, "price": 20}


@pytest.mark.parametrize("text, expected", [
    ("1000 more pieces, and an animal theme please", "p3"),  # singular "animal" names "animals"
    ("1000 more pieces; I'd take the animal theme rather than art", "p3"),
    ("1000 more pieces, and I prefer art over the animal theme", "p2"),  # the value after "over" is not wanted
    ("1000 more pieces, any theme but art or animals, thanks", "p4"),
    ("1000 more pieces, not the animals one", "p2"),
    ("多 1000 more pieces，不要 animals 主题", "p2"),
])
def test_values_said_singular_plural_or_as_not_wanted(text, expected):
    chosen, _ = pick_variant(PUZZLE, PUZZLE_ITEM, text)
    assert chosen == expected


@pytest.mark.parametrize("text, expected", [
    # the other values named only as what might be on offer: the one preferred is the wish, even the current one
    ("1000 more pieces; animals and art would both do, but I'd go with art", "p2"),
    ("add a thousand pieces... 1000 more pieces. Should the shop carry both an art and an animal version, I'd opt for animals", "p3"),
    ("1000 more pieces, and if art, animals and fantasy all exist, I'd rather have fantasy", "p4"),
])
def test_a_preferred_value_among_alternatives_is_the_wish(text, expected):
    chosen, _ = pick_variant(PUZZLE, PUZZLE_ITEM, text)
    assert chosen == expected


CREW_TEE = _product(
    ("s1", {"color": "red", "size": "XXL", "material": "cotton"}, 50, True),
    ("s2", {"color": "blue", "size": "XL", "material": "cotton"}, 51, True),
    ("s3", {"color": "black", "size": "XL", "material": "cotton"}, 52, True),
    ("s4", {"color": "black", "size": "S", "material": "polyester"}, 53, True),
)
CREW_TEE_ITEM = {"item_id": "s1", "options": {"color": "red", "size": "XXL", "material": "cotton"}, "price": 50}


@pytest.mark.parametrize("text", [
    "It's too big, so one size smaller please; what's there in black? That's my colour.",
    "one size down. If there's black, black it is",
])
def test_a_contraction_names_no_size(text):
    # "it's", "there's", "that's": no size S asked for
    chosen, _ = pick_variant(CREW_TEE, CREW_TEE_ITEM, text)
    assert chosen == "s3"


BOOTS = _product(
    ("b8", {"size": "8", "color": "black"}, 90, True),
    ("b9", {"size": "9", "color": "black"}, 90, True),
    ("b9r", {"size": "9", "color": "red"}, 92, True),
    ("b8r", {"size": "8", "color": "red"}, 92, True),
    ("b8w", {"size": "8", "color": "white"}, 91, True),
)
BOOTS_ITEM = {"item_id": "b8", "options": {"size": "8", "color": "black"}, "price": 90}


@pytest.mark.parametrize("text, expected", [
    ("size 9 instead of 8, same colour", "b9"),
    ("the same ones but in red", "b8r"),
    ("any colour but black, same size", None),  # red or white: a question with both as choices
    ("any color except black and red", "b8w"),
    ("not black, red please", "b8r"),  # a bare comma ends what is not wanted
    ("a size up, same colour", "b9"),
])
def test_changes_said_against_the_current_item(text, expected):
    chosen, choices = pick_variant(BOOTS, BOOTS_ITEM, text)
    assert chosen == expected
    if expected is None:
        assert {i for i, _ in choices} == {"b8r", "b8w"}


def test_avoided_values_keep_the_wanted_part_of_the_text():
    values = {"color": ("black", "red", "white"), "size": ("8", "9")}
    avoided, wanted = avoided_values("i want red rather than black, size 9", values)
    assert avoided == {"color": {"black"}} and "red" in wanted and "black" not in wanted
    avoided, _ = avoided_values("please switch over to the red ones", values)  # "over to" is no dislike
    assert avoided == {}


SPEAKERS = {"order_id": "#W1", "items": [
    {"item_id": "s1", "name": "Bluetooth Speaker", "options": {"color": "green", "battery life": "10 hours"}},
    {"item_id": "s2", "name": "Bluetooth Speaker", "options": {"color": "black", "battery life": "10 hours"}},
    {"item_id": "k1", "name": "Tea Kettle", "options": {"material": "glass", "stovetop compatibility": "gas"}},
    {"item_id": "k2", "name": "Electric Kettle", "options": {"capacity": "1L", "color": "white"}},
]}


@pytest.mark.parametrize("text", [
    "Exchange the green speaker for a red one, and the black speaker for a blue one.",
    "Swap my black bluetooth speaker to blue; and my green bluetooth speaker to red.",
    "Bluetooth Speaker {'color': 'green'} to {'color': 'red'}; Bluetooth Speaker {'color': 'black'} to {'color': 'blue'}",
])
def test_two_items_of_one_product_each_take_their_own_clause(text):
    green, black, *_ = SPEAKERS["items"]
    for item, wanted, other in ((green, "red", "blue"), (black, "blue", "red")):
        words = set(re.findall(r"[a-z]+", about_item(text, item, SPEAKERS).lower()))
        assert wanted in words and other not in words


def test_a_longer_name_said_is_that_item_not_one_sharing_its_last_word():
    tea, electric = SPEAKERS["items"][2:]
    text = "Change the tea kettle to a ceramic one; the electric kettle to 1.5L."
    assert "ceramic" in about_item(text, tea, SPEAKERS) and "1.5l" not in about_item(text, tea, SPEAKERS).lower()
    assert "1.5L" in about_item(text, electric, SPEAKERS) and "ceramic" not in about_item(text, electric, SPEAKERS)


@pytest.mark.parametrize("text, expected", [
    ("换成红色的，同样的尺码", "b8r"),  # Chinese option words through the search lexicon
    ("换成9码的，不要黑色", "b9r"),
    ("我想要9码，颜色不变", "b9"),
    ("红色的就行", "b8r"),
    ("大一码的，颜色一样", "b9"),
])
def test_chinese_option_words_are_read_in_the_catalogs_english(text, expected):
    chosen, _ = pick_variant(BOOTS, BOOTS_ITEM, text)
    assert chosen == expected


KETTLE = _product(
    ("k1", {"capacity": "1L", "screen": "none", "length": "6 ft"}, 40, True),
    ("k15", {"capacity": "1.5L", "screen": "none", "length": "6 ft"}, 45, True),
    ("k2", {"capacity": "2L", "screen": "none", "length": "6 ft"}, 50, True),
    ("k2s", {"capacity": "2L", "screen": "none", "length": "3 ft"}, 52, True),
)
KETTLE_ITEM = {"item_id": "k1", "options": {"capacity": "1L", "screen": "none", "length": "6 ft"}, "price": 40}


@pytest.mark.parametrize("text, expected", [
    ("the 1.5 liter one please", "k15"),
    ("I'd like 2 litres instead", "k2"),
    ("2000 ml, and the cord 3 feet", "k2s"),
    ("换成1.5公升的", "k15"),
])
def test_quantities_said_in_other_units_or_spellings(text, expected):
    chosen, _ = pick_variant(KETTLE, KETTLE_ITEM, text)
    assert chosen == expected


@pytest.mark.parametrize("text", [
    "change the grill to the same type as the one I already received",  # τ² train task 23
    "make it identical to the one I bought before",
    "I'd like it to match the one I already have",
    "换成和我已经收到的那个一样的",
])
def test_the_same_one_as_the_one_the_shopper_already_has(text):
    from assistant.understand.rules import wish_like

    owned = {"type": "charcoal", "size": "medium"}
    assert like_owned(text) is not None
    wish = wish_like(text, owned)
    assert "charcoal" in wish and "same type" not in wish


def test_a_new_option_like_the_item_of_another_order(assistant, state, store):
    """The pending order's grill becomes the kind the customer received in another order (τ² train task 23's shape)."""
    assistant.reply_text(state, "My name is Sofia Hernandez and my zip code is 98193.")
    reply = assistant.reply_text(state, "I want to modify the grill I just ordered so it is the same kind as the one I already got.")
    assert state.pending is not None, reply
    order = store.order(state.pending.arguments["order_id"])
    grill = next(i for i in order.items if i.item_id in state.pending.arguments["item_ids"])
    owned = [i for o in store.orders_of(order.user_id) if o.order_id != order.order_id for i in o.items if i.product_id == grill.product_id]
    assert owned and state.pending.arguments["new_item_ids"] == [owned[0].item_id]


@pytest.mark.parametrize("wish, key", [
    ("I want to exchange the t-shirt in order #W6247578 for a green one", "no available T-Shirt matching"),  # a colour other products have
    ("I want to exchange the t-shirt in order #W6247578 for another one", "What should T-Shirt"),  # nothing said: asked
])
def test_a_value_the_product_does_not_come_in_is_said_unavailable_with_the_real_choices(assistant, state, store, wish, key):
    assistant.reply_text(state, "my email is yusuf.rossi7301@example.com")
    events = list(assistant.respond(state, wish))
    text = "".join(e.text or "" for e in events)
    assert key in text, text
    offered = [c for e in events if e.kind == "choices" for c in e.choices]
    product = store.product(store.order("#W6247578").items[0].product_id)
    available = {v.item_id for v in product.variants if v.available}
    assert offered and all(c.kind == "option" and c.id in available for c in offered)


MAKERS = {"order_id": "#W2", "items": [
    {"item_id": "steel", "name": "Coffee Maker", "options": {"color": "stainless steel", "capacity": "4 cups"}},
    {"item_id": "black", "name": "Coffee Maker", "options": {"color": "black", "capacity": "1 cup"}},
]}


@pytest.mark.parametrize("text, expected", [
    ("Modify Coffee Maker {'color': 'stainless steel', 'capacity': '4 cups'} to {'color': 'black', 'capacity': '2 cups'}", ["steel"]),
    ("Exchange the stainless steel coffee maker for a black one.", ["steel"]),
    ("Swap the black coffee maker to the stainless steel one.", ["black"]),
    ("The black coffee maker, I want it in stainless steel.", ["black"]),
    ("Return the black coffee maker and the stainless steel one.", ["black", "steel"]),
])
def test_which_of_two_items_of_one_product_by_its_current_options(text, expected):
    from assistant.slots import read_slots
    from assistant.understand.rules import match_items

    assert sorted(match_items(MAKERS, text, read_slots(text))) == sorted(expected)


SHIRT = _product(
    ("s1", {"color": "red", "size": "m"}, 20, True),
    ("s2", {"color": "blue", "size": "m"}, 20, True),
    ("s3", {"color": "black-and-white", "size": "m"}, 22, True),
    ("s4", {"color": "black", "size": "l"}, 21, True),
    ("s5", {"color": "black", "size": "m"}, 21, True),
)
SHIRT_ITEM = {"item_id": "s0", "options": {"color": "green", "size": "m"}, "price": 20}


@pytest.mark.parametrize("text, expected", [
    ("是不是有红色的？我想要红色", "s1"),  # 是不是 asks "is there"; it is not 不是 ("not")
    ("do you have it in red? red is what I want", "s1"),
    ("我想要红色，不是蓝色", "s1"),  # 不是 on its own still says "not"
    ("I'd take red rather than blue", "s1"),
])
def test_a_question_is_not_a_value_avoided(text, expected):
    chosen, _ = pick_variant(SHIRT, SHIRT_ITEM, text)
    assert chosen == expected


@pytest.mark.parametrize("text", ["no more than 1000 pieces please, in the art theme", "at most 1500 pieces, fewer than 2000",
                                  "I want it with more than 1000 pieces", "不超过1500片的"])
def test_a_limit_said_with_than_avoids_no_value(text):
    avoided, _ = avoided_values(text.lower(), {"pieces": ("500", "1000", "1500", "2000")})
    assert avoided == {}
    avoided, _ = avoided_values("1500 pieces rather than 1000, anything other than 500", {"pieces": ("500", "1000", "1500")})
    assert avoided == {"pieces": {"1000", "500"}}


def test_a_value_is_not_read_inside_a_longer_hyphenated_word():
    from assistant.understand.rules import mentioned, option_text

    assert not mentioned("black", "the black-and-white one please")
    assert not mentioned("white", "an off-white one")
    assert mentioned("black-and-white", "the black-and-white one please")
    assert mentioned("13-inch", "the 13-inch model") and mentioned("1000", "the 1000-piece one")
    # "not the black-and-white one": the plain black shirt is still fine
    chosen, _ = pick_variant(SHIRT, SHIRT_ITEM, "black in size m, not the black-and-white one")
    assert chosen == "s5"
    avoided, _ = avoided_values("anything but black-and-white", {"color": ("black", "black-and-white", "red")})
    assert avoided == {"color": {"black-and-white"}}
    assert mentioned("black", option_text("我要black的"))  # Chinese around an English value is no longer word


@pytest.mark.parametrize("text", [
    "I want the same one I ordered, just in blue",
    "the same model I bought, but in a bigger size",
    "same one that I have ordered but in red",
    "和我下单的那个一样，但是要蓝色",
])
def test_the_item_being_changed_is_not_another_one_owned(text):
    assert like_owned(text) is None


def test_the_same_option_as_the_one_owned_keeps_only_that_option():
    from assistant.understand.rules import wish_like

    owned = {"color": "red", "size": "l"}
    text = "I want the same size as the one I have, but in black"
    wish = wish_like(text, owned)
    assert "l" in wish.split() and "red" not in wish
    chosen, _ = pick_variant(SHIRT, SHIRT_ITEM, wish)
    assert chosen == "s4"  # size L from the item owned, black as said
    assert "red" in wish_like("make it match the one I already have", owned)  # no option named: all of them
    kind = wish_like("the same type as the one I already have", {"type": "gas", "size": "medium"})
    assert "gas" in kind and "medium" in kind  # "the same type" in everyday words: the whole item, not its option "type"


BAG = _product(
    ("b1", {"color": "navy", "size": "small", "material": "nylon"}, 190, True),
    ("b2", {"color": "grey", "size": "medium", "material": "polyester"}, 210, True),
    ("b3", {"color": "navy", "size": "large", "material": "polyester"}, 220, True),
)
BAG_ITEM = {"item_id": "b1", "options": {"color": "navy", "size": "small", "material": "nylon"}, "price": 190}
TEE = _product(  # "medium" is a value of another option here: "medium sized" is still size M
    ("t1", {"color": "red", "size": "S", "weight": "light"}, 20, True),
    ("t2", {"color": "red", "size": "M", "weight": "light"}, 20, True),
    ("t3", {"color": "red", "size": "S", "weight": "medium"}, 20, True),
)


@pytest.mark.parametrize("text", ["I'd like it in a medium size and in polyester", "make it medium-sized, polyester please"])
def test_a_medium_size_is_the_products_own_medium_where_it_has_one(text):
    """τ² train task 72's kind of wish: a bag sized small/medium/large keeps "medium"; a shirt sized S/M/L reads size M."""
    assert pick_variant(BAG, BAG_ITEM, text)[0] == "b2"
    assert pick_variant(TEE, {"item_id": "t1", "options": {"color": "red", "size": "S", "weight": "light"}, "price": 20},
                        "a medium sized one")[0] == "t2"


SPEAKER = _product(
    ("s1", {"battery life": "10 hours", "colour": "red", "water resistance": "no"}, 50, True),
    ("s2", {"battery life": "20 hours", "colour": "red", "water resistance": "no"}, 60, True),
    ("s3", {"battery life": "20 hours", "colour": "blue", "water resistance": "no"}, 58, True),
    ("s4", {"battery life": "5 hours", "colour": "red", "water resistance": "no"}, 40, True),
)
SPEAKER_ITEM = {"item_id": "s1", "options": {"battery life": "10 hours", "colour": "red", "water resistance": "no"}, "price": 50}


@pytest.mark.parametrize("text, expected", [
    ("swap it for the one with the greatest battery life you sell", "s2"),
    ("everything else identical to mine; only the battery should change, and it should be as long as possible", "s2"),
    ("keep the rest the same. The battery life as short as it can go, please", "s4"),
])
def test_an_option_wanted_at_its_extreme_said_other_ways(text, expected):
    chosen, _ = pick_variant(SPEAKER, SPEAKER_ITEM, text)
    assert chosen == expected


JACKET = _product(
    ("j-s", {"color": "green", "size": "S"}, 80, True),
    ("j-m", {"color": "green", "size": "M"}, 80, True),
    ("j-l", {"color": "green", "size": "L"}, 82, True),
    ("j-xl", {"color": "green", "size": "XL"}, 84, True),
    ("j-l-grey", {"color": "grey", "size": "L"}, 82, True),
    ("j-xxl", {"color": "green", "size": "XXL"}, 85, True),
)
JACKET_ITEM = {"item_id": "j-xl", "options": {"color": "green", "size": "XL"}, "price": 84}


@pytest.mark.parametrize("text", [
    "honestly it's a touch large on the shoulders, can we swap it",
    "this jacket turned out a little too big",
    "It runs large. Exchange please.",
    "the fit is slightly on the large side",
    "it feels kinda big on me",
    "有点大，想换一件",
])
def test_a_fit_remark_is_no_size_value_but_the_way_the_choice_goes(text):
    """"a touch large" is how it fits, not size L: the smaller sizes (one each, what else is kept first) are offered."""
    chosen, choices = pick_variant(JACKET, JACKET_ITEM, text, exact=True)
    assert chosen is None and [i for i, _ in choices] == ["j-l", "j-m", "j-s"]


@pytest.mark.parametrize("text", ["我想换一件偏大一点的", "我想换一件有点大的", "I'd prefer it a bit loose, can I swap it?",
                                  "I want one on the big side"])
def test_a_fit_wished_for_is_no_fit_remark(text):
    """A bigger / looser fit asked for on the XL is no "it is too big": the XXL is not left out of what is offered."""
    chosen, choices = pick_variant(JACKET, JACKET_ITEM, text, exact=True)
    offered = [chosen] if chosen else [i for i, _ in choices]
    assert "j-xxl" in offered, (chosen, choices)


@pytest.mark.parametrize(("text", "expected"), [
    ("it fits a bit big, I'd like the medium", "j-m"),     # a size named beside the remark is the size
    ("too big on me, go one size down", "j-l"),            # a comparative says how far
    ("it runs small, so swap it for the next size", "j-xxl"),  # larger: one size that way is the answer
    ("the jacket is a tad tight", "j-xxl"),
    ("I'd like size large instead", "j-l"), ("in L please", "j-l"), ("a large one", "j-l"), ("the large", "j-l"),
    ("the large in grey", "j-l-grey"),
])
def test_sizes_named_or_compared_beside_fit_remarks(text, expected):
    chosen, _ = pick_variant(JACKET, JACKET_ITEM, text, exact=True)
    assert chosen == expected


def test_a_fit_remark_in_a_change_asks_which_smaller_size_with_choices(assistant, state, store):
    """Through the agent: "a tad big" on the XXL T-shirt of a pending order asks which size (the smaller ones), and
    the shopper's answer picks it."""
    assistant.reply_text(state, "my email is yusuf.rossi7301@example.com")
    reply = assistant.reply_text(state, "Could you modify the t-shirt in #W6247578? It fits a tad big.")
    assert state.pending is None and "XL" in reply and ", M," in reply and ", S," in reply and "XXL, cotton, crew neck $" not in reply
    assistant.reply_text(state, "XL please")
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == ["2060066974"]  # black XL cotton crew neck


def _at_option_question(assistant, state, opening: str) -> None:
    assistant.reply_text(state, "my email is yusuf.rossi7301@example.com")
    reply = assistant.reply_text(state, opening)
    assert state.frame is not None and state.pending is None and "become" in reply, reply


HEADPHONES_EXCHANGE = "I want to exchange the headphones in order #W2378156"  # over-ear, wireless, blue; delivered
TSHIRT_CHANGE = "please modify the t-shirt in order #W6247578"  # black, XXL, cotton, crew neck; pending


@pytest.mark.parametrize("opening, text, expected", [
    (HEADPHONES_EXCHANGE, "is white ok?", "9805150490"),  # the one white in stock: on-ear, wireless
    (HEADPHONES_EXCHANGE, "do you have it in red?", "3104857380"),
    (HEADPHONES_EXCHANGE, "is there an in-ear one?", "7184044281"),
    (HEADPHONES_EXCHANGE, "would the black one work?", "7493556126"),  # black, the rest kept
    (HEADPHONES_EXCHANGE, "is the on-ear red one available?", "3104857380"),  # a whole variant
    (HEADPHONES_EXCHANGE, "有白色的吗？", "9805150490"),
    (TSHIRT_CHANGE, "is XL ok?", "2060066974"),  # XL, the rest kept: black, cotton, crew neck
    (TSHIRT_CHANGE, "hmm, is there an XL?", "2060066974"),
    (TSHIRT_CHANGE, "do you have it in purple XL?", "8124970213"),
])
def test_a_yes_no_question_naming_one_choice_in_stock_is_the_pick(assistant, state, opening, text, expected):
    """"is XL ok?" to "what should it become?" names the new option as a question: it is the pick, and the change
    is proposed for confirmation (nothing done yet)."""
    _at_option_question(assistant, state, opening)
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == [expected], reply
    assert "Back to" not in reply and "我们继续" not in reply


@pytest.mark.parametrize("opening, text, key", [
    (HEADPHONES_EXCHANGE, "do you have it in blue?", "0 in stock"),  # no blue one in stock
    (HEADPHONES_EXCHANGE, "is there a blue one?", "0 in stock"),
    (HEADPHONES_EXCHANGE, "is green ok?", "does not come with color “green”"),  # a colour other products come in
    (HEADPHONES_EXCHANGE, "is the red one cheaper?", "$377.97"),  # a comparison: the red ones and their prices
    (HEADPHONES_EXCHANGE, "is the black one or the white one ok?", ""),  # two values of one option: no single pick
    (HEADPHONES_EXCHANGE, "what colours does it come in?", "white"),  # a list asked for
    (HEADPHONES_EXCHANGE, "which is cheapest?", "$344.55"),
    (HEADPHONES_EXCHANGE, "does the white one come with a warranty?", ""),  # another thing asked of it
    (TSHIRT_CHANGE, "is cotton ok?", "“cotton”"),  # the item's own material: no change named
])
def test_a_question_naming_no_single_choice_in_stock_is_answered_and_the_option_asked_again(assistant, state, opening, text, key):
    _at_option_question(assistant, state, opening)
    reply = assistant.reply_text(state, text)
    answer, _, again = reply.partition("Back to")
    assert state.pending is None and state.frame is not None and state.frame.new_item_ids == [], reply
    assert key in answer and "become" in again, reply


@pytest.mark.parametrize("opening, text, expected", [
    (HEADPHONES_EXCHANGE, "is the white pair in stock?", "9805150490"),
    (HEADPHONES_EXCHANGE, "white okay?", "9805150490"),
    (HEADPHONES_EXCHANGE, "do you also have it in red?", "3104857380"),
    (HEADPHONES_EXCHANGE, "白色的可以吗？", "9805150490"),
    (HEADPHONES_EXCHANGE, "红色的行吗？", "3104857380"),
    (HEADPHONES_EXCHANGE, "有没有红色的？", "3104857380"),
    (TSHIRT_CHANGE, "is size XL fine?", "2060066974"),
])
def test_a_question_asking_whether_a_choice_is_there_or_acceptable_is_the_pick(assistant, state, opening, text, expected):
    _at_option_question(assistant, state, opening)
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == [expected], reply


@pytest.mark.parametrize("opening, text", [
    (HEADPHONES_EXCHANGE, "does the red one fade?"),
    (HEADPHONES_EXCHANGE, "does white show dirt easily?"),
    (HEADPHONES_EXCHANGE, "is the white one heavy?"),
    (HEADPHONES_EXCHANGE, "do the white ones come with a case?"),
    (HEADPHONES_EXCHANGE, "is white popular?"),
    (HEADPHONES_EXCHANGE, "do people like the red one?"),
    (HEADPHONES_EXCHANGE, "is in-ear bad for your ears?"),
    (HEADPHONES_EXCHANGE, "are the in-ear ones waterproof?"),
    (HEADPHONES_EXCHANGE, "is the red one as loud?"),
    (HEADPHONES_EXCHANGE, "白色的会掉色吗？"),
    (HEADPHONES_EXCHANGE, "红色的耳机重吗？"),
    (TSHIRT_CHANGE, "is the XL one itchy?"),
])
def test_a_question_about_a_choice_is_answered_not_taken_as_the_pick(assistant, state, opening, text):
    """Only a question asking whether a value is there or acceptable picks it ("is white ok?"); any other predicate
    ("does the red one fade?") asks about it: answered, and the option asked again, nothing proposed."""
    _at_option_question(assistant, state, opening)
    reply = assistant.reply_text(state, text)
    assert state.pending is None and state.frame is not None and state.frame.new_item_ids == [], reply
    assert "Please confirm" not in reply and "请确认" not in reply
    assert "become" in reply or "换成" in reply, reply


@pytest.mark.parametrize("text", [
    "hmm, is the red one refundable?", "is there a restocking fee for the white one?", "is the white one returnable?",
    "is shipping free for the white one?", "红色的可以退款吗？",
])
def test_a_policy_question_naming_a_choice_is_answered_from_the_policy(assistant, state, text):
    _at_option_question(assistant, state, HEADPHONES_EXCHANGE)
    reply = assistant.reply_text(state, text)
    answer, _, again = reply.partition("Back to the exchange" if text.isascii() else "我们继续")
    assert state.pending is None and state.frame is not None and state.frame.new_item_ids == [], reply
    assert ("shop policy" in answer or "政策" in answer) and "comes with color" not in answer, reply
    assert "become" in again or "换成" in again, reply


# A value said with its option's own word ("green lenses", "the frame in black", 绿色镜片) is that option's, even
# where another option of the product has the same value (sunglasses: brown or black frames and lenses).
SUNGLASSES_PENDING = ("mason.lopez2966@example.com", "#W9222585")  # black frame, brown lenses, polarized, plastic
SUNGLASSES_DELIVERED = ("harper.ahmed2148@example.com", "#W9532616")  # brown frame, brown lenses, polarized, plastic


@pytest.mark.parametrize("who, text, expected", [
    (SUNGLASSES_PENDING, "please modify the sunglasses in order {order}: they have brown lenses, I'd like green lenses, otherwise the same",
     "4548300368"),
    (SUNGLASSES_PENDING, "Could you change the sunglasses in {order} to green lenses? Everything else the same.", "4548300368"),
    (SUNGLASSES_PENDING, "订单{order}里的太阳镜现在是棕色镜片，我想换成绿色镜片，其他都一样", "4548300368"),
    (SUNGLASSES_DELIVERED, "I want to exchange the sunglasses in order {order} for a black frame, everything else the same", "4358482460"),
    (SUNGLASSES_DELIVERED, "exchange the sunglasses from {order}: I'd like the frame in black, keep everything else", "4358482460"),
    (SUNGLASSES_DELIVERED, "订单{order}的太阳镜想换货：镜框换成黑色，其他不变", "4358482460"),
    (("yusuf.rossi7301@example.com", "#W6247578"), "please modify the t-shirt in order {order}: size XL, otherwise the same",
     "2060066974"),
    (("yusuf.rossi7301@example.com", "#W2378156"), "exchange the headphones in {order}: black colour, everything else the same",
     "7493556126"),
])
def test_a_value_said_with_its_option_name_changes_that_option_only(assistant, state, who, text, expected):
    """"brown lenses" says what the lenses are, no wish for a brown frame: with the rest kept, the one variant that
    differs only in the option named is proposed."""
    email, order = who
    assistant.reply_text(state, f"my email is {email}")
    reply = assistant.reply_text(state, text.format(order=order))
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == [expected], reply


def test_a_kept_rest_with_no_variant_for_the_named_value_is_said_not_traded(assistant, state):
    """Black lenses with the same black plastic polarized frame: none is available, so nothing is proposed."""
    assistant.reply_text(state, "my email is mason.lopez2966@example.com")
    reply = assistant.reply_text(state, "please modify the sunglasses in order #W9222585: black lenses, otherwise the same")
    assert state.pending is None and "no available" in reply, reply


# A correction of a proposed item change said instead of yes: proposed again with the value it names, the
# other options as proposed (or as the item has them, when those leave no single choice).
HEADPHONES_RED = "I want to exchange the headphones in order #W2378156 for red ones"  # on-ear wireless red proposed
TSHIRT_XL = "please modify the t-shirt in order #W6247578 to size XL"  # black XL cotton crew neck proposed


@pytest.mark.parametrize("opening, text, expected", [
    (HEADPHONES_RED, "actually the black one", "7493556126"),  # over-ear wireless black, as the item is
    (HEADPHONES_RED, "hmm no, white instead", "9805150490"),  # on-ear wireless white, as proposed
    (HEADPHONES_RED, "不对，要黑色的", "7493556126"),
    (TSHIRT_XL, "no wait, make it the purple one", "8124970213"),  # purple XL cotton crew neck
    (TSHIRT_XL, "sorry, I meant size M", "9612497925"),  # the one M in stock
    (TSHIRT_XL, "不对，要紫色的", "8124970213"),
])
def test_a_value_corrected_at_a_proposal_is_proposed_again(assistant, state, opening, text, expected):
    assistant.reply_text(state, "my email is yusuf.rossi7301@example.com")
    assistant.reply_text(state, opening)
    proposed = state.pending.arguments["new_item_ids"]
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == [expected] != proposed, reply


@pytest.mark.parametrize("text, done, again", [
    ("yes", True, None), ("black is fine", True, None), ("ok, black works", True, None),
    ("no", False, None), ("is the red one cheaper?", False, None), ("white is fine", False, "9805150490"),
])
def test_a_yes_or_the_proposed_value_approved_confirms_and_nothing_else_does(assistant, state, store, text, done, again):
    """"black is fine" to the black one proposed is a yes; "white is fine" to it is a correction: proposed again, not run."""
    assistant.reply_text(state, "my email is yusuf.rossi7301@example.com")
    assistant.reply_text(state, "I want to exchange the headphones in order #W2378156 for black ones")
    assert state.pending.arguments["new_item_ids"] == ["7493556126"]
    reply = assistant.reply_text(state, text)
    assert (store.order("#W2378156").status == "exchange requested") is done, reply
    if again:
        assert state.pending is not None and state.pending.arguments["new_item_ids"] == [again], reply


# Said to a proposed item change, a message keeping what the shopper has is a decline, not another value; a correction
# changes only the options it names, and keeps the ones it says are fine (none available: said, the proposal stands).
TSHIRT_L = "change the t-shirt in #W6247578 to size L"  # red L cotton v-neck proposed (the only L)
HEADPHONES_BLACK = "exchange the headphones in #W2378156 for black ones"


@pytest.mark.parametrize("opening, text", [
    (TSHIRT_L, "on second thought the XXL I have now is fine"),
    (TSHIRT_L, "no, the one I have now is fine"),
    (TSHIRT_L, "on second thought I'll keep the crew neck I have"),
    (TSHIRT_L, "算了，我现在的就行"),
    (HEADPHONES_BLACK, "on second thought the blue ones I have are fine"),
])
def test_keeping_what_the_shopper_has_declines_the_proposed_change(assistant, state, opening, text):
    assistant.reply_text(state, "my email is yusuf.rossi7301@example.com")
    assistant.reply_text(state, opening)
    assert state.pending is not None
    reply = assistant.reply_text(state, text)
    assert state.pending is None, reply
    assert "not changed anything" in reply or "没有做任何更改" in reply, reply


@pytest.mark.parametrize("opening, text, expected", [
    (TSHIRT_L, "the size is fine, make it blue though", None),  # no blue L: said, red L still proposed
    (TSHIRT_L, "the size is ok, but I'd like purple", None),
    (TSHIRT_XL, "the size is fine, I'd like purple though", "8124970213"),  # purple XL cotton crew neck
    (TSHIRT_L, "no wait, make it the purple one", "8124970213"),  # no kept option: another value, as before
])
def test_a_correction_keeps_the_options_it_says_are_fine(assistant, state, opening, text, expected):
    assistant.reply_text(state, "my email is yusuf.rossi7301@example.com")
    assistant.reply_text(state, opening)
    proposed = state.pending.arguments["new_item_ids"]
    reply = assistant.reply_text(state, text)
    assert state.pending is not None, reply
    assert state.pending.arguments["new_item_ids"] == ([expected] if expected else proposed), reply
    if expected is None:
        assert "no available T-Shirt" in reply, reply
