"""Every change to a topic (每月一题): one function per transition or nested write.

Like ``cases.workflow``, on the same kernel (``xining_issues.workflow``): each function is
atomic, re-reads the topic with ``select_for_update()``, checks the allowed-transition table (409),
then the actor's role (403), then its input (400), saves with ``update_fields``, writes exactly one
append-only ``TopicEvent`` and queues side effects with ``transaction.on_commit``. This module
declares the topic's part as ``FLOW`` (the table, how a role reaches a topic, the event row).
Nothing else writes ``Topic.status``.

Who may do what:

* 提出候选 (create a candidate): committee, supervisor or admin;
* 确定 / 销号 / 结转 (adopt, close, carry over): committee or admin;
* 启动 (start): committee, admin, or a handler of the lead unit;
* tasks, weekly reports, indicators and documents: handlers of the lead unit (牵头单位);
* 督办 on a late task: supervisors.

Over 500 lines on purpose: as ``cases.workflow``, every change of a topic and of what hangs off it
(tasks, weekly reports, indicators, documents) beside the one table that allows it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import django.dispatch
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.attachments import MAX_BYTES, check_uploads
from cases.models import Case, Category
from cases.selectors import visibility_filter
from cases.sla import WorkCalendar
from org import jurisdiction
from org.models import Region, Role, Unit, User
from xining_issues.errors import InvalidInput, NotAllowed, WrongState, invalid
from xining_issues.workflow import (
    Step,
    Transition,
    Workflow,
    clean_text,
    require_user,
    transition,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

from . import notifications
from .models import (
    MAX_WORKDAYS,
    DocumentKind,
    Indicator,
    IndicatorValue,
    PolicyDocument,
    ProgressReport,
    TaskStatus,
    TaskSupervision,
    Topic,
    TopicEvent,
    TopicEventType,
    TopicStatus,
    TopicTask,
    TopicTheme,
    first_of_month,
)

# Sent after the transaction that recorded ``event`` commits.
topic_event_committed = django.dispatch.Signal()  # kwargs: event

LEAD = "lead_handler"  # pseudo-role: a handler of the topic's lead unit
COOPERATOR = "cooperating_handler"  # pseudo-role: a handler of one of its cooperating units
# Long free text on a topic (problem, goals, summaries, weekly reports): its documented limit.
TEXT_MAX = 5000


S = TopicStatus
E = TopicEventType
OPEN = (S.ADOPTED, S.IN_PROGRESS, S.CARRIED_OVER)
TRANSITIONS: dict[str, Transition] = {
    E.ADOPT: transition([S.CANDIDATE], S.ADOPTED, Role.COMMITTEE, Role.ADMIN),
    E.START: transition(
        [S.ADOPTED, S.CARRIED_OVER], S.IN_PROGRESS, Role.COMMITTEE, Role.ADMIN, LEAD
    ),
    E.CLOSE: transition([S.IN_PROGRESS, S.CARRIED_OVER], S.CLOSED, Role.COMMITTEE, Role.ADMIN),
    E.CARRY_OVER: transition(OPEN, S.CARRIED_OVER, Role.COMMITTEE, Role.ADMIN),
    E.TASK_ADD: transition(OPEN, None, LEAD),
    # A cooperating unit records its own tasks' status and progress (``task_update``'s rule).
    E.TASK_UPDATE: transition(OPEN, None, LEAD, COOPERATOR),
    E.TASK_SUPERVISE: transition(OPEN, None, Role.SUPERVISOR),
    E.REPORT: transition(OPEN, None, LEAD),
    E.INDICATOR_ADD: transition([S.CANDIDATE, *OPEN], None, LEAD),
    E.INDICATOR_VALUE: transition(OPEN, None, LEAD),
    E.DOCUMENT: transition([S.CANDIDATE, *OPEN], None, LEAD),
    E.PLAN_ACCEPT: transition(OPEN, None, LEAD),
}
CREATE_ROLES = (Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN)


# --- the topic's declaration to the workflow kernel ------------------------------------------


def _reaches(actor: User, topic: Topic, role: str, action: str) -> bool:
    """Committee, supervisor and admin act by holding the role; ``LEAD`` by being a handler of
    the topic's lead unit; ``COOPERATOR`` by being a handler of one of its cooperating units."""
    if role == LEAD:
        return topic.lead_unit_id in jurisdiction.unit_ids(actor, Role.HANDLER)
    if role == COOPERATOR:
        units = jurisdiction.unit_ids(actor, Role.HANDLER)
        return bool(units) and any(u.pk in units for u in topic.cooperating_units.all())
    return jurisdiction.has_role(actor, role)


