"""Scope: what a caller's groups let it read (npsloop.domain.scope, config/roles.toml)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from npsloop.domain.alerts import load_routing
from npsloop.domain.scope import RolesConfigError, ScopeDenied, load_roles, parse_roles, scope_of

ROUTING = load_routing()
ROLES = load_roles()


def scope(*groups, subject="u-me"):
    return scope_of(subject, groups, ROLES, ROUTING)


def case(store=None, region=None, owner="u-owner", manager="u-boss"):
    return SimpleNamespace(
        store=store, region=region, owner=SimpleNamespace(id=owner), manager=SimpleNamespace(id=manager)
    )


def test_a_store_manager_reads_their_store_and_the_network_overall_and_nothing_else():
    krk = scope("npsloop-store-KRK-02")
    assert krk.may_read_store("KRK-02") and not krk.may_read_store("WAW-01")
    assert krk.score_groups("store", None) == {"KRK-02"}
    assert krk.score_groups("all", None) is None  # the network's average, to compare with
    with pytest.raises(ScopeDenied, match="'WAW-01' is outside your scope"):
        krk.score_groups("store", "WAW-01")
    with pytest.raises(ScopeDenied, match="group_by=channel spans every store"):
        krk.score_groups("channel", None)
    with pytest.raises(ScopeDenied, match="group_by=region"):
        krk.score_groups("region", None)


def test_a_regional_manager_reaches_the_region_and_the_stores_routing_places_in_it():
    south = scope("npsloop-region-malopolskie")
    assert south.regions == {"malopolskie"} and south.stores == {"KRK-02"}
    assert south.score_groups("region", "malopolskie") == {"malopolskie"}
    with pytest.raises(ScopeDenied):
        south.score_groups("region", "mazowieckie")
    assert south.may_read_case(case(store="KRK-09", region="malopolskie"))  # a store routing does not list
    assert south.may_read_case(case(store="KRK-02"))
    assert not south.may_read_case(case(store="WAW-01", region="mazowieckie"))


@pytest.mark.parametrize("groups", [("npsloop-admin",), ("npsloop-cx-lead",)])
def test_admin_and_cx_lead_read_everything_with_personal_data(groups):
    lead = scope(*groups)
    assert lead.score_groups("channel", None) is None and lead.case_visibility() is None
    assert lead.may_read_case(case(store="WAW-01")) and lead.may_see_personal_data(case(store="WAW-01"))


def test_an_analyst_reads_every_score_but_no_case_and_no_personal_data():
    analyst = scope("npsloop-analyst")
    assert analyst.score_groups("store", "WAW-01") is None
    assert not analyst.may_read_case(case(store="WAW-01"))
    assert not analyst.may_see_personal_data()
    assert analyst.case_visibility().stores == frozenset() and analyst.case_visibility().regions == frozenset()


def test_everyone_signed_in_owns_their_cases_and_nothing_more():
    owner = scope(subject="u-anna.nowak")
    assert owner.roles == () and not owner.reads_scores
    assert owner.may_read_case(case(owner="u-anna.nowak")) and owner.may_read_case(case(manager="u-anna.nowak"))
    assert owner.may_see_personal_data(case(owner="u-anna.nowak"))
    assert not owner.may_read_case(case(store="KRK-02", region="malopolskie"))
    with pytest.raises(ScopeDenied, match="needs a role with a store scope"):
        owner.score_groups("all", None)


@pytest.mark.parametrize(
    "groups",
    [("npsloop-store-",), ("npsloop-adminx",), ("xnpsloop-admin",), ("npsloop-store-a b",), ("NPSLOOP-ADMIN",)],
)
def test_groups_match_whole_names_or_a_prefix_and_a_valid_id(groups):
    nobody = scope(*groups)
    assert nobody.roles == () and not nobody.reads_scores


def test_roles_add_up():
    both = scope("npsloop-store-KRK-02", "npsloop-store-WAW-01", "npsloop-analyst")
    assert both.may_read_case(case(store="WAW-01")) and both.may_see_personal_data(case(store="WAW-01"))
    assert both.score_groups("channel", None) is None


def test_the_paging_fingerprint_changes_with_the_reach():
    assert scope("npsloop-store-KRK-02").fingerprint != scope("npsloop-store-WAW-01").fingerprint
    assert scope("npsloop-admin", subject="a").fingerprint == scope("npsloop-cx-lead", subject="b").fingerprint


BASE = {"schema_version": 1, "role": [{"name": "admin", "group": "npsloop-admin", "stores": "all", "cases": "all"}]}


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ({"name": "x", "stores": "all"}, "exactly one of group or group_prefix"),
        ({"name": "x", "group": "g", "stores": "store"}, "needs a group_prefix"),
        ({"name": "x", "group_prefix": "npsloop-", "stores": "store"}, "also matches"),
        ({"name": "x", "group": "g", "cases": "in-scope"}, "needs stores other than 'none'"),
        ({"name": "admin", "group": "g"}, "duplicate role names"),
        ({"name": "x", "group": "g", "stores": "everything"}, "stores"),
    ],
)
def test_a_bad_roles_file_names_what_is_wrong(role, message):
    with pytest.raises(RolesConfigError, match=message):
        parse_roles({**BASE, "role": [*BASE["role"], role]})
