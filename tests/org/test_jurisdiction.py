"""Region tree queries, membership roles and the jurisdiction helper."""

from __future__ import annotations

import pytest

from org import jurisdiction
from org.models import Region, RegionLevel, Role
from tests.conftest import Demo
from tests.factories import MembershipFactory, RegionFactory, UnitFactory, UserFactory


@pytest.fixture
def tree(db: None) -> dict[str, Region]:
    """A small tree: city → two districts → a street each → a community each."""
    city = RegionFactory(name="测试市")
    east = RegionFactory(name="东区", parent=city)
    west = RegionFactory(name="西区", parent=city)
    east_street = RegionFactory(name="东街道", parent=east)
    west_street = RegionFactory(name="西街道", parent=west)
    return {
        "city": city,
        "east": east,
        "west": west,
        "east_street": east_street,
        "west_street": west_street,
        "east_community": RegionFactory(name="东社区", parent=east_street),
        "west_community": RegionFactory(name="西社区", parent=west_street),
    }


class TestRegionTree:
    def test_path_holds_the_ancestors(self, tree: dict[str, Region]) -> None:
        community = tree["east_community"]
        assert community.ancestor_ids == [
            tree["city"].pk,
            tree["east"].pk,
            tree["east_street"].pk,
            community.pk,
        ]
        assert community.level == RegionLevel.COMMUNITY

    def test_subtree_query_keeps_only_descendants(self, tree: dict[str, Region]) -> None:
        east = tree["east"]
        subtree = set(Region.objects.filter(path__startswith=east.path))
        assert subtree == {east, tree["east_street"], tree["east_community"]}

    def test_is_within(self, tree: dict[str, Region]) -> None:
        assert tree["east_community"].is_within(tree["east"])
        assert tree["east_community"].is_within(tree["east_community"])
        assert not tree["east_community"].is_within(tree["west"])
        assert not tree["east"].is_within(tree["east_community"])

    def test_sibling_ids_sharing_a_prefix_are_not_confused(self, db: None) -> None:
        # Given regions 1x and 1xy style ids, "/1/" must not match "/12/": the path ends in "/".
        city = RegionFactory(name="前缀市")
        districts = [RegionFactory(name=f"区{i}", parent=city) for i in range(12)]
        first = districts[0]
        assert list(Region.objects.filter(path__startswith=first.path)) == [first]

    def test_level_must_follow_parent(self, tree: dict[str, Region]) -> None:
        with pytest.raises(ValueError, match="level"):
            Region(name="错层", level=RegionLevel.COMMUNITY, parent=tree["east"]).save()

    def test_full_name_reads_like_an_address(self, demo: Demo) -> None:
        kangxi = demo.region("城东区", "大众街街道", "康西社区")
        assert kangxi.full_name() == "城东区大众街街道康西社区"


