"""Choices as buttons, in a real headless Chromium: the Gradio chat and the widget show the options a
reply asks the shopper to pick from, and a click sends the choice (same servers and helpers as
tests/test_ui_browser.py; skipped the same way without chromium)."""

from __future__ import annotations

import time

import pytest

from tests.test_ui_browser import ARTIFACTS, QUERY, By, Keys, ask, bot_texts, card_ids, driver, urls, wait  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow
EMAIL = "yusuf.rossi7301@example.com"  # two delivered orders; #W2378156 holds Headphones


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
    wait(driver, lambda: any("Yusuf" in t for t in bot_texts(driver)))
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
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, ".aisle-w-bot")) > before and not
             driver.find_element(By.CSS_SELECTOR, ".aisle-w-send").get_attribute("disabled"))  # fmt: skip
    wait(driver, lambda: any(b.startswith("#W2378156") for b in buttons(driver, ".aisle-w-choice")))
    click(driver, ".aisle-w-choice", "#W2378156")
    wait(driver, lambda: any(b.startswith("Headphones") for b in buttons(driver, ".aisle-w-choice")))
    sent = driver.execute_script("return Array.from(document.querySelectorAll('.aisle-w-user')).map(e => e.innerText)")
    assert sent[-1].startswith("#W2378156")  # the label went out as the shopper's message
    driver.save_screenshot(str(ARTIFACTS / "widget-choices.png"))


def test_gradio_quick_dislikes_on_two_cards_both_stick(driver, urls):
    """Two 👎 in one go: the second click leaves before the first answer is back, and neither undoes the
    other (each hides its own card slot)."""
    driver.get(urls["app"] + "/")
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#aisle-input textarea"), 30)
    answers = len(bot_texts(driver))
    ask(driver, QUERY)
    wait(driver, lambda: len(bot_texts(driver)) > answers and len(card_ids(driver)) >= 3)
    first = card_ids(driver)
    driver.execute_script(
        "for (const id of arguments[0]) document.querySelector(`.aisle-card-body[data-item-id='${id}']`)"
        ".closest('.aisle-card').querySelector('.aisle-dislike').click()",
        first[:2],
    )
    wait(driver, lambda: not set(first[:2]) & set(card_ids(driver)))
    time.sleep(1.5)  # any late answer would have put a card back by now
    assert card_ids(driver) == first[2:]
