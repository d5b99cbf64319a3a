"""The one Logger of the package, and its metrics. Never log personal data: ids only.

No powertools Tracer: its X-Ray SDK import tripled the handlers' cold import (docs/decisions.md);
the functions keep Lambda's active tracing, which records every invocation without it.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

logger = Logger(utc=True)


def count(name: str, **dimensions: str) -> None:
    """Emit one EMF count now (namespace from POWERTOOLS_METRICS_NAMESPACE).

    Each call builds its own metric set, so concurrent invocations in one process (the local
    stack runs handlers on threads) never share a buffer, and no invocation publishes an empty set.
    """
    with single_metric(name=name, unit=MetricUnit.Count, value=1) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)
