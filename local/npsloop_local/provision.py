"""Create, in moto, the resources a template declares, with the template's own properties.

Nothing here is a hand-written schema: each resource's Properties are resolved and handed to the
matching API call (create_table, create_queue, ...). What moto cannot do, or what has no effect
offline (log groups, alarms, IAM, the HTTP API, layers), is *skipped* but still gets plausible
physical ids so that ``!Ref`` / ``!GetAtt`` to it resolve. Serverless functions are not created
in moto either: the dispatcher runs them in-process; their Ref is their (resolved) FunctionName.

Resources are created in dependency order: a resource whose properties reference something not
yet created is retried after the others, until nothing moves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .template import (
    PhysicalResource,
    Resolver,
    TemplateError,
    UnresolvedReferenceError,
    scalar_to_string,
    truthy,
)

__all__ = ["ProvisionResult", "Provisioner"]

log = logging.getLogger(__name__)

# Types with no local effect. Their Ref is the named property if any, else the logical id.
SKIPPED_TYPES: dict[str, str] = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Lambda::Permission": "",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Serverless::HttpApi": "",
    "AWS::Serverless::Api": "",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::SES::ConfigurationSetEventDestination": "",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    # Sign-in: the local stack plays the user pool's hosted sign-in itself (local_sign_in.py), with
    # ids shaped like Cognito's so the authorizer's issuer and audience resolve as in AWS.
    "AWS::Cognito::UserPool": "",
    "AWS::Cognito::UserPoolClient": "",
    "AWS::Cognito::UserPoolDomain": "Domain",
    "AWS::Cognito::UserPoolGroup": "GroupName",
}


@dataclass
class ProvisionResult:
    """What provisioning did: the physical resources and the resource types it skipped."""

    physical: dict[str, PhysicalResource] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """logical id -> resource type, for resources not created in moto."""


@dataclass
class Provisioner:
    """Creates a template's resources through boto3 clients (which moto answers)."""

    client: Callable[[str], Any]
    """Returns a boto3 client (answered by moto) for a service name."""
    resolver: Resolver

    # ----- entry point ------------------------------------------------------------------------

    def provision(self) -> ProvisionResult:
        result = ProvisionResult(physical=self.resolver.physical)
        pending = {lid: res for lid, res in self.resolver.template.resources.items() if self._is_enabled(res)}
        while pending:
            created = self._provision_round(pending, result)
            if not created:
                raise TemplateError(f"cannot resolve references of: {self._blocked_report(pending)}")
            for logical_id in created:
                del pending[logical_id]
        self._verify_sender_identity()
        return result

    def _provision_round(self, pending: dict[str, dict[str, Any]], result: ProvisionResult) -> list[str]:
        created: list[str] = []
        for logical_id, resource in pending.items():
            if any(dep in pending for dep in _depends_on(resource)):
                continue
            try:
                physical = self._provision_one(logical_id, resource, result)
            except UnresolvedReferenceError as error:
                if error.logical_id in pending:
                    continue
                raise
            result.physical[logical_id] = physical
            created.append(logical_id)
        return created

    def _blocked_report(self, pending: dict[str, dict[str, Any]]) -> str:
        reports = []
        for logical_id, resource in pending.items():
            try:
                self._resolve(resource.get("Properties") or {})
            except UnresolvedReferenceError as error:
                reports.append(f"{logical_id} (needs {error.logical_id})")
            else:
                reports.append(logical_id)
        return ", ".join(reports)

    def _is_enabled(self, resource: dict[str, Any]) -> bool:
        condition = resource.get("Condition")
        return condition is None or self.resolver.condition(condition)

    def _provision_one(self, logical_id: str, resource: dict[str, Any], result: ProvisionResult) -> PhysicalResource:
        resource_type = resource.get("Type", "")
        creator = self._creators().get(resource_type)
        if creator is not None:
            physical = creator(logical_id, resource.get("Properties") or {})
            log.debug("provisioned %s (%s) -> %s", logical_id, resource_type, physical.ref)
            return physical
        result.skipped[logical_id] = resource_type
        return self._placeholder(logical_id, resource_type, resource.get("Properties") or {})

    def placeholders(self, type_prefix: str) -> None:
        """Record the skipped resources whose type starts with ``type_prefix`` without creating anything
        (``python -m npsloop_local token`` resolves the authorizer's issuer this way, with no stack)."""
        for logical_id, resource in self.resolver.template.resources.items():
            resource_type = resource.get("Type", "")
            if resource_type.startswith(type_prefix) and resource_type in SKIPPED_TYPES and self._is_enabled(resource):
                props = resource.get("Properties") or {}
                self.resolver.physical[logical_id] = self._placeholder(logical_id, resource_type, props)

    # ----- helpers ----------------------------------------------------------------------------

    def _resolve(self, value: Any) -> Any:
        return self.resolver.resolve(value)

    def _arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        region_part = self.resolver.region if region else ""
        account_part = self.resolver.account_id if account else ""
        return f"arn:aws:{service}:{region_part}:{account_part}:{resource}"

    def generated_name(self, logical_id: str, max_length: int = 80) -> str:
        """CloudFormation's naming for unnamed resources: ``{stack}-{logical id}-{random}``."""
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(12))
        head = f"{self.resolver.stack_name}-{logical_id}"[: max_length - 13]
        return f"{head}-{suffix}"

    def _creators(self) -> dict[str, Callable[[str, dict[str, Any]], PhysicalResource]]:
        return {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::TopicPolicy": self._topic_policy,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SES::ConfigurationSet": self._configuration_set,
            "AWS::SES::EmailIdentity": self._email_identity,
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::Glue::Database": self._glue_database,
            "AWS::Glue::Table": self._glue_table,
            "AWS::Athena::WorkGroup": self._athena_work_group,
            "AWS::Athena::NamedQuery": self._athena_named_query,
            "AWS::KMS::Key": self._kms_key,
            "AWS::KMS::Alias": self._kms_alias,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::Serverless::Function": self._function,
        }

    # ----- skipped / virtual resources --------------------------------------------------------

    def _placeholder(self, logical_id: str, resource_type: str, props: dict[str, Any]) -> PhysicalResource:
        name_property = SKIPPED_TYPES.get(resource_type, "")
        name = logical_id
        if name_property and name_property in props:
            try:
                name = str(self._resolve(props[name_property]))
            except UnresolvedReferenceError as error:
                if error.logical_id not in self.resolver.physical:
                    raise  # not created yet: provision() tries again after the others
                log.warning("%s: %s, so its name is its logical id", logical_id, error)
        if resource_type in {"AWS::Serverless::HttpApi", "AWS::Serverless::Api", "AWS::ApiGatewayV2::Api"}:
            api_id = fake_api_id(self.resolver.stack_name, logical_id)
            endpoint = f"https://{api_id}.execute-api.{self.resolver.region}.amazonaws.com"
            return PhysicalResource(logical_id, resource_type, api_id, {"ApiId": api_id, "ApiEndpoint": endpoint})
        if resource_type == "AWS::Cognito::UserPool":
            pool_id = f"{self.resolver.region}_{fake_api_id(self.resolver.stack_name, logical_id)[:9]}"
            arn = self._arn("cognito-idp", f"userpool/{pool_id}")
            url = f"https://cognito-idp.{self.resolver.region}.amazonaws.com/{pool_id}"
            return PhysicalResource(logical_id, resource_type, pool_id, {"Arn": arn, "ProviderURL": url})
        if resource_type == "AWS::Cognito::UserPoolClient":
            client_id = (fake_api_id(self.resolver.stack_name, logical_id) * 3)[:26]
            return PhysicalResource(logical_id, resource_type, client_id, {"ClientId": client_id})
        service = resource_type.split("::")[1].lower() if "::" in resource_type else "local"
        if resource_type == "AWS::Logs::LogGroup":
            arn = self._arn("logs", f"log-group:{name}:*")
        elif resource_type.endswith("LayerVersion"):
            arn = self._arn("lambda", f"layer:{name}:1")
            name = arn
        else:
            arn = self._arn(service, f"{logical_id}/{name}")
        return PhysicalResource(logical_id, resource_type, name, {"Arn": arn, "Name": name})

    def _function(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        merged = self.resolver.template.function_properties(logical_id)
        name = self._resolve(merged["FunctionName"]) if "FunctionName" in merged else None
        name = str(name or self.generated_name(logical_id, 64))
        arn = self._arn("lambda", f"function:{name}")
        return PhysicalResource(logical_id, "AWS::Serverless::Function", name, {"Arn": arn})

    # ----- DynamoDB ---------------------------------------------------------------------------

    def _table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        name = props.get("TableName") or self.generated_name(logical_id, 255)
        request: dict[str, Any] = {"TableName": name}
        for key in (
            "KeySchema",
            "AttributeDefinitions",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "BillingMode",
            "ProvisionedThroughput",
            "TableClass",
            "DeletionProtectionEnabled",
            "Tags",
        ):
            if key in props:
                request[key] = props[key]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": props["StreamSpecification"]["StreamViewType"],
            }
        if "SSESpecification" in props:
            request["SSESpecification"] = _sse_specification(props["SSESpecification"])
        ddb = self.client("dynamodb")
        description = ddb.create_table(**request)["TableDescription"]
        self._table_extras(name, props)
        attributes: dict[str, Any] = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes["StreamArn"] = description["LatestStreamArn"]
        return PhysicalResource(logical_id, "AWS::DynamoDB::Table", name, attributes)

    def _table_extras(self, name: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        ttl = props.get("TimeToLiveSpecification")
        if ttl and truthy(ttl.get("Enabled")):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and truthy(pitr.get("PointInTimeRecoveryEnabled")):
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )

    # ----- SQS / SNS ----------------------------------------------------------------------------

    def _queue(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        fifo = truthy(props.get("FifoQueue"))
        name = props.get("QueueName") or (self.generated_name(logical_id, 75) + (".fifo" if fifo else ""))
        attributes: dict[str, str] = {}
        for key, value in props.items():
            if key in {"QueueName", "Tags"}:
                continue
            attributes[key] = json.dumps(value) if isinstance(value, dict) else scalar_to_string(value)
        tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags", [])}
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=tags)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return PhysicalResource(logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        policy = json.dumps(props["PolicyDocument"])
        for url in props.get("Queues", []):
            self.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        return PhysicalResource(logical_id, "AWS::SQS::QueuePolicy", logical_id)

    def _topic(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        fifo = truthy(props.get("FifoTopic"))
        name = props.get("TopicName") or (self.generated_name(logical_id, 251) + (".fifo" if fifo else ""))
        attributes = {
            key: scalar_to_string(props[key])
            for key in (
                "DisplayName",
                "KmsMasterKeyId",
                "FifoTopic",
                "ContentBasedDeduplication",
                "SignatureVersion",
                "TracingConfig",
            )
            if key in props
        }
        if "ArchivePolicy" in props:
            attributes["ArchivePolicy"] = json.dumps(props["ArchivePolicy"])
        sns = self.client("sns")
        arn = sns.create_topic(Name=name, Attributes=attributes, Tags=props.get("Tags", []))["TopicArn"]
        for subscription in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
        return PhysicalResource(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})

    def _topic_policy(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        policy = json.dumps(props["PolicyDocument"])
        for arn in props.get("Topics", []):
            self.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
        return PhysicalResource(logical_id, "AWS::SNS::TopicPolicy", logical_id)

    def _subscription(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        attributes = {
            key: json.dumps(value) if isinstance(value, dict) else scalar_to_string(value)
            for key, value in props.items()
            if key not in {"TopicArn", "Protocol", "Endpoint", "Region"}
        }
        arn = self.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return PhysicalResource(logical_id, "AWS::SNS::Subscription", arn, {"Arn": arn})

    # ----- EventBridge ------------------------------------------------------------------------

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        request: dict[str, Any] = {"Name": props["Name"]}
        for key in ("Description", "KmsKeyIdentifier", "Tags", "EventSourceName"):
            if key in props:
                request[key] = props[key]
        arn = self.client("events").create_event_bus(**request)["EventBusArn"]
        return PhysicalResource(logical_id, "AWS::Events::EventBus", props["Name"], {"Arn": arn, "Name": props["Name"]})

    # ----- Secrets, KMS, SSM --------------------------------------------------------------------

    def _secret(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        name = props.get("Name") or self.generated_name(logical_id, 200)
        request: dict[str, Any] = {"Name": name}
        for key in ("Description", "KmsKeyId", "Tags"):
            if key in props:
                request[key] = props[key]
        if "SecretString" in props:
            request["SecretString"] = props["SecretString"]
        elif "GenerateSecretString" in props:
            request["SecretString"] = self._generate_secret_string(props["GenerateSecretString"])
        arn = self.client("secretsmanager").create_secret(**request)["ARN"]
        return PhysicalResource(logical_id, "AWS::SecretsManager::Secret", arn, {"Id": arn})

    def _generate_secret_string(self, spec: dict[str, Any]) -> str:
        """GenerateSecretString as Secrets Manager does it: a random password, maybe put into JSON."""
        options: dict[str, Any] = {"PasswordLength": int(spec.get("PasswordLength", 32))}
        for key in (
            "ExcludeCharacters",
            "ExcludeNumbers",
            "ExcludePunctuation",
            "ExcludeUppercase",
            "ExcludeLowercase",
            "IncludeSpace",
            "RequireEachIncludedType",
        ):
            if key in spec:
                options[key] = spec[key] if key == "ExcludeCharacters" else truthy(spec[key])
        password = self.client("secretsmanager").get_random_password(**options)["RandomPassword"]
        if "SecretStringTemplate" not in spec:
            return password
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        request: dict[str, Any] = {}
        for key in ("Description", "KeyUsage", "KeySpec", "Tags", "MultiRegion", "Origin"):
            if key in props:
                request[key] = props[key]
        if "KeyPolicy" in props:
            request["Policy"] = json.dumps(props["KeyPolicy"])
        kms = self.client("kms")
        metadata = kms.create_key(**request)["KeyMetadata"]
        if truthy(props.get("EnableKeyRotation")):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        if props.get("Enabled") is False:
            kms.disable_key(KeyId=metadata["KeyId"])
        return PhysicalResource(
            logical_id, "AWS::KMS::Key", metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}
        )

    def _kms_alias(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        self.client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        return PhysicalResource(logical_id, "AWS::KMS::Alias", props["AliasName"])

    def _ssm_parameter(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        name = props.get("Name") or self.generated_name(logical_id, 200)
        request = {"Name": name, "Value": scalar_to_string(props["Value"]), "Type": props.get("Type", "String")}
        for key in ("Description", "AllowedPattern", "Tier", "DataType"):
            if key in props:
                request[key] = props[key]
        self.client("ssm").put_parameter(**request)
        return PhysicalResource(
            logical_id, "AWS::SSM::Parameter", name, {"Type": request["Type"], "Value": request["Value"]}
        )

    # ----- SES and S3 ---------------------------------------------------------------------------

    def _configuration_set(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        name = props.get("Name") or self.generated_name(logical_id, 64)
        request: dict[str, Any] = {"ConfigurationSetName": name}
        for key in (
            "TrackingOptions",
            "DeliveryOptions",
            "ReputationOptions",
            "SendingOptions",
            "SuppressionOptions",
            "VdmOptions",
            "Tags",
        ):
            if key in props:
                request[key] = props[key]
        self.client("sesv2").create_configuration_set(**request)
        return PhysicalResource(logical_id, "AWS::SES::ConfigurationSet", name)

    def _email_identity(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        request: dict[str, Any] = {"EmailIdentity": props["EmailIdentity"]}
        if "ConfigurationSetAttributes" in props:
            request["ConfigurationSetName"] = props["ConfigurationSetAttributes"].get("ConfigurationSetName")
        self.client("sesv2").create_email_identity(**request)
        return PhysicalResource(logical_id, "AWS::SES::EmailIdentity", props["EmailIdentity"])

    def _verify_sender_identity(self) -> None:
        """moto refuses to send from unverified identities: verify the template's SenderIdentity."""
        identity = self.resolver.parameters.get("SenderIdentity")
        if not identity:
            return
        ses = self.client("ses")
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        name = props.get("BucketName") or self.generated_name(logical_id, 63).lower()
        request: dict[str, Any] = {"Bucket": name}
        if self.resolver.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.resolver.region}
        s3 = self.client("s3")
        s3.create_bucket(**request)
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        self._bucket_settings(s3, name, props)
        domain = f"{name}.s3.{self.resolver.region}.amazonaws.com"
        return PhysicalResource(
            logical_id,
            "AWS::S3::Bucket",
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": domain,
            },
        )

    def _bucket_settings(self, s3: Any, name: str, props: dict[str, Any]) -> None:
        """Encryption, public access block, ownership and lifecycle: stored by moto, read back by tests."""
        if "BucketEncryption" in props:
            rules = [_encryption_rule(rule) for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in props:
            block = {key: truthy(value) for key, value in props["PublicAccessBlockConfiguration"].items()}
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(rule) for rule in lifecycle["Rules"]]}
            )

    def _bucket_policy(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        document = dict(props["PolicyDocument"])
        # moto cannot evaluate conditions: it applies a Deny whatever its Condition says. A TLS-only
        # deny never matches boto3's https requests, so it is left out of what moto enforces.
        document["Statement"] = [s for s in document.get("Statement", []) if not _denies_plain_http(s)]
        if document["Statement"]:
            self.client("s3").put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(document))
        return PhysicalResource(logical_id, "AWS::S3::BucketPolicy", props["Bucket"])

    # ----- Glue and Athena (metadata only: moto runs no SQL) ----------------------------------

    def _glue_database(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        database = dict(props["DatabaseInput"])
        database.setdefault("Name", self.generated_name(logical_id, 200).lower().replace("-", "_"))
        self.client("glue").create_database(DatabaseInput=database)
        return PhysicalResource(logical_id, "AWS::Glue::Database", database["Name"])

    def _glue_table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        table = dict(props["TableInput"])
        table.setdefault("Name", self.generated_name(logical_id, 200).lower().replace("-", "_"))
        self.client("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=table)
        return PhysicalResource(logical_id, "AWS::Glue::Table", table["Name"])

    def _athena_work_group(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        request: dict[str, Any] = {"Name": props["Name"]}
        if "Description" in props:
            request["Description"] = props["Description"]
        if "WorkGroupConfiguration" in props:
            request["Configuration"] = props["WorkGroupConfiguration"]
        if props.get("Tags"):
            request["Tags"] = props["Tags"]
        self.client("athena").create_work_group(**request)
        return PhysicalResource(logical_id, "AWS::Athena::WorkGroup", props["Name"])

    def _athena_named_query(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        props = self._resolve(props)
        request = {
            key: props[key] for key in ("Name", "Description", "Database", "QueryString", "WorkGroup") if key in props
        }
        request.setdefault("Name", logical_id)
        query_id = self.client("athena").create_named_query(**request)["NamedQueryId"]
        return PhysicalResource(logical_id, "AWS::Athena::NamedQuery", query_id, {"NamedQueryId": query_id})


# ---------------------------------------------------------------------------------------------


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    return (
        statement.get("Effect") == "Deny"
        and list(condition) == ["Bool"]
        and list(condition["Bool"]) == ["aws:SecureTransport"]
        and str(condition["Bool"]["aws:SecureTransport"]).lower() == "false"
    )


def _encryption_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation says ServerSideEncryptionByDefault where the S3 API says ApplyServerSideEncryptionByDefault."""
    converted = {key: value for key, value in rule.items() if key != "ServerSideEncryptionByDefault"}
    if "ServerSideEncryptionByDefault" in rule:
        converted["ApplyServerSideEncryptionByDefault"] = rule["ServerSideEncryptionByDefault"]
    if "BucketKeyEnabled" in converted:
        converted["BucketKeyEnabled"] = truthy(converted["BucketKeyEnabled"])
    return converted


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape (the property names differ)."""
    converted: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule["Status"]}
    converted["Filter"] = {"Prefix": rule["Prefix"]} if "Prefix" in rule else {"Prefix": ""}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "NoncurrentVersionExpirationInDays" in rule:
        converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return converted


def fake_api_id(stack_name: str, logical_id: str) -> str:
    """A stable, API-Gateway-looking id (10 lowercase alphanumerics) for an HTTP API."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    alphabet = string.ascii_lowercase + string.digits
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:10])


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn") or []
    return [depends] if isinstance(depends, str) else list(depends)


def _sse_specification(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"Enabled": truthy(spec.get("SSEEnabled"))}
    if "SSEType" in spec:
        result["SSEType"] = spec["SSEType"]
    if "KMSMasterKeyId" in spec:
        result["KMSMasterKeyId"] = spec["KMSMasterKeyId"]
    return result
