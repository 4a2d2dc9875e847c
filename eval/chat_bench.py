"""`aisle bench chat`: how fast whole assistant turns are, by kind of turn, with the configured model.

Time to first token is measured to the first text the shopper sees; the full reply to the last
event of the turn. Peak RSS is the process's high-water mark (model included). Turns run in
one process, one conversation per kind, after one warm-up turn each (model load excluded, and
reported separately). CPU time per turn (the whole process's) is reported beside wall time, and the
load average at the end: on a shared machine wall time also counts waiting for a core.

``order_action`` turns start an order action without naming the order, in a fresh conversation
each (so one turn's open question does not shape the next): the reader (``AISLE_READER``) picks
the order, items or new option, so with ``hybrid`` these are the turns where the model may be
asked to break a tie. The user has two pending orders holding a t-shirt and one delivered order.
"""

from __future__ import annotations

import json
import os
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
    "order_action": [
        "I want to cancel the t-shirt order",
        "please return the headphones",
        "change the t-shirt in my order to size M",
        "exchange the camera for one with more zoom",
        "我要取消T恤那个订单",
    ],
    "product_question": ["does the first one come in other colours?", "is the second one in stock?",
                         "is the bluetooth speaker waterproof?", "how long does the bluetooth speaker's battery last?"],
}
USER_EMAIL = "yusuf.rossi7301@example.com"


def _count_model_picks(reader) -> list[float]:
    """Seconds of each time a reader asked its model (hybrid: only at the rules' ties)."""
    calls: list[float] = []
    model = getattr(reader, "model", None)
    if model is not None:
        pick = model.pick

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return pick(*args, **kwargs)
            finally:
                calls.append(time.perf_counter() - start)

        model.pick = timed
    return calls


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
    model_calls = _count_model_picks(assistant.reader)
    results: dict[str, dict] = {}
    for kind, turns in TURNS.items():
        fresh = kind == "order_action"
        state = DialogueState(session_id=f"bench-{kind}", user_id=user.user_id)
        if kind == "product_question":
            assistant.reply_text(state, "wireless earbuds")  # something to ask about
        assistant.reply_text(state, turns[0])  # warm-up: first search builds/loads the index
        firsts, totals, cpus = [], [], []
        for _ in range(rounds):
            for message in turns:
                if fresh:
                    state = DialogueState(session_id=f"bench-{kind}", user_id=user.user_id)
                start, cpu = time.perf_counter(), time.process_time()
                first = None
                for event in assistant.respond(state, message):
                    if first is None and event.kind in ("text", "handoff") and event.text.strip():
                        first = time.perf_counter() - start
                totals.append(time.perf_counter() - start)
                cpus.append(time.process_time() - cpu)
                firsts.append(first if first is not None else totals[-1])
                state.pending = None
        results[kind] = {
            "turns": len(totals),
            "first_token_p50_s": round(statistics.median(firsts), 4),
            "first_token_p95_s": round(percentile(firsts, 0.95), 4),
            "full_reply_p50_s": round(statistics.median(totals), 4),
            "full_reply_p95_s": round(percentile(totals, 0.95), 4),
            # CPU time of the whole process per turn: on a shared machine wall time also counts waiting for a core.
            "full_reply_cpu_p50_s": round(statistics.median(cpus), 4),
            "full_reply_cpu_p95_s": round(percentile(cpus, 0.95), 4),
        }
    routine = [k for k in ("search", "recommend", "order_status", "faq", "order_action")]
    report = {
        "llm": getattr(assistant.llm, "name", type(assistant.llm).__name__),
        "reader": type(assistant.reader).__name__,
        "load_s": round(load_s, 2),
        "by_kind": results,
        "routine_first_token_p50_s": round(statistics.median([results[k]["first_token_p50_s"] for k in routine]), 4),
        "routine_full_reply_p95_s": max(results[k]["full_reply_p95_s"] for k in routine),
        "reader_model_calls": len(model_calls),
        "reader_model_s": [round(t, 2) for t in model_calls],
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(json.dumps(report, indent=2))
