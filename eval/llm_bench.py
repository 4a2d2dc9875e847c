"""`aisle bench llm`: the raw model layer's speed — load time, time to first token, tokens/s, peak RSS.

Each turn is a fixed ~500-token system prompt (an assistant's rules and tool descriptions, in
data/llm_bench/) plus one short shopper message. Three ways of running the same turns:

- cold: the model's context is emptied before each turn, so the whole prompt is read;
- warm: the system prompt's state was kept by `warm()`, so only the shopper's message is read;
- interleaved: each turn comes after a call with a different fixed prompt (a router's), as in an
  agent that routes then answers; both prefixes are warmed, so their kept states are swapped in.

Backends that keep no prefix state (openai, transformers, fake) run only "warm" (which is then the
plain case). Prompt tokens/s is read from cold turns (prompt tokens ÷ time to first token);
generation tokens/s from all turns (tokens after the first ÷ time after the first).
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from pathlib import Path
from typing import Annotated

import typer

DATA = Path(__file__).resolve().parent / "data" / "llm_bench"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)


def _turn(llm, messages, config) -> dict:
    start = time.perf_counter()
    first, text = None, []
    for piece in llm.stream(messages, config):
        first = first or time.perf_counter()
        text.append(piece)
    end = time.perf_counter()
    stats = llm.last_stats
    ttft = (first or end) - start
    return {
        "ttft_s": ttft,
        "total_s": end - start,
        "prompt_tokens": stats.prompt_tokens if stats else None,
        "cached_prompt_tokens": stats.cached_prompt_tokens if stats else None,
        "completion_tokens": stats.completion_tokens if stats else None,
        "text": "".join(text),
    }


def _summary(runs: list[dict]) -> dict:
    ttfts = [r["ttft_s"] for r in runs]
    gen = [
        (r["completion_tokens"] - 1) / (r["total_s"] - r["ttft_s"])
        for r in runs
        if r["completion_tokens"] and r["completion_tokens"] > 1 and r["total_s"] > r["ttft_s"]
    ]
    prompt = [r["prompt_tokens"] for r in runs if r["prompt_tokens"] is not None]
    cached = [r["cached_prompt_tokens"] for r in runs if r["cached_prompt_tokens"] is not None]
    return {
        "turns": len(runs),
        "ttft_p50_s": _pct(ttfts, 0.5),
        "ttft_p95_s": _pct(ttfts, 0.95),
        "gen_tokens_per_s": round(statistics.median(gen), 1) if gen else None,
        "prompt_tokens_mean": round(statistics.mean(prompt), 1) if prompt else None,
        "cached_prompt_tokens_mean": round(statistics.mean(cached), 1) if cached else None,
    }


def run(backend: str | None, model: str | None, turns: int, max_tokens: int, progress: bool = True) -> dict:
    from assistant.llm import ChatMessage, GenerationConfig, make_llm

    system = (DATA / "system.md").read_text(encoding="utf-8")
    router = (DATA / "router.md").read_text(encoding="utf-8")
    users = [u for u in (DATA / "turns.txt").read_text(encoding="utf-8").splitlines() if u.strip()][:turns]
    config = GenerationConfig(max_tokens=max_tokens, temperature=0.0)

    def main_turn(user: str):
        return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]

    def router_turn(user: str):
        return [ChatMessage(role="system", content=router), ChatMessage(role="user", content=user)]

    started = time.perf_counter()
    llm = make_llm(backend, model, progress=progress)
    load_s = time.perf_counter() - started
    keeps_state = hasattr(llm, "forget")
    result: dict = {
        "backend": llm.name,
        "model": str(getattr(llm, "model_path", None) and Path(llm.model_path).name or model or ""),
        "load_s": round(load_s, 2),
        "max_tokens": max_tokens,
    }
    _turn(llm, main_turn("hello"), GenerationConfig(max_tokens=2))  # first call pays one-off set-up costs

    from tqdm import tqdm

    modes = ["cold", "warm", "interleaved"] if keeps_state else ["warm"]
    bar = tqdm(total=len(modes) * len(users), desc="bench llm", disable=not progress)
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    for mode in modes:
        if keeps_state:
            llm.forget()
        if mode != "cold":
            llm.warm(system)
        if mode == "interleaved":
            llm.warm(router)
        for user in users:
            if mode == "cold":
                llm.forget()
            if mode == "interleaved":
                _turn(llm, router_turn(user), GenerationConfig(max_tokens=24, temperature=0.0))
            runs[mode].append(_turn(llm, main_turn(user), config))
            bar.update()
    bar.close()
    for mode, items in runs.items():
        result[mode] = _summary(items)
    if "cold" in runs:
        rates = [r["prompt_tokens"] / r["ttft_s"] for r in runs["cold"] if r["prompt_tokens"]]
        result["prompt_tokens_per_s"] = round(statistics.median(rates), 1) if rates else None
    result["sample_reply"] = runs[modes[-1]][0]["text"][:200]
    # ru_maxrss is in KiB on Linux; it includes the mmapped model pages that were touched.
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    llm.close()
    return result


def main(
    backend: Annotated[str | None, typer.Option(help="llama_cpp | openai | transformers | fake; default: settings")] = None,
    model: Annotated[str | None, typer.Option(help="qwen1.5b | qwen0.5b | a GGUF path (llama_cpp); a model name or dir")] = None,
    turns: Annotated[int, typer.Option(min=1, help="Shopper turns per mode (at most 10).")] = 8,
    max_tokens: Annotated[int, typer.Option(min=1, help="Tokens generated per turn.")] = 32,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Speed of the configured language model alone: load, time to first token cold/warm, tokens/s, RSS."""
    from assistant.llm import LLMUnavailable

    try:
        result = run(backend, model, turns, max_tokens, progress=not json_out)
    except LLMUnavailable as exc:
        raise typer.BadParameter(str(exc)) from exc
    if json_out:
        typer.echo(json.dumps(result))
        return
    typer.echo(json.dumps(result, indent=2))
