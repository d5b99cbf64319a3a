"""IAM in the local stack: every AWS call a function makes is checked against its own execution role.

moto enforces no IAM by default, so a function whose role lacks ``dynamodb:PutItem`` passes here
and fails on AWS. moto's own access-control mode does not fit a whole stack in one process: it
authenticates by access key (all our functions share one process and one set of credentials),
and it authorises DynamoDB, SNS, SES and EventBridge calls against the resource ``*`` (only SQS and
S3 name theirs). So the local stack does it in three parts:

1. **Who calls.** :meth:`Authorizer.acting_as` marks the thread running a function's handler (the
   dispatcher wraps every invocation in it). Calls made outside any handler - the tests, the
   stack's own provisioning, the Lambda service's side - are not checked, as an administrator's.
2. **What the call needs.** :mod:`.iam_requests` names the actions and resource ARNs IAM checks
   for the call, from its parameters, as the AWS documentation describes.
3. **Whether the role allows it.** The role is the one SAM generates, from the template *as SAM
   translates it* (samtranslator: policy templates such as ``SQSSendMessagePolicy`` expanded,
   destinations' policies added), with ``Ref``/``GetAtt``/``Sub`` resolved by the stack's resolver
   to the emulated resources' ARNs. Each statement is matched with moto's own evaluator
   (``moto.iam.access_control.IAMPolicyStatement``); an explicit deny wins over any allow, and
   nothing is allowed that no statement allows.

A denied call fails inside botocore as AWS fails it: the service's own error (``AccessDeniedException``
for DynamoDB, ``AuthorizationError`` for SNS...) raised by the client as a ``ClientError``, before
the request reaches moto.

The AWS managed policies SAM attaches (basic execution, X-Ray, DynamoDB stream reading) are known
by their documents below; any other managed policy fails the stack's start, as unknown.

Every allowed call is recorded against the statements that allowed it, so ``tools/iam_report.py``
can list what a role allows that no test exercised (set ``NPSLOOP_IAM_USAGE`` to a file).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.handlers
from botocore.awsrequest import AWSResponse
from moto.iam.access_control import IAMPolicyStatement, PermissionResult

from .iam_requests import Needed, RequestContext, UnknownRequestError, needed_for
from .template import Resolver, TemplateError

__all__ = [
    "AccessDenied",
    "Authorizer",
    "Role",
    "Statement",
    "install_hooks",
    "translate",
]

log = logging.getLogger(__name__)

USAGE_ENV = "NPSLOOP_IAM_USAGE"
_CONTEXT_KEY = "npsloop_local_iam"
_HOOK_ID = "npsloop-local-iam"

# The documents of the AWS managed policies SAM attaches to function roles (IAM console, 2026).
MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ]
    },
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
                "Resource": ["*"],
            }
        ]
    },
    # SAM attaches it to a function with an SQS event (the poller's side: Lambda receives and deletes).
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            }
        ]
    },
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            }
        ]
    },
}

# The error each service returns for a denied call (code, HTTP status).
DENIAL_CODES: dict[str, tuple[str, int]] = {
    "dynamodb": ("AccessDeniedException", 400),
    "events": ("AccessDeniedException", 400),
    "secretsmanager": ("AccessDeniedException", 400),
    "kms": ("AccessDeniedException", 400),
    "ssm": ("AccessDeniedException", 400),
    "sesv2": ("AccessDeniedException", 403),
    "ses": ("AccessDenied", 403),
    "sqs": ("AccessDenied", 403),
    "s3": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "cloudwatch": ("AccessDenied", 403),
}


# ----- the template as SAM translates it ---------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _translate_text(text: str) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")  # the translator wants one; it calls nothing
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class _NoManagedPolicyNames:
        def load(self) -> dict[str, str]:
            return {}

    template = yaml_parse(text)
    places = [resource.get("Properties") or {} for resource in template.get("Resources", {}).values()]
    places += [section for section in (template.get("Globals") or {}).values() if isinstance(section, dict)]
    for props in places:
        for key in ("CodeUri", "ContentUri"):
            if key in props:  # sam deploy uploads the code; where it lives does not change any role
                props[key] = "s3://artifacts/code.zip"
    return transform(template, {}, _NoManagedPolicyNames())


def translate(template_path: str | Path) -> dict[str, Any]:
    """The CloudFormation template SAM makes of ``template_path`` (cached by content).

    A template SAM cannot translate would not deploy either: the stack refuses it with SAM's reasons.
    """
    from samtranslator.model.exceptions import InvalidDocumentException

    try:
        return _translate_text(Path(template_path).read_text(encoding="utf-8"))
    except InvalidDocumentException as error:
        reasons = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"SAM cannot translate {template_path}: {reasons}") from None


def function_roles(translated: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Function logical id -> (role logical id, role properties, unresolved) of the translated template."""
    resources = translated.get("Resources", {})
    roles = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        role_ref = (resource.get("Properties") or {}).get("Role")
        if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref:
            role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref["Fn::GetAtt"], list) else role_ref["Fn::GetAtt"]
            role_id = str(role_id).split(".")[0]
            if resources.get(role_id, {}).get("Type") == "AWS::IAM::Role":
                roles[logical_id] = (role_id, resources[role_id].get("Properties") or {})
                continue
        raise ValueError(f"{logical_id}: the local stack only knows roles the template defines (Role: {role_ref!r})")
    return roles


