"""Hybrid product search: BM25 + dense (Chroma) fused by reciprocal rank, answered at variant level.

1. The query is parsed (price, options, brand, category, stock; Chinese put into English).
2. Hard filters: price range, stock, excluded items, and an explicit category or brand.
3. BM25 and the dense index each rank items; reciprocal-rank fusion merges the two lists.
4. The best products are expanded to all their variants, and each variant is scored by the
   fused rank of the item and of its product, how many asked-for attributes it has, and quality.
   So "blue cotton t-shirt size M" returns the blue, cotton, size-M item, not just the t-shirt.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from retrieval.config import Settings, get_settings
from retrieval.embedder import embed_query
from retrieval.search.ann import DenseIndex
from retrieval.search.constraints import RELAX_ORDER, Constraints, relax_group
from retrieval.search.index import CatalogIndex, IndexContents, catalog_records
from retrieval.search.keyword import KeywordIndex
from retrieval.search.models import OptionBound, ParsedQuery, SearchHit, SearchRequest, SearchResponse
from retrieval.search.rerank import RerankModel, feature_matrix
from retrieval.search.query import Canon, QueryParser, Vocabulary, default_lexicon, measure, strip_modifiers

log = logging.getLogger(__name__)

RERANK_DEPTH = 100  # the fused candidates a re-ranker re-orders (it was trained on as many)
MAX_QUERY_CHARS = 500  # product queries are short; longer text is pasted noise and slows embedding


class SearchUnavailable(RuntimeError):
    """The index is missing and cannot be built (e.g. the store is not initialised)."""


@dataclass(frozen=True)
class Weights:
    """How the final score mixes its parts: a grid search on the dev sets (eval/data/search/*_dev.jsonl and
    shopper/dev.jsonl): product_rrf_k 5 / 20 / 60 × attributes 0.25 / 0.5 × item 0.2 / 0.4."""

    candidates: int = 100  # items each retriever contributes
    products: int = 30  # best products expanded to all their variants
    rrf_k: float = 60.0
    product_rrf_k: float = 5.0  # the same fusion over each list's distinct products (first ones count most)
    item: float = 0.4  # fused rank of the item itself
    product: float = 0.6  # fused rank of the item's product
    attributes: float = 0.25  # share of asked-for options/brand/category the item has (multiplier)
    quality: float = 0.05  # rating and availability, to break ties
    # Chinese queries' dense list: "e5" (the query as written, against the items' multilingual-e5
    # vectors), "minilm" (the lexicon's English against MiniLM's) or "both" (three lists fused).
    zh_dense: str = "e5"
    zh_dense_weight: float = 0.75  # its weight in the fusion (dev grid 0.5 / 0.75 / 1 / 1.5 / 2)


class CatalogTable:
    """Every indexed item's metadata as columns, for filtering and scoring without a round trip."""

    def __init__(self, ids: list[str], metadatas: list[dict], canon: Canon) -> None:
        self.ids = ids
        self.row = {item_id: i for i, item_id in enumerate(ids)}
        self.product_ids = [m.get("product_id", "") for m in metadatas]
        self.names = [m.get("name", "") for m in metadatas]
        self.brands = [m.get("brand") or None for m in metadatas]
        self.categories = [m.get("category", "") for m in metadatas]
        self.options = [json.loads(m.get("options_json") or "{}") for m in metadatas]
        self.prices = np.array([float(m.get("price", 0.0)) for m in metadatas], dtype=np.float64)
        self.available = np.array([bool(m.get("available", False)) for m in metadatas], dtype=bool)
        self.ratings = np.array([float(m.get("rating", -1.0)) for m in metadatas], dtype=np.float64)
        self.category_array = np.array(self.categories, dtype=object)
        self.brand_array = np.array([(b or "").lower() for b in self.brands], dtype=object)
        self.option_classes = [{canon.value(v) for v in opts.values()} for opts in self.options]
        # The words of each name: an item without options still "has" the colour its name says ("Red Lipstick").
        self.name_words = [set(re.findall(r"[\w-]+", canon.text(n))) for n in self.names]
        self.measures = [[(k.lower(), *m) for k, v in opts.items() if (m := measure(k, v))] for opts in self.options]
        self.product_rows: dict[str, list[int]] = {}
        for i, pid in enumerate(self.product_ids):
            self.product_rows.setdefault(pid, []).append(i)
        quality = np.where(self.ratings >= 0, self.ratings / 5.0, 0.5)
        self.quality = 0.7 * quality + 0.3 * self.available

    def __len__(self) -> int:
        return len(self.ids)


class Search:
    """Product search over the catalog index. Thread-safe for concurrent `search` calls.

    Without a reachable index (`index=None`, given the `products`) it searches by keywords only and
    says so in every response's notes; `from_settings` then keeps trying to reach the index in the
    background and turns meaning-based retrieval back on when it answers.
    """

    def __init__(self, index: CatalogIndex | None, weights: Weights = Weights(), products: list | None = None,
                 retry_s: float = 30.0, reranker: RerankModel | None = None) -> None:  # fmt: skip
        if index is None and products is None:
            raise ValueError("give the catalog index, or the products to search by keywords only")
        self.index = index
        self.weights = weights
        self.reranker = reranker  # optional learned re-ordering of the fused candidates (rerank.py)
        self._products = products
        self.retry_s = retry_s
        self.degraded: str | None = None if index is not None else "the semantic index is unavailable: results match keywords only"
        self.refresh()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, progress: bool = True) -> Search:
        """Open the index named by the settings; build it from the store first if it is empty.
        If the index cannot be reached (Chroma server down, index directory unreadable), search by
        keywords over the store's products and reconnect in the background."""
        from retrieval.store import Store

        settings = settings or get_settings()
        store = Store(settings.db_url)
        try:
            return cls(_open_index(settings, store, progress), retry_s=settings.chroma_retry_s)
        except SearchUnavailable:
            raise
        except Exception as exc:
            if not store.is_seeded():
                raise SearchUnavailable(f"the store at {settings.db_url} is not initialised; run `aisle store init`") from exc
            log.warning("catalog index unavailable (%s: %s); searching by keywords only", type(exc).__name__, str(exc)[:200])
            search = cls(None, products=store.products(), retry_s=settings.chroma_retry_s)
            threading.Thread(target=search._reconnect, args=(lambda: _open_index(settings, store, False),),
                             daemon=True, name="aisle-search-reconnect").start()  # fmt: skip
            return search

    def _reconnect(self, open_index) -> None:
        """Try the index every `retry_s` seconds; once it answers, add its vectors and use it."""
        while self.index is None:
            time.sleep(self.retry_s)
            try:
                index = open_index()
                contents = index.contents()
            except Exception as exc:
                log.info("catalog index still unavailable: %s", type(exc).__name__)
                continue
            by_id = dict(zip(contents.ids, contents.vectors()))
            zero = np.zeros(384, dtype=np.float32)
            # Same table, new vectors: concurrent searches never see a half-swapped catalog.
            self.vectors = np.stack([by_id.get(i, zero) for i in self.table.ids]) if len(self.table) else self.vectors
            self.index, self.degraded = index, None
            log.warning("catalog index reachable again: meaning-based search is back")

    def refresh(self) -> None:
        """Re-read the index (after `CatalogIndex.sync`)."""
        if self.index is None:  # keyword-only: the same records the index would hold, from the store
            ids, documents, metadatas = catalog_records(self._products or [])
            contents = IndexContents(ids=ids, documents=documents, metadatas=metadatas)
        else:
            contents = self.index.contents()
        lexicon = default_lexicon()
        canon = Canon(lexicon)
        self.canon = canon
        self.table = CatalogTable(contents.ids, contents.metadatas, canon)
        self.vectors = contents.vectors()  # dense retrieval in memory (see dense_ranking)
        self._dense_e5 = DenseIndex(contents.e5) if contents.e5 is not None else None
        self.keyword = KeywordIndex(contents.documents)
        vocab = Vocabulary.from_catalog(
            self.table.options, [b for b in set(self.table.brands) if b], sorted(set(self.table.categories)), canon
        )
        t = self.table
        self.constraints = Constraints(t.names, t.categories, t.brands, t.options, t.option_classes, t.prices,
                                       t.available, vocab, lexicon, canon)  # fmt: skip
        self.parser = QueryParser(vocab, lexicon, types=self.constraints.types)

    # -- single retrievers, also the baselines of `aisle eval search` ------------------------------

    def keyword_ranking(self, text: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores = self.keyword.scores(text)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        return _top(scores, n)

    def dense_ranking(self, text: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest items by meaning (cosine), best first, only among `mask` when given.

        Scored in memory from the vectors read out of the index at load time (`ann.DenseIndex`:
        exact for small catalogs, k-means cells for large ones). Chroma's HNSW needed a `where`
        filter (~10x slower) or an over-fetch growing with 1 / (share passing the filters); at
        20k items that cost 7.7 / 26.6 ms CPU p50 / p95 against 2.7 / 6.2 ms here (docs/search.md).
        """
        if not text.strip() or not len(self.table) or self.index is None:
            return []
        return self._dense.top(embed_query(text), n, mask)

    @property
    def multilingual(self) -> bool:
        """Whether Chinese queries can be searched by meaning with multilingual-e5 (`dense_e5_ranking`)."""
        return self._dense_e5 is not None and self.index is not None

    def dense_e5_ranking(self, text: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest items to the text as written (any language) by multilingual-e5; [] without e5 vectors."""
        if not text.strip() or not len(self.table) or not self.multilingual:
            return []
        from retrieval import e5

        return self._dense_e5.top(e5.embed_query(text), n, mask)

    @property
    def vectors(self) -> np.ndarray:
        return self._dense.vectors

    @vectors.setter
    def vectors(self, vectors: np.ndarray) -> None:
        self._dense = DenseIndex(vectors)  # built before it is swapped in: concurrent searches see one or the other

    # -- the pipeline ---------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        resp = self._search(request)
        resp.understood = understood(resp.parsed)
        return resp

    def _search(self, request: SearchRequest) -> SearchResponse:
        notes: list[str] = [self.degraded] if self.degraded else []
        query = request.query or ""
        if len(query) > MAX_QUERY_CHARS:
            query = query[:MAX_QUERY_CHARS]
            notes.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
        parsed, parse_notes = self.parser.parse(query)
        notes += parse_notes
        corrected = self.keyword.correct(parsed.text)
        if corrected != parsed.text:
            notes.append(f"searched for '{corrected}'")
            parsed.text = corrected
        self._apply_explicit(request, parsed)
        self.constraints.read(parsed, strict=request.strict)
        if parsed.min_price is not None and parsed.max_price is not None and parsed.min_price > parsed.max_price:
            notes.append(f"min_price {parsed.min_price:g} is above max_price {parsed.max_price:g}: nothing can match")
            return SearchResponse(parsed=parsed, notes=notes)
        hard_category, hard_brand = self._explicit_filters(request, parsed, notes)
        mask = self._mask(parsed, hard_category, hard_brand, request.exclude_item_ids)
        if not len(self.table):
            return SearchResponse(parsed=parsed, notes=notes + ["the catalog index is empty"])
        relaxed: list[str] = []
        if request.strict:
            mask, relaxed = self._strict(parsed, hard_category, hard_brand, request.exclude_item_ids)
        if not mask.any():
            return SearchResponse(parsed=parsed, notes=notes + ["no item passes the filters (" + _describe(parsed) + ")"])
        has_text = re.search(r"\w", parsed.text) is not None or bool(self._e5_query(parsed, query))
        if not has_text and not (parsed.options or parsed.category or parsed.brand or _has_filter(parsed)):
            return SearchResponse(parsed=parsed, notes=notes + ["the query has no words to search for"])
        rows, parts = self._score(parsed, mask, has_text, query)
        if self.reranker is not None and has_text and rows:
            rows = self._rerank(rows, parts, parsed)
        if has_text and rows and not any(p["bm25"] > 0 for p in parts.values()):
            notes.append("no keyword of the query occurs in the catalog: results are the closest in meaning")
        if "max_price" in relaxed or "min_price" in relaxed:  # nearest to the limit first: "the cheapest is $147.05"
            over = "max_price" in relaxed
            rows = sorted(rows, key=lambda r: (self.table.prices[r] if over else -self.table.prices[r]))
        checks = self.constraints.checks(parsed)
        hits = [self._hit(r, parts[r], parsed, checks) for r in rows[: request.k]]
        return SearchResponse(hits=hits, parsed=parsed, notes=notes, relaxed=relaxed)

    def _strict(self, parsed: ParsedQuery, category, brand, exclude: list[str]) -> tuple[np.ndarray, list[str]]:
        """The items satisfying every constraint; if there are none, the constraints given up, in
        RELAX_ORDER (alone first, then cumulatively), so the nearest items can be offered instead."""
        base = self._mask(parsed.model_copy(update={"min_price": None, "max_price": None, "in_stock": None}),
                          category, brand, exclude)  # fmt: skip
        masks = [(c.label, self.constraints.mask(c, parsed)) for c in self.constraints.checks(parsed)]

        def allowed(dropped: set[str]) -> np.ndarray:
            mask = base.copy()
            for label, m in masks:
                if relax_group(label) not in dropped:
                    mask &= m
            return mask

        full = allowed(set())
        if full.any() or not masks:
            return full, []
        present = [g for g in RELAX_ORDER if any(relax_group(label) == g for label, _ in masks)]
        for group in present:
            if (mask := allowed({group})).any():
                return mask, [label for label, _ in masks if relax_group(label) == group]
        dropped: set[str] = set()
        for group in present:
            dropped.add(group)
            if (mask := allowed(dropped)).any():
                return mask, [label for label, _ in masks if relax_group(label) in dropped]
        return allowed(dropped), [label for label, _ in masks if relax_group(label) in dropped]

    def understand(self, query: str) -> ParsedQuery:
        """The constraints a text states (type, price, options, brand, stock, "not X"), without searching:
        lets a dialogue read a follow-up ("in blue", "under 50") as changes to the last search."""
        parsed, _ = self.parser.parse((query or "")[:MAX_QUERY_CHARS])
        self.constraints.read(parsed)
        return parsed

    def _apply_explicit(self, request: SearchRequest, parsed: ParsedQuery) -> None:
        for name in ("min_price", "max_price", "category", "brand", "in_stock"):
            value = getattr(request, name)
            if value is not None:
                setattr(parsed, name, value)
        if request.options:
            parsed.options = {**parsed.options, **request.options}
        if request.product_type:
            parsed.product_type = request.product_type
        parsed.exclude = list(dict.fromkeys([*parsed.exclude, *request.exclude]))

    def _explicit_filters(self, request: SearchRequest, parsed: ParsedQuery, notes: list[str]):
        """Explicit category/brand are hard filters when the catalog knows them; else a note."""
        category = brand = None
        if request.category is not None:
            slug = request.category.strip().lower().replace(" ", "-")
            known = sorted(set(self.table.categories))
            if slug in known:
                category = parsed.category = slug
            else:
                close = difflib.get_close_matches(slug, known, n=3)
                notes.append(
                    f"unknown category '{request.category}'; searched all categories"
                    + (f" (did you mean {', '.join(close)}?)" if close else "")
                )
                parsed.category = None
        if request.brand is not None:
            if request.brand.strip().lower() in set(self.table.brand_array.tolist()):
                brand = request.brand.strip().lower()
            else:
                notes.append(f"unknown brand '{request.brand}'; searched all brands")
                parsed.brand = None
        return category, brand

    def filter_mask(self, parsed: ParsedQuery) -> np.ndarray:
        """The items a parsed query's price and stock limits let through (the baselines' filter)."""
        return self._mask(parsed, None, None, [])

    def _mask(self, parsed: ParsedQuery, category, brand, exclude: list[str]) -> np.ndarray:
        t = self.table
        mask = np.ones(len(t), dtype=bool)
        if parsed.min_price is not None:
            mask &= t.prices >= parsed.min_price
        if parsed.max_price is not None:
            mask &= t.prices <= parsed.max_price
        if parsed.in_stock:
            mask &= t.available
        if category:
            mask &= t.category_array == category
        if brand:
            mask &= t.brand_array == brand
        for item_id in exclude:
            if (row := t.row.get(item_id)) is not None:
                mask[row] = False
        for check in self.constraints.exclusions(parsed, types=False):  # "not leather", "no Nike": never shown
            mask &= self.constraints.mask(check, parsed)
        return mask

    def _e5_query(self, parsed: ParsedQuery, query: str) -> str:
        """The text a Chinese query is searched with by multilingual-e5 ('' when it is not): as written."""
        if parsed.lang == "zh" and self.multilingual and self.weights.zh_dense in ("e5", "both"):
            return query.strip()
        return ""

    def _lists(self, parsed: ParsedQuery, query: str, mask: np.ndarray) -> list[tuple[str, list, float]]:
        """The ranked lists fused, with their weights: BM25 and MiniLM on the searched (English) text;
        for a Chinese query with e5 vectors indexed, e5 on the query as the shopper wrote it in place of
        MiniLM. (Weighting BM25 by the share of the query's Chinese the lexicon could read scored lower
        on the shopper dev split: 0.909 against 0.923.)"""
        n, w = self.weights.candidates, self.weights
        keyword = [(r, sc) for r, sc in self.keyword_ranking(parsed.text, n, mask) if sc > 0] if re.search(r"\w", parsed.text) else []
        e5_text = self._e5_query(parsed, query)
        if not e5_text:
            return [("bm25", keyword, 1.0), ("dense", self.dense_ranking(parsed.text, n, mask), 1.0)]
        # A product type the lexicon read bounds e5's list: e5 reads the whole query, and a short
        # Chinese query it reads wrongly (抓绒外套 藏青色 as navy backpacks) would otherwise outvote
        # the keywords that name the type; within the type it still orders the variants.
        if parsed.product_type and (typed := mask & self.constraints.type_mask(parsed.product_type)).any():
            e5_mask = typed
        else:
            e5_mask = mask
        lists = [("bm25", keyword, 1.0), ("dense", self.dense_e5_ranking(e5_text, n, e5_mask), w.zh_dense_weight)]
        if w.zh_dense == "both":
            lists.append(("dense_en", self.dense_ranking(parsed.text, n, mask), 1.0))
        return lists

    def _score(self, parsed: ParsedQuery, mask: np.ndarray, has_text: bool, query: str = ""):
        w, t = self.weights, self.table
        fused: dict[int, float] = {}
        parts: dict[int, dict[str, float]] = {}

        def part(row: int) -> dict[str, float]:
            return parts.setdefault(row, {"bm25": 0.0, "dense": 0.0, "fused": 0.0})

        if has_text:
            lists = self._lists(parsed, query or parsed.text, mask)
            product_best: dict[str, float] = {}
            for name, ranking, weight in lists:
                seen: dict[str, int] = {}
                for rank, (row, score) in enumerate(ranking):
                    fused[row] = fused.get(row, 0.0) + weight / (w.rrf_k + rank + 1)
                    part(row)[name] = round(score, 4)
                    # A product's rank counts products, not variants: a product with many variants
                    # must not push a better-named product down the list by crowding it.
                    pid = t.product_ids[row]
                    if pid not in seen:
                        seen[pid] = len(seen)
                        product_best[pid] = product_best.get(pid, 0.0) + weight / (w.product_rrf_k + seen[pid] + 1)
            best = sum(weight for _, _, weight in lists) / (w.rrf_k + 1) or 1.0  # first in every list
            for pid in product_best:  # on the item's scale, so the item / product mix keeps its meaning
                product_best[pid] *= (w.product_rrf_k + 1) / (w.rrf_k + 1)
            top_products = sorted(product_best, key=product_best.get, reverse=True)[: w.products]
        else:  # filters only ("under $10"): the best-rated allowed items
            best, product_best = 1.0, {}
            allowed = _top(np.where(mask, t.quality, -1.0), w.candidates)
            top_products = list(dict.fromkeys(t.product_ids[i] for i, q in allowed if q >= 0))
        said = strip_modifiers(parsed.text, parsed.modifiers)  # 篮球框 does not say "Basketball"
        query_words = {_singular(w) for w in re.findall(r"[\w-]+", self.canon.text(said))} if has_text else None
        types = self.constraints.type_mask(parsed.product_type) if parsed.product_type else None
        scored: list[tuple[float, int]] = []
        for pid in top_products:
            for row in t.product_rows[pid]:
                if not mask[row]:
                    continue
                p = part(row)
                p["fused"] = round(fused.get(row, 0.0), 5)
                p["product"] = round(product_best.get(pid, 0.0), 5)
                p["attributes"] = round(self._attribute_match(row, parsed, query_words, types), 4)
                p["quality"] = round(float(t.quality[row]), 4)
                # Attributes scale the text relevance rather than add to it: a variant with the
                # asked-for options rises within its product, yet a product the text barely matched
                # does not jump ahead because it happens to come in blue.
                relevance = (w.item * p["fused"] + w.product * p["product"]) / best if has_text else 1.0
                score = relevance * (1.0 + w.attributes * p["attributes"]) + w.quality * p["quality"]
                scored.append((score, row))
                p["score"] = round(score, 5)
        scored.sort(key=lambda s: (-s[0], t.ids[s[1]]))
        return [row for _, row in scored], parts

    def _rerank(self, rows: list[int], parts: dict[int, dict[str, float]], parsed: ParsedQuery) -> list[int]:
        top = rows[:RERANK_DEPTH]
        x = feature_matrix([parts[r] for r in top], [float(self.table.prices[r]) for r in top], parsed)
        scores = self.reranker.scores(x)
        for r, score in zip(top, scores):
            parts[r]["fusion"], parts[r]["score"] = parts[r]["score"], round(float(score), 5)
        order = np.argsort(-scores, kind="stable")  # ties keep the fusion order
        return [top[i] for i in order] + rows[RERANK_DEPTH:]

    def _wanted(self, parsed: ParsedQuery) -> list[tuple[str, str | OptionBound]]:
        wanted: list[tuple[str, str | OptionBound]] = [(k, v) for k, v in parsed.options.items()]
        wanted += [("bound", b) for b in parsed.bounds]
        wanted += [("prefer", (key, end)) for key, end in parsed.prefer.items()]
        if parsed.brand:
            wanted.append(("brand", parsed.brand))
        if parsed.category:
            wanted.append(("category", parsed.category))
        return wanted

    def _attribute_match(self, row: int, parsed: ParsedQuery, query_words: set[str] | None = None,
                         types: np.ndarray | None = None) -> float:  # fmt: skip
        """Share of the asked-for options/brand/category the variant has; with the query's words, its
        product's whole name said counts as one more ("electric kettle" is the Electric Kettle, not
        a Tea Kettle for electric stoves); with the rows of the product type read, being of that type
        counts as one more (Apple's wireless charger is not the power bank of "powerbank with wireless
        charging")."""
        wanted = self._wanted(parsed)
        have = sum(self._has(row, k, v) for k, v in wanted)
        if types is not None:
            wanted.append(("type", ""))
            have += bool(types[row])
        if query_words is not None:
            name = {_singular(w) for w in self.table.name_words[row]}
            wanted.append(("name", ""))
            have += bool(name) and name <= query_words
        return have / len(wanted) if wanted else 0.0

    def _has(self, row: int, key: str, value) -> bool:
        t = self.table
        if key == "brand":
            return (t.brands[row] or "").lower() == value.lower()
        if key == "category":
            return t.categories[row] == value
        if key == "bound":
            return any(_within(value, name, number, unit) for name, number, unit in t.measures[row])
        if key == "prefer":
            return self._at_end(row, *value)
        return self._has_value(row, value)

    def _at_end(self, row: int, key: str, end: str) -> bool:
        """Whether the variant's value of the option is its product's largest ('most') or smallest."""
        t = self.table
        order = {v: i for i, v in enumerate(self.parser.lexicon.ordinal_values)}

        def rank(r: int) -> float | None:
            value = t.options[r].get(key)
            if value is None:
                return None
            if (m := measure(key, value)) is not None:
                return m[0]
            return order.get(self.canon.text(value))

        mine = rank(row)
        if mine is None:
            return False
        ranks = [x for r in t.product_rows[t.product_ids[row]] if (x := rank(r)) is not None]
        return mine == (max(ranks) if end == "most" else min(ranks))

    def _has_value(self, row: int, value: str) -> bool:
        """An option value of the variant, or a word of its name when it has no option of that kind."""
        t = self.table
        if self.canon.value(value) in t.option_classes[row]:
            return True
        words = self.canon.text(value).split()
        return bool(words) and all(w in t.name_words[row] for w in words)

    def _hit(self, row: int, parts: dict[str, float], parsed: ParsedQuery, checks) -> SearchHit:
        t = self.table
        unmet = [c.label for c in checks if not c.ok(row)]
        return SearchHit(
            product_id=t.product_ids[row],
            item_id=t.ids[row],
            name=t.names[row],
            brand=t.brands[row],
            category=t.categories[row],
            options=t.options[row],
            price=float(t.prices[row]),
            available=bool(t.available[row]),
            rating=float(t.ratings[row]) if t.ratings[row] >= 0 else None,
            score=parts.get("score", 0.0),
            score_parts={k: v for k, v in parts.items() if k != "score"},
            why=self._why(row, parts, parsed, unmet),
            unmet=unmet,
        )

    def _why(self, row: int, parts: dict[str, float], parsed: ParsedQuery, unmet: list[str]) -> str:
        """What the item has of what was asked; if it misses a stated constraint, only that (a nearest
        match is never also called a match)."""
        t = self.table
        if unmet:
            return "nearest match: " + "; ".join(self._missed(label, row, parsed) for label in unmet)
        said: list[str] = []
        if parsed.product_type:
            said.append(parsed.product_type)
        have = [_shown(v, k) for k, v in self._wanted(parsed) if k != "category" and self._has(row, k, v)]
        if has := [h for h in have if not h.startswith("not ")]:
            said.append("has " + ", ".join(has))
        said += [h for h in have if h.startswith("not ")]  # "not waterproof", not "has not waterproof"
        if parsed.exclude:
            said.append("not " + ", ".join(parsed.exclude))
        if parsed.min_price is not None or parsed.max_price is not None:
            said.append(f"${t.prices[row]:.2f} within {_price_range(parsed)}")
        how = [name for name, key in (("keywords", "bm25"), ("meaning", "dense")) if parts.get(key, 0) > 0]
        if how:
            said.append("matches by " + " and ".join(how))
        if not t.available[row]:
            said.append("out of stock")
        return "; ".join(said) or "best available match"

    def _missed(self, label: str, row: int, parsed: ParsedQuery) -> str:
        price = f"${self.table.prices[row]:.2f}"
        if label == "max_price":
            return f"{price}, above ${parsed.max_price:g}"
        if label == "min_price":
            return f"{price}, below ${parsed.min_price:g}"
        if label == "in_stock":
            return "out of stock"
        if label == "product_type":
            return f"not {parsed.product_type}"
        if label == "brand":
            return f"not {parsed.brand}"
        if label.startswith("option:"):
            key = label[7:]
            value = parsed.options.get(key)
            if value is not None and value.lower() in ("yes", "no"):  # missing "waterproof = no" is being waterproof
                return _option_shown(key, "no" if value.lower() == "yes" else "yes")
            return f"not {value or key}"
        return f"is {label.split(':', 1)[1]}"  # exclude:<value>


def _open_index(settings: Settings, store, progress: bool) -> CatalogIndex:
    index = CatalogIndex.from_settings(settings)
    count = index.count()
    # An index built before the e5 collection existed, whose e5 pass was cut short, or made by the other e5
    # engine would leave Chinese queries to the lexicon alone, or mismatched: bring it up to date (item
    # vectors come from the per-machine cache where they were embedded before).
    stale_e5 = count > 0 and not index.multilingual_current()
    if count == 0 or stale_e5:
        if not store.is_seeded():
            raise SearchUnavailable(f"the store at {settings.db_url} is not initialised; run `aisle store init`")
        if stale_e5:
            log.warning("search: the index's multilingual vectors are incomplete or from another e5 engine "
                        "(%d of %d items); updating them", index.multilingual.count(), count)
        index.sync(store.products(), progress=progress)
    return index


def _top(scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    n = min(n, len(scores))
    if n <= 0:
        return []
    idx = np.argpartition(-scores, n - 1)[:n]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx]


def _within(bound: OptionBound, option: str, number: float, unit: str) -> bool:
    if unit != bound.unit or (bound.option is not None and bound.option.lower() != option):
        return False
    if bound.low is not None and (number <= bound.low if bound.strict else number < bound.low):
        return False
    if bound.high is not None and (number >= bound.high if bound.strict else number > bound.high):
        return False
    return True


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _option_shown(key: str, value: str) -> str:
    """An option as a shopper says it: a yes/no option by its name ("waterproof", "not waterproof")."""
    if key.split()[:1] == ["size"] and len(value) <= 4:
        return f"size {value}"
    return key if value.lower() == "yes" else f"not {key}" if value.lower() == "no" else value


def _shown(value, key: str = "") -> str:
    if isinstance(value, str) and key not in ("bound", "prefer", "brand", "category"):
        return _option_shown(key, value)
    if isinstance(value, tuple):  # ("capacity", "most"): the end of a range asked for
        return f"the {'largest' if value[1] == 'most' else 'smallest'} {value[0]}"
    return value.said if isinstance(value, OptionBound) else str(value)


def _has_filter(parsed: ParsedQuery) -> bool:
    return parsed.min_price is not None or parsed.max_price is not None or bool(parsed.in_stock)


def _price_range(parsed: ParsedQuery) -> str:
    if parsed.min_price is not None and parsed.max_price is not None:
        return f"${parsed.min_price:g}–${parsed.max_price:g}"
    if parsed.max_price is not None:
        return f"≤ ${parsed.max_price:g}"
    return f"≥ ${parsed.min_price:g}"


def understood(parsed: ParsedQuery) -> str:
    """What was understood, shortest first: "t-shirt · blue · cotton · size M · ≤ $60 · not leather"."""
    bits = [parsed.product_type] if parsed.product_type else []
    bits += [_option_shown(k, v) for k, v in parsed.options.items()]
    bits += [b.said for b in parsed.bounds]
    bits += [f"{'largest' if end == 'most' else 'smallest'} {key}" for key, end in parsed.prefer.items()]
    if parsed.brand:
        bits.append(parsed.brand)
    if parsed.category and not parsed.product_type:
        bits.append(parsed.category.replace("-", " "))
    if parsed.min_price is not None or parsed.max_price is not None:
        bits.append(_price_range(parsed))
    if parsed.in_stock:
        bits.append("in stock")
    bits += [f"not {v}" for v in parsed.exclude]
    return " · ".join(bits)


def _describe(parsed: ParsedQuery) -> str:
    bits = []
    if parsed.min_price is not None or parsed.max_price is not None:
        bits.append("price " + _price_range(parsed))
    if parsed.in_stock:
        bits.append("in stock")
    if parsed.category:
        bits.append(f"category {parsed.category}")
    if parsed.brand:
        bits.append(f"brand {parsed.brand}")
    bits += [f"not {v}" for v in parsed.exclude]
    return ", ".join(bits) or "excluded items"
