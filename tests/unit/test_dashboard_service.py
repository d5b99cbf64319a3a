"""The dashboard's overview over in-memory aggregates: scope, segments, small samples, the change against
the window before, the store table's order, and reads that do not grow with the answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from npsloop.domain.alerts import load_alert_rules, load_routing
from npsloop.domain.programs import load_programs
from npsloop.domain.scope import ScopeDenied, load_roles, scope_of
from npsloop.domain.view_filters import ScoreGroup, ViewFilters
from npsloop.services.dashboard import SCAN_FRESH_SECONDS, DashboardService, NoScoreReach
from npsloop.services.score import ScoreService
from tests.fakes import ListParking
from tests.fakes_score import InMemoryAggregates, record, response
from tests.stream_records import batch

NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)  # inside the default window (the 90 days to 2026-11-20)
AUG = datetime(2026, 8, 10, 12, tzinfo=UTC)  # inside the 90 days before it


@pytest.fixture
def aggregates() -> InMemoryAggregates:
    return InMemoryAggregates()


@pytest.fixture
def fill(aggregates, clock):
    scorer = ScoreService(programs=load_programs(), aggregates=aggregates, parking=ListParking(), clock=clock)
    numbers = iter(range(1, 10**6))

    def add(scores: dict[int, int], at: datetime = NOV, **context) -> None:
        records = [
            record("INSERT", new=response(next(numbers), score, created_at=at, **context))
            for score, k in scores.items()
            for _ in range(k)
        ]
        for start in range(0, len(records), 100):
            scorer.handle(batch(*records[start : start + 100]))

    return add


@pytest.fixture
def dashboard(aggregates, clock) -> DashboardService:
    return DashboardService(
        programs=load_programs(), routing=load_routing(), rules=load_alert_rules(), aggregates=aggregates, clock=clock
    )


def who(*groups: str):
    return scope_of("u-1", groups, load_roles(), load_routing())


CX_LEAD = who("npsloop-cx-lead")
KRK_02 = who("npsloop-store-KRK-02")
MALOPOLSKIE = who("npsloop-region-malopolskie")


def test_a_cx_lead_sees_a_tile_per_program_with_interval_n_and_the_network_as_a_whole(dashboard, fill):
    fill({10: 50, 8: 20, 2: 30}, store="KRK-02", region="malopolskie")  # n=100: NPS 50 - 30 = 20

    view = dashboard.overview(ViewFilters.parse({}), CX_LEAD)

    assert view.segment == ("all", "all") and view.network is None
    assert [t.program.id for t in view.tiles] == ["post-purchase-nps", "support-ces", "store-visit-csat"]
    nps = view.selected
    assert (nps.total["n"], nps.total["display"], nps.total["small_sample"]) == (100, 20, False)
    assert nps.total["interval"]["low"] < 20 < nps.total["interval"]["high"]
    assert view.split == {ScoreGroup.PROMOTER: 50, ScoreGroup.PASSIVE: 20, ScoreGroup.DETRACTOR: 30}
    assert dict(view.distribution) == {**dict.fromkeys(range(11), 0), 10: 50, 8: 20, 2: 30}
    assert [t.total["n"] for t in view.tiles[1:]] == [0, 0]


def test_a_store_manager_sees_their_store_by_default_against_the_network_average(dashboard, fill):
    fill({10: 40}, store="KRK-02", region="malopolskie")
    fill({0: 40}, store="WAW-01", region="mazowieckie")

    view = dashboard.overview(ViewFilters.parse({}), KRK_02)

    assert view.segment == ("store", "KRK-02")
    assert (view.selected.total["n"], view.selected.total["display"]) == (40, 100)
    assert (view.network["n"], view.network["display"]) == (80, 0)  # the overall score: no one's data
    assert [g["value"] for g in view.table["groups"]] == ["KRK-02"]  # never another store's row


def test_a_store_manager_naming_another_store_or_a_region_or_a_channel_is_refused(dashboard):
    for params in ({"store": "WAW-01"}, {"region": "malopolskie"}, {"channel": "web"}):
        with pytest.raises(ScopeDenied):
            dashboard.overview(ViewFilters.parse(params), KRK_02)


def test_a_plain_case_owner_reads_no_scores(dashboard):
    with pytest.raises(NoScoreReach):
        dashboard.overview(ViewFilters.parse({}), who())


def test_a_regional_manager_sees_their_region_and_a_table_of_its_stores_only(dashboard, fill):
    fill({9: 35}, store="KRK-02", region="malopolskie")
    fill({9: 35}, store="WAW-01", region="mazowieckie")

    view = dashboard.overview(ViewFilters.parse({}), MALOPOLSKIE)

    assert view.segment == ("region", "malopolskie")
    assert [g["value"] for g in view.table["groups"]] == ["KRK-02"]
    assert dashboard.overview(ViewFilters.parse({"store": "KRK-02"}), MALOPOLSKIE).selected.total["n"] == 35
    with pytest.raises(ScopeDenied):
        dashboard.overview(ViewFilters.parse({"store": "WAW-01"}), MALOPOLSKIE)


def test_stores_below_the_minimum_sample_are_listed_apart_and_the_rest_ordered_by_the_lower_bound(dashboard, fill):
    fill({10: 3}, store="S-TINY", region="north")  # NPS 100 on 3 answers: never at the top
    fill({10: 200, 8: 150, 3: 50}, store="S-BIG", region="north")  # NPS 37.5, narrow
    fill({10: 20, 8: 10, 3: 5}, store="S-SMALL", region="north")  # NPS 43, wide (n=35)

    view = dashboard.overview(ViewFilters.parse({}), CX_LEAD)

    ranking = view.table["ranking"]
    assert ranking["ranked"] == ["S-BIG", "S-SMALL"]
    assert ranking["unranked"] == ["S-TINY"]
    tiny = next(g for g in view.table["groups"] if g["value"] == "S-TINY")
    assert tiny["total"]["small_sample"] and tiny["rank"] is None


def test_a_small_sample_tile_says_so_and_a_change_on_it_is_never_significant(dashboard, fill):
    fill({10: 5}, at=AUG)
    fill({0: 5})

    tile = dashboard.overview(ViewFilters.parse({}), CX_LEAD).selected

    assert tile.total["small_sample"] and tile.previous["small_sample"]
    assert tile.change["delta"] == -200 and tile.change["testable"] is False and tile.change["significant"] is False


def test_the_change_is_against_the_window_of_equal_length_before_and_significant_when_real(dashboard, fill):
    fill({10: 150, 8: 50}, at=AUG)  # NPS 75 in the 90 days before
    fill({10: 50, 8: 50, 2: 100})  # NPS -25 now

    view = dashboard.overview(ViewFilters.parse({}), CX_LEAD)

    tile = view.selected
    assert (tile.previous["from"], tile.previous["to"]) == ("2026-05-25", "2026-08-22")
    assert (tile.previous["n"], tile.total["n"]) == (200, 200)
    assert tile.change["delta"] == -100 and tile.change["significant"] is True
    assert view.tile_tests == 1  # only the tiles with a testable change form the family


def test_the_trend_has_one_point_per_period_with_its_interval_and_small_sample_flag(dashboard, fill):
    fill({10: 40}, at=datetime(2026, 11, 3, 12, tzinfo=UTC))
    fill({10: 2}, at=datetime(2026, 11, 17, 12, tzinfo=UTC))

    view = dashboard.overview(ViewFilters.parse({"period": "week", "from": "2026-11-01", "to": "2026-11-20"}), CX_LEAD)

    points = {p["period"]: p for p in view.trend}
    assert list(points) == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert (points["2026-W45"]["n"], points["2026-W45"]["small_sample"]) == (40, False)
    assert points["2026-W45"]["interval"] is not None
    assert (points["2026-W47"]["n"], points["2026-W47"]["small_sample"]) == (2, True)


def test_a_channel_segment_reads_that_channel_for_a_cx_lead(dashboard, fill):
    fill({10: 10}, channel="web")
    fill({0: 10}, channel="store")

    view = dashboard.overview(ViewFilters.parse({"channel": "store"}), CX_LEAD)

    assert (view.selected.total["n"], view.selected.total["display"]) == (10, -100)
    assert view.network["n"] == 20


def test_reads_per_view_do_not_grow_with_the_number_of_answers(dashboard, aggregates, fill):
    def reads() -> tuple[int, int]:
        before = (aggregates.queries, aggregates.items_read)
        dashboard.overview(ViewFilters.parse({"store": "KRK-02"}), CX_LEAD, with_trend=False)
        return aggregates.queries - before[0], aggregates.items_read - before[1]

    fill({10: 10, 3: 5}, store="KRK-02", region="malopolskie")
    few = reads()
    fill({10: 1000, 3: 500}, store="KRK-02", region="malopolskie")
    many = reads()

    assert few == many
    # the three tiles' store partitions (the trend and the store table reuse the selected program's),
    # and the network's overall score: one query per partition
    assert few[0] == 4


@pytest.mark.parametrize(
    ("view", "by", "queries", "answers"),
    [
        ({}, "store", 4, 75),
        ({"store": "KRK-02"}, "store", 4, 45),
        ({"region": "malopolskie"}, "store", 5, 45),
        ({"region": "malopolskie"}, "region", 4, 45),
    ],
)
def test_each_partition_a_view_needs_is_queried_once(dashboard, aggregates, fill, view, by, queries, answers):
    fill({10: 40, 3: 5}, store="KRK-02", region="malopolskie", channel="store")
    fill({9: 30}, store="WAW-01", region="mazowieckie", channel="web")
    before = aggregates.queries

    shown = dashboard.overview(ViewFilters.parse(view), CX_LEAD, by, with_trend=False)

    assert aggregates.queries - before == queries
    assert shown.selected.total["n"] == answers  # answered from the partition read once, still right
    assert sum(p["n"] for p in shown.trend) == answers


BASELINE = datetime(2026, 10, 1, 12, tzinfo=UTC)  # in the trend rule's baseline window (2026-09-11..11-05)
RECENT = datetime(2026, 11, 12, 12, tzinfo=UTC)  # in its recent window (the 14 days 2026-11-06..11-19)


def test_the_trend_alerts_baseline_and_a_real_drop_show_for_the_store_that_dropped(dashboard, fill):
    fill({10: 60, 9: 20, 7: 10, 3: 10}, at=BASELINE, store="KRK-02", region="malopolskie")  # NPS 70
    fill({10: 15, 7: 10, 2: 25}, at=RECENT, store="KRK-02", region="malopolskie")  # NPS -20
    fill({10: 50, 9: 20, 7: 20, 3: 10}, at=BASELINE, store="WAW-01", region="mazowieckie")
    fill({10: 25, 9: 10, 7: 10, 3: 5}, at=RECENT, store="WAW-01", region="mazowieckie")  # steady

    mine = dashboard.overview(ViewFilters.parse({}), KRK_02)

    band = mine.baseline
    assert (band.baseline_first.isoformat(), band.baseline_last.isoformat()) == ("2026-09-11", "2026-11-05")
    assert (band.recent_first.isoformat(), band.recent_last.isoformat()) == ("2026-11-06", "2026-11-19")
    assert band.baseline_weeks == 8
    assert (band.trend.baseline.n, band.trend.baseline.whole) == (100, 70)
    assert (band.trend.recent.n, band.trend.recent.whole) == (50, -20)
    assert band.trend.baseline.low < 70 < band.trend.baseline.high
    assert band.fired is not None and band.fired.moved.p_value < 0.001 and band.fired.value == "KRK-02"
    assert [(t.dimension, t.value) for t in mine.drops] == [("store", "KRK-02")]  # not its region: out of scope

    theirs = dashboard.overview(ViewFilters.parse({"store": "WAW-01"}), CX_LEAD)
    assert theirs.baseline.fired is None and theirs.baseline.trend.baseline.n == 100  # steady: a band, no drop

    network = dashboard.overview(ViewFilters.parse({}), CX_LEAD)
    assert network.baseline.trend.dimension == "all" and network.baseline.trend.baseline.n == 200
    assert ("store", "KRK-02") in [(t.dimension, t.value) for t in network.drops]
    assert ("store", "WAW-01") not in [(t.dimension, t.value) for t in network.drops]


def test_the_polled_fragment_skips_the_trend_scan_and_a_whole_view_still_reads_the_same_for_more_answers(
    dashboard, aggregates, fill, clock
):
    def queries(**kw) -> int:
        before = aggregates.queries
        dashboard.overview(ViewFilters.parse({"store": "KRK-02"}), CX_LEAD, **kw)
        return aggregates.queries - before

    fill({10: 10, 3: 5}, at=RECENT, store="KRK-02", region="malopolskie")
    few = queries()
    clock.advance(timedelta(seconds=SCAN_FRESH_SECONDS))  # the container's scan is stale: scanned again
    fill({10: 1000, 3: 500}, at=BASELINE, store="KRK-02", region="malopolskie")
    assert queries() == few
    # the scan reads each program x rule dimension (store, region, channel) it does not share with the view
    assert few > queries(with_trend=False) == 4


def test_the_views_own_segment_is_judged_afresh_and_the_other_segments_scan_is_reused_for_five_minutes(
    dashboard, aggregates, fill, clock
):
    fill({10: 50, 9: 10}, at=BASELINE, store="KRK-02", region="malopolskie")
    fill({10: 40}, at=RECENT, store="KRK-02", region="malopolskie")
    assert dashboard.overview(ViewFilters.parse({}), CX_LEAD).drops == ()
    fill({0: 200}, at=RECENT, store="KRK-02", region="malopolskie")  # the drop happens

    own = dashboard.overview(ViewFilters.parse({}), KRK_02)
    assert own.baseline.fired is not None  # the view's own segment: measured now, tested in the family
    before = aggregates.queries
    network = dashboard.overview(ViewFilters.parse({}), CX_LEAD)
    with_held_scan = aggregates.queries - before
    before = aggregates.queries
    dashboard.overview(ViewFilters.parse({}), CX_LEAD, with_trend=False)
    assert with_held_scan == aggregates.queries - before  # the scan of a moment ago: nothing more read
    assert network.drops == ()  # the other segments as scanned a moment ago
    clock.advance(timedelta(seconds=SCAN_FRESH_SECONDS))
    later = dashboard.overview(ViewFilters.parse({}), CX_LEAD).drops
    assert ("store", "KRK-02") in [(t.dimension, t.value) for t in later]


class AlertedOn:
    """The trend alert's claims as the dashboard reads them: the last done claim of a segment."""

    def __init__(self, at: datetime | None) -> None:
        self.at, self.asked = at, []

    def last_done(self, invitation_id: str, step_prefix: str) -> datetime | None:
        self.asked.append((invitation_id, step_prefix))
        return self.at


@pytest.mark.parametrize(("days_ago", "shown"), [(3, True), (40, False), (None, False)])
def test_a_segment_the_alert_reported_says_so_when_today_has_too_few_answers_to_test(
    aggregates, clock, fill, days_ago, shown
):
    fill({10: 60, 9: 20, 7: 10, 3: 10}, at=BASELINE, store="KRK-02", region="malopolskie")
    fill({2: 12}, at=RECENT, store="KRK-02", region="malopolskie")  # 12 answers: too few to test today
    alerted = None if days_ago is None else clock.now() - timedelta(days=days_ago)
    claims = AlertedOn(alerted)
    dashboard = DashboardService(programs=load_programs(), routing=load_routing(), rules=load_alert_rules(),
                                 aggregates=aggregates, clock=clock, alerts=claims)  # fmt: skip

    band = dashboard.overview(ViewFilters.parse({}), KRK_02).baseline

    assert band.fired is None and (band.trend.moved is None or not band.trend.moved.testable)
    assert band.alerted_at == (alerted if shown else None)  # only an alert within the last two windows
    assert claims.asked == [("TREND#post-purchase-nps#store#KRK-02", "ALERT#segment-trend#")]
