"""One log format for every service; client libraries' chatter kept to warnings."""

from __future__ import annotations

import logging

from lznews_common.settings import Settings


class _ClosedSocketRace(logging.Filter):
    """kafka-python 3.0 can read a connection its own close has just torn down (seen when a
    service stops: AttributeError on the socket, logged with a traceback). Nothing is lost,
    the connection was being closed; keep one warning line instead of an error traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, AttributeError) and "'NoneType'" in str(exc):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.getMessage()} (a connection read while closing: {exc})"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def setup_logging(s: Settings) -> None:
    logging.basicConfig(level=s.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("kafka", "elastic_transport"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("kafka.net.transport").addFilter(_ClosedSocketRace())
