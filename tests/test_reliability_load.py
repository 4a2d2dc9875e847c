"""Load: a turn that holds a lock between its events (the local model does) must not starve the
server. Starlette resumes a sync stream on its shared thread pool (40 threads) one item at a time;
with more turns waiting for the lock than threads, the holder could never be resumed and the
server hung (`aisle eval reliability --only load --llm default` found it). `ui.api` runs each
turn's events on a thread of its own instead."""

from __future__ import annotations

import asyncio
import threading
import time

from ui.api import _on_own_thread


def test_sixty_turns_queued_on_one_lock_all_finish():
    lock = threading.Lock()

    def turn(i: int):
        with lock:  # held across yields, like LlamaCppLLM.stream
            for k in range(3):
                time.sleep(0.001)
                yield (i, k)

    async def main():
        async def consume(i: int):
            return [e async for e in _on_own_thread(turn(i))]

        return await asyncio.wait_for(asyncio.gather(*(consume(i) for i in range(60))), 60)

    results = asyncio.run(main())
    assert [len(r) for r in results] == [3] * 60
    assert results[7] == [(7, 0), (7, 1), (7, 2)]


def test_an_error_in_a_turn_reaches_the_response():
    def turn():
        yield "first"
        raise RuntimeError("boom")

    async def main():
        got = []
        try:
            async for e in _on_own_thread(turn()):
                got.append(e)
        except RuntimeError as exc:
            return got, str(exc)
        return got, None

    assert asyncio.run(main()) == (["first"], "boom")
