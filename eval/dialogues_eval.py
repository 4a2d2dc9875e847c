"""`aisle eval dialogues`: play scenarios (Aisle's own, or τ²/τ retail tasks) K times each and report pass^k.

Each run talks to the assistant on a fresh copy of the demo store; the report (Markdown + PNG
plots) and results.json go to --out. See docs/scenario-format.md for the scenario format.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import typer

SHIPPED_SCENARIOS = Path(__file__).parent / "scenarios"


def _classifier():
    from assistant.intents import IntentClassifier

    return IntentClassifier.load()


class _LazySearch:
    """Search over the catalog's index, opened (and built from the evaluation's store if empty) on first
    use, so order-only runs such as τ tasks never pay for it."""

    def __init__(self, store) -> None:
        self.store, self._search = store, None

    def __getattr__(self, name: str):
        if self._search is None:
            from retrieval.search import CatalogIndex, Search

            index = CatalogIndex.from_settings()
            if index.count() == 0:
                index.sync(self.store.products(), progress=False)
            self._search = Search(index)
        return getattr(self._search, name)


def main(
    scenarios: Path | None = typer.Option(None, "--scenarios", help="Scenario file or folder (default: Aisle's own)."),
    tau2_tasks: Path | None = typer.Option(None, "--tau2-tasks", help="A τ²-bench retail task file (tasks_*.json)."),
    tau_tasks: Path | None = typer.Option(None, "--tau-tasks", help="A τ-bench v1 retail task file (tasks_*.json)."),
    runs: int = typer.Option(1, "--runs", "-k", min=1, max=32, help="Runs per scenario (K of pass^K)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N scenarios."),
    only: str | None = typer.Option(None, "--only", help="Comma-separated scenario ids."),
    llm: str = typer.Option("default", "--llm", help="The assistant's model: 'default' (AISLE_LLM_BACKEND) or a backend name, e.g. fake."),
    agent: str = typer.Option("code", "--agent", help="code (code-first agent) or tools (an LLM calls the tools; AISLE_LLM_URL or the local server)."),
    user: str = typer.Option("rule", "--user", help="Simulated shopper for τ tasks: rule or llm."),
    out: Path = typer.Option(Path("eval-results/dialogues"), "--out", help="Folder for report.md, plots and results.json."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object (the summary) on stdout."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Scripted dialogue evaluation: pass^1…pass^K, state match, tool-call precision/recall, turns, latency."""
    import retrieval.config  # noqa: F401  (offline settings before any model library)
    from eval.dialogues.report import summarise, write_report
    from eval.dialogues.runner import DialogueRunner
    from eval.dialogues.scenario import ScenarioError, load_scenarios
    from eval.dialogues.tau import tau2_scenarios, tau_scenarios
    from retrieval.store import Store

    logging.basicConfig(level=logging.WARNING)
    if agent not in ("code", "tools"):
        raise typer.BadParameter("--agent must be code or tools")
    if user not in ("rule", "llm"):
        raise typer.BadParameter("--user must be rule or llm")
    if sum(x is not None for x in (scenarios, tau2_tasks, tau_tasks)) > 1:
        raise typer.BadParameter("give one of --scenarios, --tau2-tasks, --tau-tasks")
    with tempfile.TemporaryDirectory(prefix="aisle-dialogues-") as tmp:
        base = Store(f"sqlite:///{Path(tmp) / 'base.db'}")
        base.init()  # the demo store, fresh: the shopper's own database is never touched
        try:
            if tau2_tasks:
                source, items = f"τ² tasks {tau2_tasks.name}", tau2_scenarios(tau2_tasks, base, user)
            elif tau_tasks:
                source, items = f"τ tasks {tau_tasks.name}", tau_scenarios(tau_tasks, base, user)
            else:
                path = scenarios or SHIPPED_SCENARIOS
                source, items = f"scenarios {path.name}", load_scenarios(path)
        except ScenarioError as exc:
            raise typer.BadParameter(str(exc)) from exc
        if only:
            wanted = {x.strip() for x in only.split(",")}
            items = [s for s in items if s.id in wanted]
        items = items[:limit] if limit else items
        if not items:
            raise typer.BadParameter("no scenarios selected")

        model = None
        if llm != "default":
            from assistant.llm import make_llm

            model = make_llm(llm)
        user_llm = model if user == "llm" else None
        started = time.perf_counter()
        services = {"search": _LazySearch(base)}
        runner = DialogueRunner(base, Path(tmp) / "runs", llm=model, classifier=_classifier(), services=services,
                                user_llm=user_llm, agent=agent)  # fmt: skip
        results = runner.run_all(items, runs, progress=not quiet)  # the bar goes to stderr
        summary = summarise(results, runs)
        wall = round(time.perf_counter() - started, 1)
    from retrieval.config import get_settings

    meta = {"source": source, "runs": runs, "llm": llm if llm != "default" else f"default ({get_settings().llm_backend})",
            "user": user if (tau2_tasks or tau_tasks) else "as each scenario says", "wall_seconds": wall, "agent": agent}  # fmt: skip
    if "tool_agent_stats" in services:  # what the model did: calls, validity, tokens/s
        meta["tool_agent"] = services["tool_agent_stats"].as_dict()
    report = write_report(results, summary, out, meta)
    payload = {**summary.model_dump(), "meta": meta, "report": str(report), "results": str(out / "results.json")}
    if json_out:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo(f"{source}: {summary.scenarios} scenarios × {runs} runs in {wall} s")
    typer.echo("  " + "  ".join(f"pass^{k}={v:.3f}" for k, v in summary.pass_hat_k.items()))
    typer.echo(f"  state match {summary.state_match_rate}, tool P/R {summary.tool_precision}/{summary.tool_recall}, "
               f"{summary.mean_turns} turns, {summary.seconds_per_turn_mean} s/turn (p95 {summary.seconds_per_turn_p95})")  # fmt: skip
    typer.echo(f"  report: {report}")
