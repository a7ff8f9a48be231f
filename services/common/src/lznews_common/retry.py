"""Backoff shared by every retry loop of the services."""

from __future__ import annotations

import random


def backoff(attempt: int, initial_s: float, max_s: float) -> float:
    """Exponential backoff with jitter (attempt counts from 1): somewhere in the upper half of
    min(max_s, initial_s * 2^(attempt-1)), so replicas that failed together do not retry
    together."""
    ceiling = min(max_s, initial_s * (2 ** max(attempt - 1, 0)))
    return random.uniform(ceiling / 2, ceiling)
