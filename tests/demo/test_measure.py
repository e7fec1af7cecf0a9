"""``bench_city``'s figures, report and guard. The HTTP measurements themselves run whole in
``.ci/run`` (``bench_city --cases 20000 --quick``) against a committed city: gunicorn cannot see
a test's transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

from cases import workflow
from cases.models import Case
from demo.city import BENCH_MARK, CityError, require_scratch_database
from demo.measure import Figure, IntakeFigures, _cursor_at, database_url
from demo.report import Report, render
from tests.conftest import Demo

pytestmark = pytest.mark.postgres


def test_a_figure_is_p50_p95_max_of_its_calls_and_met_against_its_target() -> None:
    figure = Figure("queue", "tab", 50, timings=[float(ms) for ms in range(1, 101)])
    assert (figure.p50, figure.p95, figure.max) == (51.0, 95.0, 100.0)
    assert figure.met is False  # p95 95 ms > 50 ms
    assert Figure("queue", "tab", 100, timings=[10.0] * 50).met is True
    failed = Figure("queue", "tab", 100, timings=[1.0], error="HTTP 500")
    assert failed.met is False and "FAILED" in failed.line()


def test_the_report_names_every_missed_target_and_how_to_repeat_the_run(
    demo: Demo, tmp_path: Path
) -> None:
    intake = IntakeFigures(clients=8, seconds=10, requests=500, timings=[30.0] * 500)
    intake.pgbench_tps = 2000.0  # 50 req/s = 2.5 % of it: missed
    report = Report(
        command=["bench_city", "--cases", "10000000"],
        started=dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
        quick=False,
        figures=[
            Figure("dashboard", "overview, 30 days", 100, timings=[20.0] * 50),
            Figure("search", "暖气", 300, timings=[400.0] * 50),
        ],
        intake=intake,
    )
    text = render(report)
    assert "python manage.py bench_city --cases 10000000" in text
    assert "**Targets missed:** search / 暖气; intake" in text
    assert "| search | 暖气 | 50 | 400.0 | 400.0 | 400.0 | 300 | **missed** (+100.0 ms) |" in text
    assert "Ratio **2.5 %**" in text
    assert "shared_buffers" in text  # the server's settings are part of the record


def test_the_report_states_the_training_at_volume_against_its_targets(demo: Demo) -> None:
    base = {"version": 3, "trained": 300_000, "held_out": 33_334, "top1": 0.91, "top3": 0.98}
    figures = {**base, "cases": 1_000_000, "seconds": 700.0, "peak_mb": 1500.0}
    hand = {"cases": 130, "top1": 0.7, "top3": 0.85}
    report = Report(
        command=["bench_city", "--cases", "1000000"],
        started=dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
        quick=False,
        router={**figures, "target_missed": True, "hand": hand},
    )
    text = render(report)
    assert "**Targets missed:** 智能派单 training" in text
    assert "in **700.0 s** wall with a peak of **1,500 MB**" in text
    assert "≤ 2,048 MB: **missed**" in text
    assert "the 130 hand-phrased complaints: top-1 70.0%, top-3 85.0%" in text
    small = Report(
        command=["bench_city", "--cases", "20000"],
        started=dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
        quick=True,
        router={**base, "cases": 20_000, "seconds": 9.0, "peak_mb": 300.0, "hand": None},
    )
    assert "≤ 2,048 MB: –" in render(small)  # the target is for 1 M cases
    assert small.missed() == []


def test_the_server_is_given_the_database_this_process_uses() -> None:
    assert database_url().endswith("/" + connection.settings_dict["NAME"])


def test_a_database_with_real_cases_is_refused_unless_forced(demo: Demo) -> None:
    workflow.case_submit(
        actor=demo.user("resident1"),
        category=demo.category("heating-cold"),
        region=demo.region("湟中区", "多巴镇", "多巴一村"),
        description="家里暖气不热。",
        complainant_name="赵先生",
        complainant_phone="13897123456",
    )
    with pytest.raises(CityError, match="scratch database"):
        require_scratch_database()
    with pytest.raises(CommandError, match="scratch database"):
        call_command("bench_city", cases=1, skip="router,measure,scan,report")
    require_scratch_database(force=True)  # an operator who means it: marked from now on
    require_scratch_database()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        assert cursor.fetchone()[0] == BENCH_MARK


def test_an_unknown_step_to_skip_is_refused(demo: Demo) -> None:
    with pytest.raises(CommandError, match="no step named nonsense"):
        call_command("bench_city", cases=1, skip="nonsense")


@pytest.mark.django_db
def test_a_computed_cursor_opens_the_page_after_its_position(demo: Demo) -> None:
    """Deep paging's cursor, whatever characters its base64 holds (padding, "+", "/")."""
    submitted = [
        workflow.case_submit(
            actor=demo.user("operator1"),
            category=demo.category("heating-cold"),
            region=demo.region("湟中区", "多巴镇", "多巴一村"),
            description=f"第{n}户暖气不热。",
            complainant_name="赵先生",
            complainant_phone="13897123456",
        )
        for n in range(12)
    ]
    # The newest at a whole second (a cursor with base64 padding, the one that was "invalid"
    # at ten million cases), the others with microseconds that vary the cursor's length.
    for n, case in enumerate(submitted):
        Case.objects.filter(pk=case.pk).update(
            created_at=dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)
            - dt.timedelta(seconds=n, microseconds=37 * n * n)
        )
    client = APIClient()
    client.force_authenticate(demo.user("dispatcher_city"))
    newest_first = list(Case.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    for offset in range(len(newest_first) - 1):
        cursor = _cursor_at(offset, Case.objects.all())
        response = client.get("/api/v1/cases/", {"cursor": cursor, "page_size": 3})
        assert response.status_code == 200, (offset, cursor, response.content)
        assert [r["id"] for r in response.json()["results"]] == newest_first[
            offset + 1 : offset + 4
        ]
