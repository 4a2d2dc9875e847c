"""The shop chat and the widget in a real headless Chromium (Debian's chromium + chromedriver,
driven by Selenium). Screenshots go to test-artifacts/.

The app runs under uvicorn on 127.0.0.1 (a free port) with a temp data dir and the fake LLM; the
widget's demo page (examples/shop.html) is served from a second port, so the widget is cross-origin.
"""

from __future__ import annotations

import http.server
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SIGNIN_SECRET = "browser-demo-secret-" + "q" * 32  # the demo store takes the shop's tokens too
QUERY = "I'm looking for hiking boots"  # 19 variants: after a 👎 the next answer still fills all its cards

pytestmark = pytest.mark.slow
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("needs Debian's chromium and chromium-driver (`make browser` installs them)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[test]')")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from eval.stack import free_port  # noqa: E402


class ThreadServer:
    """uvicorn in a background thread, stopped at the end."""

    def __init__(self, app, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def shop_server(port: int, aisle_url: str) -> http.server.ThreadingHTTPServer:
    """Serves examples/shop.html with its widget tag pointing at the test's Aisle server."""
    page = (ROOT / "examples" / "shop.html").read_text(encoding="utf-8").replace("http://127.0.0.1:7860", aisle_url)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def urls(tmp_path_factory, seeded_store):
    from tests.ui_helpers import make_service
    from ui.app import create_app

    app_port, shop_port = free_port(), free_port()
    shop_origin = f"http://127.0.0.1:{shop_port}"
    service = make_service(tmp_path_factory.mktemp("ui-browser"), seeded_store, signin_secret=SIGNIN_SECRET)
    app = create_app(service, allowed_origins=[shop_origin], warm=False)
    base = f"http://127.0.0.1:{app_port}"
    with ThreadServer(app, app_port):
        shop = shop_server(shop_port, base)
        try:
            yield {"app": base, "shop": shop_origin + "/shop.html", "store": service.store}
        finally:
            shop.shutdown()


@pytest.fixture(scope="module")
def driver():
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="aisle-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager must not try to download one.
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(30)
    ARTIFACTS.mkdir(exist_ok=True)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait(driver, condition, seconds: float = 30):
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition()
    )


# Read the page in one script call: Gradio re-renders while a reply streams, so element handles go stale.
def card_ids(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.aisle-card-body')).map(e => e.dataset.itemId)"
    )


def bot_texts(driver) -> list[str]:
    return driver.execute_script("return Array.from(document.querySelectorAll('#aisle-chat .bot')).map(e => e.innerText)")


def widget_settled(driver) -> bool:
    """The widget is not looking the conversation up (its send button is enabled) and has answered every
    message sent (its log is no longer aria-busy)."""
    return driver.execute_script(
        "return !document.querySelector('.aisle-w-send').disabled && !document.getElementById('aisle-widget-log').hasAttribute('aria-busy')"
    )


def ask(driver, message: str) -> None:
    box = driver.find_element(By.CSS_SELECTOR, "#aisle-input textarea")
    box.send_keys(message)
    box.send_keys(Keys.ENTER)


def test_chat_cards_feedback_sign_in_and_order_status(driver, urls):
    driver.get(urls["app"] + "/")
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#aisle-input textarea"), 30)

    ask(driver, QUERY)
    wait(driver, lambda: len(card_ids(driver)) >= 2)  # cards come with the end of the turn
    first = card_ids(driver)
    assert any("$" in t for t in bot_texts(driver))
    driver.save_screenshot(str(ARTIFACTS / "chat-cards.png"))

    # 👎 on the first card: it disappears now, and the next answer does not show it again.
    disliked = first[0]
    driver.execute_script(
        "document.querySelector(`.aisle-card-body[data-item-id='${arguments[0]}']`)"
        ".closest('.aisle-card').querySelector('.aisle-dislike').click()",
        disliked,
    )
    wait(driver, lambda: disliked not in card_ids(driver))
    answers = len(bot_texts(driver))
    ask(driver, QUERY)
    # The answer is complete when its own cards arrive: as many as the first time (the old ones, one gone, are fewer).
    wait(driver, lambda: len(bot_texts(driver)) > answers and "$" in bot_texts(driver)[-1] and len(card_ids(driver)) == len(first))
    assert disliked not in card_ids(driver)
    driver.save_screenshot(str(ARTIFACTS / "chat-after-dislike.png"))

    # Sign in as a demo customer and ask for an order's status.
    user = urls["store"].user("noah_brown_6181")
    order = urls["store"].orders_of(user.user_id)[0]
    driver.find_element(By.CSS_SELECTOR, "#aisle-email textarea, #aisle-email input").send_keys(user.email)
    driver.find_element(By.ID, "aisle-signin").click()
    wait(driver, lambda: user.first_name in driver.find_element(By.ID, "aisle-who").text)
    ask(driver, f"where is my order {order.order_id}?")
    wait(driver, lambda: any(order.order_id in t and order.status in t.lower() for t in bot_texts(driver)))
    driver.save_screenshot(str(ARTIFACTS / "chat-order-status.png"))

    # The page keeps only the session id; a reload gets the conversation back from the database.
    driver.refresh()
    wait(driver, lambda: any(order.order_id in t for t in bot_texts(driver)))
    wait(driver, lambda: user.first_name in driver.find_element(By.ID, "aisle-who").text)


def test_widget_on_another_origin(driver, urls):
    driver.get(urls["shop"])
    wait(driver, lambda: driver.find_elements(By.ID, "aisle-widget-bubble"))
    driver.find_element(By.ID, "aisle-widget-bubble").click()
    box = driver.find_element(By.ID, "aisle-widget-input")
    box.send_keys(QUERY)
    box.send_keys(Keys.ENTER)
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, ".aisle-w-card")) >= 2)
    replies = driver.execute_script("return Array.from(document.querySelectorAll('.aisle-w-bot')).map(e => e.innerText)")
    assert len(replies) == 2 and "$" in replies[-1]  # the greeting, then the answer
    assert not driver.find_elements(By.CSS_SELECTOR, ".aisle-w-error")
    driver.save_screenshot(str(ARTIFACTS / "widget.png"))
