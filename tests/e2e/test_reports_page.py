"""日报/周报 and the 月通报 draft in a real browser: the committee writes a 日报 on demand and
reads it (printable tables, axe clean), a unit leader finds it in the list, and the committee
drafts this month's bulletin from the board."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from stats.models import Bulletin, CaseReport
from tests.conftest import Demo
from tests.e2e.conftest import axe_violations, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_committee_writes_a_daily_report_and_a_leader_reads_it(
    page: Page, live_server: Any, seeded: Demo
) -> None:
    day = timezone.localdate() - dt.timedelta(days=2)
    sign_in(page, live_server.url, "committee1")
    page.goto(f"{live_server.url}/dashboard/reports/")
    expect(page.locator(".xn-empty")).to_be_visible()  # nothing written yet
    form = page.locator("#report-generate")
    form.get_by_label("类型").select_option("daily")
    form.get_by_label("日期（周报：该周任一天）").fill(timezone.localdate().isoformat())
    form.get_by_role("button", name="生成").click()
    expect(form.locator('[data-error-for="day"]')).not_to_be_empty()  # today is not over
    form.get_by_label("日期（周报：该周任一天）").fill(day.isoformat())
    form.get_by_role("button", name="生成").click()
    expect(page.locator("#report-title")).to_contain_text("日报")
    report = CaseReport.objects.get()
    assert report.start == day
    expect(page.get_by_role("heading", name="分区县")).to_be_visible()
    expect(page.get_by_role("link", name="导出 Excel")).to_have_attribute(
        "href", f"/api/v1/stats/reports/{report.pk}/export.xlsx"
    )
    assert axe_violations(page) == []
    screenshot(page, "dashboard-report-1280")

    # A unit leader finds it in the list and opens it
    page.context.clear_cookies()
    sign_in(page, live_server.url, "leader_huangzhong")
    page.goto(f"{live_server.url}/dashboard/reports/")
    expect(page.locator("#report-generate")).to_have_count(0)
    page.get_by_role("link", name=f"日报 {day.isoformat()}").click()
    expect(page.locator("#report-title")).to_contain_text("日报")
    assert axe_violations(page) == []


def test_the_committee_drafts_this_months_bulletin_from_the_board(
    page: Page, live_server: Any, seeded: Demo
) -> None:
    sign_in(page, live_server.url, "committee1")
    page.goto(f"{live_server.url}/dashboard/topics/")
    page.get_by_role("button", name="生成本月草稿").click()
    expect(page.locator("#bulletin-form")).to_be_visible()  # the draft's editor
    bulletin = Bulletin.objects.get()
    assert bulletin.month == timezone.localdate().replace(day=1)
    assert page.url.endswith(f"/dashboard/bulletins/{bulletin.pk}/")
