"""The `aisle` command. Each package contributes its own sub-commands; this module only gathers them."""

from __future__ import annotations

import retrieval.config  # noqa: F401  (sets the offline environment before any model library loads)

import typer

from assistant.cli import chat
from assistant.intents import train as intents_train
from eval.cli import bench_app, eval_app
from recsys import service as recsys_service
from recsys import store_model as recsys_train
from retrieval.cli import store_app
from retrieval.search.cli import index as search_index
from ui.serve import serve

app = typer.Typer(
    name="aisle",
    help="Aisle, an open-source conversational shopping assistant.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(store_app, name="store")
app.command("chat")(chat)
app.command("serve")(serve)
app.command("index")(search_index)
app.command("train-intents")(intents_train.main)
app.command("train")(recsys_train.main)
app.command("serve-ranker")(recsys_service.main)
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


if __name__ == "__main__":
    app()
