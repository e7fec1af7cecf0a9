"""The statistics commands run end to end: ``rebuild_rollup`` and the ``bench_stats`` benchmark
(its figures are printed, not asserted; here only that it runs and reports what it measured)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from cases.models import CaseEvent
from stats.models import CaseDayStat, CaseMonthStat
from tests.conftest import Demo

pytestmark = pytest.mark.django_db


def rollup_rows() -> tuple[set[tuple], set[tuple]]:
    fields = ("day", "since", "region_id", "category_id", "unit_key", "created", "evaluated")
    return (
        set(CaseDayStat.objects.values_list(*fields)),
        set(CaseMonthStat.objects.values_list(*fields)),
    )


def test_rebuild_rollup_gives_the_same_rows_as_the_refresh(data: Demo) -> None:
    # Given the rollup kept up by the incremental refresh (the ``data`` fixture)
    before = rollup_rows()
    out = io.StringIO()
    # When it is rebuilt from every event
    call_command("rebuild_rollup", stdout=out)
    # Then the rows are the same, and the command says how many events it folded
    assert rollup_rows() == before
    assert f"rebuilt: {CaseEvent.objects.count()} events" in out.getvalue()


def test_bench_stats_prints_its_figures(demo: Demo) -> None:
    out = io.StringIO()
    call_command("bench_stats", cases=60, new=25, calls=1, rebuild=True, stdout=out)
    text = out.getvalue()
    assert re.search(r"generate 60 cases, \d+ events", text)
    assert re.search(r"rebuild: [\d.]+ s \(\d+ events", text)
    # the refresh after the new cases reads exactly the new events (incremental)
    read, new = map(int, re.search(r"events read (\d+) \(new (\d+)\)", text).groups())
    assert read == new > 0
    for name in ("overview (1 year)", "trend week (1 year)", "rankings street (1 year)"):
        assert re.search(rf"  {re.escape(name)}: [\d.]+ ms / [\d.]+ ms", text), text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the benchmark VACUUMs, which no transaction may hold
def test_bench_case_map_prints_its_figures() -> None:
    call_command("seed_demo", stdout=io.StringIO())  # the first case it copies, the accounts
    out = io.StringIO()
    call_command("bench_case_map", cases=40, closed=10, calls=1, stdout=out)
    text = out.getvalue()
    assert "inserted 40 open located cases" in text
    assert "inserted 10 closed located cases" in text
    assert re.search(r"  city, open: [\d.]+ ms / [\d.]+ ms; \d+ cases in \d+ cells", text), text
    assert "EXPLAIN ANALYZE (城东区 dispatcher, city)" in text
