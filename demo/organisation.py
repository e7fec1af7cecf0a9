"""Demo organisation for development and tests: Xining's regions, units and demo accounts.

``seed_organisation()`` is idempotent: it finds rows by their natural keys (a region by parent
and name, a unit by code, a user by username) and only adds what is missing, so running
``seed_demo`` twice leaves one copy of everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from org.models import Membership, Region, RegionClass, RegionLevel, Role, Unit, UnitKind, User

from .geography import DISTRICT_SLUGS, community_point
from .regions_data import REGIONS

# 社区分类 of the demo communities: villages (…村)
# are rural, the other communities of the three outer districts suburban, the rest urban. The
# region data names no 易地搬迁 (relocation) community, so two towns' communities of 大通县 stand
# in for them: illustrative, not real relocation sites.
# The classes org's migration 0003 creates; the demo makes any that are missing (a test
# database emptied between tests has lost the migration's rows).
DEMO_CLASSES = [
    ("urban", "城市社区", 10),
    ("suburban", "城郊社区", 20),
    ("rural", "农村社区", 30),
    ("relocation", "易地搬迁社区", 40),
]
SUBURBAN_DISTRICTS = frozenset({"湟中区", "大通回族土族自治县", "湟源县"})
RELOCATION_COMMUNITIES = frozenset(
    {
        ("大通回族土族自治县", "桥头镇", "元朔社区"),
        ("大通回族土族自治县", "城关镇", "白塔社区"),
    }
)

DEMO_PASSWORD = "demo12345"  # noqa: S105 - development-only accounts, listed in the README

# City-level units: (code, name, kind). They sit in the city region.
CITY_UNITS: list[tuple[str, str, str]] = [
    ("xn-party", "中共西宁市委", UnitKind.PARTY_GOVERNMENT),
    ("xn-gov", "西宁市人民政府", UnitKind.PARTY_GOVERNMENT),
    ("xn-hotline", "西宁市12345政务服务便民热线中心", UnitKind.DEPARTMENT),
    ("xn-supervision", "西宁市委市政府督查室", UnitKind.DEPARTMENT),
    ("xn-housing", "西宁市住房和城乡建设局", UnitKind.DEPARTMENT),
    ("xn-planning", "西宁市自然资源和规划局", UnitKind.DEPARTMENT),
    ("xn-urban", "西宁市城市管理局", UnitKind.DEPARTMENT),
    ("xn-civil", "西宁市民政局", UnitKind.DEPARTMENT),
    ("xn-environment", "西宁市生态环境局", UnitKind.DEPARTMENT),
    ("xn-transport", "西宁市交通运输局", UnitKind.DEPARTMENT),
    ("xn-market", "西宁市市场监督管理局", UnitKind.DEPARTMENT),
    # the departments the catalogue's 权责清单 names beside them (demo.catalogue)
    ("xn-education", "西宁市教育局", UnitKind.DEPARTMENT),
    ("xn-health", "西宁市卫生健康委员会", UnitKind.DEPARTMENT),
    ("xn-medical-insurance", "西宁市医疗保障局", UnitKind.DEPARTMENT),
    ("xn-hrss", "西宁市人力资源和社会保障局", UnitKind.DEPARTMENT),
    ("xn-police", "西宁市公安局", UnitKind.DEPARTMENT),
    ("xn-emergency", "西宁市应急管理局", UnitKind.DEPARTMENT),
    ("xn-fire", "西宁市消防救援支队", UnitKind.DEPARTMENT),
    ("xn-agriculture", "西宁市农业农村局", UnitKind.DEPARTMENT),
    ("xn-forestry", "西宁市林业和草原局", UnitKind.DEPARTMENT),
    ("xn-water-affairs", "西宁市水务局", UnitKind.DEPARTMENT),
    ("xn-provident", "西宁住房公积金管理中心", UnitKind.DEPARTMENT),
    ("xn-tax", "国家税务总局西宁市税务局", UnitKind.DEPARTMENT),
    ("xn-disabled", "西宁市残疾人联合会", UnitKind.DEPARTMENT),
    ("xn-gov-service", "西宁市政务服务监督管理局", UnitKind.DEPARTMENT),
    ("xn-gas", "西宁华润燃气有限公司", UnitKind.UTILITY),
    ("xn-water", "西宁市供水(集团)有限责任公司", UnitKind.UTILITY),
    ("xn-heating", "西宁市供热有限公司", UnitKind.UTILITY),
    ("xn-power", "国网西宁供电公司", UnitKind.UTILITY),
    ("xn-bus", "西宁公交集团有限责任公司", UnitKind.UTILITY),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    # (unit, role, is_leader): a unit code, or "@district/street[/community]" for the office or
    # committee of that place (their codes hold database ids, so the seed cannot name them)
    posts: tuple[tuple[str, str, bool], ...] = ()
    superuser: bool = False
    phone: str = ""


DEMO_USERS: list[DemoUser] = [
    DemoUser("resident1", "赵先生"),
    DemoUser("resident2", "李女士"),
    DemoUser("operator1", "王接线", (("xn-hotline", Role.OPERATOR, False),)),
    DemoUser("dispatcher_city", "陈派单", (("xn-hotline", Role.DISPATCHER, False),)),
    DemoUser("dispatcher_huangzhong", "马派单", (("huangzhong-gov", Role.DISPATCHER, False),)),
    DemoUser("dispatcher_chengdong", "张派单", (("chengdong-gov", Role.DISPATCHER, False),)),
    # 分级派单: street offices dispatch their communities' matters (cases.grading)
    DemoUser("dispatcher_duoba", "多巴派单", (("@湟中区/多巴镇", Role.DISPATCHER, False),)),
    DemoUser(
        "dispatcher_dongguan", "东关派单", (("@城东区/东关大街街道", Role.DISPATCHER, False),)
    ),
    # 网格员: files what the rounds find in 多巴一村 (the page /grid/) and follows it
    DemoUser(
        "grid_duoba",
        "多巴一村网格员",
        (("@湟中区/多巴镇/多巴一村", Role.GRID_INSPECTOR, False),),
        phone="13897100101",
    ),
    DemoUser("handler_huangzhong", "韩承办", (("huangzhong-gov", Role.HANDLER, False),)),
    DemoUser("leader_huangzhong", "湟中区负责人", (("huangzhong-gov", Role.HANDLER, True),)),
    DemoUser("handler_gas", "华润燃气抢修", (("xn-gas", Role.HANDLER, False),)),
    DemoUser("handler_chengdong", "祁承办", (("chengdong-gov", Role.HANDLER, False),)),
    DemoUser("supervisor1", "刘督查", (("xn-supervision", Role.SUPERVISOR, False),)),
    DemoUser(
        "supervisor_huangzhong", "湟中督查", (("huangzhong-supervision", Role.SUPERVISOR, False),)
    ),
    DemoUser("committee1", "常委会", (("xn-party", Role.COMMITTEE, False),)),
    DemoUser("admin", "系统管理员", (("xn-gov", Role.ADMIN, False),), superuser=True),
]


@dataclass
class SeedReport:
    regions: int = 0
    units: int = 0
    users: int = 0


def _seed_regions(report: SeedReport) -> dict[tuple[str, ...], Region]:
    """Create the region tree; returns regions by their name path ('西宁市', '城东区', …)."""
    existing = {(r.parent_id, r.name): r for r in Region.objects.all()}
    by_path: dict[tuple[str, ...], Region] = {}

    def walk(node: tuple, parent: Region | None, level: int, names: tuple[str, ...]) -> None:
        name, code, children = node
        region = existing.get((parent.pk if parent else None, name))
        if region is None:
            region = Region(name=name, code=code, level=level, parent=parent)
            region.save()
            report.regions += 1
        key = (*names, name)
        by_path[key] = region
        for child in children:
            walk(child, region, level + 1, key)

    walk(REGIONS, None, RegionLevel.CITY, ())
    return by_path


def _place_communities(regions: dict[tuple[str, ...], Region]) -> None:
    """Give each community without one its point (代表点), in one bulk update."""
    unplaced = [
        (names, region)
        for names, region in regions.items()
        if region.level == RegionLevel.COMMUNITY and region.lat is None
    ]
    for names, region in unplaced:
        region.lat, region.lng = community_point(DISTRICT_SLUGS.get(names[1], ""), region.name)
    Region.objects.bulk_update([r for _n, r in unplaced], ["lat", "lng"], batch_size=500)


def community_class(names: tuple[str, ...]) -> str:
    """The demo class code of the community at ``names`` ('西宁市', district, street, name)."""
    _city, district, street, name = names
    if (district, street, name) in RELOCATION_COMMUNITIES:
        return "relocation"
    if name.endswith("村"):
        return "rural"
    return "suburban" if district in SUBURBAN_DISTRICTS else "urban"


def _classify_communities(regions: dict[tuple[str, ...], Region]) -> None:
    """Give each community without a class its demo class, in one bulk update (a class an
    admin chose is kept)."""
    for code, name, order in DEMO_CLASSES:
        RegionClass.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    classes = dict(RegionClass.objects.values_list("code", "pk"))
    unclassified = [
        (names, region)
        for names, region in regions.items()
        if region.level == RegionLevel.COMMUNITY and region.region_class_id is None
    ]
    changed = []
    for names, region in unclassified:
        region.region_class_id = classes[community_class(names)]
        changed.append(region)
    Region.objects.bulk_update(changed, ["region_class"], batch_size=500)


def _unit(
    code: str, name: str, kind: str, region: Region, parent: Unit | None, report: SeedReport
) -> Unit:
    unit, created = Unit.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "region": region, "parent": parent}
    )
    report.units += int(created)
    return unit


def _seed_units(regions: dict[tuple[str, ...], Region], report: SeedReport) -> None:
    """City units, then per district its government, 督查室 and 住建局, per street/town its
    office, per community/village its committee, each under the unit one level up."""
    children: dict[int | None, list[Region]] = {}
    for region in regions.values():
        children.setdefault(region.parent_id, []).append(region)
    city = children[None][0]
    city_gov = _unit("xn-gov", "西宁市人民政府", UnitKind.PARTY_GOVERNMENT, city, None, report)
    for code, name, kind in CITY_UNITS:
        if code != city_gov.code:
            _unit(code, name, kind, city, city_gov, report)
    for district in children.get(city.pk, []):
        slug = DISTRICT_SLUGS.get(district.name, f"district-{district.pk}")
        gov = _unit(
            f"{slug}-gov",
            f"{district.name}人民政府",
            UnitKind.PARTY_GOVERNMENT,
            district,
            city_gov,
            report,
        )
        for suffix, name in (("supervision", "督查室"), ("housing", "住房和城乡建设局")):
            _unit(
                f"{slug}-{suffix}",
                f"{district.name}{name}",
                UnitKind.DEPARTMENT,
                district,
                gov,
                report,
            )
        for street in children.get(district.pk, []):
            office_name = street.name + ("办事处" if street.name.endswith("街道") else "人民政府")
            office = _unit(
                f"{slug}-s{street.pk}", office_name, UnitKind.STREET_OFFICE, street, gov, report
            )
            for community in children.get(street.pk, []):
                committee = "居民委员会" if community.name.endswith("社区") else "村民委员会"
                _unit(
                    f"{slug}-c{community.pk}",
                    community.name + committee,
                    UnitKind.COMMUNITY_COMMITTEE,
                    community,
                    office,
                    report,
                )


def _local_units(regions: dict[tuple[str, ...], Region]) -> dict[str, Unit]:
    """The street offices and committees the posts name by place ("@湟中区/多巴镇")."""
    places = {c for d in DEMO_USERS for c, _r, _l in d.posts if c.startswith("@")}
    by_region = {regions[(REGIONS[0], *place[1:].split("/"))].pk: place for place in places}
    local = Unit.objects.filter(
        region_id__in=by_region,
        kind__in=[UnitKind.STREET_OFFICE, UnitKind.COMMUNITY_COMMITTEE],
    )
    return {by_region[unit.region_id]: unit for unit in local}


def _seed_users(regions: dict[tuple[str, ...], Region], report: SeedReport) -> None:
    units = {
        u.code: u
        for u in Unit.objects.filter(code__in={c for d in DEMO_USERS for c, _r, _l in d.posts})
    }
    units.update(_local_units(regions))
    for demo in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=demo.username,
            defaults={
                "display_name": demo.display_name,
                "phone": demo.phone,
                "is_staff": demo.superuser,
                "is_superuser": demo.superuser,
                "email": f"{demo.username}@example.invalid",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            report.users += 1
        for unit_code, role, is_leader in demo.posts:
            Membership.objects.get_or_create(
                user=user, unit=units[unit_code], role=role, defaults={"is_leader": is_leader}
            )


@transaction.atomic
def seed_organisation() -> SeedReport:
    """Create (or complete) the demo regions, units and accounts. Safe to run again."""
    report = SeedReport()
    regions = _seed_regions(report)
    _place_communities(regions)
    _classify_communities(regions)
    _seed_units(regions, report)
    _seed_users(regions, report)
    return report
