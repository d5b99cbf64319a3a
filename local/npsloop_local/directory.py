"""The user pool's directory, locally: moto's Cognito user pool holding the personas as users in groups.

The template's ``AWS::Cognito::UserPool`` is otherwise skipped (the stack plays the hosted sign-in
itself, :mod:`.sign_in`) under a Cognito-shaped placeholder id. What reads the pool's users
(the report planner's ``ListGroups`` / ``ListUsersInGroup``) needs a pool that answers: so the stack
creates one in moto, moves it to the placeholder id (moto picks its own), and adds each persona of
routing.toml as a user with their groups. A user's ``sub`` is the persona's subject, as the local
sign-in's tokens say (in AWS, routing.toml's person ids are the people's ``sub``). Tests add more
people with :func:`add_person`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["add_person", "create_pool"]


def _backend(account_id: str, region: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    return cognitoidp_backends[account_id][region]


def create_pool(client: Any, account_id: str, region: str, pool_id: str, name: str) -> None:
    """An empty pool in moto under ``pool_id`` (the id the template's resolver gave the UserPool)."""
    created = client.create_user_pool(PoolName=name)["UserPool"]["Id"]
    backend = _backend(account_id, region)
    pool = backend.user_pools.pop(created)
    pool.id = pool_id
    pool.arn = f"arn:aws:cognito-idp:{region}:{account_id}:userpool/{pool_id}"
    backend.user_pools[pool_id] = pool


def add_person(
    client: Any,
    account_id: str,
    region: str,
    pool_id: str,
    *,
    subject: str,
    email: str,
    groups: Iterable[str],
    locale: str | None = None,
    zoneinfo: str | None = None,
) -> None:
    """A user (``sub`` = ``subject``) in each of ``groups``, creating a group the pool lacks."""
    attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    if locale:
        attributes.append({"Name": "locale", "Value": locale})
    if zoneinfo:
        attributes.append({"Name": "zoneinfo", "Value": zoneinfo})
    client.admin_create_user(UserPoolId=pool_id, Username=subject, UserAttributes=attributes, MessageAction="SUPPRESS")
    user = _backend(account_id, region).user_pools[pool_id].users[subject]
    user.id = subject
    user.update_attributes([{"Name": "sub", "Value": subject}])
    for group in groups:
        with contextlib.suppress(client.exceptions.GroupExistsException):
            client.create_group(UserPoolId=pool_id, GroupName=group)
        client.admin_add_user_to_group(UserPoolId=pool_id, Username=subject, GroupName=group)
