"""The widget's sign-in token and its error on a refused origin, and /docs rendering offline, in a
real headless Chromium (the setup of tests/test_ui_browser.py; skipped the same way without it).

Each Aisle app runs under uvicorn on 127.0.0.1 with the fake LLM; the shop page comes from a
second port, so the widget is cross-origin, as on a real shop.
"""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from tests.test_ui_browser import ARTIFACTS, ThreadServer, driver, free_port, wait  # noqa: F401  (driver: a fixture)
from tests.test_ui_browser import widget_settled as settled  # the stored conversation is looked up, every message answered

ROOT = Path(__file__).resolve().parents[1]
SECRET = "browser-test-secret-" + "z" * 32
USER_ID = "noah_brown_6181"
OTHER_ID = "yusuf_rossi_9620"

pytestmark = pytest.mark.slow
By = pytest.importorskip("selenium.webdriver.common.by").By
Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys


def serve_page(port: int, html: str, others: dict[str, str] | None = None) -> http.server.ThreadingHTTPServer:
    """`html` at every path but those of `others` (path → page): pages of one origin share its localStorage."""
    pages = {path: page.encode() for path, page in (others or {}).items()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path, html.encode())
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


def shop_page(aisle_url: str, attributes: str = "") -> str:
    page = (ROOT / "examples" / "shop.html").read_text(encoding="utf-8").replace("http://127.0.0.1:7860", aisle_url)
    return page.replace('data-title="Corner Store help"', f'data-title="Corner Store help" {attributes}')


@pytest.fixture(scope="module")
def shop(tmp_path_factory, seeded_store):
    """An Aisle in production mode (demo sign-in off, tokens on) and two shop pages: one on an
    allowed origin whose widget carries a sign-in token, one on an origin Aisle does not allow."""
    import jwt

    from assistant.agent import Assistant
    from tests.ui_helpers import make_service
    from ui.app import create_app
    from ui.service import ChatService

    base = make_service(tmp_path_factory.mktemp("ui-browser-signin"), seeded_store)
    assistant = Assistant(base.store, llm=base.assistant.llm, classifier=base.assistant.classifier,
                          services=base.assistant.services, demo_sign_in=False)  # fmt: skip
    app_port, good_port, bad_port = free_port(), free_port(), free_port()
    good = f"http://127.0.0.1:{good_port}"
    app = create_app(ChatService(assistant, signin_secret=SECRET), allowed_origins=[good], gradio=False, warm=False)
    aisle = f"http://127.0.0.1:{app_port}"
    tokens = {user: jwt.encode({"sub": user, "exp": int(time.time()) + 900}, SECRET, algorithm="HS256") for user in (USER_ID, OTHER_ID)}
    # The shop's other pages: one for the other customer, one without a token (nobody logged in), one whose
    # script signs shoppers in itself (the test calls AisleWidget.signIn as that script would).
    others = {"/other.html": shop_page(aisle, f'data-token="{tokens[OTHER_ID]}"'), "/plain.html": shop_page(aisle),
              "/async.html": shop_page(aisle, 'data-sign-in="page"')}  # fmt: skip
    with ThreadServer(app, app_port):
        pages = [serve_page(good_port, shop_page(aisle, f'data-token="{tokens[USER_ID]}"'), others), serve_page(bad_port, shop_page(aisle))]
        try:
            yield {"aisle": aisle, "signed": good + "/shop.html", "refused": f"http://127.0.0.1:{bad_port}/shop.html",
                   "store": base.store, "shop": good, "tokens": tokens}  # fmt: skip
        finally:
            for page in pages:
                page.shutdown()


def say(driver, message: str) -> None:
    box = driver.find_element(By.ID, "aisle-widget-input")
    box.send_keys(message)
    box.send_keys(Keys.ENTER)


def texts(driver, css: str) -> list[str]:
    return driver.execute_script("return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText)", css)


def test_widget_names_the_setting_when_its_origin_is_refused(driver, shop):
    driver.get(shop["refused"])
    wait(driver, lambda: driver.find_elements(By.ID, "aisle-widget-bubble"))
    driver.find_element(By.ID, "aisle-widget-bubble").click()
    say(driver, "running shoes")
    wait(driver, lambda: texts(driver, ".aisle-w-error"))
    error = texts(driver, ".aisle-w-error")[0]
    assert "AISLE_ALLOWED_ORIGINS" in error and "Failed to fetch" not in error, error
    driver.save_screenshot(str(ARTIFACTS / "widget-refused-origin.png"))


def test_widget_signs_the_shops_customer_in_with_its_token(driver, shop):
    order = shop["store"].orders_of(USER_ID)[0]
    driver.get(shop["signed"])
    wait(driver, lambda: driver.find_elements(By.ID, "aisle-widget-bubble"))
    driver.find_element(By.ID, "aisle-widget-bubble").click()
    say(driver, f"where is my order {order.order_id}?")
    wait(driver, lambda: any(order.order_id in t and order.status in t.lower() for t in texts(driver, ".aisle-w-bot")))
    assert not texts(driver, ".aisle-w-error")
    # The page's own script signs the customer out when they log out of the shop.
    driver.execute_script("return window.AisleWidget.signOut()")
    say(driver, f"where is my order {order.order_id}?")
    wait(driver, lambda: any("sign in on the shop's website" in t for t in texts(driver, ".aisle-w-bot")))
    driver.save_screenshot(str(ARTIFACTS / "widget-token-sign-in.png"))


