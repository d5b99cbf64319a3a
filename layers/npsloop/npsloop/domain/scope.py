"""Who may see what: a caller's roles (from their groups) become one ``Scope``, and every route asks it.

The roles are data (``config/roles.toml``, validated on load; docs/roles.md): each maps a group - a
whole name such as ``npsloop-cx-lead``, or a prefix such as ``npsloop-store-`` whose rest names a
store or region of routing.toml - to what it grants:

- ``stores``: the scores and data of ``all`` stores, of the groups' ``region`` (its stores are the
  routing.toml ``[[store]]`` entries that name it), of the groups' ``store``, or ``none``;
- ``cases``: ``all`` cases, the cases ``in-scope`` (of those stores or regions), or ``none``;
- ``personal_data``: whether the cases it shows carry the customer's id and comment.

Everyone with a valid token also gets ``[signed_in]`` (by default: the cases they own or manage,
i.e. whose owner or manager id is their ``sub``). Roles add up; a group that matches no role grants
nothing. A region's stores are those routing.toml's ``[[store]]`` entries place in it: a regional
manager reads the region's own scores and cases (``region`` of the case) and those stores' scores.

Pure: no I/O beyond reading the file in ``load_roles``. One question, one method; the API routes,
the case service and (later) the pages ask only these.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from npsloop.domain.alerts import CONFIG_DIR, RoutingTable
from npsloop.domain.validation_errors import describe

DEFAULT_ROLES_FILE = CONFIG_DIR / "roles.toml"
OVERALL = "all"  # the network's overall score (npsloop.domain.aggregates.OVERALL)

GroupName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class RolesConfigError(ValueError):
    """roles.toml is invalid; the message names each offending field."""


class ScopeDenied(PermissionError):
    """The caller's scope does not reach what the request asks for; the message says why (403)."""


class StoreReach(StrEnum):
    ALL = "all"
    REGION = "region"
    STORE = "store"
    NONE = "none"


class CaseReach(StrEnum):
    ALL = "all"
    IN_SCOPE = "in-scope"
    OWN = "own"
    NONE = "none"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grant(_Config):
    stores: StoreReach = StoreReach.NONE
    cases: CaseReach = CaseReach.NONE
    personal_data: bool = False


class Role(Grant):
    name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9-]*$")]
    group: GroupName | None = None
    group_prefix: GroupName | None = None

    @model_validator(mode="after")
    def _one_way_to_match(self) -> Role:
        if (self.group is None) == (self.group_prefix is None):
            raise ValueError(f"role {self.name!r}: give exactly one of group or group_prefix")
        needs_value = self.stores in {StoreReach.REGION, StoreReach.STORE}
        if needs_value and self.group_prefix is None:
            raise ValueError(f"role {self.name!r}: stores = {self.stores.value!r} needs a group_prefix naming it")
        if self.group_prefix is not None and not needs_value:
            raise ValueError(f"role {self.name!r}: a group_prefix names a region or store: set stores accordingly")
        if self.cases is CaseReach.IN_SCOPE and self.stores is StoreReach.NONE:
            raise ValueError(f"role {self.name!r}: cases = 'in-scope' needs stores other than 'none'")
        if self.cases is CaseReach.OWN:
            raise ValueError(f"role {self.name!r}: cases = 'own' is what [signed_in] gives everyone")
        return self

    def value_of(self, group: str) -> str | None:
        """The region or store a prefix group names (None: this role does not match the group)."""
        if self.group is not None:
            return "" if group == self.group else None
        assert self.group_prefix is not None
        if not group.startswith(self.group_prefix):
            return None
        rest = group[len(self.group_prefix) :]
        return rest if _SEGMENT.match(rest) else None


