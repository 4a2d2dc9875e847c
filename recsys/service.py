"""`aisle serve-ranker`: the ranking model over HTTP, with dynamic micro-batching.

Requests wait in an asyncio queue; a worker takes every request queued so far (up to `max_batch`)
and scores them in one forward pass in a worker thread. Under load the queue fills while the
previous batch runs, so batches grow with the load and an idle service adds no delay. `max_wait_ms`
can hold a batch open a little longer for more requests (worth it on a GPU, where a forward pass
costs about the same for 1 or 32 requests); on a CPU it only adds latency, so it is off by default.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Annotated

import typer
from fastapi import FastAPI, HTTPException, Response

from recsys.ranker import Ranker
from recsys.schemas import ScoreRequest, ScoreResponse

log = logging.getLogger(__name__)


def score_json(ranker: Ranker, requests: list[ScoreRequest]) -> list[bytes]:
    """Scores and their JSON, made in the worker thread: left to FastAPI, each response's ~2,000
    values were re-validated and encoded on the event loop, which also parses every request."""
    return [r.model_dump_json().encode() for r in ranker.score_batch(requests)]


class MicroBatcher:
    def __init__(self, ranker: Ranker, max_batch: int = 32, max_wait_ms: float = 0.0) -> None:
        if max_batch < 1 or max_wait_ms < 0:
            raise ValueError("max_batch must be ≥ 1 and max_wait_ms ≥ 0")
        self.ranker = ranker
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.queue: asyncio.Queue[tuple[ScoreRequest, asyncio.Future[bytes]]] = asyncio.Queue()
        self.batches = 0
        self.requests = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def submit(self, request: ScoreRequest) -> bytes:
        """The response's JSON, once the request's batch has been scored."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((request, future))
        return await future

    def _take_queued(self, batch: list) -> None:
        while len(batch) < self.max_batch and not self.queue.empty():
            batch.append(self.queue.get_nowait())

    async def _run(self) -> None:
        # No per-request deadline wait: requests that arrive while a batch runs make the next one.
        while True:
            batch = [await self.queue.get()]
            self._take_queued(batch)
            if self.max_wait and len(batch) < self.max_batch:
                await asyncio.sleep(self.max_wait)
                self._take_queued(batch)
            self.batches += 1
            self.requests += len(batch)
            try:
                results = await asyncio.to_thread(score_json, self.ranker, [r for r, _ in batch])
            except Exception:
                # One bad request must not fail the others: score them one by one.
                for request, future in batch:
                    try:
                        future.set_result((await asyncio.to_thread(score_json, self.ranker, [request]))[0])
                    except Exception as exc:  # noqa: BLE001 (handed to the waiting request)
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)


def create_app(ranker: Ranker, batching: bool = True, max_batch: int = 32, max_wait_ms: float = 0.0) -> FastAPI:
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

    @app.post("/score", response_model=ScoreResponse)
    async def score(request: ScoreRequest) -> Response:
        try:
            if batcher:
                body = await batcher.submit(request)
            else:
                body = (await asyncio.to_thread(score_json, ranker, [request]))[0]
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return Response(body, media_type="application/json")

    return app


def main(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    batching: Annotated[bool, typer.Option(help="Dynamic micro-batching of concurrent requests.")] = True,
    max_batch: Annotated[int, typer.Option(help="Largest micro-batch.")] = 32,
    max_wait_ms: Annotated[float, typer.Option(help="Extra wait for a batch to fill, in ms (a GPU host may want "
                                                    "1–5; on a CPU it only adds latency).")] = 0.0,
    threads: Annotated[int, typer.Option(help="torch CPU threads per forward pass.")] = 1,
    engine: Annotated[str, typer.Option(help="builtin: this process, uvicorn + Aisle's micro-batcher; ray: a Ray Serve "
                                        "deployment (Ray's batching and replicas, a GPU per replica when present).")] = "builtin",
    replicas: Annotated[int, typer.Option(help="ray: replicas of the deployment.")] = 1,
) -> None:
    """Serve the trained ranking model over HTTP (POST /score, GET /health)."""
    import torch
    import uvicorn

    from recsys.store_model import load_or_fallback_ranker

    if engine == "ray":
        from recsys import ray_service

        load_or_fallback_ranker()  # trains one now if there is none, once, before replicas load it
        ray_service.run(load_or_fallback_ranker, host, port, max_batch=max_batch, max_wait_ms=max_wait_ms,
                        replicas=replicas, threads=threads)  # fmt: skip
        return
    if engine != "builtin":
        raise typer.BadParameter(f"unknown engine {engine!r}; choose builtin or ray", param_hint="--engine")

    torch.set_num_threads(threads)  # small forward passes: more threads only add hand-off cost on a CPU
    ranker = load_or_fallback_ranker()
    uvicorn.run(create_app(ranker, batching, max_batch, max_wait_ms), host=host, port=port, log_level="warning")
