"""Wire the template's functions to their event sources and run them in-process.

For every ``AWS::Serverless::Function`` (with ``Globals.Function`` merged in) the dispatcher
resolves its settings and environment, and turns each of its ``Events`` into a local event source:

- ``EventBridgeRule`` / ``CloudWatchEvent`` -> :mod:`.eventbridge` (asynchronous invocation)
- ``HttpApi`` -> a route of :mod:`.http_api` (synchronous), guarded by its JWT authorizer (:mod:`.auth`)
- ``DynamoDB`` -> a stream poller of :mod:`.streams` (synchronous batches)
- ``SNS`` -> an internal queue drained by :mod:`.sns` (asynchronous)
- ``Schedule`` / ``ScheduleV2`` -> :mod:`.schedules` (asynchronous)
- ``SQS`` -> a poller of :mod:`.sqs_source` (synchronous batches, partial failures, redelivery by the clock)

Other event types are listed in ``unsupported_events`` and never fire. ``drain`` runs everything
that is due, and, while only future retries remain and the clock can ``advance``, moves the clock
to the next one - so a test sees the whole retry story without sleeping.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from . import moto_peek
from .async_invoke import AsyncInvoker
from .auth import JwtAuthorizer
from .clock import Clock
from .destinations import Destinations
from .eventbridge import EventBridgeRouter, EventRule, bus_name_of
from .functions import AsyncConfig, LambdaFunction
from .http_api import Route, RouteTable
from .iam import Authorizer
from .provision import fake_api_id
from .schedules import Schedule
from .sns import SnsSubscription
from .sqs_source import SqsEventSource
from .streams import StreamConsumer, StreamSettings
from .template import SERVERLESS_FUNCTION, Resolver, TemplateError, scalar_to_string

__all__ = ["Dispatcher", "EnvironmentConflictError"]

log = logging.getLogger(__name__)

MAX_DRAIN_ROUNDS = 10_000
IMPLICIT_HTTP_API = "ServerlessHttpApi"


class EnvironmentConflictError(TemplateError):
    """Two functions give one environment variable different values (the process has one environment)."""


@dataclass
class Dispatcher:
    """The functions of a template and the local event sources that invoke them."""

    resolver: Resolver
    clock: Clock
    client: Callable[[str], Any]
    module_prefix: str
    after_invoke: Callable[[], object]
    functions: dict[str, LambdaFunction] = field(default_factory=dict)
    routes: RouteTable = field(default_factory=RouteTable)
    rules: list[EventRule] = field(default_factory=list)
    streams: list[StreamConsumer] = field(default_factory=list)
    subscriptions: list[SnsSubscription] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    queues: list[SqsEventSource] = field(default_factory=list)
    unsupported_events: dict[str, str] = field(default_factory=dict)
    batching_windows: bool = False
    """Stream consumers wait out ``MaximumBatchingWindowInSeconds`` by the clock (see :mod:`.streams`)."""
    authorizer: Authorizer | None = None
    """The functions' roles (:mod:`.iam`): their calls, and the destinations Lambda sends to for them."""
    _drain_lock: threading.RLock = field(default_factory=threading.RLock)
    _converted: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    """Per stream ARN, its records in Lambda's shape, converted once for all its consumers."""
    invoker: AsyncInvoker = field(init=False)
    router: EventBridgeRouter = field(init=False)

    def __post_init__(self) -> None:
        destinations = Destinations(self.client, self._invoke_arn_async, self._authorize_destination)
        self.invoker = AsyncInvoker(
            self.clock, lambda arn, record, success: destinations.send(arn, record, success=success)
        )
        self._destinations = destinations
        self.router = EventBridgeRouter(
            self.clock, self.resolver.account_id, self.resolver.region, self.invoker.submit, self.rules
        )

    # ----- functions --------------------------------------------------------------------------

    def load_functions(self) -> None:
        """Resolve every function's settings (needs the provisioned physical ids)."""
        template = self.resolver.template
        for logical_id in template.resources_of_type(SERVERLESS_FUNCTION):
            if logical_id in self.resolver.physical:
                self.functions[logical_id] = self._function(logical_id)

    def _function(self, logical_id: str) -> LambdaFunction:
        props = self.resolver.template.function_properties(logical_id)
        if props.get("PackageType") == "Image" or not isinstance(props.get("CodeUri", ""), str):
            raise TemplateError(f"{logical_id}: only local CodeUri directories are supported")
        physical = self.resolver.physical[logical_id]
        variables = self.resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
        return LambdaFunction(
            logical_id=logical_id,
            name=physical.ref,
            arn=physical.attributes["Arn"],
            code_dir=self.resolver.template.base_dir / str(self.resolver.resolve(props.get("CodeUri", "."))),
            handler=str(self.resolver.resolve(props.get("Handler", ""))),
            memory_mb=int(self.resolver.resolve(props.get("MemorySize", 128))),
            timeout_seconds=float(self.resolver.resolve(props.get("Timeout", 3))),
            environment={name: scalar_to_string(value) for name, value in variables.items()},
            async_config=AsyncConfig.from_properties(self.resolver.resolve(props.get("EventInvokeConfig"))),
            module_name=f"{self.module_prefix}_{logical_id}",
            after_invoke=self.after_invoke,
            identity=self.authorizer.acting_as if self.authorizer is not None else None,
        )

    def environment(self) -> dict[str, str]:
        """The union of every function's variables; a variable with two values is an error."""
        union: dict[str, str] = {}
        owner: dict[str, str] = {}
        for function in self.functions.values():
            for name, value in function.environment.items():
                if name in union and union[name] != value:
                    raise EnvironmentConflictError(
                        f"{name} is {union[name]!r} for {owner[name]} but {value!r} for {function.logical_id}:"
                        " functions share one process environment here, give them the same value"
                    )
                union[name] = value
                owner.setdefault(name, function.logical_id)
        return union

    def _authorize_destination(self, function_arn: str, action: str, destination_arn: str) -> None:
        """Lambda sends a function's invocation records with the function's role."""
        if self.authorizer is None:
            return
        unqualified = function_arn.removesuffix(":$LATEST")
        for function in self.functions.values():
            if function.arn == unqualified:
                self.authorizer.require(function.logical_id, action, destination_arn)
                return

    def function(self, logical_id: str) -> LambdaFunction:
        try:
            return self.functions[logical_id]
        except KeyError:
            raise KeyError(f"no function {logical_id!r} (functions: {', '.join(self.functions)})") from None

    def _invoke_arn_async(self, arn: str, payload: dict[str, Any]) -> None:
        base_arn = arn.split(":$LATEST", maxsplit=1)[0]
        for function in self.functions.values():
            if function.arn == base_arn:
                self.invoker.submit(function, payload)
                return
        raise ValueError(f"no function with ARN {arn}")

    def unload(self) -> None:
        for function in self.functions.values():
            function.unload()

    # ----- event sources ----------------------------------------------------------------------

    def wire_routes(self) -> None:
        """HTTP routes (needed before the server starts)."""
        for function in self.functions.values():
            for event_name, event_type, props in self._events(function):
                if event_type == "HttpApi":
                    self._add_route(function, event_name, props)

    def wire_event_sources(self) -> None:
        """Rules, stream pollers, SNS subscriptions and schedules (needs the moto resources)."""
        wiring = {
            "EventBridgeRule": self._add_rule,
            "CloudWatchEvent": self._add_rule,
            "DynamoDB": self._add_stream,
            "SNS": self._add_subscription,
            "Schedule": self._add_schedule,
            "ScheduleV2": self._add_schedule,
            "SQS": self._add_queue,
        }
        for function in self.functions.values():
            for event_name, event_type, props in self._events(function):
                if event_type in wiring:
                    wiring[event_type](function, event_name, props)
                elif event_type != "HttpApi":
                    self.unsupported_events[f"{function.logical_id}.{event_name}"] = event_type
                    log.warning("%s.%s: event type %s is not run locally", function.logical_id, event_name, event_type)

    def _events(self, function: LambdaFunction) -> list[tuple[str, str, dict[str, Any]]]:
        props = self.resolver.template.function_properties(function.logical_id)
        events = props.get("Events") or {}
        return [
            (name, spec.get("Type", ""), self.resolver.resolve(spec.get("Properties") or {}))
            for name, spec in events.items()
        ]

    def _add_route(self, function: LambdaFunction, event_name: str, props: dict[str, Any]) -> None:
        if str(props.get("PayloadFormatVersion", "2.0")) != "2.0":
            log.warning("%s.%s: only payload format 2.0 is served locally", function.logical_id, event_name)
        api_id = props.get("ApiId") or fake_api_id(self.resolver.stack_name, IMPLICIT_HTTP_API)
        path = props.get("Path")
        method = props.get("Method", "ANY") if path else "ANY"
        authorizer = self._route_authorizer(function, event_name, str(api_id), props.get("Auth") or {})
        self.routes.add(Route(method=method, path=path, function=function, api_id=str(api_id), authorizer=authorizer))

    def _route_authorizer(
        self, function: LambdaFunction, event_name: str, api_id: str, auth: dict[str, Any]
    ) -> JwtAuthorizer | None:
        """The JWT authorizer a route names (or inherits as the API's ``DefaultAuthorizer``); None if public."""
        api_auth = self._api_auth(api_id)
        name = auth.get("Authorizer") or api_auth.get("DefaultAuthorizer")
        if not name or name == "NONE":
            return None
        spec = (api_auth.get("Authorizers") or {}).get(name)
        if spec is None or "JwtConfiguration" not in spec:
            # Fail closed: a route meant to be guarded is never served open.
            log.warning(
                "%s.%s: authorizer %s is not a JWT authorizer of its API: every request gets 401",
                function.logical_id,
                event_name,
                name,
            )
            return JwtAuthorizer(name=str(name), issuer="", audiences=())
        return JwtAuthorizer.from_properties(str(name), spec).with_scopes(auth.get("AuthorizationScopes"))

    def _api_auth(self, api_id: str) -> dict[str, Any]:
        """The resolved ``Auth`` of the HTTP API whose (local) id is ``api_id``."""
        template = self.resolver.template
        for logical_id in template.resources_of_type("AWS::Serverless::HttpApi"):
            if fake_api_id(self.resolver.stack_name, logical_id) == api_id:
                props = template.resources[logical_id].get("Properties") or {}
                return self.resolver.resolve(props.get("Auth") or {})
        if api_id == fake_api_id(self.resolver.stack_name, IMPLICIT_HTTP_API):
            api_globals = (template.document.get("Globals") or {}).get("HttpApi") or {}
            return self.resolver.resolve(api_globals.get("Auth") or {})
        return {}

    def _add_rule(self, function: LambdaFunction, event_name: str, props: dict[str, Any]) -> None:
        bus = bus_name_of(props.get("EventBusName"))
        name = str(props.get("RuleName") or f"{self.resolver.stack_name}-{function.logical_id}{event_name}")[:64]
        pattern = props.get("Pattern") or {}
        enabled = _enabled(props)
        self.client("events").put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(pattern),
            State="ENABLED" if enabled else "DISABLED",
        )
        if not enabled:
            return
        self.rules.append(
            EventRule(
                name=name,
                bus_name=bus,
                pattern=pattern,
                function=function,
                input_path=props.get("InputPath"),
                constant_input=props.get("Input"),
                retry_policy=props.get("RetryPolicy") or {},
                dead_letter_arn=(props.get("DeadLetterConfig") or {}).get("Arn"),
            )
        )

    def _add_stream(self, function: LambdaFunction, event_name: str, props: dict[str, Any]) -> None:
        consumer = StreamConsumer(
            function=function,
            stream_arn=str(props["Stream"]),
            settings=StreamSettings.from_properties(props, batching_window=self.batching_windows),
            streams_client=self.client("dynamodbstreams"),
            clock=self.clock,
            region=self.resolver.region,
            send_record=self._destinations.send,
            peek=functools.partial(
                moto_peek.stream_tails, self.resolver.account_id, self.resolver.region, str(props["Stream"])
            ),
            read=functools.partial(
                moto_peek.stream_records, self.resolver.account_id, self.resolver.region, str(props["Stream"])
            ),
            converted=self._converted.setdefault(str(props["Stream"]), {}),
        )
        consumer.start()
        self.streams.append(consumer)

    def _add_subscription(self, function: LambdaFunction, event_name: str, props: dict[str, Any]) -> None:
        if props.get("SqsSubscription"):
            log.warning(
                "%s.%s: SqsSubscription is delivered as a plain SNS event locally", function.logical_id, event_name
            )
        subscription = SnsSubscription(
            function=function,
            topic_arn=str(props["Topic"]),
            queue_name=f"{self.resolver.stack_name}-local-sns-{function.logical_id}{event_name}"[:80],
            properties=props,
            sns_client=self.client("sns"),
            sqs_client=self.client("sqs"),
            submit=self.invoker.submit,
            take=functools.partial(moto_peek.take_messages, self.resolver.account_id, self.resolver.region),
        )
        subscription.start()
        self.subscriptions.append(subscription)

    def _add_schedule(self, function: LambdaFunction, event_name: str, props: dict[str, Any]) -> None:
        expression = props.get("Schedule") or props.get("ScheduleExpression")
        if not expression:
            raise TemplateError(f"{function.logical_id}.{event_name}: no schedule expression")
        schedule = Schedule(
            name=str(props.get("Name") or f"{self.resolver.stack_name}-{function.logical_id}{event_name}")[:64],
            function=function,
            expression=str(expression),
            account_id=self.resolver.account_id,
            region=self.resolver.region,
            version=2 if "ScheduleExpression" in props else 1,
            constant_input=props.get("Input"),
            submit=self.invoker.submit,
            enabled=_enabled(props),
            time_zone=props.get("ScheduleExpressionTimezone"),
        )
        schedule.start(self.clock.now())
        self.schedules.append(schedule)

    def _add_queue(self, function: LambdaFunction, event_name: str, props: dict[str, Any]) -> None:
        if props.get("Enabled", True) is False:
            return
        source = SqsEventSource(
            function=function,
            queue_arn=str(props["Queue"]),
            batch_size=int(props.get("BatchSize", 10)),
            report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            sqs_client=self.client("sqs"),
            clock=self.clock,
            region=self.resolver.region,
            maximum_concurrency=(props.get("ScalingConfig") or {}).get("MaximumConcurrency"),
        )
        source.start()
        self.queues.append(source)

    # ----- running ----------------------------------------------------------------------------

    def fire_schedules(self) -> int:
        """Queue the due schedules' invocations (under the drain lock: an occurrence fires once)."""
        with self._drain_lock:
            now = self.clock.now()
            return sum(schedule.fire_if_due(now) for schedule in self.schedules)

    def drain(self) -> None:
        """Run everything due; advance a manual clock through pending retries until none is left."""
        with self._drain_lock:
            for _ in range(MAX_DRAIN_ROUNDS):
                if self._pump():
                    continue
                dues = [self.invoker.next_due(), *(queue.next_due() for queue in self.queues)]
                next_due = min((due for due in dues if due is not None), default=None)
                advance = getattr(self.clock, "advance", None)
                if next_due is None or advance is None:
                    return
                delta = next_due - self.clock.now()
                if delta > timedelta(0):
                    advance(delta)
            raise RuntimeError(f"drain did not settle after {MAX_DRAIN_ROUNDS} rounds (an invocation loop?)")

    def _queue_has_messages(self, queue_name: str) -> bool | None:
        return moto_peek.queue_has_messages(self.resolver.account_id, self.resolver.region, queue_name)

    def _pump(self) -> bool:
        worked = self.fire_schedules() > 0
        for consumer in self.streams:
            worked = consumer.poll() > 0 or worked
        for subscription in self.subscriptions:
            if self._queue_has_messages(subscription.queue_name) is False:
                continue  # an empty queue: skip the ReceiveMessage
            worked = subscription.poll() > 0 or worked
        worked = self.invoker.run_due() > 0 or worked
        for queue in self.queues:
            if self._queue_has_messages(queue.queue_name) is False and not queue.next_due():
                continue  # an empty queue: skip the ReceiveMessage
            worked = queue.poll() > 0 or worked
        return worked


def _enabled(props: dict[str, Any]) -> bool:
    """A rule's or schedule's ``Enabled`` / ``State`` (both default to enabled)."""
    return props.get("Enabled", True) is not False and str(props.get("State", "ENABLED")) == "ENABLED"
