"""`aisle bench chat`: how fast whole assistant turns are, by kind of turn, with the configured model.

Time to first token is measured to the first text the shopper sees; the full reply to the last
event of the turn. Peak RSS is the process's high-water mark (model included). Turns run in
one process, one conversation per kind, after one warm-up turn each (model load excluded, and
reported separately).
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from typing import Annotated

import typer

from eval.stats import percentile

TURNS = {
    "search": [
        "blue cotton t-shirt size M under 60",
        "wireless earbuds",
        "a backpack for hiking",
        "mechanical keyboard with clicky switches",
        "running shoes under 150",
        "红色的T恤",
        "cheap sunglasses",
        "office chair with armrests",
        "a perfume for women",
        "laptop with 16GB ram",
    ],
    "recommend": ["recommend something for me", "any suggestions?", "surprise me", "给我推荐一些商品"],
    "order_status": [
        "where is my order #W2378156?",
        "what's the status of order #W6679257",
        "track order #W6247578",
        "我的订单 #W4776164 到哪了？",
    ],
    "faq": [
        "how long does a refund take after I cancel?",
        "can I exchange an item for another size?",
        "which payment methods do you accept?",
        "how do I return an item?",
    ],
    "product_question": ["does the first one come in other colours?", "is the second one in stock?",
                         "is the bluetooth speaker waterproof?", "how long does the bluetooth speaker's battery last?"],
}
USER_EMAIL = "yusuf.rossi7301@example.com"


def main(
    rounds: Annotated[int, typer.Option(help="How many times to repeat each turn list.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Time to first token and full-reply latency of search, recommendation, order-status and FAQ turns."""
    from assistant.agent import Assistant
    from assistant.state import DialogueState

    t0 = time.perf_counter()
    assistant = Assistant.from_settings()
    assistant.llm  # noqa: B018  (load the model now, not inside a timed turn)
    assistant.classifier  # noqa: B018
    load_s = time.perf_counter() - t0
    user = assistant.store.user_by_email(USER_EMAIL)
    results: dict[str, dict] = {}
    for kind, turns in TURNS.items():
        state = DialogueState(session_id=f"bench-{kind}", user_id=user.user_id)
        if kind == "product_question":
            assistant.reply_text(state, "wireless earbuds")  # something to ask about
        assistant.reply_text(state, turns[0])  # warm-up: first search builds/loads the index
        firsts, totals = [], []
        for _ in range(rounds):
            for message in turns:
                start = time.perf_counter()
                first = None
                for event in assistant.respond(state, message):
                    if first is None and event.kind in ("text", "handoff") and event.text.strip():
                        first = time.perf_counter() - start
                totals.append(time.perf_counter() - start)
                firsts.append(first if first is not None else totals[-1])
                state.pending = None
        results[kind] = {
            "turns": len(totals),
            "first_token_p50_s": round(statistics.median(firsts), 4),
            "first_token_p95_s": round(percentile(firsts, 0.95), 4),
            "full_reply_p50_s": round(statistics.median(totals), 4),
            "full_reply_p95_s": round(percentile(totals, 0.95), 4),
        }
    routine = [k for k in ("search", "recommend", "order_status", "faq")]
    report = {
        "llm": getattr(assistant.llm, "name", type(assistant.llm).__name__),
        "load_s": round(load_s, 2),
        "by_kind": results,
        "routine_first_token_p50_s": round(statistics.median([results[k]["first_token_p50_s"] for k in routine]), 4),
        "routine_full_reply_p95_s": max(results[k]["full_reply_p95_s"] for k in routine),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(json.dumps(report, indent=2))
