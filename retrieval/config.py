"""Aisle's settings, read from ``AISLE_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Every model Aisle uses ships inside a package; these machines (and many shops) are offline, so a
# hub download would only fail slowly. Set before any Hugging Face or Gradio module is imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb's telemetry


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("aisle", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AISLE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the database, the Chroma index and model files live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store database; default: SQLite file in data_dir.",
    )
    chroma_url: str | None = Field(
        default=None, description="URL of a Chroma server; default: embedded Chroma in data_dir."
    )
    ranker_url: str | None = Field(
        default=None, description="URL of `aisle serve-ranker`; default: rank in-process."
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'aisle.db'}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
