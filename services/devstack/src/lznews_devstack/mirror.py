"""A local mirror of the constructed fixture sites, for tests and the offline demo.

It answers as the sites' hosts would: requests arrive in proxy form (`GET http://host/path`,
which is how the crawler's host map sends them) or with a Host header, and the reply comes from
`<root>/sites/<host>/<path>`, or a route's `from` file (the fixture articles, kept once), plus
`<root>/routes.json` (content types, redirects, a 500, a slow page, an oversize page). Static
pages carry ETag and Last-Modified and answer conditional GETs with 304. It serves only those
virtual hosts and never forwards anything: an unknown host is a 404. Listens on 127.0.0.1 only.

    python -m lznews_devstack.mirror --port 8088 [--root fixtures/mirror]
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

NEW_MARK = "<!-- mirror:new-articles -->"


@dataclass(frozen=True)
class Hit:
    host: str
    path: str
    status: int
    user_agent: str


class MirrorServer:
    def __init__(self, root: Path, port: int = 0, quiet: bool = True) -> None:
        self.root = Path(root)
        self.sites = self.root / "sites"
        doc = json.loads((self.root / "routes.json").read_text("utf-8"))
        self.routes: dict[tuple[str, str], dict[str, Any]] = {
            (r["host"], r["path"]): r for r in doc["routes"]
        }
        self.hosts = {p.name for p in self.sites.iterdir() if p.is_dir()}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.quiet = quiet
        self.page_delay_s = 0.0  # tests slow every page but robots.txt down with this
        self.unavailable: set[tuple[str, str]] = set()  # (host, path) answering 503
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> MirrorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name="mirror")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)
        if not self.quiet:
            log.info("%s %s%s %s", hit.status, hit.host, hit.path, hit.user_agent)

    def requested(self, host: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if host is None or h.host == host]

    # --- what to answer ---------------------------------------------------------------------

    def answer(self, host: str, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        if host not in self.hosts:
            return 404, {"Content-Type": "text/plain"}, b"no such virtual host\n"
        if (host, path) in self.unavailable:
            return 503, {"Content-Type": "text/plain", "Retry-After": "1"}, b"unavailable\n"
        route = self.routes.get((host, path), {})
        if "location" in route:
            return int(route["status"]), {"Location": route["location"]}, b""
        if route.get("status"):
            return int(route["status"]), {"Content-Type": "text/plain"}, b"server error\n"
        if "delay_s" in route:
            time.sleep(float(route["delay_s"]))
            return 200, {"Content-Type": route["content_type"]}, route["body"].encode()
        if "oversize_bytes" in route:
            pad = b"<!-- padding -->" * (int(route["oversize_bytes"]) // 16)
            body = b"<html><body><p>oversize</p>" + pad + b"</body></html>"
            return 200, {"Content-Type": route["content_type"]}, body
        return self._static(host, path, route, headers)

    def source(self, host: str, path: str) -> Path | None:
        """The file served at host+path: a route's `from` (a fixture file kept once, beside
        the mirror), else sites/<host>/<path>; None when there is none."""
        route = self.routes.get((host, path), {})
        if "from" in route:
            base = self.root.parent.resolve()
            target = (self.root / route["from"]).resolve()
        else:
            base = (self.sites / host).resolve()
            target = (base / path.lstrip("/")).resolve()
        return target if target.is_relative_to(base) and target.is_file() else None

    def _static(self, host: str, path: str, route: dict[str, Any],
                headers: Any) -> tuple[int, dict[str, str], bytes]:
        target = self.source(host, path)
        if target is None:
            return 404, {"Content-Type": "text/html"}, b"<html><body>404</body></html>"
        if self.page_delay_s and path != "/robots.txt":
            time.sleep(self.page_delay_s)
        body = target.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        mtime = int(target.stat().st_mtime)
        out = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True)}
        ctype = route.get("content_type", _guess_type(path)) if route else _guess_type(path)
        if ctype:
            out["Content-Type"] = ctype
        inm = headers.get("If-None-Match")
        ims = headers.get("If-Modified-Since")
        if inm is not None:
            if etag in (t.strip() for t in inm.split(",")):
                return 304, out, b""
        elif ims is not None:
            since = email.utils.parsedate_to_datetime(ims)
            if since is not None and mtime <= since.timestamp():
                return 304, out, b""
        return 200, out, body


def _guess_type(path: str) -> str | None:
    if path.endswith(".txt"):
        return "text/plain"
    if path.endswith((".htm", ".html")):
        return "text/html; charset=utf-8"
    return None


def _handler(mirror: MirrorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            if self.path.startswith(("http://", "https://")):
                parts = urlsplit(self.path)
                host, path = parts.hostname or "", parts.path or "/"
            else:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
                path = urlsplit(self.path).path or "/"
            try:
                status, headers, body = mirror.answer(host.lower(), path, self.headers)
            except Exception:  # a fixture bug must show as a 500, not a hung test
                log.exception("mirror failed on %s%s", host, path)
                status, headers, body = 500, {"Content-Type": "text/plain"}, b"mirror bug\n"
            mirror.record(Hit(host, path, status, self.headers.get("User-Agent", "")))
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the crawler gave up (size cap, timeout)

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("mirror: " + fmt, *args)

    return Handler


def add_article(root: Path, host: str, listing_path: str, article_path: str, title: str,
                data: bytes) -> None:
    """Publish a new article on the mirror: write the page and link it from a listing."""
    site = Path(root) / "sites" / host
    page = site / article_path.lstrip("/")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_bytes(data)
    listing = site / listing_path.lstrip("/")
    text = listing.read_text("utf-8")
    link = f'<li><a href="{article_path}">{title}</a></li>'
    listing.write_text(text.replace(NEW_MARK, f"{NEW_MARK}\n{link}", 1), "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lznews_devstack.mirror",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--root", type=Path, default=Path("fixtures/mirror"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = MirrorServer(args.root, args.port, quiet=False)
    print(f"mirror of {len(server.hosts)} hosts on 127.0.0.1:{server.port}; crawl it with "
          f"LZNEWS_CRAWLER_HOST_MAP='*=127.0.0.1:{server.port}' "
          "LZNEWS_CRAWLER_ALLOW_PRIVATE=true", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
