"""gridprox talks through Python's ``logging``: one logger tree named "gridprox" (children
"gridprox.pdhg", "gridprox.highs", "gridprox.kernel", ...).  A library stays quiet unless asked:
``verbose=True`` on a solve shows INFO messages on stderr for its duration when the application
has configured no logging of its own; ``gridprox`` (the command) configures it once per run."""
from __future__ import annotations

import contextlib
import logging
import sys
import time

LOGGER = logging.getLogger("gridprox")
PROGRESS_EVERY = 1.0      # seconds between two progress lines of one solve


def get(name: str = "") -> logging.Logger:
    """The "gridprox" logger or its child ``name``."""
    return LOGGER.getChild(name) if name else LOGGER


class _StderrHandler(logging.StreamHandler):
    """A stream handler writing to the *current* sys.stderr (replaced by test capture, Jupyter)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):      # StreamHandler sets it in __init__; the current stderr wins
        pass


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"gridprox: {record.levelname.lower()}: {text}"
        return f"gridprox: {text}"


@contextlib.contextmanager
def configured(level: int):
    """The command line's logging while a command runs: messages of ``level`` and above on
    stderr as "gridprox: ...", undone afterwards (``cli.main`` runs many times in one process)."""
    handler = _StderrHandler()
    handler.setFormatter(_Format())
    old_level = LOGGER.level
    LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    try:
        yield
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(old_level)


@contextlib.contextmanager
def verbose(enabled: bool = True):
    """While active, INFO messages of "gridprox" are shown: on stderr when nothing (no handler
    here or on the root logger) would show them, else through the application's handlers."""
    if not enabled:
        yield
        return
    added = None
    old_level = LOGGER.level
    if LOGGER.getEffectiveLevel() > logging.INFO:
        LOGGER.setLevel(logging.INFO)
    if not LOGGER.hasHandlers():
        added = _StderrHandler()
        added.setFormatter(_Format())
        LOGGER.addHandler(added)
    try:
        yield
    finally:
        if added is not None:
            LOGGER.removeHandler(added)
        LOGGER.setLevel(old_level)


class Throttle:
    """True at most once per ``every`` seconds (the first call always): progress lines that
    keep a long solve visibly alive without flooding a short one."""

    def __init__(self, every: float = PROGRESS_EVERY):
        self.every, self.last = every, -float("inf")

    def __call__(self) -> bool:
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            return True
        return False
