from __future__ import annotations

import os

from retrieval.config import Settings, get_settings


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("AISLE_DATABASE_URL", "postgresql://shop@db/aisle")
    s = Settings()
    assert s.data_dir == (tmp_path / "d").resolve()
    assert s.db_url == "postgresql://shop@db/aisle"
    assert s.chroma_dir == (tmp_path / "d" / "chroma").resolve()


def test_defaults_live_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AISLE_DATABASE_URL", raising=False)
    s = Settings()
    assert s.db_url == f"sqlite:///{tmp_path.resolve() / 'aisle.db'}"
    assert s.chroma_url is None and s.ranker_url is None


def test_dotenv_file_is_read(monkeypatch, tmp_path):
    monkeypatch.delenv("AISLE_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AISLE_DATA_DIR=./from-dotenv\nAISLE_CHROMA_URL=http://127.0.0.1:8000\n")
    s = Settings()
    assert s.data_dir == (tmp_path / "from-dotenv").resolve()
    assert s.chroma_url == "http://127.0.0.1:8000"


def test_environment_beats_dotenv(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("AISLE_DATA_DIR=./from-dotenv\n")
    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path / "from-env"))
    assert Settings().data_dir == (tmp_path / "from-env").resolve()


def test_offline_environment_is_set():
    get_settings()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
