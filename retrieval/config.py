"""Aisle's settings, read from ``AISLE_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Every model Aisle uses ships inside a package; these machines (and many shops) are offline, so a
# hub download would only fail slowly. Set before any Hugging Face or Gradio module is imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb's telemetry
# Torch's OpenMP threads spin while waiting; on a small shared CPU two spinning threads stall each
# other (training measured 2.5x faster with PASSIVE, docs/recsys.md). Only read before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
    # The language model (assistant/llm/).
    llm_backend: str = Field(
        default="llama_cpp", description="llama_cpp (local GGUF) | openai (any OpenAI-compatible server) | transformers | fake."
    )
    llm_model: str = Field(
        default="qwen1.5b", description="llama_cpp model: qwen1.5b | qwen0.5b | a path to any GGUF file."
    )
    llm_url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible server, e.g. http://host:8000/v1.")
    llm_api_key: str | None = Field(default=None, description="Bearer token for that server, if it wants one.")
    llm_server_model: str | None = Field(default=None, description="Model name to ask that server for; default: its first.")
    llm_model_dir: Path | None = Field(default=None, description="transformers backend: a local model directory.")
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Seconds to wait for a server to connect or send the next piece.")
    llm_n_ctx: int = Field(default=4096, ge=256, description="llama_cpp context window in tokens.")
    llm_n_threads: int | None = Field(default=None, description="llama_cpp threads; default: all CPU cores.")
    llm_n_batch: int = Field(default=512, ge=8, description="llama_cpp prompt tokens read per batch.")
    llm_cached_prefixes: int = Field(default=4, ge=0, description="llama_cpp: fixed prompt prefixes whose state is kept in RAM.")
    search_multilingual: bool = Field(
        default=True, description="Index every item's multilingual-e5 vector too, so Chinese queries are searched by meaning "
        "(about 5x the embedding time of `aisle index`); off: Chinese is read through the lexicon only.")
    # Prices are in US dollars; an amount a shopper gives in 元/块 is converted at this rate (and the reply says so).
    cny_per_usd: float = Field(default=7.1, gt=0, description="Yuan per US dollar for prices said in 元/块 (e.g. 500元 under 7.1 = $70.42).")
    # The dialogue agent (assistant/): code-first by default; `tools` lets an LLM choose the tools.
    agent: str = Field(default="code", pattern="^(code|tools)$",
                       description="code (code-first agent, default) | tools (an LLM calls the tools: assistant/tool_agent/).")
    reader: str = Field(default="rules", pattern="^(rules|llm|hybrid)$",
                        description="code agent: who reads which order / items / option a message means: rules | llm | hybrid (assistant/understand/).")
    reader_budget_s: float = Field(
        default=2.0, ge=0, description="llm / hybrid reader: seconds a pick may take (estimated from the model's measured "
        "reading speed before the call); over it, the shopper is asked. 0: no limit.")
    agent_max_steps: int = Field(default=8, ge=1, le=50, description="tools agent: model calls per shopper message at most.")
    agent_max_tokens: int = Field(default=512, ge=16, description="tools agent: tokens per model answer at most.")
    # The web server (ui/): `aisle serve`.
    host: str = Field(default="127.0.0.1", description="Address `aisle serve` listens on.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port `aisle serve` listens on.")
    allowed_origins: str = Field(
        default="", description="Comma-separated origins (e.g. https://shop.example) whose pages may use the API and widget."
    )
    # Who a conversation belongs to (ui/service.py, ui/signin.py). Demo sign-in trusts an email or a
    # user id alone: right for the demo store (`make run` switches it on), wrong for a real shop.
    demo_sign_in: bool = Field(
        default=False,
        description="Demo only: sign in by email or user id (picker, API, widget), list customers at /api/users/demo, "
        "identify in chat by email or name + zip. Off: a customer is signed in only by a token from the shop's site.",
    )
    signin_secret: SecretStr | None = Field(
        default=None, description="HS256 secret (32+ characters) of the sign-in tokens the shop's site issues; unset: no token sign-in."
    )
    # Abuse limits (ui/limits.py). Defaults leave room for `aisle bench api` and the load test
    # (50 shoppers on one address); raise them, or set 0 to switch one off, behind a proxy that limits already.
    rate_per_ip: str = Field(default="6000/minute", description="API requests per client address, e.g. 6000/minute; 0 = no limit.")
    rate_per_session: str = Field(default="60/minute", description="API requests per conversation, e.g. 60/minute; 0 = no limit.")
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live (a `limits` storage URI): memory:// counts per process; "
        "redis://host:6379/0 shares them among every `aisle serve` process and replica.",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=0, description="Largest request body in bytes (413 above it); 0 = no limit.")
    seqrec_dir: Path | None = Field(
        default=None,
        description="Folder of the S3-Rec sequence files (Beauty.txt, …) for `aisle eval recsys --dataset`; default: "
                    "data_dir/amazon_seqrec, else the first shared/data/amazon_seqrec beside the checkout or above it.",
    )
    # Faults: how long to wait before calling a part unavailable, and how often to look for it again.
    db_busy_timeout_s: float = Field(default=5.0, ge=0, description="SQLite: seconds a write waits for another writer's lock.")
    chroma_retry_s: float = Field(default=30.0, gt=0, description="Seconds between attempts to reach an unavailable Chroma index.")

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @field_validator("signin_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None  # AISLE_SIGNIN_SECRET= (empty): unset
        if value is not None and len(value.get_secret_value()) < 32:  # RFC 7518: an HS256 key of at least 256 bits
            raise ValueError("AISLE_SIGNIN_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

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
