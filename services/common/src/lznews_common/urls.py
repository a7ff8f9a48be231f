"""One spelling per article URL: the raw-pages key, the article's canonical_url and its id."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lznews_common.text_safety import find_unsafe

# Share and campaign parameters that never select different content.
_TRACKING = re.compile(r"^(?:utm_\w+|spm|from|share_token|wxshare_count|isappinstalled)$", re.I)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    the remaining query parameters sorted. Idempotent."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.port and (scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host and no control characters: what may be fetched, keyed
    on raw-pages and stored as a canonical URL."""
    try:
        parts = urlsplit(url)
        return (parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
                and find_unsafe(url) is None)
    except ValueError:  # e.g. a bad port or IPv6 literal
        return False