def _event_row(topic: Topic, step: Step) -> TopicEvent:
    return TopicEvent(
        topic=topic,
        type=step.action,
        actor=step.actor,
        from_status=step.from_status,
        to_status=step.to_status,
        payload=step.payload,
        created_at=timezone.now(),
    )


FLOW: Workflow[Topic, TopicEvent] = Workflow(
    model=Topic,
    table=TRANSITIONS,
    reaches=_reaches,
    event_row=_event_row,
    # Messages are written in the event's transaction (outbox): never lost, never for a
    # change that rolled back.
    on_record=notifications.on_event,
    committed=topic_event_committed,
    wrong_state=gettext_lazy("题目当前状态为“%(status)s”，不能执行此操作。"),
    not_allowed=gettext_lazy("您没有对这个题目执行此操作的权限。"),
)
precheck = FLOW.precheck
allowed_actions = FLOW.allowed_actions


# --- 倒排工期 (deadlines planned backwards) ---------------------------------------------------


def plan_backwards(
    target: dt.date, durations: Sequence[int], calendar: WorkCalendar | None = None
) -> list[tuple[dt.date, dt.date]]:
    """倒排工期: the (start, deadline) of tasks done one after another to finish by ``target``.

    ``durations`` are working days, in the order the tasks are done; the last task ends on the
    last working day on or before ``target``, and each earlier task ends on the working day
    before the next one starts. Holidays and make-up working days (调休) come from
    ``cases.sla.WorkCalendar``. Returns the pairs in the order of ``durations``.
    """
    if any(d < 1 for d in durations):
        raise ValueError("every duration must be at least one working day")
    if calendar is None:
        span = dt.timedelta(days=2 * sum(durations) + 60)
        calendar = WorkCalendar.load(target - span, target)

    def back_to_workday(day: dt.date) -> dt.date:
        while not calendar.is_workday(day):
            day -= dt.timedelta(days=1)
        return day

    plan: list[tuple[dt.date, dt.date]] = []
    deadline = back_to_workday(target)
    for duration in reversed(durations):
        start = deadline
        for _i in range(duration - 1):
            start = back_to_workday(start - dt.timedelta(days=1))
        plan.append((start, deadline))
        deadline = back_to_workday(start - dt.timedelta(days=1))
    plan.reverse()
    return plan


@dataclass(frozen=True)
class PlannedTask:
    """A task's place in the 倒排工期 proposal: its dates now and the ones proposed."""

    task: TopicTask
    start: dt.date
    deadline: dt.date

    @property
    def changed(self) -> bool:
        return (self.task.start_date, self.task.deadline) != (self.start, self.deadline)


@dataclass(frozen=True)
class Schedule:
    """倒排工期 for a topic: its open tasks that have a 工期, in their order (position, then
    as added), done one after another to finish by the target date."""

    target: dt.date | None
    planned: list[PlannedTask]
    unplanned: list[TopicTask]  # open tasks without a 工期: the plan leaves them as they are

    @property
    def starts_too_late(self) -> bool:
        """Whether the first proposed start is already past: the 工期 do not fit any more."""
        return bool(self.planned) and self.planned[0].start < timezone.localdate()


def schedule(topic: Topic) -> Schedule:
    """The 倒排工期 proposal for ``topic`` (a read: nothing changes until the lead unit accepts
    it with ``plan_accept``). Done tasks are history and keep their dates."""
    tasks = list(
        topic.tasks.exclude(status=TaskStatus.DONE)
        .select_related("owner_unit")
        .order_by("position", "pk")
    )
    with_days = [t for t in tasks if t.workdays]
    unplanned = [t for t in tasks if not t.workdays]
    if topic.target_date is None or not with_days:
        return Schedule(target=topic.target_date, planned=[], unplanned=unplanned)
    dates = plan_backwards(topic.target_date, [cast(int, t.workdays) for t in with_days])
    planned = [
        PlannedTask(t, start, end) for t, (start, end) in zip(with_days, dates, strict=True)
    ]
    return Schedule(target=topic.target_date, planned=planned, unplanned=unplanned)


