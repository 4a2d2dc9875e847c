from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()


def test_store_init_then_info_json(monkeypatch, tmp_path):
    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path))
    first = runner.invoke(app, ["store", "init"])
    assert first.exit_code == 0, first.output
    assert "seeded" in first.output
    again = runner.invoke(app, ["store", "init"])
    assert "already initialised" in again.output
    info = runner.invoke(app, ["store", "info", "--json"])
    counts = json.loads(info.output)
    assert counts["products"] == 244 and counts["users"] == 500 and counts["orders"] == 1000


def test_info_before_init_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["store", "info"])
    assert result.exit_code == 1
    assert "aisle store init" in result.output


def test_installed_console_script_runs(tmp_path):
    exe = Path(sys.executable).parent / "aisle"
    env = {"AISLE_DATA_DIR": str(tmp_path), "PATH": str(exe.parent)}
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env=env, check=True).stdout
    assert "store" in out
