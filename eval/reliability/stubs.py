"""A tiny OpenAI-compatible chat server for fault injection: it answers, or stalls past the
client's timeout, as told at run time. It stands in for the LLM server (the part that fails), so
the real `aisle serve` under test meets a real socket, a real stall and a real recovery."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "Yes, it comes in several colours."


class StubLLMServer:
    def __init__(self, port: int, mode: str = "ok", stall_s: float = 30.0) -> None:
        self.mode = mode  # "ok" | "stall"
        self.stall_s = stall_s
        self.requests = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._json({"object": "list", "data": [{"id": "stub", "object": "model"}]})

            def do_POST(self) -> None:
                stub.requests += 1
                self.rfile.read(int(self.headers.get("content-length") or 0))
                if stub.mode == "stall":
                    time.sleep(stub.stall_s)  # connection open, nothing sent: the client's read timeout fires
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for piece in (ANSWER[:10], ANSWER[10:]):
                    chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

            def _json(self, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="stub-llm")
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
