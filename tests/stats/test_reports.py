"""日报/周报: the figures equal compute_rates and the case counts over the same window on random
data; a report is written and published once; the API, the workbook, the pages; and the 月通报
drafted on demand."""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cases.models import OPEN_STATUSES, Case
from cases.selectors import queue_filters
from demo.history import generate_cases
from notifications.models import Notification
from org.models import User
from stats import reports
from stats.models import Bulletin, BulletinStatus, CaseReport, ReportKind
from stats.tasks import daily_report_task, weekly_report_task
from tests.conftest import Demo
from tests.stats.conftest import NOW
from tests.stats.test_rollup import RATE_COUNTERS, direct, direct_counts
from xining_issues.schedule import beat_schedule

URL = "/api/v1/stats/reports/"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def counts(row: dict[str, Any]) -> dict[str, int]:
    return {name: row[name] for name in RATE_COUNTERS}


@pytest.mark.parametrize("seed", [3, 8])
def test_report_figures_equal_compute_rates_and_counts_on_random_data(
    superuser: User, demo: Demo, seed: int
) -> None:
    # Given a few hundred generated cases over the year before NOW
    generate_cases(300, now=NOW, seed=seed, batch_size=150)
    draw = random.Random(seed)
    days = [NOW.date() - dt.timedelta(days=draw.randint(1, 300)) for _ in range(3)]
    seen: list[dict[str, Any]] = []
    for kind, day in [(ReportKind.DAILY, d) for d in days] + [
        (ReportKind.WEEKLY, d) for d in days
    ]:
        # When the report of that day or week is written
        report = reports.generate(kind, day=day, now=NOW)
        start, end = reports.window(kind, day)
        assert (report.start, report.end) == (start, end)
        data = report.data
        # Then received is the cases created in the window
        assert data["totals"]["created"] == direct_counts(start, end)["created"]
        # and the districts' and units' rate counters are compute_rates' over the same window
        by_district = direct(superuser, start, end, "district")
        assert {r["id"]: counts(r) for r in data["districts"] if any(counts(r).values())} == (
            by_district
        )
        by_unit = {k: v for k, v in direct(superuser, start, end, "unit").items() if k}
        assert {r["id"]: counts(r) for r in data["units"] if any(counts(r).values())} == by_unit
        totals = {name: sum(c[name] for c in by_district.values()) for name in RATE_COUNTERS}
        assert counts(data["totals"]) == totals
        dispatched, responded = totals["dispatched"], totals["responded"]
        expected_rate = round(responded / dispatched, 4) if dispatched else None
        assert data["totals"]["response_rate"] == expected_rate
        # and overdue is the open cases past their deadline at the time of writing
        overdue = Case.objects.filter(queue_filters(NOW)["overdue"], status__in=OPEN_STATUSES)
        assert data["totals"]["overdue"] == overdue.count()
        assert sum(r["overdue"] for r in data["districts"]) == overdue.count()
        assert sum(r["overdue"] for r in data["units"]) == overdue.exclude(lead_unit=None).count()
        created = [c["created"] for c in data["top_categories"]]
        assert created == sorted(created, reverse=True) and len(created) <= 5
        seen.append(data["totals"])
    # (and the windows held cases: the comparison was not of zeros)
    assert any(t["created"] for t in seen) and any(t["dispatched"] for t in seen)


def test_a_report_is_written_and_published_once(demo: Demo) -> None:
    # Given a unit leader, the committee, supervisors and admins, and plain handlers
    readers = {u.pk for u in reports.readers()}
    assert demo.user("committee1").pk in readers and demo.user("leader_huangzhong").pk in readers
    assert demo.user("handler_huangzhong").pk not in readers
    # When yesterday's 日报 is written twice (a retry, two beats)
    first = reports.generate(ReportKind.DAILY)
    again = reports.generate(ReportKind.DAILY)
    # Then there is one report, and each reader was told once, with a link to it
    assert first.pk == again.pk and CaseReport.objects.count() == 1
    assert first.start == timezone.localdate() - dt.timedelta(days=1)
    told = Notification.objects.filter(kind="case_report")
    assert sorted(told.values_list("user_id", flat=True)) == sorted(readers)
    assert {n.subject_id for n in told} == {first.pk}
    # And a refresh on demand rewrites the figures, telling nobody again
    later = first.generated_at + dt.timedelta(hours=3)
    refreshed = reports.generate(ReportKind.DAILY, day=first.start, now=later, refresh=True)
    assert refreshed.generated_at == later
    assert told.count() == len(readers)


def test_windows_and_a_window_not_yet_over_is_refused(db: None) -> None:
    wednesday = dt.date(2026, 12, 2)
    assert reports.window(ReportKind.DAILY, wednesday) == (wednesday, wednesday)
    assert reports.window(ReportKind.WEEKLY, wednesday) == (
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 6),
    )
    assert reports.last_window(ReportKind.WEEKLY, wednesday) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 29),
    )
    with pytest.raises(ValueError, match="whole days"):
        reports.generate(ReportKind.DAILY, day=timezone.localdate())
    with pytest.raises(ValueError, match="whole days"):
        reports.generate(ReportKind.WEEKLY, day=timezone.localdate())
    assert not CaseReport.objects.exists()


