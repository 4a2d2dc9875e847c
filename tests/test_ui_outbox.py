"""The chat page's outbox, through `ChatService` on a real store database: messages sent and not answered
yet wait in the database with their conversation, so a reload, a closed tab or a restart (another
`ChatService` on the same database) loses none, and each is answered once, in the order sent, even when
two pages (the one reloaded and the one it became) answer the same conversation at the same time. The
page itself is tested in a real browser in tests/test_ui_browser_outbox.py."""

from __future__ import annotations

import pytest

from tests.ui_helpers import make_service

EMAIL = "yusuf.rossi7301@example.com"


@pytest.fixture(scope="module")
def service(tmp_path_factory, seeded_store):
    return make_service(tmp_path_factory.mktemp("ui-outbox"), seeded_store)


def another_process(service):
    """A second service on the same database: another `aisle serve` process, or the same after a restart."""
    from assistant.agent import Assistant
    from assistant.llm.fake import FakeLLM
    from tests.fakes import KeywordClassifier
    from ui.service import ChatService

    return ChatService(Assistant(service.store, llm=FakeLLM(), classifier=KeywordClassifier(), services=service.assistant.services))


def texts(service, sid: str) -> list[str]:
    return [w.text for w in service.waiting(sid)]


def said(service, sid: str) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in service.session(sid).history]


def drain(service, sid: str) -> list[str]:
    """Answers the waiting messages as the page does; the outcome of each turn."""
    outcomes = []
    while (turn := service.answer_waiting(sid)) is not None:
        assert len(outcomes) < 20, "the same messages answered again and again"
        for _ in turn.events:
            pass
        outcomes.append(turn.outcome)
    return outcomes


@pytest.mark.parametrize("messages", [
    ["hello", "how is your day going?", "what is your return policy?"],
    ["你好", "退货政策是什么？", "do you like music?", "thanks"],
])  # fmt: skip
def test_waiting_messages_are_answered_once_in_the_order_sent(service, messages):
    sid = service.create_session().session_id
    for message in messages:
        service.post(sid, message)
    assert texts(service, sid) == messages
    assert drain(service, sid) == ["answered"] * len(messages)
    history = said(service, sid)
    assert [c for r, c in history if r == "user"] == messages and [r for r, _ in history] == ["user", "assistant"] * len(messages)
    assert texts(service, sid) == [] and service.session(sid).turns == len(messages)
    assert service.answer_waiting(sid) is None


def test_each_turn_knows_the_messages_waiting_after_it(service):
    sid = service.create_session().session_id
    for message in ("hello", "do you like music?", "thanks"):
        service.post(sid, message)
    turn = service.answer_waiting(sid)
    assert turn.message.text == "hello" and [w.text for w in turn.later] == ["do you like music?", "thanks"]
    next(turn.events)  # the reply is being written: a message sent now waits after the others
    service.post(sid, "bye")
    for _ in turn.events:
        pass
    assert service.answer_waiting(sid).later[-1].text == "bye"


def test_a_turn_left_unfinished_by_a_reload_is_answered_again_by_the_next_page(service):
    """The page's turn stops where the reload cut it (Gradio stops pulling its events): nothing of it was
    saved, so the reloaded page, or a restarted server, finds the message still waiting, first in line."""
    sid = service.create_session().session_id
    service.post(sid, "hello")
    drain(service, sid)
    for message in ("how is your day going?", "what is your return policy?"):
        service.post(sid, message)
    cut = service.answer_waiting(sid)
    next(cut.events)
    assert texts(service, sid) == ["how is your day going?", "what is your return policy?"] and len(said(service, sid)) == 2

    restarted = another_process(service)
    assert drain(restarted, sid) == ["answered", "answered"]
    assert [c for r, c in said(restarted, sid) if r == "user"] == ["hello", "how is your day going?", "what is your return policy?"]
    assert said(restarted, sid)[3] == ("assistant", "echo: how is your day going?")


