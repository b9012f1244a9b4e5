"""A real HTTP server on 127.0.0.1 for feed and photo downloads: each path answers what a test
set up, and every request is recorded with its headers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.services import free_port

# handler -> None: writes the whole answer itself (slow drips, endless bodies)
Responder = Callable[[BaseHTTPRequestHandler], None]


class FeedServer:
    """``with FeedServer() as server: server.serve("/feed.csv", body)``; ``server.url(path)``."""

    def __init__(self):
        self.port = free_port()
        self.routes: dict[str, Responder] = {}
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append({"path": self.path, "headers": dict(self.headers)})
                responder = server.routes.get(self.path.split("?", 1)[0])
                if responder is None:
                    self.send_error(404, "Not Found")
                    return
                # The client may hang up, as a capped or timed-out download does.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    responder(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes = b"", *, status: int = 200,
              headers: dict[str, str] | None = None,
              when: Callable[[BaseHTTPRequestHandler], tuple[int, bytes] | None] | None = None
              ) -> None:
        """Answer ``path`` with ``status``, ``headers`` and ``body``; ``when`` may answer
        instead (e.g. 304 for a matching If-None-Match) by returning (status, body)."""

        def respond(handler: BaseHTTPRequestHandler) -> None:
            answer = when(handler) if when else None
            code, content = answer if answer else (status, body)
            handler.send_response(code)
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            if code != 304:
                handler.send_header("Content-Length", str(len(content)))
            handler.end_headers()
            if code != 304:
                handler.wfile.write(content)

        self.routes[path] = respond

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        self.serve(path, status=status, headers={"Location": location})

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
