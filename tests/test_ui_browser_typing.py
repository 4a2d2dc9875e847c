"""A shopper who types fast, in a real headless Chromium: messages sent while a reply still streams are
kept and answered after it, in order, once each, and a draft in the box is never wiped (the Gradio chat
and the widget). The app's fake LLM streams slowly here, so a small-talk reply takes a few seconds to
write (same servers and helpers as tests/test_ui_browser.py; skipped the same way without chromium)."""

from __future__ import annotations

import pytest

from tests.test_ui_browser import ThreadServer, ask, bot_texts, By, Keys, driver, shop_server, wait, widget_settled  # noqa: F401  (fixtures)
from tests.test_ui_browser_choices import fresh_chat, settled

pytestmark = pytest.mark.slow
SLOW = "how is your day going?"  # small talk: the fake LLM echoes it word by word, slowly
THEN = ["what is your return policy?", "do you like music?"]  # sent while the reply to SLOW is being written
DRAFT = "and one more thing"  # typed, not sent


@pytest.fixture(scope="module")
def urls(tmp_path_factory, seeded_store):
    from assistant.llm.fake import FakeLLM
    from eval.stack import free_port
    from tests.ui_helpers import make_service
    from ui.app import create_app

    app_port, shop_port = free_port(), free_port()
    service = make_service(tmp_path_factory.mktemp("ui-typing"), seeded_store, llm=FakeLLM(delay_s=0.4))
    app = create_app(service, allowed_origins=[f"http://127.0.0.1:{shop_port}"], warm=False)
    base = f"http://127.0.0.1:{app_port}"
    with ThreadServer(app, app_port):
        shop = shop_server(shop_port, base)
        try:
            yield {"app": base, "shop": f"http://127.0.0.1:{shop_port}/shop.html"}
        finally:
            shop.shutdown()


def texts(driver, selector: str) -> list[str]:
    return driver.execute_script(f"return Array.from(document.querySelectorAll({selector!r})).map(e => e.innerText.trim())")


def type_in(driver, selector: str, text: str, enter: bool = True) -> None:
    box = driver.find_element(By.CSS_SELECTOR, selector)
    box.send_keys(text)
    if enter:
        box.send_keys(Keys.ENTER)


def answered_in_order(users: list[str], bots: list[str], sent: list[str]) -> bool:
    """The messages `sent`, each once and in order, and as many replies, the last one finished."""
    return users == sent and len(bots) == len(sent) and bots[-1] == "echo: " + sent[-1]


def test_gradio_messages_sent_while_a_reply_streams_are_answered_after_it(driver, urls):
    fresh_chat(driver, urls)
    ask(driver, "hello")
    wait(driver, lambda: bot_texts(driver) and bot_texts(driver)[-1].strip() and settled(driver))
    ask(driver, SLOW)
    wait(driver, lambda: bot_texts(driver)[-1].startswith("echo:"))  # the reply is being written
    type_in(driver, "#aisle-input textarea", THEN[0])
    driver.find_element(By.ID, "aisle-surprise").click()  # every way of sending waits in the same line
    type_in(driver, "#aisle-input textarea", THEN[1])
    assert not bot_texts(driver)[-1].strip().endswith("going?")  # all went out before the reply was finished
    # each shows at once, waiting under the reply being written, and the box is free for the next one
    sent = ["hello", SLOW, THEN[0], "Surprise me", THEN[1]]
    wait(driver, lambda: all(any(m in t for t in texts(driver, "#aisle-chat .user")) for m in sent[2:]), 5)  # (in one bubble if they follow each other)
    type_in(driver, "#aisle-input textarea", DRAFT, enter=False)

    wait(driver, lambda: answered_in_order(texts(driver, "#aisle-chat .user"), bot_texts(driver), sent) and settled(driver), 60)
    bots = [t.strip() for t in bot_texts(driver)]
    assert bots[1] == "echo: " + SLOW and "return" in bots[2].lower() and "$" in bots[3]  # the surprise: products
    assert driver.execute_script("return document.querySelector('#aisle-input textarea').value") == DRAFT

    driver.refresh()  # the conversation as saved: each message once, in order, with its reply
    wait(driver, lambda: answered_in_order(texts(driver, "#aisle-chat .user"), bot_texts(driver), sent))


def test_widget_messages_sent_while_a_reply_streams_are_answered_after_it(driver, urls):
    def open_widget() -> None:
        driver.get(urls["shop"])
        wait(driver, lambda: driver.find_elements(By.ID, "aisle-widget-bubble"))
        driver.find_element(By.ID, "aisle-widget-bubble").click()

    def replies() -> list[str]:
        return texts(driver, ".aisle-w-bot")[1:]  # after the greeting

    driver.get(urls["shop"])
    driver.execute_script("localStorage.clear()")
    open_widget()
    type_in(driver, "#aisle-widget-input", "hello")
    wait(driver, lambda: len(replies()) == 1 and replies()[0] and widget_settled(driver))
    type_in(driver, "#aisle-widget-input", SLOW)
    wait(driver, lambda: len(replies()) == 2 and replies()[-1].startswith("echo:"))
    sent = ["hello", SLOW, THEN[0], "Surprise me", THEN[1]]
    for message in sent[2:]:
        type_in(driver, "#aisle-widget-input", message)
    assert not replies()[1].endswith("going?")
    wait(driver, lambda: texts(driver, ".aisle-w-user")[-3:] == sent[-3:], 5)  # shown at once
    type_in(driver, "#aisle-widget-input", DRAFT, enter=False)

    wait(driver, lambda: answered_in_order(texts(driver, ".aisle-w-user"), replies(), sent) and widget_settled(driver), 60)
    assert replies()[1] == "echo: " + SLOW and "return" in replies()[2].lower()
    # each reply (and its cards) right under its own message, above the next one
    kinds = driver.execute_script("return Array.from(document.getElementById('aisle-widget-log').children).map(e => e.className)")
    assert [k.split()[-1] for k in kinds] == ["aisle-w-bot", *["aisle-w-user", "aisle-w-bot"] * 4, "aisle-w-cards", "aisle-w-user", "aisle-w-bot"]
    assert driver.find_element(By.ID, "aisle-widget-input").get_attribute("value") == DRAFT

    open_widget()  # the conversation as saved
    wait(driver, lambda: answered_in_order(texts(driver, ".aisle-w-user"), replies(), sent))
