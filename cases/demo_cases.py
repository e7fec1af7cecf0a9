"""Believable demo cases (诉求) for a year of 有诉必应, in bulk: ``generate_cases(n)``.

Every case is simulated through the workflow's own steps (提交 → 受理 → 派单 → 签收 → 联系 →
答复 → 评价 → 归档, with 即时办结, 不予受理, 退回, 延期, 督办, 重办 and 督查研判 along the way)
and written the way ``cases.workflow`` writes it: the same case fields (deadlines from
``cases.sla`` with one ``WorkCalendar``, ``sign_by``/``warn_at``, timestamps), the same
``CaseEvent`` types, from/to statuses, payload keys, roles, actors and units, plus the
``Evaluation``, ``ExtensionRequest`` and ``SupervisionOrder`` rows and the co-unit links. The
rates in ``cases.stats`` are computed from those events, so the dashboards show believable
numbers. Supervision levels are what the scan (``cases.supervision``) would have left: it
raises a level when a deadline passes and never lowers it; dispatch, an approved extension and
重办 start afresh. Not written: the scan's reminder events and marks, notifications and the
outbox (nobody should get 100,000 text messages about last year).

The shape of the year
    Cases are spread over the 365 days up to ``now``, more on working days and in office
    hours, and many more in the heating season (供暖不热 dominates from November to March).
    Districts are weighted by population (城东/城中/城西/城北 heavier, 湟中 medium, 大通/湟源
    lighter); villages raise fewer property matters and more roads and water. Phone (12345)
    is the main channel. Lead units come from the 权责清单 exactly as
    ``services.suggest_lead_units`` resolves it, computed in memory.

States
    A case moves on while its next step falls before ``now``: old cases are almost all closed,
    recent ones are still being accepted, handled or evaluated. A handful of cases are steered
    into each open state and into 不予受理 so that even a small sample shows every state.

Performance
    One pass over the days in order, ``batch_size`` cases at a time, each batch written in one
    transaction with a fixed number of statements (``_Writer``); nothing is queried per case
    (regions, units, responsibilities, accounts and the holiday calendar are loaded once).
    Memory stays bounded by the batch.

Tracking codes continue each local day's ``DailySequence``; every batch moves the sequences on
in its own transaction, so a later real submission never collides with a generated code, even
if a later batch fails.

Demo accounts: a handling step needs a 承办人 of the lead unit. Units that can be a lead unit
but have no handler account get one (``handler_<unit code>``, the demo password), so every
event has an actor the workflow would have let act.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import operator
import random
import time as clock
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from org.demo import DEMO_PASSWORD, DISTRICT_SLUGS
from org.models import Membership, Region, RegionLevel, Role, Unit, UnitKind, User
from xining_issues.bulk import analyze

from . import sla
from .models import (
    Case,
    CaseEvent,
    Category,
    DailySequence,
    Evaluation,
    ExtensionRequest,
    Responsibility,
    SupervisionOrder,
)

__all__ = ["GenerateReport", "generate_cases"]

DAYS = 365
REOPEN_RESOLVE_DAYS = 5  # as workflow.REOPEN_RESOLVE_DAYS

# Status, event type, role and other choice values as plain strings (fast, JSON-ready).
SUBMITTED, ACCEPTED, DISPATCHED, HANDLING = "submitted", "accepted", "dispatched", "handling"
REPLIED, EVALUATED, REVIEW, CLOSED, REJECTED = (
    "replied",
    "evaluated",
    "review",
    "closed",
    "rejected",
)
OPERATOR, DISPATCHER, HANDLER, SUPERVISOR, RESIDENT = (
    Role.OPERATOR.value,
    Role.DISPATCHER.value,
    Role.HANDLER.value,
    Role.SUPERVISOR.value,
    Role.RESIDENT.value,
)
SATISFIED, BASICALLY, UNSATISFIED = "satisfied", "basically_satisfied", "unsatisfied"
RESOLVED, PARTLY, EXPLAINED = "resolved", "partly", "explained"
ON_TIME, WARNING, OVERDUE, SUPERVISED = "on_time", "warning", "overdue", "supervised"
LEVELS = [ON_TIME, WARNING, OVERDUE, SUPERVISED]

# A few cases are steered into these states (most recent first) so every state shows up;
# each is taken from the cases created about this long before ``now``.
STEERED: list[tuple[str, dt.timedelta]] = [
    (SUBMITTED, dt.timedelta(hours=1)),
    (ACCEPTED, dt.timedelta(hours=3)),
    (DISPATCHED, dt.timedelta(hours=8)),
    (REJECTED, dt.timedelta(days=1)),
    (EVALUATED, dt.timedelta(days=2)),
    (REPLIED, dt.timedelta(days=3)),
    (HANDLING, dt.timedelta(days=5)),
    (REVIEW, dt.timedelta(days=18)),
]

# --- what people write -----------------------------------------------------------------------

# Population weights of the districts/counties (by name).
DISTRICT_WEIGHTS = {
    "城东区": 0.19,
    "城中区": 0.17,
    "城西区": 0.17,
    "城北区": 0.18,
    "湟中区": 0.13,
    "大通回族土族自治县": 0.10,
    "湟源县": 0.06,
}
# Rough centres (lat, lng) for map pins.
DISTRICT_CENTRES = {
    "chengdong": (36.612, 101.805),
    "chengzhong": (36.605, 101.780),
    "chengxi": (36.630, 101.748),
    "chengbei": (36.668, 101.765),
    "huangzhong": (36.500, 101.572),
    "datong": (36.930, 101.685),
    "huangyuan": (36.682, 101.256),
}

# Top-level category groups: (weight in the city, weight in villages), and the share of each
# member of the group (the parent itself takes the general matters).
GROUPS: dict[str, tuple[float, float]] = {
    "water": (0.07, 0.10),
    "gas": (0.05, 0.03),
    "power": (0.05, 0.07),
    "property": (0.16, 0.03),
    "real-estate": (0.05, 0.03),
    "noise": (0.09, 0.04),
    "sanitation": (0.11, 0.13),
    "roads": (0.09, 0.15),
    "social": (0.07, 0.10),
    "market": (0.08, 0.06),
    "consult": (0.12, 0.12),
}
MEMBERS: dict[str, dict[str, float]] = {
    "heating": {"heating-cold": 0.70, "heating-leak": 0.15, "heating": 0.15},
    "water": {"water-outage": 0.45, "water-quality": 0.25, "water": 0.30},
    "gas": {"gas-outage": 0.35, "gas-leak": 0.20, "gas": 0.45},
    "property": {"property-service": 0.55, "property-elevator": 0.20, "property": 0.25},
    "roads": {"roads-damage": 0.45, "roads-lights": 0.35, "roads": 0.20},
}


def heating_weight(day: dt.date) -> float:
    """Xining heats from 15 October to 15 April; complaints peak at the start and in the cold."""
    month, dom = day.month, day.day
    if month == 10:
        return 0.55 if dom >= 15 else 0.03
    if month == 4:
        return 0.30 if dom <= 15 else 0.04
    return {11: 1.35, 12: 1.25, 1: 1.25, 2: 0.95, 3: 0.60}.get(month, 0.02)


HOUR_WEIGHTS = [
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.4, 3.2, 3.3, 3.0,
    2.2, 2.0, 2.6, 2.9, 2.8, 2.4, 1.8, 1.7, 1.6, 1.3, 0.9, 0.5,
]  # fmt: skip
CHANNELS = [("phone", 0.55), ("web", 0.12), ("mini_program", 0.16), ("walk_in", 0.05),
            ("grid", 0.12)]  # fmt: skip
CHANNEL_NAMES = [c for c, _w in CHANNELS]
CHANNEL_CUM = [sum(w for _c, w in CHANNELS[: i + 1]) for i in range(len(CHANNELS))]
GRID_GROUPS = {"sanitation", "roads", "property", "noise", "water", "power"}

SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨赵赵马马马韩韩祁冶鲁黄周吴徐孙朱胡郭何林罗高谢"
    "苏石乔汪曹彭魏朵沈蒲安童祝"
)
MOBILE_PREFIXES = [
    "139", "138", "137", "136", "135", "134", "150", "151", "152", "157", "158", "159", "182",
    "183", "184", "187", "188", "178", "130", "131", "132", "155", "156", "185", "186", "176",
    "133", "153", "180", "181", "189", "177", "199", "191", "166", "173", "139", "138", "187",
]  # fmt: skip
COMPOUNDS = [
    "阳光花园", "康乐小区", "夏都府邸", "海湖新城", "青藏花园", "东府嘉和", "中房·锦苑",
    "金座·晶座", "国际村", "民和小区", "香格里拉", "虎台新村", "景岳公馆", "兴旺小区",
]  # fmt: skip

# (title, description) per category; placeholders: {addr} {temp} {days} {hours} {floor}
# {years} {time}.
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "heating-cold": [
        ("供暖不热", "家里暖气不热，室温只有{temp}度，家里有老人小孩，请尽快处理。"),
        ("室温不达标", "{addr}，开始供暖后室内温度一直上不去，只有{temp}度，找过物业没解决。"),
        ("暖气片上热下凉", "暖气片上面热下面凉，晚上特别冷，室温{temp}度左右，希望派人检修。"),
        ("整栋楼暖气不热", "这栋楼{floor}层以上暖气都不热，室温只有{temp}度，请供热单位排查。"),
        ("家中无暖气", "家里没有暖气，附近一处管道破损，已经{days}天了，请尽快抢修。"),
        ("暖气时冷时热", "{addr}暖气时冷时热，晚上基本不热，室温只有{temp}度。"),
    ],
    "heating-leak": [
        ("暖气管道漏水", "楼道里暖气管道漏水，地面都是水，存在安全隐患，请尽快维修。"),
        ("暖气阀门漏水", "家里暖气阀门一直滴水，自己关不上，楼下邻居家也受影响。"),
        ("供热管网破裂", "{addr}附近供热管道破裂冒热气，路面结冰，行人容易滑倒。"),
    ],
    "heating": [
        ("供暖费收费问题", "今年供暖费按建筑面积收费，和房产证面积不一致，请核实收费标准。"),
        ("申请停暖", "房屋长期无人居住，想申请停暖，不知道需要办理什么手续。"),
        ("供暖时间咨询", "今年什么时候开始供暖？家里已经很冷了，老人受不了。"),
    ],
    "water-outage": [
        ("小区停水", "{addr}从{time}开始停水，没有接到任何通知，生活受到影响。"),
        ("停水未提前通知", "小区突然停水已经{hours}个小时，请问什么时候恢复供水？"),
        ("高层水压不足", "{floor}层以上白天基本没水，水压太低，热水器打不着火。"),
    ],
    "water-quality": [
        ("自来水发黄", "家里自来水发黄有异味，放一会儿底部有沉淀，不敢饮用。"),
        ("水质浑浊", "最近自来水浑浊，烧开后有很多水垢，请检测一下水质。"),
    ],
    "water": [
        ("水费异常", "这个月水费比平时高出很多，怀疑水表有问题，请核查。"),
        ("供水管道漏水", "{addr}路边供水管道漏水，水流到路面上，浪费严重。"),
        ("水表冻裂", "天冷水表冻裂了，家里没法用水，请供水公司更换。"),
    ],
    "gas-leak": [
        ("闻到燃气味", "楼道里燃气味很浓，担心泄漏，请尽快派人检查。"),
        ("燃气管道泄漏", "{addr}室外燃气管道有漏气声，味道很大，请紧急处理。"),
    ],
    "gas-outage": [
        ("燃气停供", "家里燃气突然没有了，做不了饭，卡里还有余额，请尽快处理。"),
        ("燃气压力不足", "最近燃气火很小，做饭很慢，请检查燃气压力。"),
    ],
    "gas": [
        ("燃气表故障", "燃气卡插进去没有反应，燃气表可能坏了，请派人维修。"),
        ("燃气开户咨询", "新房子想开通燃气，请问需要准备哪些材料，去哪里办理？"),
        ("燃气安检收费", "燃气公司上门安检要求更换软管并收费，是否合理？"),
    ],
    "power": [
        ("小区停电", "{addr}突然停电，已经{hours}个小时了，没有任何通知。"),
        ("电压不稳", "家里电压不稳，灯一闪一闪的，电器容易烧坏。"),
        ("电线老化", "楼道电线老化裸露，存在安全隐患，请供电部门处理。"),
    ],
    "property-service": [
        ("物业服务差", "物业不作为，小区垃圾清运不及时，楼道卫生没人打扫。"),
        ("物业乱收费", "物业今年突然上涨物业费，没有经过业主大会同意。"),
        ("小区停车混乱", "小区内车辆乱停乱放，消防通道被堵，物业不管。"),
    ],
    "property-elevator": [
        ("电梯经常故障", "{addr}电梯经常停运，{floor}楼的老人上下楼困难，请督促维修。"),
        ("电梯困人", "电梯运行中突然停住，有人被困，物业响应很慢。"),
    ],
    "property": [
        ("屋顶漏水", "顶楼房屋漏水，墙面发霉，找物业维修一直拖着不处理。"),
        ("老旧小区无物业", "老旧小区没有物业，环境脏乱差，希望社区协调引入物业。"),
    ],
    "real-estate": [
        ("房产证迟迟办不下来", "买房{years}年了房产证一直办不下来，开发商说在等手续，请协调。"),
        ("不动产登记历史遗留问题", "{addr}交房多年未办理不动产权证，影响孩子上学落户。"),
        ("不动产登记办理咨询", "二手房过户需要带什么材料，能不能网上预约？"),
    ],
    "noise": [
        ("夜间施工噪音", "附近工地晚上十点以后还在施工，噪音很大，影响休息。"),
        ("商铺噪音扰民", "楼下商铺音响声音太大，从早到晚放音乐，严重扰民。"),
        ("广场舞噪音", "小区广场舞音响太大，晚上九点以后还不停。"),
    ],
    "sanitation": [
        ("垃圾清运不及时", "{addr}垃圾桶满了{days}天没人清运，气味很大。"),
        ("积雪未清理", "小区门口积雪结冰没人清理，老人出门容易摔倒。"),
        ("污水外溢", "路边下水道堵塞，污水冒到路面上，臭味很重。"),
    ],
    "roads-damage": [
        ("路面坑洼", "{addr}路面破损坑洼，下雨天积水，车辆行人通行困难。"),
        ("井盖缺失", "路边井盖缺失，晚上看不清，很危险，请尽快处理。"),
    ],
    "roads-lights": [
        ("路灯不亮", "{addr}一段路灯不亮已经{days}天了，晚上出行不安全。"),
        ("路灯白天亮", "路灯白天也一直亮着，浪费电。"),
    ],
    "roads": [
        ("占道经营", "路边摊贩占道经营，人行道无法通行。"),
        ("路口缺少斑马线", "路口没有红绿灯和斑马线，孩子上学过马路很危险。"),
    ],
    "social": [
        ("低保申请咨询", "家里老人生病没有收入，想申请低保，不知道怎么办理。"),
        ("高龄补贴未发放", "家里老人已满80周岁，高龄补贴一直没有发放。"),
        ("养老助餐需求", "独居老人生活不便，希望社区能提供助餐服务。"),
    ],
    "market": [
        ("食品过期", "在超市买的食品过期了，商家拒绝退换。"),
        ("价格欺诈", "商家标价和结账价格不一致，多收了钱。"),
        ("预付卡退费难", "办的健身卡门店关门了，剩余费用退不了。"),
    ],
    "consult": [
        ("社保缴费咨询", "灵活就业人员社保怎么缴纳，在哪里办理？"),
        ("医保报销咨询", "异地就医医保怎么备案报销？"),
        ("户籍办理咨询", "孩子上户口需要准备哪些材料？"),
        ("公积金提取咨询", "租房提取公积金需要什么手续？"),
    ],
}
REPLIES: dict[str, dict[str, list[str]]] = {
    "heating": {
        RESOLVED: [
            "已安排维修人员上门排查，更换损坏阀门并放气，室温已恢复到18度以上。",
            "经查为附近管道破损，已联系燃气公司抢修，当天修复，已恢复供暖。",
            "已对楼栋管网进行冲洗调压，复测室温达标，诉求人认可。",
        ],
        PARTLY: ["已对户内管线进行清洗，室温有所提升，楼栋管网改造已列入明年计划。"],
        EXPLAINED: ["经测温室温符合标准，已向诉求人解释供暖温度标准及测温方法。"],
    },
    "utility": {
        RESOLVED: [
            "已派抢修人员到场处理，故障已排除，已恢复正常。",
            "已上门检修并更换故障设备，经测试运行正常。",
        ],
        PARTLY: ["已临时恢复，管网改造需进一步施工，已告知诉求人预计完工时间。"],
        EXPLAINED: ["系计划检修，已提前公告，已向诉求人解释并告知恢复时间。"],
    },
    "default": {
        RESOLVED: [
            "已安排工作人员到现场核实处理，问题已解决，已电话告知诉求人。",
            "经协调相关单位，已按诉求人要求整改完毕。",
            "已责令相关方限期整改，复查已整改到位。",
        ],
        PARTLY: ["已协调处理部分问题，剩余问题已纳入整改计划，将持续跟进。"],
        EXPLAINED: ["经核实，该事项需按相关政策办理，已向诉求人详细解释说明。"],
    },
}
INTAKE_REPLIES = [
    "已向诉求人详细解答相关政策和办理流程。",
    "已告知诉求人办理地点、所需材料及网上办理方式。",
    "已现场答复，诉求人表示清楚。",
]
COMMENTS = {
    SATISFIED: ["", "", "", "处理很及时，谢谢！", "工作人员态度很好。", "当天就解决了，点赞。"],
    BASICALLY: ["", "", "问题解决了，就是时间有点长。", "基本解决，希望以后多注意。"],
    UNSATISFIED: ["问题没有解决。", "只打了个电话，没有人上门。", "答复敷衍，不满意。", ""],
}
REJECT_NOTES = {
    "out_of_scope": "该诉求属于司法程序处理范围，已告知诉求人通过法律途径解决。",
    "insufficient": "诉求地址不详，多次联系诉求人无法核实。",
    "malicious": "反复拨打，内容与事实不符。",
}
PROGRESS_NOTES = [
    ("已安排工作人员上门查看。", True),
    ("已联系维修单位，正在处理中。", True),
    ("已与物业沟通，物业答应本周内处理。", False),
    ("需要协调相关部门，已发函。", False),
]
EXTENSION_REASONS = [
    "需协调多个部门联合处置，申请延期。",
    "维修需采购配件，申请延期办理。",
    "涉及历史遗留问题，需进一步调查核实。",
]
RETURN_REASONS = ["该事项不属于本单位职责范围，请重新派单。", "诉求地址不在本单位辖区。"]
SUPERVISION_NOTES = [
    "该件已超期，请于期限内办结并反馈。",
    "诉求人多次反映，请主要负责人督促办理。",
]
REOPEN_REASONS = ["诉求人不满意，问题未解决。", "回访诉求人表示仍未处理到位。"]


# --- results ---------------------------------------------------------------------------------


@dataclass
class GenerateReport:
    cases: int = 0
    events: int = 0
    evaluations: int = 0
    extension_requests: int = 0
    supervision_orders: int = 0
    co_unit_links: int = 0
    accounts_created: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


# --- the reference data, loaded once ---------------------------------------------------------


@dataclass(frozen=True)
class _Suggestion:
    unit_id: int
    unit_name: str
    co_units: tuple[tuple[int, str], ...]
    level: int


@dataclass(frozen=True)
class _Place:
    region_id: int
    district_id: int
    street_id: int
    name: str
    slug: str
    rural: bool


class _World:
    """Regions, units, categories, the 权责清单 and the staff, read in a few queries."""

    def __init__(self) -> None:
        regions = list(Region.objects.values_list("pk", "name", "level", "path"))
        by_id = {pk: (name, level, path) for pk, name, level, path in regions}
        self.region_paths = {pk: path for pk, _n, _l, path in regions}
        self.places: list[_Place] = []
        self.district_names: dict[int, str] = {}
        weights: list[float] = []
        per_district: Counter[int] = Counter()
        for pk, name, level, path in sorted(regions):
            if level != RegionLevel.COMMUNITY:
                continue
            ids = [int(p) for p in path.strip("/").split("/")]
            if len(ids) < 4:
                continue
            district_name = by_id[ids[1]][0]
            self.district_names[ids[1]] = district_name
            per_district[ids[1]] += 1
            self.places.append(
                _Place(
                    region_id=pk,
                    district_id=ids[1],
                    street_id=ids[2],
                    name=name,
                    slug=DISTRICT_SLUGS.get(district_name, ""),
                    rural=name.endswith("村"),
                )
            )
        if not self.places:
            raise RuntimeError("No communities: run seed_demo (the organisation) first.")
        for place in self.places:
            district_weight = DISTRICT_WEIGHTS.get(self.district_names[place.district_id], 0.1)
            # A fixed, name-derived spread so some communities are busier than others.
            spread = 0.6 + (sum(map(ord, place.name)) % 9) / 10
            weights.append(district_weight / per_district[place.district_id] * spread)
        self.place_cum = _cumulative(weights)

        units = list(
            Unit.objects.filter(is_active=True).values_list("pk", "code", "name", "kind", "region")
        )
        self.unit_names = {pk: name for pk, _c, name, _k, _r in units}
        self.unit_codes = {pk: code for pk, code, _n, _k, _r in units}
        self.unit_by_kind_region: dict[tuple[str, int], int] = {}
        for pk, _code, _name, kind, region_id in sorted(units):
            self.unit_by_kind_region.setdefault((kind, region_id), pk)

        categories = list(Category.objects.all())
        self.category_rows = {c.pk: c for c in categories}
        self.categories = {c.code: (c.pk, c.name, c.parent_id) for c in categories if c.is_active}
        parents = {c.pk: c.parent_id for c in categories}
        self.category_codes = {c.pk: c.code for c in categories}
        self.rules: dict[int, list[tuple[int, int, str, int | None, tuple[int, ...], int]]] = {}
        for rule in Responsibility.objects.prefetch_related("co_units").order_by("pk"):
            co = tuple(sorted(u.pk for u in rule.co_units.all() if u.is_active))
            self.rules.setdefault(rule.category_id, []).append(
                (rule.priority, rule.pk, rule.unit_kind, rule.unit_id, co, rule.region_level)
            )
        self.chains: dict[int, list[int]] = {}
        for pk in parents:
            chain, current = [], pk
            while current is not None and current not in chain:
                chain.append(current)
                current = parents.get(current)
            self.chains[pk] = chain
        self._suggestions: dict[tuple[int, int], list[_Suggestion]] = {}

        self.staff: dict[str, list[tuple[int, str, int]]] = {}
        self.handlers: dict[int, list[int]] = {}
        self.residents: list[tuple[int, str, str]] = []
        self.load_staff()

    def load_staff(self) -> None:
        self.staff, self.handlers = {}, {}
        rows = Membership.objects.filter(user__is_active=True, unit__is_active=True).values_list(
            "user_id", "role", "unit_id", "unit__region__path"
        )
        for user_id, role, unit_id, path in sorted(rows):
            self.staff.setdefault(role, []).append((user_id, path, unit_id))
            if role == HANDLER:
                self.handlers.setdefault(unit_id, []).append(user_id)
        self.residents = list(
            User.objects.filter(is_active=True, is_superuser=False, memberships__isnull=True)
            .order_by("pk")
            .values_list("pk", "display_name", "phone")[:20]
        )

    def suggestions(self, category_id: int, place: _Place) -> list[_Suggestion]:
        """``services.suggest_lead_units`` computed in memory (same rules, same order)."""
        key = (category_id, place.region_id)
        cached = self._suggestions.get(key)
        if cached is not None:
            return cached
        chain = self.chains[category_id]
        ancestors = [int(p) for p in self.region_paths[place.region_id].strip("/").split("/")]
        rules = [(chain.index(cat), rule) for cat in chain for rule in self.rules.get(cat, [])]
        rules.sort(key=lambda item: (item[0], item[1][0], item[1][1]))
        result: list[_Suggestion] = []
        seen: set[int] = set()
        for _index, (_prio, _pk, kind, unit_id, co, level) in rules:
            unit = unit_id
            if unit is None and level - 1 < len(ancestors):
                unit = self.unit_by_kind_region.get((kind, ancestors[level - 1]))
            if unit is None or unit not in self.unit_names or unit in seen:
                continue
            seen.add(unit)
            co_units = tuple((u, self.unit_names[u]) for u in co if u in self.unit_names)
            result.append(_Suggestion(unit, self.unit_names[unit], co_units, level))
        if not result:  # no rule: the district government takes it
            gov = self.unit_by_kind_region.get((UnitKind.PARTY_GOVERNMENT, place.district_id))
            if gov is not None:
                result.append(_Suggestion(gov, self.unit_names[gov], (), RegionLevel.DISTRICT))
        self._suggestions[key] = result
        return result

    def street_office(self, place: _Place) -> int | None:
        return self.unit_by_kind_region.get((UnitKind.STREET_OFFICE, place.street_id))

    def possible_leads(self) -> set[int]:
        """Every unit a generated case may be dispatched to."""
        leads: set[int] = set()
        for place in self.places:
            for category_id in self.chains:
                leads.update(s.unit_id for s in self.suggestions(category_id, place))
            office = self.street_office(place)
            if office is not None:
                leads.add(office)
        return leads

    def reachers(self, role: str, region_id: int) -> list[int]:
        """Users holding ``role`` in a unit whose region contains ``region_id``, the most local
        first (``jurisdiction.may_act`` in memory)."""
        path = self.region_paths[region_id]
        found = [(len(p), -u, u) for u, p, _unit in self.staff.get(role, []) if path.startswith(p)]
        return [u for _len, _neg, u in sorted(found, reverse=True)]


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def create_handler_accounts(units: dict[int, str]) -> tuple[dict[int, int], int]:
    """A demo 承办人 account ``handler_<unit code>`` for each unit (id → code), with its
    handler membership, made where missing. Returns (unit id → user id, accounts created)."""
    usernames = {f"handler_{code}"[:150]: unit for unit, code in units.items()}
    existing = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    password = make_password(DEMO_PASSWORD)
    new_users = [
        User(
            username=name,
            display_name=f"{SURNAMES[unit % len(SURNAMES)]}承办",
            email=f"{name}@example.invalid",
            password=password,
        )
        for name, unit in usernames.items()
        if name not in existing
    ]
    if new_users:
        User.objects.bulk_create(new_users, ignore_conflicts=True)
        existing = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    have = set(
        Membership.objects.filter(user_id__in=existing.values(), role=HANDLER).values_list(
            "user_id", "unit_id"
        )
    )
    posts = [
        Membership(user_id=existing[name], unit_id=unit, role=HANDLER)
        for name, unit in usernames.items()
        if name in existing and (existing[name], unit) not in have
    ]
    if posts:
        bulk_create_with_history(posts, Membership, batch_size=500)
    accounts = {unit: existing[name] for name, unit in usernames.items() if name in existing}
    return accounts, len(new_users)


def _ensure_handlers(world: _World) -> int:
    """Give every possible lead unit without a 承办人 one demo handler account."""
    missing = sorted(u for u in world.possible_leads() if u not in world.handlers)
    if not missing:
        return 0
    _accounts, created = create_handler_accounts({u: world.unit_codes[u] for u in missing})
    world.load_staff()
    return created


# --- one case --------------------------------------------------------------------------------


_CASE_DEFAULTS = {f.attname: f.get_default() for f in Case._meta.concrete_fields}


class _CaseRow:
    """The columns of one ``Case`` while it is simulated (cheaper than a model instance);
    ``category`` holds the Category row for the simulation."""

    __slots__ = (*_CASE_DEFAULTS, "category")

    def __init__(self, **values: Any) -> None:
        for name, value in (_CASE_DEFAULTS | values).items():
            setattr(self, name, value)

    @property
    def pk(self) -> int | None:
        return self.id

    @pk.setter
    def pk(self, value: int) -> None:
        self.id = value


@dataclass
class _Draft:
    case: _CaseRow
    day: dt.date
    events: list[tuple[Any, ...]] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    extensions: list[ExtensionRequest] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    co_units: list[int] = field(default_factory=list)


class _Stop(Exception):
    """Control flow: the case's next step lies after ``now``."""


