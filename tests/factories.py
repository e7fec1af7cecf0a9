"""factory_boy factories shared by the whole suite."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import factory
from factory.django import DjangoModelFactory

from cases import workflow as case_workflow
from cases.models import Case, Category, Rating, RejectReason, Status
from org.models import Membership, Region, RegionLevel, Role, Unit, UnitKind, User
from topics import workflow as topic_workflow
from topics.models import Topic, TopicStatus, TopicTask, TopicTheme


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password("demo12345")


class RegionFactory(DjangoModelFactory):
    """A region one level under ``parent``; with no parent, a city."""

    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"区划{n}")
    parent = None
    level = factory.LazyAttribute(lambda o: o.parent.level + 1 if o.parent else RegionLevel.CITY)


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"单位{n}")
    kind = UnitKind.DEPARTMENT
    region = factory.SubFactory(RegionFactory)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = Role.HANDLER


# --- cases -----------------------------------------------------------------------------------


class CategoryFactory(DjangoModelFactory):
    """An active, non-urgent category with the model's default deadlines."""

    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"分类{n}")


def community(**names: str) -> Region:
    """A fresh city → district → street → community chain; the community (社区/村), the only
    level a case may be filed under. ``names`` may set ``city``, ``district``, ``street`` and
    ``community`` names."""
    region = None
    for level in ("city", "district", "street", "community"):
        kwargs = {"name": names[level]} if level in names else {}
        region = RegionFactory(parent=region, **kwargs)
    assert region is not None and region.level == RegionLevel.COMMUNITY
    return region


class CaseFactory(DjangoModelFactory):
    """A case as ``cases.workflow.case_submit`` registers it: a web complaint by a resident
    (``complainant``) with a tracking code, its SUBMIT event and its accept deadline.

    ``CaseFactory(to=Status.DISPATCHED)`` walks it on through the workflow functions, with staff
    made for the case's district (``CaseStaff``); the status is never written directly."""

    class Meta:
        model = Case

    complainant = factory.SubFactory(UserFactory)
    category = factory.SubFactory(CategoryFactory)
    region = factory.LazyFunction(community)
    description = "小区路灯坏了一个月，晚上出行不便。"
    complainant_name = "王女士"
    complainant_phone = factory.Sequence(lambda n: f"139{n:08d}")
    address = ""

    @classmethod
    def _create(cls, model_class: type[Case], *args: Any, **kwargs: Any) -> Case:
        to = kwargs.pop("to", Status.SUBMITTED)
        staff = kwargs.pop("staff", None)
        case = case_workflow.case_submit(actor=kwargs.pop("complainant"), **kwargs)
        if to != Status.SUBMITTED:
            case = walk_case(case, to, staff=staff)
        return case


@dataclass(frozen=True)
class CaseStaff:
    """Who moves a case along: an operator and a dispatcher of the case's district government,
    and a handler of a department of that district (the lead unit)."""

    operator: User
    dispatcher: User
    handler: User
    lead_unit: Unit

    @classmethod
    def for_case(cls, case: Case) -> CaseStaff:
        district = case.dispatch_region
        government = UnitFactory(region=district, kind=UnitKind.PARTY_GOVERNMENT)
        lead_unit = UnitFactory(region=district)
        return cls(
            operator=MembershipFactory(unit=government, role=Role.OPERATOR).user,
            dispatcher=MembershipFactory(unit=government, role=Role.DISPATCHER).user,
            handler=MembershipFactory(unit=lead_unit, role=Role.HANDLER).user,
            lead_unit=lead_unit,
        )


# The workflow steps that take a submitted case to each status (as tests/cases/conftest.py).
CASE_STEPS: dict[str, list[str]] = {
    Status.SUBMITTED: [],
    Status.ACCEPTED: ["accept"],
    Status.REJECTED: ["reject"],
    Status.DISPATCHED: ["accept", "dispatch"],
    Status.HANDLING: ["accept", "dispatch", "sign"],
    Status.REPLIED: ["accept", "dispatch", "sign", "reply"],
    Status.EVALUATED: ["accept", "dispatch", "sign", "reply", "evaluate"],
    Status.CLOSED: ["accept", "dispatch", "sign", "reply", "evaluate", "close"],
}


