"""The topic workflow functions: transitions, events, nested writes, 倒排工期."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.sla import WorkCalendar
from org.models import Role, User
from tests.conftest import Demo
from tests.factories import (
    MembershipFactory,
    TopicFactory,
    TopicTaskFactory,
    UnitFactory,
    topic_lead,
)
from topics import workflow
from topics.models import (
    Indicator,
    PolicyDocument,
    ProgressReport,
    TaskStatus,
    Topic,
    TopicEvent,
    TopicEventType,
    TopicStatus,
)
from xining_issues.errors import InvalidInput, NotAllowed, WrongState

pytestmark = pytest.mark.django_db
D = dt.date


def test_lifecycle_candidate_adopt_start_close_writes_one_event_each(
    make_topic: Callable[..., Topic], demo: Demo, lead: User
) -> None:
    # Given a candidate proposed by the committee
    topic = make_topic()
    committee = demo.user("committee1")
    # When the standing committee adopts it, the lead unit starts it and the committee closes it
    workflow.topic_adopt(topic=topic, actor=committee, adopted_on=D(2026, 3, 2))
    workflow.topic_start(topic=topic, actor=lead)
    workflow.topic_close(topic=topic, actor=committee, summary="问题已解决，销号。")
    # Then it is closed (销号) with its summary, and the timeline has one event per step
    topic.refresh_from_db()
    assert topic.status == TopicStatus.CLOSED
    assert topic.adopted_on == D(2026, 3, 2)
    assert topic.closing_summary == "问题已解决，销号。"
    assert topic.closed_at is not None
    events = list(topic.events.values_list("type", "from_status", "to_status"))
    assert events == [
        (TopicEventType.CREATE, "", TopicStatus.CANDIDATE),
        (TopicEventType.ADOPT, TopicStatus.CANDIDATE, TopicStatus.ADOPTED),
        (TopicEventType.START, TopicStatus.ADOPTED, TopicStatus.IN_PROGRESS),
        (TopicEventType.CLOSE, TopicStatus.IN_PROGRESS, TopicStatus.CLOSED),
    ]


def test_carry_over_moves_the_end_month_and_work_resumes(
    make_topic: Callable[..., Topic], demo: Demo, lead: User
) -> None:
    # Given a topic in progress in March
    topic = make_topic(TopicStatus.IN_PROGRESS)
    # When the committee carries it over to May
    workflow.topic_carry_over(
        topic=topic, actor=demo.user("committee1"), to_month=D(2026, 5, 20), reason="任务未完成"
    )
    # Then it is carried over to May, and the lead unit may start it again
    topic.refresh_from_db()
    assert (topic.status, topic.end_month, topic.carry_overs) == (
        TopicStatus.CARRIED_OVER,
        D(2026, 5, 1),
        1,
    )
    workflow.topic_start(topic=topic, actor=lead)
    topic.refresh_from_db()
    assert topic.status == TopicStatus.IN_PROGRESS


def test_a_refused_transition_changes_nothing_and_records_nothing(
    make_topic: Callable[..., Topic], demo: Demo, lead: User
) -> None:
    topic = make_topic()
    events = TopicEvent.objects.count()
    # When the lead unit tries to adopt, or anyone tries to close a candidate
    with pytest.raises(NotAllowed):
        workflow.topic_adopt(topic=topic, actor=lead, adopted_on=D(2026, 3, 2))
    with pytest.raises(WrongState):
        workflow.topic_close(topic=topic, actor=demo.user("committee1"), summary="x")
    # Then the topic is still a candidate and no event was written
    topic.refresh_from_db()
    assert topic.status == TopicStatus.CANDIDATE
    assert TopicEvent.objects.count() == events


def test_state_is_judged_before_role_and_role_before_input(
    make_topic: Callable[..., Topic], lead: User
) -> None:
    closed = make_topic(TopicStatus.CLOSED)
    with pytest.raises(WrongState):  # 409 even for someone who may not close at all
        workflow.topic_close(topic=closed, actor=lead, summary="")
    candidate = make_topic()
    with pytest.raises(NotAllowed):  # 403 before the missing date is noticed
        workflow.topic_adopt(topic=candidate, actor=lead, adopted_on=None)  # type: ignore[arg-type]


def test_only_committee_supervisor_and_admin_propose() -> None:
    # Given a handler of a unit (who may lead a topic, not propose one) and a supervisor
    unit = UnitFactory()
    lead = MembershipFactory(unit=unit, role=Role.HANDLER).user
    supervisor = MembershipFactory(role=Role.SUPERVISOR).user
    with pytest.raises(NotAllowed):
        workflow.topic_create(
            actor=lead,
            title="x",
            month=D(2026, 3, 1),
            theme="basic_support",
            lead_unit=unit,
        )
    topic = workflow.topic_create(
        actor=supervisor,
        title="推进基层减负",
        month=D(2026, 3, 15),
        theme="burden_reduction",
        lead_unit=unit,
    )
    assert topic.month == D(2026, 3, 1)
    assert topic.status == TopicStatus.CANDIDATE


def test_task_done_means_full_progress_and_is_recorded() -> None:
    # Given a task the lead unit added to a topic in progress
    task = TopicTaskFactory(title="摸底建账", deadline=D(2026, 9, 30))
    topic, lead = task.topic, topic_lead(task.topic)
    workflow.task_update(task=task, actor=lead, progress=40)
    task.refresh_from_db()
    assert (task.status, task.progress) == (TaskStatus.DOING, 40)
    workflow.task_update(task=task, actor=lead, status=TaskStatus.DONE)
    task.refresh_from_db()
    assert (task.status, task.progress) == (TaskStatus.DONE, 100)
    assert task.done_on == timezone.localdate()  # the day it was marked done (Xining's day)
    assert topic.events.filter(type=TopicEventType.TASK_UPDATE).count() == 2


def test_cooperating_unit_may_not_write(
    make_topic: Callable[..., Topic], demo: Demo, cooperator: User
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    with pytest.raises(NotAllowed):
        workflow.report_add(topic=topic, actor=cooperator, week=D(2026, 3, 9), done="x")
    assert not ProgressReport.objects.filter(topic=topic).exists()


def test_indicator_values_append_history_and_set_the_actual(
    make_topic: Callable[..., Topic], lead: User
) -> None:
    # Given 东府嘉和: 3,242 households to be given certificates
    topic = make_topic(TopicStatus.IN_PROGRESS)
    indicator = workflow.indicator_add(
        topic=topic, actor=lead, name="东府嘉和小区已办证户数", unit_of_measure="户",
        target=Decimal(3242),
    )  # fmt: skip
    # When readings are recorded, one of them late (an earlier date)
    workflow.indicator_record(
        indicator=indicator, actor=lead, value=Decimal(380), date=D(2026, 4, 30)
    )
    workflow.indicator_record(
        indicator=indicator, actor=lead, value=Decimal(650), date=D(2026, 5, 31)
    )
    workflow.indicator_record(
        indicator=indicator, actor=lead, value=Decimal(120), date=D(2026, 3, 31)
    )
    # Then the history holds all three, and the actual is the latest by date
    indicator = Indicator.objects.get(pk=indicator.pk)
    assert [v.value for v in indicator.values.order_by("date")] == [120, 380, 650]
    assert (indicator.actual, indicator.actual_on) == (Decimal(650), D(2026, 5, 31))
    with pytest.raises(InvalidInput):
        workflow.indicator_record(indicator=indicator, actor=lead, value=Decimal(-1))


def test_one_weekly_report_per_week(make_topic: Callable[..., Topic], lead: User) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    report = workflow.report_add(topic=topic, actor=lead, week=D(2026, 3, 11), done="成立专班。")
    assert report.week == D(2026, 3, 9)  # stored as the Monday of the ISO week
    with pytest.raises(WrongState):
        workflow.report_add(topic=topic, actor=lead, week=D(2026, 3, 13), done="again")
    assert topic.reports.count() == 1


@time_machine.travel(dt.datetime(2026, 6, 15, 10, tzinfo=dt.UTC), tick=False)
def test_supervision_only_on_late_tasks() -> None:
    # Given, on 15 June, a topic in progress with a task due 1 June and one due 1 July
    topic = TopicFactory(to=TopicStatus.IN_PROGRESS)
    lead = topic_lead(topic)
    late = TopicTaskFactory(topic=topic, owner_unit=UnitFactory(), deadline=D(2026, 6, 1))
    on_time = TopicTaskFactory(topic=topic, deadline=D(2026, 7, 1))
    supervisor = MembershipFactory(role=Role.SUPERVISOR).user
    supervision = workflow.task_supervise(task=late, actor=supervisor, note="请本周内完成。")
    assert supervision.task == late
    with pytest.raises(WrongState):
        workflow.task_supervise(task=on_time, actor=supervisor, note="x")
    with pytest.raises(NotAllowed):
        workflow.task_supervise(task=late, actor=lead, note="x")
    assert topic.events.filter(type=TopicEventType.TASK_SUPERVISE).count() == 1


def test_plan_backwards_skips_national_day_and_counts_make_up_days() -> None:
    # Given a target of Monday 2026-10-12, after the National Day holiday (10-01..10-07), with
    # Saturday 10-10 a make-up working day (调休上班)
    calendar = WorkCalendar()
    # When two tasks of 3 and 2 working days are planned backwards
    plan = workflow.plan_backwards(D(2026, 10, 12), [3, 2], calendar)
    # Then the last runs Sat 10-10 .. Mon 10-12 and the first 09-30 .. 10-09, over the holiday
    assert plan == [(D(2026, 9, 30), D(2026, 10, 9)), (D(2026, 10, 10), D(2026, 10, 12))]


def test_plan_backwards_moves_a_holiday_target_to_the_workday_before() -> None:
    plan = workflow.plan_backwards(D(2026, 10, 4), [1], WorkCalendar())
    assert plan == [(D(2026, 9, 30), D(2026, 9, 30))]


def test_plan_backwards_with_the_database_calendar(db: None) -> None:
    assert workflow.plan_backwards(D(2026, 10, 8), [1]) == [(D(2026, 10, 8), D(2026, 10, 8))]


def test_documents_must_be_pdf(
    make_topic: Callable[..., Topic], lead: User, media_root: object
) -> None:
    topic = make_topic(TopicStatus.ADOPTED)
    fake = SimpleUploadedFile(
        "policy.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    with pytest.raises(InvalidInput):
        workflow.document_add(topic=topic, actor=lead, title="实施方案", file=fake)
    pdf = SimpleUploadedFile("p.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    document = workflow.document_add(
        topic=topic, actor=lead, title="实施方案", number="宁政办〔2023〕1号", file=pdf
    )
    assert PolicyDocument.objects.get(pk=document.pk).file.read() == b"%PDF-1.4\n%%EOF\n"


@pytest.mark.postgres
def test_events_are_append_only_on_postgres(make_topic: Callable[..., Topic]) -> None:
    from django.db import IntegrityError, transaction

    event = make_topic().events.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        TopicEvent.objects.filter(pk=event.pk).update(payload={})