@pytest.mark.parametrize("first", ["old page", "new page"])
def test_two_pages_answering_one_message_save_it_once(service, first):
    """The page before a reload may still finish its turn while the page after it answers the same message:
    whichever saves first answers it; the other's answer is refused ("conflict") and the page redraws."""
    sid = service.create_session().session_id
    for message in ("hello", "do you like music?"):
        service.post(sid, message)
    pages = {"old page": service.answer_waiting(sid), "new page": another_process(service).answer_waiting(sid)}
    assert pages["old page"].message == pages["new page"].message
    second = "new page" if first == "old page" else "old page"
    for name in (first, second):
        for _ in pages[name].events:
            pass
    assert (pages[first].outcome, pages[second].outcome) == ("answered", "conflict")
    assert texts(service, sid) == ["do you like music?"]
    assert drain(service, sid) == ["answered"]
    assert [c for r, c in said(service, sid) if r == "user"] == ["hello", "do you like music?"]


def test_a_save_finding_its_message_answered_already_is_refused(service):
    """Whatever the timing of the reads, an answer is saved only with its message leaving the outbox."""
    from assistant.sessions import SessionConflict

    sid = service.create_session().session_id
    waiting = service.post(sid, "hello")
    drain(service, sid)
    state, version = service.sessions.load(sid)  # read after it was answered: the version alone would pass
    with pytest.raises(SessionConflict):
        service.sessions.save(state, version, answered=waiting.message_id)
    assert service.sessions.load(sid)[1] == version  # nothing saved


def test_a_turn_that_breaks_takes_its_message_out_so_the_next_ones_are_answered(service):
    from assistant.agent import Assistant
    from ui.service import ChatService

    class Broken:
        def predict(self, text):
            raise RuntimeError("model file corrupt")

    broken = ChatService(Assistant(service.store, llm=None, classifier=Broken(), services=service.assistant.services))
    sid = broken.create_session().session_id
    for message in ("tell me a joke", "and another"):
        broken.post(sid, message)
    turn = broken.answer_waiting(sid)
    assert "something went wrong" in "".join(e.text for e in turn.events) and turn.outcome == "failed"
    assert texts(broken, sid) == ["and another"]  # not tried again at every reload
    assert drain(service, sid) == ["answered"]


def test_signing_out_or_in_as_another_customer_drops_what_was_waiting(service):
    from ui.schemas import SignIn

    sid = service.create_session().session_id
    service.post(sid, "where is my order?")
    service.sign_in(sid, SignIn(email=EMAIL))  # the same person, now signed in: it still waits for them
    assert texts(service, sid) == ["where is my order?"]
    service.sign_in(sid, SignIn(email=EMAIL))
    assert texts(service, sid) == ["where is my order?"]
    other = service.demo_users(2)[0].email
    assert other != EMAIL
    service.sign_in(sid, SignIn(email=other))  # another customer: not answered for them
    assert texts(service, sid) == []
    service.post(sid, "cancel my order")
    service.sign_out(sid)  # the next person at this screen: not answered for them either
    assert texts(service, sid) == [] and service.answer_waiting(sid) is None


def test_waiting_messages_go_with_their_conversation(service):
    from ui.service import SessionNotFound

    sid = service.create_session().session_id
    service.post(sid, "hello")
    service.delete_session(sid)
    assert texts(service, sid) == []
    with pytest.raises(SessionNotFound):
        service.post(sid, "hello")
    with pytest.raises(SessionNotFound):
        service.post("no-such-session", "hello")


def test_messages_of_other_conversations_are_not_mixed_in(service):
    one, two = (service.create_session().session_id for _ in range(2))
    service.post(one, "hello")
    service.post(two, "do you like music?")
    service.post(one, "thanks")
    assert texts(service, one) == ["hello", "thanks"] and texts(service, two) == ["do you like music?"]
    drain(service, one)
    assert texts(service, two) == ["do you like music?"] and said(service, two) == []