@transaction.atomic
def plan_accept(
    *, topic: Topic, actor: User | AnonymousUser | None, tasks: Sequence[int] | None = None
) -> Topic:
    """采纳倒排工期: the lead unit gives the proposed start and deadline to its tasks (``tasks``:
    those ids only; none given: every task whose dates the proposal changes). The proposal is
    computed here, from the tasks as they are now, never taken from the client."""
    topic, role = FLOW.begin(topic, actor, E.PLAN_ACCEPT)
    plan = schedule(topic)
    if plan.target is None:
        raise invalid("tasks", _("题目没有目标完成日期，无法倒排工期。"))
    proposed = {p.task.pk: p for p in plan.planned}
    if tasks is not None:
        unknown = [pk for pk in tasks if pk not in proposed]
        if unknown:
            raise invalid(
                "tasks",
                _("这些任务不在倒排工期的建议中：%(ids)s。")
                % {"ids": "、".join(map(str, unknown))},
            )
    chosen = [p for pk, p in proposed.items() if (tasks is None or pk in tasks) and p.changed]
    if not chosen:
        raise invalid("tasks", _("没有需要调整的任务：各任务的日期已与建议一致。"))
    locked = TopicTask.objects.select_for_update().in_bulk([p.task.pk for p in chosen])
    moved = []
    for p in chosen:
        task = locked[p.task.pk]
        moved.append(
            {
                "task": task.pk,
                "from": {"start_date": _iso(task.start_date), "deadline": str(task.deadline)},
                "to": {"start_date": str(p.start), "deadline": str(p.deadline)},
            }
        )
        task.start_date, task.deadline = p.start, p.deadline
        task.updated_at = timezone.now()  # bulk_update skips auto_now
    TopicTask.objects.bulk_update(locked.values(), ["start_date", "deadline", "updated_at"])
    FLOW.record(
        topic, E.PLAN_ACCEPT, actor, role, topic.status,
        {"target": str(plan.target), "tasks": moved},
    )  # fmt: skip
    return topic


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


# --- the topic's life -----------------------------------------------------------------------


def check_may_create(actor: User | AnonymousUser | None) -> User:
    """403 unless ``actor`` may propose a candidate topic."""
    user = require_user(actor)
    if not jurisdiction.has_role(user, *CREATE_ROLES):
        raise NotAllowed(_("只有常委会、督查人员和管理员可以提出候选题目。"))
    return user


@transaction.atomic
def topic_create(
    *,
    actor: User | AnonymousUser | None,
    title: str,
    month: dt.date,
    theme: str,
    lead_unit: Unit,
    problem: str = "",
    goals: str = "",
    end_month: dt.date | None = None,
    target_date: dt.date | None = None,
    cooperating_units: Sequence[Unit] = (),
    leader_name: str = "",
    leader_title: str = "",
    categories: Sequence[Category] = (),
    regions: Sequence[Region] = (),
    cases: Sequence[Case] = (),
) -> Topic:
    """提出候选: a committee member, supervisor or admin proposes a topic."""
    user = check_may_create(actor)
    if theme not in TopicTheme.values:
        raise invalid("theme", _("请选择主题。"))
    month = first_of_month(month)
    if end_month is not None:
        end_month = first_of_month(end_month)
        if end_month < month:
            raise invalid("end_month", _("截止月份不能早于开始月份。"))
    topic = Topic.objects.create(
        title=clean_text(title, "title", max_length=200),
        month=month,
        end_month=end_month,
        theme=theme,
        problem=clean_text(problem, "problem", required=False, max_length=TEXT_MAX),
        goals=clean_text(goals, "goals", required=False, max_length=TEXT_MAX),
        target_date=target_date,
        lead_unit=lead_unit,
        leader_name=clean_text(leader_name, "leader_name", required=False, max_length=64),
        leader_title=clean_text(leader_title, "leader_title", required=False, max_length=128),
        created_by=user,
    )
    topic.cooperating_units.set([u for u in cooperating_units if u.pk != lead_unit.pk])
    topic.categories.set(categories)
    topic.regions.set(regions)
    # Only cases the proposer may see: the topic shows its cases' titles to everyone who reads it.
    wanted = {case.pk for case in cases}
    if wanted:
        visible = set(
            Case.objects.filter(visibility_filter(user), pk__in=wanted).values_list(
                "pk", flat=True
            )
        )
        if wanted - visible:
            raise invalid("cases", _("只能关联您有权查看的诉求。"))
    topic.cases.set(wanted)
    FLOW.record(topic, E.CREATE, user, None, "", {"title": topic.title})
    return topic


