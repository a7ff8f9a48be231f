"""A small misbehaving site for the crawler's hostile-site tests.

Served on 127.0.0.1 in proxy form, like the fixture mirror, it answers a 500, oversize bodies
with and without Content-Length, a gzip bomb and redirects to file:, ftp: and data:. Every
hostile body is generated here; nothing large is committed.
"""

from __future__ import annotations

import collections
import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOST = "www.hostile.lznews.cn"
CAP = 1 << 20  # LZNEWS_CRAWLER_MAX_PAGE_BYTES in crawler_env
SITES = f"""
defaults: {{interval_s: 2, download_delay_s: 0, concurrency: 4}}
sites:
  - name: hostile
    allowed_domains: [hostile.lznews.cn]
    listing_urls: ['http://{HOST}/list.html']
    article_patterns: ['/art/[a-z0-9_]+[.]html$']
"""


class HostileSite:
    """One virtual host; `pages` maps a path to a handler writing the whole answer."""

    def __init__(self, articles: list[str], listing_delay_s: float = 0.0) -> None:
        self.articles = articles
        self.listing_delay_s = listing_delay_s
        self.hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def hit(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


Writer = Callable[[BaseHTTPRequestHandler], None]


def _send(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    h.send_response(status)
    for key, value in {**headers, "Content-Length": str(len(body))}.items():
        h.send_header(key, value)
    h.end_headers()
    h.wfile.write(body)


def _oversize_with_length(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, {"Content-Type": "text/html"}, b"<html>" + b"x" * (2 * CAP))


def _oversize_streamed(h: BaseHTTPRequestHandler) -> None:
    # No Content-Length: the body ends when the connection closes, so only the cap stops it.
    h.close_connection = True
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Connection", "close")
    h.end_headers()
    chunk = b"<p>" + b"y" * 65533
    for _ in range(4 * CAP // len(chunk)):
        h.wfile.write(chunk)


_BOMB = gzip.compress(b"\0" * (16 * CAP), 9)  # ~16 KiB on the wire, 16 MiB unpacked


def _gzip_bomb(h: BaseHTTPRequestHandler) -> None:
    _send(h, 200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, _BOMB)


def _redirect(location: str) -> Writer:
    return lambda h: _send(h, 302, {"Location": location}, b"")


def _error(h: BaseHTTPRequestHandler) -> None:
    _send(h, 500, {"Content-Type": "text/plain"}, b"server error\n")


PAGES: dict[str, Writer] = {
    "/art/fail.html": _error,
    "/art/big_length.html": _oversize_with_length,
    "/art/big_stream.html": _oversize_streamed,
    "/art/bomb.html": _gzip_bomb,
    "/art/to_file.html": _redirect("file:///etc/passwd"),
    "/art/to_ftp.html": _redirect("ftp://ftp.hostile.lznews.cn/pub/x.html"),
    "/art/to_data.html": _redirect("data:text/html,<p>hi</p>"),
}


def _handler(site: HostileSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = urlsplit(self.path).path
            site.hit(path)
            try:
                if path == "/list.html":
                    time.sleep(site.listing_delay_s)
                    links = "".join(f'<a href="{a}">{a}</a>' for a in site.articles)
                    _send(self, 200, {"Content-Type": "text/html; charset=utf-8"},
                          f"<html><body>{links}</body></html>".encode())
                elif path in PAGES:
                    PAGES[path](self)
                else:
                    _send(self, 404, {"Content-Type": "text/plain"}, b"no\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the crawler hung up (the size cap)

        def log_message(self, fmt: str, *args: Any) -> None:
            pass

    return Handler
