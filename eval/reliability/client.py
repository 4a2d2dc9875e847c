"""What the server-based reliability categories share: a chat turn over real HTTP (server-sent
events collected into one result), what counts as a broken reply, and clients that spread their
requests over several `aisle serve` replicas as a load balancer would."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field

import httpx

# What ChatService says when a turn raised: the shopper saw an apology instead of an answer.
CRASH_MARKER = "something went wrong on our side"


@dataclass
class Turn:
    status: int
    text: str = ""
    done: bool = False
    latency: float = float("nan")
    first_text: float | None = None
    tools: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Answered in full (200, `done` event) and not with the crash apology or a traceback."""
        return self.status == 200 and self.done and not self.error and not broken(self.text)


def broken(text: str) -> bool:
    return CRASH_MARKER in text or "Traceback (most recent call last)" in text


def _read_line(turn: Turn, event: str | None, line: str, start: float) -> str | None:
    """One line of the server-sent event stream; returns the event name the next data line belongs to."""
    if line.startswith("event: "):
        return line[7:]
    if line.startswith("data: "):
        _read_event(turn, event, line[6:], start)
    return event


def _read_event(turn: Turn, event: str | None, data: str, start: float) -> None:
    if event == "done":
        turn.done = True
        return
    payload = json.loads(data)
    if event in ("text", "handoff") and payload.get("text"):
        turn.first_text = turn.first_text if turn.first_text is not None else time.perf_counter() - start
        turn.text += payload["text"]
    elif event == "tool":
        turn.tools.append(payload.get("tool") or "")


async def chat_async(client: httpx.AsyncClient, session_id: str, message: str) -> Turn:
    start = time.perf_counter()
    try:
        async with client.stream("POST", "/api/chat", json={"session_id": session_id, "message": message}) as response:
            turn = Turn(status=response.status_code)
            if response.status_code != 200:
                turn.error = (await response.aread()).decode("utf-8", "replace")[:200]
            else:
                event = None
                async for line in response.aiter_lines():
                    event = _read_line(turn, event, line, start)
    except httpx.HTTPError as exc:
        turn = Turn(status=0, error=repr(exc))
    turn.latency = time.perf_counter() - start
    return turn


def chat(client: httpx.Client, session_id: str, message: str) -> Turn:
    start = time.perf_counter()
    try:
        with client.stream("POST", "/api/chat", json={"session_id": session_id, "message": message}) as response:
            turn = Turn(status=response.status_code)
            if response.status_code != 200:
                turn.error = response.read().decode("utf-8", "replace")[:200]
            else:
                event = None
                for line in response.iter_lines():
                    event = _read_line(turn, event, line, start)
    except httpx.HTTPError as exc:
        turn = Turn(status=0, error=repr(exc))
    turn.latency = time.perf_counter() - start
    return turn


class RoundRobin(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Sends each request to the next of several `aisle serve` replicas, as a load balancer
    would; with one URL it is a plain transport. Both sync and async clients take it."""

    def __init__(self, urls: list[str]) -> None:
        self.targets = [httpx.URL(u) for u in urls]
        self._next = itertools.count()
        self._sync, self._async = httpx.HTTPTransport(), httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=None))

    def _route(self, request: httpx.Request) -> None:
        target = self.targets[next(self._next) % len(self.targets)]
        request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        request.headers["host"] = target.netloc.decode("ascii")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._route(request)
        return self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._route(request)
        return await self._async.handle_async_request(request)

    def close(self) -> None:
        self._sync.close()

    async def aclose(self) -> None:
        await self._async.aclose()


def urls_of(server) -> list[str]:
    return list(getattr(server, "urls", None) or [server.url])


def client(server, **options) -> httpx.Client:
    """A client of `server` (one `aisle serve`, or replicas: each request goes to the next)."""
    return httpx.Client(base_url=server.url, transport=RoundRobin(urls_of(server)), **options)


def async_client(server, **options) -> httpx.AsyncClient:
    options.pop("limits", None)  # the transport has its own pool, unbounded: the callers bound concurrency
    return httpx.AsyncClient(base_url=server.url, transport=RoundRobin(urls_of(server)), **options)
