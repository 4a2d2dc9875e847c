"""`aisle eval search`: nDCG@10, Recall@10 and MRR of BM25, dense, their fusion and Aisle's pipeline.

Datasets (`--dataset`):
- `jsonl` (default): judgement files, one query per line
  `{"query": "...", "lang": "en", "relevant": {"<item_id>": 2, "<item_id>": 1}}` (2 = exact,
  1 = partial), scored against the demo store. Default: the derived τ-bench sets in
  eval/data/search/ (see eval/search_sets.py), split `--split test` (tune on `dev`).
- `wands --path DIR`: Wayfair WANDS (`product.csv`, `query.csv`, `label.csv`, tab-separated);
  Exact = 2, Partial = 1.
- `esci --path DIR`: Amazon ESCI parquet files (`shopping_queries_dataset_examples.parquet`,
  `shopping_queries_dataset_products.parquet`); E = 2, S = 1; `--locale us`, split test.
WANDS and ESCI catalogs are indexed into their own Chroma collection in the data dir.

Metrics (per query, averaged): nDCG@10 with gain 2^grade − 1 over the ideal ordering of all
judged items; Recall@10 and MRR over the *exact* items (grade 2; all judged items if none is
exact), because a product may have dozens of partially relevant variants.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, Field
from tqdm import tqdm

from retrieval.search import CatalogIndex, Search, SearchRequest, SearchUnavailable
from retrieval.search.index import make_client
from retrieval.search.rerank import RerankModel
from retrieval.store.schema import ProductRecord, VariantRecord

DATA_DIR = Path(__file__).parent / "data" / "search"
SHOPPER_DIR = DATA_DIR / "shopper"
K = 10


class Judged(BaseModel):
    query: str
    lang: str = "en"
    relevant: dict[str, int] = Field(default_factory=dict)
    set: str = ""


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** relevant.get(i, 0) - 1) / math.log2(r + 2) for r, i in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(r + 2) for r, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def _targets(relevant: dict[str, int]) -> set[str]:
    top = max(relevant.values(), default=0)
    return {i for i, g in relevant.items() if g == top and g > 0}


def recall(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    targets = _targets(relevant)
    return len(targets & set(ranked[:k])) / len(targets) if targets else 0.0


def mrr(ranked: list[str], relevant: dict[str, int]) -> float:
    targets = _targets(relevant)
    return next((1.0 / (r + 1) for r, i in enumerate(ranked) if i in targets), 0.0)


def read_jsonl(path: Path) -> list[Judged]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = Judged.model_validate_json(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not a judgement line: {exc}") from exc
            row.set = row.set or path.stem
            rows.append(row)
    return rows


def default_sets(split: str, suite: str = "tau") -> list[Judged]:
    """The shipped judgement sets of a suite: `tau` (derived from τ-bench, eval/search_sets.py, plus
    the hand-written Chinese translations) or `shopper` (shopper-style queries graded against the
    catalog, eval/search_judge.py)."""
    if suite == "shopper":
        rows = read_jsonl(SHOPPER_DIR / f"{split}.jsonl")
        for row in rows:  # a later batch ("set": "hard") is reported apart: shopper_dev_hard
            row.set = f"shopper_{split}" if row.set == split else f"shopper_{split}_{row.set}"
        return rows
    if suite != "tau":
        raise ValueError(f"unknown suite '{suite}': use tau or shopper")
    rows: list[Judged] = []
    for path in sorted(DATA_DIR.glob(f"*_{split}.jsonl")):
        rows += read_jsonl(path)
    return rows


def read_wands(directory: Path) -> tuple[list[ProductRecord], list[Judged]]:
    def table(name: str) -> list[dict]:
        with (directory / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter="\t"))

    products = []
    for row in table("product.csv"):
        pid = str(row["product_id"])
        try:
            rating = min(5.0, max(0.0, float(row.get("average_rating") or "nan")))
        except ValueError:
            rating = None
        products.append(ProductRecord(
            product_id=pid, source="custom", name=row.get("product_name") or pid,
            description=(row.get("product_description") or "")[:1000],
            category=(row.get("product_class") or "other").strip().lower().replace(" ", "-") or "other",
            tags=[t for t in (row.get("category hierarchy") or "").split(" / ") if t][:5],
            rating=None if rating is None or math.isnan(rating) else rating,
            variants=[VariantRecord(item_id=pid, product_id=pid, price=0.0, available=True)],
        ))
    grade = {"Exact": 2, "Partial": 1}
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    for row in table("label.csv"):
        if grade.get(row["label"], 0):
            judged[str(row["query_id"])][str(row["product_id"])] = grade[row["label"]]
    queries = [Judged(query=q["query"], relevant=judged[str(q["query_id"])], set="wands")
               for q in table("query.csv") if judged.get(str(q["query_id"]))]
    return products, queries


def read_esci(directory: Path, locale: str = "us", split: str = "test") -> tuple[list[ProductRecord], list[Judged]]:
    import pyarrow.parquet as pq

    examples = pq.read_table(directory / "shopping_queries_dataset_examples.parquet").to_pylist()
    grade = {"E": 2, "S": 1}
    judged: dict[str, dict[str, int]] = defaultdict(dict)
    text: dict[str, str] = {}
    wanted: set[str] = set()
    for ex in examples:
        if ex.get("product_locale", locale) != locale or ex.get("split", split) != split:
            continue
        wanted.add(ex["product_id"])
        text[str(ex["query_id"])] = ex["query"]
        if grade.get(ex["esci_label"], 0):
            judged[str(ex["query_id"])][ex["product_id"]] = grade[ex["esci_label"]]
    products = []
    for p in pq.read_table(directory / "shopping_queries_dataset_products.parquet").to_pylist():
        if p["product_id"] not in wanted or p.get("product_locale", locale) != locale:
            continue
        pid = p["product_id"]
        desc = " ".join(x for x in (p.get("product_bullet_point"), p.get("product_description")) if x)[:1000]
        options = {"color": p["product_color"]} if p.get("product_color") else {}
        products.append(ProductRecord(
            product_id=pid, source="custom", name=p.get("product_title") or pid, description=desc,
            category="other", brand=p.get("product_brand") or None,
            variants=[VariantRecord(item_id=pid, product_id=pid, options=options, price=0.0, available=True)],
        ))
    queries = [Judged(query=text[q], relevant=r, set="esci") for q, r in judged.items()]
    return products, queries


def fusion_ranking(bm25: list[tuple[int, float]], dense: list[tuple[int, float]], k: float = 60.0) -> list[int]:
    """Textbook reciprocal-rank fusion of two ranked lists of rows (no query parsing, no variants)."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in (bm25, dense):
        for rank, (row, _) in enumerate(ranking):
            fused[row] += 1.0 / (k + rank + 1)
    return sorted(fused, key=lambda r: (-fused[r], r))