def open_widget(driver, url: str, fresh: bool = False) -> None:
    driver.get(url)
    if fresh:
        driver.execute_script("localStorage.clear()")
        driver.refresh()
    wait(driver, lambda: driver.find_elements(By.ID, "aisle-widget-bubble"))
    driver.find_element(By.ID, "aisle-widget-bubble").click()


def stored_session(driver, shop) -> dict:
    """The widget's conversation as the server has it."""
    import httpx

    sid = driver.execute_script("return localStorage.getItem(arguments[0])", "aisle-session:" + shop["aisle"])
    return httpx.get(f"{shop['aisle']}/api/sessions/{sid}").json()


def signed_in_conversation(driver, shop) -> str:
    """On the page of the logged-in customer (its token in the tag), a conversation about one of their orders."""
    order = shop["store"].orders_of(USER_ID)[0]
    open_widget(driver, shop["signed"], fresh=True)
    say(driver, f"where is my order {order.order_id}?")
    wait(driver, lambda: any(order.order_id in t and order.status in t.lower() for t in texts(driver, ".aisle-w-bot")))
    wait(driver, lambda: settled(driver))
    return order.order_id


def shows_nothing_of(driver, order_id: str) -> bool:
    return texts(driver, ".aisle-w-bot") and not texts(driver, ".aisle-w-user") and order_id not in driver.find_element(By.ID, "aisle-widget-log").text


def test_widget_shows_a_signed_in_conversation_again_only_to_the_same_customer(driver, shop):
    order_id = signed_in_conversation(driver, shop)
    open_widget(driver, shop["signed"])  # the shop's next page, the customer still logged in: the conversation
    wait(driver, lambda: any(order_id in t for t in texts(driver, ".aisle-w-user")))
    assert stored_session(driver, shop)["user"]["user_id"] == USER_ID

    open_widget(driver, shop["shop"] + "/other.html")  # another customer logged in on this device: a fresh start
    wait(driver, lambda: settled(driver) and stored_session(driver, shop)["user"]["user_id"] == OTHER_ID)
    assert shows_nothing_of(driver, order_id) and stored_session(driver, shop)["history"] == []


def test_widget_starts_fresh_and_signs_out_when_the_page_has_no_token(driver, shop):
    """The customer logged out of the shop (or their shop session expired) and the shop never called signOut():
    the next person on the device sees only the greeting, and the conversation can no longer act for the customer."""
    order_id = signed_in_conversation(driver, shop)
    open_widget(driver, shop["shop"] + "/plain.html")
    wait(driver, lambda: settled(driver))
    assert shows_nothing_of(driver, order_id)
    info = stored_session(driver, shop)
    assert info["user"] is None and info["history"] == []
    say(driver, f"where is my order {order_id}?")
    wait(driver, lambda: any("sign in on the shop's website" in t for t in texts(driver, ".aisle-w-bot")))
    driver.save_screenshot(str(ARTIFACTS / "widget-fresh-without-token.png"))


def test_widget_waits_for_the_pages_own_sign_in(driver, shop):
    """data-sign-in="page": the token comes from the page's script after the widget has opened."""
    order_id = signed_in_conversation(driver, shop)
    open_widget(driver, shop["shop"] + "/async.html")
    time.sleep(1)  # the page is still fetching its token: nothing of the conversation yet
    assert shows_nothing_of(driver, order_id) and not settled(driver)
    driver.execute_script("return window.AisleWidget.signIn(arguments[0])", shop["tokens"][USER_ID])
    wait(driver, lambda: any(order_id in t for t in texts(driver, ".aisle-w-user")))
    wait(driver, lambda: settled(driver))

    open_widget(driver, shop["shop"] + "/async.html")  # another customer's token: a fresh start
    driver.execute_script("return window.AisleWidget.signIn(arguments[0])", shop["tokens"][OTHER_ID])
    wait(driver, lambda: settled(driver) and stored_session(driver, shop)["user"]["user_id"] == OTHER_ID)
    assert shows_nothing_of(driver, order_id)

    order_id = signed_in_conversation(driver, shop)
    open_widget(driver, shop["shop"] + "/async.html")  # no token comes: after the wait, a fresh start
    wait(driver, lambda: settled(driver), 15)
    assert shows_nothing_of(driver, order_id) and stored_session(driver, shop)["user"] is None


def test_docs_render_from_the_apps_own_files(driver, shop):
    driver.get(shop["aisle"] + "/docs")  # the test machine has no internet: a CDN page would stay blank
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= 10)
    assert "Aisle" in driver.find_element(By.CSS_SELECTOR, ".info .title").text
