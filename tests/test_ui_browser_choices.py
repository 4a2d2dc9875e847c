"""Choices as buttons, in a real headless Chromium: the Gradio chat and the widget show the options a
reply asks the shopper to pick from, and a click sends the choice (same servers and helpers as
tests/test_ui_browser.py; skipped the same way without chromium)."""

from __future__ import annotations

import time

import pytest

from tests.test_ui_browser import ARTIFACTS, QUERY, SIGNIN_SECRET, By, Keys, ask, bot_texts, card_ids, driver, urls, wait, widget_settled  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
EMAIL = "yusuf.rossi7301@example.com"  # two delivered orders; #W2378156 holds Headphones
USER_ID = "yusuf_rossi_9620"  # EMAIL's customer


def buttons(driver, selector: str) -> list[str]:
    """The labels of the buttons the shopper can see (hidden ones of the chat's pool are left out)."""
    return driver.execute_script(
        f"return Array.from(document.querySelectorAll({selector!r})).filter(e => e.offsetParent !== null).map(e => e.innerText.trim())"
    )


def click(driver, selector: str, starts: str) -> None:
    driver.execute_script(
        f"Array.from(document.querySelectorAll({selector!r})).find(e => e.offsetParent !== null && e.innerText.trim().startsWith(arguments[0])).click()", starts
    )


def test_gradio_chat_shows_choices_as_buttons(driver, urls):
    driver.get(urls["app"] + "/")
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#aisle-input textarea"), 30)
    ask(driver, f"my email is {EMAIL}")
    wait(driver, lambda: any("Yusuf" in t for t in bot_texts(driver)))  # the next message may go while this reply streams
    ask(driver, "I want to return something")
    wait(driver, lambda: any(b.startswith("#W2378156") for b in buttons(driver, "#aisle-choices button")))
    driver.save_screenshot(str(ARTIFACTS / "chat-choices.png"))
    click(driver, "#aisle-choices button", "#W2378156")
    # the click sent the choice: the next question is about that order's items, with their buttons
    wait(driver, lambda: any(b.startswith("Headphones") for b in buttons(driver, "#aisle-choices button")))
    assert any("#W2378156" in t and "Which items" in t for t in bot_texts(driver))
    click(driver, "#aisle-choices button", "Headphones")
    # the only refund method the policy allows (the card it was paid with) is taken, so the next choice is yes / no
    wait(driver, lambda: "Yes" in buttons(driver, "#aisle-choices button"))
    assert any("Mastercard ending 2478" in t and "Shall I go ahead" in t for t in bot_texts(driver))


def test_widget_shows_choices_as_buttons(driver, urls):
    driver.get(urls["shop"])
    wait(driver, lambda: driver.find_elements(By.ID, "aisle-widget-bubble"))
    driver.find_element(By.ID, "aisle-widget-bubble").click()
    box = driver.find_element(By.ID, "aisle-widget-input")
    for message in (f"my email is {EMAIL}", "I want to return something"):
        before = len(driver.find_elements(By.CSS_SELECTOR, ".aisle-w-bot"))
        box.send_keys(message)
        box.send_keys(Keys.ENTER)
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, ".aisle-w-bot")) > before and widget_settled(driver))
    wait(driver, lambda: any(b.startswith("#W2378156") for b in buttons(driver, ".aisle-w-choice")))
    click(driver, ".aisle-w-choice", "#W2378156")
    wait(driver, lambda: any(b.startswith("Headphones") for b in buttons(driver, ".aisle-w-choice")))
    sent = driver.execute_script("return Array.from(document.querySelectorAll('.aisle-w-user')).map(e => e.innerText)")
    assert sent[-1].startswith("#W2378156")  # the label went out as the shopper's message
    driver.save_screenshot(str(ARTIFACTS / "widget-choices.png"))


def test_gradio_quick_dislikes_on_two_cards_both_stick(driver, urls):
    """Two 👎 in one go: the second click leaves before the first answer is back, and neither undoes the
    other (each hides its own card slot)."""
    fresh_chat(driver, urls)  # a reload restores the last reply's cards: start where none are shown
    answers = len(bot_texts(driver))
    ask(driver, QUERY)
    wait(driver, lambda: len(bot_texts(driver)) > answers and len(card_ids(driver)) >= 3 and settled(driver))
    first = card_ids(driver)
    driver.execute_script(
        "for (const id of arguments[0]) document.querySelector(`.aisle-card-body[data-item-id='${id}']`)"
        ".closest('.aisle-card').querySelector('.aisle-dislike').click()",
        first[:2],
    )
    wait(driver, lambda: not set(first[:2]) & set(card_ids(driver)))
    time.sleep(1.5)  # any late answer would have put a card back by now
    assert card_ids(driver) == first[2:]