class RolesConfig(_Config):
    schema_version: Literal[1]
    signed_in: Grant = Grant(cases=CaseReach.OWN, personal_data=True)
    role: Annotated[tuple[Role, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _distinct(self) -> RolesConfig:
        names = [r.name for r in self.role]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate role names {duplicates}")
        groups = [r.group for r in self.role if r.group]
        prefixes = [r.group_prefix for r in self.role if r.group_prefix]
        for prefix in prefixes:
            clash = [p for p in [*groups, *prefixes] if p != prefix and p.startswith(prefix)]
            if clash or prefixes.count(prefix) > 1:
                raise ValueError(f"group_prefix {prefix!r} also matches {clash or [prefix]}: each group names one role")
        if len(set(groups)) != len(groups):
            raise ValueError("each group names one role")
        if self.signed_in.stores is not StoreReach.NONE or self.signed_in.cases not in {CaseReach.OWN, CaseReach.NONE}:
            raise ValueError(
                "signed_in: gives at most the caller's own cases (stores = 'none', cases = 'own' or 'none')"
            )
        return self

    def groups_help(self) -> str:
        """The groups that grant something, for messages: ``npsloop-admin, npsloop-store-<store id>, ...``."""
        return ", ".join(r.group or f"{r.group_prefix}<{r.stores.value} id>" for r in self.role)


class CaseLike(Protocol):
    """What a scope needs to know of a case (``npsloop.domain.cases.Case`` has it)."""

    @property
    def store(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def owner(self) -> Any: ...
    @property
    def manager(self) -> Any: ...


@dataclass(frozen=True)
class CaseVisibility:
    """Which cases a non-global caller may list: their own (owner or manager), plus those of these stores
    and regions. The repositories filter on exactly this."""

    subject: str
    own: bool
    stores: frozenset[str]
    regions: frozenset[str]


@dataclass(frozen=True)
class Scope:
    """What one caller may read. Build it with ``scope_of``; ask it with the ``may_*`` methods."""

    subject: str
    roles: tuple[str, ...]
    all_stores: bool
    stores: frozenset[str]  # stores named by store groups, plus the stores of ``regions`` in routing.toml
    regions: frozenset[str]
    all_cases: bool
    cases_in_scope: bool
    own_cases: bool
    personal_data: bool  # in the data of the stores it reaches (comments, the cases of its stores)
    own_personal_data: bool  # in the cases the caller owns or manages
    groups_help: str = ""

    # -- stores, regions and scores --------------------------------------------------------------
    @property
    def reads_scores(self) -> bool:
        return self.all_stores or bool(self.stores or self.regions)

    def may_read_store(self, store: str) -> bool:
        return self.all_stores or store in self.stores

    def may_read_region(self, region: str) -> bool:
        return self.all_stores or region in self.regions

    def describe(self) -> str:
        """The caller's reach in words, for 403 reasons and empty states."""
        if self.all_stores:
            return "every store"
        parts = []
        if self.regions:
            parts.append("region " + ", ".join(sorted(self.regions)))
        if self.stores:
            parts.append("store " + ", ".join(sorted(self.stores)))
        return "; ".join(parts) or "no store (only the cases you own or manage)"

    def score_groups(self, dimension: str, value: str | None) -> frozenset[str] | None:
        """The groups of ``dimension`` the caller may read (None: all of them); ``ScopeDenied`` if none.

        The overall score (``all``) is the network's average: anyone with a store scope may read it, as
        the comparison for their own store or region. Another dimension (channel, ...) spans every store,
        so it needs the all-stores reach.
        """
        if not self.reads_scores:
            raise ScopeDenied(f"reading scores needs a role with a store scope (groups: {self.groups_help})")
        if self.all_stores or dimension == OVERALL:
            return None
        allowed = {"store": self.stores, "region": self.regions}.get(dimension)
        if allowed is None:
            raise ScopeDenied(
                f"group_by={dimension} spans every store; your scope is {self.describe()}: "
                "ask for group_by=store or group_by=region within it, or the overall score"
            )
        if not allowed:
            raise ScopeDenied(f"group_by={dimension}: your scope is {self.describe()}")
        if value is not None and value not in allowed:
            raise ScopeDenied(f"{dimension} {value!r} is outside your scope ({self.describe()})")
        return frozenset(allowed)

    # -- cases -----------------------------------------------------------------------------------
    @property
    def reads_cases(self) -> bool:
        return self.all_cases or self.cases_in_scope or self.own_cases

    def _owns(self, case: CaseLike) -> bool:
        return self.own_cases and self.subject in (case.owner.id, case.manager.id)

    def _reaches(self, case: CaseLike) -> bool:
        if self.all_cases:
            return True
        return self.cases_in_scope and (
            (case.store is not None and case.store in self.stores)
            or (case.region is not None and case.region in self.regions)
        )

    def may_read_case(self, case: CaseLike) -> bool:
        return self._reaches(case) or self._owns(case)

    def may_change_case(self, case: CaseLike) -> bool:
        """Whoever may read a case may work it: its owner, their manager, the store's or region's
        manager, a CX lead or an admin (an analyst reads no case)."""
        return self.may_read_case(case)

    def may_list_store_cases(self, store: str) -> bool:
        """A store or regional manager naming a store outside their reach is refused (a clear 403, not an
        empty list); a case owner with no store reach lists their own cases of any store."""
        if self.all_cases:
            return True
        if self.cases_in_scope:
            return store in self.stores
        return self.own_cases

    def case_visibility(self) -> CaseVisibility | None:
        """The filter a case list applies for this caller (None: every case)."""
        if self.all_cases:
            return None
        in_scope = self.cases_in_scope
        return CaseVisibility(
            subject=self.subject,
            own=self.own_cases,
            stores=self.stores if in_scope else frozenset(),
            regions=self.regions if in_scope else frozenset(),
        )

    def may_see_personal_data(self, case: CaseLike | None = None) -> bool:
        """Customer ids, comments and contact details - of this case, or (no case) in the data of the
        stores the caller reaches. Never for an analyst: their role reaches every store without it."""
        if case is None:
            return self.personal_data
        return (self.personal_data and self._reaches(case)) or (self.own_personal_data and self._owns(case))

    @property
    def fingerprint(self) -> str:
        """What a paging cursor is bound to: the same reach, or the cursor is refused."""
        if self.all_cases:
            return "*"
        return "|".join([self.subject, ",".join(sorted(self.stores)), ",".join(sorted(self.regions))])


def scope_of(subject: str, groups: Iterable[str], roles: RolesConfig, routing: RoutingTable) -> Scope:
    """The scope of a caller with these (whole) group names."""
    grants: list[Grant] = [roles.signed_in]
    names: list[str] = []
    stores: set[str] = set()
    regions: set[str] = set()
    for group in sorted(set(groups)):
        for role in roles.role:
            value = role.value_of(group)
            if value is None:
                continue
            if role.stores is StoreReach.REGION:
                regions.add(value)
            elif role.stores is StoreReach.STORE:
                stores.add(value)
            grants.append(role)
            names.append(role.name)
    stores |= {s.id for s in routing.store if s.region in regions}
    reaching = [g for g in grants if g is not roles.signed_in]
    return Scope(
        subject=subject,
        roles=tuple(dict.fromkeys(names)),
        all_stores=any(g.stores is StoreReach.ALL for g in grants),
        stores=frozenset(stores),
        regions=frozenset(regions),
        all_cases=any(g.cases is CaseReach.ALL for g in grants),
        cases_in_scope=any(g.cases is CaseReach.IN_SCOPE for g in grants),
        own_cases=any(g.cases is CaseReach.OWN for g in grants),
        personal_data=any(g.personal_data for g in reaching),
        own_personal_data=roles.signed_in.personal_data,
        groups_help=roles.groups_help(),
    )


def parse_roles(raw: dict[str, Any], origin: str = "roles") -> RolesConfig:
    try:
        return RolesConfig.model_validate(raw)
    except ValidationError as exc:
        raise RolesConfigError(f"{origin}: " + "; ".join(describe(exc.errors()))) from exc


def load_roles(path: Path = DEFAULT_ROLES_FILE) -> RolesConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RolesConfigError(f"{path.name}: not valid TOML: {exc}") from exc
    return parse_roles(raw, origin=path.name)
