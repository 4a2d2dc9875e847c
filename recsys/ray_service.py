"""`aisle serve-ranker --engine ray`: the ranking service as a Ray Serve deployment.

The same HTTP API as recsys/service.py (POST /score, GET /health; `RemoteRanker` talks to either),
with Ray's own request batching (`@serve.batch`) instead of Aisle's micro-batcher, Ray's replicas,
and a GPU per replica when the host has one (`num_gpus`; CPU otherwise). On a cluster, start Ray on
the GPU nodes (`ray start`) and run this with RAY_ADDRESS set: the replicas go where the GPUs are.
"""

# No `from __future__ import annotations`: Ray ships the deployment class to its replicas by
# value, without this module's globals, so FastAPI could not resolve string annotations there.
import asyncio
import os
from collections.abc import Callable

from fastapi import FastAPI, HTTPException, Response

from recsys.ranker import Ranker
from recsys.schemas import ScoreRequest, ScoreResponse
from recsys.service import score_json


def deployment(make_ranker: Callable[[], Ranker], max_batch: int = 32, max_wait_ms: float = 0.0, replicas: int = 1,
               num_gpus: float | None = None, threads: int = 1):  # fmt: skip
    """The bound Ray Serve application (pass it to `serve.run`). Each replica builds its ranker with
    `make_ranker` (a picklable callable, run where the replica lands: it loads the model there, onto
    its GPU when it has one). `num_gpus` None: one per replica when CUDA is present, else none."""
    from ray import serve

    if num_gpus is None:
        import torch

        num_gpus = 1.0 if torch.cuda.is_available() else 0.0
    app = FastAPI(title="Aisle ranker (Ray Serve)")

    @serve.deployment(num_replicas=replicas, max_ongoing_requests=4 * max_batch,
                      ray_actor_options={"num_gpus": num_gpus, "num_cpus": threads})  # fmt: skip
    @serve.ingress(app)
    class RankerDeployment:
        def __init__(self, make: Callable[[], Ranker]) -> None:
            import torch

            torch.set_num_threads(threads)
            self.ranker = make()
            self.batches = 0
            self.requests = 0

        @serve.batch(max_batch_size=max_batch, batch_wait_timeout_s=max_wait_ms / 1000)
        async def _score(self, requests: list[ScoreRequest]) -> list[bytes | ValueError]:
            self.batches += 1
            self.requests += len(requests)
            try:
                return await asyncio.to_thread(score_json, self.ranker, requests)
            except ValueError:
                pass  # one bad request must not fail the others: score them one by one
            out: list[bytes | ValueError] = []
            for request in requests:
                try:
                    out.append((await asyncio.to_thread(score_json, self.ranker, [request]))[0])
                except ValueError as exc:
                    out.append(exc)
            return out

        @app.post("/score", response_model=ScoreResponse)
        async def score(self, request: ScoreRequest) -> Response:
            body = await self._score(request)
            if isinstance(body, ValueError):
                raise HTTPException(status_code=422, detail=str(body))
            return Response(body, media_type="application/json")

        @app.get("/health")
        def health(self) -> dict:
            return {"ok": True, "items": len(self.ranker.item_ids), "batching": True, "engine": "ray",
                    "batches": self.batches, "requests": self.requests}  # fmt: skip

    return RankerDeployment.bind(make_ranker)


def run(make_ranker: Callable[[], Ranker], host: str, port: int, blocking: bool = True, **options) -> None:
    """Start Ray (or join RAY_ADDRESS's cluster), serve the deployment at http://host:port/."""
    import ray
    from ray import serve

    if ray.is_initialized():
        pass
    elif os.environ.get("RAY_ADDRESS"):
        ray.init()  # a running cluster: its settings are its own
    else:
        ray.init(include_dashboard=False, log_to_driver=False)  # a local instance, for this process
    serve.start(http_options={"host": host, "port": port})
    serve.run(deployment(make_ranker, **options), name="aisle-ranker", route_prefix="/", blocking=blocking)


def shutdown() -> None:
    import ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()
