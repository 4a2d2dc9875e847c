"""Order actions as declared flows (assistant/flows/): the one status table, the form loop's queue of
tasks, a question in the middle of a flow, a correction at confirmation. Through the public API."""

from __future__ import annotations

import pytest
import yaml

from assistant.agent import PROMPTS, Assistant
from assistant.flows import FLOWS, SLOTS, routes_for
from assistant.flows.form import FormLoop
from assistant.llm.fake import FakeLLM
from assistant.orders import ACTIONS, OrderService, PolicyError
from assistant.state import DialogueState
from assistant.tools import TOOLS
from assistant.understand import RuleReader
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)
from tests.fakes import KeywordClassifier


def test_every_flow_is_declared_completely():
    """A flow entry names a real write tool, slots the loop can fill, and replies that exist in en and zh."""
    replies = yaml.safe_load((PROMPTS / "replies.yaml").read_text(encoding="utf-8"))
    for flow in FLOWS.values():
        assert flow.tool in TOOLS and TOOLS[flow.tool].writes, flow.name
        assert set(flow.slots) <= set(SLOTS) and all(hasattr(FormLoop, f"_fill_{s}") for s in flow.slots)
        for lang in ("en", "zh"):
            r = replies[lang]
            assert flow.confirm in r and all(r.get(key) for key in flow.ask.values()), (flow.name, lang)
            assert flow.name in r["verbs"] and flow.name in r["flow_names"], (flow.name, lang)
            if "payment_method_id" in flow.slots:
                assert flow.name in r["purposes"], (flow.name, lang)
        if flow.on_order:
            assert flow.statuses == ACTIONS[flow.tool].statuses  # read from OrderService's table, not repeated


def test_the_one_status_table_refuses_cancelling_a_modified_order(assistant, state, store):
    assert not OrderService.allows("cancel_pending_order", "pending (item modified)")
    assert routes_for("pending (item modified)") == {"payment", "update_address"}
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to exchange the t-shirt in order #W6247578 for a blue one in size M")
    assistant.reply_text(state, "yes")  # the one card on file pays: proposed without asking
    assert store.order("#W6247578").status == "pending (item modified)"
    reply = assistant.reply_text(state, "please cancel order #W6247578, I no longer need it")
    assert state.pending is None and "only pending orders can be cancelled" in reply, reply
    assert store.order("#W6247578").status == "pending (item modified)"
    with pytest.raises(PolicyError, match="only pending orders can be cancelled"):
        OrderService(store).cancel_pending_order("yusuf_rossi_9620", "#W6247578", "no longer needed")


def test_several_requests_in_one_message_become_a_queue(assistant, state, store):
    """τ² train task 78's request: once the first is done, the next is proposed without being asked again."""
    assistant.reply_text(state, "My email is yara.muller9246@example.com.")
    assistant.reply_text(state, "For order #W5056519, I want to change the address to be the same as order #W8277957. "
                                "Finally, I want to cancel order #W5995614 because I ordered by mistake.")  # fmt: skip
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address"
    assert [t.order_id for t in state.queue] == ["#W5995614"]
    reply = assistant.reply_text(state, "yes")
    assert "the other thing you asked for" in reply, reply
    assert state.pending is not None and state.pending.arguments == {"order_id": "#W5995614", "reason": "ordered by mistake"}
    assistant.reply_text(state, "yes")
    assert store.order("#W5995614").status == "cancelled" and store.order("#W5056519").address.city == "San Diego"
    assert state.queue == []


def test_a_product_question_in_the_middle_of_a_flow_is_answered_and_the_flow_resumes(assistant, state, store):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    ask = assistant.reply_text(state, "I want to exchange the mechanical keyboard in order #W2378156")
    assert "become" in ask and state.frame is not None and state.frame.flow == "exchange"
    reply = assistant.reply_text(state, "Is the bluetooth speaker waterproof?")
    assert "Back to the exchange" in reply and "Mechanical Keyboard" in reply.split("Back to the exchange")[1], reply
    assert state.frame is not None and state.frame.flow == "exchange" and state.pending is None
    assistant.reply_text(state, "clicky switches, no backlight, full size; charge my credit card")
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == ["7706410293"]


