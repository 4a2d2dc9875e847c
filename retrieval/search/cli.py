"""`aisle index`: build or update the catalog search index from the store."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from retrieval.config import get_settings
from retrieval.search.index import CatalogIndex
from retrieval.store import Store, StoreSchemaError


def index(
    rebuild: Annotated[bool, typer.Option(help="Drop the index and embed everything again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Index every product variant of the store for search; re-running updates only what changed."""
    settings = get_settings()
    store = Store(settings.db_url)
    try:
        seeded = store.is_seeded()
    except StoreSchemaError as exc:
        seeded, reason = False, str(exc)
    else:
        reason = f"the store at {settings.db_url} is not initialised; run `aisle store init`"
    if not seeded:
        typer.secho(f"error: {reason}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    target = settings.chroma_url or str(settings.chroma_dir)
    try:
        catalog = CatalogIndex.from_settings(settings)
        if rebuild:
            catalog.client.delete_collection(catalog.collection.name)
            catalog = CatalogIndex.from_settings(settings)
        report = catalog.sync(store.products(), progress=not as_json)
    except Exception as exc:  # e.g. the Chroma server is unreachable: say so, no traceback
        typer.secho(f"error: cannot index into {target}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    result = {"index": target, "items": catalog.count(), **report.model_dump()}
    typer.echo(json.dumps(result) if as_json else ", ".join(f"{k}: {v}" for k, v in result.items()))
