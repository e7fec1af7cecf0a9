"""The refresh is incremental, and concurrent refreshes fold each event once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import F, Max

from cases.models import CaseEvent, EventType
from demo.history import generate_cases
from stats.models import COUNTERS, CaseDayStat, RollupState
from stats.rollup import rebuild_rollup, refresh_rollup
from tests.stats.conftest import NOW


def table() -> dict[tuple, tuple]:
    out = {}
    for row in CaseDayStat.objects.values_list(
        "day", "since", "region_id", "category_id", "unit_key", *COUNTERS
    ):
        if any(row[5:]):
            out[row[:5]] = row[5:]
    return out


@pytest.mark.django_db
def test_refresh_after_1000_new_cases_reads_only_the_new_events() -> None:
    # Given a folded rollup
    generate_cases(200, now=NOW)
    refresh_rollup()
    watermark = RollupState.objects.get().last_event_id
    assert CaseDayStat.objects.exclude(since=F("day")).exists()  # the correction rows are used

    # When 1,000 new cases are written and the rollup is refreshed
    generate_cases(1000, now=NOW + dt.timedelta(days=3), seed=99)
    new_events = CaseEvent.objects.filter(pk__gt=watermark).count()
    report = refresh_rollup()

    # Then it read exactly the new events (no earlier event of those new cases exists)
    assert report.events_read == new_events
    assert report.context_events_read == 0
    assert report.last_event_id == CaseEvent.objects.aggregate(m=Max("pk"))["m"]
    assert RollupState.objects.get().last_event_id == report.last_event_id
    # and a second refresh has nothing to do
    again = refresh_rollup()
    assert again.events_read == 0 and again.cases_touched == 0


@pytest.mark.django_db
def test_an_id_taken_by_a_slow_writer_is_kept_as_a_gap_and_folded_when_it_appears() -> None:
    # Given a folded rollup
    generate_cases(30, now=NOW)
    refresh_rollup()
    last = CaseEvent.objects.order_by("-pk").first()
    assert last is not None

    def copy(event_id: int) -> None:
        CaseEvent.objects.create(
            id=event_id,
            case_id=last.case_id,
            type=EventType.SUBMIT,
            unit=None,
            payload={},
            created_at=last.created_at,
        )

    # When an event with a later id is visible while ids before it are not (a slow writer)
    copy(last.pk + 5)
    refresh_rollup()
    state = RollupState.objects.get()
    # Then the missing ids are remembered as a gap
    assert state.last_event_id == last.pk + 5
    assert [g[:2] for g in state.gaps] == [[last.pk + 1, last.pk + 4]]

    # When the slow writer commits, the next refresh folds its event and narrows the gap
    copy(last.pk + 2)
    report = refresh_rollup()
    state.refresh_from_db()
    assert report.events_read == 1
    assert [g[:2] for g in state.gaps] == [[last.pk + 1, last.pk + 1], [last.pk + 3, last.pk + 4]]
    incremental = table()
    rebuild_rollup()
    assert table() == incremental


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_fold_each_event_once() -> None:
    # Given unfolded events (a transactional test starts from an emptied database)
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    seed_organisation()
    seed_reference()
    generate_cases(600, now=NOW)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            refresh_rollup(batch_size=500)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    # When two refreshes run at the same time
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then the rows equal a rebuild: nothing was folded twice or skipped
    assert not errors
    concurrent = table()
    rebuild_rollup()
    assert table() == concurrent
