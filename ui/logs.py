"""Logs without personal data: a filter that `aisle serve` puts on every log handler.

It rewrites each record's message, arguments and traceback text with the patterns of
ui/data/redaction.json: e-mails, street addresses, zip codes, payment method ids, user ids, card
and phone numbers become `[email]`, `[zip]`, …
"""

from __future__ import annotations

import copy
import json
import logging
import re
from functools import lru_cache
from pathlib import Path

PATTERNS_FILE = Path(__file__).parent / "data" / "redaction.json"


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    data = json.loads(PATTERNS_FILE.read_text(encoding="utf-8"))
    return [(name, re.compile(rx)) for name, rx in data["patterns"].items()]


def redact(text: str) -> str:
    """`text` with every personal detail the patterns know replaced by its kind, e.g. [email]."""
    for name, pattern in _patterns():
        text = pattern.sub(f"[{name}]", text)
    return text


class RedactFilter(logging.Filter):
    """Redacts the record's message template and arguments in place (formatters such as uvicorn's
    access log read the arguments themselves), and its traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None  # the redacted text is what gets printed
        return True


def _redact_arg(value):
    if isinstance(value, (int, float)) or value is None:
        return value
    text = str(value)
    cleaned = redact(text)
    return cleaned if cleaned != text or isinstance(value, str) else value


def uvicorn_log_config(level: str = "info") -> dict:
    """uvicorn's logging set-up with the filter on its handlers, and Aisle's own loggers sent there too."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": "ui.logs.RedactFilter"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact")
    # Aisle's (and its libraries') loggers: a handler with a level, as some libraries log at DEBUG by default.
    config["handlers"]["app"] = {**config["handlers"]["default"], "level": level.upper()}
    config["loggers"][""] = {"handlers": ["app"], "level": level.upper()}
    return config
