"""The set-based rebuild (``stats.rebuild``) writes exactly the rows of the Python rebuild, and
the dashboards read from it what ``compute_rates`` finds, on random and on awkward histories."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Max

from cases.models import Case, CaseEvent, Category, EventType
from demo.history import generate_cases
from org.models import Unit
from stats import rebuild as sql_rebuild
from stats.management.commands import rebuild_rollup as command
from stats.models import COUNTERS, CaseDayStat, CaseMonthStat, RollupCase, RollupState
from stats.rebuild import Batch, plan_batches, rebuild_rollup_sql
from stats.rollup import COUNTED_TYPES, TOUCHING_TYPES, rebuild_rollup, refresh_rollup
from tests.stats.conftest import NOW, TZ
from tests.stats.test_rollup import append_events, assert_equal, table

E = EventType
KEY = ("day", "since", "region_id", "category_id", "unit_key")
ROW = (*KEY, "street_id", "district_id", "unit_id", *COUNTERS)


def rows(model: Any) -> list[tuple]:
    return sorted(model.objects.values_list(*ROW))


def snapshot() -> dict[str, Any]:
    """Everything a rebuild writes, as sorted row tuples."""
    state = RollupState.objects.get()
    return {
        "days": rows(CaseDayStat),
        "months": rows(CaseMonthStat),
        "cases": sorted(RollupCase.objects.values_list("case_id", "category_id")),
        "watermark": state.last_event_id,
        "gaps": [gap[:2] for gap in state.gaps],
    }


def both_rebuilds(**options: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    rebuild_rollup()
    python = snapshot()
    rebuild_rollup_sql(**options)
    return python, snapshot()


# --- histories -------------------------------------------------------------------------------


def local(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=TZ)


class Histories:
    """Cases written directly with the events of their timeline, in the places and categories
    of the generated cases (which must exist)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.templates = list(Case.objects.order_by("pk")[:50])
        self.units = list(Unit.objects.order_by("pk").values_list("pk", flat=True)[:4])
        self.categories = list(Category.objects.values_list("pk", flat=True))
        self.serial = itertools.count(1)

    def case(self, at: dt.datetime) -> Case:
        t = self.rng.choice(self.templates)
        return Case.objects.create(
            tracking_code=f"XN-T{next(self.serial):07d}-{self.rng.randrange(10**6)}",
            channel="phone",
            category_id=t.category_id,
            region_id=t.region_id,
            district_id=t.district_id,
            street_id=t.street_id,
            dispatch_region_id=t.dispatch_region_id,
            description="测试",
            complainant_name="张三",
            complainant_phone="13800000000",
            created_at=at,
        )

    def write(
        self, case: Case, steps: list[tuple[str, dt.datetime, int | None, dict[str, Any]]]
    ) -> None:
        """The submit event at the case's time, then ``steps`` (type, time, unit, payload),
        written in the order given (their ids follow it, whatever their times)."""
        events = [CaseEvent(case=case, type=E.SUBMIT, created_at=case.created_at, payload={})]
        events += [
            CaseEvent(case=case, type=kind, created_at=at, unit_id=unit, payload=payload)
            for kind, at, unit, payload in steps
        ]
        CaseEvent.objects.bulk_create(events)

    def awkward(self) -> None:
        """The histories that make correction rows, and the corners of time and payload."""
        a, b, c = self.units[:3]
        d = dt.date(2024, 1, 29)
        # 派单 twice, to another unit on another day, then 联系 on that day
        case = self.case(local(d, 9))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 10), a, {}),
                (E.DISPATCH, local(d + dt.timedelta(2), 9), b, {}),
                (E.CONTACT, local(d + dt.timedelta(2), 11), b, {"first": True, "on_time": True}),
                (E.REPLY, local(d + dt.timedelta(4), 11), b, {"outcome": "resolved"}),
                (E.EVALUATE, local(d + dt.timedelta(5), 11), b, {"rating": "satisfied"}),
                (E.CLOSE, local(d + dt.timedelta(5), 12), b, {"unreasonable": False}),
            ],
        )
        # 重办: reply, unsatisfied, reopen, a later contact, a second reply and rating
        case = self.case(local(d, 8))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 9), a, {}),
                (E.CONTACT, local(d, 10), a, {"first": True, "on_time": False}),
                (E.REPLY, local(d + dt.timedelta(1), 9), a, {"outcome": "partly"}),
                (E.EVALUATE, local(d + dt.timedelta(2), 9), a, {"rating": "unsatisfied"}),
                (E.REOPEN, local(d + dt.timedelta(2), 10), a, {}),
                (E.CONTACT, local(d + dt.timedelta(3), 9), a, {"first": False, "on_time": True}),
                (E.REPLY, local(d + dt.timedelta(6), 9), a, {"outcome": "resolved"}),
                (E.EVALUATE, local(d + dt.timedelta(7), 9), a, {"rating": "basically_satisfied"}),
                (E.CLOSE, local(d + dt.timedelta(8), 9), a, {}),
            ],
        )
        # dispatched on 31 January at 23:50, first contact on 1 February just after midnight
        case = self.case(local(dt.date(2024, 1, 31), 23, 20))
        self.write(
            case,
            [
                (E.DISPATCH, local(dt.date(2024, 1, 31), 23, 50), c, {}),
                (E.CONTACT, local(dt.date(2024, 2, 1), 0, 10), c, {"first": True, "on_time": 1}),
                (E.REPLY, local(dt.date(2024, 2, 3), 9), c, {"outcome": "explained"}),
            ],
        )
        # an unreasonable ruling (督查研判, no unit) days after the rating
        case = self.case(local(d, 9))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 10), b, {}),
                (E.REPLY, local(d + dt.timedelta(1), 10), b, {"outcome": "resolved"}),
                (E.EVALUATE, local(d + dt.timedelta(2), 10), None, {"rating": "unsatisfied"}),
                (E.CLOSE, local(d + dt.timedelta(6), 10), None, {"unreasonable": True}),
            ],
        )
        # recategorised after its events were written
        case = self.case(local(d, 9))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 10), a, {}),
                (E.RECATEGORISE, local(d + dt.timedelta(1), 10), a, {}),
                (E.REPLY, local(d + dt.timedelta(2), 10), a, {"outcome": "resolved"}),
            ],
        )
        Case.objects.filter(pk=case.pk).update(category_id=self.categories[-1])
        # 即时办结 at intake, rated and closed the same day
        case = self.case(local(d, 9))
        self.write(
            case,
            [
                (E.RESOLVE_AT_INTAKE, local(d, 9, 5), None, {"outcome": "resolved"}),
                (E.EVALUATE, local(d, 15), None, {"rating": "satisfied"}),
                (E.CLOSE, local(d, 16), None, {"unreasonable": False}),
            ],
        )
        # the local midnight: 23:59:59 and 00:00:00 (16:00 UTC) are different days
        case = self.case(local(d, 23, 59, 58))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 23, 59, 59), a, {}),
                (E.CONTACT, local(d + dt.timedelta(1)), a, {"first": True, "on_time": True}),
            ],
        )
        # two events at the same instant to different units (the later id wins), and an event
        # written after another though it happened before it
        case = self.case(local(d, 9))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 10), a, {}),
                (E.DISPATCH, local(d, 10), b, {}),
                (E.REPLY, local(d + dt.timedelta(3), 10), b, {"outcome": "partly"}),
                (E.CONTACT, local(d + dt.timedelta(1), 10), c, {"first": True, "on_time": True}),
            ],
        )
        # payloads as they may come: no outcome, a null outcome, truthy non-booleans, no rating
        case = self.case(local(d, 9))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 10), a, {}),
                (E.CONTACT, local(d, 11), a, {"first": 1, "on_time": ""}),
                (E.REPLY, local(d, 12), a, {"outcome": "resolved"}),
                (E.REPLY, local(d + dt.timedelta(1), 12), a, {"outcome": None}),
                (E.EVALUATE, local(d + dt.timedelta(2), 12), a, {"rating": "satisfied"}),
                (E.EVALUATE, local(d + dt.timedelta(2), 13), a, {}),
                (E.CLOSE, local(d + dt.timedelta(3), 13), a, {"unreasonable": "yes"}),
            ],
        )
        # a day with only a 不予受理 event between two rate days
        case = self.case(local(d, 9))
        self.write(
            case,
            [
                (E.DISPATCH, local(d, 10), a, {}),
                (E.REJECT, local(d + dt.timedelta(1), 10), None, {}),
                (E.DISPATCH, local(d + dt.timedelta(2), 10), b, {}),
            ],
        )
        # only events that count nothing: no RollupCase row; only a recategorisation: one
        # (years before the periods the dashboards are compared on: no submit event)
        old = local(dt.date(2020, 1, 1), 9)
        case = self.case(old)
        CaseEvent.objects.create(case=case, type=E.ACCEPT, created_at=old, payload={})
        case = self.case(old)
        CaseEvent.objects.create(case=case, type=E.RECATEGORISE, created_at=old)

    def random(self, n: int) -> None:
        """``n`` cases with random timelines: any counted type in any order, several units or
        none, payload variants, steps of seconds to weeks (across days, month ends and the
        local midnight), some at the same instant, some written out of time order."""
        rng = self.rng
        first = dt.date(2023, 12, 20)
        payloads: dict[str, list[dict[str, Any]]] = {
            E.CONTACT: [
                {"first": True, "on_time": True},
                {"first": True, "on_time": False},
                {"first": False, "on_time": True},
                {"first": 1, "on_time": 0},
                {"on_time": True},
            ],
            E.REPLY: [{"outcome": "resolved"}, {"outcome": "partly"}, {"outcome": None}, {}],
            E.RESOLVE_AT_INTAKE: [{"outcome": "resolved"}, {"outcome": "explained"}],
            E.EVALUATE: [
                {"rating": "satisfied"},
                {"rating": "basically_satisfied"},
                {"rating": "unsatisfied"},
                {},
            ],
            E.CLOSE: [{"unreasonable": False}, {"unreasonable": True}, {}],
        }
        kinds = [
            *[E.DISPATCH] * 3,
            *[E.CONTACT] * 3,
            *[E.REPLY] * 3,
            E.RESOLVE_AT_INTAKE,
            *[E.EVALUATE] * 3,
            *[E.CLOSE] * 2,
            E.REJECT,
            E.RECATEGORISE,
            E.MERGE,  # 合并: the case counts no rate counter in a run that holds it
            E.SIGN,
            E.PROGRESS,
            E.REOPEN,
        ]
        steps_in_seconds = [0, 1, 60, 3600, 6 * 3600, 86400, 2 * 86400, 9 * 86400]
        for _ in range(n):
            start = local(first + dt.timedelta(rng.randrange(45)), rng.randrange(24))
            start += dt.timedelta(seconds=rng.choice([0, 59 * 60 + 59, rng.randrange(3600)]))
            case = self.case(start)
            at = start
            steps: list[tuple[str, dt.datetime, int | None, dict[str, Any]]] = []
            for _step in range(rng.randint(0, 9)):
                at += dt.timedelta(seconds=rng.choice(steps_in_seconds))
                kind = rng.choice(kinds)
                unit = rng.choice([*self.units, None])
                steps.append((kind, at, unit, rng.choice(payloads.get(kind, [{}]))))
            if rng.random() < 0.15:
                rng.shuffle(steps)  # ids no longer follow time within the case
            self.write(case, steps)
            if rng.random() < 0.1:
                Case.objects.filter(pk=case.pk).update(category_id=rng.choice(self.categories))


