"""Demo reference data for the case workflow: categories with their SLAs, and the 权责清单.

Idempotent like ``demo.organisation``: rows are found by code (categories) or by category and owner
(responsibilities).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from django.db import transaction
from django.utils import timezone

from cases import workflow
from cases.models import OPEN_STATUSES, Case, Category, Channel, Responsibility, Status, TimeUnit
from org.models import Region, RegionLevel, Unit, UnitKind, User

H, WH, WD = TimeUnit.CLOCK_HOURS, TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS
MIN = TimeUnit.CLOCK_MINUTES


@dataclass(frozen=True)
class DemoCategory:
    code: str
    name: str
    parent: str | None = None
    urgent: bool = False
    contact: tuple[int, str] = (1, WD)
    resolve: tuple[int, str] = (7, WD)
    offered: bool = True  # Category.offered_to_residents
    # Open311 attributes: the facts this kind of matter asks for beyond the description.
    attributes: tuple[dict[str, Any], ...] = ()


class _Urgency(TypedDict):
    """The keyword arguments ``URGENT`` spreads into a ``DemoCategory`` (typed for mypy)."""

    urgent: bool
    contact: tuple[int, str]
    resolve: tuple[int, str]


URGENT: _Urgency = {"urgent": True, "contact": (2, H), "resolve": (24, H)}

# A cold home is more urgent where the old or the very young live (Open311 service definition).
HEATING_FACTS: tuple[dict[str, Any], ...] = (
    {"code": "room_temperature", "datatype": "number", "required": False, "order": 1,
     "description": "室内温度（℃）"},
    {"code": "vulnerable_affected", "datatype": "singlevaluelist", "required": True, "order": 2,
     "description": "家中是否有老人或婴幼儿受影响？",
     "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}]},
)  # fmt: skip

CATEGORIES: list[DemoCategory] = [
    DemoCategory("heating", "供暖", **URGENT, attributes=HEATING_FACTS),
    DemoCategory("heating-cold", "供暖不热", "heating", **URGENT, attributes=HEATING_FACTS),
    DemoCategory("heating-leak", "供暖管道漏水", "heating", **URGENT, attributes=HEATING_FACTS),
    DemoCategory("water", "供水", **URGENT),
    DemoCategory("water-outage", "停水", "water", **URGENT),
    DemoCategory("water-quality", "水质问题", "water", **URGENT),
    DemoCategory("gas", "燃气", **URGENT),
    DemoCategory("gas-leak", "燃气泄漏", "gas", **URGENT),
    DemoCategory("gas-outage", "燃气停供", "gas", **URGENT),
    DemoCategory("power", "供电", **URGENT),
    DemoCategory("property", "物业", resolve=(7, WD)),
    DemoCategory("property-service", "物业服务", "property"),
    DemoCategory("property-elevator", "电梯故障", "property", resolve=(3, WD)),
    DemoCategory("real-estate", "不动产登记", resolve=(15, WD)),
    DemoCategory("noise", "噪音"),
    DemoCategory("sanitation", "环境卫生"),
    DemoCategory("roads", "道路"),
    DemoCategory("roads-damage", "道路破损", "roads"),
    DemoCategory("roads-lights", "路灯不亮", "roads", resolve=(3, WD)),
    DemoCategory("social", "民政服务"),
    DemoCategory("market", "市场监管"),
    DemoCategory("consult", "政策咨询", contact=(1, WD), resolve=(1, WD)),
    # A drill with minute deadlines, so `make run` shows supervision at work within minutes;
    # operators log it, residents and Open311 clients are never offered it.
    DemoCategory(
        "drill", "应急演练（演示）", urgent=True, contact=(2, MIN), resolve=(4, MIN), offered=False
    ),
]

# (category code, region level, unit kind or "", named unit code or "", co-unit codes, note)
RESPONSIBILITIES: list[tuple[str, int, str, str, tuple[str, ...], str]] = [
    ("heating", RegionLevel.DISTRICT, UnitKind.PARTY_GOVERNMENT, "", ("xn-gas",),
     "供暖属地管理：区（县）政府牵头，燃气企业配合抢修"),
    ("heating", RegionLevel.CITY, "", "xn-heating", (), "集中供热管网：市供热公司"),
    ("water", RegionLevel.CITY, "", "xn-water", (), "供水企业"),
    ("gas", RegionLevel.CITY, "", "xn-gas", (), "燃气企业"),
    ("power", RegionLevel.CITY, "", "xn-power", (), "供电企业"),
    ("property", RegionLevel.STREET, UnitKind.STREET_OFFICE, "", (), "物业纠纷：属地街道（乡镇）"),
    # 分级派单: a community matter, so its street's dispatcher dispatches it (cases.grading)
    ("property-service", RegionLevel.COMMUNITY, UnitKind.COMMUNITY_COMMITTEE, "", (),
     "小区物业服务：社区（村）委员会先行协调"),
    ("property-elevator", RegionLevel.CITY, "", "xn-market", (), "特种设备：市场监管部门"),
    ("real-estate", RegionLevel.CITY, "", "xn-planning", ("xn-housing",),
     "不动产登记：自然资源和规划局，住建局配合"),
    ("noise", RegionLevel.DISTRICT, UnitKind.PARTY_GOVERNMENT, "", ("xn-environment",),
     "噪音扰民：属地政府，生态环境部门配合"),
    ("sanitation", RegionLevel.STREET, UnitKind.STREET_OFFICE, "", ("xn-urban",),
     "环境卫生：属地街道，城管配合"),
    ("roads", RegionLevel.CITY, "", "xn-urban", ("xn-transport",), "市政道路：城市管理局"),
    ("social", RegionLevel.STREET, UnitKind.STREET_OFFICE, "", ("xn-civil",),
     "民政服务：属地街道，民政局配合"),
    ("market", RegionLevel.CITY, "", "xn-market", (), "市场监管"),
    ("consult", RegionLevel.CITY, "", "xn-hotline", (), "政策咨询：热线即时答复"),
]  # fmt: skip


@transaction.atomic
def seed_reference() -> tuple[int, int]:
    """Create the demo categories and responsibilities; returns how many of each were added.
    An existing category keeps its settings except whether residents are offered it, which
    follows ``CATEGORIES`` (a demo database seeded before the drill was withheld gets it)."""
    added_categories = 0
    by_code = {c.code: c for c in Category.objects.all()}
    for demo in CATEGORIES:
        if demo.code in by_code:
            existing = by_code[demo.code]
            if existing.offered_to_residents != demo.offered:
                existing.offered_to_residents = demo.offered
                existing.save(update_fields=["offered_to_residents"])
            continue
        by_code[demo.code] = Category.objects.create(
            code=demo.code,
            name=demo.name,
            parent=by_code[demo.parent] if demo.parent else None,
            is_urgent=demo.urgent,
            contact_amount=demo.contact[0],
            contact_unit=demo.contact[1],
            resolve_amount=demo.resolve[0],
            resolve_unit=demo.resolve[1],
            open311_attributes=list(demo.attributes),
            offered_to_residents=demo.offered,
        )
        added_categories += 1
    units = {u.code: u for u in Unit.objects.all()}
    added_rules = 0
    for code, level, kind, unit_code, co_codes, note in RESPONSIBILITIES:
        category = by_code[code]
        unit = units.get(unit_code) if unit_code else None
        rule, created = Responsibility.objects.get_or_create(
            category=category,
            region_level=level,
            unit_kind=kind,
            unit=unit,
            defaults={"note": note, "priority": 10 if kind else 20},
        )
        if created:
            rule.co_units.set([units[c] for c in co_codes])
            added_rules += 1
    return added_categories, added_rules


def seed_live_case() -> Case:
    """A drill case logged by the hotline and dispatched to 湟中区 now, through the workflow,
    with minute deadlines: the supervision scan turns it 预警 (yellow) after three minutes and
    超期 (red) after four, and handler_huangzhong's inbox gets each reminder. The complainant
    is plainly fictional: the real 赵先生 case of 2023-10-19 is in the archive
    (``demo.archive``)."""
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_ACTORS)}
    region = Region.objects.get(name="多巴一村", parent__name="多巴镇")
    # Logged by an operator: residents are never offered the drill category.
    case = workflow.case_submit(
        actor=users["operator1"],
        channel=Channel.PHONE,
        category=Category.objects.get(code="drill"),
        region=region,
        title="演练：管道破损停暖",
        description="应急演练（演示数据）：演练用地址附近供暖管道破损，多户停暖。",
        complainant_name="演练人员",
        complainant_phone="13800138000",
        address="演练点1号",
    )
    workflow.case_accept(case=case, actor=users["operator1"])
    workflow.case_dispatch(
        case=case,
        actor=users["dispatcher_huangzhong"],
        lead_unit=Unit.objects.get(code="huangzhong-gov"),
    )
    workflow.case_sign(case=case, actor=users["handler_huangzhong"])
    # The unit calls at once, so the case is chased only for its resolve deadline: 预警, then 超期.
    workflow.case_record_contact(case=case, actor=users["handler_huangzhong"], note="演练")
    case.refresh_from_db()
    return case


def open_drill_today() -> Case | None:
    """Today's drill case while it is still open (not yet evaluated or archived)."""
    today = timezone.localdate()
    return (
        Case.objects.filter(
            category__code="drill",
            status__in=OPEN_STATUSES,
            created_at__date=today,
        )
        .exclude(status=Status.EVALUATED)
        .order_by("-created_at")
        .first()
    )


def live_case() -> tuple[Case, bool]:
    """``seed_demo --live-case``, which ``make run`` passes on every start: today's open drill
    case if there is one, else a new one (``True``). A restart does not pile up drills, and
    each day (or after the drill is closed) the scan can be watched at work again."""
    existing = open_drill_today()
    if existing is not None:
        return existing, False
    return seed_live_case(), True


DEMO_ACTORS = ["operator1", "dispatcher_huangzhong", "handler_huangzhong"]
