"""Every change to a topic (每月一题): one function per transition or nested write.

Like ``cases.workflow``: each function is atomic, re-reads the topic with ``select_for_update()``,
checks the allowed-transition table (409), then the actor's role (403), then its input (400),
saves with ``update_fields``, writes exactly one append-only ``TopicEvent`` and queues side
effects with ``transaction.on_commit``. Nothing else writes ``Topic.status``.

Who may do what:

* 提出候选 (create a candidate): committee, supervisor or admin;
* 确定 / 销号 / 结转 (adopt, close, carry over): committee or admin;
* 启动 (start): committee, admin, or a handler of the lead unit;
* tasks, weekly reports, indicators and documents: handlers of the lead unit (牵头单位);
* 督办 on a late task: supervisors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import django.dispatch
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.attachments import MAX_BYTES, check_uploads
from cases.errors import InvalidInput, NotAllowed, WrongState, invalid
from cases.models import Case, Category
from cases.selectors import visibility_filter
from cases.sla import WorkCalendar
from org import jurisdiction
from org.models import Region, Role, Unit, User

from .models import (
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


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status does not change
    roles: tuple[str, ...]  # Role values, or LEAD


def _t(sources: Iterable[str], target: str | None, *roles: str) -> Transition:
    return Transition(frozenset(sources), target, roles)


S = TopicStatus
E = TopicEventType
OPEN = (S.ADOPTED, S.IN_PROGRESS, S.CARRIED_OVER)
TRANSITIONS: dict[str, Transition] = {
    E.ADOPT: _t([S.CANDIDATE], S.ADOPTED, Role.COMMITTEE, Role.ADMIN),
    E.START: _t([S.ADOPTED, S.CARRIED_OVER], S.IN_PROGRESS, Role.COMMITTEE, Role.ADMIN, LEAD),
    E.CLOSE: _t([S.IN_PROGRESS, S.CARRIED_OVER], S.CLOSED, Role.COMMITTEE, Role.ADMIN),
    E.CARRY_OVER: _t(OPEN, S.CARRIED_OVER, Role.COMMITTEE, Role.ADMIN),
    E.TASK_ADD: _t(OPEN, None, LEAD),
    E.TASK_UPDATE: _t(OPEN, None, LEAD),
    E.TASK_SUPERVISE: _t(OPEN, None, Role.SUPERVISOR),
    E.REPORT: _t(OPEN, None, LEAD),
    E.INDICATOR_ADD: _t([S.CANDIDATE, *OPEN], None, LEAD),
    E.INDICATOR_VALUE: _t(OPEN, None, LEAD),
    E.DOCUMENT: _t([S.CANDIDATE, *OPEN], None, LEAD),
}
CREATE_ROLES = (Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN)


# --- the shared steps -----------------------------------------------------------------------


def _authenticated(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("请先登录。"))
    return actor


def _has(actor: User, topic: Topic, role: str) -> bool:
    if role == LEAD:
        return topic.lead_unit_id in jurisdiction.unit_ids(actor, Role.HANDLER)
    return jurisdiction.has_role(actor, role)


def _acting_role(actor: User | None, topic: Topic, action: str) -> str:
    """The role in which ``actor`` may take ``action`` on ``topic``, or 403."""
    user = _authenticated(actor)
    for role in TRANSITIONS[action].roles:
        if _has(user, topic, role):
            return role
    raise NotAllowed(_("您没有对这个题目执行此操作的权限。"))


def _check_state(topic: Topic, action: str) -> None:
    if topic.status not in TRANSITIONS[action].sources:
        raise WrongState(
            _("题目当前状态为“%(status)s”，不能执行此操作。")
            % {"status": topic.get_status_display()}
        )


def precheck(actor: User | None, topic: Topic, action: str) -> None:
    """The state (409) and role (403) checks without the lock, so the API refuses before it
    judges the request body (400 comes last). The function itself checks again under the lock."""
    _check_state(topic, action)
    _acting_role(actor, topic, action)


def allowed_actions(user: User, topic: Topic) -> list[str]:
    """The actions ``user`` may take on ``topic`` now (for buttons)."""
    if not user.is_authenticated:
        return []
    result = []
    for action in TRANSITIONS:
        try:
            precheck(user, topic, action)
        except (WrongState, NotAllowed):
            continue
        result.append(str(action))
    return result


def _begin(topic: Topic, actor: User | None, action: str) -> tuple[Topic, str]:
    """Lock the topic, then refuse: 409 for the wrong state, 403 for the wrong actor."""
    locked = Topic.objects.select_for_update(of=("self",)).get(pk=topic.pk)
    _check_state(locked, action)
    return locked, _acting_role(actor, locked, action)


def _record(
    topic: Topic,
    action: str,
    actor: User | None,
    role: str | None,
    from_status: str,
    payload: dict[str, Any] | None = None,
) -> TopicEvent:
    event = TopicEvent.objects.create(
        topic=topic,
        type=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        from_status=from_status,
        to_status=topic.status,
        payload={"role": role, **(payload or {})} if role else dict(payload or {}),
        created_at=timezone.now(),
    )
    transaction.on_commit(
        lambda: topic_event_committed.send(sender=TopicEvent, event=event), robust=True
    )
    return event


def _move(topic: Topic, action: str) -> str:
    from_status = topic.status
    target = TRANSITIONS[action].target
    if target is not None:
        topic.status = target
    return from_status


def _save(topic: Topic, *fields: str) -> None:
    topic.save(update_fields=[*fields, "updated_at"])


def _text(value: str | None, field: str, *, required: bool = True, max_length: int = 5000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise invalid(field, _("此项不能为空。"))
    if len(text) > max_length:
        raise invalid(field, _("最多 %(n)d 个字。") % {"n": max_length})
    return text


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


# --- the topic's life -----------------------------------------------------------------------


def check_may_create(actor: User | None) -> User:
    """403 unless ``actor`` may propose a candidate topic."""
    user = _authenticated(actor)
    if not jurisdiction.has_role(user, *CREATE_ROLES):
        raise NotAllowed(_("只有常委会、督查人员和管理员可以提出候选题目。"))
    return user


@transaction.atomic
def topic_create(
    *,
    actor: User | None,
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
        title=_text(title, "title", max_length=200),
        month=month,
        end_month=end_month,
        theme=theme,
        problem=_text(problem, "problem", required=False),
        goals=_text(goals, "goals", required=False),
        target_date=target_date,
        lead_unit=lead_unit,
        leader_name=_text(leader_name, "leader_name", required=False, max_length=64),
        leader_title=_text(leader_title, "leader_title", required=False, max_length=128),
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
    _record(topic, E.CREATE, user, None, "", {"title": topic.title})
    return topic


@transaction.atomic
def topic_adopt(*, topic: Topic, actor: User | None, adopted_on: dt.date, note: str = "") -> Topic:
    """常委会确定: the standing committee adopts the topic at its meeting of ``adopted_on``."""
    topic, role = _begin(topic, actor, E.ADOPT)
    if adopted_on is None:
        raise invalid("adopted_on", _("请填写常委会会议日期。"))
    if adopted_on > timezone.localdate():
        raise invalid("adopted_on", _("会议日期不能晚于今天。"))
    from_status = _move(topic, E.ADOPT)
    topic.adopted_on = adopted_on
    _save(topic, "status", "adopted_on")
    _record(
        topic,
        E.ADOPT,
        actor,
        role,
        from_status,
        {"adopted_on": adopted_on.isoformat(), "note": note},
    )
    return topic


@transaction.atomic
def topic_start(*, topic: Topic, actor: User | None, note: str = "") -> Topic:
    """启动推进: work on an adopted (or carried-over) topic begins."""
    topic, role = _begin(topic, actor, E.START)
    from_status = _move(topic, E.START)
    if topic.started_at is None:
        topic.started_at = timezone.now()
    _save(topic, "status", "started_at")
    _record(topic, E.START, actor, role, from_status, {"note": note} if note else None)
    return topic


@transaction.atomic
def topic_close(
    *,
    topic: Topic,
    actor: User | None,
    summary: str,
    evidence: Sequence[UploadedFile] = (),
) -> Topic:
    """销号 (close_topic): the problem is declared solved, with a summary and evidence."""
    topic, role = _begin(topic, actor, E.CLOSE)
    summary = _text(summary, "summary")
    checked = check_uploads(list(evidence), allow_pdf=True, field="evidence")
    from_status = _move(topic, E.CLOSE)
    topic.closing_summary = summary
    topic.closed_at = timezone.now()
    _save(topic, "status", "closing_summary", "closed_at")
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
    _record(topic, E.CLOSE, actor, role, from_status, {"documents": [d.pk for d in documents]})
    return topic


@transaction.atomic
def topic_carry_over(
    *, topic: Topic, actor: User | None, to_month: dt.date, reason: str = ""
) -> Topic:
    """结转: the topic is not solved this month and continues to ``to_month``."""
    topic, role = _begin(topic, actor, E.CARRY_OVER)
    if to_month is None:
        raise invalid("to_month", _("请选择结转到的月份。"))
    to_month = first_of_month(to_month)
    if to_month <= topic.last_month:
        raise invalid("to_month", _("结转月份必须晚于当前月份。"))
    reason = _text(reason, "reason", required=False)
    from_status = _move(topic, E.CARRY_OVER)
    topic.end_month = to_month
    topic.carry_overs += 1
    _save(topic, "status", "end_month", "carry_overs")
    _record(
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
    actor: User | None,
    title: str,
    owner_unit: Unit,
    deadline: dt.date,
    start_date: dt.date | None = None,
    area: str = "",
    position: int = 0,
) -> TopicTask:
    """The lead unit adds a measure with its owner and deadline."""
    topic, role = _begin(topic, actor, E.TASK_ADD)
    if deadline is None:
        raise invalid("deadline", _("请填写完成时限。"))
    if start_date is not None and start_date > deadline:
        raise invalid("start_date", _("开始日期不能晚于完成时限。"))
    task = TopicTask.objects.create(
        topic=topic,
        title=_text(title, "title", max_length=300),
        area=_text(area, "area", required=False, max_length=64),
        owner_unit=owner_unit,
        start_date=start_date,
        deadline=deadline,
        position=position,
    )
    _record(topic, E.TASK_ADD, actor, role, topic.status, {"task": task.pk, "title": task.title})
    return task


@transaction.atomic
def task_update(
    *,
    task: TopicTask,
    actor: User | None,
    status: str | None = None,
    progress: int | None = None,
    deadline: dt.date | None = None,
) -> TopicTask:
    """The lead unit records a task's status or progress (done means 100 %)."""
    topic, role = _begin(task.topic, actor, E.TASK_UPDATE)
    task = TopicTask.objects.select_for_update().get(pk=task.pk)
    changes: dict[str, Any] = {}
    if status is not None:
        if status not in TaskStatus.values:
            raise invalid("status", _("状态不正确。"))
        changes["status"] = status
    if progress is not None:
        changes["progress"] = _progress(progress)
    if deadline is not None:
        changes["deadline"] = deadline
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
    before = {"status": task.status, "progress": task.progress, "deadline": str(task.deadline)}
    for field, value in changes.items():
        setattr(task, field, value)
    task.save(update_fields=[*changes, "updated_at"])
    after = {"status": task.status, "progress": task.progress, "deadline": str(task.deadline)}
    _record(
        topic,
        E.TASK_UPDATE,
        actor,
        role,
        topic.status,
        {"task": task.pk, "from": before, "to": after},
    )
    return task