@transaction.atomic
def topic_adopt(
    *, topic: Topic, actor: User | AnonymousUser | None, adopted_on: dt.date, note: str = ""
) -> Topic:
    """常委会确定: the standing committee adopts the topic at its meeting of ``adopted_on``."""
    topic, role = FLOW.begin(topic, actor, E.ADOPT)
    if adopted_on is None:
        raise invalid("adopted_on", _("请填写常委会会议日期。"))
    if adopted_on > timezone.localdate():
        raise invalid("adopted_on", _("会议日期不能晚于今天。"))
    from_status = FLOW.move(topic, E.ADOPT)
    topic.adopted_on = adopted_on
    FLOW.save(topic, "status", "adopted_on")
    FLOW.record(
        topic,
        E.ADOPT,
        actor,
        role,
        from_status,
        {"adopted_on": adopted_on.isoformat(), "note": note},
    )
    return topic


@transaction.atomic
def topic_start(*, topic: Topic, actor: User | AnonymousUser | None, note: str = "") -> Topic:
    """启动推进: work on an adopted (or carried-over) topic begins."""
    topic, role = FLOW.begin(topic, actor, E.START)
    from_status = FLOW.move(topic, E.START)
    if topic.started_at is None:
        topic.started_at = timezone.now()
    FLOW.save(topic, "status", "started_at")
    FLOW.record(topic, E.START, actor, role, from_status, {"note": note} if note else None)
    return topic


@transaction.atomic
def topic_close(
    *,
    topic: Topic,
    actor: User | AnonymousUser | None,
    summary: str,
    evidence: Sequence[UploadedFile] = (),
) -> Topic:
    """销号 (close_topic): the problem is declared solved, with a summary and evidence."""
    topic, role = FLOW.begin(topic, actor, E.CLOSE)
    summary = clean_text(summary, "summary", max_length=TEXT_MAX)
    checked = check_uploads(list(evidence), allow_pdf=True, field="evidence")
    from_status = FLOW.move(topic, E.CLOSE)
    topic.closing_summary = summary
    topic.closed_at = timezone.now()
    FLOW.save(topic, "status", "closing_summary", "closed_at")
    documents = [
        _store_document(
            topic,
            actor,
            upload,
            content_type,
            sha256,
            kind=DocumentKind.EVIDENCE,
            title=upload.name or _("销号佐证"),
        )
        for upload, content_type, sha256 in checked
    ]
    FLOW.record(topic, E.CLOSE, actor, role, from_status, {"documents": [d.pk for d in documents]})
    return topic


@transaction.atomic
def topic_carry_over(
    *, topic: Topic, actor: User | AnonymousUser | None, to_month: dt.date, reason: str = ""
) -> Topic:
    """结转: the topic is not solved this month and continues to ``to_month``."""
    topic, role = FLOW.begin(topic, actor, E.CARRY_OVER)
    if to_month is None:
        raise invalid("to_month", _("请选择结转到的月份。"))
    to_month = first_of_month(to_month)
    if to_month <= topic.last_month:
        raise invalid("to_month", _("结转月份必须晚于当前月份。"))
    reason = clean_text(reason, "reason", required=False, max_length=TEXT_MAX)
    from_status = FLOW.move(topic, E.CARRY_OVER)
    topic.end_month = to_month
    topic.carry_overs += 1
    FLOW.save(topic, "status", "end_month", "carry_overs")
    FLOW.record(
        topic,
        E.CARRY_OVER,
        actor,
        role,
        from_status,
        {"to_month": to_month.isoformat(), "reason": reason},
    )
    return topic


