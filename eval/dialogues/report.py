"""Metrics over runs (pass^k as τ-bench defines it, state match, tool precision/recall, turns, latency)
and the report: Markdown with PNG plots, plus the machine-readable results."""

from __future__ import annotations

import json

from collections import Counter, defaultdict
from math import comb
from pathlib import Path

from pydantic import BaseModel, Field

from eval.dialogues.runner import FAILURE_MODES, RunResult

# What results.json keeps of a held-out run unless its failures are asked for: whether and how it failed,
# never what was said or which fields differed (reading those is how a held-out set becomes a dev set).
CONTENT_FREE = {"scenario_id", "category", "lang", "run", "passed", "mode", "state_checked", "state_match",
                "tool_precision", "tool_recall", "seconds"}  # fmt: skip


class Summary(BaseModel):
    scenarios: int
    runs_per_scenario: int
    pass_hat_k: dict[int, float] = Field(description="k → pass^k: a scenario counts only if k i.i.d. runs all pass.")
    pass_rate: float
    state_match_rate: float | None
    tool_precision: float | None
    tool_recall: float | None
    mean_turns: float
    seconds_per_turn_mean: float
    seconds_per_turn_p50: float
    seconds_per_turn_p95: float
    total_seconds: float
    errors: int
    by_category: dict[str, dict] = Field(default_factory=dict)
    by_lang: dict[str, float] = Field(default_factory=dict)
    failure_modes: dict[str, int] = Field(default_factory=dict, description="Failed runs by kind (FAILURE_MODES).")


def pass_hat_k(results: list[RunResult], k_max: int) -> dict[int, float]:
    """τ-bench's pass^k: per scenario with n runs and c successes, C(c, k) / C(n, k); averaged over scenarios."""
    runs: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        runs[r.scenario_id].append(r.passed)
    out = {}
    for k in range(1, k_max + 1):
        vals = [comb(sum(v), k) / comb(len(v), k) for v in runs.values() if len(v) >= k]
        out[k] = round(sum(vals) / len(vals), 4) if vals else 0.0
    return out


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 4)


def summarise(results: list[RunResult], runs: int) -> Summary:
    latencies = [t.seconds for r in results for t in r.turns]
    checked = [r for r in results if r.state_checked]
    by_cat: dict[str, list[RunResult]] = defaultdict(list)
    by_lang: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        by_cat[r.category].append(r)
        by_lang[r.lang].append(r)
    return Summary(
        scenarios=len({r.scenario_id for r in results}),
        runs_per_scenario=runs,
        pass_hat_k=pass_hat_k(results, runs),
        pass_rate=round(sum(r.passed for r in results) / max(1, len(results)), 4),
        state_match_rate=_mean([float(bool(r.state_match)) for r in checked]),
        tool_precision=_mean([r.tool_precision for r in results if r.tool_precision is not None]),
        tool_recall=_mean([r.tool_recall for r in results if r.tool_recall is not None]),
        mean_turns=_mean([len(r.turns) for r in results]) or 0.0,
        seconds_per_turn_mean=_mean(latencies) or 0.0,
        seconds_per_turn_p50=_pct(latencies, 0.5),
        seconds_per_turn_p95=_pct(latencies, 0.95),
        total_seconds=round(sum(r.seconds for r in results), 2),
        errors=sum(r.error is not None for r in results),
        by_category={c: {"runs": len(rs), "pass_rate": round(sum(r.passed for r in rs) / len(rs), 4)}
                     for c, rs in sorted(by_cat.items())},  # fmt: skip
        by_lang={lang: round(sum(r.passed for r in rs) / len(rs), 4) for lang, rs in sorted(by_lang.items())},
        failure_modes=dict(Counter(r.mode or "other" for r in results if not r.passed).most_common()),
    )


