"""AWS calls per business event over the demo's population, now and on a recorded baseline.

    .venv/bin/python benchmarks/calls_per_event.py [--customers 200] [--days 21]

Runs the demo's loop (``npsloop_local.demo``: business events on the bus, invitations, SES and its
delivery reports, respondents over HTTP, link scanners, unsubscribes, the stream consumers, staff
working their cases through the API, the case sweep on every clock jump) with ``AwsMeter`` counting
every AWS call the functions make, and divides by the business events put on the bus. The demo's
own summary (its scans and API reads) is not counted.

``BASELINE`` is the same measurement, same arguments, on main before the sparse work-due index and
the cuts of issue 9 (see docs/decisions.md): it is printed alongside so "before and after" is one look.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "npsloop"), str(ROOT / "local")]

# Measured on main at 91d7035 on 2026-12-01 with the defaults below (200 customers, 21 days, 360
# events): the mean of two runs (4,290 and 4,319 calls; the respondents' threads make runs differ by ~1%).
BASELINE: dict[str, Any] = {
    "date": "2026-12-01",
    "commit": "91d7035",
    "per_event": 11.96,
    "by_function": {
        "CasesFunction": 4.47,
        "InviteFunction": 3.00,
        "RespondFunction": 0.94,
        "InviteSweepFunction": 0.86,
        "ExportFunction": 0.80,
        "AlertFunction": 0.79,
        "DeliveryFunction": 0.61,
        "ApiFunction": 0.43,
        "ScoreFunction": 0.06,
    },
}


class _Attributed:
    """Counts each metered call under the function whose handler made it (the stack's IAM knows)."""

    def __init__(self) -> None:
        self.by_function: Counter[str] = Counter()
        self.by_operation: Counter[str] = Counter()
        self.detail: Counter[tuple[str, str]] = Counter()
        self.counting = True
        self._lock = threading.Lock()

    def hook(self, model: Any, **_: Any) -> None:
        from npsloop_local import iam

        authorizer = iam._active
        role = authorizer.current() if authorizer is not None else None
        if not self.counting or role is None:
            return
        with self._lock:
            self.by_function[role.function] += 1
            operation = f"{model.service_model.service_name}:{model.name}"
            self.by_operation[operation] += 1
            self.detail[role.function, operation] += 1


def measure(customers: int, days: int) -> tuple[int, _Attributed]:
    import boto3

    from npsloop_local import demo

    counted = _Attributed()
    real_stack, real_summarise = demo.LocalStack, demo.summarise

    class MeteredStack(real_stack):  # type: ignore[misc, valid-type]
        def start(self) -> Any:
            started = super().start()
            # After start: moto gave boto3 a fresh default session, the one the adapters use.
            boto3._get_default_session().events.register("after-call", counted.hook, unique_id="calls-per-event")
            return started

    def summarise(*args: Any, **kwargs: Any) -> str:
        counted.counting = False  # the demo's own read-back is not the loop's work
        return real_summarise(*args, **kwargs)

    demo.LocalStack, demo.summarise = MeteredStack, summarise
    try:
        with tempfile.TemporaryDirectory() as scratch:
            stats = demo.simulate(
                customers=customers, days=days, workers=4, outbox=Path(scratch) / "outbox", quiet=True
            )
    finally:
        demo.LocalStack, demo.summarise = real_stack, real_summarise
    return stats.events_put, counted


def report(customers: int = 200, days: int = 21) -> None:
    events, counted = measure(customers, days)
    calls = sum(counted.by_function.values())
    print(f"\n5. AWS calls per business event (the demo's loop: {customers} customers, {days} days, {events} events)")
    before = BASELINE["per_event"]
    print(
        f"   now {calls / events:6.2f} calls per business event ({calls} calls);   "
        f"before {before:6.2f} (main {BASELINE['commit']}, measured {BASELINE['date']} the same way)"
    )
    for function, n in counted.by_function.most_common():
        was = BASELINE["by_function"].get(function, 0.0)
        detail = ", ".join(
            f"{op.split(':')[1]} {k / events:.2f}" for (f, op), k in counted.detail.most_common() if f == function
        )
        print(f"      {function:<22} {n / events:6.2f}   (before {was:6.2f})   {detail}")
    print("      " + ", ".join(f"{name} {n / events:.2f}" for name, n in counted.by_operation.most_common()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--days", type=int, default=21)
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("npsloop_local").setLevel(logging.ERROR)
    report(args.customers, args.days)


if __name__ == "__main__":
    main()
