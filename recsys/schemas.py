"""Typed requests and responses of recsys: used by the assistant's tools and by the HTTP service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FeedbackKind = Literal["view", "click", "like", "dislike", "not_brand", "not_category", "add_to_cart", "purchase"]


class RecommendRequest(BaseModel):
    """Ask for personalised product recommendations for a shopper."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, description="The signed-in shopper's user id; none for a guest.")
    session_id: str | None = Field(default=None, description="The conversation/session id, for in-session feedback.")
    k: int = Field(default=5, ge=1, le=50, description="How many recommendations to return (1-50).")
    surprise: bool = Field(default=False, description="True when the shopper asks to be surprised: explore more.")
    category: str | None = Field(default=None, description="Only recommend from this category slug, e.g. 'shoes'.")
    brand: str | None = Field(default=None, description="Only recommend products of this brand.")
    max_price: float | None = Field(default=None, gt=0, description="Only items at or below this price in USD.")
    exclude_item_ids: list[str] = Field(default_factory=list, description="Item ids not to recommend again.")


class Recommendation(BaseModel):
    """One recommended item, with a short reason grounded in the shopper's data."""

    item_id: str
    product_id: str
    name: str
    brand: str | None = None
    category: str
    price: float
    available: bool
    options: dict[str, str] = Field(default_factory=dict)
    score: float
    reason: str = Field(description="Why: 'because you bought X', 'matches your liked brand Z', …")
    source: Literal["model", "popularity", "explore"]
    model: str | None = Field(default=None, description="The ranking model that scored it (source 'model').")


class FeedbackEvent(BaseModel):
    """Something the shopper did or said about an item, a brand or a category."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, description="The shopper's user id; none for a guest.")
    session_id: str | None = Field(default=None, description="The conversation/session id.")
    kind: FeedbackKind = Field(description="view, click, like, dislike, not_brand, not_category, add_to_cart, purchase.")
    item_id: str | None = Field(default=None, description="The item (variant) concerned, if any.")
    brand: str | None = Field(default=None, description="For not_brand (or to like a brand): the brand.")
    category: str | None = Field(default=None, description="For not_category: the category slug.")

    @model_validator(mode="after")
    def _target(self) -> FeedbackEvent:
        if self.kind == "not_brand" and not (self.brand or self.item_id):
            raise ValueError("not_brand feedback needs a brand or an item_id")
        if self.kind == "not_category" and not (self.category or self.item_id):
            raise ValueError("not_category feedback needs a category or an item_id")
        if self.kind not in ("not_brand", "not_category", "like") and not self.item_id:
            raise ValueError(f"{self.kind} feedback needs an item_id")
        if self.kind == "like" and not (self.item_id or self.brand or self.category):
            raise ValueError("like feedback needs an item_id, a brand or a category")
        return self


class PriceBand(BaseModel):
    low: float
    high: float


class UserProfile(BaseModel):
    """What Aisle knows about a shopper: derived from orders and events, plus their own edits."""

    user_id: str
    personalised: bool = Field(default=True, description="False: recommendations ignore this profile.")
    categories: list[str] = Field(default_factory=list, description="Favourite categories, strongest first.")
    brands: list[str] = Field(default_factory=list, description="Favourite brands, strongest first.")
    price_band: PriceBand | None = Field(default=None, description="Typical price range paid.")
    colours: list[str] = Field(default_factory=list)
    sizes: list[str] = Field(default_factory=list)
    liked_brands: list[str] = Field(default_factory=list)
    blocked_brands: list[str] = Field(default_factory=list)
    liked_categories: list[str] = Field(default_factory=list)
    blocked_categories: list[str] = Field(default_factory=list)
    disliked_item_ids: list[str] = Field(default_factory=list)
    purchased_item_ids: list[str] = Field(default_factory=list)
    n_orders: int = 0
    n_events: int = 0
    edits: dict = Field(default_factory=dict, description="The shopper's own edits, as stored.")


class ProfilePatch(BaseModel):
    """The shopper's own edits: each given field replaces the derived value."""

    model_config = ConfigDict(extra="forbid")

    categories: list[str] | None = None
    brands: list[str] | None = None
    price_band: PriceBand | None = None
    colours: list[str] | None = None
    sizes: list[str] | None = None
    liked_brands: list[str] | None = None
    blocked_brands: list[str] | None = None
    liked_categories: list[str] | None = None
    blocked_categories: list[str] | None = None


class ScoreRequest(BaseModel):
    """Score candidate items as the next item after a history (the ranking service's request)."""

    model_config = ConfigDict(extra="forbid")

    history: list[str] = Field(default_factory=list, description="Item ids, oldest first.")
    candidates: list[str] | None = Field(default=None, description="Item ids to score; none: all items.")


class ScoreResponse(BaseModel):
    item_ids: list[str]
    scores: list[float]
    unknown_history: list[str] = Field(default_factory=list, description="History ids the model does not know.")
    model: str | None = Field(default=None, description="The model that scored them: recipe and training time.")