def _plots(results: list[RunResult], summary: Summary, out: Path) -> list[str]:
    """PNG plots next to the report; none (with a note) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    names = []
    ks = sorted(summary.pass_hat_k)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(ks, [summary.pass_hat_k[k] for k in ks], marker="o")
    ax.set(xlabel="k", ylabel="pass^k", ylim=(0, 1.02), title="pass^k", xticks=ks)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "pass_hat_k.png", dpi=110)
    names.append("pass_hat_k.png")
    plt.close(fig)

    failed = Counter(r.category for r in results if not r.passed)
    cats = sorted({r.category for r in results})
    fig, ax = plt.subplots(figsize=(6, max(2.5, 0.3 * len(cats) + 1)))
    ax.barh(cats, [failed.get(c, 0) for c in cats], color="tab:red")
    ax.set(xlabel="failed runs", title="Failures by category")
    fig.tight_layout()
    fig.savefig(out / "failures_by_category.png", dpi=110)
    names.append("failures_by_category.png")
    plt.close(fig)

    by_turn: dict[int, list[float]] = defaultdict(list)
    for r in results:
        for n, t in enumerate(r.turns, 1):
            by_turn[n].append(t.seconds)
    if by_turn:
        turns = sorted(by_turn)
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.boxplot([by_turn[n] for n in turns], tick_labels=[str(n) for n in turns], showfliers=True)
        ax.set(xlabel="turn", ylabel="seconds", title="Assistant latency per turn")
        fig.tight_layout()
        fig.savefig(out / "latency_per_turn.png", dpi=110)
        names.append("latency_per_turn.png")
        plt.close(fig)
    return names


def _transcript(r: RunResult) -> str:
    lines = []
    for n, t in enumerate(r.turns, 1):
        lines.append(f"{n}. **shopper:** {t.user}")
        calls = ", ".join(f"{c.name}{'' if c.ok else ' ✗'}" for c in t.calls)
        extra = f" _(tools: {calls})_" if calls else ""
        if t.proposed:
            extra += f" _(proposed: {t.proposed.name} {json.dumps(t.proposed.arguments, ensure_ascii=False)})_"
        reply = t.reply.replace("\n", " ⏎ ")
        lines.append(f"   **assistant** ({t.seconds:.2f} s):{extra} {reply}")
    return "\n".join(lines)


def _modes_table(summary: Summary) -> list[str]:
    if not summary.failure_modes:
        return []
    md = ["", "| failed runs by kind | runs | what it means |", "|---|---|---|"]
    return md + [f"| {m} | {n} | {FAILURE_MODES.get(m, '')} |" for m, n in summary.failure_modes.items()]


def write_report(results: list[RunResult], summary: Summary, out: Path, meta: dict, held_out: bool = False) -> Path:
    """report.md, the plots and results.json (summary + every run) in `out`; returns the report's path.
    `held_out`: the failed runs are counted by kind only, and results.json keeps no transcript, divergence
    or state difference of any run."""
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(results, summary, out)
    runs = [r.model_dump(mode="json", include=CONTENT_FREE if held_out else None) for r in results]
    (out / "results.json").write_text(
        json.dumps({"meta": {**meta, "held_out": held_out}, "summary": summary.model_dump(), "runs": runs},
                   ensure_ascii=False, indent=1), encoding="utf-8")  # fmt: skip
    s = summary
    md = [f"# Dialogue evaluation: {meta.get('source', '')}", ""]
    md += [f"- {k}: {v}" for k, v in meta.items()]
    md += ["", "| metric | value |", "|---|---|"]
    md += [f"| pass^{k} | {v:.3f} |" for k, v in s.pass_hat_k.items()]
    for name in ("pass_rate", "state_match_rate", "tool_precision", "tool_recall", "mean_turns",
                 "seconds_per_turn_mean", "seconds_per_turn_p50", "seconds_per_turn_p95", "total_seconds", "errors"):  # fmt: skip
        v = getattr(s, name)
        md.append(f"| {name} | {'–' if v is None else v} |")
    md += ["", "| category | runs | pass rate |", "|---|---|---|"]
    md += [f"| {c} | {v['runs']} | {v['pass_rate']:.3f} |" for c, v in s.by_category.items()]
    md += _modes_table(s)
    md += ["", *[f"![{p}]({p})" for p in plots]] if plots else ["", "(no plots: matplotlib is not installed)"]
    failed: dict[str, list[RunResult]] = defaultdict(list)
    for r in results:
        if not r.passed:
            failed[r.scenario_id].append(r)
    md += ["", f"## Failed scenarios ({len(failed)})", ""]
    if held_out and failed:
        md += ["A held-out set: its failed runs are counted by kind above and not shown "
               "(`--show-heldout-failures` shows them; reading them turns the set into a dev set).", ""]
        failed = {}
    for sid, rs in failed.items():
        total = sum(1 for r in results if r.scenario_id == sid)
        r = rs[0]
        md += [f"### {sid} ({r.category}, {r.lang}): failed {len(rs)}/{total} runs", "",
               f"- first divergence (run {r.run}): {r.divergence or '–'}",
               f"- why: {'; '.join(r.failures)}"]  # fmt: skip
        md += [f"- state: `{d.path}` expected `{json.dumps(d.expected, ensure_ascii=False)}`, "
               f"got `{json.dumps(d.actual, ensure_ascii=False)}`" for d in r.state_diffs[:5]]  # fmt: skip
        md += ["", _transcript(r), ""]
    path = out / "report.md"
    path.write_text("\n".join(md) + "\n", encoding="utf-8")
    return path




def write_suite_report(sets: list[tuple], out: Path, meta: dict, show_heldout: bool = False) -> dict:
    """Each set's own report in out/<name>/, and out/report.md + out/suite.json: every set, then the
    dev and validation splits pooled, side by side with the gap (dev − validation).
    `sets`: (name, split, source, results, summary, meta) per set. A validation set's failures are counted
    by kind only unless `show_heldout` (see write_report)."""
    out.mkdir(parents=True, exist_ok=True)
    payload: dict = {"meta": meta, "sets": {}}
    pooled: dict[str, list[RunResult]] = defaultdict(list)
    runs = meta["runs"]
    for name, split, source, results, summary, set_meta in sets:
        report = write_report(results, summary, out / name, set_meta, held_out=split == "validation" and not show_heldout)
        payload["sets"][name] = {"split": split, "source": source, **summary.model_dump(), "report": str(report)}
        pooled[split].extend(results)
    for split, results in pooled.items():
        s = summarise(results, runs)
        payload[split] = {"scenarios": s.scenarios, "pass_hat_k": s.pass_hat_k, "state_match_rate": s.state_match_rate,
                          "tool_precision": s.tool_precision, "tool_recall": s.tool_recall,
                          "failure_modes": s.failure_modes}  # fmt: skip
    if "dev" in payload and "validation" in payload:
        payload["gap"] = {k: round(payload["dev"]["pass_hat_k"][k] - v, 4)
                          for k, v in payload["validation"]["pass_hat_k"].items()}  # fmt: skip
    ks = list(range(1, runs + 1))
    md = [f"# Dialogue evaluation: {meta.get('suite', '')} suite", "", *[f"- {k}: {v}" for k, v in meta.items()], ""]
    md += ["Develop on the dev sets; the validation set is never used for tuning.", ""]
    md += ["| set | split | tasks | " + " | ".join(f"pass^{k}" for k in ks) + " | state match | tool P / R |",
           "|---|---|---|" + "---|" * len(ks) + "---|---|"]  # fmt: skip
    for name, v in payload["sets"].items():
        md.append(f"| [{name}]({name}/report.md) | {v['split']} | {v['scenarios']} | "
                  + " | ".join(f"{v['pass_hat_k'][k]:.3f}" for k in ks) + f" | {v['state_match_rate']} | "
                  f"{v['tool_precision']} / {v['tool_recall']} |")  # fmt: skip
    splits = [s for s in ("dev", "validation") if s in payload]
    md += ["", "| | " + " | ".join(f"{s} ({payload[s]['scenarios']} tasks)" for s in splits)
           + (" | gap (dev − validation) |" if "gap" in payload else " |"),
           "|---|" + "---|" * (len(splits) + ("gap" in payload))]  # fmt: skip
    for k in ks:
        row = [f"{payload[s]['pass_hat_k'][k]:.3f}" for s in splits]
        if "gap" in payload:
            row.append(f"{payload['gap'][k]:+.3f}")
        md.append(f"| pass^{k} | " + " | ".join(row) + " |")
    modes = [m for m in FAILURE_MODES if any(m in payload[s]["failure_modes"] for s in splits)]
    if modes:  # where each split fails, side by side, without reading a held-out run
        md += ["", "| failed runs by kind | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
        md += [f"| {m} | " + " | ".join(str(payload[s]["failure_modes"].get(m, 0)) for s in splits) + " |" for m in modes]
    path = out / "report.md"
    path.write_text("\n".join(md) + "\n", encoding="utf-8")
    payload["report"] = str(path)
    (out / "suite.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return payload
