"""POST one alert to the webhook: retried with backoff on 429, 5xx and network errors, given up
at once on other 4xx (the receiver will never take it) or after the last attempt. An alert that
cannot be sent at all (an alert id that is no valid header value, text that is not valid UTF-8:
only a hostile or corrupt message) is given up before any attempt, never raised: raising would
stop the sink and, on every restart, re-send the alerts before it in the batch."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import stop_after_attempt

from lznews_common.metrics import ALERT_DELIVERY_FAILURES
from lznews_common.models import Alert
from lznews_common.retry import retrying
from lznews_common.settings import Settings
from lznews_common.text_safety import one_line

log = logging.getLogger(__name__)

# What http.client sends as a header value without refusing it: visible ASCII. Alert ids the
# watcher makes (watch id, article sha1, content key) always are.
_HEADER_VALUE = re.compile(r"[\x21-\x7e]{1,1024}")


@dataclass
class Outcome:
    delivered: bool
    attempts: int
    reason: str = ""  # error_type of the dead letter when not delivered
    detail: str = ""


class Webhook:
    def __init__(self, s: Settings, sleep: Callable[[float], None]) -> None:
        self.url = s.watch_webhook_url
        self.timeout_s = s.watch_webhook_timeout_s
        self.max_attempts = s.watch_webhook_max_attempts
        self.initial_s = s.watch_webhook_retry_initial_s
        self.max_s = s.watch_webhook_retry_max_s
        self.sleep = sleep  # the service's stoppable sleep

    def _request(self, alert: Alert) -> urllib.request.Request:
        """The POST of `alert`; ValueError when it cannot be sent."""
        if not _HEADER_VALUE.fullmatch(alert.alert_id):
            raise ValueError(f"alert id {alert.alert_id[:200]!r} is not a valid "
                             "Idempotency-Key header value")
        return urllib.request.Request(
            self.url,
            data=alert.to_bytes(),  # PydanticSerializationError (a ValueError) on bad text
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                # Delivery is at least once (a crash after the POST re-sends): receivers
                # deduplicate on this key.
                "Idempotency-Key": alert.alert_id,
                "User-Agent": "lznews-alert-sink/0.1",
            },
        )

    def _post(self, req: urllib.request.Request) -> int:
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            resp.read()
            return resp.status

    def _attempt(self, req: urllib.request.Request) -> None:
        """One POST; a failure worth another attempt raises _Retry, a refusal for good
        _Rejected."""
        try:
            self._post(req)
        except urllib.error.HTTPError as exc:
            detail = f"HTTP {exc.code} from webhook"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                ALERT_DELIVERY_FAILURES.labels("http_4xx").inc()
                raise _Rejected(detail) from exc
            ALERT_DELIVERY_FAILURES.labels("http_429" if exc.code == 429 else "http_5xx").inc()
            raise _Retry(detail) from exc
        except TimeoutError as exc:
            ALERT_DELIVERY_FAILURES.labels("timeout").inc()
            raise _Retry(f"timeout: {exc}") from exc
        except (urllib.error.URLError, OSError) as exc:
            ALERT_DELIVERY_FAILURES.labels("connection").inc()
            raise _Retry(f"unreachable: {exc}") from exc

    def deliver(self, alert: Alert) -> Outcome:
        try:
            req = self._request(alert)
        except ValueError as exc:
            ALERT_DELIVERY_FAILURES.labels("unsendable").inc()
            return Outcome(False, 0, "webhook_unsendable", one_line(f"cannot be sent: {exc}"))
        retry = retrying(lambda exc: isinstance(exc, _Retry), initial_s=self.initial_s,
                         max_s=self.max_s, sleep=self.sleep,
                         stop=stop_after_attempt(self.max_attempts), log=log,
                         what=f"webhook POST of {alert.alert_id}")
        try:
            retry(self._attempt, req)
        except _Rejected as exc:
            return Outcome(False, retry.statistics["attempt_number"], "webhook_rejected",
                           str(exc))
        except _Retry as exc:
            return Outcome(False, self.max_attempts, "webhook_retries_exhausted",
                           f"{self.max_attempts} attempts, last: {exc}")
        return Outcome(True, retry.statistics["attempt_number"])


class _Retry(Exception):
    """A webhook failure another attempt may cure (429, 5xx, 408, timeouts, no connection)."""


class _Rejected(Exception):
    """The receiver refused the alert (any other 4xx): it will never take it."""