# --- tasks (工作任务 / 倒排工期) ------------------------------------------------------------


def _progress(value: int | None, field: str = "progress") -> int:
    if value is None or not 0 <= value <= 100:
        raise invalid(field, _("进度应在 0 到 100 之间。"))
    return value


@transaction.atomic
def task_add(
    *,
    topic: Topic,
    actor: User | AnonymousUser | None,
    title: str,
    owner_unit: Unit,
    deadline: dt.date | None = None,
    start_date: dt.date | None = None,
    area: str = "",
    position: int = 0,
    workdays: int | None = None,
) -> TopicTask:
    """The lead unit adds a measure with its owner and deadline, or with its 工期 (working days)
    alone: then the deadline is the topic's target date until a 倒排工期 plan is accepted."""
    topic, role = FLOW.begin(topic, actor, E.TASK_ADD)
    workdays = _workdays(workdays)
    if deadline is None and workdays is not None and topic.target_date is not None:
        deadline = topic.target_date
    if deadline is None:
        raise invalid("deadline", _("请填写完成时限，或填写工期后采纳倒排工期。"))
    if start_date is not None and start_date > deadline:
        raise invalid("start_date", _("开始日期不能晚于完成时限。"))
    task = TopicTask.objects.create(
        topic=topic,
        title=clean_text(title, "title", max_length=300),
        area=clean_text(area, "area", required=False, max_length=64),
        owner_unit=owner_unit,
        start_date=start_date,
        deadline=deadline,
        position=position,
        workdays=workdays,
    )
    FLOW.record(
        topic, E.TASK_ADD, actor, role, topic.status, {"task": task.pk, "title": task.title}
    )
    return task


