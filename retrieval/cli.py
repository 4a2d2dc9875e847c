"""`aisle store …`: create, inspect and rebuild the store database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from retrieval.config import get_settings
from retrieval.store import Store, StoreDataError, StoreSchemaError

store_app = typer.Typer(help="Create, inspect and rebuild the store database.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@store_app.command("init")
def init(
    reset: Annotated[bool, typer.Option(help="Delete the database first (recorded events are lost).")] = False,
) -> None:
    """Create the store database and seed it with the demo store. Safe to run again."""
    settings = get_settings()
    try:
        seeded = Store(settings.db_url).init(reset=reset)
    except (StoreDataError, StoreSchemaError) as exc:
        _fail(str(exc))
    typer.echo(f"{'seeded' if seeded else 'already initialised'}: {settings.db_url}")


@store_app.command("info")
def info(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Count what the store holds (products, variants, users, orders, events, …)."""
    settings = get_settings()
    store = Store(settings.db_url)
    try:
        if not store.is_seeded():
            _fail(f"the store at {settings.db_url} is not initialised; run `aisle store init`")
    except StoreSchemaError as exc:
        _fail(str(exc))
    counts = store.info()
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo(f"database: {settings.db_url}")
        for name, count in counts.items():
            typer.echo(f"  {name:<12} {count:>7,}")


@store_app.command("convert")
def convert(
    source: Annotated[Path, typer.Option(help="Folder holding tau2_retail/ and dummyjson/.")],
    out: Annotated[Path | None, typer.Option(help="Where to write; default: the shipped data folder.")] = None,
) -> None:
    """Rebuild the shipped demo-store files from the public τ²-bench and DummyJSON sources."""
    from retrieval.store.convert import convert as run_convert
    from retrieval.store.seed import DEMO_DATA_DIR

    try:
        counts = run_convert(source, out or DEMO_DATA_DIR)
    except StoreDataError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(counts))
