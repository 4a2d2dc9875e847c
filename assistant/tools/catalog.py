"""Catalog tools: search, product details, side-by-side comparison."""

from __future__ import annotations

from assistant.tools.args import CompareArgs, ProductDetailsArgs
from assistant.tools.base import ToolError
from retrieval.store import ProductRecord


def search_products(ctx, args) -> dict:
    response = ctx.search.search(args)
    return response.model_dump(mode="json")


def _resolve(ctx, some_id: str) -> tuple[ProductRecord, str | None]:
    """A product id, or an item id (then the product and that item)."""
    product = ctx.store.product(some_id)
    if product is not None:
        return product, None
    with ctx.store.session() as s:
        from retrieval.store import tables as t

        variant = s.get(t.Variant, some_id)
        product_id = variant.product_id if variant else None
    if product_id is None:
        raise ToolError(f"There is no product or item with id {some_id}.")
    return ctx.store.product(product_id), some_id


def product_summary(product: ProductRecord, item_id: str | None = None, max_reviews: int = 3) -> dict:
    variants = [v for v in product.variants if item_id is None or v.item_id == item_id]
    prices = [v.price for v in variants]
    return {
        "product_id": product.product_id,
        "name": product.name,
        "brand": product.brand,
        "category": product.category,
        "description": product.description,
        "rating": product.rating,
        "price_range": [min(prices), max(prices)],
        "warranty": product.warranty,
        "shipping": product.shipping,
        "return_policy": product.return_policy,
        "reviews": [r.model_dump(mode="json", include={"rating", "comment"}) for r in product.reviews[:max_reviews]],
        "variants": [v.model_dump(mode="json", exclude={"product_id"}) for v in variants],
    }


def get_product_details(ctx, args: ProductDetailsArgs) -> dict:
    product, item_id = _resolve(ctx, args.product_id)
    return product_summary(product, item_id)


def compare_products(ctx, args: CompareArgs) -> dict:
    rows = []
    for some_id in dict.fromkeys(args.ids):  # keep order, drop repeats
        product, item_id = _resolve(ctx, some_id)
        summary = product_summary(product, item_id, max_reviews=0)
        available = [v for v in summary["variants"] if v["available"]]
        rows.append(
            {
                "id": some_id,
                "name": summary["name"],
                "brand": summary["brand"],
                "category": summary["category"],
                "rating": summary["rating"],
                "price_range": summary["price_range"],
                "options": summary["variants"][0]["options"] if item_id else _option_values(summary["variants"]),
                "available_variants": len(available),
                "warranty": summary["warranty"],
            }
        )
    if len(rows) < 2:
        raise ToolError("Name at least two different products to compare.")
    return {"compared": rows}


def _option_values(variants: list[dict]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for v in variants:
        for key, value in v["options"].items():
            values.setdefault(key, [])
            if value not in values[key]:
                values[key].append(value)
    return values
