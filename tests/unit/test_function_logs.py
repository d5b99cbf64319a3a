"""The local stack's per-function logs: what a handler logs lands in its function's file, not the terminal."""

from __future__ import annotations

import io
import logging
import sys

from npsloop_local import function_logs


def test_a_logger_made_before_routing_began_still_logs_to_the_functions_file(tmp_path, monkeypatch):
    # GIVEN a logger bound to stdout when its module was imported, before the stack routed stdout
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", terminal)
    logger = logging.getLogger("test-early-logger")
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        # WHEN routing is installed and a function logs while it runs, and the demo prints outside any function
        function_logs.install(tmp_path)
        try:
            with function_logs.running("ScoreFunction"):
                logger.info("batch scored")
            print("demo summary")
        finally:
            function_logs.uninstall()
        logger.info("after the stack stopped")
    finally:
        logger.removeHandler(handler)

    # THEN the function's line is in its log file only; the demo's own output and later lines reach the terminal
    assert (tmp_path / "ScoreFunction.log").read_text(encoding="utf-8") == "batch scored\n"
    assert terminal.getvalue() == "demo summary\nafter the stack stopped\n"
