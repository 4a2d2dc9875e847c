"""SQL tables of the store (SQLAlchemy ORM). Pydantic records in schema.py are the public shape."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA_VERSION = "1"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Key/value facts about the database itself: schema version, when and from what it was seeded."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Product(Base):
    __tablename__ = "products"
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64), index=True)
    brand: Mapped[str | None] = mapped_column(String(128), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    rating: Mapped[float | None] = mapped_column(Float)
    warranty: Mapped[str | None] = mapped_column(Text)
    shipping: Mapped[str | None] = mapped_column(Text)
    return_policy: Mapped[str | None] = mapped_column(Text)
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.position", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[ProductReview]] = relationship(
        order_by="ProductReview.position", cascade="all, delete-orphan"
    )


class Variant(Base):
    __tablename__ = "variants"
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    price: Mapped[float] = mapped_column(Float)
    available: Mapped[bool] = mapped_column(Boolean)
    stock: Mapped[int | None] = mapped_column(Integer)
    product: Mapped[Product] = relationship(back_populates="variants")


class ProductReview(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewer_name: Mapped[str | None] = mapped_column(String(128))


class User(Base):
    __tablename__ = "users"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(128))
    last_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(256), unique=True, index=True)
    address: Mapped[dict] = mapped_column(JSON)
    payment_methods: Mapped[list[PaymentMethodRow]] = relationship(
        order_by="PaymentMethodRow.position", cascade="all, delete-orphan"
    )


class PaymentMethodRow(Base):
    __tablename__ = "payment_methods"
    payment_method_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16))
    brand: Mapped[str | None] = mapped_column(String(32))
    last_four: Mapped[str | None] = mapped_column(String(4))
    balance: Mapped[float | None] = mapped_column(Float)


class Order(Base):
    __tablename__ = "orders"
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # keeps each user's order list order
    status: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[dict] = mapped_column(JSON)
    fulfillments: Mapped[list] = mapped_column(JSON, default=list)
    cancel_reason: Mapped[str | None] = mapped_column(String(64))
    return_items: Mapped[list | None] = mapped_column(JSON)
    return_payment_method_id: Mapped[str | None] = mapped_column(String(64))
    exchange_items: Mapped[list | None] = mapped_column(JSON)
    exchange_new_items: Mapped[list | None] = mapped_column(JSON)
    exchange_payment_method_id: Mapped[str | None] = mapped_column(String(64))
    exchange_price_difference: Mapped[float | None] = mapped_column(Float)
    items: Mapped[list[OrderItemRow]] = relationship(
        order_by="OrderItemRow.position", cascade="all, delete-orphan"
    )
    payments: Mapped[list[PaymentRow]] = relationship(
        order_by="PaymentRow.position", cascade="all, delete-orphan"
    )


class OrderItemRow(Base):
    __tablename__ = "order_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(ForeignKey("variants.item_id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"))
    name: Mapped[str] = mapped_column(String(256))
    price: Mapped[float] = mapped_column(Float)
    options: Mapped[dict] = mapped_column(JSON, default=dict)


class PaymentRow(Base):
    """One entry of an order's payment history (a payment or a refund)."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    transaction_type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    payment_method_id: Mapped[str] = mapped_column(String(64))


class Event(Base):
    __tablename__ = "events"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.user_id"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    item_id: Mapped[str | None] = mapped_column(String(64), index=True)
    product_id: Mapped[str | None] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    context: Mapped[dict] = mapped_column(JSON, default=dict)


class UserProfileRow(Base):
    """What the shopper told Aisle about themselves, and their personalisation switch.

    The derived profile (categories, brands, price band, …) is computed by recsys from orders and
    events; this row only keeps the shopper's own edits and choices, so deleting it and the
    user's events forgets everything Aisle inferred.
    """

    __tablename__ = "user_profiles"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), primary_key=True)
    personalised: Mapped[bool] = mapped_column(Boolean, default=True)
    edits: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ChatSessionRow(Base):
    """A conversation's state as JSON, so any server process can continue it and a restart loses nothing."""

    __tablename__ = "chat_sessions"
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.user_id"), index=True)
    state: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=0)  # optimistic locking across processes
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class ChatOutboxRow(Base):
    """A message sent to a conversation and not answered yet (the chat page's outbox). The turn answering it
    deletes it in the transaction that saves the answer, so a reload or a restart loses none and none is
    answered twice; the conversation's messages go with it (cascade)."""

    __tablename__ = "chat_outbox"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused: a later message always sorts after
    message_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.session_id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandoffRow(Base):
    """A conversation passed to the shop's people: the queue `aisle handoffs` reads."""

    __tablename__ = "handoffs"
    handoff_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    summary: Mapped[str] = mapped_column(Text)
    transcript: Mapped[list] = mapped_column(JSON, default=list)  # the last messages, [{"role", "content"}]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
