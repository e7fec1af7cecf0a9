"""The rollup's projections (``stats.models``) equal sums of the wide rollup after incremental
folds and after every kind of rebuild, and every dashboard answers the same numbers from them
as from the wide rollup."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.db.models import Max, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, CaseEvent
from demo.history import generate_cases
from org.models import Membership, RegionLevel, Role, Unit
from stats import candidates as cands
from stats import dashboards as stats
from stats import projections
from stats.models import COUNTERS, CaseDayStat, RollupState
from stats.projections import PROJECTIONS, WIDE, Source, narrowest
from stats.rebuild import rebuild_rollup_sql
from stats.rollup import rebuild_rollup, refresh_rollup
from tests.conftest import Demo
from tests.stats.conftest import NOW, apps_after
from tests.stats.test_rebuild_sql import Histories
from tests.stats.test_rollup import append_events

pytestmark = pytest.mark.django_db


# --- the tables ------------------------------------------------------------------------------


def stored(projection: Source, month: bool) -> dict[tuple, tuple]:
    """A projection's rows without the all-zero ones: key → (carried…, counters…)."""
    model = projection.month if month else projection.day
    key = ("day", "since", *projection.key)
    out = {}
    for row in model._default_manager.values_list(*key, *projection.carried, *COUNTERS):
        if any(row[-len(COUNTERS) :]):
            out[row[: len(key)]] = row[len(key) :]
    return out


def summed(projection: Source, month: bool) -> dict[tuple, tuple]:
    """The wide rollup's rows summed over the projection's key (the carried columns: their
    largest value, one per key when the regions did not move)."""
    model = WIDE.month if month else WIDE.day
    key = ("day", "since", *projection.key)
    rows = (
        model._default_manager.values(*key)
        .annotate(
            **{f"carried_{c}": Max(c) for c in projection.carried},
            **{f"sum_{c}": Sum(c) for c in COUNTERS},
        )
        .order_by()
    )
    out = {}
    for r in rows:
        counters = tuple(r[f"sum_{c}"] for c in COUNTERS)
        if any(counters):
            out[tuple(r[k] for k in key)] = (
                *(r[f"carried_{c}"] for c in projection.carried),
                *counters,
            )
    return out


def assert_projections_equal_the_rollup() -> None:
    for projection in PROJECTIONS:
        for month in (False, True):
            expected = summed(projection, month)
            assert expected, (projection.name, month)
            assert stored(projection, month) == expected, (projection.name, month)


def test_projections_equal_the_rollup_after_folds_and_the_python_rebuild() -> None:
    # Given cases folded in two batches per refresh
    generate_cases(300, now=NOW, batch_size=120)
    refresh_rollup(batch_size=800)
    # Then each projection's day and month rows are the wide rows summed over its key
    assert_projections_equal_the_rollup()

    # When more cases come, and more events on old cases (re-dispatch, a second rating, a
    # recategorisation …), folded incrementally
    generate_cases(150, now=NOW + dt.timedelta(days=30), seed=7, batch_size=100)
    append_events(seed=3)
    refresh_rollup(batch_size=500)
    # Then they still are
    assert_projections_equal_the_rollup()
    folded = {p.name: (stored(p, False), stored(p, True)) for p in PROJECTIONS}

    # and the Python rebuild (which empties everything and folds again) gives the same rows
    rebuild_rollup(batch_size=700)
    assert {p.name: (stored(p, False), stored(p, True)) for p in PROJECTIONS} == folded


@pytest.mark.postgres
@pytest.mark.parametrize("swap", [True, False])
def test_the_set_based_rebuild_writes_the_projections_of_the_fold(swap: bool) -> None:
    # Given generated cases, awkward and random histories, folded incrementally
    generate_cases(150, now=NOW, seed=2)
    histories = Histories(2)
    histories.awkward()
    histories.random(200)
    refresh_rollup()
    folded = {p.name: (stored(p, False), stored(p, True)) for p in PROJECTIONS}
    # When the rollup is rebuilt set-based (tables built and swapped in, or refilled in place)
    report = rebuild_rollup_sql(swap=swap)
    # Then every projection holds the rows the fold wrote, which are the wide rows summed
    assert {p.name: (stored(p, False), stored(p, True)) for p in PROJECTIONS} == folded
    assert_projections_equal_the_rollup()
    assert report.projection_rows == sum(len(a) + len(b) for a, b in folded.values())
    # and an incremental fold after it keeps them equal
    append_events(seed=9)
    refresh_rollup()
    assert_projections_equal_the_rollup()


