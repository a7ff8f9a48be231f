"""Exceptions the worker turns into dead letters (stage + reason)."""

from __future__ import annotations

STAGES = ("decode", "extract", "repair", "convert", "metadata", "entities")


class StageError(Exception):
    """A stage could not process the page; ``stage`` says which, ``reason`` why."""

    def __init__(self, stage: str, reason: str) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Pages are normalised in a child process: the error crosses back pickled, intact.
        return StageError, (self.stage, self.reason)


class NotAnArticle(StageError):
    """The page decoded fine but is not an article (listing, empty, too short, error page)."""

    def __init__(self, reason: str, stage: str = "extract") -> None:
        super().__init__(stage, reason)

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return NotAnArticle, (self.reason, self.stage)


class OffContract(Exception):
    """The stages built an article that lznews.article/1 refuses: a bug in the normaliser, not
    the page's fault (the worker dead-letters it as stage "output"). Carries the reason as its
    only argument, so it crosses back from the page's child process pickled, intact."""
