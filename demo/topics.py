"""Demo topics (每月一题) from the source articles; ``seed_topics()`` is safe to run again.

Every topic is built through ``topics.workflow`` by the demo accounts, so the events, the
statuses and the indicator histories are the ones real use would produce. A topic is found by
its title: one that exists is left as it is.

Needs ``demo.organisation.seed_organisation()`` and ``demo.reference.seed_reference()``
first. Adds one handler account per lead unit (``handler_civil``, ``handler_planning``,
``handler_hotline``, ``handler_party``, password as in ``demo.organisation``) so the lead
units can sign in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.db import transaction

from cases.models import Category
from org.models import Membership, Region, Role, Unit, User
from topics import workflow
from topics.models import Indicator, TaskStatus, Topic, TopicTheme

from .organisation import DEMO_PASSWORD

D = dt.date

LEAD_USERS = {
    "xn-civil": ("handler_civil", "民政局周调度员"),
    "xn-planning": ("handler_planning", "自然资源和规划局专班"),
    "xn-hotline": ("handler_hotline", "热线中心专班"),
    "xn-party": ("handler_party", "市委组织部专班"),
    # Not a lead unit: 住建局 cooperates on the property topic and records its own tasks.
    "xn-housing": ("handler_housing", "住建局专班"),
}

PROPERTY_TITLE = "不动产登记历史遗留问题"


@dataclass
class SeedTopicsReport:
    topics: int = 0
    users: int = 0


def _lead_user(code: str, report: SeedTopicsReport) -> User:
    username, display_name = LEAD_USERS[code]
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"display_name": display_name, "email": f"{username}@example.invalid"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        report.users += 1
    Membership.objects.get_or_create(
        user=user, unit=Unit.objects.get(code=code), role=Role.HANDLER
    )
    return User.objects.get(pk=user.pk)  # fresh: no stale membership cache


def _values(indicator: Indicator, actor: User, readings: list[tuple[dt.date, int]]) -> None:
    for day, value in readings:
        workflow.indicator_record(indicator=indicator, actor=actor, value=Decimal(value), date=day)


def _indicator(
    topic: Topic,
    actor: User,
    name: str,
    unit: str,
    target: int,
    readings: list[tuple[dt.date, int]],
) -> Indicator:
    indicator = workflow.indicator_add(
        topic=topic, actor=actor, name=name, unit_of_measure=unit, target=Decimal(target)
    )
    _values(indicator, actor, readings)
    return indicator


def _basic_support(committee: User, report: SeedTopicsReport) -> None:
    """《强化基础保障》: the first topic (Sept 2023), since ticked off (销号)."""
    lead = _lead_user("xn-civil", report)
    topic = workflow.topic_create(
        actor=committee,
        title="强化基础保障",
        month=D(2023, 9, 1),
        theme=TopicTheme.BASIC_SUPPORT,
        problem="社区分类不清、服务经费不足，社区工作者社会保险、供暖补贴和健康体检保障不到位。",
        goals="推行社区分类和差异化服务经费；城东区社区工作者 11 月起纳入社会保险；"
        "补发并足额发放供暖补贴；社区干部健康体检全覆盖。",
        target_date=D(2023, 12, 29),
        lead_unit=Unit.objects.get(code="xn-civil"),
        cooperating_units=[
            Unit.objects.get(code="chengdong-gov"),
            Unit.objects.get(code="xn-party"),
        ],
        leader_name="演示领导甲",
        leader_title="市委常委",
        regions=[Region.objects.get(name="城东区", level=2)],
    )
    workflow.topic_adopt(topic=topic, actor=committee, adopted_on=D(2023, 9, 5))
    workflow.topic_start(topic=topic, actor=lead)
    measures = [
        ("社区分类定级，制定差异化服务经费标准", "xn-civil", D(2023, 10, 20)),
        ("城东区 315 名社区工作者纳入社会保险", "chengdong-gov", D(2023, 11, 30)),
        ("补发 2022 年供暖补贴，发放 2023 年供暖补贴", "xn-civil", D(2023, 12, 15)),
        ("组织 1680 名社区干部健康体检", "xn-civil", D(2023, 12, 29)),
    ]
    for position, (title, owner, deadline) in enumerate(measures):
        task = workflow.task_add(
            topic=topic,
            actor=lead,
            title=title,
            owner_unit=Unit.objects.get(code=owner),
            deadline=deadline,
            position=position,
        )
        workflow.task_update(task=task, actor=lead, status=TaskStatus.DONE)
    _indicator(topic, lead, "城东区社区工作者参加社会保险", "人", 315, [(D(2023, 11, 30), 315)])
    _indicator(
        topic, lead, "供暖补贴（2022年，补发）", "元", 559_300, [(D(2023, 11, 15), 559_300)]
    )
    _indicator(topic, lead, "供暖补贴（2023年）", "元", 1_212_900, [(D(2023, 12, 15), 1_212_900)])
    _indicator(
        topic,
        lead,
        "社区干部健康体检",
        "人",
        1_680,
        [(D(2023, 11, 20), 900), (D(2023, 12, 20), 1_680)],
    )
    workflow.report_add(
        topic=topic,
        actor=lead,
        week=D(2023, 11, 27),
        done="城东区 315 名社区工作者自 11 月起全部参加社会保险。",
        next_steps="完成供暖补贴发放和健康体检。",
    )
    workflow.report_add(
        topic=topic,
        actor=lead,
        week=D(2023, 12, 18),
        done="供暖补贴 2022 年补发 55.93 万元、2023 年发放 121.29 万元；1680 名社区干部全部体检。",
    )
    workflow.topic_close(
        topic=topic,
        actor=committee,
        summary="各项措施全部完成，指标全部达到目标，经常委会审议同意销号。",
    )


def _property_backlog(committee: User, report: SeedTopicsReport) -> None:
    """不动产登记历史遗留问题: a key supervised item from Sept 2023, still in progress."""
    lead = _lead_user("xn-planning", report)
    _lead_user("xn-housing", report)
    topic = workflow.topic_create(
        actor=committee,
        title=PROPERTY_TITLE,
        month=D(2023, 9, 1),
        theme=TopicTheme.PROBLEM_SOLVING,
        problem="部分小区因开发企业手续不全、欠缴税费等历史原因，业主长期无法办理不动产权证书。",
        goals="按“周调度、月通报”推进 7 个方面 15 项措施，分类化解历史遗留问题，"
        "东府嘉和小区 3242 户全部办证。",
        target_date=D(2023, 12, 29),
        lead_unit=Unit.objects.get(code="xn-planning"),
        cooperating_units=[
            Unit.objects.get(code="xn-housing"),
            Unit.objects.get(code="chengdong-gov"),
        ],
        leader_name="演示领导乙",
        leader_title="副市长",
        categories=list(Category.objects.filter(code="real-estate")),
        regions=[Region.objects.get(name="城东区", level=2)],
    )
    workflow.topic_adopt(topic=topic, actor=committee, adopted_on=D(2023, 9, 5))
    workflow.topic_start(topic=topic, actor=lead)
    measures = [
        ("摸清底数：逐小区建立问题台账", "摸底建账", "xn-planning", 5),
        ("分类制定化解方案", "分类施策", "xn-planning", 10),
        ("补办规划核实、竣工验收手续", "手续补办", "xn-housing", 10),
        ("税费清缴与分户测绘", "税费测绘", "chengdong-gov", 15),
        ("东府嘉和小区集中办证", "集中办证", "xn-planning", 10),
        ("建立长效机制，防止新增遗留问题", "长效机制", "xn-housing", 5),
    ]
    # The topic was created above with its target date.
    plan = workflow.plan_backwards(cast(dt.date, topic.target_date), [m[3] for m in measures])
    done_until = 3  # the first three measures are done; the rest run on (two are late)
    for position, ((title, area, owner, days), (start, deadline)) in enumerate(
        zip(measures, plan, strict=True)
    ):
        task = workflow.task_add(
            topic=topic,
            actor=lead,
            title=title,
            area=area,
            owner_unit=Unit.objects.get(code=owner),
            start_date=start,
            deadline=deadline,
            position=position,
            workdays=days,
        )
        if position < done_until:
            workflow.task_update(task=task, actor=lead, status=TaskStatus.DONE)
        elif position < 5:
            workflow.task_update(task=task, actor=lead, status=TaskStatus.DOING, progress=60)
    _indicator(
        topic,
        lead,
        "已化解历史遗留问题小区",
        "个",
        46,
        [(D(2023, 9, 30), 28), (D(2023, 10, 31), 39), (D(2023, 11, 30), 46)],
    )
    _indicator(
        topic,
        lead,
        "已化解历史遗留问题户数",
        "户",
        40_489,
        [(D(2023, 9, 30), 25_012), (D(2023, 10, 31), 33_870), (D(2023, 11, 30), 40_489)],
    )
    _indicator(
        topic,
        lead,
        "东府嘉和小区已办证户数",
        "户",
        3_242,
        [(D(2023, 9, 30), 120), (D(2023, 10, 31), 380), (D(2023, 11, 30), 650)],
    )
    for week, done, problems, next_steps in [
        (
            D(2023, 9, 11),
            "成立工作专班，逐小区摸底，建立问题台账。",
            "部分开发企业已注销，责任主体难以落实。",
            "制定分类化解方案。",
        ),
        (
            D(2023, 10, 16),
            "分类化解方案印发；补办规划核实手续 12 个小区。",
            "税费清缴进度慢。",
            "会同城东区推进税费清缴和分户测绘。",
        ),
        (
            D(2023, 11, 27),
            "累计化解 46 个小区、40489 户；东府嘉和小区已办证 650 户。",
            "东府嘉和小区剩余 2592 户待办证。",
            "集中受理东府嘉和小区办证申请。",
        ),
    ]:
        workflow.report_add(
            topic=topic,
            actor=lead,
            week=week,
            done=done,
            problems=problems,
            next_steps=next_steps,
        )


def _service_platform(committee: User, report: SeedTopicsReport) -> None:
    lead = _lead_user("xn-hotline", report)
    topic = workflow.topic_create(
        actor=committee,
        title="优化服务平台",
        month=D(2023, 10, 1),
        theme=TopicTheme.SERVICE_PLATFORM,
        problem="群众诉求渠道分散，接、派、办、督、评、报各环节衔接不畅。",
        goals="整合 12345 热线与网上诉求渠道，诉求统一受理、分级办理、全程留痕。",
        target_date=D(2023, 12, 29),
        lead_unit=Unit.objects.get(code="xn-hotline"),
        cooperating_units=[Unit.objects.get(code="xn-gov")],
        leader_name="演示领导丙",
        leader_title="市委常委、秘书长",
    )
    workflow.topic_adopt(topic=topic, actor=committee, adopted_on=D(2023, 10, 8))
    workflow.topic_start(topic=topic, actor=lead)
    task = workflow.task_add(
        topic=topic,
        actor=lead,
        title="诉求分级受理和办理规则上线",
        owner_unit=Unit.objects.get(code="xn-hotline"),
        deadline=D(2023, 11, 30),
    )
    workflow.task_update(task=task, actor=lead, status=TaskStatus.DONE)
    workflow.task_add(
        topic=topic,
        actor=lead,
        title="接派办督评报全流程线上运行",
        owner_unit=Unit.objects.get(code="xn-hotline"),
        deadline=D(2023, 12, 29),
    )
    workflow.report_add(
        topic=topic,
        actor=lead,
        week=D(2023, 10, 30),
        done="分级受理规则征求意见完毕。",
        next_steps="11 月底前上线。",
    )


def _cadre_care(committee: User, report: SeedTopicsReport) -> None:
    _lead_user("xn-party", report)
    topic = workflow.topic_create(
        actor=committee,
        title="关心关爱基层干部",
        month=D(2023, 11, 1),
        theme=TopicTheme.CADRE_CARE,
        problem="基层干部待遇保障、成长通道和关怀机制不够健全。",
        goals="落实基层干部待遇，畅通晋升通道，建立常态化关心关爱机制。",
        lead_unit=Unit.objects.get(code="xn-party"),
        cooperating_units=[Unit.objects.get(code="xn-civil")],
        leader_name="演示领导甲",
        leader_title="市委常委",
    )
    workflow.topic_adopt(topic=topic, actor=committee, adopted_on=D(2023, 11, 6))


SEEDS = [
    ("强化基础保障", _basic_support),
    (PROPERTY_TITLE, _property_backlog),
    ("优化服务平台", _service_platform),
    ("关心关爱基层干部", _cadre_care),
]


@transaction.atomic
def seed_topics() -> SeedTopicsReport:
    """Create the demo topics that are missing (found by title). Safe to run again."""
    report = SeedTopicsReport()
    committee = User.objects.get(username="committee1")
    existing = set(
        Topic.objects.filter(title__in=[t for t, _f in SEEDS]).values_list("title", flat=True)
    )
    for title, build in SEEDS:
        if title in existing:
            continue
        build(committee, report)
        report.topics += 1
    return report
