"""The packaged GGUF behind an OpenAI-compatible server on loopback (llama-cpp-python's server with
Aisle's `hermes-tools` chat format), for the tools agent when no AISLE_LLM_URL is set.

`python -m assistant.tool_agent.local_server --model FILE.gguf --port 8011` runs it by hand (any
llama-cpp-python server option works); `LocalToolServer` starts and stops one as a child process.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

log = logging.getLogger(__name__)
CHAT_FORMAT = "hermes-tools"


class ModelServerError(RuntimeError):
    """The local model server could not be started."""


class LocalToolServer:
    """A llama-cpp-python server child process on 127.0.0.1; `url` is its API root (…/v1)."""

    def __init__(self, model: str | Path | None = None, n_ctx: int | None = None, n_threads: int | None = None,
                 log_file: Path | None = None, chat_format: str = CHAT_FORMAT) -> None:  # fmt: skip
        """`chat_format`: Aisle's `hermes-tools` (tool calls; a json_object `response_format` is applied as a
        grammar when a request offers no tools), or any of llama-cpp-python's, e.g. `chatml`."""
        from retrieval.config import get_settings

        settings = get_settings()
        if model is None or not Path(model).is_file():
            from assistant.llm.assemble import ensure_model

            model = ensure_model(str(model or settings.llm_model), settings.models_dir, progress=False)
        self.model = Path(model)
        self.n_ctx = n_ctx or max(settings.llm_n_ctx, 12288)  # policy + tool schemas take ~5k tokens, search results ~1k
        self.n_threads = n_threads or settings.llm_n_threads or os.cpu_count() or 2
        self.log_file = log_file
        self.chat_format = chat_format
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 180.0) -> LocalToolServer:
        command = [sys.executable, "-m", "assistant.tool_agent.local_server", "--model", str(self.model),
                   "--chat_format", self.chat_format, "--host", "127.0.0.1", "--port", str(self.port),
                   "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads), "--verbose", "false"]  # fmt: skip
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ModelServerError(f"the local model server exited with code {self._proc.returncode}"
                                   + (f"; see {self.log_file}" if self.log_file else ""))  # fmt: skip
            try:
                if httpx.get(f"{self.url}/models", timeout=2.0).status_code == 200:
                    log.info("local tool-calling model server at %s (%s)", self.url, self.model.name)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise ModelServerError(f"the local model server did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> LocalToolServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_shared: LocalToolServer | None = None
_lock = threading.Lock()


def shared_server() -> LocalToolServer:
    """One local server per process, started on first use and stopped when the process exits."""
    global _shared
    with _lock:
        if _shared is None:
            server = LocalToolServer().start()
            atexit.register(server.stop)
            _shared = server
        return _shared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assistant_content_as_text(app):
    """llama-cpp-python's server refuses an assistant message whose content is null, which the OpenAI API
    (and so ChatOpenAI) sends with tool calls: such content becomes "" before the server reads it."""

    async def asgi(scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("/chat/completions"):
            return await app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        try:
            data = json.loads(body)
            for m in data.get("messages", []):
                if isinstance(m, dict) and m.get("role") == "assistant" and m.get("content") is None:
                    m["content"] = ""
            body = json.dumps(data).encode()
        except (ValueError, AttributeError):
            pass  # not JSON: the server answers it as before
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"] + [(b"content-length", str(len(body)).encode())]
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await app({**scope, "headers": headers}, replay, send)

    return asgi


def main() -> None:
    import llama_cpp.server.app as server_app

    from assistant.tool_agent.hermes import register

    register()
    create = server_app.create_app
    server_app.create_app = lambda *a, **k: _assistant_content_as_text(create(*a, **k))
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()
