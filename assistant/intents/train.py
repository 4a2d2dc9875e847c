"""`aisle train-intents`: fit the intent classifier now (instead of on first use) and cache it."""

from __future__ import annotations

import json
import time

import typer

from assistant.intents.model import IntentClassifier, model_path


def main(
    force: bool = typer.Option(False, "--force", help="Retrain even if a model for the current data is cached."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Train the intent classifier on the shipped examples and cache it under the models dir."""
    start = time.perf_counter()
    clf = IntentClassifier.load(retrain=force)
    info = {
        "path": str(model_path(clf.key)),
        "intents": len(clf.labels),
        "temperature": clf.temperature,
        "oos_margin": clf.oos_margin,
        "seconds": round(time.perf_counter() - start, 2),
    }
    typer.echo(json.dumps(info) if as_json else "\n".join(f"{k}: {v}" for k, v in info.items()))
