"""IAM in the local stack: each function's calls are decided by its role, as SAM translates the template."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from npsloop_local import iam
from npsloop_local.stack import LocalStack
from tests.conftest import ROOT
from tests.integration.test_respond_handler import call
from tests.stack_support import sent_emails, tokens_in

TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/npsloop-dev"


def without(action: str, role: str) -> Any:
    """``iam.translate`` as SAM's, but with ``action`` taken out of ``role``'s inline policies."""
    real = iam.translate

    def translate(path):
        translated = copy.deepcopy(real(path))
        for policy in translated["Resources"][role]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                statement["Action"] = [a for a in actions if a != action] or ["none:None"]
        return translated

    return translate


@pytest.fixture
def stack_without_respond_put_item(clock, tmp_path, monkeypatch) -> Iterator[LocalStack]:
    monkeypatch.setattr(iam, "translate", without("dynamodb:PutItem", "RespondFunctionRole"))
    with LocalStack(template_path=ROOT / "template.yaml", clock=clock, outbox_dir=tmp_path / "outbox") as running:
        yield running


def test_without_put_item_the_respond_role_cannot_store_a_first_answer(stack_without_respond_put_item, event):
    # GIVEN the respond role as SAM translates it, less dynamodb:PutItem, and an invitation sent
    stack = stack_without_respond_put_item
    stack.invoke("InviteFunction", event("order-completed.json"))
    links, _ = tokens_in(sent_emails(stack)[0])

    # WHEN the customer answers for the first time
    # THEN the PutItem is refused as AWS refuses it: the handler fails (API Gateway's 500)
    with pytest.raises(Exception, match=r"AccessDeniedException.*PutItem"):
        call(stack, event, "respond-post.json", links[9])
    (denial,) = stack.authorizer.denied
    assert denial.action == "dynamodb:PutItem"
    assert denial.resource == TABLE_ARN
    assert "assumed-role/npsloop-local-RespondFunctionRole/npsloop-dev-respond" in str(denial)


def test_a_denied_call_fails_inside_botocore_with_the_services_own_error(stack):
    dynamodb = boto3.client("dynamodb")
    sns = boto3.client("sns")
    key = {"pk": {"S": "probe"}, "sk": {"S": "probe"}}
    topic = stack.outputs["AlertsTopicArn"]

    # GIVEN calls made as the respond function, whose role has no DeleteItem and no sns:Publish
    with stack.authorizer.acting_as("RespondFunction"):
        with pytest.raises(ClientError) as dynamodb_error:
            dynamodb.delete_item(TableName="npsloop-dev", Key=key)
        with pytest.raises(ClientError) as sns_error:
            sns.publish(TopicArn=topic, Message="hello")
        allowed = dynamodb.get_item(TableName="npsloop-dev", Key=key)

    # THEN each service answers with its own code, naming the action, the resource and the role
    assert dynamodb_error.value.response["Error"]["Code"] == "AccessDeniedException"
    assert dynamodb_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"dynamodb:DeleteItem on resource: {TABLE_ARN}" in str(dynamodb_error.value)
    assert sns_error.value.response["Error"]["Code"] == "AuthorizationError"
    assert "Item" not in allowed
    # AND the same calls outside any function (the tests' own, an administrator's) are not checked
    dynamodb.delete_item(TableName="npsloop-dev", Key=key)
    stack.authorizer.denied.clear()


def test_an_index_query_needs_the_index_in_the_roles_resources(stack):
    dynamodb = boto3.client("dynamodb")
    query = {
        "TableName": "npsloop-dev",
        "KeyConditionExpression": "#k = :v",
        "ExpressionAttributeValues": {":v": {"S": "x"}},
    }

    # GIVEN the cases role, which may query the work-due index (GSI4) only
    with stack.authorizer.acting_as("CasesFunction"):
        dynamodb.query(IndexName="GSI4", ExpressionAttributeNames={"#k": "gsi4pk"}, **query)
        with pytest.raises(ClientError) as error:
            dynamodb.query(IndexName="GSI3", ExpressionAttributeNames={"#k": "gsi3pk"}, **query)

    # THEN GSI3 is refused on its own ARN
    assert f"dynamodb:Query on resource: {TABLE_ARN}/index/GSI3" in str(error.value)
    stack.authorizer.denied.clear()


def test_a_transaction_needs_the_underlying_action_of_each_item(stack):
    dynamodb = boto3.client("dynamodb")
    items = [
        {
            "Update": {
                "TableName": "npsloop-dev",
                "Key": {"pk": {"S": "a"}, "sk": {"S": "a"}},
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"N": "1"}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "npsloop-dev",
                "Key": {"pk": {"S": "b"}, "sk": {"S": "b"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]

    # GIVEN the respond role: UpdateItem, but no ConditionCheckItem
    with stack.authorizer.acting_as("RespondFunction"), pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(TransactItems=items)

    # THEN the transaction is refused for the condition check, and nothing was written
    assert "dynamodb:ConditionCheckItem" in str(error.value)
    assert "Item" not in dynamodb.get_item(TableName="npsloop-dev", Key={"pk": {"S": "a"}, "sk": {"S": "a"}})
    stack.authorizer.denied.clear()


def test_publishing_to_the_encrypted_alerts_topic_needs_the_key_too(stack):
    # GIVEN the alert role as translated, and the same role less its KMS statement
    role = stack.authorizer.roles["AlertFunction"]
    no_kms = iam.Role(
        role.function,
        role.name,
        role.caller_arn,
        tuple(s for s in role.statements if not any(a.startswith("kms:") for a in s.actions)),
    )
    needed = stack.authorizer.needed("sns", "Publish", {"TopicArn": stack.outputs["AlertsTopicArn"]}, None)

    # THEN publishing needs the topic's key, which the real role allows and the other does not
    assert [action for action, _ in needed] == ["sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"]
    assert needed[1][1].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert stack.authorizer.check(role, needed) is None
    denial = stack.authorizer.check(no_kms, needed)
    assert denial is not None
    assert denial.action == "kms:GenerateDataKey"
    stack.authorizer.denied.clear()


def test_lambda_sends_a_functions_failure_record_with_the_functions_role(stack):
    # GIVEN the invite function's role (it may send to its own DLQ) and the score DLQ's ARN
    function_arn = stack.attribute("InviteFunction", "Arn")
    own = stack.attribute("InviteDeadLetterQueue", "Arn")
    other = stack.attribute("ScoreDeadLetterQueue", "Arn")

    # WHEN Lambda would deliver a failure record to each
    stack.dispatcher._authorize_destination(f"{function_arn}:$LATEST", "sqs:SendMessage", own)
    with pytest.raises(iam.AccessDenied) as error:
        stack.dispatcher._authorize_destination(f"{function_arn}:$LATEST", "sqs:SendMessage", other)

    # THEN only its own DLQ is allowed
    assert error.value.resource == other
    stack.authorizer.denied.clear()


def test_every_function_of_the_template_has_its_translated_role(stack):
    roles = stack.authorizer.roles
    assert set(roles) == set(stack.functions)
    respond = roles["RespondFunction"]
    # SAM's policy template for the link secret is expanded and resolved to the secret's ARN
    secret = stack.physical_id("LinkSigningSecret")
    allowed, _, _ = respond.decide("secretsmanager:GetSecretValue", secret)
    assert allowed
    assert not respond.decide("secretsmanager:GetSecretValue", stack.physical_id("PseudonymKeySecret"))[0]