# --- the rebuild equals the Python one -------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_set_based_rebuild_writes_the_rows_of_the_python_rebuild(seed: int, superuser) -> None:
    # Given generated cases, awkward histories and random ones
    generate_cases(150, now=NOW, seed=seed)
    histories = Histories(seed)
    histories.awkward()
    histories.random(250)
    # When the rollup is rebuilt in Python and then set-based
    python, set_based = both_rebuilds()
    # Then the day rows, month rows, folded categories and watermark are the same
    assert python["days"] and any(since < day for day, since, *_ in python["days"])
    assert set_based == python
    # and the dashboards find what compute_rates finds, for any period of whole days
    assert_equal(superuser, seed=seed)


@pytest.mark.postgres
@pytest.mark.django_db
def test_rebuild_in_place_and_by_swap_write_the_same_rows() -> None:
    # Given generated cases with more events on old ones
    generate_cases(200, now=NOW, seed=4)
    append_events(seed=4)
    indexes = _index_names()
    # When the rollup is rebuilt by deleting and inserting rows, and then by building and
    # swapping in new tables
    rebuild_rollup_sql(swap=False)
    in_place = snapshot()
    report = rebuild_rollup_sql(swap=True)
    # Then the rows are the same, and the tables keep the names of their indexes and
    # constraints
    assert report.swapped
    assert snapshot() == in_place
    assert _index_names() == indexes