# ----- roles and statements ----------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One statement of one of a role's policies, resolved."""

    policy: str
    index: int
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    conditional: bool = False
    managed: bool = False

    def matches(self, action: str, resource: str) -> tuple[str, int] | None:
        """The action pattern and resource index that match, by moto's evaluator; None if none do."""
        for pattern in self.actions:
            for number, resource_pattern in enumerate(self.resources):
                element = "NotAction" if self.not_action else "Action"
                single = {"Effect": "Allow", element: pattern.lower(), "Resource": resource_pattern}
                if (
                    IAMPolicyStatement(single).is_action_permitted(action.lower(), resource)
                    is PermissionResult.PERMITTED
                ):
                    return pattern, number
        return None


@dataclass(frozen=True)
class Role:
    """A function's execution role."""

    function: str
    name: str
    caller_arn: str
    statements: tuple[Statement, ...]

    def decide(self, action: str, resource: str) -> tuple[bool, str, list[tuple[Statement, str, int]]]:
        """(allowed, reason, the statements that allowed it with the matching action pattern and resource)."""
        allowing: list[tuple[Statement, str, int]] = []
        for statement in self.statements:
            match = statement.matches(action, resource)
            if match is None:
                continue
            if statement.effect == "Deny":
                return False, "with an explicit deny in an identity-based policy", []
            if statement.conditional:
                continue  # an Allow whose condition the local stack cannot evaluate allows nothing
            allowing.append((statement, *match))
        if allowing:
            return True, "", allowing
        return False, f"because no identity-based policy allows the {action} action", []


def _statements(policy_name: str, document: Mapping[str, Any], *, managed: bool) -> list[Statement]:
    raw = document.get("Statement", [])
    raw = raw if isinstance(raw, list) else [raw]
    statements = []
    for index, statement in enumerate(raw):
        if "NotResource" in statement or "NotPrincipal" in statement:
            raise ValueError(f"{policy_name}: NotResource/NotPrincipal are not evaluated by the local stack")
        not_action = "NotAction" in statement
        actions = statement.get("NotAction" if not_action else "Action", [])
        resources = statement.get("Resource", [])
        statements.append(
            Statement(
                policy=policy_name,
                index=index,
                effect=str(statement.get("Effect", "Allow")),
                actions=tuple(actions if isinstance(actions, list) else [actions]),
                resources=tuple(str(r) for r in (resources if isinstance(resources, list) else [resources])),
                not_action=not_action,
                conditional="Condition" in statement,
                managed=managed,
            )
        )
    return statements


