"""The `aisle` command. Each package contributes its own sub-commands; this module only gathers them."""

from __future__ import annotations

import retrieval.config  # noqa: F401  (sets the offline environment before any model library loads)

import typer

from eval.cli import bench_app, eval_app
from retrieval.cli import store_app

app = typer.Typer(
    name="aisle",
    help="Aisle, an open-source conversational shopping assistant.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(store_app, name="store")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


if __name__ == "__main__":
    app()
