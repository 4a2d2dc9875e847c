"""The store database: engine set-up, first-run seeding, and typed reads and writes."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from retrieval.store import tables as t
from retrieval.store.schema import (
    EventRecord,
    OrderRecord,
    ProductRecord,
    UserRecord,
)
from retrieval.store.seed import ORDER_ACTION_FIELDS, DEMO_DATA_DIR, StoreDataError, load_store_data, write_store_data

__all__ = ["Store", "StoreDataError", "StoreSchemaError", "is_store_busy", "retry_when_busy"]


class StoreSchemaError(RuntimeError):
    """The database was made by a different version of Aisle's schema."""


# PostgreSQL's transient refusals: serialization failure (a concurrent transaction changed a row
# this one changes), deadlock, lock wait past lock_timeout.
_PG_RETRYABLE = {"40001", "40P01", "55P03"}


def is_store_busy(exc: BaseException) -> bool:
    """A transient "database is locked/busy" (or PostgreSQL's equivalents): the whole transaction
    may be tried again."""
    if not isinstance(exc, OperationalError):
        return False
    return getattr(exc.orig, "sqlstate", None) in _PG_RETRYABLE or any(w in str(exc.orig).lower() for w in ("locked", "busy"))


# The busy timeout already waits for a writer's lock, but SQLite gives up at once when a read
# transaction cannot become a write one (another connection wrote meanwhile), and PostgreSQL
# refuses a repeatable-read transaction whose rows another one changed: only running the whole
# transaction again helps. Bounded: a lock held for long is an outage, reported as such.
retry_when_busy = retry(
    retry=retry_if_exception(is_store_busy),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.05, max=0.5),
    reraise=True,
)


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    from retrieval.config import get_settings

    busy_ms = get_settings().db_busy_timeout_s * 1000  # how long a write waits for another writer
    if make_url(url).get_backend_name() == "postgresql":
        # Repeatable read: a transaction that read an order and changes it fails (and is run again,
        # retry_when_busy) if another one changed it meanwhile; read committed would let two
        # cancellations both refund. Every order write updates the order's row, so this is enough.
        # lock_timeout is PostgreSQL's busy timeout: a write waits that long for a row lock.
        # pre_ping: connections survive a database restart.
        return create_engine(url, isolation_level="REPEATABLE READ", pool_pre_ping=True,
                             connect_args={"options": f"-c lock_timeout={int(busy_ms)}"})  # fmt: skip
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            cur = dbapi_conn.cursor()
            # WAL: readers never block the writer, and a killed process loses no committed write.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            cur.close()

    return engine


@contextmanager
def _seeding_lock(conn) -> Iterator[None]:
    """PostgreSQL: replicas starting together seed one at a time (a session advisory lock, waited
    for as long as seeding takes, not the short write lock timeout). Taken in a transaction of its
    own, so the seeding transaction's snapshot is taken after the wait and sees the others' work."""
    if conn.dialect.name != "postgresql":
        yield
        return
    with conn.begin():
        conn.execute(text("SET LOCAL lock_timeout = 0"))
        conn.execute(text("SELECT pg_advisory_lock(hashtext('aisle store init'))"))
    try:
        yield
    finally:
        with conn.begin():
            conn.execute(text("SELECT pg_advisory_unlock(hashtext('aisle store init'))"))


def _seeded_in(conn) -> bool:
    return inspect(conn).has_table("meta") and conn.scalar(select(t.Meta.value).where(t.Meta.key == "seeded_at")) is not None