def _index_names() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, array_agg(i.relname ORDER BY i.relname), "
            "(SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint "
            " WHERE conrelid = c.oid) "
            "FROM pg_class c JOIN pg_index x ON x.indrelid = c.oid "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE c.relname IN ('cases_casedaystat', 'cases_casemonthstat', 'cases_rollupcase') "
            "GROUP BY c.relname, c.oid"
        )
        return {table: [*indexes, *constraints] for table, indexes, constraints in cursor}


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_incremental_refresh_after_the_set_based_rebuild_folds_only_new_events() -> None:
    # Given a rollup rebuilt set-based
    generate_cases(200, now=NOW, seed=8)
    rebuild_rollup_sql()
    watermark = RollupState.objects.get().last_event_id
    assert watermark == CaseEvent.objects.aggregate(m=Max("pk"))["m"]

    # When new cases and new events on old cases (re-dispatch, recategorisation …) come in
    generate_cases(120, now=NOW + dt.timedelta(days=20), seed=9)
    append_events(seed=6)
    new = CaseEvent.objects.filter(pk__gt=watermark)
    touched = set(new.filter(type__in=TOUCHING_TYPES).values_list("case_id", flat=True))
    context = CaseEvent.objects.filter(
        pk__lte=watermark, case_id__in=touched, type__in=COUNTED_TYPES
    ).count()
    report = refresh_rollup()

    # Then the refresh read the new events and the earlier events of the cases they touch only
    assert report.events_read == new.count()
    assert report.context_events_read == context
    assert report.cases_touched == len(touched)
    # and its rows equal a full rebuild, in Python and set-based
    incremental = table()
    rebuild_rollup()
    assert table() == incremental
    rebuild_rollup_sql()
    assert table() == incremental


