"""月通报: the generating service, the Celery task, publishing, the API and the Excel export."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from org.models import User
from stats import dashboards
from stats.bulletins import bulletin_generate, bulletin_publish, bulletin_update
from stats.models import Bulletin, BulletinStatus
from stats.tasks import generate_monthly_bulletin_task, previous_month
from tests.conftest import Demo
from topics import workflow
from topics.models import TaskStatus, Topic, TopicStatus
from xining_issues.downloads import XLSX_TYPE
from xining_issues.errors import NotAllowed, WrongState

pytestmark = pytest.mark.django_db
D = dt.date
MARCH = D(2026, 3, 1)


@pytest.fixture
def topic_with_progress(make_topic: Callable[..., Topic], demo: Demo, lead: User) -> Topic:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    done = workflow.task_add(
        topic=topic, actor=lead, title="摸底建账", owner_unit=demo.unit("xn-planning"),
        deadline=D(2026, 3, 20),
    )  # fmt: skip
    workflow.task_update(task=done, actor=lead, status=TaskStatus.DONE)
    workflow.task_add(
        topic=topic, actor=lead, title="集中办证", owner_unit=demo.unit("xn-planning"),
        deadline=D(2026, 12, 31),
    )  # fmt: skip
    indicator = workflow.indicator_add(
        topic=topic, actor=lead, name="东府嘉和小区已办证户数", unit_of_measure="户",
        target=Decimal(3242),
    )  # fmt: skip
    workflow.indicator_record(
        indicator=indicator, actor=lead, value=Decimal(650), date=D(2026, 3, 31)
    )
    workflow.report_add(
        topic=topic, actor=lead, week=D(2026, 3, 23), done="东府嘉和小区已办证 650 户。",
        problems="剩余 2592 户待办证。",
    )  # fmt: skip
    return topic


def test_generate_builds_the_draft_from_topic_progress(topic_with_progress: Topic) -> None:
    bulletin = bulletin_generate(D(2026, 3, 17))
    assert bulletin.month == MARCH
    assert bulletin.status == BulletinStatus.DRAFT
    assert bulletin.title == "2026年3月“每月一题”工作通报"
    assert "不动产登记历史遗留问题" in bulletin.body
    assert "工作任务完成 1/2 项" in bulletin.body
    assert "目标 3242，实际 650 户" in bulletin.body
    assert "东府嘉和小区已办证 650 户。" in bulletin.body
    # no cases that month: the case figures are there, at zero
    assert "诉求办理情况" in bulletin.body and "新增诉求：0" in bulletin.body


def test_generate_is_idempotent_and_never_overwrites_a_published_bulletin(
    topic_with_progress: Topic, demo: Demo, lead: User
) -> None:
    first = bulletin_generate(MARCH)
    again = bulletin_generate(MARCH)
    assert again.pk == first.pk
    assert Bulletin.objects.filter(month=MARCH).count() == 1
    # A draft is rebuilt (edits to it are replaced) ...
    bulletin_update(bulletin=first, actor=demo.user("committee1"), body="手工修改")
    assert bulletin_generate(MARCH).body != "手工修改"
    # ... a published one is never touched
    bulletin_update(bulletin=first, actor=demo.user("committee1"), body="定稿")
    bulletin_publish(bulletin=first, actor=demo.user("committee1"))
    workflow.report_add(topic=topic_with_progress, actor=lead, week=D(2026, 3, 30), done="新进展")
    after = bulletin_generate(MARCH)
    assert (after.status, after.body) == (BulletinStatus.PUBLISHED, "定稿")


def test_publish_is_for_committee_and_admin_once(
    topic_with_progress: Topic, demo: Demo, lead: User
) -> None:
    bulletin = bulletin_generate(MARCH)
    with pytest.raises(NotAllowed):
        bulletin_publish(bulletin=bulletin, actor=lead)
    with pytest.raises(NotAllowed):
        bulletin_publish(bulletin=bulletin, actor=demo.user("supervisor1"))
    published = bulletin_publish(bulletin=bulletin, actor=demo.user("admin"))
    assert published.published_by == demo.user("admin")
    with pytest.raises(WrongState):
        bulletin_publish(bulletin=bulletin, actor=demo.user("committee1"))
    with pytest.raises(WrongState):
        bulletin_update(bulletin=bulletin, actor=demo.user("committee1"), body="x")


def test_celery_task_called_directly(topic_with_progress: Topic) -> None:
    pk = generate_monthly_bulletin_task("2026-03")
    assert Bulletin.objects.get(pk=pk).month == MARCH
    assert generate_monthly_bulletin_task("2026-03-01") == pk
    assert previous_month(D(2026, 4, 1)) == MARCH
    assert previous_month(D(2026, 1, 1)) == D(2025, 12, 1)
    assert Bulletin.objects.get(pk=generate_monthly_bulletin_task()).month == previous_month(
        dt.date.today()
    )


def test_generate_reads_the_shape_of_the_stats_month_summary(
    topic_with_progress: Topic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboards, "month_summary", lambda month: {
        "month": month,
        "totals": {"created": 120, "dispatched": 80, "satisfaction_rate": 0.965, "score": None},
        "top_categories": [{"id": 1, "name": "供暖", "created": 40}],
        "worst_units": [{"id": 2, "name": "某单位", "dispatched": 9, "score": 71.5}],
    })  # fmt: skip
    bulletin = bulletin_generate(MARCH)
    assert "新增诉求：120" in bulletin.body
    assert "满意率：96.5%" in bulletin.body
    assert "诉求较多的分类：供暖（40）" in bulletin.body
    assert "综合得分靠后的单位：某单位（71.5）" in bulletin.body
    assert bulletin.data["case_units"]["rows"][0][0] == "某单位"


def test_generate_with_the_real_stats_module_if_present(topic_with_progress: Topic) -> None:
    # Whatever stats.dashboards holds today, generating never fails and a draft comes out.
    assert bulletin_generate(MARCH).status == BulletinStatus.DRAFT


def test_bulletin_api_edit_publish_export(
    topic_with_progress: Topic, demo: Demo, lead: User
) -> None:
    bulletin = bulletin_generate(MARCH)
    committee = APIClient()
    committee.force_authenticate(demo.user("committee1"))
    url = f"/api/v1/bulletins/{bulletin.pk}/"
    # The lead unit sees no drafts; the committee edits one
    staff = APIClient()
    staff.force_authenticate(lead)
    assert staff.get(url).status_code == 404
    assert staff.patch(url, {"body": "x"}, format="json").status_code == 404
    r = committee.patch(url, {"body": "正文修改"}, format="json")
    assert r.status_code == 200 and r.json()["body"] == "正文修改"
    r = committee.post(f"{url}publish/")
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert committee.patch(url, {"body": "y"}, format="json").status_code == 409
    # Once published every staff member reads it
    assert staff.get(url).status_code == 200
    # And the export is a workbook with the bulletin's tables
    r = committee.get(f"{url}export.xlsx")
    assert r.status_code == 200
    assert r["Content-Type"] == XLSX_TYPE
    workbook = load_workbook(io.BytesIO(r.content))
    assert workbook.sheetnames[:4] == ["通报", "专题进展", "指标", "周调度"]
    assert "诉求统计" in workbook.sheetnames
    topics = list(workbook["专题进展"].iter_rows(values_only=True))
    assert topics[0][:3] == ("题目", "主题", "牵头单位")
    assert topics[1][0] == "不动产登记历史遗留问题"
    assert topics[1][5:8] == (1, 2, 0)
    indicators = list(workbook["指标"].iter_rows(values_only=True))
    assert indicators[1] == (
        "不动产登记历史遗留问题",
        "东府嘉和小区已办证户数",
        "户",
        "3242",
        "650",
    )


def test_resident_sees_no_bulletins(demo: Demo) -> None:
    bulletin = bulletin_generate(MARCH)
    bulletin_publish(bulletin=bulletin, actor=demo.user("committee1"))
    client: Any = APIClient()
    client.force_authenticate(demo.user("resident1"))
    assert client.get("/api/v1/bulletins/").json()["results"] == []


def test_the_bulletin_reports_each_topics_effect_and_the_first_call_rate(
    make_topic: Callable[..., Topic], demo: Demo
) -> None:
    from stats.bulletins import export_xlsx
    from stats.rollup import refresh_rollup
    from tests.stats.test_effect import plant

    # Given the topic's area (不动产登记 in a community): five complaints a week for the twelve
    # weeks before its adoption on 2026-03-02 and one a week since; five a week a year before
    category = demo.category("real-estate")
    make_topic(TopicStatus.IN_PROGRESS, categories=[category])
    street = demo.region("城东区", "大众街街道")
    community = street.children.order_by("pk").first()
    adopted = D(2026, 3, 2)
    first = adopted - dt.timedelta(weeks=12)
    plant(community, category, first - dt.timedelta(days=364), [5] * 17)
    plant(community, category, first, [5] * 12 + [1] * 5)
    refresh_rollup()
    # When March's bulletin is drafted
    bulletin = bulletin_generate(D(2026, 3, 17))
    # Then it says how the topic's complaints changed, and that it is more than the season
    assert "题目成效（确定前后相关诉求对比）" in bulletin.body
    assert (
        "《不动产登记历史遗留问题》：相关诉求由确定前每周 5.0 件变为 1.17 件（-76.7%），"
        "明显下降，超出季节性变化。" in bulletin.body
    )
    row = bulletin.data["effects"]["rows"][0]
    assert row[:7] == [
        "不动产登记历史遗留问题", "2026-03-02", 5.0, 1.17, "-76.7%", "去年同期", "+2.7%",
    ]  # fmt: skip
    # and the month's 一次办结率 and knowledge use (none of either here)
    assert "一次办结率：—（受理 0 件，其中当场答复办结 0 件）" in bulletin.body
    assert "知识库答复 0 次" in bulletin.body
    sheets = load_workbook(io.BytesIO(export_xlsx(bulletin))).sheetnames
    assert {"题目成效", "一次办结率", "知识库使用"} <= set(sheets)
