"""Who may read and write what beside the case workflow: the IDOR table.

Every read and write endpoint of topics (with their tasks, indicators, reports, documents and
candidates), bulletins, exports, notifications and case attachments, tried by every role inside
and outside the object's reach, signed in or not. The expected answer comes from the oracles
below, written from DESIGN.md, the selectors' docstrings and the workflow docstrings (who may
do what), not from the selectors or the workflow tables, so the two can disagree. A refused
write must leave everything as it was; a list must not show what its reader may not open; an
object is looked up only under the parent in its URL (a task, indicator or document of another
topic, an attachment of another case, a notification or export of another user is 404).

The world is the seed's: 赵先生's heating case in 湟中区多巴镇多巴一村 (lead 湟中区人民政府,
co-handler 华润燃气), and a 每月一题 topic led by 湟中区人民政府 with 华润燃气 cooperating.

The order the answers are met in, as for the case table: the anonymous are stopped first
(401/403); a user who cannot see the object gets 404; a step nobody may take in this state is
409, one somebody may take but not this user 403; then the body (400).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from cases import workflow as case_workflow
from cases.models import Attachment, Case
from notifications.models import Notification
from org.models import Role, User
from stats.bulletins import bulletin_generate, bulletin_publish
from stats.exports import job_params, run_job
from stats.models import Bulletin, ExportJob
from tests.cases.conftest import PATH_TO, run_steps
from tests.conftest import Demo
from tests.factories import MembershipFactory, UserFactory
from topics import workflow as topic_workflow
from topics.models import (
    Indicator,
    IndicatorValue,
    PolicyDocument,
    ProgressReport,
    TaskSupervision,
    Topic,
    TopicEvent,
    TopicStatus,
    TopicTask,
    TopicTheme,
)

pytestmark = pytest.mark.django_db

ANONYMOUS = -1  # the expected answer for the not-signed-in: 401 or 403 not_authenticated
ERROR_CODES = {400: "invalid", 403: "forbidden", 404: "not_found", 409: "conflict"}


# --- the actors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Someone who tries an endpoint: what they are to the objects, not how the code decides."""

    name: str
    username: str | None  # None: not signed in
    kind: str  # anonymous, resident, operator, dispatcher, handler, supervisor, committee, admin
    case: str = ""  # to the case: complainant, area (jurisdiction over 湟中区), lead, co, or ""
    topic: str = ""  # their unit's place in the topic: lead, co, or ""


ACTORS = [
    Actor("anonymous", None, "anonymous"),
    Actor("resident1 (complainant)", "resident1", "resident", case="complainant"),
    Actor("resident2", "resident2", "resident"),
    Actor("operator1 (city)", "operator1", "operator", case="area"),
    Actor("operator_chengdong", "operator_chengdong", "operator"),
    Actor("dispatcher_city", "dispatcher_city", "dispatcher", case="area"),
    Actor(
        "dispatcher_huangzhong (lead unit)",
        "dispatcher_huangzhong",
        "dispatcher",
        case="area",
        topic="lead",
    ),
    Actor("dispatcher_chengdong", "dispatcher_chengdong", "dispatcher"),
    Actor("handler_huangzhong (lead)", "handler_huangzhong", "handler", case="lead", topic="lead"),
    Actor("handler_gas (co)", "handler_gas", "handler", case="co", topic="co"),
    Actor("handler_chengdong", "handler_chengdong", "handler"),
    Actor("supervisor1 (city)", "supervisor1", "supervisor", case="area"),
    Actor("supervisor_huangzhong", "supervisor_huangzhong", "supervisor", case="area"),
    Actor("supervisor_chengdong", "supervisor_chengdong", "supervisor"),
    Actor("committee1", "committee1", "committee", case="area"),
    Actor("admin (superuser)", "admin", "admin", case="area"),
]
STAFF_KINDS = {"operator", "dispatcher", "handler", "supervisor", "committee", "admin"}


# --- the oracles --------------------------------------------------------------------------------


def is_staff(actor: Actor) -> bool:
    """Statistics, exports and published bulletins are for the staff, never for residents."""
    return actor.kind in STAFF_KINDS


def sees_case(actor: Actor) -> bool:
    """Who can open the (handling) case and so its attachments: an administrator; the
    complainant; staff whose jurisdiction covers the case (the committee reads everything);
    the units handling it. Nobody else."""
    return actor.kind == "admin" or actor.kind == "committee" or bool(actor.case)