def test_a_correction_at_confirmation_re_proposes(assistant, state, store):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to return the headphones and the vacuum cleaner from order #W2378156, "
                                "refund to the original payment method")  # fmt: skip
    assert state.pending is not None and sorted(state.pending.arguments["item_ids"]) == ["4202497723", "4602305039"]
    reply = assistant.reply_text(state, "actually, only the headphones")
    assert "not changed anything" in reply and state.pending is not None, reply
    assert state.pending.arguments["item_ids"] == ["4202497723"] and "Please confirm" in reply
    assert store.order("#W2378156").status == "delivered"


class _RecordingReader(RuleReader):
    """Stands in for the reader (tested by its own helper's tests) to check where the flows ask it."""

    name = "recording"

    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def pick(self, question, message, options, many=False):
        self.asked.append((question, [o.id for o in options]))
        return self.answer(options)


def test_the_reader_is_asked_where_rules_leave_several_orders_before_the_shopper(store, state):
    reader = _RecordingReader(lambda options: [options[-1].id])
    assistant = Assistant(store, llm=FakeLLM(lambda m: "ok"), classifier=KeywordClassifier(), reader=reader)
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, "please cancel my order, I no longer need it")
    question, ids = reader.asked[0]
    assert question == "which order" and set(ids) == {"#W6247578", "#W4776164"}  # the pending ones: the one table
    assert state.pending is not None and state.pending.arguments["order_id"] == ids[-1], reply

    unsure = _RecordingReader(lambda options: None)  # no pick: the shopper is asked, with the options as choices
    assistant = Assistant(store, llm=FakeLLM(lambda m: "ok"), classifier=KeywordClassifier(), reader=unsure)
    other = DialogueState(session_id="flows-2")
    assistant.reply_text(other, f"my email is {YUSUF_EMAIL}")
    events = list(assistant.respond(other, "please cancel my order, I no longer need it"))
    choices = [c for e in events if e.kind == "choices" for c in e.choices]
    assert unsure.asked and {c.id for c in choices} == {"#W6247578", "#W4776164"} and other.pending is None


def test_the_pricier_one_said_at_confirmation_moves_the_return_to_the_order_holding_it(assistant, state, store):
    """Two orders each hold a tablet: "no, the more expensive one" is the other order's tablet, not a new task."""
    assistant.reply_text(state, "My name is Chen Silva and my zip code is 46281.")
    assistant.reply_text(state, "I want to return the cheaper of my two tablets, refund to credit card")
    assert state.pending is not None and state.pending.arguments["order_id"] == "#W3069600"
    reply = assistant.reply_text(state, "no wait, the more expensive one, and put the money on my gift card")
    assert state.pending is not None and state.pending.arguments == {
        "order_id": "#W9571698", "item_ids": ["6065192424"], "payment_method_id": "gift_card_7250692"}, reply
    assistant.reply_text(state, "yes")
    assert store.order("#W9571698").status == "return requested" and store.order("#W3069600").status == "delivered"
    assert state.queue == [] and state.pending is None


def test_these_things_after_a_task_stay_on_its_order(assistant, state, store):
    """"Cancel those two items too" after a return: about the returned items, never the one pending order."""
    assistant.reply_text(state, "my email is lucas.brown9344@example.com")
    assistant.reply_text(state, "please return the bookshelf and the jigsaw puzzle from the same order, to my original card")
    assistant.reply_text(state, "yes")
    reply = assistant.reply_text(state, "and cancel those two items too")
    assert state.pending is None and "#W6239298" in reply, reply
    assert store.order("#W4860251").status == "pending"


def test_no_longer_needing_items_undoes_the_orders_holding_them(assistant, state, store):
    assistant.reply_text(state, "Hi. I no longer need the hiking boots, watch, keyboard, charger, jacket and running shoes, "
                                "cancel the whole orders please.")  # fmt: skip
    reply = assistant.reply_text(state, "james.kim1995@example.com")
    assert state.pending is not None and state.pending.arguments["order_id"] == "#W3289292", reply
    assert [t.order_id for t in state.queue] == ["#W9722559"]