def build_roles(translated: Mapping[str, Any], resolver: Resolver, stack_name: str) -> dict[str, Role]:
    """Every function's role, resolved against the running stack's resources."""
    roles: dict[str, Role] = {}
    for function, (role_id, props) in function_roles(translated).items():
        if function not in resolver.physical:
            continue
        statements: list[Statement] = []
        for managed in resolver.resolve(props.get("ManagedPolicyArns", [])):
            arn = str(managed).replace("arn:aws-cn:", "arn:aws:").replace("arn:aws-us-gov:", "arn:aws:")
            if arn not in MANAGED_POLICIES:
                raise ValueError(f"{role_id}: managed policy {arn} is unknown to the local stack (npsloop_local.iam)")
            statements += _statements(arn, MANAGED_POLICIES[arn], managed=True)
        for policy in props.get("Policies", []):
            statements += _statements(policy["PolicyName"], resolver.resolve(policy["PolicyDocument"]), managed=False)
        role_name = f"{stack_name}-{role_id}"
        function_name = resolver.physical[function].ref
        roles[function] = Role(
            function=function,
            name=role_name,
            caller_arn=f"arn:aws:sts::{resolver.account_id}:assumed-role/{role_name}/{function_name}",
            statements=tuple(statements),
        )
    return roles


# ----- denials -----------------------------------------------------------------------------------


class AccessDenied(Exception):
    """A call the caller's role does not allow (raised where the local stack itself acts for a function)."""

    def __init__(self, role: Role, action: str, resource: str, reason: str) -> None:
        super().__init__(
            f"User: {role.caller_arn} is not authorized to perform: {action} on resource: {resource} {reason}"
        )
        self.role = role
        self.action = action
        self.resource = resource

    def response(self, service: str) -> tuple[AWSResponse, dict[str, Any]]:
        """What botocore would have parsed from AWS's reply: the client raises it as the service's error."""
        code, status = DENIAL_CODES.get(service, ("AccessDeniedException", 403))
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-requestid": request_id}
        parsed = {
            "Error": {"Code": code, "Message": str(self), "Type": "Sender"},
            "ResponseMetadata": {
                "RequestId": request_id,
                "HTTPStatusCode": status,
                "HTTPHeaders": headers,
                "RetryAttempts": 0,
            },
        }
        return AWSResponse("https://local/", status, headers, None), parsed


# ----- the authorizer ----------------------------------------------------------------------------


@dataclass
class Authorizer:
    """Decides the calls of the running stack's functions and records what was allowed."""

    roles: dict[str, Role]
    account_id: str
    region: str
    lookups: Any
    used: set[tuple[str, str, int, str, int]] = field(default_factory=set)
    denied: list[AccessDenied] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        """Calls made on this thread inside the block are the function's (its role decides them)."""
        previous = getattr(self._local, "function", None)
        self._local.function = function
        try:
            yield
        finally:
            self._local.function = previous

    def current(self) -> Role | None:
        function = getattr(self._local, "function", None)
        return self.roles.get(function) if function else None

    def check(self, role: Role, needed: list[Needed]) -> AccessDenied | None:
        """None if the role allows every pair; otherwise the first denial (recorded)."""
        for action, resource in needed:
            allowed, reason, allowing = role.decide(action, resource)
            if not allowed:
                denial = AccessDenied(role, action, resource, reason)
                with self._lock:
                    self.denied.append(denial)
                log.warning("IAM (local): %s", denial)
                return denial
            with self._lock:
                for statement, pattern, resource_index in allowing:
                    self.used.add((role.function, statement.policy, statement.index, pattern, resource_index))
        return None

    def require(self, function: str, action: str, resource: str) -> None:
        """For what the Lambda service does with a function's role (destinations): raise if not allowed."""
        role = self.roles.get(function)
        if role is None:
            return
        denial = self.check(role, [(action, resource)])
        if denial is not None:
            raise denial

    def needed(self, service_prefix: str, operation: str, params: dict[str, Any], region: str | None) -> list[Needed]:
        context = RequestContext(self.account_id, region or self.region, self.lookups)
        return needed_for(service_prefix, operation, params, context)

    def write_usage(self) -> None:
        """Append what was allowed to ``$NPSLOOP_IAM_USAGE`` (JSON lines), for ``tools/iam_report.py``."""
        path = os.environ.get(USAGE_ENV)
        if not path or not self.used:
            return
        lines = [
            json.dumps(
                {"function": f, "policy": p, "statement": s, "action": a, "resource": r},
                separators=(",", ":"),
                sort_keys=True,
            )
            for f, p, s, a, r in sorted(self.used)
        ]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One write() on an O_APPEND descriptor: test processes running side by side (pytest-xdist) append
        # whole records, never interleaved halves (a buffered file may split a long text into several writes).
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, ("\n".join(lines) + "\n").encode("utf-8"))
        finally:
            os.close(descriptor)


