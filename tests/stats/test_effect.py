"""成效: a topic's figures before and since adoption equal the case counts and ``compute_rates``
over the same windows on random data; a drop planted after adoption is an effect, the same drop
every year (the season) is not; the API answers whoever may read the topic."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db.models import Q
from rest_framework.test import APIClient

from cases import workflow as case_workflow
from cases.models import Case, Category
from demo.history import generate_cases
from org.models import Region, User
from stats import effect
from stats.rates import compute_rates
from stats.rollup import refresh_rollup
from tests.conftest import Demo
from tests.stats.conftest import NOW, local_midnight
from tests.stats.test_rollup import RATE_COUNTERS
from topics import workflow as topic_workflow
from topics.models import Topic, TopicStatus

WINDOW_COUNTERS = (*RATE_COUNTERS, "rejected", "closed")


def adopt(demo: Demo, make_topic: Callable[..., Topic], on: dt.date, **fields: Any) -> Topic:
    topic = make_topic(TopicStatus.CANDIDATE, **fields)
    topic_workflow.topic_adopt(topic=topic, actor=demo.user("committee1"), adopted_on=on)
    topic.refresh_from_db()
    return topic


def area_q(categories: list[int], regions: list[Region]) -> Q:
    where = Q()
    for region in regions:
        where |= Q(district_id=region.pk)
    return Q(category_id__in=categories) & where


def cases_in(q: Q, start: dt.date, end: dt.date) -> list[Case]:
    return list(
        Case.objects.filter(
            q,
            created_at__gte=local_midnight(start),
            created_at__lt=local_midnight(end + dt.timedelta(days=1)),
        )
    )


def rates_of(user: User, q: Q, start: dt.date, end: dt.date) -> dict[str, int]:
    rows = compute_rates(
        user,
        start=local_midnight(start),
        end=local_midnight(end + dt.timedelta(days=1)),
        group_by="district",
        cases=q,
    )
    return {name: sum(int(r[name]) for r in rows) for name in RATE_COUNTERS}  # type: ignore[call-overload]


@pytest.mark.parametrize(("seed", "district"), [(3, "城东区"), (8, None)])
def test_effect_numbers_equal_counts_and_compute_rates_on_random_data(
    superuser: User,
    demo: Demo,
    make_topic: Callable[..., Topic],
    seed: int,
    district: str | None,
) -> None:
    # Given a year of generated cases, folded into the rollup
    generate_cases(400, now=NOW, seed=seed, batch_size=200)
    refresh_rollup()
    # and a topic on heating (with its subcategories) and property, adopted ten weeks ago
    regions = [demo.region(district)] if district else []
    adopted = NOW.date() - dt.timedelta(days=70)
    topic = adopt(
        demo,
        make_topic,
        adopted,
        categories=[demo.category("heating"), demo.category("property")],
        regions=regions,
    )
    # When its effect is read with eight weeks before
    data = effect.topic_effect(topic, weeks=8, today=NOW.date())
    heating = set(Category.objects.filter(parent__code="heating").values_list("pk", flat=True))
    categories = sorted({demo.category("heating").pk, demo.category("property").pk} | heating)
    children = set(Category.objects.filter(parent_id__in=categories).values_list("pk", flat=True))
    categories = sorted(set(categories) | children)
    assert [c["id"] for c in data["categories"]] == categories
    q = area_q(categories, regions)
    # Then every week's complaints are the cases received that week
    assert data["weekly"][0]["start"] == adopted - dt.timedelta(weeks=8)
    for week in data["weekly"]:
        assert week["created"] == len(cases_in(q, week["start"], week["end"])), week
        assert week["after"] == (week["start"] >= adopted)
    assert data["weekly"][-1]["end"] == NOW.date()
    # and each window's counters are compute_rates' for the area's cases over it
    for name, (start, end) in {
        "before": (adopted - dt.timedelta(weeks=8), adopted - dt.timedelta(days=1)),
        "since": (adopted, NOW.date()),
    }.items():
        window = data[name]
        assert (window["start"], window["end"]) == (start, end)
        received = cases_in(q, start, end)
        assert window["created"] == len(received)
        assert window["repeat_end"] == start + dt.timedelta(weeks=8, days=-1)
        assert {c: window[c] for c in RATE_COUNTERS} == rates_of(superuser, q, start, end)
        dispatched, responded = window["dispatched"], window["responded"]
        expected = round(responded / dispatched, 4) if dispatched else None
        assert window["response_rate"] == expected
        # and the repeat complainants are the phone numbers with two complaints or more, over
        # the eight weeks from the window's start on both sides
        phones = Counter(c.complainant_phone for c in cases_in(q, start, window["repeat_end"]))
        repeats = [n for n in phones.values() if n >= 2]
        assert window["repeat_complainants"] == len(repeats)
        assert window["repeat_cases"] == sum(repeats)
    # (and the windows held cases and rates: the comparison was not of zeros)
    assert data["before"]["created"] and data["since"]["created"]
    assert data["since"]["dispatched"] and data["since"]["evaluated"]


# --- planted changes --------------------------------------------------------------------------

ADOPTED = dt.date(2025, 3, 3)  # a Monday
WEEKS = 8


def plant(region: Region, category: Category, first: dt.date, per_week: list[int]) -> None:
    """Complaints submitted on the given weeks from ``first``: ``per_week[i]`` in week i, on
    its days in turn at 10:00, each by a new phone number."""
    operator = User.objects.get(username="operator1")
    n = Case.objects.count()
    for week, count in enumerate(per_week):
        for k in range(count):
            day = first + dt.timedelta(weeks=week, days=k % 7)
            n += 1
            moment = local_midnight(day) + dt.timedelta(hours=10, minutes=k)
            with time_machine.travel(moment, tick=False):
                case_workflow.case_submit(
                    actor=operator,
                    category=category,
                    region=region,
                    description="老房子一直办不下来不动产权证。",
                    complainant_name="王女士",
                    complainant_phone=f"139{n:08d}",
                    channel="phone",
                )


def planted_topic(
    demo: Demo, make_topic: Callable[..., Topic], *, last_year: list[int], this_year: list[int]
) -> dict[str, Any]:
    street = demo.region("城东区", "大众街街道")
    community = Region.objects.filter(parent=street).order_by("pk").first()
    assert community is not None
    category = demo.category("real-estate")
    start = ADOPTED - dt.timedelta(weeks=WEEKS)
    plant(community, category, start - effect.YEAR, last_year)
    plant(community, category, start, this_year)
    refresh_rollup()
    topic = adopt(demo, make_topic, ADOPTED, categories=[category], regions=[street])
    today = ADOPTED + dt.timedelta(weeks=WEEKS, days=-1)
    return effect.topic_effect(topic, weeks=WEEKS, today=today)


def test_a_drop_planted_after_adoption_is_reported_as_an_effect(
    demo: Demo, make_topic: Callable[..., Topic]
) -> None:
    # Given a year before with a flat five complaints a week, and this year five a week before
    # the adoption and one a week since
    data = planted_topic(
        demo, make_topic, last_year=[5] * (2 * WEEKS), this_year=[5] * WEEKS + [1] * WEEKS
    )
    # Then the fall is four fifths, last year's weeks did not fall, and the test says it fell
    assert (data["before"]["created"], data["since"]["created"]) == (40, 8)
    assert data["change"] == -0.8
    assert data["reference"] == {"kind": "last_year", "before": 40, "since": 40, "shift_days": 364}
    assert data["reference_change"] == 0
    assert data["effect"]["ratio"] == 0.2 and data["effect"]["high"] < 1
    assert data["verdict"] == "fell"
    assert [w["created"] for w in data["weekly"]] == [5] * WEEKS + [1] * WEEKS


def test_a_seasonal_drop_alone_is_not_an_effect(
    demo: Demo, make_topic: Callable[..., Topic]
) -> None:
    # Given the same fall from five a week to one in the same weeks of last year too
    data = planted_topic(
        demo,
        make_topic,
        last_year=[5] * WEEKS + [1] * WEEKS,
        this_year=[5] * WEEKS + [1] * WEEKS,
    )
    # Then the complaints fell as much as the season makes them fall: no effect is claimed
    assert data["change"] == -0.8 and data["reference_change"] == -0.8
    assert data["effect"]["ratio"] == 1.0
    assert data["effect"]["low"] < 1 < data["effect"]["high"]
    assert data["verdict"] == "unclear"


def test_without_last_year_the_rest_of_the_city_is_the_reference(
    demo: Demo, make_topic: Callable[..., Topic]
) -> None:
    # Given no complaints a year before, and in another district the same category falling
    # as much as in the topic's street
    other = Region.objects.filter(parent=demo.region("城西区")).order_by("pk").first()
    assert other is not None
    community = Region.objects.filter(parent=other).order_by("pk").first()
    assert community is not None
    start = ADOPTED - dt.timedelta(weeks=WEEKS)
    plant(community, demo.category("real-estate"), start, [5] * WEEKS + [1] * WEEKS)
    data = planted_topic(demo, make_topic, last_year=[], this_year=[5] * WEEKS + [1] * WEEKS)
    # Then the reference is the rest of the city, which fell as much: no effect
    assert data["reference"]["kind"] == "elsewhere"
    assert (data["reference"]["before"], data["reference"]["since"]) == (40, 8)
    assert data["verdict"] == "unclear"


def test_the_states_before_there_is_anything_to_judge(
    demo: Demo, make_topic: Callable[..., Topic]
) -> None:
    category = demo.category("real-estate")
    # A candidate has no adoption day
    candidate = make_topic(TopicStatus.CANDIDATE, categories=[category])
    assert effect.topic_effect(candidate)["verdict"] == "not_adopted"
    # A topic adopted a week ago is too early to judge
    today = dt.date(2026, 3, 9)
    topic = adopt(demo, make_topic, dt.date(2026, 3, 2), categories=[category])
    early = effect.topic_effect(topic, today=today)
    assert early["verdict"] == "too_early" and early["since"]["days"] == 8
    # Without complaints there is nothing to compare
    later = effect.topic_effect(topic, today=today + dt.timedelta(weeks=10))
    assert later["verdict"] == "insufficient" and later["effect"] is None
    # A topic with no category and no case counts nothing
    bare = adopt(demo, make_topic, dt.date(2026, 3, 2))
    assert effect.topic_effect(bare)["verdict"] == "no_area"


def test_the_effect_test_is_the_stated_ratio_of_changes() -> None:
    # E = (b/a) / (d/c), with its 95 % interval from √(1/a + 1/b + 1/c + 1/d)
    result = effect.effect_test(40, 8, 40, 40)
    assert result["ratio"] == 0.2
    assert result["high"] == pytest.approx(0.2 * 2.4016, abs=1e-3)
    # a zero count is read with half a complaint added to each
    assert effect.effect_test(10, 0, 10, 10)["ratio"] == pytest.approx(0.5 / 10.5, abs=1e-4)


# --- the API ---------------------------------------------------------------------------------


def test_the_api_answers_whoever_may_read_the_topic(
    demo: Demo, make_topic: Callable[..., Topic], lead: User
) -> None:
    topic = adopt(demo, make_topic, dt.date(2026, 3, 2), categories=[demo.category("real-estate")])
    url = f"/api/v1/topics/{topic.pk}/effect/"
    client = APIClient()
    for user, expected in [
        (demo.user("committee1"), 200),
        (lead, 200),
        (demo.user("supervisor1"), 200),
        (demo.user("handler_chengdong"), 404),
        (demo.user("resident1"), 404),
        (None, 403),
    ]:
        client.force_authenticate(user)
        assert client.get(url).status_code == expected, user
    client.force_authenticate(demo.user("committee1"))
    body = client.get(url, {"weeks": 6}).json()
    assert body["weeks"] == 6 and body["adopted_on"] == "2026-03-02"
    assert body["categories"][0] == {"id": demo.category("real-estate").pk, "name": "不动产登记"}
    assert {c["name"] for c in body["categories"][1:]} == {
        "不动产办证历史遗留问题",
        "二手房转移登记",
    }
    for bad in ("3", "53", "x"):
        response = client.get(url, {"weeks": bad})
        assert response.status_code == 400 and "weeks" in response.json()["fields"]
    assert client.get("/api/v1/topics/999999/effect/").status_code == 404
