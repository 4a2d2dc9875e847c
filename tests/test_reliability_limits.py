"""Abuse limits (ui/limits.py) and log redaction (ui/logs.py): 413 for big bodies, 429 with
Retry-After per conversation and per address, health checks untouched, personal data out of logs."""

from __future__ import annotations

import io
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ui.limits import AbuseLimits, parse_rate
from ui.logs import RedactFilter, redact, uvicorn_log_config


def _app(**limits) -> TestClient:
    app = FastAPI()

    @app.post("/api/echo")
    async def echo(body: dict) -> dict:
        return {"size": len(str(body))}

    @app.get("/api/sessions/{sid}")
    def session(sid: str) -> dict:
        return {"sid": sid}

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    app.add_middleware(AbuseLimits, **limits)
    return TestClient(app)


def test_body_over_the_limit_is_413_with_a_message_declared_or_chunked():
    client = _app(max_body_bytes=1000)
    assert client.post("/api/echo", json={"a": "x" * 500}).status_code == 200  # the body reaches the route intact
    big = client.post("/api/echo", json={"a": "x" * 2000})
    assert big.status_code == 413 and "1000 bytes" in big.json()["detail"]
    chunked = client.post("/api/echo", content=(b"y" * 400 for _ in range(5)), headers={"content-type": "application/json"})
    assert chunked.status_code == 413


def test_per_session_limit_is_429_with_retry_after_and_counts_each_session_apart():
    client = _app(per_session="3/minute")
    assert [client.get("/api/sessions/a").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/sessions/a")
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert "conversation" in refused.json()["detail"]
    assert client.get("/api/sessions/b").status_code == 200
    # the session named in a JSON body or the query counts for the same conversation
    assert client.post("/api/echo", json={"session_id": "a"}).status_code == 429
    assert client.post("/api/echo?session_id=a", json={}).status_code == 429


def test_per_address_limit_and_health_checks_are_free():
    client = _app(per_ip="5/minute")
    codes = [client.get(f"/api/sessions/s{i}").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    assert all(client.get("/healthz").status_code == 200 for _ in range(10))


def test_replicas_sharing_redis_share_one_limit(redis_server):
    """Two app instances (as two `aisle serve` replicas) on one Redis: the limit holds across both."""
    a = _app(per_session="4/minute", storage=redis_server.url)
    b = _app(per_session="4/minute", storage=redis_server.url)
    codes = [(a if i % 2 else b).get("/api/sessions/shared").status_code for i in range(6)]
    assert codes == [200] * 4 + [429] * 2
    apart = [_app(per_session="4/minute") for _ in range(2)]  # in-memory counters: each counts alone
    assert [c.get("/api/sessions/shared").status_code for c in apart for _ in range(3)] == [200] * 6


def test_an_unreachable_rate_storage_lets_requests_through(caplog):
    from eval.stack import free_port

    client = _app(per_session="1/minute", storage=f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="ui.limits"):
        assert [client.get("/api/sessions/a").status_code for _ in range(3)] == [200] * 3
    assert "rate-limit storage unavailable" in caplog.text


def test_rate_settings_parse_and_zero_switches_a_limit_off():
    assert parse_rate("0") is None and parse_rate("") is None
    assert parse_rate("60/minute").amount == 60
    with pytest.raises(ValueError):
        parse_rate("lots")
    client = _app(per_ip="0", per_session="0", max_body_bytes=0)
    assert all(client.get("/api/sessions/a").status_code == 200 for _ in range(50))


def test_the_real_app_applies_the_settings(monkeypatch, tmp_path, seeded_store):
    from assistant.agent import Assistant
    from assistant.llm.fake import FakeLLM
    from retrieval.config import get_settings
    from tests.fakes import KeywordClassifier
    from ui.app import create_app
    from ui.service import ChatService

    monkeypatch.setenv("AISLE_RATE_PER_SESSION", "2/minute")
    get_settings.cache_clear()
    store = seeded_store.copy_to(f"sqlite:///{tmp_path / 'aisle.db'}")  # sessions only: no index or models needed
    service = ChatService(Assistant(store, llm=FakeLLM(), classifier=KeywordClassifier(), services={}))
    with TestClient(create_app(service, gradio=False, warm=False)) as client:
        sid = client.post("/api/sessions").json()["session_id"]
        assert client.get(f"/api/sessions/{sid}").status_code == 200
        assert client.get(f"/api/sessions/{sid}").status_code == 200
        assert client.get(f"/api/sessions/{sid}").status_code == 429
        huge = client.post("/api/chat", json={"session_id": "x", "message": "m" * 70_000})
        assert huge.status_code == 413


def test_redact_removes_personal_data_and_keeps_what_support_needs():
    text = ("mail yusuf.rossi7301@example.com, ship to 445 Maple Drive, Suite 394, Fort Worth, TX 76165; "
            "pay with credit_card_9513926 or gift_card_7245904 or paypal_3024827; user yusuf_rossi_9620; "
            "order #W2378156 item 1151293680 at http://127.0.0.1:54723/v1")  # fmt: skip
    out = redact(text)
    for secret in ("yusuf.rossi7301@example.com", "445 Maple Drive", "76165", "credit_card_9513926",
                   "gift_card_7245904", "paypal_3024827", "yusuf_rossi_9620"):  # fmt: skip
        assert secret not in out
    for kept in ("#W2378156", "1151293680", "127.0.0.1:54723"):
        assert kept in out
    assert "[email]" in out and "[payment_method]" in out and "[zip]" in out and "[street_address]" in out


def test_the_filter_redacts_messages_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter())
    logger = logging.getLogger("test-redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.info("session %s says %r", "abc", "I am jane@example.com")
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", "/api/x?email=jane%40example.com", "1.1", 200)
        try:
            raise ValueError("bad card credit_card_1234567")
        except ValueError:
            logger.exception("failed for 12 Oak Street")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "jane" not in out and "credit_card_1234567" not in out and "12 Oak Street" not in out
    assert out.count("[email]") == 2 and "ValueError" in out and " 200" in out


def test_aisle_serve_logging_config_filters_every_handler():
    config = uvicorn_log_config("info")
    assert all("redact" in h["filters"] for h in config["handlers"].values())
    assert config["loggers"][""] == {"handlers": ["app"], "level": "INFO"} and config["handlers"]["app"]["level"] == "INFO"
    assert config["filters"]["redact"]["()"] == "ui.logs.RedactFilter"


