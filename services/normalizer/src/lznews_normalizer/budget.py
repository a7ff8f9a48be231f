"""A per-page budget of time and memory: normalisation runs in a child process.

A page that would run past the deadline, or grow past the memory cap, is stopped there (the
child is killed and replaced) and dead-lettered; the worker's event loop, heartbeats, /healthz
and /metrics never wait on it, and the next page goes on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

from pebble import ProcessExpired, ProcessPool

from lznews_common.models import Article, RawHeaders, RawPage
from lznews_normalizer.errors import StageError
from lznews_normalizer.pipeline import normalize_page

log = logging.getLogger(__name__)

# A page as small as pages come, to load the dictionaries and models once per child.
_WARM_UP = RawPage(
    url="http://warm.up/a.html", final_url="http://warm.up/a.html", site="warm-up",
    fetched_at=datetime(2026, 1, 1, tzinfo=UTC), http_status=200,
    headers=RawHeaders(content_type="text/html; charset=utf-8"),
    body_b64=("PHRpdGxlPuWFsOW3njwvdGl0bGU+PGgxPuWFsOW3nuW4guaUv+W6nOWPrOW8gOW4uOWKoeS8muiu"
              "rjwvaDE+PHA+5YWw5bee5biC5Lq65rCR5pS/5bqc5Y+s5byA5bi45Yqh5Lya6K6u77yM56CU56m2"
              "6YOo572y56eR5oqA5Yib5paw5bel5L2c77yM5biC6ZW/5Li75oyB5Lya6K6u5bm26K6y6K+d77yM"
              "6KaB5rGC5ZCE5Y6/5Yy65ZCE6YOo6Zeo5oqT5aW96JC95a6e44CCPC9wPg=="),
    crawl_id="warm-up",
)


class OverBudget(Exception):
    """A page used up its time or memory; `error_type` is the dead letter's."""

    def __init__(self, error_type: str, detail: str) -> None:
        super().__init__(detail)
        self.error_type = error_type
        self.detail = detail

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return OverBudget, (self.error_type, self.detail)


def _child_init(memory_mb: int) -> None:
    if memory_mb > 0:
        cap = memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        normalize_page(_WARM_UP)
    except StageError:
        pass


def _run(page: RawPage, canonical: str | None) -> tuple[Article, dict[str, float]]:
    timings: dict[str, float] = {}
    try:
        return normalize_page(page, timings, canonical=canonical), timings
    except MemoryError:
        # Raised inside the child by its address-space cap; the child itself survives.
        raise OverBudget("memory", "the page needed more memory than its budget") from None


class PageBudget:
    """One child process (a worker uses one core) that runs `normalize_page` under a deadline."""

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        # spawn, not fork: the parent runs an event loop and Kafka client threads.
        self.pool = ProcessPool(max_workers=1, initializer=_child_init, initargs=(memory_mb,),
                                context=multiprocessing.get_context("spawn"))

    async def normalize(self, page: RawPage, canonical: str | None
                        ) -> tuple[Article, dict[str, float]]:
        """The article and stage timings; raises StageError (the page's fault), OffContract (a
        bug) or OverBudget (time or memory used up, the child was replaced)."""
        future = self.pool.schedule(_run, args=(page, canonical), timeout=self.timeout_s)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise OverBudget("timeout", f"normalising took longer than {self.timeout_s:g} s "
                                        "(the page's time budget); stopped") from None
        except ProcessExpired as exc:
            raise OverBudget("crashed", f"the normalising process died ({exc}); "
                                        f"memory budget {self.memory_mb} MB") from None

    def close(self) -> None:
        self.pool.stop()
        self.pool.join(timeout=10)