def test_a_fallback_after_every_order_was_refused_takes_the_one_order_it_can(assistant, state, store):
    assistant.reply_text(state, "I'm Noah Patel, zip 10108")
    refused = assistant.reply_text(state, "I'd like to return my office stuff")
    assert "none of your orders can be returned" in refused
    assistant.reply_text(state, "if returning isn't possible, then please change the shipping address to my NYC place instead")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address"
    assert state.pending.arguments["order_id"] == "#W1845024" and state.pending.arguments["city"] == "New York"


def test_the_new_home_is_the_address_said_earlier(assistant, state, store):
    assistant.reply_text(state, "my email is sophia.martin4832@example.com")
    assistant.reply_text(state, "I moved: my new address is 12 Birch Road, Austin, TX 73301")
    assistant.reply_text(state, "no")  # whatever was proposed for it
    assistant.reply_text(state, "please change the address of my pending order to the new home")
    assistant.reply_text(state, "#W1603792")  # two pending orders: which one was asked
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address"
    assert state.pending.arguments["address1"] == "12 Birch Road"


def test_no_longer_needing_a_delivered_item_is_a_return(assistant, state, store):
    assistant.reply_text(state, "I don't need the pet bed anymore")
    reply = assistant.reply_text(state, "My name is Chen Silva and my zip code is 46281.")
    assert state.pending is not None and state.pending.tool == "return_delivered_order_items", reply
    assert state.pending.arguments["order_id"] == "#W9571698" and state.pending.arguments["item_ids"] == ["7381052709"]


def test_an_item_change_asked_with_an_address_change_of_the_same_order_is_carried_out_after_it(assistant, state, store):
    """τ² train tasks 103/104 ask this; other words: "its item" of a one-item order is that item."""
    assistant.reply_text(state, "olivia.sanchez1894@example.com")
    assistant.reply_text(state, "Please send my pending order to the address on my profile, and switch its item to white.")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address"
    assert state.pending.arguments["order_id"] == "#W5101035" and state.pending.arguments["city"] == "Philadelphia"
    reply = assistant.reply_text(state, "yes")
    assert "the other thing you asked for" in reply, reply
    if state.pending is None:  # a gift card and PayPal on file: asked which pays the difference
        reply = assistant.reply_text(state, "PayPal")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    assert state.pending.arguments["order_id"] == "#W5101035" and state.pending.arguments["new_item_ids"] == ["2645006275"]
    assistant.reply_text(state, "yes")
    order = store.order("#W5101035")
    assert order.status == "pending (item modified)" and order.address.city == "Philadelphia"
    assert store.user("olivia_sanchez_2914").address.city == "Philadelphia"  # "to my profile address" changes the order only


def test_the_item_named_first_and_the_address_second_are_both_done(assistant, state, store):
    assistant.reply_text(state, "fatima.li2845@example.com")
    assistant.reply_text(state, "Can you swap my pending order's item to silver, and then ship that order to my default address?")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address"
    reply = assistant.reply_text(state, "yes")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    assert state.pending.arguments["item_ids"] == ["6700049080"] and state.pending.arguments["new_item_ids"] == ["6117189161"]


def test_another_request_said_instead_of_yes_waits_and_the_proposal_stays(assistant, state, store):
    assistant.reply_text(state, "fatima.li2845@example.com")
    assistant.reply_text(state, "ship my pending order to my default address please")
    proposed = state.pending
    assert proposed is not None and proposed.tool == "modify_pending_order_address"
    reply = assistant.reply_text(state, "oh and I'd also like to change the action camera to silver")
    assert "Noted" in reply and "Please confirm" in reply, reply
    assert state.pending is not None and state.pending.arguments == proposed.arguments
    assert [(t.route, t.order_id) for t in state.queue] == [("exchange", "#W5267498")]
    assert store.order("#W5267498").address.city != "San Francisco"  # nothing done without the yes
    reply = assistant.reply_text(state, "yes")
    assert store.order("#W5267498").address.city == "San Francisco"
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    assert state.pending.arguments["new_item_ids"] == ["6117189161"]


