"""Amazon Cognito user pool: the people scheduled reports go to, with their groups (the sign-in directory).

The pool's groups are the roles (config/roles.toml: ``npsloop-cx-lead``, ``npsloop-region-<id>``,
``npsloop-store-<id>``...). One ``ListGroups`` and one ``ListUsersInGroup`` per group (both paged, 60
users a page) find everyone who holds a role, without listing the pool's other users. A person's
language and time zone are the standard attributes ``locale`` and ``zoneinfo`` when set (else the
planner takes their store's or region's from routing.toml); a user that is disabled or has no email is
left out. Two calls per group of up to 60 people: a run of 1,000 recipients in 30 groups makes about 50.
"""

from __future__ import annotations

from typing import Any

import boto3

from npsloop.domain.reports import Recipient
from npsloop.ports.reports import RecipientDirectory

GROUP_PREFIX = "npsloop-"  # every role's group (roles.toml); other groups of the pool are not ours
LANGUAGES = {"pl", "en"}


class CognitoDirectory(RecipientDirectory):
    def __init__(self, user_pool_id: str, client: Any | None = None) -> None:
        self._pool = user_pool_id
        self._client = client or boto3.client("cognito-idp")

    def recipients(self) -> list[Recipient]:
        people: dict[str, dict[str, Any]] = {}
        for group in self._groups():
            for user in self._users_in(group):
                if not user.get("Enabled", True):
                    continue
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                subject, email = attributes.get("sub"), attributes.get("email")
                if not subject or not email:
                    continue
                person = people.setdefault(subject, {"attributes": attributes, "groups": []})
                person["groups"].append(group)
        return [
            Recipient(
                subject=subject,
                email=person["attributes"]["email"],
                language=_language(person["attributes"].get("locale")),
                time_zone=person["attributes"].get("zoneinfo", ""),
                groups=tuple(sorted(person["groups"])),
            )
            for subject, person in sorted(people.items())
        ]

    def _groups(self) -> list[str]:
        names: list[str] = []
        request: dict[str, Any] = {"UserPoolId": self._pool, "Limit": 60}
        while True:
            page = self._client.list_groups(**request)
            names += [g["GroupName"] for g in page.get("Groups", []) if g["GroupName"].startswith(GROUP_PREFIX)]
            if not page.get("NextToken"):
                return names
            request["NextToken"] = page["NextToken"]

    def _users_in(self, group: str) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        request: dict[str, Any] = {"UserPoolId": self._pool, "GroupName": group, "Limit": 60}
        while True:
            page = self._client.list_users_in_group(**request)
            users += page.get("Users", [])
            if not page.get("NextToken"):
                return users
            request["NextToken"] = page["NextToken"]


def _language(locale: str | None) -> str:
    """``pl``, ``pl-PL``, ``en_GB`` -> the language; anything else -> "" (routing.toml decides)."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else ""
