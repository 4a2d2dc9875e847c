"""`Recommender`: turns the ranking model's scores into a short, diverse, explained list.

Pipeline per request: history (orders + positive events) → candidates → scores (ranking service,
in-process model, or popularity + content when neither is available) → rules from feedback and
the profile (dislikes, blocked brands/categories, liked-brand boost) → one variant per product →
MMR diversity → bounded exploration slots → a grounded reason per item.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from recsys.candidates import CandidateGenerator
from recsys.catalog import POSITIVE_KINDS, Catalog, Item, last_ids, row_counts
from recsys.profiles import ProfileService, UnknownUserError
from recsys.ranker import Ranker, RankerUnavailable, RemoteRanker
from recsys.rerank import mmr_pick
from recsys.schemas import FeedbackEvent, Recommendation, RecommendRequest, ScoreRequest, UserProfile
from retrieval.config import get_settings
from retrieval.store import EventRecord, Store

log = logging.getLogger(__name__)

REASONS: dict[str, str] = json.loads(resources.files("recsys").joinpath("data/reasons.json").read_text("utf-8"))
COUNT_CHECK_S = 10.0  # how often row counts are compared, to notice deleted orders or events
VERB = {"purchase": "bought", "like": "liked", "add_to_cart": "added", "view": "viewed", "click": "viewed"}


class UnknownItemError(LookupError):
    """The item id is not in the catalog."""


class Policy(BaseModel):
    """Exploration, diversity and feedback weights (scores are z-normalised before these apply)."""

    explore_slots: int = Field(default=1, ge=0, description="Exploration slots in a list of k ≥ 4.")
    surprise_share: float = Field(default=0.4, ge=0, le=1, description="Share of slots explored on 'surprise me'.")
    mmr_lambda: float = Field(default=0.75, ge=0, le=1, description="1: pure relevance, 0: pure diversity.")
    surprise_mmr_lambda: float = Field(default=0.5, ge=0, le=1)
    explore_noise: float = Field(default=1.0, ge=0, description="Thompson-style noise for uncertain items.")
    liked_brand_boost: float = 3.0  # the shopper said so: stronger than any inferred taste
    favourite_brand_boost: float = 0.3
    liked_category_boost: float = 0.7
    favourite_category_boost: float = 0.3


@dataclass
class _History:
    items: list[int]  # catalog indices, oldest first
    kinds: list[str]  # how each entered: purchase, like, view, …


class Recommender:
    def __init__(
        self,
        store: Store,
        catalog: Catalog | None = None,
        ranker: Ranker | None = None,
        remote: RemoteRanker | None = None,
        policy: Policy | None = None,
        model_file: Path | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog or Catalog.from_store(store, get_settings().models_dir / "recsys")
        self.ranker = None
        self.remote = remote
        self.policy = policy or Policy()
        self.profiles = ProfileService(store)
        self._lock = threading.Lock()  # counts and the model are swapped under it (requests run in threads)
        self._count_all()
        self._use(ranker)
        # With a model file, a newer file (`aisle train`, a scheduled retrain) is swapped in on the next
        # request: the shop never needs a restart for a new model.
        self.model_file = model_file
        self._model_stamp = _stamp(model_file)

    @classmethod
    def from_settings(cls, policy: Policy | None = None) -> Recommender:
        """The store from settings; the trained model from models_dir (swapped in whenever the file
        changes), else popularity + content until one is trained."""
        from recsys.store_model import load_ranker, model_path

        settings = get_settings()
        store = Store.from_settings()
        store.init()
        ranker = load_ranker()
        if ranker is None:
            log.warning("no trained ranking model at %s; recommending by popularity and content "
                        "until `aisle train` is run", model_path())
        remote = RemoteRanker(settings.ranker_url) if settings.ranker_url else None
        return cls(store, ranker=ranker, remote=remote, policy=policy, model_file=model_path())

    def _use(self, ranker: Ranker | None) -> bool:
        if ranker is not None and ranker.item_ids != [it.item_id for it in self.catalog.items]:
            log.warning("the ranking model was trained on another catalog; run `aisle train` (using %s)",
                        "the previous model" if self.ranker else "popularity")
            return False
        self.ranker = ranker
        return True

    def _reload_model(self) -> None:
        """Swap in the model file if it changed since it was read (one stat per request)."""
        if self.model_file is None:
            return
        stamp = _stamp(self.model_file)
        if stamp == self._model_stamp:
            return
        from recsys.store_model import load_ranker

        with self._lock:
            if stamp == self._model_stamp:
                return  # another request swapped it meanwhile
            ranker = load_ranker(self.model_file) if stamp else None
            self._model_stamp = stamp
            if ranker is not None and self._use(ranker):
                log.info("ranking model swapped in: %s", ranker.name)

    # -- counts ------------------------------------------------------------------------------

    def _count_all(self) -> None:
        # Marks read first: anything stored meanwhile is counted again later (a nudge, not a loss).
        self._last_ids, self._rows, self._checked = last_ids(self.store), row_counts(self.store), time.monotonic()
        sequences = self.catalog.sequences(self.store)
        self.popularity = self.catalog.popularity(sequences)
        self.co = self.catalog.co_counts(sequences)
        self._user_items = {u: set(seq) for u, seq in sequences.items()}
        self.candidates = CandidateGenerator(self.catalog, self.co, self.popularity)

    def refresh_counts(self) -> None:
        """Bring popularity and co-purchase counts up to date with the orders and events stored since
        they were counted, by this process or any other: new rows (one primary-key look-up per
        request) are counted one by one. Deleted rows (a profile deleted) are noticed by comparing
        row counts every COUNT_CHECK_S seconds, and then everything is counted again."""
        ids = last_ids(self.store)
        due = time.monotonic() - self._checked >= COUNT_CHECK_S
        if ids == self._last_ids and not due:
            return
        with self._lock:
            ids = last_ids(self.store)  # again: another request may have caught up meanwhile
            if any(ids[k] < self._last_ids[k] for k in ids):  # the tables were emptied or rebuilt
                self._count_all()
                return
            if ids != self._last_ids:
                found, rows = self.catalog.interactions_since(self.store, self._last_ids, ids)
                for user, i in found:
                    self._add_interaction(user, i)
                self._rows = {k: self._rows[k] + rows[k] for k in rows}
                self._last_ids = ids
                self.candidates.update_popularity(self.popularity)
            if due:
                self._checked = time.monotonic()
                if row_counts(self.store) != self._rows:
                    self._count_all()

    def _add_interaction(self, user: str, i: int) -> None:
        self.popularity[i] += 1
        seen = self._user_items.setdefault(user, set())
        if i in seen:
            return
        product = self.catalog.item(i).product_id
        others = [b for b in seen if self.catalog.item(b).product_id != product]
        # Copy, change, replace: a request reading a counter meanwhile keeps a consistent old one.
        row = Counter(self.co.get(i, ()))
        row.update(others)
        self.co[i] = row
        for b in others:
            col = Counter(self.co.get(b, ()))
            col[i] += 1
            self.co[b] = col
        seen.add(i)

    # -- feedback ----------------------------------------------------------------------------

    def feedback(self, event: FeedbackEvent) -> EventRecord:
        """Record what the shopper did; the very next recommend() reflects it."""
        if event.user_id is not None and self.store.user(event.user_id) is None:
            raise UnknownUserError(f"unknown user id: {event.user_id!r}")
        item = None
        if event.item_id is not None:
            item = self.catalog.by_id.get(event.item_id)
            if item is None:
                raise UnknownItemError(f"unknown item id: {event.item_id!r}")
        context: dict = {}
        if event.kind == "not_brand" or (event.kind == "like" and event.brand):
            context["brand"] = event.brand or (item.brand if item else None)
            if not context["brand"]:
                raise ValueError(f"item {event.item_id!r} has no brand to exclude")
        if event.kind == "not_category" or (event.kind == "like" and event.category):
            context["category"] = event.category or (item.category if item else None)
        if item is not None:
            context["options"] = item.options
        record = EventRecord(
            user_id=event.user_id, session_id=event.session_id, kind=event.kind,
            item_id=item.item_id if item else None, product_id=item.product_id if item else None, context=context,
        )
        return self.store.add_event(record)

    # -- recommending ------------------------------------------------------------------------

    def recommend(self, request: RecommendRequest) -> list[Recommendation]:
        self._reload_model()
        self.refresh_counts()
        profile: UserProfile | None = self.profiles.get(request.user_id) if request.user_id else None
        personalised = profile is not None and profile.personalised
        history = self._history(request, personalised)
        session = self.store.events(session_id=request.session_id) if request.session_id else []

        blocked_items = {e.item_id for e in session if e.kind == "dislike"}
        blocked_brands = {e.context.get("brand", "").lower() for e in session if e.kind == "not_brand"}
        blocked_cats = {e.context.get("category", "") for e in session if e.kind == "not_category"}
        liked_brands = {e.context["brand"].lower() for e in session if e.kind == "like" and e.context.get("brand")}
        liked_cats = {e.context["category"] for e in session if e.kind == "like" and e.context.get("category")}
        liked_brands |= {self.catalog.by_id[e.item_id].brand.lower() for e in session
                         if e.kind in ("like", "add_to_cart") and e.item_id in self.catalog.by_id
                         and self.catalog.by_id[e.item_id].brand}
        if personalised:
            blocked_items |= set(profile.disliked_item_ids)
            blocked_brands |= {b.lower() for b in profile.blocked_brands}
            blocked_cats |= set(profile.blocked_categories)
            liked_brands |= {b.lower() for b in profile.liked_brands}
            liked_cats |= set(profile.liked_categories)
        blocked_items |= set(request.exclude_item_ids)
        # Another variant of something already bought is rarely a useful suggestion.
        bought = {self.catalog.item(i).product_id for i, k in zip(history.items, history.kinds) if k == "purchase"}

        def eligible(it: Item) -> bool:
            return (
                it.available
                and it.item_id not in blocked_items
                and it.product_id not in bought
                and it.category not in blocked_cats
                and (it.brand or "").lower() not in blocked_brands
                and (request.category is None or it.category == request.category)
                and (request.brand is None or (it.brand or "").lower() == request.brand.lower())
                and (request.max_price is None or it.price <= request.max_price)
            )

        pool = [i for i in self.candidates.generate(history.items) if eligible(self.catalog.item(i))]
        if not pool:
            return []
        scores, source, model = self._scores(history, pool, personalised)
        item = self.catalog.item
        fav_brands = {b.lower() for b in profile.brands} if personalised else set()
        fav_cats = set(profile.categories) if personalised else set()
        p = self.policy
        for j, i in enumerate(pool):
            brand = (item(i).brand or "").lower()
            scores[j] += p.liked_brand_boost * (brand in liked_brands) + p.favourite_brand_boost * (brand in fav_brands)
            scores[j] += p.liked_category_boost * (item(i).category in liked_cats)
            scores[j] += p.favourite_category_boost * (item(i).category in fav_cats)
        pool, scores = self._best_variant_per_product(pool, scores)
        chosen, explored = self._select(request, history, pool, scores, fav_cats)
        out = []
        for i, s in chosen:
            it = item(i)
            src = "explore" if i in explored else source
            out.append(Recommendation(
                item_id=it.item_id, product_id=it.product_id, name=it.name, brand=it.brand, category=it.category,
                price=it.price, available=it.available, options=it.options, score=round(float(s), 4),
                reason=self._reason(it, src, history, liked_brands, fav_brands, request), source=src,
                model=model if src == "model" else None,
            ))
        return out

    def _history(self, request: RecommendRequest, personalised: bool) -> _History:
        items, kinds = [], []
        if request.user_id and personalised:
            for order in self.store.orders_of(request.user_id):
                for it in order.items:
                    if it.item_id in self.catalog.by_id:
                        items.append(self.catalog.by_id[it.item_id].index)
                        kinds.append("purchase")
            events = self.store.events(user_id=request.user_id)
        elif request.session_id:
            events = self.store.events(session_id=request.session_id)  # a guest's, or an opted-out session
        else:
            events = []
        for e in events:
            if e.kind in POSITIVE_KINDS and e.item_id in self.catalog.by_id:
                items.append(self.catalog.by_id[e.item_id].index)
                kinds.append(e.kind)
        return _History(items, kinds)

    def _scores(self, history: _History, pool: list[int], personalised: bool) -> tuple[np.ndarray, str, str | None]:
        """z-normalised relevance of each pool item, which source produced it, and the model's name."""
        ranker = self.ranker  # one model for the whole request, even if a new one is swapped in meanwhile
        if history.items and (self.remote or ranker):
            request = ScoreRequest(
                history=[self.catalog.item(i).item_id for i in history.items],
                candidates=[self.catalog.item(i).item_id for i in pool],
            )
            answer = None
            if self.remote is not None:
                try:
                    answer = self.remote.score(request)
                except RankerUnavailable as exc:
                    log.warning("%s; falling back to %s", exc, "the in-process model" if ranker else "popularity")
            if answer is None and ranker is not None:
                answer = ranker.score(request)
            if answer is not None:
                return _z(np.asarray(answer.scores, dtype=np.float64)), "model", answer.model
        # Popularity, nudged towards what the history's content resembles (works before training).
        pop = _z(np.log(self.popularity[pool]))
        if history.items:
            taste = self.catalog.content[history.items].mean(0)
            pop = pop + 0.5 * _z(self.catalog.content[pool] @ taste)
        return pop, "popularity", None

    def _best_variant_per_product(self, pool: list[int], scores: np.ndarray) -> tuple[list[int], np.ndarray]:
        best: dict[str, int] = {}
        for j, i in enumerate(pool):
            pid = self.catalog.item(i).product_id
            if pid not in best or scores[j] > scores[best[pid]]:
                best[pid] = j
        keep = sorted(best.values())
        return [pool[j] for j in keep], scores[keep]

    def _select(self, request, history, pool, scores, fav_cats) -> tuple[list[tuple[int, float]], set[int]]:
        p = self.policy
        k = min(request.k, len(pool))
        n_explore = max(1, round(k * p.surprise_share)) if request.surprise else (p.explore_slots if k >= 4 else 0)
        lam = p.surprise_mmr_lambda if request.surprise else p.mmr_lambda
        # Reproducible per user, session and state: the same request gives the same list until
        # something changes (new feedback moves the seed).
        seed_text = f"{request.user_id}|{request.session_id}|{len(history.items)}|{request.surprise}"
        rng = np.random.default_rng(int(hashlib.sha256(seed_text.encode()).hexdigest()[:8], 16))
        vecs = self.catalog.content[pool]
        chosen: list[int] = []
        for _ in range(k - n_explore):
            j = mmr_pick(scores, vecs, chosen, lam)
            if j is None:
                break
            chosen.append(j)
        explored: set[int] = set()
        seen_cats = fav_cats | {self.catalog.item(i).category for i in history.items}
        seen_cats |= {self.catalog.item(pool[j]).category for j in chosen}
        for _ in range(n_explore):
            rest = [j for j in range(len(pool)) if j not in chosen]
            fresh = [j for j in rest if self.catalog.item(pool[j]).category not in seen_cats] or rest
            if not fresh:
                break
            # Thompson-style draw: uncertainty shrinks with how often an item was bought.
            sigma = p.explore_noise / np.sqrt(self.popularity[[pool[j] for j in fresh]])
            draw = scores[fresh] + sigma * rng.standard_normal(len(fresh))
            j = fresh[int(np.argmax(draw))]
            chosen.append(j)
            explored.add(pool[j])
            seen_cats.add(self.catalog.item(pool[j]).category)
        return [(pool[j], scores[j]) for j in chosen], explored

    def _reason(self, it: Item, source: str, history: _History, liked: set, fav: set, request) -> str:
        if source == "explore":
            return REASONS["explore_category"].format(category=it.category.replace("-", " "))
        brand = (it.brand or "").lower()
        if brand and brand in liked:
            return REASONS["liked_brand"].format(brand=it.brand)
        if history.items:
            # The history item that best explains this one: most shared buyers, else closest content.
            product_of = {self.catalog.item(i).product_id: (i, k) for i, k in zip(history.items, history.kinds)}
            best = max(product_of.values(), key=lambda ik: self.co.get(ik[0], {}).get(it.index, 0))
            co_bought = self.co.get(best[0], {}).get(it.index, 0) > 0
            if co_bought and source == "model":  # the model read the history: say which item led here
                return REASONS[VERB.get(best[1], "viewed")].format(name=self.catalog.item(best[0]).name)
            if co_bought:
                return REASONS["co_bought"].format(name=self.catalog.item(best[0]).name)
            sims = [float(self.catalog.content[i] @ self.catalog.content[it.index]) for i, _ in product_of.values()]
            i, kind = list(product_of.values())[int(np.argmax(sims))]
            # The model's scores always follow the history; popularity's only when content is close.
            if source == "model" or max(sims) >= 0.5:
                return REASONS[VERB.get(kind, "viewed")].format(name=self.catalog.item(i).name)
        if brand and brand in fav:
            return REASONS["favourite_brand"].format(brand=it.brand)
        if request.category:
            return REASONS["popular_category"].format(category=it.category.replace("-", " "))
        return REASONS["popular"]


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """What identifies a version of the model file: its modification time and size (None: absent)."""
    try:
        st = path.stat() if path is not None else None
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if st else None


def _z(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return (x - x.mean()) / std if std > 1e-9 else x - x.mean()