def evaluate(search: Search, queries: list[Judged], progress: bool = True, reranker: RerankModel | None = None,
             per_query: bool = False) -> dict:
    """Scores of every system, per query set and language, from one run over the same index.

    bm25 / dense: one retriever on the raw query text, items as ranked; dense_e5 (when the index has
    multilingual-e5 vectors): the same with e5, which reads Chinese, so it counts as a single retriever too. bm25_parsed / dense_parsed:
    the same on Aisle's parsed query (Chinese put into English, price words dropped) under its
    price/stock filters, so they get Aisle's query understanding but not its fusion or variant
    scoring. fusion: bm25 and dense fused by reciprocal rank (k = 60). aisle: the whole pipeline
    as shipped. aisle_rerank (given a re-ranker model): the pipeline with that model re-ordering
    its fused candidates. `per_query`: also each query's Aisle nDCG@10 and its top 3 (item id,
    grade, name), worst first, to read the misses.
    """
    per: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    latency: list[float] = []
    each: list[dict] = []
    for q in tqdm(queries, desc="evaluating queries", unit="query", disable=not progress):
        start = time.perf_counter()  # Aisle first, so it never reuses a query vector the baseline cached
        resp = search.search(SearchRequest(query=q.query, k=K))
        aisle = [h.item_id for h in resp.hits]
        latency.append(time.perf_counter() - start)
        if per_query:
            each.append({"query": q.query, "lang": q.lang, "ndcg@10": round(ndcg(aisle, q.relevant), 4),
                         "understood": resp.understood,
                         "top": [f"{h.item_id} g{q.relevant.get(h.item_id, 0)} {h.name}" for h in resp.hits[:3]],
                         "wanted": sorted({search.table.names[search.table.row[i]] for i, g in q.relevant.items()
                                           if g == 2 and i in search.table.row})})  # fmt: skip
        bm25 = [(r, s) for r, s in search.keyword_ranking(q.query, 100) if s > 0]
        dense = search.dense_ranking(q.query, 100)
        parsed, _ = search.parser.parse(q.query)
        mask = search.filter_mask(parsed)
        rankings = {
            # top K asked for directly: ties at the cut-off fall as in Aisle's own retrievers
            "bm25": [search.table.ids[r] for r, s in search.keyword_ranking(q.query, K) if s > 0],
            "dense": [search.table.ids[r] for r, _ in dense[:K]],
            **({"dense_e5": [search.table.ids[r] for r, _ in search.dense_e5_ranking(q.query, K)]} if search.multilingual else {}),
            "bm25_parsed": [search.table.ids[r] for r, s in search.keyword_ranking(parsed.text, K, mask) if s > 0],
            "dense_parsed": [search.table.ids[r] for r, _ in search.dense_ranking(parsed.text, K, mask)],
            "fusion": [search.table.ids[r] for r in fusion_ranking(bm25, dense)[:K]],
            "aisle": aisle,
        }
        if reranker is not None:
            saved, search.reranker = search.reranker, reranker
            try:
                rankings["aisle_rerank"] = [h.item_id for h in search.search(SearchRequest(query=q.query, k=K)).hits]
            finally:
                search.reranker = saved
        for group in (q.set or "all", f"lang:{q.lang}", "all"):
            for system, ranked in rankings.items():
                per[(group, system)]["ndcg@10"].append(ndcg(ranked, q.relevant))
                per[(group, system)]["recall@10"].append(recall(ranked, q.relevant))
                per[(group, system)]["mrr"].append(mrr(ranked, q.relevant))
    rows: dict[str, dict] = defaultdict(dict)
    for (group, system), metrics in per.items():
        rows[group][system] = {m: round(sum(v) / len(v), 4) for m, v in metrics.items()}
        rows[group]["queries"] = len(next(iter(metrics.values())))
    for row in rows.values():
        best_single = max(row[s]["ndcg@10"] for s in ("bm25", "dense", "dense_e5") if s in row)
        row["aisle_vs_best_single"] = round(row["aisle"]["ndcg@10"] / best_single, 3) if best_single else None
        best_parsed = max(row["bm25_parsed"]["ndcg@10"], row["dense_parsed"]["ndcg@10"])
        row["aisle_vs_best_parsed"] = round(row["aisle"]["ndcg@10"] / best_parsed, 3) if best_parsed else None
        fusion = row["fusion"]["ndcg@10"]
        row["aisle_vs_fusion"] = round(row["aisle"]["ndcg@10"] / fusion, 3) if fusion else None
    latency.sort()
    return {
        "rows": dict(sorted(rows.items())),
        **({"per_query": sorted(each, key=lambda e: e["ndcg@10"])} if per_query else {}),
        "aisle_latency_ms": {"p50": round(1000 * latency[len(latency) // 2], 1),
                             "p95": round(1000 * latency[int(len(latency) * 0.95)], 1)} if latency else {},
    }


def _custom_search(name: str, products: list[ProductRecord], progress: bool) -> Search:
    index = CatalogIndex(make_client(), name=f"eval_{name}", multilingual=False)  # English benchmarks: no e5 pass
    index.sync(products, progress=progress)
    return Search(index)


def main(
    dataset: Annotated[str, typer.Option(help="jsonl | wands | esci")] = "jsonl",
    path: Annotated[list[Path] | None, typer.Option(help="JSONL file(s) (jsonl) or the benchmark folder (wands, esci).")] = None,
    split: Annotated[str, typer.Option(help="Shipped split to use when no --path: dev or test.")] = "test",
    suite: Annotated[str, typer.Option(help="Shipped sets when no --path: tau (τ-derived) or shopper (shopper-style queries).")] = "tau",
    limit: Annotated[int, typer.Option(help="Use at most this many queries (0 = all).")] = 0,
    locale: Annotated[str, typer.Option(help="ESCI product locale.")] = "us",
    reranker: Annotated[Path | None, typer.Option(help="A re-ranker model (aisle eval search-rerank) to score as aisle_rerank.")] = None,
    per_query: Annotated[bool, typer.Option("--per-query", help="Also each query's Aisle nDCG@10 and top 3, worst first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Search quality: BM25 and dense alone (raw and parsed query), their fusion and Aisle, in the same run."""
    progress = not as_json
    try:
        model = RerankModel.load(reranker) if reranker else None
    except (OSError, ValueError) as exc:
        typer.secho(f"error: --reranker {reranker}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    try:
        if dataset == "jsonl":
            queries = [q for p in path for q in read_jsonl(p)] if path else default_sets(split, suite)
            search = Search.from_settings(progress=progress)
            label = [str(p) for p in path] if path else (
                f"eval/data/search/shopper/{split}.jsonl" if suite == "shopper" else f"eval/data/search/*_{split}.jsonl")
        elif dataset in ("wands", "esci"):
            if not path or not path[0].is_dir():
                raise ValueError(f"--dataset {dataset} needs --path DIR (the benchmark's folder)")
            products, queries = read_wands(path[0]) if dataset == "wands" else read_esci(path[0], locale)
            search = _custom_search(dataset, products, progress)
            label = str(path[0])
        else:
            raise ValueError(f"unknown dataset '{dataset}': use jsonl, wands or esci")
    except (OSError, ValueError, KeyError, SearchUnavailable) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if limit:
        queries = queries[:limit]
    if not queries:
        typer.secho("error: no judged queries", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    result = {"dataset": dataset, "source": label, "k": K, **evaluate(search, queries, progress, model, per_query)}
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    for group, row in result["rows"].items():
        typer.echo(f"{group:<24} n={row['queries']:<4} " + "  ".join(
            f"{s}: nDCG {row[s]['ndcg@10']:.3f} R {row[s]['recall@10']:.3f} MRR {row[s]['mrr']:.3f}"
            for s in ("bm25", "dense", "dense_e5", "bm25_parsed", "dense_parsed", "fusion", "aisle", "aisle_rerank") if s in row))
    typer.echo(f"aisle latency: {result['aisle_latency_ms']}")
    for e in result.get("per_query", []):
        if e["ndcg@10"] < 1:
            typer.echo(f"{e['ndcg@10']:.3f} [{e['lang']}] {e['query']}  ({e['understood']}) -> {' | '.join(e['top'])}")
