"""Who each 每月一题 message reaches, once: the committee when a topic is proposed, the lead and
owner units when a task turns late, the lead unit when the week's 周调度 is due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import date as D

import pytest

from notifications.models import Notification
from org.models import Role, User
from tests.conftest import Demo
from tests.factories import MembershipFactory
from topics import notifications, workflow
from topics.models import TaskStatus, Topic, TopicStatus, TopicTheme


def told(kind: str) -> list[str]:
    """The usernames told of ``kind``, one per message (a repeat would show twice)."""
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def committee_usernames() -> list[str]:
    return sorted(
        User.objects.filter(memberships__role=Role.COMMITTEE)
        .distinct()
        .values_list("username", flat=True)
    )


def test_a_proposed_topic_is_told_to_the_committee_once(demo: Demo) -> None:
    # Given a second committee member, and a supervisor who proposes a topic
    MembershipFactory(user__username="committee2", unit=demo.unit("xn-party"), role=Role.COMMITTEE)
    topic = workflow.topic_create(
        actor=demo.user("supervisor1"), title="推进基层减负", month=D(2026, 4, 1),
        theme=TopicTheme.BURDEN_REDUCTION, lead_unit=demo.unit("xn-civil"),
    )  # fmt: skip
    # Then each committee member has one message about it, and nobody else any
    assert told("topic_proposed") == committee_usernames()
    assert "committee2" in told("topic_proposed")
    message = Notification.objects.filter(kind="topic_proposed").first()
    assert message is not None and message.subject_id == topic.pk
    assert message.params == {"title": "推进基层减负", "month": "2026-04"}
    # And adopting it tells the committee nothing more
    workflow.topic_adopt(topic=topic, actor=demo.user("committee1"), adopted_on=D(2026, 4, 2))
    assert len(told("topic_proposed")) == len(committee_usernames())


@pytest.fixture
def housing(demo: Demo) -> User:
    """A handler of 住建局, the unit that owns one of the tasks."""
    return MembershipFactory(
        user__username="coop_housing", unit=demo.unit("xn-housing"), role=Role.HANDLER
    ).user


def test_a_late_task_is_told_to_the_lead_and_owner_units_once_per_deadline(
    make_topic: Callable[..., Topic], lead: User, housing: User, demo: Demo
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    late = workflow.task_add(
        topic=topic, actor=lead, title="物业维修资金核查", owner_unit=demo.unit("xn-housing"),
        deadline=D(2026, 5, 1),
    )  # fmt: skip
    done = workflow.task_add(
        topic=topic,
        actor=lead,
        title="成立专班",
        owner_unit=topic.lead_unit,
        deadline=D(2026, 4, 1),
    )
    workflow.task_update(task=done, actor=lead, status=TaskStatus.DONE)
    workflow.task_add(
        topic=topic,
        actor=lead,
        title="集中办证",
        owner_unit=topic.lead_unit,
        deadline=D(2026, 6, 1),
    )
    # When the job runs on 2026-05-02, twice (a retry, or two beats)
    assert notifications.tell_late_tasks(D(2026, 5, 2)) == 1
    notifications.tell_late_tasks(D(2026, 5, 2))
    # Then the lead unit's handler and the owner's are told once, of the late task only
    assert told("topic_task_late") == ["coop_housing", "lead_planning"]
    assert {n.params["task"] for n in Notification.objects.filter(kind="topic_task_late")} == {
        late.title
    }
    # And a deadline moved and missed again is told again
    workflow.task_update(task=late, actor=lead, deadline=D(2026, 5, 20))
    notifications.tell_late_tasks(D(2026, 5, 10))
    assert len(told("topic_task_late")) == 2
    notifications.tell_late_tasks(D(2026, 5, 21))
    assert len(told("topic_task_late")) == 4


def test_tasks_of_a_closed_topic_are_not_chased(
    make_topic: Callable[..., Topic], lead: User, demo: Demo
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    workflow.task_add(
        topic=topic,
        actor=lead,
        title="集中办证",
        owner_unit=topic.lead_unit,
        deadline=D(2026, 5, 1),
    )
    workflow.topic_close(topic=topic, actor=demo.user("committee1"), summary="已解决。")
    assert notifications.tell_late_tasks(D(2026, 5, 2)) == 0
    assert told("topic_task_late") == []


def test_the_weeks_report_is_asked_of_started_topics_without_one_once(
    make_topic: Callable[..., Topic], lead: User
) -> None:
    # Given a started topic, one that has filed this week's 周调度, and one only adopted
    silent = make_topic(TopicStatus.IN_PROGRESS)
    filed = make_topic(TopicStatus.IN_PROGRESS, title="老旧小区改造")
    make_topic(TopicStatus.ADOPTED, title="加装电梯")
    friday = D(2026, 3, 13)
    workflow.report_add(topic=filed, actor=lead, week=friday, done="完成摸底。")
    # When the Friday job runs twice
    assert notifications.tell_reports_due(friday) == 1
    notifications.tell_reports_due(friday)
    # Then the lead unit of the silent topic is told once, for this week
    assert told("topic_report_due") == ["lead_planning"]
    message = Notification.objects.get(kind="topic_report_due")
    assert (message.subject_id, message.params["week"]) == (silent.pk, "2026-03-09")
    # And the next week asks again
    notifications.tell_reports_due(friday + dt.timedelta(days=7))
    assert len(told("topic_report_due")) == 3  # both topics owe the new week's report


def test_the_beat_jobs_are_scheduled() -> None:
    from xining_issues.schedule import beat_schedule

    tasks = {task for task, _when in beat_schedule().values()}
    assert {"topics.tell_late_tasks", "topics.tell_reports_due"} <= tasks
