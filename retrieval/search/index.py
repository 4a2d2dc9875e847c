"""The catalog index: one Chroma record per variant (item), embedded with the packaged MiniLM.

A second collection (`<name>_e5`) holds the same items' multilingual-e5 vectors (`retrieval.e5`),
which Chinese queries are searched with; `multilingual=False` leaves it out (the e5 pass costs
~7 ms of CPU per item with the default engine).

Embedded Chroma (`PersistentClient` in `chroma_dir`) by default, a Chroma server when
`AISLE_CHROMA_URL` is set. `CatalogIndex.sync` upserts only records whose content hash changed,
so re-running `aisle index` after a catalog edit embeds just the edited items.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import platformdirs
from pydantic import BaseModel

import retrieval.config  # noqa: F401  (offline environment before chromadb / sentence-transformers)
from retrieval.config import Settings, get_settings
from retrieval import e5
from retrieval.embedder import embed
from retrieval.store.schema import ProductRecord, VariantRecord

import chromadb
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

COLLECTION = "aisle_variants"
OPTION_PREFIX = "opt_"
_DESCRIPTION_CHARS = 300  # enough for the gist; long texts only dilute the vector


class _PackagedEmbeddingFunction(EmbeddingFunction[Documents]):
    """A Chroma embedding function over a model that ships in a package, never a download; the
    subclasses name the model and embed (Chroma registers each by its name)."""

    def __init__(self) -> None:
        pass

    def get_config(self) -> dict:
        return {}

    @classmethod
    def build_from_config(cls, config: dict) -> _PackagedEmbeddingFunction:
        return cls()

    def default_space(self) -> str:
        return "cosine"


@register_embedding_function
class MiniLMEmbeddingFunction(_PackagedEmbeddingFunction):
    """The one shared MiniLM (`retrieval.embedder`)."""

    def __call__(self, input: Documents) -> Embeddings:
        return list(cached_embed(list(input)))

    @staticmethod
    def name() -> str:
        return "aisle-minilm-l6-v2"


@register_embedding_function
class E5EmbeddingFunction(_PackagedEmbeddingFunction):
    """The packaged multilingual-e5 (`retrieval.e5`)."""

    def __call__(self, input: Documents) -> Embeddings:
        return list(cached_embed_e5(list(input)))

    @staticmethod
    def name() -> str:
        return "aisle-multilingual-e5-small"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class VectorCache:
    """Vectors by text hash, in memory and on disk (one .npz file per batch of new vectors).

    Shared by every data dir of the user (tests and evals build many indexes of the same
    catalog): a text is embedded once per machine, not once per index. One cache per model.
    """

    def __init__(self, directory: Path, embed_fn=None) -> None:
        self.directory = directory
        self.embed_fn = embed_fn or (lambda texts, show_progress=False: embed(texts, batch_size=64, show_progress=show_progress))
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            for path in sorted(self.directory.glob("*.npz")):
                try:
                    with np.load(path) as data:
                        self._vectors.update(zip(data["keys"].tolist(), data["vectors"]))
                except (OSError, ValueError, KeyError):  # a half-written file from a killed run
                    continue
        return self._vectors

    def embed(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        keys = [text_hash(t) for t in texts]
        with self._lock:
            vectors = self._load()
            missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in vectors))
        if missing:
            for start in range(0, len(missing), 1000):  # saved as it goes: a killed run keeps its work
                chunk = missing[start : start + 1000]
                fresh = self.embed_fn(chunk, show_progress=show_progress)
                new_keys = [text_hash(t) for t in chunk]
                with self._lock:
                    vectors.update(zip(new_keys, fresh))
                    self._save(new_keys, fresh)
        return np.stack([vectors[k] for k in keys])

    def _save(self, keys: list[str], vectors: np.ndarray) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{uuid.uuid4().hex}.tmp.npz"
            np.savez(tmp, keys=np.array(keys), vectors=vectors.astype(np.float32))
            os.replace(tmp, self.directory / f"{uuid.uuid4().hex}.npz")
        except OSError:  # a read-only cache dir only costs speed
            pass


def _cache_dir(model: str = "all-MiniLM-L6-v2") -> Path:
    # AISLE_VECTOR_CACHE moves it (MiniLM's there, e5's in a sibling folder); the default is the
    # user's cache dir, shared by all data dirs.
    default = Path(platformdirs.user_cache_dir("aisle", appauthor=False)) / "vectors" / "all-MiniLM-L6-v2"
    base = Path(os.environ.get("AISLE_VECTOR_CACHE", default))
    return base if model == "all-MiniLM-L6-v2" else base.with_name(f"{base.name}-{model}")


_CACHES: dict[str, VectorCache] = {}


def cached_embed(texts: list[str], show_progress: bool = False) -> np.ndarray:
    """MiniLM vectors of catalog texts, each text embedded once per machine."""
    return _cached("all-MiniLM-L6-v2", None, texts, show_progress)


def cached_embed_e5(texts: list[str], show_progress: bool = False) -> np.ndarray:
    """multilingual-e5 passage vectors of catalog texts, each text embedded once per machine (and
    per e5 engine: `AISLE_E5_ENGINE`'s two give slightly different vectors, never mixed)."""
    return _cached(e5.model_name(), lambda t, show_progress=False: e5.embed_passages(t), texts, show_progress)


def _cached(model: str, embed_fn, texts: list[str], show_progress: bool) -> np.ndarray:
    directory = _cache_dir(model)
    cache = _CACHES.get(model)
    if cache is None or cache.directory != directory:
        cache = _CACHES[model] = VectorCache(directory, embed_fn)
    return cache.embed(texts, show_progress=show_progress)


def variant_text(product: ProductRecord, variant: VariantRecord) -> str:
    """The text both retrievers see: name and the variant's own options first, then context."""
    parts = [product.name + "."]
    if variant.options:
        parts.append("; ".join(f"{k}: {v}" for k, v in variant.options.items()) + ".")
    if product.brand:
        parts.append(f"Brand: {product.brand}.")
    parts.append(f"Category: {product.category.replace('-', ' ')}.")
    if product.tags:
        parts.append("Tags: " + ", ".join(product.tags) + ".")
    if product.description:
        parts.append(product.description[:_DESCRIPTION_CHARS])
    return " ".join(parts)


def variant_metadata(product: ProductRecord, variant: VariantRecord) -> dict:
    meta: dict = {
        "product_id": product.product_id,
        "name": product.name,
        "brand": product.brand or "",
        "category": product.category,
        "price": float(variant.price),
        "available": bool(variant.available),
        "rating": float(product.rating) if product.rating is not None else -1.0,
        "n_reviews": len(product.reviews),
        "options_json": json.dumps(variant.options, ensure_ascii=False, sort_keys=True),
    }
    for key, value in variant.options.items():
        meta[OPTION_PREFIX + key.replace(" ", "_")] = value
    return meta


def catalog_records(products: Iterable[ProductRecord]) -> tuple[list[str], list[str], list[dict]]:
    ids, docs, metas = [], [], []
    for product in products:
        for variant in product.variants:
            text = variant_text(product, variant)
            meta = variant_metadata(product, variant)
            meta["content_hash"] = text_hash(text + json.dumps(meta, sort_keys=True))
            ids.append(variant.item_id)
            docs.append(text)
            metas.append(meta)
    return ids, docs, metas


class SyncReport(BaseModel):
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    seconds: float = 0.0


def make_client(settings: Settings | None = None):
    settings = settings or get_settings()
    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


@dataclass
class IndexContents:
    ids: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    metadatas: list[dict] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)  # batches of unit vectors
    e5: np.ndarray | None = None  # multilingual-e5 vectors in the same row order; None: not indexed (all of them)

    def vectors(self) -> np.ndarray:
        return np.concatenate(self.embeddings) if self.embeddings else np.zeros((len(self.ids), 384), np.float32)


