"""A webhook receiver on a real local port, for bots run as subprocesses: every JSON body
posted to it, kept in order."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/hook"
        self.posts: list[dict[str, object]] = []

    def texts(self) -> list[str]:
        return [str(p.get("text", "")) for p in self.posts]


@contextmanager
def webhook_sink() -> Iterator[Sink]:
    posts: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            posts.append(json.loads(body or b"{}"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink = Sink(server.server_address[1])
    sink.posts = posts
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