def fresh_chat(driver, urls) -> None:
    """The chat on a new conversation: the page keeps its session id in localStorage, so clear it."""
    driver.get(urls["app"] + "/")
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#aisle-input textarea"), 30)


def settled(driver) -> bool:
    """No event of the page is running (Gradio marks the outputs of a running one): the turn is saved."""
    return driver.execute_script("return document.querySelector('.generating, .pending, .progress-text, .eta-bar') === null")


def reload(driver) -> None:
    driver.refresh()
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#aisle-input textarea"), 30)


def test_gradio_reload_restores_the_open_choices(driver, urls):
    """A reload shows the buttons of the question still open, and a click on one continues the task; once
    the task is over, a reload shows no buttons."""
    fresh_chat(driver, urls)
    ask(driver, f"my email is {EMAIL}")
    wait(driver, lambda: any("Yusuf" in t for t in bot_texts(driver)))  # the next message may go while this reply streams
    ask(driver, "I want to return something")
    wait(driver, lambda: any(b.startswith("#W2378156") for b in buttons(driver, "#aisle-choices button")))
    offered = buttons(driver, "#aisle-choices button")

    reload(driver)
    wait(driver, lambda: buttons(driver, "#aisle-choices button") == offered)
    click(driver, "#aisle-choices button", "#W2378156")
    wait(driver, lambda: any(b.startswith("Headphones") for b in buttons(driver, "#aisle-choices button")))
    assert any("#W2378156" in t and "Which items" in t for t in bot_texts(driver))

    reload(driver)  # the next question's buttons, not the first one's
    wait(driver, lambda: any(b.startswith("Headphones") for b in buttons(driver, "#aisle-choices button")))
    assert not any(b.startswith("#W") for b in buttons(driver, "#aisle-choices button"))
    click(driver, "#aisle-choices button", "Headphones")
    wait(driver, lambda: "No" in buttons(driver, "#aisle-choices button"))
    reload(driver)
    wait(driver, lambda: buttons(driver, "#aisle-choices button") == ["Yes", "No"])
    driver.save_screenshot(str(ARTIFACTS / "chat-choices-after-reload.png"))
    answers = len(bot_texts(driver))
    click(driver, "#aisle-choices button", "No")
    wait(driver, lambda: len(bot_texts(driver)) > answers and bot_texts(driver)[-1].strip() and settled(driver))
    assert not buttons(driver, "#aisle-choices button")

    reload(driver)  # the task is over: nothing to pick from
    wait(driver, lambda: len(bot_texts(driver)) >= answers + 1)
    time.sleep(1.5)  # the page's load event has run by now
    assert not buttons(driver, "#aisle-choices button")


def test_gradio_reload_restores_the_last_cards_less_disliked(driver, urls):
    fresh_chat(driver, urls)
    ask(driver, QUERY)
    wait(driver, lambda: len(card_ids(driver)) >= 3)
    first = card_ids(driver)
    driver.execute_script(
        "document.querySelector(`.aisle-card-body[data-item-id='${arguments[0]}']`)"
        ".closest('.aisle-card').querySelector('.aisle-dislike').click()",
        first[0],
    )
    wait(driver, lambda: first[0] not in card_ids(driver))

    reload(driver)
    wait(driver, lambda: card_ids(driver) == first[1:])
    # the restored cards take feedback like the shown ones: a 👎 on one hides it, for the next reload too
    driver.execute_script(
        "document.querySelector(`.aisle-card-body[data-item-id='${arguments[0]}']`)"
        ".closest('.aisle-card').querySelector('.aisle-dislike').click()",
        first[1],
    )
    wait(driver, lambda: card_ids(driver) == first[2:])
    reload(driver)
    wait(driver, lambda: card_ids(driver) == first[2:])

    answers = len(bot_texts(driver))
    ask(driver, "what is your return policy?")  # an answer without cards: the old ones go
    wait(driver, lambda: len(bot_texts(driver)) > answers and bot_texts(driver)[-1].strip() and settled(driver))
    assert not card_ids(driver)
    reload(driver)
    wait(driver, lambda: len(bot_texts(driver)) > answers)
    time.sleep(1.5)
    assert not card_ids(driver)