@transaction.atomic
def task_supervise(*, task: TopicTask, actor: User | None, note: str) -> TaskSupervision:
    """督办: a supervisor chases a late task (past its deadline and not done)."""
    topic, role = _begin(task.topic, actor, E.TASK_SUPERVISE)
    task = TopicTask.objects.get(pk=task.pk)
    if not task.is_overdue(timezone.localdate()):
        raise WrongState(_("只能对已逾期且未完成的任务督办。"))
    supervision = TaskSupervision.objects.create(
        task=task,
        actor=actor,
        note=_text(note, "note", max_length=2000),
        created_at=timezone.now(),
    )
    _record(
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
    actor: User | None,
    week: dt.date,
    done: str,
    problems: str = "",
    next_steps: str = "",
) -> ProgressReport:
    """周调度: the lead unit's update for one ISO week (one per topic per week)."""
    topic, role = _begin(topic, actor, E.REPORT)
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
                done=_text(done, "done"),
                problems=_text(problems, "problems", required=False),
                next_steps=_text(next_steps, "next_steps", required=False),
                unit=topic.lead_unit,
                author=actor,
                created_at=timezone.now(),
            )
    except IntegrityError as exc:  # pragma: no cover - the topic lock makes this a last resort
        raise WrongState(_("这一周的周调度已经填报。")) from exc
    _record(topic, E.REPORT, actor, role, topic.status, {"report": report.pk, "week": str(week)})
    return report


