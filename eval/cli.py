"""`aisle eval …` (quality) and `aisle bench …` (speed). Each capability's module adds its command here."""

from __future__ import annotations

import typer

eval_app = typer.Typer(help="Measure quality: each capability has a command with --json output.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed: latency and throughput benchmarks.", no_args_is_help=True)

# Commands are registered below, one line each, e.g.:
#   from eval import search_eval
#   eval_app.command("search")(search_eval.main)