def sees_topic(actor: Actor) -> bool:
    """每月一题 is read by the committee, supervisors and administrators, and by the staff of
    the lead and cooperating units (whatever their role there)."""
    return actor.kind in ("committee", "supervisor", "admin") or actor.topic in ("lead", "co")


def topic_capacities(actor: Actor) -> set[str]:
    """What the actor may be to a topic's steps: their role, and 'lead' for a handler of the
    lead unit (the unit that plans and reports, 牵头单位)."""
    mine = {actor.kind}
    if actor.kind == "handler" and actor.topic == "lead":
        mine.add("lead")
    return mine


# Who may take each topic step (topics/workflow.py's docstring, restated).
TOPIC_OWNERS: dict[str, set[str]] = {
    "adopt": {"committee", "admin"},
    "start": {"committee", "admin", "lead"},
    "close": {"committee", "admin"},
    "carry-over": {"committee", "admin"},
    "tasks": {"lead"},
    "task": {"lead"},
    "task-supervise": {"supervisor"},
    "reports": {"lead"},
    "indicators": {"lead"},
    "indicator-values": {"lead"},
    "documents": {"lead"},
}
PROPOSERS = {"committee", "supervisor", "admin"}


def expect_topic_step(step: str, success: int) -> Callable[[Actor], int]:
    def expected(actor: Actor) -> int:
        if actor.kind == "anonymous":
            return ANONYMOUS
        if not sees_topic(actor):
            return 404
        return success if topic_capacities(actor) & TOPIC_OWNERS[step] else 403

    return expected


def expect_topic_read(actor: Actor) -> int:
    return ANONYMOUS if actor.kind == "anonymous" else 200 if sees_topic(actor) else 404


def expect_signed_in(actor: Actor) -> int:
    return ANONYMOUS if actor.kind == "anonymous" else 200


def expect_staff(success: int = 200) -> Callable[[Actor], int]:
    def expected(actor: Actor) -> int:
        return ANONYMOUS if actor.kind == "anonymous" else success if is_staff(actor) else 403

    return expected


def expect_nobody(actor: Actor) -> int:
    """An object looked up under a parent it does not belong to: not there, for everyone."""
    return ANONYMOUS if actor.kind == "anonymous" else 404


def expect_owner(owner: str, success: int = 200) -> Callable[[Actor], int]:
    def expected(actor: Actor) -> int:
        if actor.kind == "anonymous":
            return ANONYMOUS
        return success if actor.username == owner else 404

    return expected


def expect_propose(actor: Actor) -> int:
    return ANONYMOUS if actor.kind == "anonymous" else 201 if actor.kind in PROPOSERS else 403


def expect_adopt_candidate(actor: Actor) -> int:
    """未诉先办 → 立为题目 with an empty body: proposers hear what is missing, others 403."""
    return ANONYMOUS if actor.kind == "anonymous" else 400 if actor.kind in PROPOSERS else 403


# Bulletins (月通报): published ones for the staff, drafts only for the committee and admins,
# who alone edit and publish; a published bulletin is final (409 for all who see it).
BULLETIN_EDITORS = {"committee", "admin"}


def sees_bulletin(actor: Actor, draft: bool) -> bool:
    return actor.kind in BULLETIN_EDITORS if draft else is_staff(actor)


def expect_bulletin_read(draft: bool) -> Callable[[Actor], int]:
    def expected(actor: Actor) -> int:
        if actor.kind == "anonymous":
            return ANONYMOUS
        return 200 if sees_bulletin(actor, draft) else 404

    return expected


def expect_bulletin_write(draft: bool) -> Callable[[Actor], int]:
    def expected(actor: Actor) -> int:
        if actor.kind == "anonymous":
            return ANONYMOUS
        if not sees_bulletin(actor, draft):
            return 404
        if not draft:
            return 409
        return 200 if actor.kind in BULLETIN_EDITORS else 403

    return expected


def expect_attachment(actor: Actor) -> int:
    return ANONYMOUS if actor.kind == "anonymous" else 200 if sees_case(actor) else 404


# --- the world ----------------------------------------------------------------------------------

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)


def pdf(name: str = "方案.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7\nbody\n%%EOF", content_type="application/pdf")


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile("现场.png", buffer.getvalue(), content_type="image/png")


