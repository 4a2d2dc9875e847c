"""Read a store's data files (products.jsonl, users.jsonl, orders.jsonl) and write them as rows.

The files use the records of schema.py, one JSON object per line. Every line is validated before
anything is written, and a bad file is reported by name and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from retrieval.store import tables as t
from retrieval.store.schema import OrderRecord, ProductRecord, UserRecord

DEMO_DATA_DIR = Path(__file__).parent / "data"
ORDER_ACTION_FIELDS = tuple(
    name for name in OrderRecord.model_fields if name.startswith(("cancel_", "return_", "exchange_"))
)
R = TypeVar("R", bound=BaseModel)
FILES = {"products": ProductRecord, "users": UserRecord, "orders": OrderRecord}


class StoreDataError(ValueError):
    """A store data file is missing, unreadable or does not match the schema."""


@dataclass
class StoreData:
    products: list[ProductRecord]
    users: list[UserRecord]
    orders: list[OrderRecord]


def _read_jsonl(path: Path, model: type[R]) -> list[R]:
    if not path.is_file():
        raise StoreDataError(f"{path}: store data file is missing")
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreDataError(f"{path}: cannot read store data file: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise StoreDataError(f"{path}: line {number}: {where}: {first['msg']}") from exc
    if not records:
        raise StoreDataError(f"{path}: store data file has no records")
    return records


def load_store_data(directory: Path = DEMO_DATA_DIR) -> StoreData:
    data = StoreData(**{name: _read_jsonl(directory / f"{name}.jsonl", model) for name, model in FILES.items()})
    _check_references(directory, data)
    return data


def _check_references(directory: Path, data: StoreData) -> None:
    """Orders must point at users and variants that exist; ids must be unique."""
    item_ids = {v.item_id for p in data.products for v in p.variants}
    user_ids = {u.user_id for u in data.users}
    for name, ids in (
        ("products", [p.product_id for p in data.products]),
        ("products (variants)", [v.item_id for p in data.products for v in p.variants]),
        ("users", [u.user_id for u in data.users]),
        ("users (emails)", [u.email.lower() for u in data.users]),
        ("orders", [o.order_id for o in data.orders]),
    ):
        if len(ids) != len(set(ids)):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise StoreDataError(f"{directory / name.split()[0]}.jsonl: duplicate id {dup!r}")
    for order in data.orders:
        if order.user_id not in user_ids:
            raise StoreDataError(
                f"{directory / 'orders.jsonl'}: order {order.order_id} names unknown user {order.user_id!r}"
            )
        for item in order.items:
            if item.item_id not in item_ids:
                raise StoreDataError(
                    f"{directory / 'orders.jsonl'}: order {order.order_id} names unknown item {item.item_id!r}"
                )


def write_store_data(session: Session, data: StoreData) -> None:
    for product in data.products:
        session.add(
            t.Product(
                **product.model_dump(exclude={"variants", "reviews"}),
                variants=[
                    t.Variant(position=i, **v.model_dump()) for i, v in enumerate(product.variants)
                ],
                reviews=[
                    t.ProductReview(position=i, **r.model_dump()) for i, r in enumerate(product.reviews)
                ],
            )
        )
    session.flush()  # variants must exist before order items point at them
    for user in data.users:
        session.add(
            t.User(
                **user.model_dump(exclude={"payment_methods", "address"}),
                address=user.address.model_dump(),
                payment_methods=[
                    t.PaymentMethodRow(position=i, **pm.model_dump())
                    for i, pm in enumerate(user.payment_methods)
                ],
            )
        )
    session.flush()
    for position, order in enumerate(data.orders):
        session.add(
            t.Order(
                order_id=order.order_id,
                user_id=order.user_id,
                position=position,
                status=order.status,
                address=order.address.model_dump(),
                fulfillments=[f.model_dump() for f in order.fulfillments],
                **order.model_dump(include=set(ORDER_ACTION_FIELDS)),
                items=[t.OrderItemRow(position=i, **it.model_dump()) for i, it in enumerate(order.items)],
                payments=[
                    t.PaymentRow(position=i, **p.model_dump()) for i, p in enumerate(order.payment_history)
                ],
            )
        )


def dump_jsonl(path: Path, records: list[BaseModel]) -> None:
    """Write records one per line, compact and stable, so diffs of rebuilt data stay small."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record.model_dump(mode="json", exclude_none=True), ensure_ascii=False))
            fh.write("\n")