def test_a_payment_and_items_correction_at_confirmation_is_proposed_again(assistant, state, store):
    """τ² train task 72 in other words: two item changes and the address; at confirmation, another method and one item."""
    assistant.reply_text(state, "I'm Ivan Khan, zip 28243.")
    assistant.reply_text(state, "For my order that went to Washington DC, please switch the desk lamp to black and the backpack "
                                "to medium size, polyester (grey if there are several colours), and send that order to my default address.")  # fmt: skip
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address"
    assert state.pending.arguments["order_id"] == "#W5270061" and state.pending.arguments["city"] == "Charlotte"
    assistant.reply_text(state, "yes")
    if state.pending is None:
        assistant.reply_text(state, "the gift card")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items"
    assert len(state.pending.arguments["item_ids"]) == 2
    reply = assistant.reply_text(state, "Actually use PayPal, and just the backpack please.")
    assert state.pending is not None and "Please confirm" in reply, reply
    assert state.pending.arguments["item_ids"] == ["2492465580"] and state.pending.arguments["new_item_ids"] == ["5917587651"]
    assert state.pending.arguments["payment_method_id"] == "paypal_7729105"
    assistant.reply_text(state, "yes")
    assert store.order("#W5270061").status == "pending (item modified)"
    assert store.user(store.order("#W5270061").user_id).address.city == "Charlotte"  # the default address was not "changed"


@pytest.mark.parametrize("opening,correction", [
    ("Hello, I'm Ivan Khan, zip 28243. The order that went to Washington DC should come to my default address. Could "
     "you also adjust the backpack to medium size in polyester, and the desk lamp to black?",
     "Hmm, let's pay with PayPal, and also just change the backpack."),
    ("Hi, I'm Ivan Khan, zip 28243. Please send my Washington DC order to my default address, and switch its backpack "
     "to a medium polyester one and the desk lamp to black.", "Oh, I also want to only modify the backpack, paid with PayPal."),
])  # fmt: skip
def test_a_correction_at_another_proposal_amends_the_item_change_asked_first(assistant, state, store, opening, correction):
    """τ² train task 72 in other words: the address and two item changes in the first message; at the address
    proposal "only <item>, and <method>". The queued item change keeps the options said first; the correction
    narrows it and picks the method."""
    assistant.reply_text(state, opening)
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address"
    reply = assistant.reply_text(state, correction)
    assert "Noted" in reply and state.pending is not None and state.pending.tool == "modify_pending_order_address", reply
    assert [t.route for t in state.queue] == ["exchange"]  # one item change: the first words' one, amended
    reply = assistant.reply_text(state, "yes")
    assert store.order("#W5270061").address.city == "Charlotte"
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    assert state.pending.arguments["item_ids"] == ["2492465580"]  # the backpack only, not the lamp
    assert state.pending.arguments["new_item_ids"] == ["5917587651"]  # medium, polyester: the words said first
    assert state.pending.arguments["payment_method_id"] == "paypal_7729105"
    assistant.reply_text(state, "yes")
    assert store.order("#W5270061").status == "pending (item modified)"


def test_cancelling_the_things_just_returned_is_said_to_be_done(assistant, state, store):
    """τ² train tasks 103/104: "cancel these two things" of delivered items this conversation returned means that return."""
    assistant.reply_text(state, "mia.garcia2723@example.com")
    assistant.reply_text(state, "return the water bottle and the action camera from #W5490111 to the original payment method")
    assistant.reply_text(state, "yes")
    assert store.order("#W5490111").status == "return requested"
    reply = assistant.reply_text(state, "so I'd like to cancel both of them")
    assert "already done" in reply and "returned" in reply and state.pending is None, reply


def test_the_item_of_an_order_is_the_one_whose_product_comes_in_the_value_asked(assistant, state):
    """An order with a tea kettle and a water bottle: "the item" in blue can only be the bottle (kettles have no colour)."""
    assistant.reply_text(state, "juan.garcia2336@example.com")
    reply = assistant.reply_text(state, "For #W1013897, please change the item to blue")
    # the bottle is the item; no blue one keeps its other options, so the blue ones are offered (not the items)
    assert state.frame is not None and state.frame.item_ids == ["3229676465"], reply
    assert state.choices and all(c.kind == "option" for c in state.choices)
    assistant.reply_text(state, "the plastic one")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items"
    assert state.pending.arguments["item_ids"] == ["3229676465"]


