"""The local stack's per-function logs: what a handler logs lands in its function's file, not the terminal."""

from __future__ import annotations

import io
import logging
import os
import sys

import pytest

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


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_childs_function_logs_are_appended_to_the_parents_files(tmp_path, monkeypatch):
    # GIVEN routed logs where the parent has logged a line
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    function_logs.install(tmp_path / "logs")
    try:
        with function_logs.running("ScoreFunction"):
            print("parent before the fork")
        function_logs.flush()

        # WHEN a forked child logs to its own directory, and the parent logs meanwhile, then takes the child's
        pid = os.fork()
        if pid == 0:
            try:
                function_logs.reroute(tmp_path / "child")
                with function_logs.running("ScoreFunction"):
                    print("child")
                with function_logs.running("ExportFunction"):
                    print("child export")
                function_logs.flush()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        with function_logs.running("ScoreFunction"):
            print("parent after the fork")
        function_logs.absorb(tmp_path / "child")
    finally:
        function_logs.uninstall()

    # THEN each parent file has its lines once, the child's after them, and the child's files are gone
    score = (tmp_path / "logs" / "ScoreFunction.log").read_text()
    assert score == "parent before the fork\nparent after the fork\nchild\n"
    assert (tmp_path / "logs" / "ExportFunction.log").read_text() == "child export\n"
    assert not list((tmp_path / "child").glob("*.log"))
