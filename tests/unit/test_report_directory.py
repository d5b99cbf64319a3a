"""The user pool as the reports' directory: the people in npsloop's groups, with their groups, language
and time zone (ListGroups + ListUsersInGroup, paged)."""

from __future__ import annotations

from npsloop.adapters.cognito_directory import CognitoDirectory


def user(sub, email=None, enabled=True, **attributes):
    pairs = {"sub": sub, **({"email": email} if email else {}), **attributes}
    return {"Username": sub, "Enabled": enabled, "Attributes": [{"Name": k, "Value": v} for k, v in pairs.items()]}


class Pool:
    """Cognito's answers, a page of two at a time (as NextToken pages do)."""

    def __init__(self, groups):
        self.groups = groups
        self.calls = []

    def _page(self, items, token, key):
        start = int(token or 0)
        page = {key: items[start : start + 2]}
        if start + 2 < len(items):
            page["NextToken"] = str(start + 2)
        return page

    def list_groups(self, UserPoolId, Limit, NextToken=None):
        self.calls.append(("ListGroups", UserPoolId))
        return self._page([{"GroupName": g} for g in self.groups], NextToken, "Groups")

    def list_users_in_group(self, UserPoolId, GroupName, Limit, NextToken=None):
        self.calls.append(("ListUsersInGroup", GroupName))
        return self._page(self.groups[GroupName], NextToken, "Users")


def test_everyone_in_npsloops_groups_once_with_all_their_groups():
    pool = Pool(
        {
            "npsloop-store-WAW-01": [user("a", "a@example.com", locale="pl-PL"), user("b", "b@example.com")],
            "npsloop-region-mazowieckie": [user("a", "a@example.com", locale="pl-PL", zoneinfo="Europe/Warsaw")],
            "npsloop-cx-lead": [user("c", "c@example.com", locale="en_GB"), user("d"), user("e", "e@x.com", False)],
            "marketing": [user("m", "m@example.com")],
        }
    )
    people = {p.subject: p for p in CognitoDirectory("eu-west-1_pool", client=pool).recipients()}
    assert sorted(people) == ["a", "b", "c"]  # no email: not a recipient; disabled: neither; other groups: not ours
    assert people["a"].groups == ("npsloop-region-mazowieckie", "npsloop-store-WAW-01")
    assert (people["a"].language, people["c"].language, people["b"].language) == ("pl", "en", "")
    assert ("ListUsersInGroup", "marketing") not in pool.calls
    assert pool.calls.count(("ListUsersInGroup", "npsloop-cx-lead")) == 2  # paged