def _workdays(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_WORKDAYS:
        raise invalid(
            "workdays", _("工期应在 1 到 %(max)s 个工作日之间。") % {"max": MAX_WORKDAYS}
        )
    return value


@transaction.atomic
def task_update(
    *,
    task: TopicTask,
    actor: User | AnonymousUser | None,
    status: str | None = None,
    progress: int | None = None,
    deadline: dt.date | None = None,
    workdays: int | None = None,
) -> TopicTask:
    """A task's status or progress (done means 100 %), its deadline or its 工期. The lead unit
    records any task; a cooperating unit only its own tasks' status and progress (the plan is
    the lead unit's)."""
    topic, role = FLOW.begin(task.topic, actor, E.TASK_UPDATE)
    task = TopicTask.objects.select_for_update().get(pk=task.pk)
    if role == COOPERATOR:
        # begin() found the actor a handler of a cooperating unit: a user here.
        if task.owner_unit_id not in jurisdiction.unit_ids(cast(User, actor), Role.HANDLER):
            raise NotAllowed(_("协办单位只能更新本单位负责的任务。"))
        if deadline is not None or workdays is not None:
            raise NotAllowed(_("完成时限和工期由牵头单位安排。"))
    changes: dict[str, Any] = {}
    if status is not None:
        if status not in TaskStatus.values:
            raise invalid("status", _("状态不正确。"))
        changes["status"] = status
    if progress is not None:
        changes["progress"] = _progress(progress)
    if deadline is not None:
        changes["deadline"] = deadline
    if workdays is not None:
        changes["workdays"] = _workdays(workdays)
    if not changes:
        raise invalid("status", _("请填写要更新的内容。"))
    new_status = changes.get("status", task.status)
    if new_status == TaskStatus.DONE:
        changes["progress"] = 100
        if task.done_on is None:
            changes["done_on"] = timezone.localdate()
    else:
        changes["done_on"] = None
        if changes.get("progress") == 100:
            raise invalid("progress", _("进度 100% 时请将状态设为已完成。"))
        if new_status == TaskStatus.TODO and changes.get("progress", task.progress) > 0:
            changes["status"] = TaskStatus.DOING
    before = _task_state(task)
    for field, value in changes.items():
        setattr(task, field, value)
    task.save(update_fields=[*changes, "updated_at"])
    after = _task_state(task)
    FLOW.record(
        topic,
        E.TASK_UPDATE,
        actor,
        role,
        topic.status,
        {"task": task.pk, "from": before, "to": after},
    )
    return task


def updatable_task_ids(user: User | AnonymousUser | None, topic: Topic) -> list[int]:
    """The tasks ``user`` may update now (the page's row forms): every task for the lead unit,
    its own for a cooperating unit, none for anyone else."""
    try:
        FLOW.precheck(user, topic, E.TASK_UPDATE)
        role = FLOW.acting_role(user, topic, E.TASK_UPDATE)
    except (WrongState, NotAllowed):
        return []
    tasks = topic.tasks.all()
    if role == LEAD:
        return [task.pk for task in tasks]
    units = jurisdiction.unit_ids(cast(User, user), Role.HANDLER)
    return [task.pk for task in tasks if task.owner_unit_id in units]


def _task_state(task: TopicTask) -> dict[str, Any]:
    """What a task event records of the task before and after."""
    return {
        "status": task.status,
        "progress": task.progress,
        "deadline": str(task.deadline),
        "workdays": task.workdays,
    }


@transaction.atomic
def task_supervise(
    *, task: TopicTask, actor: User | AnonymousUser | None, note: str
) -> TaskSupervision:
    """督办: a supervisor chases a late task (past its deadline and not done)."""
    topic, role = FLOW.begin(task.topic, actor, E.TASK_SUPERVISE)
    task = TopicTask.objects.get(pk=task.pk)
    if not task.is_overdue(timezone.localdate()):
        raise WrongState(_("只能对已逾期且未完成的任务督办。"))
    supervision = TaskSupervision.objects.create(
        task=task,
        actor=cast(User, actor),  # FLOW.begin let only a signed-in user through
        note=clean_text(note, "note", max_length=2000),
        created_at=timezone.now(),
    )
    FLOW.record(
        topic,
        E.TASK_SUPERVISE,
        actor,
        role,
        topic.status,
        {"task": task.pk, "supervision": supervision.pk, "note": supervision.note},
    )
    return supervision


# --- 周调度 (weekly reports) ------------------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


@transaction.atomic
def report_add(
    *,
    topic: Topic,
    actor: User | AnonymousUser | None,
    week: dt.date,
    done: str,
    problems: str = "",
    next_steps: str = "",
) -> ProgressReport:
    """周调度: the lead unit's update for one ISO week (one per topic per week)."""
    topic, role = FLOW.begin(topic, actor, E.REPORT)
    if week is None:
        raise invalid("week", _("请选择周。"))
    week = week_start(week)
    if ProgressReport.objects.filter(topic=topic, week=week).exists():
        raise WrongState(_("%(week)s 这一周的周调度已经填报。") % {"week": week.isoformat()})
    try:
        with transaction.atomic():
            report = ProgressReport.objects.create(
                topic=topic,
                week=week,
                done=clean_text(done, "done", max_length=TEXT_MAX),
                problems=clean_text(problems, "problems", required=False, max_length=TEXT_MAX),
                next_steps=clean_text(
                    next_steps, "next_steps", required=False, max_length=TEXT_MAX
                ),
                unit=topic.lead_unit,
                author=cast(User, actor),  # FLOW.begin let only a signed-in user through
                created_at=timezone.now(),
            )
    except IntegrityError as exc:  # pragma: no cover - the topic lock makes this a last resort
        raise WrongState(_("这一周的周调度已经填报。")) from exc
    FLOW.record(
        topic, E.REPORT, actor, role, topic.status, {"report": report.pk, "week": str(week)}
    )
    return report


# --- 指标 (indicators) -------------------------------------------------------------------------


@transaction.atomic
def indicator_add(
    *,
    topic: Topic,
    actor: User | AnonymousUser | None,
    name: str,
    unit_of_measure: str = "",
    target: Decimal | None = None,
    position: int = 0,
) -> Indicator:
    topic, role = FLOW.begin(topic, actor, E.INDICATOR_ADD)
    indicator = Indicator.objects.create(
        topic=topic,
        name=clean_text(name, "name", max_length=200),
        unit_of_measure=clean_text(
            unit_of_measure, "unit_of_measure", required=False, max_length=16
        ),
        target=target,
        position=position,
    )
    FLOW.record(topic, E.INDICATOR_ADD, actor, role, topic.status, {"indicator": indicator.pk})
    return indicator


@transaction.atomic
def indicator_record(
    *,
    indicator: Indicator,
    actor: User | AnonymousUser | None,
    value: Decimal,
    date: dt.date | None = None,
    note: str = "",
) -> IndicatorValue:
    """Append a reading to the indicator's history; the latest reading is its actual value."""
    topic, role = FLOW.begin(indicator.topic, actor, E.INDICATOR_VALUE)
    indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
    if value is None:
        raise invalid("value", _("请填写数值。"))
    if value < 0:
        raise invalid("value", _("数值不能为负。"))
    today = timezone.localdate()
    date = date or today
    if date > today:
        raise invalid("date", _("日期不能晚于今天。"))
    reading = IndicatorValue.objects.create(
        indicator=indicator,
        date=date,
        value=value,
        note=clean_text(note, "note", required=False, max_length=200),
        recorded_by=cast(User, actor),  # FLOW.begin let only a signed-in user through
        created_at=timezone.now(),
    )
    if indicator.actual_on is None or date >= indicator.actual_on:
        indicator.actual, indicator.actual_on = value, date
        indicator.save(update_fields=["actual", "actual_on"])
    FLOW.record(
        topic,
        E.INDICATOR_VALUE,
        actor,
        role,
        topic.status,
        {"indicator": indicator.pk, "date": date.isoformat(), "value": str(value)},
    )
    return reading


# --- documents ----------------------------------------------------------------------------


def _store_document(
    topic: Topic,
    actor: User | AnonymousUser | None,
    upload: UploadedFile,
    content_type: str,
    sha256: str,
    *,
    kind: str,
    title: str,
    number: str = "",
    issued_on: dt.date | None = None,
) -> PolicyDocument:
    document = PolicyDocument(
        topic=topic,
        kind=kind,
        title=title[:200],
        number=number,
        issued_on=issued_on,
        original_name=(upload.name or "file")[:255],
        content_type=content_type,
        size=upload.size or 0,
        sha256=sha256,
        uploaded_by=actor if actor is not None and actor.is_authenticated else None,
        created_at=timezone.now(),
    )
    upload.seek(0)
    document.file.save(sha256, upload, save=False)
    document.save()
    return document


def check_pdf(upload: UploadedFile | None, field: str = "file") -> str:
    """A policy document must be a PDF, judged by its first bytes, not its name; returns sha256."""
    if upload is None:
        raise invalid(field, _("请选择文件。"))
    if upload.size is None or upload.size > MAX_BYTES:
        raise invalid(field, _("文件超过 %(mb)d MB。") % {"mb": MAX_BYTES // (1024 * 1024)})
    upload.seek(0)
    head = upload.read(5)
    if head != b"%PDF-":
        upload.seek(0)
        raise InvalidInput(
            _("文件“%(name)s”不是 PDF。") % {"name": upload.name},
            fields={field: [_("只接受 PDF 文件。")]},
        )
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def document_add(
    *,
    topic: Topic,
    actor: User | AnonymousUser | None,
    title: str,
    file: UploadedFile,
    number: str = "",
    issued_on: dt.date | None = None,
) -> PolicyDocument:
    """The lead unit files a policy document (PDF) on the topic."""
    topic, role = FLOW.begin(topic, actor, E.DOCUMENT)
    title = clean_text(title, "title", max_length=200)
    sha256 = check_pdf(file)
    document = _store_document(
        topic,
        actor,
        file,
        "application/pdf",
        sha256,
        kind=DocumentKind.POLICY,
        title=title,
        number=clean_text(number, "number", required=False, max_length=64),
        issued_on=issued_on,
    )
    FLOW.record(topic, E.DOCUMENT, actor, role, topic.status, {"document": document.pk})
    return document
