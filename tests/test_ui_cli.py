"""`aisle serve` and `aisle bench api` are wired in, and the server settings parse."""

from __future__ import annotations

from typer.testing import CliRunner

from retrieval.config import Settings
from ui.cli import app

runner = CliRunner()


def test_serve_and_bench_api_are_commands():
    serve = runner.invoke(app, ["serve", "--help"])
    assert serve.exit_code == 0 and "--port" in serve.output and "--host" in serve.output
    bench = runner.invoke(app, ["bench", "api", "--help"])
    assert bench.exit_code == 0 and "--sessions" in bench.output and "--json" in bench.output


def test_bench_api_refuses_an_unknown_backend():
    result = runner.invoke(app, ["bench", "api", "--backends", "gpt9", "--json"])
    assert result.exit_code != 0 and "gpt9" in result.output


def test_server_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("AISLE_PORT", "8123")
    monkeypatch.setenv("AISLE_ALLOWED_ORIGINS", "https://shop.example/, http://127.0.0.1:9000 ,")
    s = Settings()
    assert s.port == 8123 and s.host == "127.0.0.1"
    assert s.origins == ["https://shop.example", "http://127.0.0.1:9000"]
    monkeypatch.setenv("AISLE_PORT", "70000")
    try:
        Settings()
    except ValueError as exc:
        assert "port" in str(exc)
    else:
        raise AssertionError("an out-of-range port must be refused")