class World:
    """The objects of the table, built through the workflow functions when first asked for."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.current: Topic | None = None  # the topic the last request was made on

    def user(self, username: str) -> User:
        return self.demo.user(username)

    # 每月一题 ------------------------------------------------------------------------------

    def topic(
        self, status: str = TopicStatus.IN_PROGRESS, *, lead: str = "huangzhong-gov"
    ) -> Topic:
        """A topic led by ``lead`` (华润燃气 cooperating), walked to ``status``."""
        committee = self.user("committee1")
        topic = topic_workflow.topic_create(
            actor=committee,
            title=f"供暖管网改造 {Topic.objects.count() + 1}",
            month=THIS_MONTH,
            theme=TopicTheme.PROBLEM_SOLVING,
            lead_unit=self.demo.unit(lead),
            cooperating_units=[self.demo.unit("xn-gas")],
        )
        steps = {
            TopicStatus.CANDIDATE: [],
            TopicStatus.ADOPTED: ["adopt"],
            TopicStatus.IN_PROGRESS: ["adopt", "start"],
        }[status]
        for step in steps:
            if step == "adopt":
                topic_workflow.topic_adopt(topic=topic, actor=committee, adopted_on=TODAY)
            else:
                topic_workflow.topic_start(topic=topic, actor=committee)
        topic.refresh_from_db()
        return topic

    def lead_of(self, topic: Topic) -> User:
        """A handler of the topic's lead unit (the seed has one for 湟中区人民政府)."""
        if topic.lead_unit.code == "huangzhong-gov":
            return self.user("handler_huangzhong")
        return MembershipFactory(unit=topic.lead_unit, role=Role.HANDLER).user

    def task(self, topic: Topic, *, late: bool = False) -> TopicTask:
        deadline = TODAY - dt.timedelta(days=3) if late else TODAY + dt.timedelta(days=60)
        return topic_workflow.task_add(
            topic=topic,
            actor=self.lead_of(topic),
            title="管网摸底",
            owner_unit=topic.lead_unit,
            deadline=deadline,
        )

    def indicator(self, topic: Topic) -> Indicator:
        return topic_workflow.indicator_add(
            topic=topic, actor=self.lead_of(topic), name="恢复供暖户数", unit_of_measure="户"
        )

    def document(self, topic: Topic) -> PolicyDocument:
        return topic_workflow.document_add(
            topic=topic, actor=self.lead_of(topic), title="实施方案", file=pdf()
        )

    @cached_property
    def shown_topic(self) -> Topic:
        """An in-progress topic with an indicator (for the lists and exports)."""
        topic = self.topic()
        self.indicator(topic)
        return topic

    @cached_property
    def other_topic(self) -> Topic:
        """A topic of another lead unit (自然资源和规划局), with a task, indicator and document."""
        topic = self.topic(lead="xn-planning")
        self.task(topic)
        self.indicator(topic)
        self.document(topic)
        return topic

    # 月通报 ---------------------------------------------------------------------------------

    @staticmethod
    def unused_month() -> dt.date:
        """A month with no bulletin yet, counting back from last month (a bulletin is one a
        month, and once published it is never generated again)."""
        month = (THIS_MONTH - dt.timedelta(days=1)).replace(day=1)
        while Bulletin.objects.filter(month=month).exists():
            month = (month - dt.timedelta(days=1)).replace(day=1)
        return month

    @cached_property
    def draft(self) -> Bulletin:
        return bulletin_generate(self.unused_month())

    @cached_property
    def published(self) -> Bulletin:
        bulletin = bulletin_generate(self.unused_month())
        return bulletin_publish(bulletin=bulletin, actor=self.user("committee1"))

    # exports -------------------------------------------------------------------------------

    EXPORT_OWNER = "dispatcher_huangzhong"

    @cached_property
    def export_job(self) -> ExportJob:
        """A finished background export of dispatcher_huangzhong's."""
        job = ExportJob.objects.create(
            user=self.user(self.EXPORT_OWNER),
            table="plan",
            params=job_params({"table": "plan", "from": TODAY, "to": TODAY, "year": TODAY.year}),
        )
        run_job(job.pk)
        job.refresh_from_db()
        assert job.status == "done", job.error
        return job

    # cases ---------------------------------------------------------------------------------

    def case(
        self,
        status: str,
        *,
        resident: str = "resident1",
        region: tuple[str, ...] = ("湟中区", "多巴镇", "多巴一村"),
        category: str = "heating-cold",
    ) -> Case:
        with transaction.atomic():
            case = case_workflow.case_submit(
                actor=self.user(resident),
                category=self.demo.category(category),
                region=self.demo.region(*region),
                description="家里暖气不热，附近管道破损。",
                complainant_name="赵先生",
                complainant_phone="13897123456",
                address="新村巷38号",
                attachments=[photo()],
            )
        return run_steps(case, PATH_TO[status], self.demo)

    @cached_property
    def handling_case(self) -> Case:
        return self.case("handling")

    @cached_property
    def chengdong_case(self) -> Case:
        """A noise complaint in 城东区康西社区, waiting for intake (城东区's staff see it)."""
        return self.case(
            "submitted",
            resident="resident2",
            region=("城东区", "大众街街道", "康西社区"),
            category="noise",
        )

    def attachment_of(self, case: Case) -> Attachment:
        return case.attachments.get()

    # notifications -------------------------------------------------------------------------

    def note(self, username: str) -> Notification:
        return Notification.objects.create(
            user=self.user(username),
            subject=self.handling_case,
            kind="case_assigned",
            params={
                "code": self.handling_case.tracking_code,
                "category": "供暖不热",
                "deadline": timezone.now().isoformat(),
            },
            key=f"idor:{username}:{Notification.objects.count()}",
            created_at=timezone.now(),
        )

    @cached_property
    def resident_note(self) -> Notification:
        return self.note("resident1")

    @cached_property
    def handler_note(self) -> Notification:
        return self.note("handler_huangzhong")


