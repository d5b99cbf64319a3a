"""The ``context`` object handed to a handler, with the attributes the Python runtime provides."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

__all__ = ["LambdaContext"]


@dataclass
class LambdaContext:
    """What ``awslambdaric`` gives a Python handler, minus identity and client context (always None)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: None = None
    client_context: None = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            day = time.strftime("%Y/%m/%d", time.gmtime())
            self.log_stream_name = f"{day}/[{self.function_version}]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout, measured on the real (monotonic) clock."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
