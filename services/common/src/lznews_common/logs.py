"""One log format for every service; client libraries' chatter kept to warnings."""

from __future__ import annotations

import logging

from lznews_common.settings import Settings


def setup_logging(s: Settings) -> None:
    logging.basicConfig(level=s.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("kafka", "elastic_transport"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