# ----- botocore hooks ----------------------------------------------------------------------------

_active: Authorizer | None = None
_active_lock = threading.Lock()


def activate(authorizer: Authorizer | None) -> None:
    """Make ``authorizer`` decide every call made from a function's handler (None: stop deciding)."""
    global _active  # noqa: PLW0603
    with _active_lock:
        _active = authorizer


def _remember_params(params: dict[str, Any], model: Any, context: dict[str, Any] | None, **_: Any) -> None:
    authorizer = _active
    if authorizer is None or context is None:
        return
    role = authorizer.current()
    if role is not None:
        context[_CONTEXT_KEY] = (authorizer, role, json.loads(json.dumps(params, default=_opaque)))


def _opaque(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return repr(value)


def _decide(model: Any, context: dict[str, Any] | None, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    remembered = context.pop(_CONTEXT_KEY, None) if context else None
    if remembered is None:
        return None
    authorizer, role, params = remembered
    service_model = model.service_model
    prefix = service_model.signing_name or service_model.endpoint_prefix
    try:
        needed = authorizer.needed(prefix, model.name, params, context.get("client_region"))
    except UnknownRequestError as error:
        raise UnknownRequestError(f"{role.function}: {error}") from None
    denial = authorizer.check(role, needed)
    if denial is None:
        return None
    return denial.response(service_model.service_name)


HOOKS = (
    ("before-parameter-build", _remember_params),
    ("before-call", _decide),
)


def install_hooks() -> None:
    """Register the hooks on every botocore session made from now on, and on boto3's default session.

    They do nothing until :func:`activate` gives them an authorizer, and nothing for calls made
    outside a function's handler.
    """
    for spec in HOOKS:
        if spec not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(spec)
    import boto3

    default = boto3.DEFAULT_SESSION
    if default is not None:
        for event, handler in HOOKS:
            default._session.register(event, handler, unique_id=f"{_HOOK_ID}-{event}")


# ----- names moto knows --------------------------------------------------------------------------


@dataclass(frozen=True)
class MotoLookups:
    """Resolves the names a call uses to the ARNs IAM sees, from moto's state (no API calls)."""

    account_id: str
    region: str

    def topic_key_arn(self, topic_arn: str) -> str | None:
        """The ARN of the KMS key that encrypts the topic, if any."""
        from moto.sns.models import sns_backends

        topic = sns_backends[self.account_id][self.region].topics.get(topic_arn)
        key = getattr(topic, "kms_master_key_id", "") if topic is not None else ""
        return self.key_arn(key) if key else None

    def key_arn(self, key: str) -> str:
        from moto.kms.models import kms_backends

        try:
            return kms_backends[self.account_id][self.region].describe_key(key).arn
        except Exception:  # an unknown key is a resource no policy names
            return key if key.startswith("arn:") else f"arn:aws:kms:{self.region}:{self.account_id}:{key}"

    def secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        from moto.secretsmanager.models import secretsmanager_backends

        secrets = secretsmanager_backends[self.account_id][self.region].secrets
        secret = secrets.get(secret_id) if hasattr(secrets, "get") else None
        if secret is not None:
            return str(secret.arn)
        return f"arn:aws:secretsmanager:{self.region}:{self.account_id}:secret:{secret_id}"

    def sending_identity(self, address: str) -> str:
        """The SES identity a message from ``address`` is sent as: the address if verified, else its domain."""
        from moto.ses.models import ses_backends

        identities = ses_backends[self.account_id][self.region].email_identities
        if address in identities:
            return address
        return address.rpartition("@")[2].lower()
