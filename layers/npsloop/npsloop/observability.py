"""The one Logger, Tracer and Metrics of the package. Never log personal data: ids only."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# An invocation that only ignores a duplicate has no metric to publish; that is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

logger = Logger(utc=True)
tracer = Tracer()
metrics = Metrics()
