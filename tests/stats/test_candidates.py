"""未诉先办: topic candidates from the case clusters, and "adopt as topic" from a candidate."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db.models import Max
from django.utils import timezone

from cases.models import Case, CaseEvent, Category, EventType
from org.models import Region
from stats import dashboards as stats
from stats.rollup import refresh_rollup
from tests.conftest import Demo
from tests.stats.conftest import get
from topics.models import Topic, TopicEvent, TopicStatus

pytestmark = pytest.mark.django_db


def plant(
    street: Region, category: Category, days_ago: list[float], phones: list[str], code: str
) -> list[Case]:
    """Cases (with their submit events) in one street and category, ``days_ago`` old."""
    community = street.children.first()
    now = timezone.now()
    cases = [
        Case(
            tracking_code=f"XN-{code}-{i:04d}",
            channel="phone",
            category=category,
            region=community,
            district=street.parent,
            street=street,
            dispatch_region=street.parent,
            title="暖气不热" if category.code.startswith("heating") else "诉求",
            description="家里暖气不热。",
            complainant_name="王某",
            complainant_phone=phones[i % len(phones)],
            created_at=now - dt.timedelta(days=ago),
        )
        for i, ago in enumerate(days_ago)
    ]
    Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create(
        CaseEvent(case=c, type=EventType.SUBMIT, payload={}, created_at=c.created_at)
        for c in cases
    )
    return cases


def plant_heating_and_a_steady_cluster(data: Demo) -> tuple[Region, Category]:
    """30 heating complaints in 城东区大众街街道 in the last two weeks, 4 in the two before;
    and a steady cluster as large (30 water complaints in 城中区 now, 30 before) that a count
    alone could not tell from it."""
    rng = random.Random(4)
    street = data.region("城东区", "大众街街道")
    heating = data.category("heating-cold")
    phones = ["13900000001", "13900000002"] + [f"1380000{i:04d}" for i in range(40)]
    now_days = [rng.uniform(0, 13) for _ in range(30)]
    plant(street, heating, now_days[:8], phones[:4], "HEAT")  # two callers, twice each
    plant(street, heating, now_days[8:], phones[4:], "HEAT2")
    plant(street, heating, [rng.uniform(14.5, 27) for _ in range(4)], phones[30:], "HEAT0")
    water_street = Region.objects.filter(parent=data.region("城中区")).order_by("pk").first()
    water = data.category("water-outage")
    steady = [f"1370000{i:04d}" for i in range(60)]
    plant(water_street, water, [rng.uniform(0, 13) for _ in range(30)], steady[:30], "WAT")
    plant(water_street, water, [rng.uniform(14.5, 27) for _ in range(30)], steady[30:], "WAT0")
    refresh_rollup()
    return street, heating


def test_a_planted_heating_cluster_is_the_first_candidate(api_client, data, superuser) -> None:
    # Given a growing heating cluster in one street and a steady cluster as large elsewhere
    street, heating = plant_heating_and_a_steady_cluster(data)

    # When the committee asks for the candidates of the last two weeks
    body = get(api_client, data.user("committee1"), "/api/v1/topics/candidates/", weeks=2).json()

    # Then the heating cluster in 大众街街道 comes first, with its growth and evidence
    top = body["results"][0]
    assert (top["category"]["id"], top["street"]["id"]) == (heating.pk, street.pk)
    background = Case.objects.filter(
        category=heating, street=street, created_at__gte=stats_start(2)
    ).count()
    assert top["count"] == background  # the 30 planted and any generated ones
    assert top["count"] >= 30 and top["previous"] >= 4
    assert top["growth"] == round((top["count"] - top["previous"]) / top["previous"], 4)
    assert top["repeat_complainants"] >= 2
    assert len(top["sample_cases"]) == 5
    assert sum(w["count"] for w in top["weekly"]) == top["count"]
    # and the steady cluster, as large, ranks below it: growth counts, not only size
    water = next(r for r in body["results"] if r["category"]["name"] == "停水")
    assert water["count"] >= 30 and water["growth"] is not None and water["growth"] <= 0.5
    assert water["score"] < top["score"]


def stats_start(weeks: int) -> dt.datetime:
    start = timezone.localdate() - dt.timedelta(days=7 * weeks - 1)
    return dt.datetime.combine(start, dt.time(), tzinfo=timezone.get_current_timezone())


def test_candidate_ratings_are_those_of_the_period(api_client, data, superuser) -> None:
    # Given cases rated before the last four weeks and rated again within them (the rollup keeps
    # correction rows for such cases, which start before the period)
    rated = list(
        Case.objects.filter(events__type=EventType.EVALUATE).order_by("pk").distinct()[:40]
    )
    now = timezone.now()
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=c,
            type=EventType.EVALUATE,
            unit_id=c.lead_unit_id,
            payload={"rating": "unsatisfied" if i % 2 else "satisfied"},
            created_at=now - dt.timedelta(days=1 + i % 20),
        )
        for i, c in enumerate(rated)
    )
    refresh_rollup()
    assert rated

    # When the candidates of four weeks are read
    body = get(api_client, superuser, "/api/v1/topics/candidates/", weeks=4, limit=50).json()

    # Then each cluster's ratings are the rollup's for exactly that period, and its previous
    # count is the period before
    end = timezone.localdate()
    start = end - dt.timedelta(days=27)
    current = {
        (r["category_id"], r["street_id"]): r
        for r in stats.grouped(stats.rows(superuser, start, end), "category_id", "street_id")
    }
    before = {
        (r["category_id"], r["street_id"]): r
        for r in stats.grouped(
            stats.rows(superuser, start - dt.timedelta(days=28), start - dt.timedelta(days=1)),
            "category_id",
            "street_id",
        )
    }
    assert body["results"]
    for r in body["results"]:
        key = (r["category"]["id"], r["street"]["id"])
        want = current[key]
        assert r["count"] == want["created"]
        assert r["evaluated"] == want["evaluated"]
        assert r["satisfaction_rate"] == stats._share(want["satisfied"], want["evaluated"])
        assert r["previous"] == (before[key]["created"] if key in before else 0)
    assert any(r["evaluated"] for r in body["results"])


# --- "adopt as topic" -------------------------------------------------------------------------

ADOPT = "/api/v1/topics/candidates/adopt/"


def adopt_body(data: Demo, street: Region, category: Category, **extra):  # type: ignore[no-untyped-def]
    return {
        "title": "大众街街道供暖不热问题",
        "month": (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).isoformat(),
        "theme": "basic_support",
        "lead_unit": data.unit("xn-heating").pk,
        "problem": "最近两周供暖不热诉求集中。",
        "category": category.pk,
        "street": street.pk,
        "weeks": 2,
        **extra,
    }


def post(client, user, body):  # type: ignore[no-untyped-def]
    client.force_authenticate(user)
    return client.post(ADOPT, body, format="json")


def test_adopt_as_topic_links_the_clusters_cases(api_client, data) -> None:
    # Given the planted heating cluster
    street, heating = plant_heating_and_a_steady_cluster(data)
    committee = data.user("committee1")

    # When the committee adopts it as a topic
    response = post(api_client, committee, adopt_body(data, street, heating))

    # Then a candidate topic exists, linked to every case of the cluster in the window, to the
    # category and to the street, with one creation event
    assert response.status_code == 201, response.content
    body = response.json()
    topic = Topic.objects.get(pk=body["id"])
    assert topic.status == TopicStatus.CANDIDATE
    cluster = set(
        Case.objects.filter(
            category=heating, street=street, created_at__gte=stats_start(2)
        ).values_list("pk", flat=True)
    )
    assert set(topic.cases.values_list("pk", flat=True)) == cluster
    assert len(cluster) >= 30
    assert not topic.cases.filter(tracking_code__startswith="XN-HEAT0-").exists()  # older
    assert list(topic.categories.all()) == [heating]
    assert list(topic.regions.all()) == [street]
    assert {c["id"] for c in body["cases"]} == cluster
    assert TopicEvent.objects.filter(topic=topic).count() == 1


@pytest.mark.parametrize("username", ["resident1", "handler_chengdong", "dispatcher_city"])
def test_only_the_committee_supervisors_and_admins_may_adopt(api_client, data, username) -> None:
    street, heating = plant_heating_and_a_steady_cluster(data)
    response = post(api_client, data.user(username), adopt_body(data, street, heating))
    assert response.status_code == 403, response.content
    assert not Topic.objects.filter(title="大众街街道供暖不热问题").exists()


def test_a_district_supervisor_may_not_adopt_cases_they_cannot_see(api_client, data) -> None:
    # Given the 湟中区 supervisor and a cluster in 城东区
    street, heating = plant_heating_and_a_steady_cluster(data)
    response = post(
        api_client, data.user("supervisor_huangzhong"), adopt_body(data, street, heating)
    )
    # Then nothing they cannot see is linked: there is no cluster for them, and no topic
    assert response.status_code == 400, response.content
    assert "street" in response.json()["fields"]
    assert not Topic.objects.filter(title="大众街街道供暖不热问题").exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"street": "district"}, "street"),  # not a street
        ({"category": "empty"}, "street"),  # no cases in the window
        ({"weeks": 0}, "weeks"),
        ({"title": ""}, "title"),
        ({"theme": "nope"}, "theme"),
        ({"lead_unit": None}, "lead_unit"),
    ],
)
def test_bad_adopt_input_is_400_and_creates_nothing(api_client, data, change, field) -> None:
    street, heating = plant_heating_and_a_steady_cluster(data)
    body = adopt_body(data, street, heating)
    for key, value in change.items():
        if value == "district":
            value = street.parent.pk
        elif value == "empty":  # a category with no case in the street
            value = Category.objects.exclude(cases__street=street).values_list("pk", flat=True)[0]
        body[key] = value
    before = Topic.objects.aggregate(m=Max("pk"))["m"]
    response = post(api_client, data.user("committee1"), body)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert Topic.objects.aggregate(m=Max("pk"))["m"] == before