# --- the probes ---------------------------------------------------------------------------------


Snapshot = Callable[[World], Any]
Leak = Callable[[World, Actor, Any], str | None]


@dataclass
class Probe:
    """One endpoint tried by every actor.

    ``url`` and ``body`` are built from the world (``body`` is called for every request, as an
    upload is read once); ``expected`` is the oracle; ``snapshot`` is what a refusal must leave
    unchanged; ``leak`` checks a successful answer shows only what the actor may see;
    ``fresh`` rebuilds the world after a success (a step that moved the object on)."""

    name: str
    method: str
    url: Callable[[World], str]
    expected: Callable[[Actor], int]
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    multipart: bool = False
    snapshot: Snapshot | None = None
    leak: Leak | None = None
    fresh: bool = False
    setup: Callable[[World], Any] | None = None


def topic_state(topic_of: Callable[[World], Topic]) -> Snapshot:
    def snapshot(world: World) -> Any:
        topic = topic_of(world)
        return {
            "topic": Topic.objects.filter(pk=topic.pk).values().get(),
            "events": TopicEvent.objects.filter(topic=topic).count(),
            "tasks": list(TopicTask.objects.filter(topic=topic).order_by("pk").values()),
            "supervisions": TaskSupervision.objects.filter(task__topic=topic).count(),
            "reports": ProgressReport.objects.filter(topic=topic).count(),
            "indicators": Indicator.objects.filter(topic=topic).count(),
            "values": IndicatorValue.objects.filter(indicator__topic=topic).count(),
            "documents": PolicyDocument.objects.filter(topic=topic).count(),
            "all_topics": Topic.objects.count(),
        }

    return snapshot


def results(content: Any) -> list[dict[str, Any]]:
    return content["results"] if isinstance(content, dict) and "results" in content else content


def lists_topic(attribute: str) -> Leak:
    """The list holds the world's topic exactly when the actor may open it."""

    def leak(world: World, actor: Actor, content: Any) -> str | None:
        topic = getattr(world, attribute)
        ids = {row["id"] for row in results(content)}
        if (topic.pk in ids) != sees_topic(actor):
            return f"lists topic {topic.pk}: {topic.pk in ids}, may see it: {sees_topic(actor)}"
        return None

    return leak


def plan_lists_topic(world: World, actor: Actor, content: Any) -> str | None:
    ids = {t["id"] for month in content["months"] for t in month["topics"]}
    topic = world.shown_topic
    if (topic.pk in ids) != sees_topic(actor):
        return f"plan shows topic {topic.pk}: {topic.pk in ids}, may see it: {sees_topic(actor)}"
    return None