def test_widget_reload_restores_the_conversation_cards_and_open_choices(driver, urls):
    import jwt

    def open_widget(fresh: bool = False, signed: bool = False) -> None:
        """The shop's page again; `signed`: the customer is logged in there, so the page signs them in."""
        driver.get(urls["shop"])
        if fresh:
            driver.execute_script("localStorage.clear()")
            driver.refresh()
        wait(driver, lambda: driver.find_elements(By.ID, "aisle-widget-bubble"))
        if signed:
            token = jwt.encode({"sub": USER_ID, "exp": int(time.time()) + 900}, SIGNIN_SECRET, algorithm="HS256")
            driver.execute_script("return window.AisleWidget.signIn(arguments[0])", token)
        driver.find_element(By.ID, "aisle-widget-bubble").click()

    def say(message: str) -> None:
        before = len(driver.find_elements(By.CSS_SELECTOR, ".aisle-w-bot"))
        box = driver.find_element(By.ID, "aisle-widget-input")
        box.send_keys(message)
        box.send_keys(Keys.ENTER)
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, ".aisle-w-bot")) > before and widget_settled(driver))

    def widget_cards() -> list[str]:
        return driver.execute_script("return Array.from(document.querySelectorAll('.aisle-w-card')).map(e => e.dataset.itemId)")

    def sent() -> list[str]:
        return driver.execute_script("return Array.from(document.querySelectorAll('.aisle-w-user')).map(e => e.innerText)")

    open_widget(fresh=True)
    say(QUERY)
    wait(driver, lambda: len(widget_cards()) >= 2)
    shown = widget_cards()
    open_widget()  # the page again: the messages so far and the last reply's cards
    wait(driver, lambda: widget_cards() == shown)
    assert sent() == [QUERY]

    for message in (f"my email is {EMAIL}", "I want to return something"):
        say(message)
    wait(driver, lambda: any(b.startswith("#W2378156") for b in buttons(driver, ".aisle-w-choice")))
    offered = buttons(driver, ".aisle-w-choice")
    # The page proves it is the same customer (the shop's token): the open question's buttons come back;
    # the cards of an earlier reply do not.
    open_widget(signed=True)
    wait(driver, lambda: buttons(driver, ".aisle-w-choice") == offered)
    assert not widget_cards() and sent()[-1] == "I want to return something"
    driver.save_screenshot(str(ARTIFACTS / "widget-choices-after-reload.png"))
    click(driver, ".aisle-w-choice", "#W2378156")
    wait(driver, lambda: any(b.startswith("Headphones") for b in buttons(driver, ".aisle-w-choice")))
    assert sent()[-1].startswith("#W2378156")

    # Typing an email in the chat proved nothing: a page without the customer's token starts afresh.
    open_widget()
    wait(driver, lambda: not driver.find_element(By.CSS_SELECTOR, ".aisle-w-send").get_attribute("disabled"))
    assert not sent() and not buttons(driver, ".aisle-w-choice") and "#W2378156" not in driver.find_element(By.ID, "aisle-widget-log").text


def test_gradio_sign_out_clears_the_chat_cards_and_buttons_at_once(driver, urls):
    fresh_chat(driver, urls)
    ask(driver, f"my email is {EMAIL}")
    wait(driver, lambda: any("Yusuf" in t for t in bot_texts(driver)) and settled(driver))
    ask(driver, QUERY)
    wait(driver, lambda: len(card_ids(driver)) >= 2 and settled(driver), 60)
    driver.find_element(By.ID, "aisle-signout").click()
    wait(driver, lambda: not bot_texts(driver) and not card_ids(driver), 5)  # no next turn needed
    assert "Not signed in" in driver.find_element(By.ID, "aisle-who").text

    # Signing in as another customer: nothing of the first one's conversation stays on screen either.
    ask(driver, f"my email is {EMAIL}")
    wait(driver, lambda: any("Yusuf" in t for t in bot_texts(driver)) and settled(driver))
    ask(driver, "I want to return something")
    wait(driver, lambda: any(b.startswith("#W2378156") for b in buttons(driver, "#aisle-choices button")) and settled(driver), 60)
    other = urls["store"].user("noah_brown_6181")
    driver.find_element(By.CSS_SELECTOR, "#aisle-email textarea, #aisle-email input").send_keys(other.email)
    driver.find_element(By.ID, "aisle-signin").click()
    wait(driver, lambda: other.first_name in driver.find_element(By.ID, "aisle-who").text, 5)
    wait(driver, lambda: not bot_texts(driver) and not buttons(driver, "#aisle-choices button"), 5)
    driver.save_screenshot(str(ARTIFACTS / "chat-after-sign-out.png"))