def test_a_failing_projection_write_rolls_the_fold_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given new events and a projection receiver that fails
    generate_cases(20, now=NOW, seed=1)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("projection down")

    monkeypatch.setattr(projections, "_add", lambda *args: broken())
    # When the fold runs
    with pytest.raises(RuntimeError, match="projection down"):
        refresh_rollup()
    # Then nothing was folded: the rollup and the projections stay in step
    assert not CaseDayStat.objects.exists()
    assert RollupState.objects.get().last_event_id == 0
    # and the next fold, with the receiver working again, folds everything
    monkeypatch.undo()
    refresh_rollup()
    assert RollupState.objects.get().last_event_id == CaseEvent.objects.aggregate(m=Max("pk"))["m"]
    assert_projections_equal_the_rollup()


def test_the_migration_fills_the_projections_from_the_rollup() -> None:
    # Given a folded rollup and its projections
    generate_cases(120, now=NOW, seed=4)
    append_events(seed=5)
    refresh_rollup()
    folded = {p.name: (stored(p, False), stored(p, True)) for p in PROJECTIONS}
    # When the projections are emptied and the migration's fill runs
    projections.empty()
    assert not any(stored(p, False) for p in PROJECTIONS)
    migration = importlib.import_module("stats.migrations.0002_fill_projections")
    apps = apps_after("stats", "0002_fill_projections")
    migration.fill(apps, SimpleNamespace(connection=connection))  # all it uses
    # Then they hold the rows the fold wrote
    assert {p.name: (stored(p, False), stored(p, True)) for p in PROJECTIONS} == folded


# --- which table a query reads ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"day", "since"}, "district"),  # the city's trend
        ({"day", "since", "district_id", "pk"}, "district"),  # a district's trend
        ({"street_id", "street__name"}, "street"),  # rankings by street
        ({"day", "since", "street_id", "district_id"}, "street"),  # a street's trend
        ({"unit_key", "unit__name"}, "unit"),  # rankings by unit
        ({"day", "since", "unit_key"}, "unit"),  # a handler's trend
        ({"district_id", "category_id"}, "district_category"),  # the overview
        ({"category_id", "category__name"}, "district_category"),  # the bulletin
        ({"category", "street"}, "street_category"),  # the candidates
        ({"district_id", "category_id", "street_id"}, "street_category"),  # a street overview
        ({"district_id", "category_id", "unit_key"}, "wide"),  # a handler's overview
        ({"region_id"}, "wide"),  # a community
        ({"unit_key", "district_id"}, "wide"),  # a district's units
    ],
)
def test_the_narrowest_table_that_holds_the_fields(fields: set[str], expected: str) -> None:
    assert narrowest(fields).name == expected