def workbook_text(content: bytes) -> str:
    """Every string of an .xlsx (its shared strings and inline text)."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "".join(
            book.read(name).decode()
            for name in book.namelist()
            if name.startswith("xl/") and name.endswith(".xml")
        )


def export_shows(text_of: Callable[[World], str]) -> Leak:
    """The exported workbook names the topic (or its indicator) exactly when the actor may
    open the topic."""

    def leak(world: World, actor: Actor, content: bytes) -> str | None:
        shown = text_of(world) in workbook_text(content)
        if shown != sees_topic(actor):
            return f"export shows {text_of(world)!r}: {shown}, may see it: {sees_topic(actor)}"
        return None

    return leak


def lists_notes(world: World, actor: Actor, content: Any) -> str | None:
    """An inbox holds the reader's own messages only."""
    ids = {row["id"] for row in results(content)}
    notes = (world.resident_note, world.handler_note)
    mine = {n.pk for n in notes if n.user.username == actor.username}
    theirs = {world.resident_note.pk, world.handler_note.pk} - mine
    if not mine <= ids or ids & theirs:
        return f"inbox shows {sorted(ids)}; own {sorted(mine)}, others' {sorted(theirs)}"
    return None


def unread_count(world: World, actor: Actor, content: Any) -> str | None:
    own = Notification.objects.filter(user__username=actor.username, read_at__isnull=True).count()
    return None if content == {"unread": own} else f"unread {content}, own {own}"


def lists_bulletins(world: World, actor: Actor, content: Any) -> str | None:
    ids = {row["id"] for row in results(content)}
    problems = []
    for bulletin, draft in ((world.draft, True), (world.published, False)):
        if (bulletin.pk in ids) != sees_bulletin(actor, draft):
            problems.append(f"{'draft' if draft else 'published'} listed: {bulletin.pk in ids}")
    return "; ".join(problems) or None


def notes_state(world: World) -> Any:
    return sorted(Notification.objects.values_list("pk", "read_at"))


def bulletin_state(world: World) -> Any:
    return sorted(Bulletin.objects.values_list("pk", "status", "title", "body"))


def export_state(world: World) -> Any:
    return sorted(ExportJob.objects.values_list("pk", "user_id", "status"))


def step_url(step: str, status: str) -> Callable[[World], str]:
    """A step on a fresh topic in ``status`` (a success moves it on, so each actor gets one)."""

    def url(world: World) -> str:
        world.current = world.topic(status)
        return f"/api/v1/topics/{world.current.pk}/{step}/"

    return url


def current_topic(world: World) -> Topic:
    assert world.current is not None
    return world.current


def nested(path: Callable[[World, Topic], str]) -> Callable[[World], str]:
    """A nested write under an in-progress topic made for this request."""

    def url(world: World) -> str:
        topic = world.current = world.topic()
        return f"/api/v1/topics/{topic.pk}/{path(world, topic)}"

    return url


TOPICS = "/api/v1/topics/"


def with_shown_topic(world: World) -> Topic:
    """The listed topic, built before the first actor asks."""
    return world.shown_topic


def with_notes(world: World) -> tuple[Notification, Notification]:
    """Both messages, made before the first actor asks."""
    return world.resident_note, world.handler_note