class _Sim:
    """Walks one case through the workflow until its next step would fall after ``now``."""

    def __init__(self, gen: _Generator, draft: _Draft, steer: str | None) -> None:
        self.g = gen
        self.rng = gen.rng
        self.d = draft
        self.c = draft.case
        self.steer = steer
        self.t = draft.case.created_at  # the time of the last event
        self.lead: _Suggestion | None = None
        self.level = ON_TIME  # the supervision level, as the workflow and the scan set it

    # -- time ------------------------------------------------------------------------------

    def at(self, when: dt.datetime) -> dt.datetime:
        """The time of the next step, or stop when it lies after ``now``. A steered case is
        squeezed in before ``now`` instead."""
        now = self.g.now
        if when <= self.t:
            when = self.t + dt.timedelta(seconds=self.rng.randint(30, 300))
        if when > now:
            if self.steer is None:
                raise _Stop
            when = self.t + (now - self.t) * self.rng.uniform(0.15, 0.5)
        self.scan(when)
        self.t = when
        return when

    # -- 督: what the supervision scan (``cases.supervision.RULES``) does meanwhile ----------

    def raise_level(self, level: str) -> None:
        if LEVELS.index(level) > LEVELS.index(self.level):
            self.level = level

    def scan(self, until: dt.datetime) -> None:
        """Raise the level for every deadline the case, as it stands, has passed by ``until``
        (the scan runs every minute and never lowers a level)."""
        c = self.c
        if c.status == SUBMITTED:
            if c.accept_by <= until:
                self.raise_level(OVERDUE)
        elif c.status in (DISPATCHED, HANDLING):
            if c.status == DISPATCHED and c.sign_by <= until:
                self.raise_level(OVERDUE)
            if c.contacted_at is None and c.contact_by <= until:
                self.raise_level(OVERDUE)
            if c.warn_at <= until:
                self.raise_level(WARNING)
            if c.resolve_by <= until:
                self.raise_level(OVERDUE)
                if c.resolve_by + self.g.office_after <= until:  # 督查室 above: 督办
                    self.raise_level(SUPERVISED)

    def warn_at(self, start: dt.datetime, deadline: dt.datetime) -> dt.datetime:
        """``sla.warning_point`` with the configured share."""
        return start + (deadline - start) * self.g.warning_share

    def between(self, start: dt.datetime, end: dt.datetime, lo: float, hi: float) -> dt.datetime:
        return start + (end - start) * self.rng.uniform(lo, hi)

    def minutes(self, lo: float, hi: float) -> dt.timedelta:
        return dt.timedelta(minutes=self.rng.uniform(lo, hi))

    # -- people ----------------------------------------------------------------------------

    def staff(self, role: str, region_id: int, local: float = 0.8) -> int | None:
        candidates = self.g.reachers(role, region_id)
        if not candidates:
            return None
        if len(candidates) == 1 or self.rng.random() < local:
            return candidates[0]
        return self.rng.choice(candidates[1:])

    def handler(self) -> int | None:
        users = self.g.world.handlers.get(self.lead.unit_id) if self.lead else None
        return self.rng.choice(users) if users else None

    def intake_actor(self) -> tuple[int | None, str]:
        if self.rng.random() < 0.85:
            return self.staff(OPERATOR, self.c.region_id), OPERATOR
        return self.staff(DISPATCHER, self.c.region_id), DISPATCHER

    # -- events ----------------------------------------------------------------------------

    def event(
        self,
        kind: str,
        when: dt.datetime,
        actor: int | None,
        role: str | None,
        from_status: str,
        payload: dict[str, Any],
        *,
        public: bool = True,
        unit: int | None = None,
        patch: Any = None,
    ) -> dict[str, Any]:
        if unit is None and self.lead is not None:
            unit = self.lead.unit_id
        full = {"role": role, **payload} if role else payload
        self.d.events.append(
            (kind, when, actor, unit, from_status, self.c.status, full, public, patch)
        )
        return full

    def move(self, status: str) -> str:
        previous = self.c.status
        self.c.status = status
        return previous

    # -- the walk --------------------------------------------------------------------------

    def run(self) -> None:
        with contextlib.suppress(_Stop):
            self.walk()
        self.scan(self.g.now)
        self.c.supervision_level = self.level

    def walk(self) -> None:
        rng, c, g = self.rng, self.c, self.g
        phone_like = c.channel in ("phone", "walk_in", "grid")
        actor = self.g.operator_for(c) if phone_like else self.d.case.complainant_id
        self.event(
            "submit", c.created_at, actor, OPERATOR if phone_like else None, "",
            {"channel": c.channel},
        )  # fmt: skip
        if self.steer == SUBMITTED:
            return
        code = g.world.category_codes[c.category_id]
        # 接: accept, answer on the spot, or reject.
        if self.steer == REJECTED:
            decision = "reject"
        elif self.steer in (None, REPLIED, EVALUATED) and phone_like:
            r = rng.random()
            intake_share = 0.75 if code == "consult" else 0.04
            decision = "reject" if r < 0.035 else "intake" if r < 0.035 + intake_share else ""
        elif self.steer is None:
            r = rng.random()
            decision = "reject" if r < 0.045 else "intake" if code == "consult" and r < 0.3 else ""
        else:
            decision = ""
        if phone_like:
            t1 = c.created_at + self.minutes(1, 15)
        elif rng.random() < 0.05:  # accepted late
            t1 = c.accept_by + self.minutes(10, 360)
        else:
            t1 = self.between(c.created_at, c.accept_by, 0.03, 0.9)
        t1 = self.at(t1)
        actor, role = self.intake_actor()
        if decision == "reject":
            reason = rng.choices(("out_of_scope", "insufficient", "malicious"), (55, 40, 5))[0]
            c.reject_reason = reason
            c.closed_at = t1
            source = self.move(REJECTED)
            self.event(
                "reject", t1, actor, role, source,
                {"reason": reason, "duplicate_of": None, "note": REJECT_NOTES[reason]},
            )  # fmt: skip
            return
        if decision == "intake":
            c.reply_text = rng.choice(INTAKE_REPLIES)
            c.outcome = RESOLVED
            c.accepted_at = c.contacted_at = c.replied_at = t1
            source = self.move(REPLIED)
            self.event(
                "resolve_at_intake", t1, actor, role, source,
                {"reply": c.reply_text, "outcome": RESOLVED},
            )  # fmt: skip
            self.after_reply()
            return
        suggestions = g.world.suggestions(c.category_id, g.place_of(c))
        c.duty_level = suggestions[0].level if suggestions else RegionLevel.DISTRICT
        complex_share = {"real-estate": 0.35, "property": 0.08}.get(code, 0.03)
        c.is_complex = not c.category.is_urgent and rng.random() < complex_share
        c.accepted_at = t1
        source = self.move(ACCEPTED)
        self.event(
            "accept", t1, actor, role, source,
            {
                "category": c.category.name,
                "duty_level": c.duty_level,
                "is_complex": c.is_complex,
                "duplicate_of": None,
                "note": "",
            },
        )  # fmt: skip
        if self.steer == ACCEPTED or not suggestions:
            return
        self.dispatch_and_handle(suggestions)

    @property
    def urgent(self) -> bool:
        """Whether the matter runs in clock hours (water, gas, power, heating)."""
        return self.c.category.resolve_unit == sla.TimeUnit.CLOCK_HOURS

    def staff_time(
        self, after: dt.datetime, lo: float, hi: float, *, round_the_clock: bool = False
    ) -> dt.datetime:
        """When staff get to it: ``lo``-``hi`` minutes later, in office hours; an urgent
        matter in waking hours, or at any hour for the emergency steps (``round_the_clock``:
        the 12345 dispatchers and the repair crews work nights)."""
        when = after + self.minutes(lo, hi)
        if not self.urgent:
            return self.g.office(when)
        return when if round_the_clock else self.g.awake(when)

    def work_time(
        self, start: dt.datetime, deadline: dt.datetime, on_time: bool, late_days: float = 2.5
    ) -> dt.datetime:
        """When the unit does something due by ``deadline``: most finish well before it
        (skewed early), in office or waking hours; late ones a while after it."""
        if on_time and deadline > start:
            for _attempt in range(3):
                share = 0.05 + 0.9 * self.rng.random() ** 2
                when = start + (deadline - start) * share
                when = self.g.awake(when) if self.urgent else self.g.office(when)
                if when <= deadline:
                    return when
            return when
        rng = self.rng
        overdue = (
            rng.expovariate(1 / late_days)
            if rng.random() < 0.95
            else rng.uniform(4, 24) * late_days
        )
        if self.urgent:
            overdue /= 8
        when = max(start, deadline) + dt.timedelta(days=overdue, minutes=10)
        return self.g.awake(when) if self.urgent else self.g.office(when)

    def dispatch(self, to: _Suggestion) -> None:
        c, g, rng = self.c, self.g, self.rng
        t2 = self.at(self.staff_time(self.t, 3, 90, round_the_clock=True))
        self.lead = to
        c.lead_unit_id = to.unit_id
        c.dispatched_at = t2
        c.signed_at = None
        c.contact_by = sla.contact_deadline(c.category, t2, urgency=c.urgency, calendar=g.cal)
        c.resolve_by = sla.resolve_deadline(
            c.category, t2, urgency=c.urgency, is_complex=c.is_complex, calendar=g.cal
        )
        sign_unit = (
            sla.TimeUnit.CLOCK_HOURS
            if c.category.is_urgent or c.urgency != "normal"
            else sla.TimeUnit.WORKING_HOURS
        )
        c.sign_by = g.cal.add(t2, g.sign_hours, sign_unit)
        c.warn_at = self.warn_at(t2, c.resolve_by)
        if self.level != SUPERVISED:  # new deadlines: earlier flags no longer hold
            self.level = ON_TIME
        co = [u for u in to.co_units if u[0] != to.unit_id] if rng.random() < 0.6 else []
        self.d.co_units = [u for u, _name in co]
        source = self.move(DISPATCHED)
        actor = self.staff(DISPATCHER, c.dispatch_region_id)
        self.event(
            "dispatch", t2, actor, DISPATCHER, source,
            {
                "lead_unit": to.unit_name,
                "co_units": [name for _u, name in co],
                "resolve_by": c.resolve_by.isoformat(),
                "note": "请尽快联系诉求人。" if rng.random() < 0.2 else "",
            },
        )  # fmt: skip

    def dispatch_and_handle(self, suggestions: list[_Suggestion]) -> None:
        c, rng, g = self.c, self.rng, self.g
        primary = suggestions[0]
        if len(suggestions) > 1 and rng.random() < 0.1:
            primary = suggestions[1]
        if self.steer is None and rng.random() < 0.03:
            # Sent first to a unit that sends it back (退回), then to the right one.
            office = g.world.street_office(g.place_of(c))
            wrong = next(
                (s for s in suggestions if s.unit_id != primary.unit_id),
                _Suggestion(office, g.world.unit_names[office], (), RegionLevel.STREET)
                if office is not None and office != primary.unit_id
                else None,
            )
            if wrong is not None:
                self.dispatch(wrong)
                t = self.at(self.between(self.t, c.contact_by, 0.1, 0.6))
                returned_by = self.lead
                handler = self.handler()
                c.return_count += 1
                c.lead_unit_id = None
                c.dispatched_at = c.contact_by = c.resolve_by = c.sign_by = c.warn_at = None
                c.contacted_at = None
                self.d.co_units = []
                self.lead = None
                source = self.move(ACCEPTED)
                self.event(
                    "return", t, handler, HANDLER, source,
                    {
                        "reason": rng.choice(RETURN_REASONS),
                        "unit": returned_by.unit_name,
                        "return_count": c.return_count,
                        "escalated_to": None,
                    },
                    unit=returned_by.unit_id,
                )  # fmt: skip
        self.dispatch(primary)
        if self.steer == DISPATCHED:
            return
        # 签收: within the two working hours, mostly.
        if self.urgent:
            t3 = self.staff_time(self.t, 2, 120, round_the_clock=True)
        else:
            t3 = self.work_time(self.t, c.sign_by, rng.random() < 0.93, late_days=0.3)
        t3 = self.at(t3)
        c.signed_at = t3
        source = self.move(HANDLING)
        self.event("sign", t3, self.handler(), HANDLER, source, {"unit": self.lead.unit_name})
        self.handle(first_round=True)

    def handle(self, *, first_round: bool) -> None:
        """联系, 进展, 延期, 督办 and 办结答复 of one round of handling."""
        c, rng, g = self.c, self.rng, self.g
        clock_hours = c.category.resolve_unit == sla.TimeUnit.CLOCK_HOURS
        steered = self.steer is not None
        # 联系诉求人: on time nine times in ten.
        if first_round or rng.random() < 0.5:
            if first_round and self.urgent:  # the crew calls on its way, night or day
                on_time = rng.random() < 0.92
                t4 = (
                    self.between(self.t, c.contact_by, 0.05, 0.85)
                    if on_time and c.contact_by > self.t
                    else max(self.t, c.contact_by) + self.minutes(10, 240)
                )
            elif first_round:
                t4 = self.work_time(self.t, c.contact_by, rng.random() < 0.9, late_days=0.8)
            else:
                t4 = self.g.awake(self.t + self.minutes(30, 600))
            t4 = self.at(t4)
            first = c.contacted_at is None
            if first:
                c.contacted_at = t4
            self.event(
                "contact", t4, self.handler(), HANDLER, c.status,
                {
                    "method": "phone" if rng.random() < 0.85 else "visit",
                    "first": first,
                    "on_time": c.contact_by is None or t4 <= c.contact_by,
                    "note": "" if rng.random() < 0.7 else "已与诉求人约定上门时间。",
                },
                public=False,
            )  # fmt: skip
        if self.steer == HANDLING:
            return
        # 延期: the unit asks before the deadline; most requests are approved.
        if not steered and not clock_hours and rng.random() < (0.25 if c.is_complex else 0.04):
            asked = self.between(self.t, c.resolve_by, 0.4, 0.9)
            if asked > self.t:
                self.extension(asked)
        # 办结答复: on time nine times in ten; a long tail of late ones.
        late_share = 0.25 if c.is_complex else 0.1
        t5 = self.work_time(self.t, c.resolve_by, steered or rng.random() >= late_share)
        if not steered and not clock_hours and rng.random() < 0.3:
            self.at(self.between(self.t, t5, 0.2, 0.8))
            text, public = rng.choice(PROGRESS_NOTES)
            self.event(
                "progress", self.t, self.handler(), HANDLER, c.status,
                {"text": text, "public": public}, public=public,
            )  # fmt: skip
        if not steered and t5 > c.resolve_by and rng.random() < 0.4:
            self.supervise(self.between(max(self.t, c.resolve_by), t5, 0.1, 0.5))
        t5 = self.at(t5)
        code = g.world.category_codes[c.category_id]
        group = (
            "heating"
            if code.startswith("heating")
            else ("utility" if code.split("-")[0] in ("water", "gas", "power") else "default")
        )
        outcome_weights = (60, 20, 20) if code in ("real-estate", "consult") else (82, 9, 9)
        if not first_round:
            outcome_weights = (85, 10, 5)
        outcome = rng.choices((RESOLVED, PARTLY, EXPLAINED), outcome_weights)[0]
        c.outcome = outcome
        c.reply_text = rng.choice(REPLIES[group][outcome])
        c.replied_at = t5
        for order in self.d.orders:
            if order.fulfilled_at is None:
                order.fulfilled_at = t5
        source = self.move(REPLIED)
        self.event(
            "reply", t5, self.handler(), HANDLER, source,
            {"outcome": outcome, "text": c.reply_text, "on_time": t5 <= c.resolve_by},
        )  # fmt: skip
        self.after_reply()

    def extension(self, asked: dt.datetime) -> None:
        c, rng, g = self.c, self.rng, self.g
        asked = self.at(asked)
        until = g.cal.add(c.resolve_by, rng.randint(3, 10), sla.TimeUnit.WORKING_DAYS)
        handler = self.handler()
        request = ExtensionRequest(
            unit_id=self.lead.unit_id,
            requested_by_id=handler,
            reason=rng.choice(EXTENSION_REASONS),
            requested_until=until,
            created_at=asked,
        )
        self.d.extensions.append(request)
        self.event(
            "request_extension", asked, handler, HANDLER, c.status,
            {"request": None, "until": until.isoformat(), "reason": request.reason},
            public=False, patch=("request", request),
        )  # fmt: skip
        decided = self.at(self.staff_time(asked, 30, 480))  # office hours: not urgent
        approve = rng.random() < 0.85
        request.status = "approved" if approve else "refused"
        request.decided_by_id = self.staff(DISPATCHER, c.dispatch_region_id)
        request.decided_at = decided
        request.decision_note = "" if approve else "请按原时限办结。"
        previous = c.resolve_by
        if approve:
            c.resolve_by = until
            c.warn_at = self.warn_at(c.dispatched_at or decided, until)
            if self.level != SUPERVISED:
                self.level = ON_TIME
        self.event(
            "decide_extension", decided, request.decided_by_id, DISPATCHER, c.status,
            {
                "request": None,
                "approved": approve,
                "from": previous.isoformat(),
                "to": until.isoformat() if approve else None,
                "note": request.decision_note,
            },
            public=False, patch=("request", request),
        )  # fmt: skip

    def supervise(self, when: dt.datetime) -> None:
        c, rng, g = self.c, self.rng, self.g
        when = self.at(when)
        due = g.cal.add(when, 3, sla.TimeUnit.WORKING_DAYS)
        actor = self.staff(SUPERVISOR, c.region_id, local=0.5)
        order = SupervisionOrder(
            issued_by_id=actor, due_at=due, note=rng.choice(SUPERVISION_NOTES), created_at=when
        )
        self.d.orders.append(order)
        self.level = SUPERVISED
        self.event(
            "supervise", when, actor, SUPERVISOR, c.status,
            {"order": None, "due_at": due.isoformat(), "note": order.note},
            patch=("order", order),
        )  # fmt: skip

    def after_reply(self) -> None:
        """评价 (or the archive scan when nobody evaluates), 重办, 督查研判 and 归档."""
        c, rng = self.c, self.rng
        if self.steer == REPLIED:
            return
        steered = self.steer is not None
        if not steered and rng.random() < 0.08:
            # Nobody evaluates: the supervision scan archives it after the window.
            t = self.at(c.replied_at + self.g.evaluate_window + self.minutes(0.2, 2))
            c.closed_at = t
            source = self.move(CLOSED)
            self.event(
                "close", t, None, None, source,
                {"unreasonable": False, "not_evaluated": True, "note": "超期未评价，自动归档。"},
            )  # fmt: skip
            return
        phone_like = c.channel in ("phone", "walk_in", "grid")
        if phone_like or rng.random() < 0.4:  # 回访 by an operator
            t6 = self.at(self.staff_time(c.replied_at, 60, 2880))
            actor, role, source_kind = self.staff(OPERATOR, c.region_id), OPERATOR, "callback"
        else:  # the complainant, signed in or with the SMS link
            t6 = self.at(self.g.awake(c.replied_at + self.minutes(20, 2880)))
            actor, role, source_kind = c.complainant_id, RESIDENT, "complainant"
        if self.steer == REVIEW:
            rating = UNSATISFIED
        elif self.steer == EVALUATED:
            rating = SATISFIED
        else:
            weights = {RESOLVED: (76, 17, 7), PARTLY: (42, 36, 22)}.get(c.outcome, (42, 38, 20))
            if c.reopen_count:
                weights = (55, 30, 15)
            rating = rng.choices((SATISFIED, BASICALLY, UNSATISFIED), weights)[0]
        comment = rng.choice(COMMENTS[rating])
        self.d.evaluations.append(
            Evaluation(
                round=c.reopen_count,
                rating=rating,
                comment=comment,
                source=source_kind,
                by_id=actor,
                created_at=t6,
            )
        )
        source = self.move(EVALUATED)
        if rating == UNSATISFIED and c.reopen_count >= 1:
            c.status = REVIEW
        c.rating = rating
        c.evaluated_at = t6
        self.event(
            "evaluate", t6, actor, role, source,
            {"rating": rating, "comment": comment, "source": source_kind,
             "round": c.reopen_count},
        )  # fmt: skip
        if self.steer == EVALUATED:
            return
        if c.status == REVIEW:
            if self.steer == REVIEW:
                return
            t = self.at(self.g.office(c.evaluated_at + self.minutes(240, 7200)))
            unreasonable = rng.random() < 0.5
            c.excluded_from_satisfaction = unreasonable
            c.closed_at = t
            source = self.move(CLOSED)
            note = "经研判为不合理诉求。" if unreasonable else "已督促办理，予以归档。"
            self.event(
                "close", t, self.staff(SUPERVISOR, c.region_id, local=0.5), SUPERVISOR, source,
                {"unreasonable": unreasonable, "not_evaluated": False, "note": note},
            )  # fmt: skip
            return
        if rating == UNSATISFIED and self.lead is not None and (steered or rng.random() < 0.6):
            self.reopen()
            return
        t = self.at(self.staff_time(c.evaluated_at, 20, 2880))
        actor, role = (
            (self.staff(DISPATCHER, c.dispatch_region_id), DISPATCHER)
            if self.lead is not None and rng.random() < 0.5
            else (self.staff(OPERATOR, c.region_id), OPERATOR)
        )
        c.closed_at = t
        source = self.move(CLOSED)
        self.event(
            "close", t, actor, role, source,
            {"unreasonable": False, "not_evaluated": False, "note": ""},
        )  # fmt: skip

    def reopen(self) -> None:
        c, rng, g = self.c, self.rng, self.g
        t = self.at(self.staff_time(c.evaluated_at, 30, 1440))
        c.reopen_count += 1
        c.resolve_by = g.cal.add(t, REOPEN_RESOLVE_DAYS, sla.TimeUnit.WORKING_DAYS)
        c.warn_at = self.warn_at(t, c.resolve_by)
        c.outcome = c.rating = ""
        c.replied_at = c.evaluated_at = None
        self.level = ON_TIME
        source = self.move(HANDLING)
        self.event(
            "reopen", t, self.staff(DISPATCHER, c.dispatch_region_id), DISPATCHER, source,
            {"reason": rng.choice(REOPEN_REASONS), "resolve_by": c.resolve_by.isoformat(),
             "round": c.reopen_count},
        )  # fmt: skip
        self.handle(first_round=False)


