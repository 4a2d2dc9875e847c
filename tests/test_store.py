from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from retrieval.store import EventKind, EventRecord, Store, StoreDataError, StoreSchemaError
from retrieval.store.seed import DEMO_DATA_DIR, load_store_data


def test_demo_store_counts(seeded_store):
    counts = seeded_store.info()
    assert counts["products"] == 244
    assert counts["variants"] == 591 + 194
    assert counts["users"] == 500
    assert counts["orders"] == 1000
    assert counts["events"] == 0


def test_every_order_resolves_to_its_user_and_variants(seeded_store):
    with sqlite3.connect(seeded_store.engine.url.database) as db:
        orphans = db.execute(
            "SELECT count(*) FROM order_items oi LEFT JOIN variants v ON v.item_id = oi.item_id "
            "WHERE v.item_id IS NULL"
        ).fetchone()[0]
        no_user = db.execute(
            "SELECT count(*) FROM orders o LEFT JOIN users u ON u.user_id = o.user_id WHERE u.user_id IS NULL"
        ).fetchone()[0]
    assert orphans == 0
    assert no_user == 0


def test_conversion_preserves_tau2_ids_prices_and_statuses(seeded_store, shared_data):
    source = json.loads((shared_data / "tau2_retail" / "db.json").read_text())
    for order_id, raw in source["orders"].items():
        order = seeded_store.order(order_id)
        assert order is not None, order_id
        assert order.user_id == raw["user_id"]
        assert order.status == raw["status"]
        assert [(i.item_id, i.price, i.options) for i in order.items] == [
            (i["item_id"], i["price"], i["options"]) for i in raw["items"]
        ]
        assert [p.model_dump() for p in order.payment_history] == raw["payment_history"]
        assert [f.tracking_ids for f in order.fulfillments] == [f["tracking_id"] for f in raw["fulfillments"]]
    for product_id, raw in source["products"].items():
        product = seeded_store.product(product_id)
        assert {v.item_id: (v.price, v.available, v.options) for v in product.variants} == {
            v["item_id"]: (v["price"], v["available"], v["options"]) for v in raw["variants"].values()
        }
    for user_id, raw in source["users"].items():
        user = seeded_store.user(user_id)
        assert user.email == raw["email"]
        assert [o.order_id for o in seeded_store.orders_of(user_id)] == raw["orders"]
        assert {m.payment_method_id for m in user.payment_methods} == set(raw["payment_methods"])


def test_shipped_files_are_what_the_conversion_script_makes(tmp_path, shared_data):
    from retrieval.store.convert import convert

    convert(shared_data, tmp_path)
    for name in ("products.jsonl", "users.jsonl", "orders.jsonl", "policy.md"):
        assert (tmp_path / name).read_bytes() == (DEMO_DATA_DIR / name).read_bytes(), name


def test_dummyjson_products_are_catalog_entries(seeded_store):
    mascara = seeded_store.product("dj-1")
    assert mascara.name == "Essence Mascara Lash Princess"
    assert mascara.brand == "Essence"
    assert mascara.reviews and mascara.return_policy
    assert mascara.variants[0].item_id == "BEA-ESS-ESS-001"


def test_init_is_idempotent_and_keeps_events(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    assert store.init() is True
    store.add_event(EventRecord(user_id="noah_brown_6181", kind=EventKind.like, item_id="9612497925"))
    before = store.info()
    assert Store(store.url).init() is False
    assert Store(store.url).info() == before
    assert [e.kind for e in store.events(user_id="noah_brown_6181")] == [EventKind.like]


def test_reset_rebuilds_from_scratch(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    store.init()
    store.add_event(EventRecord(kind=EventKind.view, item_id="9612497925", session_id="s1"))
    assert store.init(reset=True) is True
    assert store.info()["events"] == 0


def test_user_lookup_by_email_ignores_case(seeded_store):
    user = seeded_store.user_by_email("  Noah.Brown7922@example.com ")
    assert user is not None and user.user_id == "noah_brown_6181"
    assert seeded_store.user_by_email("nobody@example.com") is None


def _copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("products.jsonl", "users.jsonl", "orders.jsonl"):
        (data / name).write_bytes((DEMO_DATA_DIR / name).read_bytes())
    return data


def test_missing_data_file_is_named(tmp_path):
    data = _copy_data(tmp_path)
    (data / "users.jsonl").unlink()
    with pytest.raises(StoreDataError, match=r"users\.jsonl: store data file is missing"):
        load_store_data(data)


def test_corrupt_line_is_named_and_nothing_is_written(tmp_path):
    data = _copy_data(tmp_path)
    lines = (data / "orders.jsonl").read_text().splitlines()
    lines[41] = lines[41][: len(lines[41]) // 2]  # truncated JSON on line 42
    (data / "orders.jsonl").write_text("\n".join(lines) + "\n")
    db = tmp_path / "store.db"
    with pytest.raises(StoreDataError, match=r"orders\.jsonl: line 42"):
        Store(f"sqlite:///{db}", data_dir=data).init()
    assert not db.exists()
    assert list(tmp_path.glob("store.db*")) == []


def test_dangling_reference_is_reported(tmp_path):
    data = _copy_data(tmp_path)
    orders = (data / "orders.jsonl").read_text().replace('"item_id": "6469567736"', '"item_id": "0000000000"', 1)
    (data / "orders.jsonl").write_text(orders)
    with pytest.raises(StoreDataError, match="unknown item '0000000000'"):
        load_store_data(data)


def test_failed_seed_leaves_no_half_written_database(tmp_path, monkeypatch):
    import retrieval.store.db as db_module

    def explode(session, data):
        session.add_all([])
        raise RuntimeError("disk full")

    monkeypatch.setattr(db_module, "write_store_data", explode)
    target = tmp_path / "store.db"
    with pytest.raises(RuntimeError, match="disk full"):
        Store(f"sqlite:///{target}").init()
    assert list(tmp_path.iterdir()) == []


def test_failed_seed_in_existing_database_rolls_back(tmp_path, monkeypatch):
    """A non-file database (or one that already exists) seeds in one transaction."""
    import retrieval.store.db as db_module

    target = tmp_path / "store.db"
    sqlite3.connect(target).close()  # exists but is empty
    real = db_module.write_store_data

    def half_then_fail(session, data):
        real(session, data)
        session.flush()
        raise RuntimeError("crash mid-seed")

    monkeypatch.setattr(db_module, "write_store_data", half_then_fail)
    with pytest.raises(RuntimeError):
        Store(f"sqlite:///{target}").init()
    with sqlite3.connect(target) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "products" in tables:
            assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 0
    monkeypatch.setattr(db_module, "write_store_data", real)
    assert Store(f"sqlite:///{target}").init() is True
    assert Store(f"sqlite:///{target}").info()["orders"] == 1000


def test_schema_version_mismatch_is_a_clear_error(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    store.init()
    with sqlite3.connect(tmp_path / "a.db") as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(StoreSchemaError, match="aisle store init --reset"):
        Store(store.url).init()


def test_copy_is_independent(seeded_store, tmp_path):
    copy = seeded_store.copy_to(f"sqlite:///{tmp_path / 'copy.db'}")
    copy.add_event(EventRecord(kind=EventKind.view, item_id="9612497925"))
    assert copy.info()["events"] == 1
    assert seeded_store.info()["events"] == 0
    assert copy.order("#W2611340") == seeded_store.order("#W2611340")
