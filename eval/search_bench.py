"""`aisle bench search`: index build throughput and hybrid-search latency on a generated catalog.

The generator (`generate_catalog`) draws each product from fixed word lists with a seeded RNG:
"<Brand> <adjective> <material> <noun>" in the noun's category, a one-sentence description, a
rating, and `--variants` variants (colour × size options, price around the noun's base price,
10 % out of stock). Texts are short, like real titles; the same seed gives the same catalog, so
a re-run reuses the cached vectors and the existing index.

Latency is measured end to end on `Search.search` (query parsing, query embedding, BM25,
dense retrieval under a price filter, fusion, variant scoring), one query at a time after a
warm-up, on queries like "red cotton hoodie under $80". Vectors are cached by text (see
`retrieval/search/index.py`), so only the first run at a size pays for embedding the catalog.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from retrieval.config import get_settings
from retrieval.embedder import embed_query
from retrieval.search import CatalogIndex, Search, SearchRequest
from retrieval.store.schema import ProductRecord, VariantRecord

NOUNS = {  # noun: (category, base price USD)
    "hoodie": ("clothing", 45), "t-shirt": ("clothing", 20), "jacket": ("clothing", 90), "jeans": ("clothing", 60),
    "dress": ("womens-dresses", 70), "sneakers": ("shoes", 85), "boots": ("shoes", 120), "sandals": ("shoes", 35),
    "backpack": ("bags", 55), "tote bag": ("bags", 30), "wallet": ("bags", 25), "watch": ("watches", 150),
    "headphones": ("audio", 110), "earbuds": ("audio", 70), "speaker": ("audio", 60), "keyboard": ("computer-accessories", 80),
    "mouse": ("computer-accessories", 30), "monitor": ("computer-accessories", 220), "desk lamp": ("lighting", 40),
    "floor lamp": ("lighting", 85), "kettle": ("kitchen-appliances", 45), "blender": ("kitchen-appliances", 65),
    "coffee maker": ("kitchen-appliances", 95), "frying pan": ("kitchen-accessories", 35), "knife set": ("kitchen-accessories", 75),
    "water bottle": ("sports-accessories", 20), "yoga mat": ("sports-accessories", 30), "dumbbells": ("sports-accessories", 60),
    "tent": ("garden", 160), "garden hose": ("garden", 35), "office chair": ("furniture", 180), "bookshelf": ("furniture", 140),
    "sofa": ("furniture", 650), "pet bed": ("pet-supplies", 45), "smartphone": ("smartphones", 500), "tablet": ("tablets", 350),
    "laptop": ("laptops", 900), "camera": ("cameras", 450), "perfume": ("fragrances", 80), "lipstick": ("beauty", 18),
}
BRANDS = ["Northwind", "Acme", "Brightline", "Oakridge", "Lumen", "Vertex", "Kestrel", "Harbor", "Solace", "Nimbus",
          "Granite", "Willow", "Pioneer", "Zephyr", "Atlas", "Cobalt", "Juniper", "Sierra", "Maple & Co", "Trailhead"]
ADJECTIVES = ["classic", "slim", "lightweight", "premium", "compact", "rugged", "vintage", "modern", "ergonomic",
              "waterproof", "wireless", "portable", "everyday", "deluxe", "eco", "quiet", "heavy-duty", "soft", "sport", "travel"]
MATERIALS = ["cotton", "polyester", "leather", "wool", "nylon", "bamboo", "steel", "aluminium", "glass", "ceramic",
             "plastic", "wood", "linen", "canvas", "silicone"]
COLORS = ["black", "white", "red", "blue", "green", "gray", "navy", "brown", "pink", "yellow", "purple", "beige"]
SIZES = ["XS", "S", "M", "L", "XL", "small", "medium", "large"]


def generate_catalog(n_products: int, variants: int = 1, seed: int = 7) -> list[ProductRecord]:
    rng = random.Random(seed)
    nouns = list(NOUNS)
    products = []
    for i in range(n_products):
        noun, brand, adj, material = rng.choice(nouns), rng.choice(BRANDS), rng.choice(ADJECTIVES), rng.choice(MATERIALS)
        category, base = NOUNS[noun]
        pid = f"gen-{i:07d}"
        model = f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXZ')}{rng.randint(10, 999)}"
        items = []
        for j in range(variants):
            items.append(VariantRecord(
                item_id=f"{pid}-{j}", product_id=pid,
                options={"color": rng.choice(COLORS), "size": rng.choice(SIZES)},
                price=round(base * rng.uniform(0.5, 1.8), 2), available=rng.random() > 0.1,
            ))
        products.append(ProductRecord(
            product_id=pid, source="generated", name=f"{brand} {adj} {material} {noun} {model}", category=category,
            brand=brand, rating=round(rng.uniform(2.5, 5.0), 1),
            description=f"A {adj} {noun} made of {material} by {brand}, model {model}.",
            variants=items,
        ))
    return products


def bench_queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        noun = rng.choice(list(NOUNS))
        limit = int(NOUNS[noun][1] * rng.uniform(0.8, 1.5))
        form = rng.randrange(3)
        if form == 0:
            out.append(f"{rng.choice(COLORS)} {rng.choice(MATERIALS)} {noun} under ${limit}")
        elif form == 1:
            out.append(f"{rng.choice(ADJECTIVES)} {noun} size {rng.choice(SIZES)} below {limit} dollars")
        else:
            out.append(f"{rng.choice(BRANDS)} {noun} between {limit // 2} and {limit}")
    return out


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 2)


def main(
    products: Annotated[int, typer.Option(help="Catalog size (generated products).")] = 100_000,
    variants: Annotated[int, typer.Option(help="Variants per product (each is one indexed item).")] = 1,
    queries: Annotated[int, typer.Option(help="Timed queries.")] = 200,
    path: Annotated[Path | None, typer.Option(help="Chroma folder for the bench index; default: <data dir>/bench-chroma.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Index build throughput and hybrid search latency (price filter) on a generated catalog."""
    import chromadb

    if products < 1 or variants < 1 or queries < 1:
        typer.secho("error: --products, --variants and --queries must be at least 1", fg="red", err=True)
        raise typer.Exit(1)
    progress = not as_json
    start = time.perf_counter()
    catalog = generate_catalog(products, variants)
    generate_s = time.perf_counter() - start
    folder = path or get_settings().data_dir / "bench-chroma"
    client = chromadb.PersistentClient(path=str(folder), settings=chromadb.Settings(anonymized_telemetry=False))
    index = CatalogIndex(client, name=f"bench_{products}x{variants}")
    report = index.sync(catalog, progress=progress)
    items = products * variants
    start = time.perf_counter()
    search = Search(index)
    load_s = time.perf_counter() - start
    texts = list(dict.fromkeys(bench_queries(3 * queries + 10)))[: queries + 10]  # distinct queries
    for q in texts[:10]:  # warm-up: model load, caches
        search.search(SearchRequest(query=q, k=10))
    latencies, cpu, embed_cpu, rest_cpu, empty = [], [], [], [], 0
    for q in tqdm(texts[10:], desc="timing queries", unit="query", disable=not progress):
        # The query vector first (the search then finds it in embed_query's cache): the same work
        # as one search, timed in two parts.
        t0, c0 = time.perf_counter(), time.process_time()
        embed_query(search.parser.parse(q)[0].text)
        c1 = time.process_time()
        resp = search.search(SearchRequest(query=q, k=10))
        latencies.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        embed_cpu.append(c1 - c0)
        rest_cpu.append(time.process_time() - c1)
        empty += not resp.hits
        if resp.parsed.max_price is None:
            raise RuntimeError(f"bench query without a parsed price filter: {q!r}")
    result = {
        "products": products, "items": items, "generate_s": round(generate_s, 2),
        "index": {**report.model_dump(), "items_per_s": round((report.added + report.updated) / report.seconds, 1)
                  if report.added + report.updated else None},
        "search_load_s": round(load_s, 2),
        "query_latency_ms": {"p50": _pct(latencies, 0.5), "p95": _pct(latencies, 0.95), "max": _pct(latencies, 1.0)},
        # CPU time of the whole process (all threads, Chroma's included) per query: what a query
        # costs when the machine is not shared; the wall-clock figures above include waiting.
        "query_cpu_ms": {"p50": _pct(cpu, 0.5), "p95": _pct(cpu, 0.95)},
        "embedding_cpu_ms": {"p50": _pct(embed_cpu, 0.5), "p95": _pct(embed_cpu, 0.95)},  # the query's MiniLM vector
        "rest_cpu_ms": {"p50": _pct(rest_cpu, 0.5), "p95": _pct(rest_cpu, 0.95)},  # parse, BM25, dense, fusion, variants
        "queries": len(latencies), "empty_results": empty,
    }
    typer.echo(json.dumps(result) if as_json else json.dumps(result, indent=2))
