"""The `aisle` command. Each package contributes its own sub-commands; this module only gathers them.

A sub-command's module is imported only when that command runs: the modules behind `aisle eval` or
`aisle train` load torch, scikit-learn and chromadb, and importing all of them took `aisle --help`
about 8 s. `aisle --help` lists the commands from the one-line summaries below (a test checks that
they match each command's own help).
"""

from __future__ import annotations

import importlib

import retrieval.config  # noqa: F401  (sets the offline environment before any model library loads)

import click
import typer
from typer.core import TyperGroup

# name → ("module:attribute" of a typer command function or a typer.Typer group, its summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("assistant.cli:chat", "Chat with Aisle in the terminal (Ctrl-D or 'quit' to leave)."),
    "serve": ("ui.serve:serve", ("Serve the shop chat at http://HOST:PORT/, the widget at /widget.js and the "
                                 "API at /api and /v1 (docs at /docs).")),
    "index": ("retrieval.search.cli:index", ("Index every product variant of the store for search; re-running "
                                             "updates only what changed.")),
    "train-intents": ("assistant.intents.train:main", ("Train the intent classifier on the shipped examples "
                                                       "and cache it under the models dir.")),
    "train": ("recsys.store_model:main", "Train the store's ranking model on its order history and events."),
    "serve-ranker": ("recsys.service:main", "Serve the trained ranking model over HTTP (POST /score, GET /health)."),
    "handoffs": ("assistant.cli:handoffs", ("List the conversations handed to a human (oldest first), with their "
                                            "summaries; --close ID marks one done.")),
    "store": ("retrieval.cli:store_app", "Create, inspect and rebuild the store database."),
    "eval": ("eval.cli:eval_app", "Measure quality: each capability has a command with --json output."),
    "bench": ("eval.cli:bench_app", "Measure speed: latency and throughput benchmarks."),
}


def load_command(name: str) -> click.Command:
    """The real click command behind `name` (imports its module)."""
    module, attribute = COMMANDS[name][0].split(":")
    target = getattr(importlib.import_module(module), attribute)
    # Mounted on a parent as before, so typer builds it exactly as an eagerly registered command.
    parent = typer.Typer(add_completion=False)
    if isinstance(target, typer.Typer):
        parent.add_typer(target, name=name)
        return typer.main.get_command(parent).commands[name]  # type: ignore[attr-defined]
    parent.command(name)(target)
    return typer.main.get_command(parent)


class _LazyCommand(click.Command):
    """Stands in for a command in the listing; parses and runs as the real one, loaded on first use."""

    def __init__(self, name: str) -> None:
        super().__init__(name, help=COMMANDS[name][1])
        self._real: click.Command | None = None

    def real(self) -> click.Command:
        if self._real is None:
            self._real = load_command(self.name)
        return self._real

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        return self.real().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        return self.real().invoke(ctx)


class _LazyGroup(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _LazyCommand(cmd_name) if cmd_name in COMMANDS else None


app = typer.Typer(
    name="aisle",
    help="Aisle, an open-source conversational shopping assistant.",
    cls=_LazyGroup,
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    # A callback makes typer build a group (of the lazy commands above) rather than a single command.
    pass


if __name__ == "__main__":
    app()
