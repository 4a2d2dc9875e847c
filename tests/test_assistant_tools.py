"""The tool gate: validation, authentication, one user per conversation, confirmation."""

from __future__ import annotations

import pytest

from assistant.protocol import ProtocolError, Reply, ToolCall, parse_model_output
from assistant.tools import TOOLS, ToolContext, ToolRunner, as_langchain_tools, is_affirmative


@pytest.fixture
def store(seeded_store, tmp_path):
    return seeded_store.copy_to(f"sqlite:///{tmp_path / 'tools.db'}")


@pytest.fixture
def runner(store):
    return ToolRunner(ToolContext(store=store, session_id="s1"))


def test_unknown_tool_and_bad_arguments_are_refused(runner):
    assert not runner.run("drop_tables", {}).ok
    result = runner.run("get_product_details", {"product_id": 123, "extra": 1})
    assert not result.ok and "get_product_details" in result.message


def test_account_tools_need_identification(runner):
    result = runner.run("get_order_details", {"order_id": "#W2378156"})
    assert not result.ok and "identify yourself" in result.message


def test_identification_then_own_orders_only(runner):
    assert runner.run("find_user", {"first_name": "Yusuf", "last_name": "Rossi", "zip": "19122"}).ok
    assert runner.run("get_order_details", {"order_id": "#W2378156"}).ok
    other = runner.run("get_order_details", {"order_id": "#W2611340"})
    assert not other.ok and "on your account" in other.message
    assert "james" not in other.message.lower()


def test_one_user_per_conversation(runner):
    assert runner.run("find_user", {"email": "yusuf.rossi7301@example.com"}).ok
    second = runner.run("find_user", {"email": "noah.brown7922@example.com"})
    assert not second.ok and "one customer" in second.message
    assert runner.ctx.user_id == "yusuf_rossi_9620"


def test_write_tools_never_run_directly(runner, store):
    runner.run("find_user", {"email": "yusuf.rossi7301@example.com"})
    result = runner.run("cancel_pending_order", {"order_id": "#W6247578", "reason": "no longer needed"})
    assert not result.ok and "confirmation" in result.message
    assert store.order("#W6247578").status == "pending"


@pytest.mark.parametrize("answer", ["no", "yes but change the reason", "maybe", "", "不是"])
def test_anything_but_an_explicit_yes_does_not_confirm(runner, store, answer):
    runner.run("find_user", {"email": "yusuf.rossi7301@example.com"})
    pending = runner.propose("cancel_pending_order", {"order_id": "#W6247578", "reason": "no longer needed"}, "cancel")
    assert runner.confirm(pending, answer) is None
    assert store.order("#W6247578").status == "pending"


@pytest.mark.parametrize("answer", ["yes", "Yes, please.", "确认", "好的"])
def test_explicit_yes_confirms(runner, store, answer):
    runner.run("find_user", {"email": "yusuf.rossi7301@example.com"})
    pending = runner.propose("cancel_pending_order", {"order_id": "#W6247578", "reason": "no longer needed"}, "cancel")
    result = runner.confirm(pending, answer)
    assert result is not None and result.ok
    assert store.order("#W6247578").status == "cancelled"


def test_confirmation_cannot_reach_another_users_order(runner, store):
    runner.run("find_user", {"email": "yusuf.rossi7301@example.com"})
    with pytest.raises(Exception, match="on your account"):
        runner.propose("cancel_pending_order", {"order_id": "#W2611340", "reason": "no longer needed"}, "x")


def test_session_fields_come_from_the_session():
    tool = TOOLS["recommend"]
    assert "user_id" not in tool.model_schema()["properties"]
    args = tool.validate({"user_id": "someone_else", "k": 3}, {"user_id": "me", "session_id": "s"})
    assert args.user_id == "me"


def test_every_tool_has_a_prompt_line_and_schema():
    for tool in TOOLS.values():
        line = tool.prompt_line()
        assert line.startswith(tool.name + "(")
        assert tool.model_schema()["type"] == "object"


def test_langchain_tools_keep_the_gates(runner, store):
    tools = {t.name: t for t in as_langchain_tools(runner)}
    assert set(tools) == set(TOOLS)
    tools["find_user"].invoke({"email": "yusuf.rossi7301@example.com"})
    out = tools["cancel_pending_order"].invoke({"order_id": "#W6247578", "reason": "no longer needed"})
    assert "needs_confirmation" in out
    assert store.order("#W6247578").status == "pending"


def test_affirmative_phrases():
    assert is_affirmative("yes") and is_affirmative("Yes, go ahead!") and is_affirmative("是的，确认")
    assert not is_affirmative("yes, but not the blue one") and not is_affirmative("no") and not is_affirmative("不要")
    # a closing with only an acknowledgement thanks and ends; with a plain yes it still confirms
    assert not is_affirmative("ok thanks, that's all") and not is_affirmative("Okay, that is all.") and not is_affirmative("sure, nothing else")
    assert is_affirmative("yes, that's all") and is_affirmative("ok, go ahead") and is_affirmative("okay")


def test_protocol_parses_and_repairs():
    call = parse_model_output('```json\n{"tool": "get_order_details", "arguments": {"order_id": "#W2378156",}}\n```')
    assert call == ToolCall(tool="get_order_details", arguments={"order_id": "#W2378156"})
    call = parse_model_output("{'tool': 'compare_products', 'arguments': {'ids': ['1', '2']}}")
    assert isinstance(call, ToolCall) and call.arguments["ids"] == ["1", "2"]
    assert parse_model_output('Sure! {"reply": "Hello"}') == Reply(reply="Hello")
    truncated = parse_model_output('{"tool": "answer_faq", "arguments": {"question": "refunds?"')
    assert isinstance(truncated, ToolCall)


@pytest.mark.parametrize(
    "text",
    [
        "no json here",
        '{"tool": "rm_rf", "arguments": {}}',
        '{"tool": "cancel_pending_order", "arguments": {"order_id": "#W1", "reason": "bored"}}',
        '{"tool": "compare_products", "arguments": {"ids": ["only-one"]}}',
        "[1, 2, 3]",
    ],
)
def test_protocol_refuses_invalid_calls(text):
    with pytest.raises(ProtocolError):
        parse_model_output(text)