@pytest.mark.postgres
@pytest.mark.django_db
def test_gaps_are_the_holes_among_the_recent_event_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given events whose ids skip four numbers before the last one (a slow or rolled-back
    # writer)
    generate_cases(30, now=NOW, seed=3)
    last = CaseEvent.objects.order_by("-pk").first()
    assert last is not None
    CaseEvent.objects.create(
        id=last.pk + 5, case_id=last.case_id, type=E.SUBMIT, created_at=last.created_at
    )
    # When the rollup is rebuilt in Python and set-based
    python, set_based = both_rebuilds()
    # Then both remember the same gap
    assert set_based["gaps"] == python["gaps"] == [[last.pk + 1, last.pk + 4]]
    # and the set-based rebuild only looks GAP_WINDOW ids back
    monkeypatch.setattr(sql_rebuild, "GAP_WINDOW", 2)
    rebuild_rollup_sql()
    assert [g[:2] for g in RollupState.objects.get().gaps] == [[last.pk + 4, last.pk + 4]]


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_empty_history_rebuilds_to_an_empty_rollup() -> None:
    assert not CaseEvent.objects.exists()
    report = rebuild_rollup_sql()
    assert report.rows == report.month_rows == report.cases_touched == 0
    assert RollupState.objects.get().last_event_id == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_batches_cover_every_case_id_once_even_when_ids_do_not_follow_time() -> None:
    # Given cases generated twice over the same year (the second run's ids interleave with
    # the first run's months)
    generate_cases(300, now=NOW, seed=1)
    generate_cases(300, now=NOW, seed=2)
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    # When the batches are planned with small limits
    with connection.cursor() as cursor:
        plan = plan_batches(cursor, "Asia/Shanghai", min_cases=40, max_cases=120)
    # Then they are consecutive id ranges that cover every id, none too large
    assert plan[0].low == ids[0] and plan[-1].high == ids[-1]
    assert all(a.high + 1 == b.low for a, b in itertools.pairwise(plan))
    assert all(sum(b.low <= i <= b.high for i in ids) <= 120 for b in plan)


# --- worker connections (they see committed rows only: a transactional test) ------------------


def _seed() -> None:
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    seed_organisation()
    seed_reference()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_connections_write_the_rows_of_the_python_rebuild() -> None:
    # Given committed cases
    _seed()
    generate_cases(300, now=NOW, seed=11)
    append_events(seed=11)
    rebuild_rollup()
    python = snapshot()
    lines: list[str] = []
    # When the batches run in two worker connections in the exported snapshot
    report = rebuild_rollup_sql(workers=2, min_batch_cases=40, progress=lines.append)
    # Then the rows are the Python rebuild's, and the shared staging tables are gone
    assert report.workers == 2 and report.batches > 2
    assert snapshot() == python
    assert _stage_tables() == []
    assert any("2 worker connections" in line for line in lines)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_worker_leaves_the_rollup_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a rollup
    _seed()
    generate_cases(120, now=NOW, seed=12)
    rebuild_rollup()
    before = snapshot()
    # When a worker's statement fails
    monkeypatch.setattr(sql_rebuild, "batch_sql", lambda stage: "SELECT 1 / 0")
    with pytest.raises(Exception, match="division by zero"):
        rebuild_rollup_sql(workers=2, min_batch_cases=30)
    # Then nothing changed and no staging table is left
    assert snapshot() == before
    assert _stage_tables() == []


def _stage_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE %s", [f"{sql_rebuild.STAGE_PREFIX}%"]
        )
        return [name for (name,) in cursor.fetchall()]


