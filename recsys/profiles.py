"""User profiles: derived from orders and events, plus the shopper's own edits and opt-out.

Only the edits and the personalisation switch are stored (table `user_profiles`); everything else
is recomputed from orders and events on read, so deleting a profile and the user's events forgets
all that Aisle inferred. Orders are kept: they are the shop's records, not inferences.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete

from recsys.catalog import KIND_WEIGHT
from recsys.schemas import PriceBand, ProfilePatch, UserProfile
from retrieval.store import Store
from retrieval.store import tables as t

COLOUR_KEYS = ("color", "colour")
SIZE_KEYS = ("size", "shoe size")


class UnknownUserError(LookupError):
    """The user id is not a customer of this store."""


class ProfileService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _check(self, user_id: str) -> None:
        if self.store.user(user_id) is None:
            raise UnknownUserError(f"unknown user id: {user_id!r}")

    def _row(self, user_id: str) -> tuple[bool, dict]:
        with self.store.session() as s:
            row = s.get(t.UserProfileRow, user_id)
            return (row.personalised, dict(row.edits or {})) if row else (True, {})

    def get(self, user_id: str) -> UserProfile:
        self._check(user_id)
        personalised, edits = self._row(user_id)
        orders = self.store.orders_of(user_id)
        events = self.store.events(user_id=user_id)
        products = {}
        cats, brands, colours, sizes = Counter(), Counter(), Counter(), Counter()
        prices: list[float] = []
        purchased: list[str] = []

        def product(pid: str | None):
            if pid and pid not in products:
                products[pid] = self.store.product(pid)
            return products.get(pid)

        def count(pid: str | None, options: dict, weight: float) -> None:
            p = product(pid)
            if p is None:
                return
            cats[p.category] += weight
            if p.brand:
                brands[p.brand] += weight
            for k, v in options.items():
                if k.lower() in COLOUR_KEYS:
                    colours[str(v).lower()] += weight
                elif k.lower() in SIZE_KEYS:
                    sizes[str(v)] += weight

        for order in orders:
            if order.status == "cancelled":
                continue
            for it in order.items:
                count(it.product_id, it.options, 1.0)
                prices.append(it.price)
                purchased.append(it.item_id)
        liked_brands, blocked_brands, liked_cats, blocked_cats, disliked = [], [], [], [], []
        for e in events:
            ctx = e.context or {}
            if e.kind in KIND_WEIGHT and e.product_id:
                options = ctx.get("options") or {}
                count(e.product_id, options, KIND_WEIGHT[e.kind])
                if e.kind == "purchase" and e.item_id:
                    purchased.append(e.item_id)
            if e.kind == "like" and ctx.get("brand"):
                liked_brands.append(ctx["brand"])
            if e.kind == "like" and ctx.get("category"):
                liked_cats.append(ctx["category"])
            if e.kind == "dislike" and e.item_id:
                disliked.append(e.item_id)
            if e.kind == "not_brand" and ctx.get("brand"):
                blocked_brands.append(ctx["brand"])
            if e.kind == "not_category" and ctx.get("category"):
                blocked_cats.append(ctx["category"])
        band = None
        if prices:
            prices.sort()
            band = PriceBand(low=prices[int(0.1 * (len(prices) - 1))], high=prices[int(0.9 * (len(prices) - 1))])
        derived = {
            "categories": [c for c, _ in cats.most_common(5)],
            "brands": [b for b, _ in brands.most_common(5)],
            "price_band": band,
            "colours": [c for c, _ in colours.most_common(3)],
            "sizes": [s for s, _ in sizes.most_common(3)],
            "liked_brands": _unique(liked_brands),
            "blocked_brands": _unique(blocked_brands),
            "liked_categories": _unique(liked_cats),
            "blocked_categories": _unique(blocked_cats),
        }
        derived.update(ProfilePatch.model_validate(edits).model_dump(exclude_none=True))
        return UserProfile(
            user_id=user_id, personalised=personalised, disliked_item_ids=_unique(disliked),
            purchased_item_ids=_unique(purchased), n_orders=len(orders), n_events=len(events), edits=edits,
            **derived,
        )

    def patch(self, user_id: str, patch: ProfilePatch) -> UserProfile:
        self._check(user_id)
        with self.store.session() as s:
            row = s.get(t.UserProfileRow, user_id) or t.UserProfileRow(user_id=user_id, personalised=True, edits={})
            row.edits = {**(row.edits or {}), **patch.model_dump(mode="json", exclude_none=True)}
            s.add(row)
        return self.get(user_id)

    def set_personalised(self, user_id: str, on: bool) -> UserProfile:
        self._check(user_id)
        with self.store.session() as s:
            row = s.get(t.UserProfileRow, user_id) or t.UserProfileRow(user_id=user_id, edits={})
            row.personalised = on
            s.add(row)
        return self.get(user_id)

    def delete(self, user_id: str) -> UserProfile:
        """Forget the user's events and edits (the switch is kept: opting out survives a reset)."""
        self._check(user_id)
        personalised, _ = self._row(user_id)
        with self.store.session() as s:
            s.execute(delete(t.Event).where(t.Event.user_id == user_id))
            s.execute(delete(t.UserProfileRow).where(t.UserProfileRow.user_id == user_id))
            if not personalised:
                s.add(t.UserProfileRow(user_id=user_id, personalised=False, edits={}))
        return self.get(user_id)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