def walk_case(case: Case, to: str, *, staff: CaseStaff | None = None) -> Case:
    """Take a submitted ``case`` to status ``to`` through ``cases.workflow``'s functions."""
    staff = staff or CaseStaff.for_case(case)
    w = case_workflow
    for step in CASE_STEPS[to]:
        if step == "accept":
            case = w.case_accept(case=case, actor=staff.operator)
        elif step == "reject":
            case = w.case_reject(case=case, actor=staff.operator, reason=RejectReason.INSUFFICIENT)
        elif step == "dispatch":
            case = w.case_dispatch(case=case, actor=staff.dispatcher, lead_unit=staff.lead_unit)
        elif step == "sign":
            case = w.case_sign(case=case, actor=staff.handler)
        elif step == "reply":
            case = w.case_reply(
                case=case, actor=staff.handler, outcome="resolved", text="已修复。"
            )
        elif step == "evaluate":
            case = w.case_evaluate(case=case, actor=case.complainant, rating=Rating.SATISFIED)
        elif step == "close":
            case = w.case_close(case=case, actor=staff.dispatcher)
    case.refresh_from_db()
    assert case.status == to, (case.status, to)
    return case


# --- topics (每月一题) ------------------------------------------------------------------------


def committee_member() -> User:
    """A member of the standing committee's office: may propose, adopt, close topics."""
    return MembershipFactory(unit=UnitFactory(), role=Role.COMMITTEE).user


class TopicFactory(DjangoModelFactory):
    """A candidate topic as ``topics.workflow.topic_create`` records it (with its CREATE event),
    proposed by ``actor`` (a new committee member unless given).

    ``TopicFactory(to=TopicStatus.IN_PROGRESS)`` walks it on through the workflow functions
    (adopt, start, close, carry over), never by writing the status."""

    class Meta:
        model = Topic

    title = factory.Sequence(lambda n: f"每月一题{n}")
    month = dt.date(2026, 3, 1)
    theme = TopicTheme.PROBLEM_SOLVING
    lead_unit = factory.SubFactory(UnitFactory)
    target_date = dt.date(2026, 10, 12)

    @classmethod
    def _create(cls, model_class: type[Topic], *args: Any, **kwargs: Any) -> Topic:
        to = kwargs.pop("to", TopicStatus.CANDIDATE)
        committee = kwargs.pop("actor", None) or committee_member()
        lead = kwargs.pop("lead", None)
        topic = topic_workflow.topic_create(actor=committee, **kwargs)
        return walk_topic(topic, to, committee=committee, lead=lead)


TOPIC_STEPS: dict[str, list[str]] = {
    TopicStatus.CANDIDATE: [],
    TopicStatus.ADOPTED: ["adopt"],
    TopicStatus.IN_PROGRESS: ["adopt", "start"],
    TopicStatus.CLOSED: ["adopt", "start", "close"],
    TopicStatus.CARRIED_OVER: ["adopt", "start", "carry_over"],
}


def topic_lead(topic: Topic) -> User:
    """A new handler of the topic's lead unit (the workflow's ``lead_handler``)."""
    return MembershipFactory(unit=topic.lead_unit, role=Role.HANDLER).user


def walk_topic(
    topic: Topic, to: str, *, committee: User | None = None, lead: User | None = None
) -> Topic:
    """Take a candidate ``topic`` to status ``to`` through ``topics.workflow``'s functions; the
    adoption is dated the day after the topic's month begins."""
    w = topic_workflow
    for step in TOPIC_STEPS[to]:
        committee = committee or committee_member()
        if step == "adopt":
            w.topic_adopt(topic=topic, actor=committee, adopted_on=topic.month.replace(day=2))
        elif step == "start":
            w.topic_start(topic=topic, actor=lead or topic_lead(topic))
        elif step == "close":
            w.topic_close(topic=topic, actor=committee, summary="问题已解决。")
        elif step == "carry_over":
            next_month = (topic.month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            w.topic_carry_over(topic=topic, actor=committee, to_month=next_month, reason="未完成")
    topic.refresh_from_db()
    assert topic.status == to, (topic.status, to)
    return topic


class TopicTaskFactory(DjangoModelFactory):
    """A task added by the lead unit through ``topics.workflow.task_add``: the topic is taken
    to 推进中 first (tasks may only be added to an open topic)."""

    class Meta:
        model = TopicTask

    topic = factory.SubFactory(TopicFactory, to=TopicStatus.IN_PROGRESS)
    title = factory.Sequence(lambda n: f"任务措施{n}")
    owner_unit = factory.LazyAttribute(lambda o: o.topic.lead_unit)
    deadline = dt.date(2026, 6, 30)

    @classmethod
    def _create(cls, model_class: type[TopicTask], *args: Any, **kwargs: Any) -> TopicTask:
        actor = kwargs.pop("actor", None) or topic_lead(kwargs["topic"])
        return topic_workflow.task_add(actor=actor, **kwargs)
