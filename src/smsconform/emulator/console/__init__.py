"""The web console: Mailpit for SMS. A page served by the emulator on its HTTP port, at /_console/.

It is a client of the control API only (emulator/dialects/control.py and inspect.py): the page reads and
steers the emulator through /_emulator/... like curl would, so it gives no second way into the core, and
whatever the control API refuses (a foreign origin, a missing token) it refuses the page too. It works
offline: three static files, nothing fetched from anywhere else (the Content-Security-Policy says so).
"""
from __future__ import annotations

from importlib import resources

from ..http import Request, Response

PREFIX = "/_console"
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = [
    ("content-security-policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self';"
                                " frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-cache"),
]


class Console:
    name = "console"

    def __init__(self) -> None:
        self._files = {path: (resources.files(__package__).joinpath("static", name).read_bytes(), kind)
                       for path, (name, kind) in FILES.items()}

    def matches(self, request: Request) -> bool:
        return (request.path == "/" and request.method in ("GET", "HEAD")) or \
            request.path == PREFIX or request.path.startswith(PREFIX + "/")

    def handle(self, request: Request) -> Response:
        if request.path in ("/", PREFIX):
            return Response(302, b"", headers=[("location", PREFIX + "/")])
        found = self._files.get(request.path[len(PREFIX):])
        if found is None or request.method not in ("GET", "HEAD"):
            return Response.text("Not Found", 404)
        body, kind = found
        return Response(200, body, kind, headers=list(SECURITY_HEADERS))

    def failure(self, request: Request) -> Response:
        return Response.text("console error; see the emulator's log", 500)


def build(app: object) -> Console:
    return Console()
