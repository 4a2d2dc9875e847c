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


# The standard card: develop on the first two, validate on the third and never tune on it.
STANDARD_SUITE = (
    ("v1-train", "dev", "tau", "tau_retail_v1/tasks_train.json"),
    ("tau2-train", "dev", "tau2", "tau2_retail/tasks_train.json"),
    ("v1-dev", "validation", "tau", "tau_retail_v1/tasks_dev.json"),
)
# Situation tasks written for Aisle over the demo store (eval/data/situations/): dev, and the held-out part
# (two in five, by a hash of the task id) side by side; never tune on the held-out part.
SITUATIONS = Path(__file__).parent / "data" / "situations" / "tasks.json"
SITUATIONS_SUITE = (("situations-dev", "dev", "dev"), ("situations-heldout", "validation", "heldout"))
# τ² train reworded (eval/data/reworded/): the same situations and gold actions in other people's words, to
# show which passes depend on the benchmark's wording; dev and held-out parts by the same hash.
REWORDED = Path(__file__).parent / "data" / "reworded" / "tau2_train_reworded.json"
REWORDED_SUITE = (("reworded-dev", "dev", "dev"), ("reworded-heldout", "validation", "heldout"))
SUITES = ("standard", "situations", "reworded")
USERS = ("rule", "llm")


def _user_llm(user: str, url: str | None, model_name: str | None, agent_llm):
    """The model playing an LLM shopper: a server when given, else the packaged local model (the
    assistant's own instance when it runs on it, so the process holds one copy)."""
    if user != "llm":
        return None
    import os

    from assistant.llm import get_llm, make_llm

    if url:
        from assistant.llm.openai_backend import OpenAICompatibleLLM

        return OpenAICompatibleLLM(url, os.environ.get("AISLE_USER_LLM_API_KEY"), model_name)
    from retrieval.config import get_settings

    if agent_llm is None and model_name is None and get_settings().llm_backend == "llama_cpp":
        return get_llm()
    return make_llm("llama_cpp", model_name)


def _load(base, scenarios: Path | None, tau2_tasks: Path | None, tau_tasks: Path | None, user: str, split: str | None = None):
    from eval.dialogues.scenario import load_scenarios
    from eval.dialogues.tau import tau2_scenarios, tau_scenarios

    part = f" ({split})" if split else ""
    if tau2_tasks:
        return f"τ² tasks {tau2_tasks.name}{part}", tau2_scenarios(tau2_tasks, base, user, split=split)
    if tau_tasks:
        return f"τ tasks {tau_tasks.name}{part}", tau_scenarios(tau_tasks, base, user, split=split)
    path = scenarios or SHIPPED_SCENARIOS
    return f"scenarios {path.name}", load_scenarios(path)


def _suite_sets(base, data_dir: Path, user: str, suite: str = "standard") -> list[tuple]:
    """(name, split, source, scenarios) of each set of a suite."""
    from eval.dialogues.scenario import ScenarioError

    if suite in ("situations", "reworded"):
        path, parts = (SITUATIONS, SITUATIONS_SUITE) if suite == "situations" else (REWORDED, REWORDED_SUITE)
        return [(name, split, *_load(base, None, path, None, user, part)) for name, split, part in parts]

    missing = [rel for *_, rel in STANDARD_SUITE if not (data_dir / rel).is_file()]
    if missing:
        raise ScenarioError(f"{data_dir}: missing {', '.join(missing)} (see --data-dir)")
    out = []
    for name, split, kind, rel in STANDARD_SUITE:
        path = data_dir / rel
        out.append((name, split, *_load(base, None, path if kind == "tau2" else None, path if kind == "tau" else None, user)))
    return out


def _held_out(tasks: Path | None, split: str | None) -> bool:
    """Whether a single task file's run is held out: only τ train files and the 'dev' part of a split file are
    developed on; any other task file (τ v1 dev, a test file, a split file's held-out part or the whole of one)
    is treated as held out. Aisle's own scenarios are dev."""
    if tasks is None or split == "dev":
        return False
    return split == "heldout" or not tasks.name.startswith("tasks_train")