def test_the_beat_writes_yesterdays_and_last_weeks(demo: Demo) -> None:
    tasks = {task for task, _when in beat_schedule().values()}
    assert {"stats.daily_report", "stats.weekly_report"} <= tasks
    daily = CaseReport.objects.get(pk=daily_report_task())
    weekly = CaseReport.objects.get(pk=weekly_report_task())
    today = timezone.localdate()
    assert daily.end == today - dt.timedelta(days=1)
    assert (
        weekly.end < today
        and weekly.start.weekday() == 0
        and (weekly.end - weekly.start).days == 6
    )


def test_the_api_for_staff_and_the_committees_report_on_demand(demo: Demo) -> None:
    day = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    committee = client_for(demo.user("committee1"))
    # The committee writes one (201), and again refreshes it (200)
    first = committee.post(URL, {"kind": "daily", "day": day}, format="json")
    assert first.status_code == 201, first.json()
    again = committee.post(URL, {"kind": "daily", "day": day}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert set(first.json()["data"]) >= {"totals", "districts", "units", "top_categories"}
    # A window not over, a bad kind, a bad day: 400, nothing written
    for body in ({"kind": "daily", "day": timezone.localdate().isoformat()},
                 {"kind": "monthly"}, {"kind": "weekly", "day": "yesterday"}):  # fmt: skip
        assert committee.post(URL, body, format="json").status_code == 400
    assert CaseReport.objects.count() == 1
    # A handler reads them and may not write one; a resident sees none; a visitor is refused
    handler = client_for(demo.user("handler_huangzhong"))
    assert handler.post(URL, {"kind": "daily", "day": day}, format="json").status_code == 403
    listed = handler.get(URL, {"kind": "daily"}).json()["results"]
    assert [r["id"] for r in listed] == [first.json()["id"]]
    assert handler.get(URL, {"kind": "weekly"}).json()["results"] == []
    resident = client_for(demo.user("resident1"))
    assert resident.get(URL).json()["results"] == []
    assert resident.get(f"{URL}{first.json()['id']}/").status_code == 404
    assert client_for(None).get(URL).status_code == 403


def test_the_workbook_holds_the_reports_tables(demo: Demo) -> None:
    report = reports.generate(ReportKind.WEEKLY)
    answer = client_for(demo.user("handler_huangzhong")).get(f"{URL}{report.pk}/export.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["合计", "分区县", "分单位", "热点类别"]
    assert [c.value for c in book["合计"][3]][:2] == ["全市", report.data["totals"]["created"]]


def test_the_pages(demo: Demo) -> None:
    report = reports.generate(ReportKind.DAILY)
    page = Client()
    page.force_login(demo.user("leader_huangzhong"))
    listing = page.get("/dashboard/reports/").content.decode()
    assert f"/dashboard/reports/{report.pk}/" in listing
    assert 'id="report-generate"' not in listing  # only the committee writes on demand
    detail = page.get(f"/dashboard/reports/{report.pk}/").content.decode()
    assert "分区县" in detail and "data-print" in detail
    page.force_login(demo.user("committee1"))
    assert 'id="report-generate"' in page.get("/dashboard/reports/").content.decode()
    page.force_login(demo.user("resident1"))
    assert page.get(f"/dashboard/reports/{report.pk}/").status_code == 403


# --- 月通报: 生成本月草稿 ------------------------------------------------------------------

DRAFT = "/api/v1/bulletins/draft/"


def test_the_committee_drafts_this_months_bulletin_on_demand(demo: Demo) -> None:
    committee = client_for(demo.user("committee1"))
    first = committee.post(DRAFT, {}, format="json")
    assert first.status_code == 200, first.json()
    bulletin = Bulletin.objects.get(pk=first.json()["id"])
    assert bulletin.month == timezone.localdate().replace(day=1)
    assert bulletin.status == BulletinStatus.DRAFT
    # Again: the same draft, rebuilt
    assert committee.post(DRAFT, {}, format="json").json()["id"] == bulletin.pk
    # A future month is a 400; a published month a 409; others may not
    future = (timezone.localdate().replace(day=1) + dt.timedelta(days=40)).isoformat()
    assert committee.post(DRAFT, {"month": future}, format="json").status_code == 400
    Bulletin.objects.filter(pk=bulletin.pk).update(status=BulletinStatus.PUBLISHED)
    assert committee.post(DRAFT, {}, format="json").status_code == 409
    for username in ("supervisor1", "handler_huangzhong"):
        assert client_for(demo.user(username)).post(DRAFT, {}, format="json").status_code == 403
    assert Bulletin.objects.count() == 1
