"""The visitor's scope in the page's language (pages/site.py reach), used in "within your scope: ..."."""

from __future__ import annotations

from npsloop.domain.alerts import load_routing
from npsloop.domain.scope import load_roles, scope_of
from npsloop.pages.site import reach


def who(*groups: str):
    return scope_of("u-1", groups, load_roles(), load_routing())


def test_the_scope_reads_in_polish_on_a_polish_page_and_as_before_in_english():
    assert reach(who("npsloop-store-KRK-02"), "pl") == "sklep KRK-02"
    assert reach(who("npsloop-store-KRK-02"), "en") == who("npsloop-store-KRK-02").describe() == "store KRK-02"
    assert reach(who("npsloop-cx-lead"), "pl") == "wszystkie sklepy"
    assert reach(who(), "pl") == "żaden sklep (tylko sprawy, które prowadzisz lub nadzorujesz)"
    assert reach(who("npsloop-region-malopolskie"), "pl").startswith("region malopolskie")
