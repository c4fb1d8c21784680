"""The sample RP as a small web app for a real browser: `/` starts a sign-in, the redirect URI's path
receives the callback and answers with the validated ID token claims and userinfo (JSON).

The pending sign-ins (state, nonce, PKCE verifier) are kept in memory by state, as an RP keeps them in the
user's session; a callback with an unknown or already used state is refused.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scripts.sample_rp.client import PendingSignIn, Refused, RpError, SampleRp


def make_server(rp: SampleRp, scope: str = "openid", **extra: str) -> ThreadingHTTPServer:
    """A server bound to the host and port of the RP's redirect URI (not yet serving)."""
    callback = urlsplit(rp.config.redirect_uri)
    pending: dict[str, PendingSignIn] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/":
                started = rp.start(scope=scope, **extra)
                with lock:
                    pending[started.state] = started
                self.send_response(302)
                self.send_header("Location", started.url)
                self.end_headers()
            elif self.path.split("?", 1)[0] == callback.path:
                url = f"{callback.scheme}://{callback.netloc}{self.path}"
                state = parse_qs(urlsplit(url).query).get("state", [""])[0]
                with lock:
                    waiting = pending.pop(state, None)
                body: Any
                try:
                    if waiting is None:
                        raise RpError("unknown or reused state")
                    outcome = rp.finish(waiting, url)
                    if isinstance(outcome, Refused):
                        body, status = vars(outcome), 403
                    else:
                        body, status = {"id_token": outcome.id_token, "userinfo": outcome.userinfo}, 200
                except RpError as e:
                    body, status = {"error": str(e)}, 400
                data = json.dumps(body, ensure_ascii=False, indent=2).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)
            else:
                self.send_error(404)

        def log_message(self, format: str, *log_args: Any) -> None:  # no query strings (codes) in logs
            return

    return ThreadingHTTPServer((callback.hostname or "127.0.0.1", callback.port or 80), Handler)
