"""``LocalStack``: the whole app offline - moto for AWS, our dispatcher for Lambda, a local HTTP API.

Start order matters: the patches of :mod:`.moto_patches` first (they also refuse a second stack in
the process, before it changes anything), then moto, then the HTTP server's
socket (its URL becomes the ``PublicBaseUrl`` parameter unless given), then provisioning, then the
functions' environment (set process-wide before any handler is imported), then the event sources.
``stop`` undoes all of it, restoring the previous environment and the app's clock; a stack that
could not start touches nothing another running stack owns.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Self, TypeVar

import boto3
import botocore.loaders
import botocore.session
from moto import mock_aws

from . import auth, directory, function_logs, iam, moto_patches, ses_sending
from .auth import JwtAuthorizer
from .clock import Clock
from .dispatcher import Dispatcher
from .eventbridge import EventRule
from .http_api import HttpApiServer, HttpRequest, RouteTable
from .outbox import Outbox
from .provision import Provisioner, ProvisionResult
from .ses_events import SesEventPublisher
from .sign_in import SignIn, local_endpoints, personas_from_routing
from .template import Resolver, Template

__all__ = ["Clock", "LocalStack"]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_STACK_NAME = "npsloop-local"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}
# Variables that would send boto3 elsewhere than moto, or to a real account.
SHADOWED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


class LocalStack:
    """Runs a SAM template offline. Use as a context manager, or call ``start()`` / ``stop()``."""

    def __init__(  # noqa: PLR0917 - the documented signature takes these positionally
        self,
        template_path: str | Path = "template.yaml",
        parameters: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        outbox_dir: str | Path | None = None,
        region: str = "eu-west-1",
        port: int = 0,
        stack_name: str = DEFAULT_STACK_NAME,
        logs_dir: str | Path | None = None,
        batching_windows: bool = False,
    ) -> None:
        self.template = Template.load(template_path)
        self.parameters = dict(parameters or {})
        self.clock: Clock = clock or _system_clock()
        self.outbox_dir = Path(outbox_dir) if outbox_dir else self.template.base_dir / ".local" / "outbox"
        self.region = region
        self.port = port
        self.stack_name = stack_name
        self.logs_dir = Path(logs_dir) if logs_dir else None
        self.batching_windows = batching_windows
        self._token = uuid.uuid4().hex[:8]
        self._running = False
        self._saved_environ: dict[str, str] | None = None
        self._mock: Any = None
        self._uninstall_patches: Any = None
        self._server: HttpApiServer | None = None
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._resolver: Resolver | None = None
        self._dispatcher: Dispatcher | None = None
        self._outbox: Outbox | None = None
        self.provisioned: ProvisionResult | None = None
        self.sign_in: SignIn | None = None
        """The user pool's hosted sign-in and personas, served on the stack's URL (:mod:`.sign_in`)."""
        self.authorizer: iam.Authorizer | None = None
        """Decides every AWS call a function makes, by its role in the template (:mod:`.iam`)."""

    # ----- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        if self._running:
            raise RuntimeError("the stack is already running")
        self._saved_environ = dict(os.environ)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._running = True
        account_id = self._start_aws()
        routes = RouteTable()
        self._server = HttpApiServer(routes, self.clock, account_id, port=self.port)  # binds: the URL is known
        self._resolver = Resolver(
            self.template, self._parameter_values(self._server.url), self.region, account_id, self.stack_name
        )
        self.provisioned = Provisioner(self.client, self._resolver).provision()
        self._outbox = Outbox(
            self.outbox_dir,
            account_id,
            self.region,
            self.clock.now,
            ses_events=SesEventPublisher.from_template(self._resolver, self.client("sns"), self.clock.now),
        )
        self._outbox.prepare()
        self._populate_directory()
        self._start_functions(routes)
        self.sign_in = self._sign_in()
        self._server.fallback = lambda request: (
            self.sign_in.respond(request.method, request.target, request.body) if self.sign_in else None
        )
        self._server.start()
        log.info(
            "local stack up at %s (%d resources, %d skipped)",
            self.base_url,
            len(self.provisioned.physical),
            len(self.provisioned.skipped),
        )

    def _user_pools(self) -> list[str]:
        resolver = self._require(self._resolver)
        return [
            resolver.physical[logical_id].ref
            for logical_id in self.template.resources_of_type("AWS::Cognito::UserPool")
            if logical_id in resolver.physical
        ]

    def _populate_directory(self) -> None:
        """The user pool's people (:mod:`.directory`): the personas of routing.toml, in their groups."""
        pools = self._user_pools()
        if not pools:
            return
        resolver = self._require(self._resolver)
        client = self.client("cognito-idp")
        try:
            from npsloop.domain.alerts import load_routing

            personas = personas_from_routing(load_routing())
        except ImportError:
            personas = []
        people: dict[str, tuple[str, set[str]]] = {}
        for persona in personas:  # one user per subject, in every group of their personas
            if persona.email:
                people.setdefault(persona.subject, (persona.email, set()))[1].update(persona.groups)
        for pool_id in pools:
            directory.create_pool(client, resolver.account_id, self.region, pool_id, f"{self.stack_name}-people")
            for subject, (email, groups) in people.items():
                directory.add_person(
                    client, resolver.account_id, self.region, pool_id,
                    subject=subject, email=email, groups=sorted(groups),
                )  # fmt: skip

    def add_person(
        self, subject: str, email: str, groups: Iterable[str], locale: str | None = None, zoneinfo: str | None = None
    ) -> None:
        """Add someone to the user pool's directory (an admin creating a user and adding them to groups)."""
        (pool_id,) = self._user_pools()
        directory.add_person(
            self.client("cognito-idp"), self._require(self._resolver).account_id, self.region, pool_id,
            subject=subject, email=email, groups=groups, locale=locale, zoneinfo=zoneinfo,
        )  # fmt: skip

    def _sign_in(self) -> SignIn | None:
        """The user pool's hosted sign-in played locally, for the JWT authorizer's issuer and audience."""
        authorizers = [a for a in self.jwt_authorizers.values() if a.issuer and a.audiences]
        if not authorizers:
            return None
        resolver = self._require(self._resolver)
        issuer, client_id = authorizers[0].issuer, authorizers[0].audiences[0]
        callbacks = [f"{self.base_url}/auth/callback"]
        logouts: list[str] = []
        for logical_id, resource in self.template.resources_of_type("AWS::Cognito::UserPoolClient").items():
            if logical_id in resolver.physical and resolver.physical[logical_id].ref == client_id:
                props = resource.get("Properties") or {}
                callbacks = [str(url) for url in resolver.resolve(props.get("CallbackURLs", []))]
                logouts = [str(url) for url in resolver.resolve(props.get("LogoutURLs", []))]
        try:
            from npsloop.domain.alerts import load_routing

            personas = personas_from_routing(load_routing())
        except ImportError:  # a template without the npsloop package: no personas, the pages still answer
            personas = []
        return SignIn(
            issuer, client_id, tuple(callbacks), personas, self.clock.now, self.base_url, probe=self._probe,
            logout_urls=tuple(logouts),
        )  # fmt: skip

    def _probe(self, path: str, token: str) -> tuple[int, Any]:
        """GET a route of this stack with a bearer token, in process: (status, JSON body)."""
        server = self._require(self._server)
        request = HttpRequest(
            "GET", path, "HTTP/1.1", [("Authorization", f"Bearer {token}")], b"", "127.0.0.1", server.port
        )
        status, _headers, body = server.respond(request)
        try:
            return status, json.loads(body or b"{}")
        except ValueError:
            return status, {}

    def _start_aws(self) -> str:
        """moto's patches, fake credentials and moto; returns moto's account id."""
        self._uninstall_patches = moto_patches.install(self.clock, self._on_events_accepted)
        self._set_environ(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                **FAKE_CREDENTIALS,
            }
        )
        self._mock = mock_aws()
        self._mock.start()
        ses_sending.install()
        self._session = _new_session(self.region)
        return str(self.client("sts").get_caller_identity()["Account"])

    def _start_functions(self, routes: RouteTable) -> None:
        """Resolve the functions, set their environment before any handler import, wire their events."""
        outbox = self._require(self._outbox)
        resolver = self._require(self._resolver)
        self.authorizer = iam.Authorizer(
            iam.build_roles(iam.translate(self.template.path), resolver, self.stack_name),
            resolver.account_id,
            self.region,
            iam.MotoLookups(resolver.account_id, self.region),
        )
        iam.install_hooks()
        iam.activate(self.authorizer)
        self._dispatcher = Dispatcher(
            resolver,
            self.clock,
            self.client,
            f"npsloop_local_fn_{self._token}",
            outbox.collect,
            routes=routes,
            batching_windows=self.batching_windows,
            authorizer=self.authorizer,
        )
        self._dispatcher.load_functions()
        if self.logs_dir is not None:
            function_logs.install(self.logs_dir)
        self._set_environ(local_endpoints(self._dispatcher.environment(), self.base_url))
        self._reset_app(self.clock)
        self._dispatcher.wire_routes()
        self._dispatcher.wire_event_sources()

    def _parameter_values(self, base_url: str) -> dict[str, Any]:
        overrides = dict(self.parameters)
        if "PublicBaseUrl" in self.template.parameters and "PublicBaseUrl" not in overrides:
            overrides["PublicBaseUrl"] = base_url
        return self.template.parameter_values(overrides)

    def stop(self) -> None:
        """Stop serving, unload the handlers, restore the environment and the app's clock."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._dispatcher is not None:
            self._dispatcher.unload()
        if self.authorizer is not None:
            iam.activate(None)
            self.authorizer.write_usage()
            self.authorizer = None
        if self._uninstall_patches is not None:
            # Process-wide state is ours only if the patches were: a second stack is refused by them.
            function_logs.uninstall()
            self._reset_app(None)
            self._uninstall_patches()
            self._uninstall_patches = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            self._saved_environ = None
        with self._clients_lock:
            self._clients.clear()
            self._session = None  # clients made after stop would reach real AWS
        self._running = False

    @staticmethod
    def _set_environ(values: Mapping[str, str]) -> None:
        for name in SHADOWED:
            os.environ.pop(name, None)
        os.environ.update(values)

    @staticmethod
    def _reset_app(clock: Clock | None) -> None:
        """Point the app at our clock (or back to the system's) and forget its cold-start caches."""
        try:
            from npsloop import clock as app_clock
        except ImportError:
            return
        app_clock.install(clock)
        try:
            from npsloop import wiring
        except ImportError:
            return
        reset = getattr(wiring, "reset", None)
        if callable(reset):
            reset()

    def _on_events_accepted(self, account_id: str, region: str, entries: list[Any]) -> None:
        if self._dispatcher is not None:
            self._dispatcher.router.on_accepted(account_id, region, entries)

    # ----- introspection ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, where the HTTP API's routes are served."""
        return self._require(self._server).url

    @property
    def outputs(self) -> dict[str, Any]:
        """The template's Outputs, resolved (outputs whose Condition is false are left out)."""
        resolver = self._require(self._resolver)
        values = {}
        for name, output in self.template.outputs.items():
            if "Condition" in output and not resolver.condition(output["Condition"]):
                continue
            values[name] = resolver.resolve(output["Value"])
        return values

    def physical_id(self, logical_id: str) -> str:
        """What ``!Ref logical_id`` gives: a table name, a queue URL, a topic ARN, a function name..."""
        return self._require(self._resolver).physical[logical_id].ref

    def attribute(self, logical_id: str, attribute: str) -> Any:
        """What ``!GetAtt logical_id.attribute`` gives."""
        return self._require(self._resolver).physical[logical_id].get_att(attribute)

    @property
    def routes(self) -> list[str]:
        """The HTTP API's route keys, e.g. ``GET /r/{token}``."""
        return self._require(self._dispatcher).routes.keys()

    @property
    def jwt_authorizers(self) -> dict[str, JwtAuthorizer]:
        """The JWT authorizers guarding routes, by route key (``GET /api/cases`` ...)."""
        return {
            route.route_key: route.authorizer
            for route in self._require(self._dispatcher).routes.routes
            if route.authorizer is not None
        }

    def dev_token(
        self,
        subject: str = "dev-user",
        email: str | None = None,
        groups: Iterable[str] = (),
        ttl: timedelta = auth.DEFAULT_TTL,
        **claims: Any,
    ) -> str:
        """A dev token the guarded routes accept: issuer and audience from the template, times from the clock.

        Never valid in AWS (see :mod:`.auth`). Extra keyword arguments become extra claims.
        """
        authorizers = [a for a in self.jwt_authorizers.values() if a.issuer]
        issuer = authorizers[0].issuer if authorizers else auth.DEFAULT_ISSUER
        audience = authorizers[0].audiences[0] if authorizers and authorizers[0].audiences else auth.DEFAULT_AUDIENCE
        return auth.dev_token(
            subject, email, groups, issuer=issuer, audience=audience, ttl=ttl, now=self.clock.now(), extra_claims=claims
        )

    @property
    def rules(self) -> list[EventRule]:
        return list(self._require(self._dispatcher).rules)

    @property
    def functions(self) -> list[str]:
        return list(self._require(self._dispatcher).functions)

    @property
    def skipped(self) -> dict[str, str]:
        """Resources not created in moto: logical id -> type."""
        return dict(self._require(self.provisioned).skipped)

    @property
    def dispatcher(self) -> Dispatcher:
        return self._require(self._dispatcher)

    def handler_module(self, logical_id: str) -> ModuleType:
        """The function's handler module (imported on first use), e.g. to inspect toy handlers."""
        return self.dispatcher.function(logical_id).module()

    def client(self, service: str) -> Any:
        """A boto3 client (answered by moto) for this stack's region."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self._require(self._session).client(service, region_name=self.region)
            return self._clients[service]

    # ----- doing --------------------------------------------------------------------------------

    def put_events(self, entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """EventBridge PutEvents: returns ``{"FailedEntryCount", "Entries"}``; matching rules run at ``drain()``."""
        response = self.client("events").put_events(Entries=[dict(entry) for entry in entries])
        return {"FailedEntryCount": response["FailedEntryCount"], "Entries": response["Entries"]}

    def drain(self) -> None:
        """Run every due invocation, stream batch, SNS delivery and schedule; step a manual clock through retries."""
        self.dispatcher.drain()
        self._require(self._outbox).collect()

    def fire_schedules(self) -> int:
        """Queue the invocations of schedules that are due (``drain()`` runs them); return how many fired."""
        return self.dispatcher.fire_schedules()

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Synchronous invocation: the handler's return value (its exception propagates)."""
        return self.dispatcher.function(logical_id).invoke(event)

    @property
    def outbox(self) -> list[Path]:
        """The ``.eml`` files of the emails sent so far, oldest first."""
        return self._require(self._outbox).paths

    def outbox_messages(self) -> list[EmailMessage]:
        """The emails sent so far, parsed."""
        return self._require(self._outbox).messages()

    def dead_letters(self, logical_queue_id: str) -> list[Any]:
        """The messages waiting in a template queue (JSON bodies decoded); they stay in the queue."""
        sqs = self.client("sqs")
        url = self.physical_id(logical_queue_id)
        received: list[dict[str, Any]] = []
        while True:
            page = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            if not page.get("Messages"):
                break
            received.extend(page["Messages"])
        for message in received:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        return [_decode(message["Body"]) for message in received]

    @staticmethod
    def _require(value: T | None) -> T:
        if value is None:
            raise RuntimeError("the local stack is not running: call start() or use it as a context manager")
        return value


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def _new_session(region: str) -> boto3.session.Session:
    """A fresh boto3 session whose service models come from a loader shared by every stack.

    Parsing botocore's JSON models is most of a stack's start-up time; the models never change.
    """
    core = botocore.session.get_session()
    loader = _shared_loader()
    core.register_component("data_loader", loader)
    session = boto3.session.Session(botocore_session=core, region_name=region)
    loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))  # boto3 appends its path each time
    return session


def _decode(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def _system_clock() -> Clock:
    try:
        from npsloop.clock import SystemClock
    except ImportError:
        from datetime import UTC

        class _Utc:
            def now(self) -> datetime:
                return datetime.now(UTC)

        return _Utc()
    return SystemClock()