@pytest.mark.parametrize(
    ("start", "end", "parts"),
    [
        ("2024-02-01", "2024-02-29", ["month"]),
        ("2024-01-15", "2024-02-10", ["day"]),
        ("2023-12-31", "2024-02-01", ["month", "day", "day"]),
    ],
)
def test_a_period_reads_whole_months_from_the_projections_month_rows(start, end, parts) -> None:
    rows = stats.Rows.of(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    source = PROJECTIONS[0]
    expected = [source.month if p == "month" else source.day for p in parts]
    assert [part.model for part in rows.parts()] == expected
    units = rows.exclude(unit_key=0).parts("unit__name")
    assert {part.model for part in units} <= {
        narrowest({"unit_key"}).day,
        narrowest({"unit_key"}).month,
    }


# --- the dashboards answer the same from either source ---------------------------------------


def street_user(django_user_model: Any, level: str) -> Any:
    """A dispatcher of a street office (or a community committee)."""
    unit = Unit.objects.filter(region__level=level).order_by("pk").first()
    assert unit is not None
    user = django_user_model.objects.create_user(f"dispatcher_{level}", password="x")
    Membership.objects.create(user=user, unit=unit, role=Role.DISPATCHER)
    return user


def answers(user: Any, periods: list[tuple[dt.date, dt.date]], region: Any) -> list[Any]:
    out: list[Any] = []
    for start, end in periods:
        out.append(stats.overview(user, start, end, region, now=NOW))
        for granularity in ("day", "week", "month"):
            out.append(stats.trend(user, start, end, granularity, region))
        for by in ("unit", "district", "street"):
            out.append(stats.rankings(user, start, end, by, region))
    out.append(stats.month_summary(periods[0][0]))
    for weeks in (2, 4, 8):
        out.append(cands.candidates(user, weeks, region, limit=50))
    return out


def tables_read(call: Any) -> set[str]:
    with CaptureQueriesContext(connection) as ctx:
        call()
    names = {p.day._meta.db_table for p in (*PROJECTIONS, WIDE)}
    names |= {p.month._meta.db_table for p in (*PROJECTIONS, WIDE)}
    return {name for name in names if any(f'"{name}"' in q["sql"] for q in ctx.captured_queries)}


@pytest.mark.parametrize("seed", [1, 2])
def test_every_dashboard_answers_the_same_from_the_projections_and_the_wide_rollup(
    demo: Demo, superuser: Any, django_user_model: Any, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # Given random cases over the last year and more events on some of them, folded
    now = timezone.now()
    generate_cases(350, now=now, seed=seed)
    append_events(seed=seed)
    refresh_rollup()
    rng = random.Random(seed)
    today = timezone.localdate()
    periods = [(today - dt.timedelta(days=29), today), (today.replace(day=1), today)]
    periods.append((today - dt.timedelta(days=365), today))
    for _ in range(3):
        a = today - dt.timedelta(days=rng.randrange(380))
        periods.append((a, min(today, a + dt.timedelta(days=rng.choice([0, 6, 40, 120])))))
    users = [
        (superuser, None),
        (demo.user("committee1"), None),
        (demo.user("committee1"), demo.region("城东区")),
        (demo.user("committee1"), Case.objects.order_by("pk").first().street),
        (demo.user("dispatcher_chengdong"), None),
        (demo.user("handler_huangzhong"), None),
        (street_user(django_user_model, RegionLevel.STREET), None),
        (street_user(django_user_model, RegionLevel.COMMUNITY), None),
    ]
    for user, region in users:
        # When the dashboards read the narrowest tables, and then only the wide rollup
        narrow = answers(user, periods, region)
        with monkeypatch.context() as patch:
            patch.setattr(stats, "narrowest", lambda fields: WIDE)
            wide = answers(user, periods, region)
        # Then they answer the same numbers
        assert narrow == wide, (user.username, region)

    # and the committee's dashboards did read the projections, not the wide rollup
    committee = demo.user("committee1")
    year = today - dt.timedelta(days=365)
    read = {
        "overview": tables_read(lambda: stats.overview(committee, year, today)),
        "trend": tables_read(lambda: stats.trend(committee, year, today, "week")),
        "rankings": tables_read(lambda: stats.rankings(committee, year, today, "unit")),
        "candidates": tables_read(lambda: cands.candidates(committee, 8)),
    }
    assert read == {
        "overview": {"stats_districtcategorymonthstat", "stats_districtcategorydaystat"},
        "trend": {"stats_districtdaystat"},
        "rankings": {"stats_unitmonthstat", "stats_unitdaystat"},
        "candidates": {"stats_streetcategorydaystat"},
    }


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
def test_each_trend_bucket_is_the_period_of_its_days(
    data: Demo, superuser: Any, granularity
) -> None:
    # Given folded cases with correction rows (rows that start before their day)
    append_events(seed=8)
    refresh_rollup()
    today = timezone.localdate()
    start = today - dt.timedelta(days=200)  # mid-week and mid-month
    # When the trend is read, then each bucket holds what the period of its days holds
    for bucket in stats.trend(superuser, start, today, granularity):
        period = stats.totals(stats.rows(superuser, bucket["start"], bucket["end"]))
        assert {c: bucket[c] for c in COUNTERS} == period, bucket["start"]
