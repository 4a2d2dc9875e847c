"""Rebuild the shipped demo store (retrieval/store/data/) from its public sources.

Sources: the τ²-bench retail store (``tau2_retail/db.json`` and ``policy.md``, MIT) and the
DummyJSON products (``dummyjson/products.json``, MIT). Run ``aisle store convert --source DIR``
where DIR holds those two folders. τ ids (product, item, order, user, payment method) are kept as
they are, because evaluation sets refer to them; DummyJSON products get ``dj-<id>`` and their SKU
as the item id. τ products carry no category or description, so the category comes from the
table below and the description is written from the product's real variant options.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from retrieval.store.schema import (
    Address,
    OrderRecord,
    PaymentMethod,
    ProductRecord,
    Review,
    UserRecord,
    VariantRecord,
)
from retrieval.store.seed import DEMO_DATA_DIR, StoreDataError, dump_jsonl

TAU2_CATEGORIES = {
    "T-Shirt": "clothing", "Fleece Jacket": "clothing",
    "Running Shoes": "shoes", "Hiking Boots": "shoes", "Sneakers": "shoes",
    "Laptop": "laptops", "Smartphone": "smartphones", "Tablet": "tablets", "E-Reader": "tablets",
    "Backpack": "bags", "Luggage Set": "bags",
    "Coffee Maker": "kitchen-appliances", "Espresso Machine": "kitchen-appliances",
    "Electric Kettle": "kitchen-appliances", "Tea Kettle": "kitchen-accessories",
    "Water Bottle": "sports-accessories", "Yoga Mat": "sports-accessories",
    "Cycling Helmet": "sports-accessories", "Bicycle": "sports-accessories",
    "Skateboard": "sports-accessories", "Dumbbell Set": "sports-accessories",
    "Desk Lamp": "lighting", "LED Light Bulb": "lighting",
    "Notebook": "stationery", "Sunglasses": "sunglasses",
    "Wristwatch": "watches", "Smart Watch": "watches",
    "Electric Toothbrush": "personal-care",
    "Bluetooth Speaker": "audio", "Wireless Earbuds": "audio", "Headphones": "audio",
    "Gaming Mouse": "computer-accessories", "Mechanical Keyboard": "computer-accessories",
    "Portable Charger": "mobile-accessories",
    "Action Camera": "cameras", "Digital Camera": "cameras",
    "Indoor Security Camera": "smart-home", "Smart Thermostat": "smart-home",
    "Garden Hose": "garden", "Patio Umbrella": "garden", "Grill": "garden",
    "Wall Clock": "home-decoration", "Pet Bed": "pet-supplies",
    "Bookshelf": "furniture", "Office Chair": "furniture",
    "Air Purifier": "home-appliances", "Vacuum Cleaner": "home-appliances",
    "Makeup Kit": "beauty", "Perfume": "fragrances", "Jigsaw Puzzle": "toys",
}  # fmt: skip


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StoreDataError(f"{path}: source file is missing") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreDataError(f"{path}: not valid JSON: {exc}") from exc


def _describe(name: str, variants: list[VariantRecord]) -> str:
    values: dict[str, list[str]] = {}
    for v in variants:
        for key, value in v.options.items():
            values.setdefault(key, [])
            if value not in values[key]:
                values[key].append(value)
    opts = "; ".join(f"{k}: {', '.join(vs)}" for k, vs in values.items())
    return f"{name}. Available options: {opts}." if opts else f"{name}."


def convert_tau2(db: dict) -> tuple[list[ProductRecord], list[UserRecord], list[OrderRecord]]:
    products = []
    for p in db["products"].values():
        variants = [
            VariantRecord(
                item_id=v["item_id"],
                product_id=p["product_id"],
                options={k: str(x) for k, x in v["options"].items()},
                price=v["price"],
                available=v["available"],
            )
            for v in p["variants"].values()
        ]
        if p["name"] not in TAU2_CATEGORIES:
            raise StoreDataError(f"tau2 product {p['name']!r} has no category in TAU2_CATEGORIES")
        products.append(
            ProductRecord(
                product_id=p["product_id"],
                source="tau2",
                name=p["name"],
                description=_describe(p["name"], variants),
                category=TAU2_CATEGORIES[p["name"]],
                variants=variants,
            )
        )
    users = [
        UserRecord(
            user_id=u["user_id"],
            first_name=u["name"]["first_name"],
            last_name=u["name"]["last_name"],
            email=u["email"],
            address=Address(**u["address"]),
            payment_methods=[
                PaymentMethod(
                    payment_method_id=pm["id"],
                    source=pm["source"],
                    brand=pm.get("brand"),
                    last_four=pm.get("last_four"),
                    balance=pm.get("balance"),
                )
                for pm in u["payment_methods"].values()
            ],
        )
        for u in db["users"].values()
    ]
    # Orders keep their order within each user's list, as τ's user records give it.
    rank = {oid: i for u in db["users"].values() for i, oid in enumerate(u["orders"])}
    raw_orders = sorted(db["orders"].values(), key=lambda o: (o["user_id"], rank.get(o["order_id"], 1 << 30)))
    orders = [
        OrderRecord(
            order_id=o["order_id"],
            user_id=o["user_id"],
            status=o["status"],
            address=Address(**o["address"]),
            items=o["items"],
            fulfillments=[
                {"tracking_ids": f["tracking_id"], "item_ids": f["item_ids"]} for f in o["fulfillments"]
            ],
            payment_history=o["payment_history"],
        )
        for o in raw_orders
    ]
    return products, users, orders


def convert_dummyjson(items: list[dict]) -> list[ProductRecord]:
    products = []
    for p in items:
        product_id = f"dj-{p['id']}"
        products.append(
            ProductRecord(
                product_id=product_id,
                source="dummyjson",
                name=p["title"],
                description=p.get("description", ""),
                category=p["category"],
                brand=p.get("brand"),
                tags=p.get("tags", []),
                rating=p.get("rating"),
                warranty=p.get("warrantyInformation"),
                shipping=p.get("shippingInformation"),
                return_policy=p.get("returnPolicy"),
                # Reviewer e-mails are left out: the store keeps no personal data it does not need.
                reviews=[
                    Review(rating=r["rating"], comment=r["comment"], date=r.get("date"), reviewer_name=r.get("reviewerName"))
                    for r in p.get("reviews", [])
                ],
                variants=[
                    VariantRecord(
                        item_id=p["sku"],
                        product_id=product_id,
                        price=p["price"],
                        available=p.get("availabilityStatus") != "Out of Stock" and p.get("stock", 0) > 0,
                        stock=p.get("stock"),
                    )
                ],
            )
        )
    return products


def convert(source: Path, out: Path = DEMO_DATA_DIR) -> dict[str, int]:
    """Convert the sources under ``source`` into the shipped files under ``out``."""
    tau2 = source / "tau2_retail"
    dj = source / "dummyjson"
    products, users, orders = convert_tau2(_load_json(tau2 / "db.json"))
    products += convert_dummyjson(_load_json(dj / "products.json"))
    dump_jsonl(out / "products.jsonl", products)
    dump_jsonl(out / "users.jsonl", users)
    dump_jsonl(out / "orders.jsonl", orders)
    shutil.copyfile(tau2 / "policy.md", out / "policy.md")
    (out / "LICENSES").mkdir(exist_ok=True)
    shutil.copyfile(tau2 / "LICENSE", out / "LICENSES" / "tau2-bench.LICENSE")
    shutil.copyfile(dj / "LICENSE", out / "LICENSES" / "DummyJSON.LICENSE")
    return {"products": len(products), "users": len(users), "orders": len(orders)}
