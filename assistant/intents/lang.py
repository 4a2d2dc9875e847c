"""Which language a message is in: Chinese or English, by counting Han characters against Latin words."""

from __future__ import annotations

import re
from typing import Literal

Lang = Literal["en", "zh"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_lang(text: str) -> Lang:
    """``zh`` when Han characters carry the message.

    Shoppers mix product names into Chinese ("iPhone 15 Pro Max 有货吗"), so one Han character
    counts as much as one Latin word.
    """
    han = len(_HAN.findall(text))
    return "zh" if han and han >= len(_LATIN_WORD.findall(text)) else "en"