def _select(items: list, only: str | None, limit: int | None) -> list:
    if only:
        wanted = {x.strip() for x in only.split(",")}
        items = [s for s in items if s.id in wanted]
    return items[:limit] if limit else items


def main(
    scenarios: Path | None = typer.Option(None, "--scenarios", help="Scenario file or folder (default: Aisle's own)."),
    tau2_tasks: Path | None = typer.Option(None, "--tau2-tasks", help="A τ²-bench retail task file (tasks_*.json)."),
    tau_tasks: Path | None = typer.Option(None, "--tau-tasks", help="A τ-bench v1 retail task file (tasks_*.json)."),
    suite: str | None = typer.Option(None, "--suite", help="'standard': dev (τ v1 train + τ² train) and validation "
                                     "(τ v1 dev) side by side with the gap; 'situations': the shipped situation tasks' dev "
                                     "and held-out parts (eval/data/situations/); 'reworded': τ² train in other words (eval/data/reworded/), "
                                     "dev and held-out parts; K = 4 unless --runs is given."),
    data_dir: Path = typer.Option(Path("../shared/data"), "--data-dir", help="For --suite: the folder holding "
                                  "tau_retail_v1/ and tau2_retail/."),
    runs: int | None = typer.Option(None, "--runs", "-k", min=1, max=32, help="Runs per scenario (K of pass^K); default 1, 4 for --suite."),
    split: str | None = typer.Option(None, "--split", help="With --tau2-tasks / --tau-tasks: only the 'dev' or 'heldout' "
                                     "part of the file, by a hash of each task id (e.g. eval/data/situations/tasks.json)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N scenarios (of each set)."),
    only: str | None = typer.Option(None, "--only", help="Comma-separated scenario ids."),
    llm: str = typer.Option("default", "--llm", help="The assistant's model: 'default' (AISLE_LLM_BACKEND) or a backend name, e.g. fake."),
    agent: str = typer.Option("code", "--agent", help="code (code-first agent) or tools (an LLM calls the tools; AISLE_LLM_URL or the local server)."),
    user: str = typer.Option("rule", "--user", help="Shopper for τ tasks: rule (knows only the task text) or llm (a model "
                             "plays it from the task text); neither is ever given the ground-truth actions."),
    user_llm_url: str | None = typer.Option(None, "--user-llm-url", help="--user llm: an OpenAI-compatible server "
                                            "(e.g. http://127.0.0.1:8000/v1; key from AISLE_USER_LLM_API_KEY); default: the packaged local model."),
    user_llm_model: str | None = typer.Option(None, "--user-llm-model", help="--user llm: the server's model name."),
    out: Path = typer.Option(Path("eval-results/dialogues"), "--out", help="Folder for report.md, plots and results.json."),
    show_heldout_failures: bool = typer.Option(False, "--show-heldout-failures", help="Also write the failed runs of "
                                               "held-out sets (transcripts, divergence, state differences) into the report "
                                               "and results.json; by default they are counted by kind only."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object (the summary) on stdout."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Scripted dialogue evaluation: pass^1…pass^K, state match, tool-call precision/recall, turns, latency."""
    import retrieval.config  # noqa: F401  (offline settings before any model library)
    from eval.dialogues.report import summarise, write_report, write_suite_report
    from eval.dialogues.runner import DialogueRunner
    from eval.dialogues.scenario import ScenarioError
    from retrieval.store import Store

    logging.basicConfig(level=logging.WARNING)
    if agent not in ("code", "tools"):
        raise typer.BadParameter("--agent must be code or tools")
    if user not in USERS:
        raise typer.BadParameter(f"--user must be one of {', '.join(USERS)}")
    if user != "llm" and (user_llm_url or user_llm_model):
        raise typer.BadParameter("--user-llm-url / --user-llm-model need --user llm")
    if sum(x is not None for x in (scenarios, tau2_tasks, tau_tasks, suite)) > 1:
        raise typer.BadParameter("give one of --scenarios, --tau2-tasks, --tau-tasks, --suite")
    if split and not (tau2_tasks or tau_tasks):
        raise typer.BadParameter("--split needs --tau2-tasks or --tau-tasks")
    if suite not in (None, *SUITES):
        raise typer.BadParameter(f"--suite must be one of {', '.join(SUITES)}")
    runs = runs or (4 if suite else 1)
    held = _held_out(tau2_tasks or tau_tasks, split) and not show_heldout_failures  # (`split` is reused below)
    with tempfile.TemporaryDirectory(prefix="aisle-dialogues-") as tmp:
        base = Store(f"sqlite:///{Path(tmp) / 'base.db'}")
        base.init()  # the demo store, fresh: the shopper's own database is never touched
        try:
            if suite:
                sets = _suite_sets(base, data_dir, user, suite)
            else:
                sets = [("", None, *_load(base, scenarios, tau2_tasks, tau_tasks, user, split))]
        except ScenarioError as exc:
            raise typer.BadParameter(str(exc)) from exc
        sets = [(name, split, source, _select(items, only, limit)) for name, split, source, items in sets]
        if not any(items for *_, items in sets):
            raise typer.BadParameter("no scenarios selected")

        model = None
        if llm != "default":
            from assistant.llm import make_llm

            model = make_llm(llm)
        services = {"search": _LazySearch(base)}
        runner = DialogueRunner(base, Path(tmp) / "runs", llm=model, classifier=_classifier(), services=services,
                                user_llm=_user_llm(user, user_llm_url, user_llm_model, model), agent=agent)  # fmt: skip
        done = []
        for name, split, source, items in sets:
            started = time.perf_counter()
            results = runner.run_all(items, runs, progress=not quiet)  # the bar goes to stderr
            done.append((name, split, source, results, summarise(results, runs), round(time.perf_counter() - started, 1)))
    from retrieval.config import get_settings

    shopper = (f"llm ({user_llm_model or 'server'} at {user_llm_url})" if user_llm_url else user) if (tau2_tasks or tau_tasks or suite) \
        else "as each scenario says"  # fmt: skip
    meta = {"runs": runs, "llm": llm if llm != "default" else f"default ({get_settings().llm_backend})", "user": shopper, "agent": agent}
    if "tool_agent_stats" in services:  # what the model did: calls, validity, tokens/s
        meta["tool_agent"] = services["tool_agent_stats"].as_dict()
    if suite:
        payload = write_suite_report(
            [(name, split, source, results, summary, {**meta, "source": source, "wall_seconds": wall})
             for name, split, source, results, summary, wall in done], out, {**meta, "suite": suite},
            show_heldout=show_heldout_failures,
        )  # fmt: skip
        if json_out:
            typer.echo(json.dumps(payload, ensure_ascii=False))
            return
        typer.echo(f"{suite} suite, K = {runs}: " + "; ".join(
            f"{split} pass^1 {payload[split]['pass_hat_k'][1]:.3f}" for split in ("dev", "validation")) +
            f"; gap {payload['gap'][1]:+.3f}")  # fmt: skip
        typer.echo(f"  report: {payload['report']}")
        return
    _, _, source, results, summary, wall = done[0]
    meta = {"source": source, **meta, "wall_seconds": wall}
    report = write_report(results, summary, out, meta, held_out=held)
    payload = {**summary.model_dump(), "meta": meta, "report": str(report), "results": str(out / "results.json")}
    if json_out:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo(f"{source}: {summary.scenarios} scenarios × {runs} runs in {wall} s")
    typer.echo("  " + "  ".join(f"pass^{k}={v:.3f}" for k, v in summary.pass_hat_k.items()))
    typer.echo(f"  state match {summary.state_match_rate}, tool P/R {summary.tool_precision}/{summary.tool_recall}, "
               f"{summary.mean_turns} turns, {summary.seconds_per_turn_mean} s/turn (p95 {summary.seconds_per_turn_p95})")  # fmt: skip
    typer.echo(f"  report: {report}")