class CatalogIndex:
    def __init__(self, client, name: str = COLLECTION, multilingual: bool = True) -> None:
        self.client = client
        self.collection = client.get_or_create_collection(
            name,
            embedding_function=MiniLMEmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
        )
        # The same items' e5 vectors, for Chinese queries (ids and content hashes as above; no documents).
        self.multilingual = client.get_or_create_collection(
            f"{name}_e5",
            embedding_function=E5EmbeddingFunction(),
            configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
        ) if multilingual else None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> CatalogIndex:
        settings = settings or get_settings()
        return cls(make_client(settings), multilingual=settings.search_multilingual)

    def count(self) -> int:
        return self.collection.count()

    def _batch(self) -> int:
        try:
            return min(5000, self.client.get_max_batch_size())
        except Exception:  # older servers do not report it
            return 1000

    def sync(self, products: Iterable[ProductRecord], progress: bool = True) -> SyncReport:
        """Make the index hold exactly these products' variants, embedding only what changed."""
        import time

        from tqdm import tqdm

        start = time.perf_counter()
        ids, docs, metas = catalog_records(products)
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique across the catalog")
        existing = self.hashes()
        report = SyncReport()
        changed = [i for i, (id_, m) in enumerate(zip(ids, metas)) if existing.get(id_) != m["content_hash"]]
        report.unchanged = len(ids) - len(changed)
        report.added = sum(1 for i in changed if ids[i] not in existing)
        report.updated = len(changed) - report.added
        stale = sorted(set(existing) - set(ids))
        batch = self._batch()
        for start_at in range(0, len(stale), batch):
            self.collection.delete(ids=stale[start_at : start_at + batch])
        report.deleted = len(stale)
        with tqdm(total=len(changed), desc="indexing items", unit="item", disable=not progress or not changed) as bar:
            for start_at in range(0, len(changed), batch):
                rows = changed[start_at : start_at + batch]
                texts = [docs[i] for i in rows]
                self.collection.upsert(
                    ids=[ids[i] for i in rows],
                    documents=texts,
                    metadatas=[metas[i] for i in rows],
                    embeddings=cached_embed(texts),
                )
                bar.update(len(rows))
        if self.multilingual is not None:
            self._sync_multilingual(ids, docs, metas, batch, progress)
        report.seconds = round(time.perf_counter() - start, 3)
        return report

    def _sync_multilingual(self, ids: list[str], docs: list[str], metas: list[dict], batch: int, progress: bool) -> None:
        """The e5 collection follows the main one (its own hashes: an index built before it fills it
        now). Its hashes name the e5 engine too, so switching `AISLE_E5_ENGINE` re-embeds the items
        rather than searching one engine's query vectors against the other's item vectors."""
        from tqdm import tqdm

        got = self._get_all(include=["metadatas"], collection=self.multilingual)
        existing = {id_: (m or {}).get("content_hash", "") for id_, m in zip(got.ids, got.metadatas)}
        model = e5.model_name()
        hashes = [text_hash(m["content_hash"] + model) for m in metas]
        changed = [i for i, (id_, h) in enumerate(zip(ids, hashes)) if existing.get(id_) != h]
        stale = sorted(set(existing) - set(ids))
        for start_at in range(0, len(stale), batch):
            self.multilingual.delete(ids=stale[start_at : start_at + batch])
        step = min(batch, 1000)  # e5 is slow: smaller steps keep the progress bar honest
        with tqdm(total=len(changed), desc="multilingual vectors", unit="item", disable=not progress or not changed) as bar:
            for start_at in range(0, len(changed), step):
                rows = changed[start_at : start_at + step]
                self.multilingual.upsert(
                    ids=[ids[i] for i in rows],
                    metadatas=[{"content_hash": hashes[i]} for i in rows],
                    embeddings=cached_embed_e5([docs[i] for i in rows]),
                )
                bar.update(len(rows))

    def multilingual_current(self) -> bool:
        """Whether the e5 collection holds every item, by the current e5 engine (one item sampled: cheap at
        start-up; `sync` compares them all). True without an e5 collection."""
        if self.multilingual is None:
            return True
        if self.multilingual.count() != self.count():
            return False
        got = self.multilingual.get(limit=1, include=["metadatas"])
        if not got["ids"]:
            return True
        main = self.collection.get(ids=got["ids"][:1], include=["metadatas"])
        if not main["ids"]:
            return False
        expected = text_hash((main["metadatas"][0] or {}).get("content_hash", "") + e5.model_name())
        return (got["metadatas"][0] or {}).get("content_hash") == expected

    def hashes(self) -> dict[str, str]:
        got = self._get_all(include=["metadatas"])
        return {id_: (m or {}).get("content_hash", "") for id_, m in zip(got.ids, got.metadatas)}

    def contents(self) -> IndexContents:
        out = self._get_all(include=["documents", "metadatas", "embeddings"])
        if self.multilingual is not None and self.multilingual.count() == len(out.ids):
            got = self._get_all(include=["embeddings"], collection=self.multilingual)
            by_id = dict(zip(got.ids, got.vectors()))
            if all(i in by_id for i in out.ids):
                out.e5 = np.stack([by_id[i] for i in out.ids]) if out.ids else np.zeros((0, 384), np.float32)
        return out

    def _get_all(self, include: list[str], collection=None) -> IndexContents:
        collection = collection or self.collection
        out = IndexContents()
        total, batch = collection.count(), self._batch()
        for offset in range(0, total, batch):
            got = collection.get(include=include, limit=batch, offset=offset)
            out.ids += got["ids"]
            out.documents += got.get("documents") or [""] * len(got["ids"])
            out.metadatas += got.get("metadatas") or [{}] * len(got["ids"])
            if "embeddings" in include:
                out.embeddings.append(np.asarray(got["embeddings"], dtype=np.float32).reshape(-1, 384))
        return out

    def query(self, vector: np.ndarray, n: int, where: dict | None = None) -> tuple[list[str], list[float]]:
        """Nearest items to a unit query vector: ids and cosine similarities, best first."""
        n = max(1, n)  # Chroma returns fewer when the collection (or the filter) holds fewer
        got = self.collection.query(query_embeddings=[vector], n_results=n, where=where or None, include=["distances"])
        return got["ids"][0], [1.0 - d for d in got["distances"][0]]
