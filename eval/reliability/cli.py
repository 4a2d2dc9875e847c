"""`aisle eval reliability`: run the suite, print the counts per category."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path
from typing import Annotated

import typer

# category → module in this package with `run(options) -> CategoryResult`
CATEGORIES = {
    "bad_input": "inputs",
    "authorisation": "attacks",
    "load": "load",
    "faults": "faults",
    "durability": "durability",
    "limits": "limits",
}


def main(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    quick: Annotated[bool, typer.Option(help="The fast subset (as in CI).")] = False,
    llm: Annotated[str, typer.Option(help="fake, default, or both (load and authorisation run once per backend).")] = "fake",
    attacks: Annotated[Path | None, typer.Option(help="Extra attacks, JSONL: {user, turns, target} per line.")] = None,
    only: Annotated[list[str] | None, typer.Option(help="Run only these categories (repeatable).")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    stack: Annotated[str, typer.Option(help="local: one `aisle serve` on SQLite and embedded Chroma; postgres: two "
                                       "`aisle serve` replicas on PostgreSQL, a Chroma server and Redis, started "
                                       "on loopback for the run (needs Debian's postgresql and redis-server).")] = "local",
    agent: Annotated[str, typer.Option(help="Agent the authorisation attacks talk to: code, or tools (an LLM calls the tools; "
                                            "see --tools-model; --llm is then unused).")] = "code",
    kind: Annotated[list[str] | None, typer.Option(help="authorisation: only attacks of these kinds (repeatable), e.g. planted.")] = None,
    tools_model: Annotated[str, typer.Option(help="--agent tools: adversary (a scripted model that obeys every planted or typed "
                                                  "instruction: the test of the gates) or served (AISLE_LLM_URL, else the packaged "
                                                  "model on a local server: the test of realism).")] = "adversary",
) -> None:
    """Bad input, authorisation and prompt injection, load, faults, durability and abuse limits:
    cases tried and failures per category. Exit code 1 when any category has a failure."""
    from eval.reliability.base import CategoryResult, Options

    if attacks is not None and not attacks.is_file():
        raise typer.BadParameter(f"no such file: {attacks}", param_hint="--attacks")
    unknown = set(only or []) - set(CATEGORIES)
    if unknown:
        raise typer.BadParameter(f"unknown categories {sorted(unknown)}; choose from {sorted(CATEGORIES)}", param_hint="--only")
    from eval.reliability.replicas import STACKS, stop_stack

    if agent not in ("code", "tools"):
        raise typer.BadParameter("code or tools", param_hint="--agent")
    if tools_model not in ("adversary", "served"):
        raise typer.BadParameter("adversary or served", param_hint="--tools-model")
    if stack not in STACKS:
        raise typer.BadParameter(f"unknown stack {stack!r}; choose from {list(STACKS)}", param_hint="--stack")
    backends = ["fake", "default"] if llm == "both" else [llm]
    results: list[CategoryResult] = []
    started = time.perf_counter()
    try:
        _run_categories(only, backends, json_out, results, Options(quick=quick, attacks=attacks, seed=seed, stack=stack, agent=agent,
                                                                          tools_model=tools_model, kinds=kind or []))
    finally:
        stop_stack()
    report = {
        "categories": [r.model_dump() for r in results],
        "tried": sum(r.tried for r in results),
        "failures": sum(r.failures for r in results),
        "seconds": round(time.perf_counter() - started, 1),
        "quick": quick,
        "stack": stack,
    }
    if json_out:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for r in results:
            for example in r.examples:
                typer.echo(f"  {r.category}: {example}")
        typer.echo(f"total: {report['tried']} cases, {report['failures']} failures in {report['seconds']} s")
    raise typer.Exit(1 if report["failures"] else 0)


def _run_categories(only, backends: list[str], json_out: bool, results: list, options) -> None:
    for name, module_name in CATEGORIES.items():
        if only and name not in only:
            continue
        module = importlib.import_module(f"eval.reliability.{module_name}")
        tools_agent = options.agent == "tools" and name == "authorisation"  # the LLM is the tools agent's own
        for backend in backends if getattr(module, "USES_LLM", False) and not tools_agent else backends[:1]:
            t0 = time.perf_counter()
            result = module.run(options.model_copy(update={"llm": backend}))
            result.seconds = round(time.perf_counter() - t0, 2)
            if getattr(module, "USES_LLM", False):
                kind = f"tools agent, {options.tools_model} model" if tools_agent else backend
                result.category = f"{result.category}[{kind}]"
            results.append(result)
            if not json_out:
                typer.echo(f"{result.category:<28} tried {result.tried:>5}  failures {result.failures:>3}  ({result.seconds:.1f} s)", err=True)
