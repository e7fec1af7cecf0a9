"""The committee's dashboards in a real browser: charts with data, filters that change the
figures, Excel downloads, the topic board, the work plan, candidates, the printable bulletin,
who may open them, and axe-core on every page."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from demo.history import generate_cases
from demo.topics import PROPERTY_TITLE
from stats.bulletins import bulletin_generate
from stats.knowledge import first_call
from stats.rollup import refresh_rollup
from tests.conftest import Demo
from tests.e2e.conftest import (
    OVERDUE_TASK,
    axe_violations,
    demo_topics_with_a_late_task,
    screenshot,
    sign_in,
)
from topics.models import Topic, TopicTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dashboard(seeded: Demo) -> dict[str, Any]:
    """The demo organisation, the demo topics, a year of cases folded into the rollup, one
    overdue task on the property-certificate topic and the November 2023 bulletin."""
    task = demo_topics_with_a_late_task()
    generate_cases(300)
    refresh_rollup()
    bulletin = bulletin_generate(dt.date(2023, 11, 1))
    return {"demo": seeded, "task": task, "bulletin": bulletin}


def open_overview(page: Page, base: str) -> None:
    sign_in(page, base, "committee1")
    page.goto(base + "/dashboard/")
    page.wait_for_selector("body[data-dashboard-ready]")


def series_total(page: Page, chart_id: str) -> float:
    return page.evaluate(
        """(id) => {
          const chart = echarts.getInstanceByDom(document.getElementById(id));
          if (!chart) return -1;
          // a map series lists the map's regions without data as NaN: those count as nothing
          return chart.getOption().series
            .flatMap((s) => s.data)
            .map((v) => Number(typeof v === "object" ? v.value : v))
            .filter(Number.isFinite)
            .reduce((sum, v) => sum + v, 0);
        }""",
        chart_id,
    )


def expected_totals(page: Page, user: Any) -> dict[str, float]:
    """What each overview chart must add up to, asked of the stats API the page reads with the
    filters its form holds now (empty values left out, as static/js/api.js leaves them out)."""
    form = page.evaluate(
        """() => {
          const f = document.getElementById("dash-filters").elements;
          return {from: f.from.value, to: f.to.value, region: f.region.value,
                  w_response: f.w_response.value, w_resolution: f.w_resolution.value,
                  w_satisfaction: f.w_satisfaction.value};
        }"""
    )
    params = {k: v for k, v in form.items() if v != ""}
    granularity = page.locator("#f-granularity").input_value()
    client = APIClient()
    client.force_authenticate(user)

    def get(path: str, **extra: str) -> Any:
        response = client.get(path, {**params, **extra})
        assert response.status_code == 200, response.content
        return response.json()

    overview = get("/api/v1/stats/overview/")
    trend = get("/api/v1/stats/trend/", granularity=granularity)
    districts = get("/api/v1/stats/rankings/", by="district")["results"]
    return {
        "chart-stages": sum(s["count"] for s in overview["stages"]),
        # the chart shows the ten hottest categories only
        "chart-categories": sum(c["created"] for c in overview["hot_categories"][:10]),
        "chart-trend": sum(b["created"] + b["closed"] for b in trend["buckets"]),
        "chart-districts": sum(r["score"] for r in districts if r["score"] is not None),
    }


def map_regions(page: Page) -> int:
    """How many regions the registered Xining map has (from the packaged GeoJSON)."""
    return page.evaluate("() => echarts.getMap('xining').geoJSON.features.length")


def map_data_names(page: Page) -> list[str]:
    """The districts the map colours (ECharts lists the map's other regions without a value)."""
    return page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById("chart-districts"))
          .getOption().series[0].data.filter((d) => Number.isFinite(d.value)).map((d) => d.name)"""
    )


def assert_unit_ranking_workbook(download: Any) -> None:
    """The download is the units' ranking as a valid .xlsx with at least one named unit."""
    assert download.suggested_filename.startswith("rankings-unit-")
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:2] == ("排名", "承办单位")
    assert len(rows) >= 2 and rows[1][1]


