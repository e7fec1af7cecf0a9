"""社区分类 (community classification): the class list, the rule that only a community or village
has a class, the admin, the region API's field and filter, the class list endpoint and the
demo's classes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from demo.organisation import community_class, seed_organisation
from org.models import Region, RegionClass, RegionLevel
from tests.conftest import Demo
from tests.factories import RegionFactory, UserFactory, community

INITIAL = [
    ("urban", "城市社区"),
    ("suburban", "城郊社区"),
    ("rural", "农村社区"),
    ("relocation", "易地搬迁社区"),
]


def rural() -> RegionClass:
    return RegionClass.objects.get(code="rural")


# --- the model ---------------------------------------------------------------------------------


def test_the_migration_starts_the_city_with_the_issues_four_classes(db: None) -> None:
    assert list(RegionClass.objects.values_list("code", "name")) == INITIAL
    assert all(RegionClass.objects.values_list("is_active", flat=True))


def test_a_community_may_have_a_class(db: None) -> None:
    village = community()
    village.region_class = rural()
    village.full_clean()
    village.save()
    assert Region.objects.get(pk=village.pk).region_class == rural()


@pytest.mark.parametrize("level", [RegionLevel.CITY, RegionLevel.DISTRICT, RegionLevel.STREET])
def test_a_region_above_a_community_may_not(db: None, level: int) -> None:
    region = community()
    for _step in range(RegionLevel.COMMUNITY - level):
        region = region.parent
    assert region.level == level
    region.region_class = rural()
    with pytest.raises(ValidationError) as error:
        region.full_clean()
    assert error.value.message_dict == {"region_class": ["只有社区（村）可以设置社区分类。"]}
    # and the database refuses it too, whoever writes the row
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.filter(pk=region.pk).update(region_class=rural())


def test_a_class_in_use_is_protected(db: None) -> None:
    village = community()
    village.region_class = rural()
    village.save()
    with pytest.raises(ProtectedError):
        rural().delete()


# --- the admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_user(db: None):  # type: ignore[no-untyped-def]
    return UserFactory(username="class_admin", is_staff=True, is_superuser=True)


def region_form(region: Region, region_class: RegionClass | None) -> dict[str, object]:
    return {
        "name": region.name,
        "level": region.level,
        "code": region.code or "",
        "parent": region.parent_id or "",
        "lat": "",
        "lng": "",
        "region_class": region_class.pk if region_class else "",
    }


def test_the_admin_lists_and_edits_the_classes(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    page = client.get("/admin/org/regionclass/")
    assert page.status_code == 200
    assert "易地搬迁社区" in page.content.decode()
    response = client.post(
        "/admin/org/regionclass/add/",
        {"code": "pastoral", "name": "牧区社区", "sort_order": 50, "is_active": "on"},
    )
    assert response.status_code == 302
    added = RegionClass.objects.get(code="pastoral")
    assert added.history.count() == 1  # simple_history keeps who changed the list


def test_the_admin_classifies_a_community_and_refuses_a_street(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    village = community()
    response = client.post(
        f"/admin/org/region/{village.pk}/change/", region_form(village, rural())
    )
    assert response.status_code == 302, response.content.decode()
    village.refresh_from_db()
    assert village.region_class == rural()

    street = village.parent
    response = client.post(f"/admin/org/region/{street.pk}/change/", region_form(street, rural()))
    assert response.status_code == 200  # the form again, with the error
    assert "只有社区（村）可以设置社区分类。" in response.content.decode()
    street.refresh_from_db()
    assert street.region_class is None


def test_the_admin_offers_active_classes_and_the_regions_own(client: Client, admin_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin_user)
    village = community()
    village.region_class = rural()
    village.save()
    RegionClass.objects.filter(code__in=["rural", "relocation"]).update(is_active=False)
    other = community()
    offered = client.get(f"/admin/org/region/{other.pk}/change/").context["adminform"].form
    assert "农村社区" not in {c.name for c in offered.fields["region_class"].queryset}
    own = client.get(f"/admin/org/region/{village.pk}/change/").context["adminform"].form
    names = {c.name for c in own.fields["region_class"].queryset}
    assert "农村社区" in names and "易地搬迁社区" not in names


# --- the API -----------------------------------------------------------------------------------


def test_regions_carry_their_class_code_and_name(db: None, api_client: APIClient) -> None:
    village = community()
    village.region_class = rural()
    village.save()
    body = api_client.get(f"/api/v1/regions/{village.pk}/").json()
    assert (body["region_class"], body["region_class_name"]) == ("rural", "农村社区")
    street = api_client.get(f"/api/v1/regions/{village.parent_id}/").json()
    assert (street["region_class"], street["region_class_name"]) == (None, None)


def test_the_region_class_filter(db: None, api_client: APIClient) -> None:
    village, town = community(), community()
    village.region_class = rural()
    village.save()
    town.region_class = RegionClass.objects.get(code="urban")
    town.save()
    found = api_client.get("/api/v1/regions/", {"region_class": "rural", "within": village.pk})
    assert [r["id"] for r in found.json()] == [village.pk]
    everywhere = {r["id"] for r in api_client.get("/api/v1/regions/?region_class=urban").json()}
    assert town.pk in everywhere and village.pk not in everywhere
    unknown = api_client.get("/api/v1/regions/?region_class=nope")
    assert unknown.status_code == 400
    assert "region_class" in unknown.json()["fields"]


def test_the_region_list_stays_at_a_constant_number_of_queries(
    db: None, api_client: APIClient
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/v1/regions/").status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for code in ("urban", "rural", "relocation"):
        village = community()
        village.region_class = RegionClass.objects.get(code=code)
        village.save()
    assert queries() == before


def test_the_class_list_is_public_and_in_order(db: None, api_client: APIClient) -> None:
    RegionClass.objects.filter(code="relocation").update(is_active=False)
    body = api_client.get("/api/v1/region-classes/").json()
    assert [(c["code"], c["name"]) for c in body] == INITIAL
    assert [c["is_active"] for c in body] == [True, True, True, False]
    one = api_client.get("/api/v1/region-classes/rural/").json()
    assert one == {"code": "rural", "name": "农村社区", "sort_order": 30, "is_active": True}


@pytest.mark.parametrize("username", [None, "resident1", "handler_huangzhong", "committee1"])
def test_whoever_reads_regions_reads_the_classes(
    demo: Demo, api_client: APIClient, username: str | None
) -> None:
    if username:
        api_client.force_authenticate(demo.user(username))
    regions = api_client.get("/api/v1/regions/?root=true")
    classes = api_client.get("/api/v1/region-classes/")
    assert regions.status_code == classes.status_code == 200
    # read only, as the region tree is
    assert api_client.post("/api/v1/region-classes/", {"code": "x", "name": "x"}).status_code in (
        403,
        405,
    )


# --- the demo's classes ------------------------------------------------------------------------


def test_the_demo_classifies_every_community(demo: Demo) -> None:
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY)
    assert not communities.filter(region_class=None).exists()
    assert not Region.objects.exclude(level=RegionLevel.COMMUNITY).exclude(region_class=None)
    assert demo.region("城东区", "大众街街道", "康西社区").region_class.code == "urban"
    assert demo.region("湟中区", "多巴镇", "多巴一村").region_class.code == "rural"
    assert (
        demo.region("大通回族土族自治县", "桥头镇", "元朔社区").region_class.code == "relocation"
    )
    assert demo.region("大通回族土族自治县", "桥头镇", "桥头社区").region_class.code == "suburban"
    counts = {c.code: c.regions.count() for c in RegionClass.objects.all()}
    assert counts["relocation"] == 2 and all(counts.values())


@pytest.mark.parametrize(
    ("names", "code"),
    [
        (("西宁市", "城西区", "某街道", "某村"), "rural"),
        (("西宁市", "湟源县", "城关镇", "城关社区"), "suburban"),
        (("西宁市", "城北区", "某街道", "某社区"), "urban"),
        (("西宁市", "大通回族土族自治县", "城关镇", "白塔社区"), "relocation"),
    ],
)
def test_the_demo_rule(names: tuple[str, ...], code: str) -> None:
    assert community_class(names) == code


def test_the_seed_keeps_a_class_an_admin_chose(demo: Demo) -> None:
    kangxi = demo.region("城东区", "大众街街道", "康西社区")
    kangxi.region_class = rural()
    kangxi.save()
    seed_organisation()
    kangxi.refresh_from_db()
    assert kangxi.region_class == rural()


def test_a_region_made_by_the_factory_has_no_class(db: None) -> None:
    assert RegionFactory().region_class is None
