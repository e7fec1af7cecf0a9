"""seed_demo: believable, complete and idempotent."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from demo.geography import DISTRICT_SLUGS, district_outlines, inside
from demo.organisation import DEMO_PASSWORD, DEMO_USERS
from org.models import Membership, Region, RegionLevel, Unit, User
from tests.conftest import Demo


def counts() -> tuple[int, int, int, int]:
    return (
        Region.objects.count(),
        Unit.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )


def test_running_twice_adds_nothing(demo: Demo) -> None:
    call_command("seed_demo", stdout=StringIO())  # the topics' demo accounts on the first run
    before = counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert "0 regions, 0 units, 0 users added" in out.getvalue()
    assert "0 categories, 0 responsibilities added" in out.getvalue()


@pytest.mark.parametrize(
    "names",
    [
        ("城东区", "大众街街道", "康西社区"),
        ("城东区", "清真巷街道", "团结社区"),
        ("城东区", "八一路街道", "博雅路南社区"),
        ("湟中区", "多巴镇", "多巴一村"),
    ],
)
def test_places_named_by_the_design_exist(demo: Demo, names: tuple[str, ...]) -> None:
    assert demo.region(*names).level == RegionLevel.COMMUNITY


def test_every_street_has_communities_and_every_community_a_committee(demo: Demo) -> None:
    streets = Region.objects.filter(level=RegionLevel.STREET)
    assert streets.count() >= 60
    assert not streets.filter(children__isnull=True).exists()
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY)
    assert not communities.filter(units__isnull=True).exists()


def test_required_departments_and_utilities(demo: Demo) -> None:
    names = set(Unit.objects.values_list("name", flat=True))
    for fragment in [
        "住房和城乡建设局",
        "自然资源和规划局",
        "城市管理局",
        "民政局",
        "12345",
        "督查室",
        "华润燃气",
        "供水",
        "供热",
        "供电",
        "湟中区人民政府",
        "城东区人民政府",
    ]:
        assert any(fragment in name for name in names), fragment


def test_demo_accounts_sign_in_with_the_demo_password(demo: Demo) -> None:
    for demo_user in DEMO_USERS:
        assert authenticate(username=demo_user.username, password=DEMO_PASSWORD), demo_user


def test_named_accounts_sit_in_the_named_units(demo: Demo) -> None:
    def units(username: str) -> set[str]:
        return set(demo.user(username).memberships.values_list("unit__name", flat=True))

    assert units("handler_huangzhong") == {"湟中区人民政府"}
    assert units("handler_gas") == {"西宁华润燃气有限公司"}
    assert units("handler_chengdong") == {"城东区人民政府"}


def test_negative_case_count_is_refused(demo: Demo) -> None:
    with pytest.raises(CommandError, match="zero or more"):
        call_command("seed_demo", "--cases", "-1", stdout=StringIO())


def test_every_community_has_a_point_inside_its_district(demo: Demo) -> None:
    outlines = district_outlines()
    assert outlines, "npm run vendor puts the district outlines in static/vendor"
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY)
    districts = dict(Region.objects.filter(level=RegionLevel.DISTRICT).values_list("pk", "name"))
    for community in communities:
        assert community.lat is not None and community.lng is not None, community.name
        slug = DISTRICT_SLUGS[districts[community.ancestor_ids[1]]]
        assert inside(outlines[slug], float(community.lng), float(community.lat)), community.name


def test_full_names_read_many_regions_as_full_name_reads_one(
    demo: Demo, django_assert_num_queries: Any
) -> None:
    regions = [
        Region.objects.get(parent=None),
        demo.region("城东区"),
        demo.region("城东区", "大众街街道"),
        demo.region("城东区", "大众街街道", "康西社区"),
        demo.region("湟中区", "多巴镇", "多巴一村"),
    ]
    with django_assert_num_queries(2):
        names = Region.full_names(r.pk for r in regions)
    assert names == {r.pk: r.full_name() for r in regions}
    assert names[regions[3].pk] == "城东区大众街街道康西社区"
    assert names[regions[0].pk] == "西宁市"
