"""Per-function log files, like CloudWatch Logs: what a handler prints goes to <logs_dir>/<function>.log.

Handlers run in this process, on several threads, and all print to ``sys.stdout`` (powertools'
Logger and the EMF metrics both do). While routing is installed, ``sys.stdout`` is a proxy that
sends each thread's writes to the log of the function that thread is running, and everything else
to the real stdout, so a demo's own output stays readable.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

_current = threading.local()


class _RoutedStdout:
    def __init__(self, original: TextIO, logs_dir: Path) -> None:
        self._original = original
        self._logs_dir = logs_dir
        self._files: dict[str, TextIO] = {}
        self._lock = threading.Lock()

    def _target(self) -> TextIO:
        function = getattr(_current, "function", None)
        if function is None:
            return self._original
        with self._lock:
            handle = self._files.get(function)
            if handle is None:
                handle = (self._logs_dir / f"{function}.log").open("a", encoding="utf-8")
                self._files[function] = handle
            return handle

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def flush_files(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.flush()

    def close_files(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


_proxy: _RoutedStdout | None = None
_rebound: list[logging.StreamHandler[Any]] = []  # handlers bound to the real stdout before routing began


def _stdout_handlers(stream: object) -> list[logging.StreamHandler[Any]]:
    """Log handlers writing to ``stream``: a logger made before routing began (powertools' Logger binds
    ``sys.stdout`` when it is created, at import) would otherwise bypass the proxy."""
    loggers = [
        logging.getLogger(),
        *(v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    return [
        handler
        for logger in loggers
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler) and handler.stream is stream
    ]


def install(logs_dir: Path) -> None:
    global _proxy  # noqa: PLW0603
    logs_dir.mkdir(parents=True, exist_ok=True)
    for old in logs_dir.glob("*.log"):
        old.unlink()
    _proxy = _RoutedStdout(sys.stdout, logs_dir)
    _rebound[:] = _stdout_handlers(sys.stdout)
    for handler in _rebound:
        handler.setStream(_proxy)  # type: ignore[arg-type]
    sys.stdout = _proxy  # type: ignore[assignment]


def uninstall() -> None:
    global _proxy  # noqa: PLW0603
    if _proxy is not None:
        sys.stdout = _proxy._original
        for handler in _rebound:
            handler.setStream(_proxy._original)
        _rebound.clear()
        _proxy.close_files()
        _proxy = None


def flush() -> None:
    """Write out what the functions' logs hold in their buffers (before a fork, which would copy them)."""
    if _proxy is not None:
        _proxy.flush_files()


def reroute(logs_dir: Path) -> None:
    """In a forked child: its functions' logs go to ``logs_dir``, apart from the parent's files (whose
    handles it inherited, flushed, and leaves alone)."""
    if _proxy is not None:
        logs_dir.mkdir(parents=True, exist_ok=True)
        for old in logs_dir.glob("*.log"):
            old.unlink()
        with _proxy._lock:
            _proxy._files = {}
            _proxy._logs_dir = logs_dir


def absorb(logs_dir: Path) -> None:
    """Append a forked child's function logs (:func:`reroute`) to this process's, and remove them."""
    if _proxy is None or not logs_dir.is_dir():
        return
    for path in sorted(logs_dir.glob("*.log")):
        function = path.stem
        with _proxy._lock:
            handle = _proxy._files.get(function)
            if handle is None:
                handle = _proxy._files[function] = (_proxy._logs_dir / path.name).open("a", encoding="utf-8")
            handle.write(path.read_text(encoding="utf-8"))
            handle.flush()
        path.unlink()


@contextlib.contextmanager
def running(function: str) -> Iterator[None]:
    """Mark the current thread as running ``function`` (its prints go to that function's log)."""
    previous = getattr(_current, "function", None)
    _current.function = function
    try:
        yield
    finally:
        _current.function = previous
