"""The rollup equals the direct computation from the events, for any period of whole days."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections import defaultdict

import pytest
from django.db.models import Max

from cases.models import Case, CaseEvent, Category, EventType
from demo.history import generate_cases
from stats import dashboards as stats
from stats.models import COUNTERS, CaseDayStat, CaseMonthStat, RollupState
from stats.projections import WIDE
from stats.rates import compute_rates
from stats.rollup import case_contribution, rebuild_rollup, refresh_rollup
from tests.stats.conftest import NOW, apps_after, local_midnight

RATE_COUNTERS = ("dispatched", "responded", "replied", "resolved", "evaluated", "satisfied")


def direct(user, start: dt.date, end: dt.date, group_by: str) -> dict[int, dict[str, int]]:
    """compute_rates for [start, end] in whole local days, rows with a count only."""
    result = compute_rates(
        user,
        start=local_midnight(start),
        end=local_midnight(end + dt.timedelta(days=1)),
        group_by=group_by,
    )
    return {
        (r["key"] or 0): {c: r[c] for c in RATE_COUNTERS}
        for r in result
        if any(r[c] for c in RATE_COUNTERS)
    }


def rolled(user, start: dt.date, end: dt.date, group_by: str) -> dict[int, dict[str, int]]:
    field = "unit_key" if group_by == "unit" else "district_id"
    out = {}
    for r in stats.grouped(stats.rows(user, start, end), field):
        counts = {c: r[c] or 0 for c in RATE_COUNTERS}
        if any(counts.values()):
            out[r[field]] = counts
    return out


def direct_counts(start: dt.date, end: dt.date) -> dict[str, int]:
    window = {
        "created_at__gte": local_midnight(start),
        "created_at__lt": local_midnight(end + dt.timedelta(days=1)),
    }
    return {
        "created": Case.objects.filter(**window).count(),
        "closed": CaseEvent.objects.filter(type=EventType.CLOSE, **window).count(),
        "rejected": CaseEvent.objects.filter(type=EventType.REJECT, **window).count(),
    }


def periods(seed: int, first: dt.date, last: dt.date, n: int = 8) -> list[tuple[dt.date, dt.date]]:
    """The whole span, random periods, and periods that read month rows: whole months, and
    whole months with a head and a tail of days."""
    rng = random.Random(seed)
    span = (last - first).days
    month = (first + dt.timedelta(days=40)).replace(day=1)
    out = [
        (first, last),
        (month, stats.next_month(stats.next_month(month)) - dt.timedelta(days=1)),
        (month - dt.timedelta(days=9), stats.next_month(month) + dt.timedelta(days=4)),
        (month + dt.timedelta(days=1), month + dt.timedelta(days=200)),
    ]
    for _ in range(n):
        a = first + dt.timedelta(days=rng.randrange(span))
        b = min(last, a + dt.timedelta(days=rng.choice([0, 1, 6, 13, 30, 90])))
        out.append((a, b))
    return out


def assert_equal(user, seed: int) -> None:
    first, last = (NOW - dt.timedelta(days=366)).date(), (NOW + dt.timedelta(days=40)).date()
    for start, end in periods(seed, first, last):
        for group_by in ("unit", "district"):
            assert rolled(user, start, end, group_by) == direct(user, start, end, group_by), (
                start,
                end,
                group_by,
            )
        summed = stats.totals(stats.rows(user, start, end))
        assert {k: summed[k] for k in ("created", "closed", "rejected")} == direct_counts(
            start, end
        )


def table(model=CaseDayStat) -> dict[tuple, tuple]:
    """The rollup's rows without the all-zero ones."""
    out = {}
    for row in model.objects.values_list(
        "day", "since", "region_id", "category_id", "unit_key", *COUNTERS
    ):
        if any(row[5:]):
            out[row[:5]] = row[5:]
    return out


def per_month(days: dict[tuple, tuple]) -> dict[tuple, tuple]:
    out: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
    for (day, since, *dims), counters in days.items():
        acc = out[(day.replace(day=1), since.replace(day=1), *dims)]
        for i, x in enumerate(counters):
            acc[i] += x
    return {key: tuple(v) for key, v in out.items() if any(v)}


def append_events(seed: int) -> None:
    """More events on existing cases: re-dispatch to another unit, a first contact, a second
    reply, a new rating and an unreasonable ruling, a merge, a recategorisation."""
    rng = random.Random(seed)
    cases = list(Case.objects.filter(lead_unit__isnull=False).order_by("pk")[:400])
    units = list({c.lead_unit_id for c in cases})
    categories = list(Category.objects.values_list("pk", flat=True))
    events = []
    for case in rng.sample(cases, 60):
        last = case.events.aggregate(m=Max("created_at"))["m"]
        t = last + dt.timedelta(hours=rng.choice([1, 20, 50]))
        unit = rng.choice(units)
        steps = [
            (EventType.DISPATCH, {"lead_unit": "x"}),
            (EventType.CONTACT, {"first": True, "on_time": rng.random() < 0.7}),
            (EventType.REPLY, {"outcome": rng.choice(["resolved", "partly"])}),
            (EventType.EVALUATE, {"rating": rng.choice(["satisfied", "unsatisfied"])}),
            (EventType.CLOSE, {"unreasonable": rng.random() < 0.5}),
        ]
        for kind, payload in steps[: rng.randint(1, len(steps))]:
            events.append(
                CaseEvent(case=case, type=kind, unit_id=unit, payload=payload, created_at=t)
            )
            t += dt.timedelta(hours=rng.choice([2, 30]))
        if rng.random() < 0.2:
            # 合并 into another case: the case drops out of the rates of a period holding it
            events.append(
                CaseEvent(
                    case=case, type=EventType.MERGE, unit_id=unit, payload={"into": "x"},
                    created_at=t,
                )
            )  # fmt: skip
            t += dt.timedelta(hours=rng.choice([2, 30]))
        if rng.random() < 0.3:
            new_category = rng.choice(categories)
            Case.objects.filter(pk=case.pk).update(category_id=new_category)
            events.append(
                CaseEvent(case=case, type=EventType.RECATEGORISE, unit_id=unit, created_at=t)
            )
    CaseEvent.objects.bulk_create(events)


