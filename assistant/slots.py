"""Reading identifiers and references out of a message, in code.

A small model invents order ids and emails (shared notes measured 23/65 and 36/54); a regular
expression never does. So ids, emails, names with zip codes, list references ("the second one")
and refinements ("cheaper", "in blue") are read here, and the model is asked only for what code
cannot read.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

# Ids are Latin letters and digits: their edges are any other character, not a word boundary, so that one typed
# against Chinese ("订单W1234567里", "邮箱是a@b.com的") is read (a CJK character is a word character too).
_ID_START, _ID_END = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"
ORDER_RE = re.compile(rf"#?{_ID_START}(W\d{{7}}){_ID_END}", re.IGNORECASE)
EMAIL_RE = re.compile(rf"(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+{_ID_END}")
ZIP_RE = re.compile(r"(?<![\d#])(\d{5})(?!\d)")
ITEM_RE = re.compile(r"(?<![\d#W])(\d{10})(?!\d)")
NAME_RES = [
    re.compile(r"\b(?i:my name is|name:?)\s+([A-Za-z][a-z'-]+)\s+([A-Za-z][a-z'-]+)"),
    # "I am …" is a name only when capitalised: "I am considering cancelling" is not one
    re.compile(r"\b(?i:i am|i'm|this is)\s+([A-Z][a-z'-]+)\s+([A-Z][a-z'-]+)"),
    re.compile(r"(?:我是|我叫|名字是)\s*([A-Za-z][a-z'-]+)\s+([A-Za-z][a-z'-]+)"),
    # a bare "First Last, 12345" (the answer to "your name and zip code?"): only the whole message, capitalised
    re.compile(r"^\W*([A-Z][a-z'-]+)\s+([A-Z][a-z'-]+)\s*[,;]?\s*(?:(?i:zip(?: ?code)?|邮编)\s*:?\s*)?\d{5}\W*$"),
]
ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4, "5th": 4,
    "last": -1, "第一": 0, "第二": 1, "第三": 2, "第四": 3, "第五": 4, "最后": -1,
}  # fmt: skip
# "(the same address) as order #W…": that order only points at an address; the request is not about it
REFERENCE_RE = re.compile(rf"\bsame (?:address |one )?as (?:in |for |of |on )?(?:my |the )?(?:other )?(?:order )?#?{_ID_START}(W\d{{7}}){_ID_END}", re.IGNORECASE)
NOT_NAMES = {"looking", "trying", "interested", "not", "just", "here", "a", "the", "good", "fine", "back", "calling"}


class Identity(BaseModel):
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    zip: str | None = None


class Slots(BaseModel):
    order_ids: list[str] = Field(default_factory=list, description="Orders the message is about, in the order named.")
    reference_order_ids: list[str] = Field(default_factory=list, description="Orders named only as a reference ('same address as #W…').")
    item_ids: list[str] = Field(default_factory=list)
    identity: Identity = Field(default_factory=Identity)
    references: list[int] = Field(default_factory=list, description="0-based positions in the last list; -1 = last")
    cheaper: bool = False


def read_slots(text: str) -> Slots:
    references = list(dict.fromkeys(f"#{m.upper()}" for m in REFERENCE_RE.findall(text)))
    about = ORDER_RE.findall(REFERENCE_RE.sub(" ", text))
    slots = Slots(
        order_ids=list(dict.fromkeys(f"#{m.upper()}" for m in about)),
        reference_order_ids=[r for r in references if r not in {f"#{m.upper()}" for m in about}],
        item_ids=list(dict.fromkeys(ITEM_RE.findall(text))),
    )
    if email := EMAIL_RE.search(text):
        slots.identity.email = email.group(0)
    for name_re in NAME_RES:
        m = name_re.search(text)
        if m and m.group(1).lower() not in NOT_NAMES:
            slots.identity.first_name, slots.identity.last_name = m.group(1).capitalize(), m.group(2).capitalize()
            break
    without_ids = ORDER_RE.sub(" ", EMAIL_RE.sub(" ", text))
    if zips := ZIP_RE.findall(without_ids):
        slots.identity.zip = zips[-1]
    lowered = text.lower()
    for word, pos in ORDINALS.items():
        if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered) and pos not in slots.references:
            slots.references.append(pos)
    if m := re.search(r"(?:first|top|前)\s*(two|three|2|3|两|三)", lowered):
        n = {"two": 2, "2": 2, "两": 2, "three": 3, "3": 3, "三": 3}[m.group(1)]
        slots.references = list(range(n))
    slots.cheaper = bool(re.search(r"\bcheaper\b|\bless expensive\b|便宜", lowered))
    return slots