# --- the command -----------------------------------------------------------------------------


class _Report:
    events_read, cases_touched, rows, rows_upserted, last_event_id, seconds = 7, 2, 3, 3, 9, 0.1


@pytest.mark.parametrize(
    ("vendor", "options", "expected"),
    [
        ("sqlite", {}, "python"),
        ("postgresql", {}, "sql"),
        ("postgresql", {"python": True}, "python"),
    ],
)
def test_the_command_is_set_based_on_postgresql_only(
    monkeypatch: pytest.MonkeyPatch, vendor: str, options: dict[str, Any], expected: str
) -> None:
    # Given the database vendor (no database is touched: both rebuilds are stand-ins)
    calls: list[str] = []

    def python() -> _Report:
        calls.append("python")
        return _Report()

    def sql(**_options: Any) -> _Report:
        calls.append("sql")
        return _Report()

    monkeypatch.setattr(command, "connection", type("Connection", (), {"vendor": vendor}))
    monkeypatch.setattr(command, "rebuild_rollup", python)
    monkeypatch.setattr(command, "rebuild_rollup_sql", sql)
    out = io.StringIO()
    # When the command runs
    call_command("rebuild_rollup", stdout=out, **options)
    # Then it chose the rebuild of that vendor, and says which
    assert calls == [expected]
    assert "rebuilt: 7 events" in out.getvalue()
    assert ("Python fold" if expected == "python" else "set-based") in out.getvalue()
    assert "SQLite" in command.Command.help


def test_ranges_start_at_each_month_and_join_small_months() -> None:
    months = [("2024-01", 1, 5), ("2024-02", 6, 30), ("2024-03", 40, 3), ("2024-04", 44, 2)]
    assert sql_rebuild._ranges(months, 50, 10) == [
        ("2024-01", 1, 39, 35),
        ("2024-03", 40, 50, 5),
    ]
    assert Batch("2024-01", 1, 39, 35).high == 39


@pytest.mark.parametrize(("vendor", "expected"), [("sqlite", "python"), ("postgresql", "sql")])
def test_rebuild_chooses_by_vendor(
    monkeypatch: pytest.MonkeyPatch, vendor: str, expected: str
) -> None:
    monkeypatch.setattr(sql_rebuild, "connection", type("Connection", (), {"vendor": vendor}))
    monkeypatch.setattr(sql_rebuild, "rebuild_rollup", lambda: "python")
    monkeypatch.setattr(sql_rebuild, "rebuild_rollup_sql", lambda **_options: "sql")
    assert sql_rebuild.rebuild() == expected