# --- the generator ---------------------------------------------------------------------------


class _Generator:
    def __init__(self, n: int, seed: int, now: dt.datetime, batch_size: int) -> None:
        self.n = n
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.zone = timezone.get_default_timezone()
        self.now = timezone.localtime(now, self.zone)
        self.batch_size = max(1, batch_size)
        self.world = _World()
        self.today = self.now.date()
        self.first_day = self.today - dt.timedelta(days=DAYS - 1)
        self.cal = sla.WorkCalendar.load(self.first_day, self.today)
        self._reach: dict[tuple[str, int], list[int]] = {}
        self._places = {p.region_id: p for p in self.world.places}
        self._category_cum: dict[tuple[float, bool], tuple[list[str], list[float]]] = {}
        self.writer = _Writer()
        policy = {
            "warning_share": 0.75,
            "sign_hours": 2,
            "office_after_hours": 72,
            "evaluate_days": 7,
            **getattr(settings, "SUPERVISION", {}),
        }
        self.warning_share = float(policy["warning_share"])
        self.sign_hours = int(policy["sign_hours"])
        self.office_after = dt.timedelta(hours=policy["office_after_hours"])
        self.evaluate_window = dt.timedelta(days=policy["evaluate_days"])

    # -- lookups ---------------------------------------------------------------------------

    def reachers(self, role: str, region_id: int) -> list[int]:
        key = (role, region_id)
        found = self._reach.get(key)
        if found is None:
            found = self._reach[key] = self.world.reachers(role, region_id)
        return found

    def operator_for(self, case: _CaseRow) -> int | None:
        users = self.reachers(OPERATOR, case.region_id)
        return users[0] if users else None

    def place_of(self, case: _CaseRow) -> _Place:
        return self._places[case.region_id]

    def awake(self, when: dt.datetime) -> dt.datetime:
        """``when`` if it falls between 08:00 and 21:00, else some time the next morning."""
        if 8 <= when.hour < 21:
            return when
        day = when.date() if when.hour < 8 else when.date() + dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time(8), tzinfo=self.zone)
        return start + dt.timedelta(minutes=self.rng.uniform(0, 240))

    def office(self, when: dt.datetime) -> dt.datetime:
        """``when`` if it falls in office hours on a working day, else a moment spread over
        the rest of that working day (or the next one)."""
        day, moment = when.date(), when.time()
        while True:
            if self.cal.is_workday(day):
                left = []
                for opens, closes in sla.WORKING_PERIODS:
                    if moment < closes:
                        if moment >= opens:
                            return when
                        start = dt.datetime.combine(day, opens, tzinfo=self.zone)
                        left.append((start, dt.datetime.combine(day, closes, tzinfo=self.zone)))
                if left:
                    spare = self.rng.random() * sum((b - a for a, b in left), dt.timedelta())
                    for start, end in left:
                        if spare < end - start:
                            return start + spare
                        spare -= end - start
                    return left[-1][0]
            day += dt.timedelta(days=1)
            moment = dt.time.min

    # -- the year --------------------------------------------------------------------------

    def day_weight(self, day: dt.date) -> float:
        base = sum(city for city, _village in GROUPS.values()) + heating_weight(day)
        weight = base * (1.0 if self.cal.is_workday(day) else 0.8)
        if day == self.today:
            midnight = dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)
            weight *= (self.now - midnight) / dt.timedelta(days=1)
        return weight

    def day_counts(self) -> list[int]:
        """Cases per day (oldest first): the share of each day's weight, remainders drawn."""
        days = [self.first_day + dt.timedelta(days=i) for i in range(DAYS)]
        weights = [self.day_weight(d) for d in days]
        total = sum(weights)
        exact = [self.n * w / total for w in weights]
        counts = [int(x) for x in exact]
        short = self.n - sum(counts)
        if short:
            remainders = [x - int(x) for x in exact]
            picked: set[int] = set()
            while len(picked) < short:
                picked.add(self.rng.choices(range(DAYS), remainders)[0])
            for i in picked:
                counts[i] += 1
        return counts

    def steered(self, counts: list[int]) -> dict[int, str]:
        """Case index → state, for the few cases steered into each open state."""
        starts = _cumulative([float(c) for c in counts])
        used: set[int] = set()
        result: dict[int, str] = {}
        if self.n < len(STEERED) + 1:
            return result
        for status, age in STEERED:
            target = (timezone.localtime(self.now - age, self.zone).date() - self.first_day).days
            order = [target - k for k in range(DAYS)] + [target + k for k in range(1, DAYS)]
            for day in order:
                if not 0 <= day < DAYS or counts[day] == 0:
                    continue
                last = int(starts[day]) - 1
                first = last - counts[day] + 1
                free = [i for i in range(last, first - 1, -1) if i not in used]
                if free:
                    used.add(free[0])
                    result[free[0]] = status
                    break
        return result

    def times(self, day: dt.date, k: int) -> list[dt.datetime]:
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)
        limit = 24
        if day == self.today:
            limit = self.now.hour + 1
        hours = self.rng.choices(range(limit), HOUR_WEIGHTS[:limit], k=k)
        out = []
        for hour in hours:
            t = midnight + dt.timedelta(hours=hour, seconds=self.rng.uniform(0, 3600))
            if t >= self.now:
                t = self.now - (self.now - max(midnight, self.now - dt.timedelta(hours=1))) * (
                    self.rng.uniform(0.02, 1)
                )
            out.append(t.replace(microsecond=0))
        out.sort()
        return out

    def category_table(self, day: dt.date, rural: bool) -> tuple[list[str], list[float]]:
        heat = heating_weight(day)
        key = (heat, rural)
        table = self._category_cum.get(key)
        if table is None:
            codes: list[str] = []
            weights: list[float] = []
            groups = {**{g: w[1 if rural else 0] for g, w in GROUPS.items()}, "heating": heat}
            for group, weight in groups.items():
                for code, share in MEMBERS.get(group, {group: 1.0}).items():
                    if code in self.world.categories:
                        codes.append(code)
                        weights.append(weight * share)
            table = self._category_cum[key] = (codes, _cumulative(weights))
        return table

    # -- one case --------------------------------------------------------------------------

    def pick(self, cum: list[float]) -> int:
        return bisect.bisect_right(cum, self.rng.random() * cum[-1])

    def draft(self, created: dt.datetime, steer: str | None) -> _Draft:
        rng, world = self.rng, self.world
        place = world.places[min(self.pick(world.place_cum), len(world.places) - 1)]
        codes, cum = self.category_table(created.date(), place.rural)
        code = codes[min(self.pick(cum), len(codes) - 1)]
        category_id, _name, _parent = world.categories[code]
        category = world.category_rows[category_id]
        group = code.split("-")[0]
        channel = CHANNEL_NAMES[min(self.pick(CHANNEL_CUM), len(CHANNEL_NAMES) - 1)]
        if channel == "grid" and group not in GRID_GROUPS:
            channel = "phone"
        urgency = "normal"
        if code == "gas-leak":
            urgency = "emergency" if rng.random() < 0.5 else "urgent"
        elif category.is_urgent and rng.random() < 0.3:
            urgency = "urgent"
        elif code == "power" and rng.random() < 0.05:
            urgency = "emergency"
        title, text = rng.choice(TEMPLATES.get(code) or TEMPLATES["consult"])
        address = self.address(place)
        description = text.format(
            addr=f"{place.name}{address}",
            temp=rng.choice((10, 11, 12, 13, 14, 15, 16)),
            days=rng.randint(2, 6),
            hours=rng.randint(3, 12),
            floor=rng.randint(5, 18),
            years=rng.randint(3, 10),
            time=rng.choice(("早上", "昨天晚上", "中午", "凌晨")),
        )
        resident = None
        if channel in ("web", "mini_program") and world.residents and rng.random() < 0.004:
            resident = rng.choice(world.residents)
        if resident is not None:
            name = resident[1] or f"{rng.choice(SURNAMES)}先生"
            phone = resident[2] or self.phone()
        else:
            name = rng.choice(SURNAMES) + ("先生" if rng.random() < 0.55 else "女士")
            phone = self.phone()
        lat = lng = None
        if channel in ("mini_program", "grid") or (channel == "web" and rng.random() < 0.5):
            centre = DISTRICT_CENTRES.get(place.slug, (36.62, 101.78))
            lat = Decimal(f"{centre[0] + rng.uniform(-0.03, 0.03):.6f}")
            lng = Decimal(f"{centre[1] + rng.uniform(-0.04, 0.04):.6f}")
        case = _CaseRow(
            category=category,
            channel=channel,
            category_id=category_id,
            region_id=place.region_id,
            district_id=place.district_id,
            street_id=place.street_id,
            dispatch_region_id=place.district_id,
            address=address,
            lat=lat,
            lng=lng,
            title=title,
            description=description,
            complainant_name=name,
            complainant_phone=phone,
            complainant_id=resident[0] if resident else None,
            hide_identity=rng.random() < 0.05,
            status=SUBMITTED,
            urgency=urgency,
            accept_by=sla.accept_deadline(category, created, urgency=urgency, calendar=self.cal),
            created_at=created,
        )
        draft = _Draft(case=case, day=created.date())
        _Sim(self, draft, steer).run()
        return draft

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def address(self, place: _Place) -> str:
        rng = self.rng
        if place.rural:
            return f"{rng.randint(1, 8)}社{rng.randint(1, 120)}号"
        compound = COMPOUNDS[sum(map(ord, place.name)) % len(COMPOUNDS)]
        if rng.random() < 0.5:
            compound = place.name.removesuffix("社区") + "小区"
        return (
            f"{compound}{rng.randint(1, 30)}号楼{rng.randint(1, 4)}单元"
            f"{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
        )

    def drafts(self) -> Iterator[_Draft]:
        counts = self.day_counts()
        steer = self.steered(counts)
        index = 0
        for offset, k in enumerate(counts):
            if not k:
                continue
            day = self.first_day + dt.timedelta(days=offset)
            for created in self.times(day, k):
                yield self.draft(created, steer.get(index))
                index += 1

    # -- writing ---------------------------------------------------------------------------

    def flush(self, drafts: list[_Draft], report: GenerateReport) -> None:
        """Write one batch in one transaction: cases, their requests and orders, events,
        evaluations, co-unit links, and the day sequences moved past the codes used."""
        writer = self.writer
        with transaction.atomic():
            days = sorted({d.day for d in drafts})
            last = dict(
                DailySequence.objects.select_for_update()
                .filter(day__in=days)
                .values_list("day", "last")
            )
            for d in drafts:
                number = last.get(d.day, 0) + 1
                last[d.day] = number
                d.case.tracking_code = f"XN-{d.day:%Y%m%d}-{number:04d}"
            writer.insert_objects(Case, [d.case for d in drafts])
            extensions, orders = [], []
            for d in drafts:
                for obj in (*d.extensions, *d.orders):
                    obj.case_id = d.case.pk
                extensions.extend(d.extensions)
                orders.extend(d.orders)
            writer.insert_objects(ExtensionRequest, extensions)
            writer.insert_objects(SupervisionOrder, orders)
            events, evaluations, links = [], [], []
            for d in drafts:
                case_id = d.case.pk
                for kind, when, actor, unit, source, target, payload, public, patch in d.events:
                    if patch is not None:
                        payload[patch[0]] = patch[1].pk
                    events.append(
                        (case_id, kind, actor, unit, source, target, payload, public, when)
                    )
                for e in d.evaluations:
                    evaluations.append(
                        (case_id, e.round, e.rating, e.comment, e.source, e.by_id, e.created_at)
                    )
                links.extend((case_id, unit) for unit in d.co_units)
                report.statuses[d.case.status] += 1
            writer.insert_rows(CaseEvent, EVENT_COLUMNS, events)
            writer.insert_rows(Evaluation, EVALUATION_COLUMNS, evaluations)
            writer.insert_rows(Case.co_units.through, ("case_id", "unit_id"), links)
            DailySequence.objects.bulk_create(
                [DailySequence(day=day, last=last[day]) for day in days],
                update_conflicts=True,
                unique_fields=["day"],
                update_fields=["last"],
            )
        report.cases += len(drafts)
        report.events += len(events)
        report.evaluations += len(evaluations)
        report.extension_requests += len(extensions)
        report.supervision_orders += len(orders)
        report.co_unit_links += len(links)


