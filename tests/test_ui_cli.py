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


def test_every_command_is_listed_with_its_own_summary():
    # The listing comes from ui.cli.COMMANDS without importing the commands; it must say what they say.
    from ui.cli import COMMANDS, load_command

    for name, (_, summary) in COMMANDS.items():
        real = load_command(name)
        assert real.name == name
        assert " ".join((real.help or "").split()).startswith(summary), name


def test_help_imports_no_heavy_library():
    # `aisle --help` used to import torch, scikit-learn and chromadb (~8 s); now it loads no command module.
    import subprocess
    import sys

    code = ("import sys; from typer.testing import CliRunner; from ui.cli import app; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0 and 'serve-ranker' in r.output; "
            "print(sorted({'torch', 'sklearn', 'chromadb', 'fastapi', 'gradio'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
