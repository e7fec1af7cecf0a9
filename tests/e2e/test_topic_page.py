"""One 每月一题 topic's page in a real browser: the lead unit adds a task, records its progress,
files the week's 周调度 and an indicator reading; a supervisor issues 督办 on a late task; the
committee carries the topic over; a unit with no part in it does not find it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from demo.topics import PROPERTY_TITLE
from tests.conftest import Demo
from tests.e2e.conftest import (
    OVERDUE_TASK,
    axe_violations,
    demo_topics_with_a_late_task,
    screenshot,
    sign_in,
)
from topics.models import Topic, TopicStatus, TopicTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def topic(seeded: Demo) -> Topic:
    """The demo topics; the property-certificate topic in progress with one late task."""
    topic = demo_topics_with_a_late_task().topic
    assert topic.status == TopicStatus.IN_PROGRESS
    return topic


def open_topic(page: Page, base: str, username: str, topic: Topic) -> None:
    sign_in(page, base, username)
    page.goto(f"{base}/dashboard/topics/{topic.pk}/")
    expect(page.locator("#topic-head")).to_contain_text("自然资源和规划局")


def test_the_lead_unit_keeps_its_topic_up_to_date(
    page: Page, live_server: Any, topic: Topic
) -> None:
    # The lead unit finds its topic from the menu, on a board that holds only its topics
    sign_in(page, live_server.url, "handler_planning")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="每月一题").click()
    expect(page.locator("#topic-board article")).to_have_count(1)
    expect(page.locator(".xn-dash-nav")).not_to_contain_text("未诉先办")
    page.get_by_role("link", name=PROPERTY_TITLE).click()
    expect(page.locator("#topic-head")).to_contain_text("自然资源和规划局")
    expect(page.locator("#topic-head")).to_contain_text("任务完成")  # the progress bar's label
    expect(page.locator("#topic-head")).not_to_contain_text("[object")
    expect(page.locator("#topic-actions")).to_be_hidden()  # no committee actions for a unit
    assert axe_violations(page) == []

    # adds a task: an owner unit not in the list is told beside the field, nothing is created
    tasks_before = TopicTask.objects.filter(topic=topic).count()
    form = page.locator('[data-form="task_add"]')
    form.get_by_label("任务措施").fill("联合踏勘剩余小区")
    form.get_by_label("责任单位").fill("没有这个单位")
    form.get_by_label("完成时限").fill("2027-03-31")
    form.get_by_role("button", name="新增任务").click()
    expect(form.locator('[data-error-for="owner_unit"]')).to_have_text("请从列表中选择责任单位。")
    assert TopicTask.objects.filter(topic=topic).count() == tasks_before
    # picking a suggestion of the search, as a person would: each names its unit and region
    form.get_by_label("责任单位").fill("住房和城乡")
    options = form.locator("#task-owner-options option")
    expect(options.first).to_have_attribute("value", re.compile("住房和城乡建设局（"))
    city = form.locator('#task-owner-options option[value^="西宁市住房和城乡建设局（"]')
    form.get_by_label("责任单位").fill(city.get_attribute("value") or "")
    form.get_by_role("button", name="新增任务").click()
    expect(page.locator("#topic-saved")).to_have_text("已保存。")
    row = page.locator("#task-table tbody tr", has_text="联合踏勘剩余小区")
    expect(row).to_contain_text("西宁市住房和城乡建设局")

    # records its progress
    row.get_by_label("联合踏勘剩余小区的进度").fill("40")
    row.get_by_role("button", name="保存").click()
    row = page.locator("#task-table tbody tr", has_text="联合踏勘剩余小区")
    expect(row).to_contain_text("40%")
    expect(row.get_by_label("联合踏勘剩余小区的状态")).to_be_focused()  # still in the row
    task = TopicTask.objects.get(topic=topic, title="联合踏勘剩余小区")
    assert task.progress == 40 and task.owner_unit.code == "xn-housing"
    # a progress over 100 is refused beside the field
    row.get_by_label("联合踏勘剩余小区的进度").fill("140")
    row.get_by_role("button", name="保存").click()
    expect(row.locator('[data-error-for="progress"]')).not_to_be_empty()
    task.refresh_from_db()
    assert task.progress == 40

    # files this week's 周调度
    report = page.locator('[data-form="report"]')
    report.get_by_label("所在周（任一天）").fill(dt.date.today().isoformat())
    report.get_by_label("已完成").fill("完成剩余小区踏勘。")
    report.get_by_label("下步打算").fill("集中办证。")
    report.get_by_role("button", name="提交周调度").click()
    expect(page.locator("#report-list li").first).to_contain_text("完成剩余小区踏勘。")

    # and records a reading of 东府嘉和
    indicator = page.locator("#indicator-table tbody tr", has_text="东府嘉和小区已办证户数")
    indicator.get_by_label("东府嘉和小区已办证户数的新数值").fill("900")
    indicator.get_by_role("button", name="记录").click()
    expect(
        page.locator("#indicator-table tbody tr", has_text="东府嘉和小区已办证户数")
    ).to_contain_text("900 / 3,242")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-topic-lead-1280")


def test_a_supervisor_issues_duban_on_the_late_task(
    page: Page, live_server: Any, topic: Topic
) -> None:
    open_topic(page, live_server.url, "supervisor1", topic)
    late = page.locator("#task-table tbody tr", has_text=OVERDUE_TASK)
    expect(late).to_contain_text("已逾期")
    # only the late task has a 督办 form, and nobody but the lead unit edits tasks
    expect(page.locator("[data-task-supervise]")).to_have_count(
        TopicTask.objects.filter(topic=topic).exclude(status="done")
        .filter(deadline__lt=dt.date.today()).count()
    )  # fmt: skip
    expect(page.locator("[data-task-update]")).to_have_count(0)
    late.get_by_label(f"对{OVERDUE_TASK}的督办意见").fill("请于本周内补齐台账。")
    late.get_by_role("button", name="督办").click()
    late = page.locator("#task-table tbody tr", has_text=OVERDUE_TASK)
    expect(late).to_contain_text("已督办 1 次")
    supervision = TopicTask.objects.get(title=OVERDUE_TASK).supervisions.get()
    assert supervision.note == "请于本周内补齐台账。"


def test_the_committee_carries_the_topic_over(page: Page, live_server: Any, topic: Topic) -> None:
    open_topic(page, live_server.url, "committee1", topic)
    actions = page.locator("#topic-actions")
    expect(actions).to_be_visible()
    expect(actions.locator('[data-form="adopt"]')).to_be_hidden()  # adopted long ago
    carry = actions.locator('[data-form="carry_over"]')
    carry.get_by_label("结转到月份").fill("2024-01")
    carry.get_by_label("结转原因").fill("剩余户数较多。")
    carry.get_by_role("button", name="结转").click()
    expect(page.locator("#topic-head [data-status]")).to_have_text("结转下月")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.CARRIED_OVER
    assert topic.end_month == dt.date(2024, 1, 1)
    assert axe_violations(page) == []


def test_a_unit_with_no_part_does_not_find_the_topic(
    page: Page, live_server: Any, topic: Topic
) -> None:
    sign_in(page, live_server.url, "handler_gas")
    response = page.goto(f"{live_server.url}/dashboard/topics/{topic.pk}/")
    assert response is not None and response.status == 404
    page.goto(f"{live_server.url}/workbench/")  # and the menu offers no topics
    expect(page.get_by_role("navigation", name="主导航")).not_to_contain_text(
        re.compile("每月一题|看板")
    )


@pytest.fixture
def planned_topic(seeded: Demo) -> Topic:
    """A topic in progress whose target lies two months ahead, with two tasks given only their
    工期: one of the lead unit (自然资源和规划局), one of the cooperating 住建局."""
    from demo.topics import seed_topics
    from org.models import Unit, User
    from topics import workflow
    from topics.models import TopicTheme

    seed_topics()  # the demo accounts of the topics' units
    committee, lead = (
        User.objects.get(username="committee1"),
        User.objects.get(username="handler_planning"),
    )
    topic = workflow.topic_create(
        actor=committee, title="老旧小区加装电梯", month=dt.date.today().replace(day=1),
        theme=TopicTheme.PROBLEM_SOLVING, lead_unit=Unit.objects.get(code="xn-planning"),
        cooperating_units=[Unit.objects.get(code="xn-housing")],
        target_date=dt.date.today() + dt.timedelta(days=60),
    )  # fmt: skip
    workflow.topic_adopt(topic=topic, actor=committee, adopted_on=dt.date.today())
    workflow.topic_start(topic=topic, actor=lead)
    for title, unit, days, position in (("摸排加装意愿", "xn-planning", 5, 1),
                                        ("审批与施工", "xn-housing", 10, 2)):  # fmt: skip
        workflow.task_add(
            topic=topic, actor=lead, title=title, owner_unit=Unit.objects.get(code=unit),
            workdays=days, position=position,
        )  # fmt: skip
    return topic


def test_the_lead_unit_plans_backwards_and_a_cooperating_unit_records_its_task(
    page: Page, live_server: Any, planned_topic: Topic
) -> None:
    topic = planned_topic
    sign_in(page, live_server.url, "handler_planning")
    page.goto(f"{live_server.url}/dashboard/topics/{topic.pk}/")
    plan = page.locator('[data-form="plan_accept"]')
    # A topic without problem or goals shows none, not "null"
    expect(page.locator("#topic-head")).to_contain_text("任务完成 0 / 2")
    expect(page.locator("#topic-head")).not_to_contain_text("null")
    # The proposal lists the two tasks, both to be moved off the provisional target date
    expect(plan.locator("#plan-table tbody tr")).to_have_count(2)
    expect(plan.locator("#plan-table tbody")).to_contain_text("将调整")
    # The lead unit adds a third task with its 工期 alone, and it joins the proposal first
    form = page.locator('[data-form="task_add"]')
    form.get_by_label("任务措施").fill("入户宣传动员")
    city = "西宁市自然资源和规划局"
    form.get_by_label("责任单位").fill("自然资源和规划")
    option = form.locator(f'#task-owner-options option[value^="{city}（"]')
    form.get_by_label("责任单位").fill(option.get_attribute("value") or "")
    form.get_by_label("工期（工作日）").fill("3")
    form.get_by_role("button", name="新增任务").click()
    expect(page.locator("#topic-saved")).to_have_text("已保存。")
    expect(plan.locator("#plan-table tbody tr").first).to_contain_text("入户宣传动员")
    assert axe_violations(page) == []
    screenshot(page, "dashboard-topic-plan-1280")
    # It accepts: every task takes its proposed dates, and nothing is left to move
    proposed = {
        row.locator("th").inner_text(): row.locator("td").nth(2).inner_text()
        for row in plan.locator("#plan-table tbody tr").all()
    }
    plan.get_by_role("button", name="采纳建议").click()
    expect(page.locator("#topic-saved")).to_have_text("已保存。")
    expect(plan.locator("#plan-table tbody")).not_to_contain_text("将调整")
    expect(plan.get_by_role("button", name="采纳建议")).to_be_disabled()
    deadlines = {t.title: t.deadline.isoformat() for t in topic.tasks.all()}
    assert deadlines == proposed
    assert topic.tasks.get(title="审批与施工").deadline <= topic.target_date

    # The cooperating 住建局 finds an update form on its own task only, and no plan to accept
    page.context.clear_cookies()
    sign_in(page, live_server.url, "handler_housing")
    page.goto(f"{live_server.url}/dashboard/topics/{topic.pk}/")
    expect(page.locator("#task-table tbody tr")).to_have_count(3)
    expect(page.locator("[data-task-update]")).to_have_count(1)
    expect(plan).to_be_hidden()
    row = page.locator("#task-table tbody tr", has_text="审批与施工")
    row.get_by_label("审批与施工的进度").fill("30")
    row.get_by_role("button", name="保存").click()
    expect(page.locator("#task-table tbody tr", has_text="审批与施工")).to_contain_text("30%")
    assert topic.tasks.get(title="审批与施工").progress == 30
    assert axe_violations(page) == []


def test_the_close_dialog_shows_the_effect_before_the_topic_is_ticked_off(
    page: Page, live_server: Any, topic: Topic
) -> None:
    # Given the complaints around the property topic, folded into the rollup
    from demo.topic_history import seed_topic_history
    from stats.rollup import refresh_rollup

    assert seed_topic_history().cases
    refresh_rollup()
    open_topic(page, live_server.url, "committee1", topic)
    # Then the topic's page shows the effect: the verdict, the weeks and both windows' figures
    section = page.locator("#topic-effect")
    expect(section.locator("[data-verdict]")).to_have_attribute("data-verdict", "fell")
    expect(section).to_contain_text("成效明显")
    expect(section.locator("#chart-effect canvas")).to_have_count(1)
    table = section.locator("#effect-table")
    expect(table).to_contain_text("平均每周")
    expect(table.locator("tr", has_text="满意率")).to_contain_text("%")
    # and the 销号 form repeats it, and will not close before it is read
    close = page.locator('[data-form="close"]')
    expect(close.locator("#close-effect")).to_contain_text("成效比")
    close.get_by_label("销号说明").fill("东府嘉和小区已全部办证，相关诉求明显下降。")
    close.get_by_role("button", name="销号").click()
    expect(close.locator("#close-effect-read-error")).to_have_text("请先阅读成效评估并勾选确认。")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.IN_PROGRESS
    screenshot(page, "topic-effect-close")
    assert axe_violations(page) == []
    close.get_by_label("已阅读上方成效评估").check()
    close.get_by_role("button", name="销号").click()
    expect(page.locator("#topic-head [data-status]")).to_have_text("已销号")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.CLOSED
