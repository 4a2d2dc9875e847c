"""A shopper who sends several messages while a slow reply streams, then reloads the page, in a real
headless Chromium: the messages not answered yet wait in the database (the conversation's outbox), so
the reloaded page shows them at once and answers them, each once and in the order sent; another reload
shows the same conversation. The fake LLM streams slowly here (same servers and helpers as
tests/test_ui_browser_typing.py; skipped the same way without chromium)."""

from __future__ import annotations

import pytest

from tests.test_ui_browser import By, ask, bot_texts, driver, wait  # noqa: F401  (fixtures)
from tests.test_ui_browser_choices import fresh_chat, reload, settled
from tests.test_ui_browser_typing import texts, type_in, urls  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
# Small talk: the fake LLM echoes it word by word, slowly (~8 s), so the reload comes while it streams.
SLOW = "how is your day going so far, a busy morning at the counter or a quiet one for you and the team?"
THEN = ["do you like music?", "what is your return policy?", "and your favourite colour?"]  # sent while it streams


def users(driver) -> list[str]:
    """The shopper's messages shown, in order (messages that follow each other share one bubble)."""
    return "\n\n".join(texts(driver, "#aisle-chat .user")).split("\n\n")


def answered_once_in_order(driver, sent: list[str]) -> bool:
    bots = [b.strip() for b in bot_texts(driver)]
    return users(driver) == sent and len(bots) == len(sent) and all(bots) and bots[-1] == "echo: " + sent[-1]


@pytest.mark.parametrize("leave", ["reload", "close the tab"])
def test_messages_waiting_when_the_page_is_reloaded_are_answered_once_in_order(driver, urls, leave):
    fresh_chat(driver, urls)
    ask(driver, "hello")
    wait(driver, lambda: bot_texts(driver) and bot_texts(driver)[-1].strip() and settled(driver))
    ask(driver, SLOW)
    wait(driver, lambda: bot_texts(driver)[-1].startswith("echo:"))  # the reply is being written
    for message in THEN:
        type_in(driver, "#aisle-input textarea", message)
    sent = ["hello", SLOW, *THEN]
    # each shows waiting (read back from the database) under the reply being written
    wait(driver, lambda: users(driver) == sent, 5)
    assert not bot_texts(driver)[-1].strip().endswith("team?")  # still streaming: nothing after it answered

    if leave == "reload":
        driver.refresh()
    else:  # another page in the same tab, then back: the chat page is gone meanwhile
        driver.get("about:blank")
        driver.get(urls["app"] + "/")
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#aisle-input textarea"), 30)
    # the messages not answered yet are shown at once, before their answers
    wait(driver, lambda: users(driver) == sent, 5)
    assert len([b for b in bot_texts(driver) if b.strip()]) < len(sent)

    wait(driver, lambda: answered_once_in_order(driver, sent) and settled(driver), 90)
    bots = [b.strip() for b in bot_texts(driver)]
    assert bots[1] == "echo: " + SLOW and bots[2] == "echo: " + THEN[0] and "return" in bots[3].lower()

    reload(driver)  # the conversation as saved: each message once, in order, with its reply, and none waiting
    wait(driver, lambda: answered_once_in_order(driver, sent))
    assert settled(driver) and [b.strip() for b in bot_texts(driver)] == bots
