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

ROOT = Path(__file__).resolve().parents[1]
SECRET = "browser-test-secret-" + "z" * 32
USER_ID = "noah_brown_6181"

pytestmark = pytest.mark.slow
By = pytest.importorskip("selenium.webdriver.common.by").By
Keys = pytest.importorskip("selenium.webdriver.common.keys").Keys


def serve_page(port: int, html: str) -> http.server.ThreadingHTTPServer:
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
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
    token = jwt.encode({"sub": USER_ID, "exp": int(time.time()) + 900}, SECRET, algorithm="HS256")
    with ThreadServer(app, app_port):
        pages = [serve_page(good_port, shop_page(aisle, f'data-token="{token}"')), serve_page(bad_port, shop_page(aisle))]
        try:
            yield {"aisle": aisle, "signed": good + "/shop.html", "refused": f"http://127.0.0.1:{bad_port}/shop.html",
                   "store": base.store}  # fmt: skip
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


def test_docs_render_from_the_apps_own_files(driver, shop):
    driver.get(shop["aisle"] + "/docs")  # the test machine has no internet: a CDN page would stay blank
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= 10)
    assert "Aisle" in driver.find_element(By.CSS_SELECTOR, ".info .title").text