PROBES: list[Probe] = [
    # 每月一题: reads
    Probe(
        "topics: list",
        "get",
        lambda w: TOPICS,
        expect_signed_in,
        leak=lists_topic("shown_topic"),
        setup=with_shown_topic,
    ),
    Probe(
        "topics: board",
        "get",
        lambda w: f"{TOPICS}board/",
        expect_signed_in,
        leak=lists_topic("shown_topic"),
        setup=with_shown_topic,
    ),
    Probe(
        "topics: plan",
        "get",
        lambda w: f"{TOPICS}plan/?year={TODAY.year}",
        expect_signed_in,
        leak=plan_lists_topic,
        setup=with_shown_topic,
    ),
    Probe("topics: detail", "get", lambda w: f"{TOPICS}{w.shown_topic.pk}/", expect_topic_read),
    Probe(
        "topics: document download",
        "get",
        lambda w: f"{TOPICS}{w.shown_topic.pk}/documents/{w.document(w.shown_topic).pk}/",
        expect_topic_read,
    ),
    Probe(
        "topics: another topic's document under this topic",
        "get",
        lambda w: f"{TOPICS}{w.shown_topic.pk}/documents/{w.other_topic.documents.get().pk}/",
        expect_nobody,
    ),
    Probe(
        "topics: candidates (未诉先办)", "get", lambda w: f"{TOPICS}candidates/", expect_staff()
    ),
    # 每月一题: writes
    Probe(
        "topics: propose",
        "post",
        lambda w: TOPICS,
        expect_propose,
        body=lambda w: {
            "title": "推进基层减负",
            "month": THIS_MONTH.isoformat(),
            "theme": "burden_reduction",
            "lead_unit": w.demo.unit("xn-civil").pk,
        },
        snapshot=lambda w: Topic.objects.count(),
    ),
    Probe(
        "topics: adopt a candidate (立为题目)",
        "post",
        lambda w: f"{TOPICS}candidates/adopt/",
        expect_adopt_candidate,
        snapshot=lambda w: Topic.objects.count(),
    ),
    Probe(
        "topics: adopt",
        "post",
        step_url("adopt", TopicStatus.CANDIDATE),
        expect_topic_step("adopt", 200),
        body=lambda w: {"adopted_on": TODAY.isoformat()},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: start",
        "post",
        step_url("start", TopicStatus.ADOPTED),
        expect_topic_step("start", 200),
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: close",
        "post",
        step_url("close", TopicStatus.IN_PROGRESS),
        expect_topic_step("close", 200),
        body=lambda w: {"summary": "管网改造完成，供暖恢复。"},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: carry over",
        "post",
        step_url("carry-over", TopicStatus.IN_PROGRESS),
        expect_topic_step("carry-over", 200),
        body=lambda w: {"to_month": (THIS_MONTH + dt.timedelta(days=40)).isoformat()},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: add a task",
        "post",
        nested(lambda w, t: "tasks/"),
        expect_topic_step("tasks", 201),
        body=lambda w: {
            "title": "更换破损管道",
            "owner_unit": w.demo.unit("huangzhong-gov").pk,
            "deadline": (TODAY + dt.timedelta(days=30)).isoformat(),
        },
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: update a task",
        "patch",
        nested(lambda w, t: f"tasks/{w.task(t).pk}/"),
        expect_topic_step("task", 200),
        body=lambda w: {"progress": 40},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: another topic's task under this topic",
        "patch",
        nested(lambda w, t: f"tasks/{w.other_topic.tasks.get().pk}/"),
        expect_nobody,
        body=lambda w: {"progress": 40},
        snapshot=topic_state(lambda w: w.other_topic),
    ),
    Probe(
        "topics: 督办 a late task",
        "post",
        nested(lambda w, t: f"tasks/{w.task(t, late=True).pk}/supervise/"),
        expect_topic_step("task-supervise", 201),
        body=lambda w: {"note": "请本周完成。"},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: weekly report",
        "post",
        nested(lambda w, t: "reports/"),
        expect_topic_step("reports", 201),
        body=lambda w: {"week": TODAY.isoformat(), "done": "完成管网摸底。"},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: add an indicator",
        "post",
        nested(lambda w, t: "indicators/"),
        expect_topic_step("indicators", 201),
        body=lambda w: {"name": "恢复供暖户数", "unit_of_measure": "户", "target": "120"},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: record an indicator value",
        "post",
        nested(lambda w, t: f"indicators/{w.indicator(t).pk}/values/"),
        expect_topic_step("indicator-values", 201),
        body=lambda w: {"date": TODAY.isoformat(), "value": "30"},
        snapshot=topic_state(current_topic),
    ),
    Probe(
        "topics: another topic's indicator under this topic",
        "post",
        nested(lambda w, t: f"indicators/{w.other_topic.indicators.get().pk}/values/"),
        expect_nobody,
        body=lambda w: {"date": TODAY.isoformat(), "value": "30"},
        snapshot=topic_state(lambda w: w.other_topic),
    ),
    Probe(
        "topics: upload a document",
        "post",
        nested(lambda w, t: "documents/"),
        expect_topic_step("documents", 201),
        body=lambda w: {"title": "实施方案", "file": pdf()},
        multipart=True,
        snapshot=topic_state(current_topic),
    ),
    # 月通报
    Probe(
        "bulletins: list",
        "get",
        lambda w: "/api/v1/bulletins/",
        expect_signed_in,
        leak=lists_bulletins,
        setup=lambda w: (w.draft, w.published),
    ),
    Probe(
        "bulletins: draft",
        "get",
        lambda w: f"/api/v1/bulletins/{w.draft.pk}/",
        expect_bulletin_read(draft=True),
    ),
    Probe(
        "bulletins: published",
        "get",
        lambda w: f"/api/v1/bulletins/{w.published.pk}/",
        expect_bulletin_read(draft=False),
    ),
    Probe(
        "bulletins: draft as Excel",
        "get",
        lambda w: f"/api/v1/bulletins/{w.draft.pk}/export.xlsx",
        expect_bulletin_read(draft=True),
    ),
    Probe(
        "bulletins: published as Excel",
        "get",
        lambda w: f"/api/v1/bulletins/{w.published.pk}/export.xlsx",
        expect_bulletin_read(draft=False),
    ),
    Probe(
        "bulletins: edit the draft",
        "patch",
        lambda w: f"/api/v1/bulletins/{w.draft.pk}/",
        expect_bulletin_write(draft=True),
        body=lambda w: {"title": "2026年通报（修改）"},
        snapshot=bulletin_state,
    ),
    Probe(
        "bulletins: edit the published",
        "patch",
        lambda w: f"/api/v1/bulletins/{w.published.pk}/",
        expect_bulletin_write(draft=False),
        body=lambda w: {"title": "改写已发布的通报"},
        snapshot=bulletin_state,
    ),
    Probe(
        "bulletins: publish the draft",
        "post",
        lambda w: f"/api/v1/bulletins/{w.draft.pk}/publish/",
        expect_bulletin_write(draft=True),
        snapshot=bulletin_state,
        fresh=True,
    ),
    Probe(
        "bulletins: publish the published",
        "post",
        lambda w: f"/api/v1/bulletins/{w.published.pk}/publish/",
        expect_bulletin_write(draft=False),
        snapshot=bulletin_state,
    ),
    # exports
    Probe(
        "exports: plan as Excel",
        "get",
        lambda w: f"/api/v1/stats/export.xlsx?table=plan&year={TODAY.year}",
        expect_staff(),
        leak=export_shows(lambda w: w.shown_topic.title),
        setup=with_shown_topic,
    ),
    Probe(
        "exports: indicators as Excel",
        "get",
        lambda w: "/api/v1/stats/export.xlsx?table=indicators",
        expect_staff(),
        leak=export_shows(lambda w: w.shown_topic.title),
        setup=with_shown_topic,
    ),
    Probe(
        "exports: queue a background export",
        "post",
        lambda w: "/api/v1/stats/exports/",
        expect_staff(202),
        body=lambda w: {"table": "plan", "year": TODAY.year},
        snapshot=export_state,
    ),
    Probe(
        "exports: another's export job",
        "get",
        lambda w: f"/api/v1/stats/exports/{w.export_job.pk}/",
        expect_owner(World.EXPORT_OWNER),
    ),
    Probe(
        "exports: download another's export",
        "get",
        lambda w: f"/api/v1/stats/exports/{w.export_job.pk}/download/",
        expect_owner(World.EXPORT_OWNER),
    ),
    # 站内消息
    Probe(
        "notifications: inbox",
        "get",
        lambda w: "/api/v1/notifications/",
        expect_signed_in,
        leak=lists_notes,
        setup=with_notes,
    ),
    Probe(
        "notifications: unread count",
        "get",
        lambda w: "/api/v1/notifications/unread/",
        expect_signed_in,
        leak=unread_count,
        setup=with_notes,
    ),
    Probe(
        "notifications: mark a resident's message read",
        "post",
        lambda w: f"/api/v1/notifications/{w.resident_note.pk}/read/",
        expect_owner("resident1"),
        snapshot=notes_state,
        fresh=True,
    ),
    Probe(
        "notifications: mark a handler's message read",
        "post",
        lambda w: f"/api/v1/notifications/{w.handler_note.pk}/read/",
        expect_owner("handler_huangzhong"),
        snapshot=notes_state,
        fresh=True,
    ),
    # attachments of a case
    Probe(
        "attachments: the case's photo",
        "get",
        lambda w: (
            f"/api/v1/cases/{w.handling_case.pk}/attachments/"
            f"{w.attachment_of(w.handling_case).pk}/"
        ),
        expect_attachment,
    ),
    Probe(
        "attachments: the photo under another case",
        "get",
        lambda w: (
            f"/api/v1/cases/{w.chengdong_case.pk}/attachments/"
            f"{w.attachment_of(w.handling_case).pk}/"
        ),
        expect_nobody,
    ),
]