# --- 指标 (indicators) -------------------------------------------------------------------------


@transaction.atomic
def indicator_add(
    *,
    topic: Topic,
    actor: User | None,
    name: str,
    unit_of_measure: str = "",
    target: Decimal | None = None,
    position: int = 0,
) -> Indicator:
    topic, role = _begin(topic, actor, E.INDICATOR_ADD)
    indicator = Indicator.objects.create(
        topic=topic,
        name=_text(name, "name", max_length=200),
        unit_of_measure=_text(unit_of_measure, "unit_of_measure", required=False, max_length=16),
        target=target,
        position=position,
    )
    _record(topic, E.INDICATOR_ADD, actor, role, topic.status, {"indicator": indicator.pk})
    return indicator


@transaction.atomic
def indicator_record(
    *,
    indicator: Indicator,
    actor: User | None,
    value: Decimal,
    date: dt.date | None = None,
    note: str = "",
) -> IndicatorValue:
    """Append a reading to the indicator's history; the latest reading is its actual value."""
    topic, role = _begin(indicator.topic, actor, E.INDICATOR_VALUE)
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
        note=_text(note, "note", required=False, max_length=200),
        recorded_by=actor,
        created_at=timezone.now(),
    )
    if indicator.actual_on is None or date >= indicator.actual_on:
        indicator.actual, indicator.actual_on = value, date
        indicator.save(update_fields=["actual", "actual_on"])
    _record(
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
    actor: User | None,
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
    actor: User | None,
    title: str,
    file: UploadedFile,
    number: str = "",
    issued_on: dt.date | None = None,
) -> PolicyDocument:
    """The lead unit files a policy document (PDF) on the topic."""
    topic, role = _begin(topic, actor, E.DOCUMENT)
    title = _text(title, "title", max_length=200)
    sha256 = check_pdf(file)
    document = _store_document(
        topic,
        actor,
        file,
        "application/pdf",
        sha256,
        kind=DocumentKind.POLICY,
        title=title,
        number=_text(number, "number", required=False, max_length=64),
        issued_on=issued_on,
    )
    _record(topic, E.DOCUMENT, actor, role, topic.status, {"document": document.pk})
    return document