EVENT_COLUMNS = (
    "case_id", "type", "actor_id", "unit_id", "from_status", "to_status", "payload",
    "is_public", "created_at",
)  # fmt: skip
EVALUATION_COLUMNS = ("case_id", "round", "rating", "comment", "source", "by_id", "created_at")


class _Writer:
    """Inserts rows in bulk: per table and batch one ``bulk_create`` or one ``executemany``.

    PostgreSQL (and any backend whose ``bulk_create`` returns keys): ``bulk_create``.
    SQLite: Django 5.2 assumes SQLite's old 999-parameter limit there, so ``bulk_create`` splits
    a batch into hundreds of statements and prepares every value field by field; instead the
    values are adapted once here with the backend's own adapters and sent in one
    ``executemany`` (run in C by the driver) through the Django cursor, with primary keys from
    ``MAX(id) + 1`` read inside the batch's transaction (the project opens SQLite transactions
    IMMEDIATE, so no other writer runs meanwhile). A backend that can neither return keys nor
    is SQLite gets assigned keys and ``bulk_create``.
    """

    def __init__(self) -> None:
        self.fast = connection.vendor == "sqlite"
        self.returns_ids = connection.features.can_return_rows_from_bulk_insert
        self.ops = connection.ops

    def _adapter(self, model_field: Any) -> Any:
        kind = model_field.get_internal_type()
        ops = self.ops
        if kind == "DateTimeField":
            if not self.fast:
                return ops.adapt_datetimefield_value
            zone = connection.timezone  # what SQLite's adapter does, minus its checks

            def adapt_datetime(value: dt.datetime) -> str:
                if value.tzinfo is not None:
                    value = value.astimezone(zone).replace(tzinfo=None)
                return str(value)

            return adapt_datetime
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind == "DecimalField":
            places, digits = model_field.decimal_places, model_field.max_digits
            return lambda v: ops.adapt_decimalfield_value(v, digits, places)
        if kind == "JSONField":
            encoder = model_field.encoder
            return lambda v: ops.adapt_json_value(v, encoder)
        return None

    def _executemany(self, model: type[Model], attnames: list[str], rows: list[Any]) -> None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        fields = [by_attname[name] for name in attnames]
        adapters = [(i, a) for i, f in enumerate(fields) if (a := self._adapter(f)) is not None]
        if adapters:
            adapted = []
            for row in rows:
                values = list(row)
                for i, adapt in adapters:
                    if values[i] is not None:
                        values[i] = adapt(values[i])
                adapted.append(values)
            rows = adapted
        quote = self.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _assign_ids(self, model: type[Model], objs: list[Any]) -> None:
        start = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
        for offset, obj in enumerate(objs):
            obj.pk = start + offset

    def insert_objects(self, model: type[Model], objs: list[Any]) -> None:
        """Insert model instances (or objects with the model's attnames), leaving their
        primary keys set."""
        if not objs:
            return
        fields = model._meta.concrete_fields
        if not self.fast:
            instances = objs
            if not isinstance(objs[0], model):
                names = [f.attname for f in fields]
                instances = [model(**{n: getattr(o, n) for n in names}) for o in objs]
            if not self.returns_ids:
                self._assign_ids(model, instances)
            model._default_manager.bulk_create(instances)
            for obj, instance in zip(objs, instances, strict=True):
                obj.pk = instance.pk
            return
        self._assign_ids(model, objs)
        stamp = timezone.now()
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                for obj in objs:
                    setattr(obj, f.attname, stamp)
        attnames = [f.attname for f in fields]
        get = operator.attrgetter(*attnames)
        self._executemany(model, attnames, [get(obj) for obj in objs])

    def insert_rows(self, model: type[Model], attnames: tuple[str, ...], rows: list[Any]) -> None:
        """Insert plain rows (values in ``attnames`` order); their keys are not needed."""
        if not rows:
            return
        if self.fast:
            self._executemany(model, list(attnames), rows)
        else:
            model._default_manager.bulk_create(
                [model(**dict(zip(attnames, row, strict=True))) for row in rows]
            )


def generate_cases(
    n: int,
    *,
    seed: int = 20231019,
    now: dt.datetime | None = None,
    batch_size: int = 5000,
) -> GenerateReport:
    """Create ``n`` demo cases over the 12 months up to ``now`` (see the module docstring).

    Deterministic for a given seed, ``now`` and database. Each batch of ``batch_size`` cases is
    written in one transaction; the number of queries grows with the number of batches, not
    with the number of cases.
    """
    started = clock.perf_counter()
    report = GenerateReport()
    if n <= 0:
        return report
    if now is None:
        now = timezone.now()
    generator = _Generator(n, seed, now, batch_size)
    report.accounts_created = _ensure_handlers(generator.world)
    batch: list[_Draft] = []
    for draft in generator.drafts():
        batch.append(draft)
        if len(batch) >= generator.batch_size:
            generator.flush(batch, report)
            batch = []
    if batch:
        generator.flush(batch, report)
    analyze(Case, CaseEvent)
    report.seconds = clock.perf_counter() - started
    return report