# --- asking -------------------------------------------------------------------------------------


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path


@pytest.fixture
def clients(demo: Demo) -> dict[str, APIClient]:
    """A client per actor; the outside operator and supervisor are made for 城东区."""
    MembershipFactory(
        user=UserFactory(username="operator_chengdong"),
        unit=demo.unit("chengdong-gov"),
        role=Role.OPERATOR,
    )
    MembershipFactory(
        user=UserFactory(username="supervisor_chengdong"),
        unit=demo.unit("chengdong-supervision"),
        role=Role.SUPERVISOR,
    )
    result = {}
    for actor in ACTORS:
        client = APIClient()
        client.raise_request_exception = False  # a 500 is an answer to compare, not a crash
        if actor.username is not None:
            client.force_authenticate(User.objects.get(username=actor.username))
        result[actor.name] = client
    return result


ANONYMOUS_ANSWERS = {(401, "not_authenticated"), (403, "not_authenticated")}


def ask(probe: Probe, world: World, actor: Actor, client: APIClient) -> str | None:
    """Send the probe as ``actor``; what is wrong with the answer, or None."""
    url = probe.url(world)
    before = probe.snapshot(world) if probe.snapshot else None
    body = probe.body(world)
    fmt = "multipart" if probe.multipart else "json"
    call = getattr(client, probe.method)
    response = call(url, body, format=fmt) if probe.method != "get" else call(url)
    got, want = response.status_code, probe.expected(actor)
    is_json = response.get("Content-Type", "").startswith("application/json")
    content = response.json() if is_json else None
    problems = []
    if want == ANONYMOUS:
        if (got, (content or {}).get("code")) not in ANONYMOUS_ANSWERS:
            problems.append(f"want 401/403 not_authenticated, got {got} {content}")
    elif got != want:
        detail = f"{content.get('code')}: {content.get('message')}" if content else ""
        problems.append(f"want {want}, got {got} {detail}")
    if 400 <= got < 500:
        if not isinstance(content, dict) or set(content) != {"code", "message", "fields"}:
            problems.append(f"error body {content or response.content[:200]!r}")
        elif want != ANONYMOUS and content["code"] != ERROR_CODES.get(got):
            problems.append(f"error code {content['code']!r} for {got}")
        if probe.snapshot and probe.snapshot(world) != before:
            problems.append("refused but changed something")
    elif got < 300 and probe.leak:
        if content is None:
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
        leaked = probe.leak(world, actor, content)
        problems += [f"leak: {leaked}"] if leaked else []
    return "; ".join(problems) or None


