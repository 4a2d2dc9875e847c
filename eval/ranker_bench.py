"""`aisle bench ranker`: latency of scoring 1,000 candidates for one user, in-process and over HTTP,
and HTTP throughput with 32 concurrent clients, micro-batching on vs off; with `--engine ray`, the
Ray Serve deployment too (Ray's batching, one replica), in the same run.

The model is the served recipe (`aisle train`): five networks of the store model's architecture
(content + attribute features, 2 blocks, hidden 64) averaged and mixed with a count prior, over a
synthetic catalog of --items items with random weights and random sequences: speed does not depend
on the weights, and the demo store has fewer than 1,000 items.
"""

from __future__ import annotations

import asyncio
import json
import os
import multiprocessing
import time
from typing import Annotated

import httpx
import numpy as np
import torch
import typer

from eval.stack import free_port
from recsys.model import ARCHITECTURE, ModelConfig, SeqRecModel
from recsys.ranker import Ranker
from recsys.train import MEMBERS
from recsys.schemas import ScoreRequest
from recsys.service import create_app
from recsys.transitions import fit_priors, mix_priors


def _ranker(n_items: int, seed: int, members: int = MEMBERS, prior_weight: float = 0.2) -> Ranker:
    """The served recipe's shape: `members` networks and a count prior fitted on random sequences
    (20 interactions per item on average, the demo store's density)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    config = ModelConfig(n_items=n_items, n_attrs=700, content_dim=384, **ARCHITECTURE)
    attrs = rng.integers(1, 701, size=(n_items + 1, 6))
    content = rng.standard_normal((n_items + 1, 384)).astype(np.float32)
    models = [SeqRecModel(config, attrs, content) for _ in range(members)]
    prior = None
    if prior_weight > 0:
        seqs = [list(rng.integers(1, n_items + 1, size=8)) for _ in range(n_items * 20 // 8)]
        prior = mix_priors(fit_priors(seqs, n_items), 0.5)
    return Ranker(models, [f"item-{i}" for i in range(1, n_items + 1)], prior=prior, prior_weight=prior_weight)


def _requests(ranker: Ranker, n: int, candidates: int, seed: int) -> list[ScoreRequest]:
    rng = np.random.default_rng(seed)
    ids = ranker.item_ids
    return [
        ScoreRequest(history=[ids[j] for j in rng.choice(len(ids), 20, replace=False)],
                     candidates=[ids[j] for j in rng.choice(len(ids), candidates, replace=False)])
        for _ in range(n)
    ]


def _pct(values: list[float]) -> dict[str, float]:
    ms = np.asarray(values) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def _serve(items: int, seed: int, threads: int, port: int, members: int, prior_weight: float, **app_options) -> None:
    """The child process: the same synthetic model (same seed), served by uvicorn."""
    import uvicorn

    torch.set_num_threads(threads)
    uvicorn.run(create_app(_ranker(items, seed, members, prior_weight), **app_options), host="127.0.0.1", port=port,
                log_level="warning")


def _serve_ray(items: int, seed: int, threads: int, port: int, members: int, prior_weight: float, max_batch: int,
               max_wait_ms: float) -> None:
    """The child process: a local Ray instance serving the same synthetic model; stops with the process."""
    import functools
    import signal
    import sys

    import ray

    from recsys import ray_service

    ray.init(num_cpus=max(2, threads), include_dashboard=False, log_to_driver=False)
    signal.signal(signal.SIGTERM, lambda *_: (ray_service.shutdown(), sys.exit(0)))
    ray_service.run(functools.partial(_ranker, items, seed, members, prior_weight), "127.0.0.1", port, blocking=False,
                    max_batch=max_batch, max_wait_ms=max_wait_ms, threads=threads)  # fmt: skip
    signal.pause()


class _Server:
    """The service in its own process, as deployed, for the length of a `with` block. In the bench's
    own process, the load generator's Python competed with the server's for one interpreter lock,
    and that contention, not the service, decided the throughput figures."""

    def __init__(self, target=_serve, **options) -> None:
        self.port = free_port()
        self.process = multiprocessing.get_context("spawn").Process(
            target=target, kwargs={**options, "port": self.port}, daemon=True)

    def __enter__(self) -> str:
        self.process.start()
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 300
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1).raise_for_status()
                return url
            except httpx.HTTPError:
                if not self.process.is_alive() or time.time() > deadline:
                    self.__exit__()
                    raise RuntimeError("ranking service did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


async def _throughput(url: str, requests: list[ScoreRequest], concurrency: int) -> dict:
    payloads = [r.model_dump() for r in requests]
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        queue = list(range(len(payloads)))

        async def worker() -> None:
            while queue:
                i = queue.pop()
                t = time.perf_counter()
                r = await client.post("/score", json=payloads[i])
                r.raise_for_status()
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests_per_s": round(len(payloads) / elapsed, 1), **_pct(latencies)}


def main(
    items: Annotated[int, typer.Option(help="Catalog size of the synthetic model.")] = 5000,
    candidates: Annotated[int, typer.Option(help="Candidates scored per request.")] = 1000,
    requests: Annotated[int, typer.Option(help="Timed requests per measurement.")] = 200,
    concurrency: Annotated[int, typer.Option(help="Concurrent clients for throughput.")] = 32,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    threads: Annotated[int, typer.Option(help="torch threads: 1 suits one small request at a time.")] = 1,
    max_batch: Annotated[int, typer.Option(help="The service's largest micro-batch.")] = 32,
    max_wait_ms: Annotated[float, typer.Option(help="The service's extra wait for a batch to fill, in ms.")] = 0.0,
    members: Annotated[int, typer.Option(min=1, help=f"Networks averaged (the served recipe: {MEMBERS}).")] = MEMBERS,
    prior_weight: Annotated[float, typer.Option(min=0, max=0.99, help="The count prior's weight (0: none; "
                                                                      "the store model picks it on validation).")] = 0.2,
    only_in_process: Annotated[bool, typer.Option(help="Skip the HTTP measurements.")] = False,
    engine: Annotated[list[str] | None, typer.Option(help="Services to measure (repeatable): builtin (micro-batching "
                                                     "on and off), ray (Ray Serve). Default: builtin.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """p50/p99 latency of scoring candidates for one user; throughput with micro-batching on/off."""
    torch.set_num_threads(threads)
    ranker = _ranker(items, seed, members, prior_weight)
    reqs = _requests(ranker, requests, candidates, seed)
    for r in reqs[:10]:  # warm-up
        ranker.score(r)
    times, cpu = [], []
    for r in reqs:
        t, c = time.perf_counter(), time.process_time()
        ranker.score(r)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    report: dict = {"items": items, "candidates": candidates, "requests": requests, "model": ranker.name,
                    "service": {"max_batch": max_batch, "max_wait_ms": max_wait_ms},
                    "machine": f"{os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()} "
                               "(shared machine: timings noisy); the service runs in its own process",
                    "in_process": _pct(times),
                    # CPU time of this process per request: on a shared machine, wall time also counts
                    # the time other jobs held the cores; this is closer to what a quiet host would see.
                    "in_process_cpu": _pct(cpu),
                    "load_average_1min": round(os.getloadavg()[0], 2)}
    services = []  # in the order asked for: on a shared machine, the load drifts during a run
    for name in [] if only_in_process else engine or ["builtin"]:
        if name == "builtin":
            services += [("http_batching", _serve, {"batching": True}), ("http_no_batching", _serve, {"batching": False})]
        elif name == "ray":
            services.append(("ray_serve", _serve_ray, {}))
        else:
            raise typer.BadParameter(f"unknown engine {name!r}; choose builtin or ray", param_hint="--engine")
    for name, target, extra in services:
        with _Server(target, items=items, seed=seed, threads=threads, members=members, prior_weight=prior_weight,
                     max_batch=max_batch, max_wait_ms=max_wait_ms, **extra) as url:  # fmt: skip
            with httpx.Client(base_url=url, timeout=60) as client:
                for r in reqs[:10]:
                    client.post("/score", json=r.model_dump()).raise_for_status()
                times = []
                for r in reqs:
                    t = time.perf_counter()
                    client.post("/score", json=r.model_dump()).raise_for_status()
                    times.append(time.perf_counter() - t)
                health = client.get("/health").json()
            report[name] = {"sequential": _pct(times),
                            f"concurrent_{concurrency}": asyncio.run(_throughput(url, reqs, concurrency))}
            if health.get("batches") is not None:
                with httpx.Client(base_url=url) as client:
                    h = client.get("/health").json()
                report[name]["mean_batch"] = round((h["requests"] - health["requests"]) /
                                                   max(h["batches"] - health["batches"], 1), 2)
    report["target_in_process_p99_ms<=15"] = report["in_process"]["p99_ms"] <= 15
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(json.dumps(report, indent=1))