class Store:
    """A shop's data in SQL. ``Store(url).init()`` creates and seeds it once; later calls do nothing."""

    def __init__(self, url: str, data_dir: Path = DEMO_DATA_DIR) -> None:
        self.url = url
        self.data_dir = data_dir
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls) -> Store:
        from retrieval.config import get_settings

        return cls(get_settings().db_url)

    # -- lifecycle ---------------------------------------------------------------------------

    def is_seeded(self) -> bool:
        path = _sqlite_path(self.url)
        if path is not None and not path.exists():
            return False  # don't create an empty file just by looking
        if not inspect(self.engine).has_table("meta"):
            return False
        with self._sessions() as s:
            version = s.get(t.Meta, "schema_version")
            seeded = s.get(t.Meta, "seeded_at")
        if version is not None and version.value != t.SCHEMA_VERSION:
            raise StoreSchemaError(
                f"{self.url}: store schema v{version.value}, this Aisle expects v{t.SCHEMA_VERSION}; "
                "run `aisle store init --reset` to rebuild it (this discards recorded events)"
            )
        return seeded is not None

    def init(self, reset: bool = False) -> bool:
        """Create and seed the database unless it already is. Returns True if it seeded now.

        Seeding is all or nothing: a SQLite file is built beside the target and renamed into place
        only when complete; other databases seed in one transaction.
        """
        if reset:
            self.drop()
        if self.is_seeded():
            t.Base.metadata.create_all(self.engine)  # tables added since it was seeded (e.g. handoffs); existing ones untouched
            return False
        data = load_store_data(self.data_dir)  # validate everything before writing anything
        path = _sqlite_path(self.url)
        if path is not None and not path.exists():
            self._seed_sqlite_file(path, data)
        else:
            with self.engine.connect() as conn, _seeding_lock(conn):
                with conn.begin():
                    if _seeded_in(conn):  # another replica seeded it while this one waited
                        return False
                    t.Base.metadata.create_all(conn)
                    with Session(bind=conn) as s:
                        write_store_data(s, data)
                        self._mark_seeded(s)
                        s.flush()
        return True

    def _seed_sqlite_file(self, path: Path, data) -> None:
        tmp = path.with_name(path.name + ".seeding")
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
        engine = create_engine(f"sqlite:///{tmp}")
        try:
            t.Base.metadata.create_all(engine)
            with Session(engine) as s, s.begin():
                write_store_data(s, data)
                self._mark_seeded(s)
        except BaseException:
            engine.dispose()
            tmp.unlink(missing_ok=True)
            raise
        engine.dispose()
        self.engine.dispose()
        os.replace(tmp, path)

    def _mark_seeded(self, s: Session) -> None:
        s.merge(t.Meta(key="schema_version", value=t.SCHEMA_VERSION))
        s.merge(t.Meta(key="seeded_from", value=str(self.data_dir)))
        s.merge(t.Meta(key="seeded_at", value=datetime.now(timezone.utc).isoformat()))

    def drop(self) -> None:
        path = _sqlite_path(self.url)
        self.engine.dispose()
        if path is not None:
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)
        else:
            t.Base.metadata.drop_all(self.engine)

    def copy_to(self, url: str) -> Store:
        """A fresh, independent copy of this store's current contents (for evaluation runs)."""
        target = Store(url, self.data_dir)
        with self.engine.connect() as src, target.engine.begin() as dst:
            t.Base.metadata.create_all(dst)
            present = set(inspect(src).get_table_names())
            for table in t.Base.metadata.sorted_tables:
                if table.name not in present:  # a table newer than the source database
                    continue
                rows = [dict(r._mapping) for r in src.execute(table.select())]
                if rows:
                    dst.execute(table.insert(), rows)
            if dst.dialect.name == "postgresql":  # explicit ids were copied: move each id sequence past them
                for table in t.Base.metadata.sorted_tables:
                    col = table.autoincrement_column
                    if col is not None:
                        dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{col.name}'), "
                                         f"coalesce(max({col.name}), 0) + 1, false) FROM {table.name}"))  # fmt: skip
        return target

    @contextmanager
    def session(self, dry_run: bool = False) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error (and always, when dry_run)."""
        with self._sessions() as s:
            tx = s.begin()
            try:
                yield s
            except BaseException:
                tx.rollback()
                raise
            if dry_run:
                tx.rollback()
            else:
                tx.commit()

    # -- reads -------------------------------------------------------------------------------

    def info(self) -> dict[str, int]:
        tables = {
            "products": t.Product,
            "variants": t.Variant,
            "users": t.User,
            "orders": t.Order,
            "order_items": t.OrderItemRow,
            "payments": t.PaymentRow,
            "reviews": t.ProductReview,
            "events": t.Event,
        }
        with self._sessions() as s:
            return {name: s.scalar(select(func.count()).select_from(tbl)) or 0 for name, tbl in tables.items()}

    def product(self, product_id: str) -> ProductRecord | None:
        with self._sessions() as s:
            row = s.get(t.Product, product_id)
            return product_record(row) if row else None

    def products(self) -> list[ProductRecord]:
        with self._sessions() as s:
            return [product_record(p) for p in s.scalars(select(t.Product).order_by(t.Product.product_id))]

    def user(self, user_id: str) -> UserRecord | None:
        with self._sessions() as s:
            row = s.get(t.User, user_id)
            return user_record(row) if row else None

    def user_by_email(self, email: str) -> UserRecord | None:
        with self._sessions() as s:
            row = s.scalar(select(t.User).where(func.lower(t.User.email) == email.strip().lower()))
            return user_record(row) if row else None

    def order(self, order_id: str) -> OrderRecord | None:
        with self._sessions() as s:
            row = s.get(t.Order, order_id)
            return order_record(row) if row else None

    def orders_of(self, user_id: str) -> list[OrderRecord]:
        with self._sessions() as s:
            rows = s.scalars(select(t.Order).where(t.Order.user_id == user_id).order_by(t.Order.position))
            return [order_record(r) for r in rows]

    def events(self, user_id: str | None = None, session_id: str | None = None) -> list[EventRecord]:
        with self._sessions() as s:
            q = select(t.Event).order_by(t.Event.event_id)
            if user_id is not None:
                q = q.where(t.Event.user_id == user_id)
            if session_id is not None:
                q = q.where(t.Event.session_id == session_id)
            return [event_record(e) for e in s.scalars(q)]

    # -- writes ------------------------------------------------------------------------------

    @retry_when_busy
    def add_event(self, record: EventRecord) -> EventRecord:
        with self.session() as s:
            row = t.Event(**record.model_dump(exclude={"event_id", "ts"}, mode="json"), ts=record.ts or t.utcnow())
            s.add(row)
            s.flush()
            return event_record(row)


def product_record(p: t.Product) -> ProductRecord:
    return ProductRecord(
        product_id=p.product_id,
        source=p.source,
        name=p.name,
        description=p.description,
        category=p.category,
        brand=p.brand,
        tags=p.tags,
        rating=p.rating,
        warranty=p.warranty,
        shipping=p.shipping,
        return_policy=p.return_policy,
        reviews=[
            {"rating": r.rating, "comment": r.comment, "date": r.date, "reviewer_name": r.reviewer_name}
            for r in p.reviews
        ],
        variants=[
            {
                "item_id": v.item_id,
                "product_id": v.product_id,
                "options": v.options,
                "price": v.price,
                "available": v.available,
                "stock": v.stock,
            }
            for v in p.variants
        ],
    )


def user_record(u: t.User) -> UserRecord:
    return UserRecord(
        user_id=u.user_id,
        first_name=u.first_name,
        last_name=u.last_name,
        email=u.email,
        address=u.address,
        payment_methods=[
            {
                "payment_method_id": m.payment_method_id,
                "source": m.source,
                "brand": m.brand,
                "last_four": m.last_four,
                "balance": m.balance,
            }
            for m in u.payment_methods
        ],
    )


def order_record(o: t.Order) -> OrderRecord:
    return OrderRecord(
        order_id=o.order_id,
        user_id=o.user_id,
        status=o.status,
        address=o.address,
        fulfillments=o.fulfillments,
        items=[
            {"item_id": i.item_id, "product_id": i.product_id, "name": i.name, "price": i.price, "options": i.options}
            for i in o.items
        ],
        payment_history=[
            {"transaction_type": p.transaction_type, "amount": p.amount, "payment_method_id": p.payment_method_id}
            for p in o.payments
        ],
        **{f: getattr(o, f) for f in ORDER_ACTION_FIELDS},
    )


def event_record(e: t.Event) -> EventRecord:
    return EventRecord(
        event_id=e.event_id,
        user_id=e.user_id,
        session_id=e.session_id,
        kind=e.kind,
        item_id=e.item_id,
        product_id=e.product_id,
        ts=e.ts,
        context=e.context or {},
    )
