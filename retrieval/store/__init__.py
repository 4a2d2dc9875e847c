"""The store: Aisle's own schema for a shop's catalog, customers, orders and events, in SQL."""

from retrieval.store.db import Store, StoreDataError, StoreSchemaError, is_store_busy, retry_when_busy
from retrieval.store.schema import (
    Address,
    EventKind,
    EventRecord,
    OrderItem,
    OrderRecord,
    PaymentMethod,
    PaymentTransaction,
    ProductRecord,
    Review,
    UserRecord,
    VariantRecord,
)

__all__ = [
    "Address",
    "EventKind",
    "EventRecord",
    "OrderItem",
    "OrderRecord",
    "PaymentMethod",
    "PaymentTransaction",
    "ProductRecord",
    "Review",
    "Store",
    "StoreDataError",
    "StoreSchemaError",
    "UserRecord",
    "VariantRecord",
    "is_store_busy",
    "retry_when_busy",
]