@pytest.mark.django_db
def test_rollup_equals_direct_computation_incremental_and_rebuilt(superuser) -> None:
    # Given several hundred generated cases, folded in
    generate_cases(400, now=NOW, batch_size=150)
    report = refresh_rollup(batch_size=1000)
    assert report.last_event_id == CaseEvent.objects.aggregate(m=Max("pk"))["m"]
    assert_equal(superuser, seed=1)

    # When more cases and more events on old cases are appended and folded incrementally
    generate_cases(250, now=NOW + dt.timedelta(days=30), seed=7, batch_size=100)
    append_events(seed=3)
    refresh_rollup(batch_size=700)

    # Then the rollup still equals the direct computation, the month rows are the day rows
    # summed per month, and a rebuild gives the same rows
    assert_equal(superuser, seed=2)
    incremental, months = table(), table(CaseMonthStat)
    assert months == per_month(incremental)
    assert any(since < day for day, since, *_rest in months)  # corrections across months
    rebuild_rollup(batch_size=900)
    assert table() == incremental
    assert table(CaseMonthStat) == months
    assert RollupState.objects.get().last_event_id == CaseEvent.objects.aggregate(m=Max("pk"))["m"]


def test_contribution_sums_telescope_for_a_case_dispatched_twice() -> None:
    # Given a case dispatched on day 1 and again on day 3 (to another unit), contacted on day 3
    from stats.rollup import Ev

    d = [dt.date(2024, 1, i) for i in (1, 2, 3)]
    at = [local_midnight(x) + dt.timedelta(hours=9) for x in d]
    events = [
        Ev(1, at[0], d[0], EventType.SUBMIT, 0, {}),
        Ev(2, at[0], d[0], EventType.DISPATCH, 11, {}),
        Ev(3, at[2], d[2], EventType.DISPATCH, 12, {}),
        Ev(
            4,
            at[2] + dt.timedelta(hours=1),
            d[2],
            EventType.CONTACT,
            12,
            {"first": True, "on_time": True},
        ),
    ]
    rows = case_contribution(events)

    def period(a: dt.date, b: dt.date) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(lambda: [0] * len(COUNTERS))
        for (day, since, unit), vec in rows.items():
            if since >= a and day <= b:
                out[unit] = [x + y for x, y in zip(out[unit], vec, strict=True)]
        return {u: v for u, v in out.items() if any(v)}

    dispatched, responded = COUNTERS.index("dispatched"), COUNTERS.index("responded")
    # Then the whole period counts one dispatched case, for the last unit, responded on time
    whole = period(d[0], d[2])
    assert whole[12][dispatched] == 1 and whole[12][responded] == 1
    assert 11 not in whole
    # and day 1 alone counts the first unit's dispatch
    assert period(d[0], d[0])[11][dispatched] == 1


@pytest.mark.parametrize(
    ("start", "end", "tables"),
    [
        # a whole month, and a whole year across New Year: month rows only
        ("2024-02-01", "2024-02-29", ["casemonthstat"]),
        ("2023-07-01", "2024-06-30", ["casemonthstat"]),
        # no whole month inside: day rows only
        ("2024-01-15", "2024-02-10", ["casedaystat"]),
        ("2024-03-01", "2024-03-30", ["casedaystat"]),
        # a head of days, whole months, a tail of days
        ("2024-01-15", "2024-03-31", ["casemonthstat", "casedaystat"]),
        ("2024-01-01", "2024-03-10", ["casemonthstat", "casedaystat"]),
        ("2023-12-31", "2024-02-01", ["casemonthstat", "casedaystat", "casedaystat"]),
    ],
)
def test_a_period_reads_its_whole_months_from_the_month_rows(start, end, tables) -> None:
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    parts = stats.Rows.of(a, b, source=WIDE).parts()
    assert [part.model._meta.model_name for part in parts] == tables
    by_day = stats.Rows.of(a, b, months=False, source=WIDE).parts()
    assert [part.model._meta.model_name for part in by_day] == ["casedaystat"]


@pytest.mark.django_db
def test_the_migration_fills_the_month_rows_from_the_day_rows() -> None:
    # Given day and month rows folded by the refresh
    generate_cases(120, now=NOW, batch_size=60)
    append_events(seed=5)
    refresh_rollup()
    folded = table(CaseMonthStat)
    assert folded
    # When the month table is emptied and the migration's fill runs
    CaseMonthStat.objects.all().delete()
    migration = importlib.import_module("cases.migrations.0008_month_rollup")
    migration.fill_months(apps_after("cases", "0008_month_rollup"), None)
    # Then it holds the same rows as the refresh wrote
    assert table(CaseMonthStat) == folded
