"""`aisle eval …` (quality) and `aisle bench …` (speed). Each capability's module adds its command here.

`aisle --help` does not import this module (ui/cli.py loads a command's module when it runs);
`aisle eval --help` and `aisle bench --help` import every module below, torch and chromadb included.
"""

from __future__ import annotations

import typer

from eval import (
    api_bench,
    chat_bench,
    dialogues_eval,
    intents_cv,
    intents_eval,
    llm_bench,
    proposals_eval,
    ranker_bench,
    reader_eval,
    recsys_eval,
    search_bench,
    search_eval,
    search_judge,
    search_rerank,
    search_sets,
)
from eval.reliability import cli as reliability_cli

eval_app = typer.Typer(help="Measure quality: each capability has a command with --json output.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed: latency and throughput benchmarks.", no_args_is_help=True)

eval_app.command("search")(search_eval.main)
eval_app.command("search-sets")(search_sets.main)
eval_app.command("search-judge")(search_judge.main)
eval_app.command("search-rerank")(search_rerank.main)
eval_app.command("intents")(intents_eval.main)
eval_app.command("intents-cv")(intents_cv.main)
eval_app.command("reader")(reader_eval.main)
eval_app.command("recsys")(recsys_eval.main)
eval_app.command("dialogues")(dialogues_eval.main)
eval_app.command("proposals")(proposals_eval.main)
eval_app.command("reliability")(reliability_cli.main)

bench_app.command("search")(search_bench.main)
bench_app.command("ranker")(ranker_bench.main)
bench_app.command("llm")(llm_bench.main)
bench_app.command("chat")(chat_bench.main)
bench_app.command("api")(api_bench.main)