class TestRoles:
    def test_anonymous_has_no_role(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        assert jurisdiction.roles_of(AnonymousUser()) == set()

    def test_user_without_membership_is_a_resident(self, db: None) -> None:
        assert jurisdiction.roles_of(UserFactory()) == {Role.RESIDENT}

    def test_roles_come_from_memberships(self, db: None) -> None:
        user = UserFactory()
        MembershipFactory(user=user, role=Role.DISPATCHER)
        MembershipFactory(user=user, role=Role.HANDLER)
        assert jurisdiction.roles_of(user) == {Role.DISPATCHER, Role.HANDLER}

    def test_inactive_unit_gives_no_role(self, db: None) -> None:
        user = UserFactory()
        MembershipFactory(user=user, role=Role.HANDLER, unit=UnitFactory(is_active=False))
        assert jurisdiction.roles_of(user) == {Role.RESIDENT}

    def test_demo_accounts_have_their_roles(self, demo: Demo) -> None:
        expected = {
            "resident1": {Role.RESIDENT},
            "operator1": {Role.OPERATOR},
            "dispatcher_city": {Role.DISPATCHER},
            "dispatcher_huangzhong": {Role.DISPATCHER},
            "handler_huangzhong": {Role.HANDLER},
            "handler_gas": {Role.HANDLER},
            "handler_chengdong": {Role.HANDLER},
            "supervisor1": {Role.SUPERVISOR},
            "committee1": {Role.COMMITTEE},
            "admin": {Role.ADMIN},
        }
        actual = {name: jurisdiction.roles_of(demo.user(name)) for name in expected}
        assert actual == expected

    def test_membership_role_cannot_be_resident(self, db: None) -> None:
        from django.db import IntegrityError

        with pytest.raises(IntegrityError):
            MembershipFactory(role=Role.RESIDENT)


class TestMayAct:
    @pytest.mark.parametrize(
        ("unit_region", "target", "allowed"),
        [
            ("east", "east", True),
            ("east", "east_street", True),
            ("east", "east_community", True),
            ("east", "west_community", False),
            ("east", "city", False),
            ("east_street", "east", False),
            ("city", "west_community", True),
        ],
    )
    def test_jurisdiction_is_the_unit_region_subtree(
        self, tree: dict[str, Region], unit_region: str, target: str, allowed: bool
    ) -> None:
        membership = MembershipFactory(
            role=Role.DISPATCHER, unit=UnitFactory(region=tree[unit_region])
        )
        assert jurisdiction.may_act(membership.user, tree[target], Role.DISPATCHER) is allowed

    def test_other_role_in_the_same_unit_does_not_count(self, tree: dict[str, Region]) -> None:
        membership = MembershipFactory(role=Role.HANDLER, unit=UnitFactory(region=tree["east"]))
        assert not jurisdiction.may_act(membership.user, tree["east"], Role.DISPATCHER)
        assert jurisdiction.may_act(membership.user, tree["east"], Role.HANDLER)

    def test_anonymous_may_not_act(self, tree: dict[str, Region]) -> None:
        from django.contrib.auth.models import AnonymousUser

        assert not jurisdiction.may_act(AnonymousUser(), tree["east"], Role.RESIDENT)

    def test_chengdong_handler_is_refused_in_huangzhong(self, demo: Demo) -> None:
        handler = demo.user("handler_chengdong")
        duoba_yi = demo.region("湟中区", "多巴镇", "多巴一村")
        kangxi = demo.region("城东区", "大众街街道", "康西社区")
        assert not jurisdiction.may_act(handler, duoba_yi, Role.HANDLER)
        assert jurisdiction.may_act(handler, kangxi, Role.HANDLER)

    def test_huangzhong_dispatcher_reaches_duoba_yi_but_not_chengdong(self, demo: Demo) -> None:
        dispatcher = demo.user("dispatcher_huangzhong")
        assert jurisdiction.may_act(
            dispatcher, demo.region("湟中区", "多巴镇", "多巴一村"), Role.DISPATCHER
        )
        assert not jurisdiction.may_act(dispatcher, demo.region("城东区"), Role.DISPATCHER)

    def test_city_dispatcher_reaches_every_district(self, demo: Demo) -> None:
        dispatcher = demo.user("dispatcher_city")
        districts = Region.objects.filter(level=RegionLevel.DISTRICT)
        assert districts.count() == 7
        assert all(jurisdiction.may_act(dispatcher, d, Role.DISPATCHER) for d in districts)

    def test_region_filter_scopes_a_queryset(self, demo: Demo) -> None:
        handler = demo.user("handler_chengdong")
        visible = Region.objects.filter(
            jurisdiction.region_filter(handler, [Role.HANDLER], "parent")
        )
        assert visible.exists()
        assert all(r.path.startswith(demo.region("城东区").path) for r in visible)
        none = Region.objects.filter(
            jurisdiction.region_filter(handler, [Role.SUPERVISOR], "parent")
        )
        assert not none.exists()

    def test_superuser_acts_as_admin_anywhere(self, demo: Demo) -> None:
        assert jurisdiction.may_act(demo.user("admin"), demo.region("湟源县"), Role.ADMIN)