def test_an_address_and_an_item_change_of_one_order_in_chinese(assistant, state, store):
    """Whichever the message is routed to first, the other request of the same order follows it."""
    assistant.reply_text(state, "olivia.sanchez1894@example.com")
    assistant.reply_text(state, "请把我待处理订单寄到我的默认地址，并且把它的商品换成白色")
    for _ in range(4):  # a yes to each proposal; PayPal when asked which method pays the difference
        if state.pending is None and state.frame is None:
            break
        assistant.reply_text(state, "是的" if state.pending is not None else "PayPal")
    order = store.order("#W5101035")
    assert order.address.city == "Philadelphia" and order.status == "pending (item modified)"
    assert [i.item_id for i in order.items] == ["2645006275"]


def test_the_item_of_an_order_whose_items_share_the_kind_of_option_asked_is_asked(assistant, state):
    """Several items of #W2378156 have a colour: "the item" in a colour only one of them comes in is still asked."""
    assistant.reply_text(state, "yusuf.rossi7301@example.com")
    reply = assistant.reply_text(state, "in #W2378156 I'd like the item swapped for a gold one")
    assert state.pending is None and "Which items" in reply, reply


def _choice_ids(evs) -> list[str]:
    return [c.id for e in evs if e.kind == "choices" for c in e.choices]


def test_a_question_instead_of_a_new_option_is_answered_and_the_option_asked_again(assistant, state, store):
    """The open "what should it become?" question does not swallow a question about the options: it is answered
    from the item's own variants, and the option question is asked again with its choices; a request said as a
    question is still a pick."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    asked = list(assistant.respond(state, "please modify the t-shirt in order #W6247578"))
    offered = _choice_ids(asked)
    assert state.frame is not None and state.frame.flow == "modify_items" and offered, asked

    sizes = list(assistant.respond(state, "Which sizes is it sold in?"))
    text = "".join(e.text for e in sizes if e.kind == "text")
    answer, again = text.split("Back to changing the items")
    assert "size" in answer and all(s in answer for s in ("XL", "XXL", "M")), text
    assert "become" in again and _choice_ids(sizes) == offered  # the same question, the same buttons
    assert state.pending is None and state.frame.new_item_ids == []

    purple = assistant.reply_text(state, "how pricey is the purple one?")
    answer = purple.split("Back to changing the items")[0]
    assert "$49.67" in answer and "$53.48" in answer and "purple" in answer, purple  # both purple variants, with prices
    assert state.pending is None and state.frame.new_item_ids == []

    cheapest = assistant.reply_text(state, "ok. and which one of these has the lowest price?")
    assert cheapest.split("Back to changing the items")[0].count("$46.66") == 2, cheapest  # the red L, said and listed first
    assert state.pending is None

    assistant.reply_text(state, "could I have the purple XL instead?")
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == ["8124970213"], state.pending


def test_a_policy_question_while_a_flow_waits_is_answered_from_the_faq_and_the_flow_resumes(assistant, state, store):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to return something")
    assert state.frame is not None and state.frame.route == "return" and state.frame.order_id is None
    reply = assistant.reply_text(state, "how many days do I get for returning something?")
    assert "From the shop policy" in reply and "Back to the return" in reply, reply
    assert "Which order" in reply.split("Back to the return")[1]
    assert state.frame is not None and state.frame.route == "return" and state.pending is None
    assistant.reply_text(state, "order #W2378156")
    assistant.reply_text(state, "the headphones")
    assert state.pending is not None and state.pending.arguments["item_ids"] == ["4202497723"]


def test_a_question_about_the_options_in_chinese_is_answered_and_the_option_asked_again(assistant, state, store):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "please modify the t-shirt in order #W6247578")
    reply = assistant.reply_text(state, "有哪些尺码？")
    assert "size" in reply and "XXL" in reply and "我们继续" in reply, reply
    assert state.pending is None and state.frame is not None and state.frame.new_item_ids == []


def test_a_chinese_pick_asking_leave_answers_the_option_question(assistant, state):
    """"换紫色XL的可以吗？" ("could I switch to the purple XL?") to "what should it become?" is the pick, not a question
    about the options (review of the merged round)."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "please modify the t-shirt in order #W6247578")
    assert state.frame is not None and state.frame.flow == "modify_items"
    reply = assistant.reply_text(state, "换紫色XL的可以吗？")
    assert state.pending is not None and state.pending.arguments["new_item_ids"] == ["8124970213"], reply
