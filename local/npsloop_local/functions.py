"""One ``AWS::Serverless::Function``: its resolved settings, its lazily imported handler, and a call.

The handler file is imported with ``importlib.util.spec_from_file_location`` under a module name
unique to the function *and* the stack instance: every function's file is ``app.py``, and two
stacks in one process must not share module state (the app caches clients per cold start).
Loading happens at the first invocation, so a template whose handlers do not exist yet still
starts; the missing file fails only the invocations that need it, as
``Runtime.ImportModuleError`` does in Lambda.

``Timeout`` is not enforced: it only sets what ``context.get_remaining_time_in_millis()`` reports.

A function has one execution environment: concurrent invocations (HTTP requests served on several
threads, say) take turns, as Lambda never hands one environment two events at once. Module state
such as powertools' resolver, which keeps the current event on the app object, is not thread-safe
and need not be.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from . import function_logs
from .lambda_context import LambdaContext

__all__ = ["AsyncConfig", "HandlerLoadError", "Invocation", "LambdaFunction", "MarshalError"]

log = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_EVENT_AGE = 21600


class MarshalError(TypeError):
    """The handler returned something that is not JSON."""

    error_type = "Runtime.MarshalError"


def _marshal(result: Any) -> Any:
    try:
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as error:
        raise MarshalError(f"Unable to marshal response: {error}") from error


class HandlerLoadError(RuntimeError):
    """The handler file or function named by CodeUri + Handler cannot be loaded."""

    error_type = "Runtime.ImportModuleError"


@dataclass(frozen=True)
class AsyncConfig:
    """``EventInvokeConfig``: how Lambda retries an asynchronous invocation and where results go."""

    max_retries: int = DEFAULT_MAX_RETRIES
    max_event_age_seconds: int = DEFAULT_MAX_EVENT_AGE
    on_failure: str | None = None
    on_success: str | None = None

    @classmethod
    def from_properties(cls, config: dict[str, Any] | None) -> AsyncConfig:
        config = config or {}
        destinations = config.get("DestinationConfig") or {}
        return cls(
            max_retries=int(config.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES)),
            max_event_age_seconds=int(config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE)),
            on_failure=(destinations.get("OnFailure") or {}).get("Destination"),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination"),
        )


@dataclass
class Invocation:
    """The outcome of one call: the handler's return value, or the error Lambda would report."""

    request_id: str
    result: Any = None
    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def error_payload(self) -> dict[str, Any]:
        """The error document Lambda returns for an unhandled exception."""
        assert self.error is not None
        error_type = getattr(self.error, "error_type", None) or type(self.error).__name__
        frames = traceback.format_tb(self.error.__traceback__)
        return {
            "errorMessage": str(self.error),
            "errorType": error_type,
            "requestId": self.request_id,
            "stackTrace": [frame.rstrip("\n") for frame in frames],
        }


@dataclass
class LambdaFunction:
    """A function of the template, runnable in this process."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    memory_mb: int
    timeout_seconds: float
    environment: dict[str, str]
    async_config: AsyncConfig
    module_name: str
    after_invoke: Callable[[], object] | None = None
    identity: Callable[[str], contextlib.AbstractContextManager[object]] | None = None
    """Marks the calls made while the handler runs as this function's (its role decides them: :mod:`.iam`)."""
    _module: ModuleType | None = field(default=None, repr=False)
    _load_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _run_lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # ----- loading ----------------------------------------------------------------------------

    @property
    def handler_file(self) -> Path:
        module_path, _ = self._handler_parts()
        return self.code_dir / (module_path.replace(".", "/") + ".py")

    def _handler_parts(self) -> tuple[str, str]:
        if "." not in self.handler:
            raise HandlerLoadError(f"{self.logical_id}: Handler {self.handler!r} is not module.function")
        module_path, function_name = self.handler.rsplit(".", 1)
        return module_path, function_name

    def module(self) -> ModuleType:
        """Import the handler's module once (thread-safe), as a Lambda cold start does."""
        with self._load_lock:
            if self._module is None:
                self._module = self._import()
            return self._module

    def _import(self) -> ModuleType:
        path = self.handler_file
        if not path.is_file():
            raise HandlerLoadError(f"{self.logical_id}: handler file {path} does not exist")
        spec = importlib.util.spec_from_file_location(self.module_name, path)
        if spec is None or spec.loader is None:
            raise HandlerLoadError(f"{self.logical_id}: cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[self.module_name] = module
        code_dir = str(self.code_dir)
        sys.path.insert(0, code_dir)  # sibling modules, as the function's root is on Lambda's path
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[self.module_name]
            raise HandlerLoadError(f"{self.logical_id}: importing {path} failed: {error!r}") from error
        finally:
            sys.path.remove(code_dir)
        log.debug("loaded %s from %s as %s", self.logical_id, path, self.module_name)
        return module

    def handler_callable(self) -> Callable[[Any, LambdaContext], Any]:
        _, function_name = self._handler_parts()
        handler = getattr(self.module(), function_name, None)
        if not callable(handler):
            raise HandlerLoadError(f"{self.logical_id}: {self.handler_file} has no function {function_name}")
        return handler

    def unload(self) -> None:
        with self._load_lock:
            if self._module is not None:
                sys.modules.pop(self.module_name, None)
                self._module = None

    # ----- invoking ---------------------------------------------------------------------------

    def new_context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=self.memory_mb,
            timeout_seconds=self.timeout_seconds,
        )

    def call(self, event: Any) -> Invocation:
        """Run the handler once; errors are captured in the result, never raised.

        Event and result cross a JSON boundary, as in Lambda: the handler gets its own copy of the
        event (a retry sees the original, not what an earlier attempt mutated), and a result that is
        not JSON fails as ``Runtime.MarshalError``.
        """
        context = self.new_context()
        outcome = Invocation(request_id=context.aws_request_id)
        try:
            with self._run_lock, function_logs.running(self.logical_id), self._acting_as():
                result = self.handler_callable()(json.loads(json.dumps(event)), context)
            outcome.result = _marshal(result)
        except Exception as error:
            outcome.error = error
            log.warning("%s failed (request %s)", self.logical_id, context.aws_request_id, exc_info=error)
        finally:
            if self.after_invoke is not None:
                self.after_invoke()
        return outcome

    def _acting_as(self) -> contextlib.AbstractContextManager[object]:
        return self.identity(self.logical_id) if self.identity is not None else contextlib.nullcontext()

    def invoke(self, event: Any) -> Any:
        """Synchronous (RequestResponse) invocation: the return value, or the handler's exception."""
        outcome = self.call(event)
        if outcome.error is not None:
            raise outcome.error
        return outcome.result