@pytest.mark.parametrize("probe", [pytest.param(p, id=p.name) for p in PROBES])
def test_idor_table(
    probe: Probe, demo: Demo, clients: dict[str, APIClient], media_root: Path
) -> None:
    # Given the world (built on first use, again after a success that moved it on)
    world = World(demo)
    if probe.setup:
        probe.setup(world)
    mismatches: list[str] = []
    for actor in ACTORS:
        # When the actor calls the endpoint; Then the answer is the oracle's, and a refusal
        # changed nothing and a list showed nothing it should not
        problem = ask(probe, world, actor, clients[actor.name])
        mismatches += [f"  {actor.name}: {problem}"] if problem else []
        if probe.fresh and probe.expected(actor) in (200, 201, 202):
            world = World(demo)
            if probe.setup:
                probe.setup(world)
    assert not mismatches, f"{probe.name}:\n" + "\n".join(mismatches)


def test_the_table_covers_every_role_inside_and_outside() -> None:
    kinds = {a.kind for a in ACTORS}
    assert kinds == STAFF_KINDS | {"anonymous", "resident"}
    for kind in STAFF_KINDS - {"admin", "committee"}:
        reach = {bool(a.case) for a in ACTORS if a.kind == kind}
        assert reach == {True, False}, kind
    assert {a.topic for a in ACTORS} == {"lead", "co", ""}
