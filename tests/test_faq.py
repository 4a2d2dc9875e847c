"""Policy questions: answered from the shop policy (only the sections that match, or "the policy doesn't say"),
never taken for the order action they are about; a request for that action still starts it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.faq import PolicyFaq
from assistant.state import DialogueState
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)

QUESTIONS = json.loads((Path(__file__).parent / "fixtures" / "faq_questions.json").read_text(encoding="utf-8"))["questions"]


def signed_in(assistant, state) -> DialogueState:
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assert state.user_id
    return state


def faq_answered(assistant, state, message) -> tuple[str, list]:
    events = list(assistant.respond(state, message))
    return "".join(e.text for e in events if e.kind == "text"), [e.tool for e in events if e.kind == "tool"]


@pytest.mark.parametrize("message", [
    "what's your return window?",
    "how long do I have to return something?",
    "can I cancel an order after it shipped?",
    "do exchanges cost anything?",
    "is there a fee for returns?",
    "how much does it cost to return something?",
    "is it possible to exchange an item for a different colour?",
    "can we cancel an order that is already processed?",
    "ok, and what are the rules for returns?",
    "退货期限是多久？",
    "退货要收费吗？",
    "发货后还能取消订单吗？",
    "换货要多少钱？",
])  # fmt: skip
def test_a_policy_question_about_an_order_action_is_answered_not_started(assistant, state, message):
    signed_in(assistant, state)
    reply, tools = faq_answered(assistant, state, message)
    assert tools == ["answer_faq"], reply
    assert state.frame is None and state.pending is None and not state.queue, reply
    assert "Which order" not in reply and "哪个订单" not in reply


@pytest.mark.parametrize("message, route", [
    ("I want to return my headphones", "return"),
    ("can I return my headphones?", "return"),
    ("please cancel order #W6247578", "cancel_order"),
    ("can you cancel my order #W6247578?", "cancel_order"),
    ("could you exchange the shirt I ordered?", "exchange"),
    ("I'd like to exchange something I bought", "exchange"),
    ("how do I return an item?", "return"),
    ("我要退货", "return"),
    ("我的耳机能退货吗？", "return"),
])  # fmt: skip
def test_a_request_for_an_order_action_still_starts_it(assistant, state, message, route):
    signed_in(assistant, state)
    reply, tools = faq_answered(assistant, state, message)
    assert "answer_faq" not in tools, reply
    assert state.frame is not None and state.frame.route == route, reply


def test_a_policy_question_then_a_request_starts_the_action(assistant, state):
    signed_in(assistant, state)
    assistant.reply_text(state, "do exchanges cost anything?")
    assert state.frame is None
    reply = assistant.reply_text(state, "ok, please cancel order #W6247578")
    assert state.frame is not None and state.frame.route == "cancel_order", reply


@pytest.mark.parametrize("message, section, not_quoted", [
    ("how long does a refund take?", "When do I get my money back after a cancellation?", "return"),
    ("How many days until I get my money back after cancelling?", "When do I get my money back after a cancellation?", "return"),
    ("what's the policy on exchanging for another size?", "Can I exchange an item for a different size or colour?", "cancel"),
    ("取消订单以后多久能退款？", "取消订单后多久退款？", "退货"),
])  # fmt: skip
def test_faq_quotes_the_sections_that_match_and_no_others(assistant, state, message, section, not_quoted):
    reply = assistant.reply_text(state, message)
    quoted = [line for line in reply.splitlines() if line.startswith(("From the shop policy", "根据商店政策"))]
    assert quoted and section in quoted[0], reply
    assert not any(not_quoted in line.lower() for line in quoted), reply


@pytest.mark.parametrize("message", [
    "what is your price match policy?",
    "what's your policy on gift wrapping?",
    "how long is the warranty policy on refurbished goods?",
    "你们的会员积分政策是什么？",
    "开发票的政策是什么？",
])  # fmt: skip
def test_faq_says_so_when_the_policy_does_not_cover_the_question(assistant, state, message):
    reply, tools = faq_answered(assistant, state, message)
    assert tools == ["answer_faq"], reply
    assert "From the shop policy" not in reply and "根据商店政策" not in reply
    assert "doesn't say anything about that" in reply or "没有关于这个问题的内容" in reply


@pytest.fixture(scope="module")
def faq():
    return PolicyFaq.default()


@pytest.mark.parametrize("case", QUESTIONS, ids=[c["q"] for c in QUESTIONS])
def test_faq_search_cut_off_on_made_up_questions(faq, case):
    """The cut-off chosen on these questions: the first quoted section answers the question; none when the policy is silent."""
    sections = [p.section for p in faq.ask(case["q"]).passages]
    if case["sections"]:
        assert sections and sections[0] in case["sections"], sections
    else:
        assert sections == []


# Asking whether one may do an action, plainly or with "please", is asking for it: the action starts (and asks
# which order); a term or a circumstance that qualifies it keeps it a question about the shop's terms.
@pytest.mark.parametrize("message, route", [
    ("can I cancel an order?", "cancel_order"),
    ("can I cancel an order please?", "cancel_order"),
    ("is it possible to cancel an order?", "cancel_order"),
    ("could I cancel the order?", "cancel_order"),
    ("can I still cancel?", "cancel_order"),
    ("can I return an item?", "return"),
    ("can I return something?", "return"),
    ("could I return the order?", "return"),
    ("can I exchange an item?", "exchange"),
    ("may we exchange something, please?", "exchange"),
    ("我可以取消订单吗？", "cancel_order"),
    ("可以退货吗？", "return"),
    ("请问可以换货吗？", "exchange"),
])  # fmt: skip
def test_asking_whether_one_may_do_an_order_action_starts_it(assistant, state, message, route):
    signed_in(assistant, state)
    reply, tools = faq_answered(assistant, state, message)
    assert "answer_faq" not in tools, reply
    assert state.frame is not None and state.frame.route == route, reply


@pytest.mark.parametrize("message", ["can I change the shipping address?", "can I change the address on the order?", "我可以修改收货地址吗？"])
def test_asking_whether_one_may_change_the_address_starts_the_change(assistant, state, message):
    signed_in(assistant, state)
    reply, tools = faq_answered(assistant, state, message)
    assert "answer_faq" not in tools, reply
    assert state.frame is not None and state.frame.route in ("update_address", "modify_order"), reply


@pytest.mark.parametrize("message", ["can I still cancel?", "could I cancel the order?", "ok, can I cancel?", "is it possible to cancel it?"])
def test_asking_to_cancel_the_order_just_talked_about_starts_the_cancellation(assistant, state, message):
    signed_in(assistant, state)
    assistant.reply_text(state, "what's the status of order #W6247578?")
    assert state.frame is None
    reply, tools = faq_answered(assistant, state, message)
    assert "answer_faq" not in tools, reply
    assert state.frame is not None and state.frame.route == "cancel_order", reply


@pytest.mark.parametrize("follow_up, order_id", [
    ("#W6247578", "#W6247578"),
    ("the one with the espresso machine", "#W4776164"),
    ("the second one", "#W4776164"),
])  # fmt: skip
def test_the_answer_after_asking_whether_one_may_cancel_goes_on_with_the_cancellation(assistant, state, follow_up, order_id):
    signed_in(assistant, state)
    assistant.reply_text(state, "can I cancel an order?")
    reply = assistant.reply_text(state, follow_up)
    assert state.frame is not None and state.frame.route == "cancel_order" and state.frame.order_id == order_id, reply


def test_the_item_named_after_asking_whether_one_may_exchange_goes_on_with_the_exchange(assistant, state):
    signed_in(assistant, state)
    assistant.reply_text(state, "can I exchange an item?")
    reply = assistant.reply_text(state, "the headphones")
    assert state.frame is not None and state.frame.route == "exchange" and state.frame.order_id == "#W2378156", reply


@pytest.mark.parametrize("message", [
    "can I return an item without the receipt?",
    "could I cancel an order once it's been processed?",
    "can I return something after a month?",
    "can I exchange for a different product?",
    "can I return an opened item?",
    "can I cancel an order if it has already shipped?",
    "可以在发货后修改地址吗？",
    "订单签收以后还能退货吗？",
])  # fmt: skip
def test_asking_whether_an_action_is_allowed_in_a_circumstance_is_answered_from_the_policy(assistant, state, message):
    signed_in(assistant, state)
    reply, tools = faq_answered(assistant, state, message)
    assert tools == ["answer_faq"], reply
    assert state.frame is None and state.pending is None, reply


def test_a_terms_question_about_the_order_just_talked_about_is_answered_from_the_policy(assistant, state):
    signed_in(assistant, state)
    assistant.reply_text(state, "what's the status of order #W2378156?")
    reply, tools = faq_answered(assistant, state, "how long do I have to return the order?")
    assert tools == ["answer_faq"], reply
    assert state.frame is None, reply


@pytest.mark.parametrize("message, heading", [
    ("what is your price match policy?", "How do I cancel an order?"),
    ("你们的会员积分政策是什么？", "如何取消订单？"),
])  # fmt: skip
def test_faq_none_lists_the_questions_the_policy_answers_from_its_sections(assistant, state, message, heading):
    reply = assistant.reply_text(state, message)
    sections = PolicyFaq.default().topics["zh" if heading == "如何取消订单？" else "en"]
    assert heading in sections and all(f"- {s}" in reply for s in sections), reply
