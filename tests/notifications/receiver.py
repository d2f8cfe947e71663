"""A webhook receiver on loopback for tests: records what it gets; can fail (5xx) a number of times or hang."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """What the receiver got, and how it behaves: ``failures`` 500s first, or hang until ``release`` is set."""

    failures: int = 0
    hang: bool = False
    status: int = 500
    bodies: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        with self.lock:
            return [str(b.get("event", b.get("text", ""))) for b in self.bodies]


@contextmanager
def serve(receiver: Receiver) -> Iterator[Receiver]:
    """Run ``receiver`` on 127.0.0.1 (a free port) in a thread; its ``url`` is set while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            with receiver.lock:
                receiver.hits += 1
                failing = receiver.hits <= receiver.failures
            if receiver.hang:
                receiver.release.wait(30)
                self.close_connection = True
                return  # the client gave up long ago: nothing to answer
            if failing:
                self.send_response(receiver.status)
                self.end_headers()
                return
            with receiver.lock:
                receiver.bodies.append(body)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = False  # server_close joins the handlers (released first), closing their sockets
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook/secret-token-path"
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
