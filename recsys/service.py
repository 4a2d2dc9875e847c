"""`aisle serve-ranker`: the ranking model over HTTP, with dynamic micro-batching.

Requests wait in an asyncio queue; a worker takes up to `max_batch` of them, or whatever arrived
within `max_wait_ms` of the first, and scores them in one forward pass. On a GPU that turns many
small requests into one efficient kernel launch; on a CPU it mostly amortises Python overhead.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Annotated

import typer
from fastapi import FastAPI, HTTPException

from recsys.ranker import Ranker
from recsys.schemas import ScoreRequest, ScoreResponse

log = logging.getLogger(__name__)


class MicroBatcher:
    def __init__(self, ranker: Ranker, max_batch: int = 32, max_wait_ms: float = 2.0) -> None:
        self.ranker = ranker
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.queue: asyncio.Queue[tuple[ScoreRequest, asyncio.Future]] = asyncio.Queue()
        self.batches = 0
        self.requests = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def submit(self, request: ScoreRequest) -> ScoreResponse:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((request, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self.queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            self.batches += 1
            self.requests += len(batch)
            try:
                results = await asyncio.to_thread(self.ranker.score_batch, [r for r, _ in batch])
            except Exception:
                # One bad request must not fail the others: score them one by one.
                for request, future in batch:
                    try:
                        future.set_result(await asyncio.to_thread(self.ranker.score, request))
                    except Exception as exc:  # noqa: BLE001 (handed to the waiting request)
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)


def create_app(ranker: Ranker, batching: bool = True, max_batch: int = 32, max_wait_ms: float = 2.0) -> FastAPI:
    batcher = MicroBatcher(ranker, max_batch, max_wait_ms) if batching else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if batcher:
            batcher.start()
        yield
        if batcher:
            await batcher.stop()

    app = FastAPI(title="Aisle ranker", lifespan=lifespan)

    @app.get("/health")
    def health() -> dict:
        return {"ok": True, "items": len(ranker.item_ids), "batching": batching,
                "batches": batcher.batches if batcher else None,
                "requests": batcher.requests if batcher else None}

    @app.post("/score")
    async def score(request: ScoreRequest) -> ScoreResponse:
        try:
            if batcher:
                return await batcher.submit(request)
            return await asyncio.to_thread(ranker.score, request)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    return app


def main(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    batching: Annotated[bool, typer.Option(help="Dynamic micro-batching of concurrent requests.")] = True,
    max_batch: Annotated[int, typer.Option(help="Largest micro-batch.")] = 32,
    max_wait_ms: Annotated[float, typer.Option(help="Longest wait for a batch to fill, in ms.")] = 2.0,
    threads: Annotated[int, typer.Option(help="torch CPU threads per forward pass.")] = 1,
) -> None:
    """Serve the trained ranking model over HTTP (POST /score, GET /health)."""
    import torch
    import uvicorn

    from recsys.store_model import load_or_fallback_ranker

    torch.set_num_threads(threads)  # small forward passes: more threads only add hand-off cost on a CPU
    ranker = load_or_fallback_ranker()
    uvicorn.run(create_app(ranker, batching, max_batch, max_wait_ms), host=host, port=port, log_level="warning")
