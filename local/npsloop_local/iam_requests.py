"""What IAM authorises for one AWS call: the actions and the resource ARNs, as AWS evaluates them.

A call is allowed only if every ``(action, resource)`` pair it needs is allowed. Most calls need
one: ``dynamodb:GetItem`` on the table. Some need several, each as AWS documents it:

- ``TransactWriteItems`` needs the underlying ``PutItem``/``UpdateItem``/``DeleteItem``/
  ``ConditionCheckItem`` on each item's table, ``TransactGetItems`` needs ``GetItem`` ("Using IAM
  with DynamoDB transactions"); ``BatchGetItem``/``BatchWriteItem`` need themselves on every table;
  a ``Query``/``Scan`` of an index needs the index ARN (``table/T/index/I``).
- SESv2 ``SendEmail`` needs ``ses:SendEmail`` on the sending identity and on the configuration set.
- ``sns:Publish`` to a topic encrypted with a KMS key also needs ``kms:GenerateDataKey*`` and
  ``kms:Decrypt`` on that key, which SNS uses with the publisher's credentials.
- the SQS ``*Batch`` operations are authorised as their single-message action.

Services the local stack does not know raise :class:`UnknownRequestError` rather than pass
unchecked: the local stack must never be laxer than AWS by omission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

__all__ = ["Needed", "RequestContext", "UnknownRequestError", "needed_for"]

Needed = tuple[str, str]
"""``(action, resource ARN)``."""


class UnknownRequestError(RuntimeError):
    """The local stack cannot tell what IAM would authorise for this call."""


@dataclass(frozen=True)
class RequestContext:
    """Where the call goes and how to look up names moto knows (secrets, keys, identities)."""

    account_id: str
    region: str
    lookups: Any  # npsloop_local.iam.MotoLookups (kept loose: this module imports no moto)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id if account else ''}:{resource}"


# IAM's service prefix where it differs from botocore's signing name.
IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}

# Operations whose IAM action has another name.
ACTION_ALIASES = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "GetObjectAttributes"): "GetObject",
}

# Calls that no policy governs.
UNAUTHORISED = {("sts", "GetCallerIdentity")}


def needed_for(prefix: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    """The ``(action, resource)`` pairs IAM checks for ``operation`` with ``params``."""
    prefix = IAM_PREFIX.get(prefix, prefix)
    if (prefix, operation) in UNAUTHORISED:
        return []
    resolver = _RESOLVERS.get(prefix)
    if resolver is None:
        raise UnknownRequestError(
            f"the local stack does not know how IAM authorises {prefix}:{operation}; "
            "teach npsloop_local.iam_requests before a function calls it"
        )
    action = f"{prefix}:{ACTION_ALIASES.get((prefix, operation), operation)}"
    return resolver(action, operation, params, context)


# ----- per service -------------------------------------------------------------------------------


def _dynamodb(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    def table(name: str) -> str:
        return name if name.startswith("arn:") else context.arn("dynamodb", f"table/{name}")

    if operation == "TransactWriteItems":
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        needed = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                needed.append((f"dynamodb:{kinds[kind]}", table(body["TableName"])))
        return _unique(needed)
    if operation == "TransactGetItems":
        return _unique(
            ("dynamodb:GetItem", table(item["Get"]["TableName"])) for item in params.get("TransactItems", [])
        )
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return [(action, table(name)) for name in params.get("RequestItems", {})]
    if operation in {"ListTables", "DescribeLimits", "DescribeEndpoints"}:
        return [(action, "*")]
    if "TableName" in params:
        arn = table(params["TableName"])
        if params.get("IndexName"):
            arn = f"{arn}/index/{params['IndexName']}"
        return [(action, arn)]
    if "StreamArn" in params:
        return [(action, params["StreamArn"])]
    if "ResourceArn" in params:
        return [(action, params["ResourceArn"])]
    raise UnknownRequestError(f"no resource for {action}")


def _sqs(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    if "QueueUrl" in params:
        account, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
        return [(action, f"arn:aws:sqs:{context.region}:{account}:{name}")]
    if "QueueName" in params:
        account = params.get("QueueOwnerAWSAccountId") or context.account_id
        return [(action, f"arn:aws:sqs:{context.region}:{account}:{params['QueueName']}")]
    return [(action, "*")]


def _sns(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    topic = params.get("TopicArn") or params.get("TargetArn")
    if not topic:
        return [(action, "*")]
    needed = [(action, topic)]
    if action == "sns:Publish":
        key = context.lookups.topic_key_arn(topic)
        if key:
            needed += [("kms:GenerateDataKey", key), ("kms:Decrypt", key)]
    return needed


def _ses(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    if operation not in {"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkEmail", "SendBulkTemplatedEmail"}:
        if "ConfigurationSetName" in params:
            return [(action, context.arn("ses", f"configuration-set/{params['ConfigurationSetName']}"))]
        return [(action, "*")]
    sender = params.get("FromEmailAddress") or params.get("Source") or ""
    if not sender and "RawMessage" in params:
        sender = _raw_from(params["RawMessage"])
    identity = context.lookups.sending_identity(parseaddr(sender)[1])
    needed = [(action, context.arn("ses", f"identity/{identity}"))]
    if params.get("ConfigurationSetName"):
        needed.append((action, context.arn("ses", f"configuration-set/{params['ConfigurationSetName']}")))
    return needed


def _raw_from(raw: dict[str, Any]) -> str:
    data = raw.get("Data", b"")
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    for line in text.split("\n"):
        if not line.strip():
            break
        if line.lower().startswith("from:"):
            return line[5:].strip()
    return ""


def _events(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    def bus(name: str | None) -> str:
        name = name or "default"
        return name if name.startswith("arn:") else context.arn("events", f"event-bus/{name}")

    if operation == "PutEvents":
        return _unique((action, bus(entry.get("EventBusName"))) for entry in params.get("Entries", []))
    if "EventBusName" in params:
        return [(action, bus(params["EventBusName"]))]
    return [(action, "*")]


def _s3(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    bucket = params.get("Bucket")
    if not bucket:
        return [(action, "*")]
    if operation == "DeleteObjects":
        keys = [item["Key"] for item in params.get("Delete", {}).get("Objects", [])]
        return _unique((action, f"arn:aws:s3:::{bucket}/{key}") for key in keys)
    if "Key" in params:
        return [(action, f"arn:aws:s3:::{bucket}/{params['Key']}")]
    return [(action, f"arn:aws:s3:::{bucket}")]


def _secretsmanager(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    secret = params.get("SecretId")
    if not secret:
        return [(action, "*")]
    return [(action, context.lookups.secret_arn(secret))]


def _kms(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    key = params.get("KeyId")
    return [(action, context.lookups.key_arn(key) if key else "*")]


def _ssm(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    names = [params["Name"]] if "Name" in params else list(params.get("Names", []))
    if not names:
        return [(action, "*")]
    return [(action, context.arn("ssm", f"parameter/{name.lstrip('/')}")) for name in names]


def _cognito_idp(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    pool = params.get("UserPoolId")
    return [(action, context.arn("cognito-idp", f"userpool/{pool}") if pool else "*")]


def _star(action: str, operation: str, params: dict[str, Any], context: RequestContext) -> list[Needed]:
    return [(action, "*")]


_RESOLVERS: dict[str, Callable[[str, str, dict[str, Any], RequestContext], list[Needed]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sns": _sns,
    "ses": _ses,
    "events": _events,
    "s3": _s3,
    "secretsmanager": _secretsmanager,
    "kms": _kms,
    "ssm": _ssm,
    "cognito-idp": _cognito_idp,
    "cloudwatch": _star,  # PutMetricData and friends take no resource
    "xray": _star,
    "sts": _star,
}


def _unique(pairs: Iterable[Needed]) -> list[Needed]:
    return list(dict.fromkeys(pairs))