def download_rows(page: Page, link: Any, prefix: str) -> list[tuple[Any, ...]]:
    """Click an export link; the rows of the first sheet of the valid .xlsx it downloads."""
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith(prefix)
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


def kpi(page: Page, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"]').inner_text()


def wait_for_refresh(page: Page, before: str | None) -> None:
    page.wait_for_function(
        "(before) => document.body.dataset.dashboardReady !== before", arg=before
    )


def test_overview_charts_filters_and_accessibility(
    page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    open_overview(page, live_server.url)
    # the charts are ECharts instances holding data
    # the charts are ECharts instances holding exactly the stats API's figures
    expected = expected_totals(page, dashboard["demo"].user("committee1"))
    assert all(total > 0 for total in expected.values()), expected
    for chart_id in ("chart-stages", "chart-categories", "chart-trend"):
        assert series_total(page, chart_id) == expected[chart_id], chart_id
    # the district map: Xining's GeoJSON from npm, coloured by score, named in its label
    assert series_total(page, "chart-districts") == pytest.approx(expected["chart-districts"])
    expect(page.locator("#chart-districts")).to_have_attribute("aria-label", re.compile("城东区"))
    assert map_regions(page) >= 7
    for chart_id in ("chart-stages", "chart-trend", "chart-categories", "chart-districts"):
        chart = page.locator(f"#{chart_id}")
        expect(chart).to_have_attribute("role", "img")
        assert len(chart.get_attribute("aria-label") or "") > 10
    # every chart's data is also a table
    assert page.locator("#table-stages tbody tr").count() == 6
    assert page.locator("#table-units tbody tr").count() >= 1
    assert page.locator("#table-districts tbody tr").count() >= 2
    # big figures
    for name in ("created", "response_rate", "resolution_rate", "satisfaction_rate", "score"):
        assert kpi(page, name) not in ("", "–")
    # the topic board: the topics at work with their progress and indicators
    summary = page.locator("#topic-summary")
    expect(summary.locator("article").first).to_be_visible()
    expect(summary).to_contain_text(PROPERTY_TITLE)
    expect(summary).to_contain_text("650 / 3,242")
    # 一次办结率 of the period, as stats.knowledge counts it, and the knowledge base's use
    today = dt.date.today()
    counted = first_call(
        dashboard["demo"].user("committee1"), today - dt.timedelta(days=29), today
    )
    assert counted["taken"] > 0
    expect(page.locator("#first-call-total")).to_contain_text(
        f"即时办结 {counted['at_intake']:,} 件 / 受理 {counted['taken']:,} 件"
    )
    assert page.locator("#table-first-call tbody tr").count() >= 1
    expect(page.locator("#knowledge-total")).to_contain_text("知识库答复 0 次")
    # the stages table is exported too
    rows = download_rows(page, page.locator('[data-export="stages"]'), "stages-")
    assert [r[0] for r in rows[1:7]] == page.locator("#table-stages tbody th").all_inner_texts()
    assert axe_violations(page) == []
    screenshot(page, "dashboard-overview-1280")

    # when the period widens to the whole year, the figures change
    before = kpi(page, "created")
    ready = page.evaluate("document.body.dataset.dashboardReady")
    page.locator("#f-from").fill((dt.date.today() - dt.timedelta(days=364)).isoformat())
    page.get_by_role("button", name="查询").click()
    wait_for_refresh(page, ready)
    year_total = kpi(page, "created")
    assert year_total != before
    # when a district is chosen, the figures change again and only that district is ranked
    ready = page.evaluate("document.body.dataset.dashboardReady")
    page.locator("#f-region").select_option(label="城东区")
    wait_for_refresh(page, ready)
    assert kpi(page, "created") != year_total
    expect(page.locator("#table-districts tbody tr")).to_have_count(1)
    expect(page.locator("#table-districts tbody")).to_contain_text("城东区")
    assert map_data_names(page) == ["城东区"]
    # when the weights change, the composite score follows
    score = kpi(page, "score")
    ready = page.evaluate("document.body.dataset.dashboardReady")
    page.locator("#f-w-response").fill("5")
    page.locator("#f-w-satisfaction").fill("0")
    page.get_by_role("button", name="查询").click()
    wait_for_refresh(page, ready)
    assert kpi(page, "score") != score


def test_overview_exports_a_valid_workbook(
    page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    open_overview(page, live_server.url)
    with page.expect_download() as info:
        page.locator('[data-export="rankings-unit"]').click()
    assert_unit_ranking_workbook(info.value)


def test_overview_background_export_shows_progress_then_a_download(
    page: Page,
    live_server: Any,
    dashboard: dict[str, Any],
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stats.models import ExportJob
    from stats.tasks import build_export_task

    settings.MEDIA_ROOT = str(tmp_path / "media")
    # the queue holds the job until the test runs the worker's task itself
    queued: list[int] = []
    monkeypatch.setattr(
        build_export_task, "apply_async", lambda args, **kw: queued.append(args[0])
    )
    open_overview(page, live_server.url)
    page.locator('[data-background-export="rankings-unit"]').click()
    bar = page.locator('[data-export-job="rankings-unit"] [role="progressbar"]')
    expect(bar).to_have_attribute("aria-valuenow", "0")
    assert len(queued) == 1
    # when the task runs, the page's polling shows the download link
    build_export_task(queued[0])
    assert ExportJob.objects.get(pk=queued[0]).progress == 100
    link = page.locator('[data-export-job="rankings-unit"] [data-export-download]')
    expect(link).to_be_visible(timeout=10_000)
    expect(bar).to_have_count(0)
    assert axe_violations(page) == []
    with page.expect_download() as info:
        link.click()
    assert_unit_ranking_workbook(info.value)


def test_overview_on_a_phone(
    phone_page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    open_overview(phone_page, live_server.url)
    stages = expected_totals(phone_page, dashboard["demo"].user("committee1"))["chart-stages"]
    assert stages > 0 and series_total(phone_page, "chart-stages") == stages
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    assert axe_violations(phone_page) == []
    screenshot(phone_page, "dashboard-overview-360")


@pytest.mark.parametrize(
    ("path", "prefix", "ready"),
    [
        ("/dashboard/", "f", "body[data-dashboard-ready]"),
        ("/dashboard/map/", "m", "#map-filters"),
    ],
    ids=["overview", "case-map"],
)
def test_a_period_the_wrong_way_round_is_refused_on_the_form(
    page: Page, live_server: Any, seeded: Demo, path: str, prefix: str, ready: str
) -> None:
    # Given a dashboard with a period form
    sign_in(page, live_server.url, "committee1")
    page.goto(live_server.url + path)
    page.wait_for_selector(ready)
    # When the period starts after it ends
    page.fill(f"#{prefix}-from", "2024-03-01")
    page.fill(f"#{prefix}-to", "2024-02-01")
    page.locator(f"#{prefix}-to").press("Enter")
    # Then the form says so, on the start date, and asks nothing of the server
    alert = page.locator("[data-form-alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("起始日期不能晚于截止日期")
    expect(page.locator(f"#{prefix}-from")).to_have_attribute("aria-invalid", "true")


def test_topic_board_shows_progress_and_indicators(
    page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    sign_in(page, live_server.url, "committee1")
    page.goto(live_server.url + "/dashboard/topics/")
    topic = Topic.objects.get(title=PROPERTY_TITLE)
    card = page.locator(f'[data-topic="{topic.pk}"]')
    expect(card).to_contain_text("不动产登记历史遗留问题")
    expect(card).to_contain_text("46 / 46")
    expect(card).to_contain_text("40,489 / 40,489")
    expect(card).to_contain_text("650 / 3,242")
    expect(card).to_contain_text("自然资源和规划局")
    expect(card).to_contain_text("演示领导乙")
    expect(card).to_contain_text("集中受理东府嘉和小区办证申请")  # the latest 周调度
    expect(card.locator("progress").first).to_have_attribute("max", "7")
    assert page.evaluate(
        "() => [...document.querySelectorAll('[data-history]')]"
        ".every((n) => echarts.getInstanceByDom(n))"
    )
    expect(page.locator("#bulletin-list a").first).to_be_visible()
    expect(page.locator("#board-status")).to_have_text(re.compile(r"显示 \d+ / \d+ 个题目"))
    assert axe_violations(page) == []
    screenshot(page, "dashboard-topics-1280")
    rows = download_rows(page, page.get_by_role("link", name="导出指标 Excel"), "indicators-")
    assert (PROPERTY_TITLE, "东府嘉和小区已办证户数", 3242, 650) in {
        (r[0], r[2], r[3], r[4]) for r in rows
    }


def test_plan_marks_overdue_tasks_red(
    page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    task: TopicTask = dashboard["task"]
    sign_in(page, live_server.url, "committee1")
    page.goto(live_server.url + "/dashboard/plan/?year=2023")
    row = page.locator(f'#plan-table tr[data-task="{task.pk}"]')
    expect(row).to_contain_text(OVERDUE_TASK)
    expect(row).to_contain_text("已逾期")
    expect(row).to_have_class("xn-row-overdue")
    bar = page.locator(f'.xn-gantt-bar[data-task="{task.pk}"]')
    expect(bar).to_have_class("xn-gantt-bar xn-gs-10 xn-ge-11 xn-overdue")
    assert bar.evaluate("(n) => getComputedStyle(n).backgroundColor") == "rgb(165, 40, 52)"
    assert page.locator("#plan-table tbody tr").count() >= 7
    assert axe_violations(page) == []
    screenshot(page, "dashboard-plan-1280")
    rows = download_rows(page, page.get_by_role("link", name="导出 Excel"), "plan-20230101-")
    assert (PROPERTY_TITLE, OVERDUE_TASK, "是") in {(r[1], r[3], r[9]) for r in rows}


def test_candidates_list_clusters_with_evidence(
    page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    sign_in(page, live_server.url, "committee1")
    page.goto(live_server.url + "/dashboard/candidates/")
    page.locator("#cand-weeks").select_option("12")
    # The 4-week list is on the page until the 12-week answer is drawn (rows, summary and the
    # export link in one go): wait for that, not for any row, or the dialog may read 4 weeks.
    expect(page.locator("#cand-export")).to_have_attribute("href", re.compile(r"weeks=12"))
    expect(page.locator("#cand-table tbody tr a.xn-code").first).to_be_visible()
    assert series_total(page, "chart-candidates") > 0
    assert axe_violations(page) == []
    screenshot(page, "dashboard-candidates-1280")
    rows = download_rows(page, page.get_by_role("link", name="导出 Excel"), "candidates-")
    shown = page.locator("#cand-table tbody tr").count()
    assert len(rows) - 1 >= shown > 0  # the export holds up to 50, the page the first 10
    first_shown = page.locator("#cand-table tbody tr").first
    assert rows[1][:2] == (
        first_shown.locator("th").inner_text(),
        first_shown.locator("td").first.inner_text(),
    )

    # "Adopt as topic" on the first candidate: the dialog is filled from its evidence
    first = page.locator("#cand-table tbody tr").first
    category = first.locator("th").inner_text()
    street = first.locator("td").first.inner_text()
    first.get_by_role("button", name=re.compile("立为题目")).click()
    box = page.get_by_role("dialog", name="立为题目")
    expect(box.get_by_label("题目")).to_have_value(f"{street}{category}问题")
    expect(box.get_by_label("问题描述")).to_have_value(re.compile(r"^最近 12 周"))
    # The dialog fades in; axe measures contrast mid-fade as too faint. Shown, it focuses the
    # title (shown.bs.modal): check it then.
    expect(box.get_by_label("题目")).to_be_focused()
    assert axe_violations(page) == []
    screenshot(page, "dashboard-candidates-adopt-1280")
    # a lead unit that is not in the list is told beside the field, and nothing is created
    topics_before = Topic.objects.count()
    box.get_by_label("牵头单位").fill("没有这个单位")
    box.get_by_role("button", name="立为候选题目").click()
    expect(box.locator('[data-error-for="lead_unit"]')).to_have_text("请从列表中选择牵头单位。")
    assert Topic.objects.count() == topics_before
    box.get_by_label("牵头单位").fill("西宁市供热有限公司")
    box.get_by_role("button", name="立为候选题目").click()
    expect(box).to_be_hidden()
    notice = page.locator("#cand-adopted")
    expect(notice).to_contain_text(f"已立为候选题目《{street}{category}问题》")
    topic = Topic.objects.get(title=f"{street}{category}问题")
    assert topic.status == "candidate" and topic.lead_unit.code == "xn-heating"
    assert topic.cases.count() > 0
    assert {c.street.name for c in topic.cases.select_related("street")} == {street}
    expect(notice).to_contain_text(f"关联 {topic.cases.count()} 件诉求")


def test_bulletin_prints_without_navigation(
    page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    bulletin = dashboard["bulletin"]
    sign_in(page, live_server.url, "committee1")
    page.goto(f"{live_server.url}/dashboard/bulletins/{bulletin.pk}/")
    expect(page.locator("#bulletin-title")).to_have_text(bulletin.title)
    link = page.get_by_role("link", name="导出 Excel")
    expect(link).to_have_attribute("href", f"/api/v1/bulletins/{bulletin.pk}/export.xlsx")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-bulletin-1280")
    page.emulate_media(media="print")
    expect(page.locator("header nav")).to_be_hidden()
    expect(page.locator(".xn-dash-nav")).to_be_hidden()
    expect(page.locator(".xn-bulletin-body")).to_be_visible()


def test_committee_edits_and_publishes_the_draft_bulletin(
    page: Page, live_server: Any, dashboard: dict[str, Any]
) -> None:
    bulletin = dashboard["bulletin"]
    url = f"{live_server.url}/dashboard/bulletins/{bulletin.pk}/"
    # a draft is the committee's: a supervisor does not find it
    sign_in(page, live_server.url, "supervisor1")
    response = page.goto(url)
    assert response is not None and response.status == 404
    page.context.clear_cookies()

    # the committee empties the title: told beside the field, nothing saved
    sign_in(page, live_server.url, "committee1")
    page.goto(url)
    form = page.locator("#bulletin-form")
    form.get_by_label("标题").fill(" ")
    form.get_by_role("button", name="保存草稿").click()
    expect(form.locator('[data-error-for="title"]')).to_have_text("该字段不能为空。")
    bulletin.refresh_from_db()
    assert bulletin.title != " "
    assert axe_violations(page) == []

    # then saves a new title and text, and publishes
    form.get_by_label("标题").fill("2023年11月“每月一题”工作通报（修订）")
    form.get_by_label("正文").fill("一、总体情况\n本月推进顺利。")
    form.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#bulletin-status")).to_have_text("草稿已保存。")
    expect(page.locator("#bulletin-title")).to_have_text("2023年11月“每月一题”工作通报（修订）")
    expect(page.locator(".xn-bulletin-body")).to_contain_text("本月推进顺利。")
    page.locator("#bulletin-form").get_by_role("button", name="保存并发布").click()
    expect(page.locator("#bulletin-done")).to_have_text("通报已发布。")
    expect(page.locator("#bulletin-form")).to_have_count(0)
    expect(page.locator(".xn-bulletin")).to_contain_text("已发布")
    bulletin.refresh_from_db()
    assert bulletin.status == "published" and bulletin.published_by.username == "committee1"
    # and once published the supervisor reads it, with no editor
    page.context.clear_cookies()
    sign_in(page, live_server.url, "supervisor1")
    page.goto(url)
    expect(page.locator("#bulletin-title")).to_have_text("2023年11月“每月一题”工作通报（修订）")
    expect(page.locator("#bulletin-form")).to_have_count(0)


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/topics/", "/dashboard/plan/"])
def test_residents_and_handlers_may_not_open_dashboards(
    page: Page, live_server: Any, seeded: Demo, path: str
) -> None:
    sign_in(page, live_server.url, "resident1")
    response = page.goto(live_server.url + path)
    assert response is not None and response.status == 403


def test_signed_out_visitors_are_sent_to_sign_in(
    page: Page, live_server: Any, seeded: Demo
) -> None:
    page.goto(live_server.url + "/dashboard/")
    assert "/accounts/login/" in page.url
