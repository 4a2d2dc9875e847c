"""The typed contract of product search: one request, one response, one hit.

`SearchRequest` is also the tool schema an LLM sees, so every field says what it is for.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SearchRequest(BaseModel):
    """Find products (down to the exact variant) in the shop's catalog."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="What the shopper asks for, in English or Chinese, e.g. 'blue cotton t-shirt size M under 60'.")
    k: int = Field(default=10, ge=1, le=100, description="How many results to return.")
    min_price: float | None = Field(default=None, ge=0, description="Lowest unit price in USD.")
    max_price: float | None = Field(default=None, ge=0, description="Highest unit price in USD.")
    category: str | None = Field(default=None, description="Only this category slug, e.g. 'clothing', 'smartphones'.")
    brand: str | None = Field(default=None, description="Only this brand, e.g. 'Apple'.")
    options: dict[str, str] = Field(
        default_factory=dict, description="Wanted variant options, e.g. {'color': 'blue', 'size': 'M'}."
    )
    in_stock: bool | None = Field(default=None, description="True: only items that can be bought now.")
    exclude_item_ids: list[str] = Field(default_factory=list, description="Item ids not to return (already shown).")
    product_type: str | None = Field(default=None, description="The kind of product wanted, e.g. 'running shoes'; read from the query when not given.")
    exclude: list[str] = Field(
        default_factory=list, description="Option values, brands or product types the results must not have, e.g. ['white', 'Nike']."
    )
    strict: bool = Field(
        default=False,
        description="True: every hit satisfies every stated constraint (type, price, stock, options, brand, exclusions); "
        "when none can, the nearest items are returned and `relaxed` names the constraints given up.",
    )


class OptionBound(BaseModel):
    """A numeric option limit said in words: 'more than 8GB RAM', 'longer than 50 ft', '比10000毫安大'."""

    option: str | None = Field(default=None, description="The option named ('ram'); None: any option measured in `unit`.")
    unit: str = Field(description="Canonical unit: gb, inch, ft, hour, mah, ml, mm, piece, …")
    low: float | None = Field(default=None, description="Lower limit, in `unit`.")
    high: float | None = Field(default=None, description="Upper limit, in `unit`.")
    strict: bool = Field(default=False, description="'more than' (strict) rather than 'at least'.")
    said: str = Field(default="", description="The words it was read from.")


class ParsedQuery(BaseModel):
    """The constraints understood from the query text, merged with the explicit request fields."""

    lang: str = Field(default="en", description="'en' or 'zh'.")
    text: str = Field(default="", description="The query as searched: cleaned, Chinese terms put into English.")
    min_price: float | None = None
    max_price: float | None = None
    category: str | None = None
    brand: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    in_stock: bool | None = None
    product_type: str | None = Field(default=None, description="The catalog product type the query names, e.g. 'running shoes'.")
    exclude: list[str] = Field(
        default_factory=list,
        description="Option values, brands or product types the shopper does not want ('not leather', 'no Nike'): never shown.",
    )
    bounds: list[OptionBound] = Field(default_factory=list, description="Numeric option limits ('more than 8GB RAM').")
    modifiers: list[str] = Field(
        default_factory=list,
        description="Words read only as describing another word (篮球 in 篮球框, a hoop; 笔记本 said with a brand that "
        "makes no paper notebooks): in the text searched, but naming no product type or category.",
    )
    prefer: dict[str, str] = Field(
        default_factory=dict,
        description="Options asked for at an end of their range, option -> 'most' or 'least' ('for a big family': "
        "the most capacity; '透气好': the most ventilation): the variant with that end of its product's values.",
    )
    unread: list[str] = Field(
        default_factory=list, description="Chinese words the lexicon could not put into English (searched by meaning only)."
    )


class SearchHit(BaseModel):
    product_id: str
    item_id: str
    name: str
    brand: str | None = None
    category: str
    options: dict[str, str] = Field(default_factory=dict)
    price: float
    available: bool
    rating: float | None = None
    score: float
    score_parts: dict[str, float] = Field(default_factory=dict, description="bm25, dense, fused, attributes, …")
    why: str = Field(default="", description="Short human-readable reason it matched.")
    unmet: list[str] = Field(
        default_factory=list,
        description="Constraints of the query this item does not satisfy: 'product_type', 'min_price', 'max_price', "
        "'in_stock', 'brand', 'option:<name>', 'exclude:<value>'. Empty: it satisfies all of them.",
    )


class SearchResponse(BaseModel):
    hits: list[SearchHit] = Field(default_factory=list)
    parsed: ParsedQuery = Field(default_factory=ParsedQuery)
    understood: str = Field(default="", description="What the query was read as, e.g. 't-shirt · blue · cotton · size M · ≤ $60'.")
    notes: list[str] = Field(default_factory=list, description="Why results are empty or best effort.")
    relaxed: list[str] = Field(
        default_factory=list,
        description="Strict search only: no item satisfies every constraint, so these (labels as in SearchHit.unmet) were "
        "given up and the hits are the nearest items (by price when a price limit was given up).",
    )
