"""按社区分类: the dashboards grouped and filtered by the community's class (社区分类) give, for
each class, the cases received and the counters of ``compute_rates`` over the cases of that
class, on random data built with the factories; communities without a class make the 未分类
row; the queries stay constant."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cases import workflow as w
from cases.models import OPEN_STATUSES, Case, Outcome, Rating, Status
from org.models import Region, RegionClass, User
from stats import dashboards
from stats.rollup import refresh_rollup
from tests.factories import CaseFactory, CaseStaff, community, walk_case
from tests.stats.test_rollup import RATE_COUNTERS, direct

CODES = [None, "urban", "suburban", "rural", "relocation"]
URL = "/api/v1/stats/"


def random_cases(seed: int, communities: int = 8, cases: int = 20) -> list[Region]:
    """``communities`` fresh communities (each in a district of its own, so that compute_rates
    by district is compute_rates by community), classed at random (some left without one),
    and ``cases`` cases among them taken to random statuses, with random replies, ratings and
    first contacts."""
    rng = random.Random(seed)
    classes = {c.code: c for c in RegionClass.objects.all()}
    places = []
    for i in range(communities):
        place = community()
        code = CODES[i % len(CODES)] if i < len(CODES) else rng.choice(CODES)
        place.region_class = classes.get(code) if code else None
        place.save()
        places.append(place)
    for _n in range(cases):
        case = CaseFactory(region=rng.choice(places))
        target = rng.choice(
            [Status.SUBMITTED, Status.REJECTED, Status.DISPATCHED, Status.HANDLING]
        )
        staff = CaseStaff.for_case(case)
        case = walk_case(case, target, staff=staff)
        if target != Status.HANDLING:
            continue
        if rng.random() < 0.6:
            case = w.case_record_contact(case=case, actor=staff.handler)
        if rng.random() < 0.3:
            continue
        case = w.case_reply(
            case=case, actor=staff.handler, outcome=rng.choice(Outcome.values), text="已处理。"
        )
        if rng.random() < 0.7:
            w.case_evaluate(case=case, actor=case.complainant, rating=rng.choice(Rating.values))
    refresh_rollup()
    return places


def expected_by_class(user: User) -> dict[int | None, dict[str, int]]:
    """compute_rates per district (one community each), summed per community class, and the
    cases received per class."""
    today = timezone.localdate()
    # each district here holds one community, so a district's cases share its class
    class_of = dict(Case.objects.values_list("district_id", "region__region_class_id"))
    out: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(RATE_COUNTERS, 0))
    for district, counts in direct(user, today, today, "district").items():
        for name in RATE_COUNTERS:
            out[class_of[district]][name] += counts[name]
    for class_id in Case.objects.values_list("region__region_class_id", flat=True):
        out[class_id].setdefault("created", 0)
        out[class_id]["created"] += 1
    return {k: {"created": 0, **v} for k, v in out.items()}


def observed(rows: list[dict[str, Any]]) -> dict[int | None, dict[str, int]]:
    return {r["id"]: {c: r[c] for c in ("created", *RATE_COUNTERS)} for r in rows}


@pytest.mark.parametrize("seed", [2, 7])
def test_by_class_equals_compute_rates_over_each_class(
    db: None, superuser: User, seed: int
) -> None:
    # Given random cases in communities of every class and in some without one
    random_cases(seed)
    today = timezone.localdate()
    # When the dashboard ranks by community class
    api = APIClient()
    api.force_authenticate(superuser)
    response = api.get(f"{URL}rankings/", {"by": "region_class", "from": today, "to": today})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    # Then each class's received and rate counters are those of its cases
    assert observed(rows) == expected_by_class(superuser)
    assert sum(r["dispatched"] for r in rows) and sum(r["evaluated"] for r in rows)
    # and communities without a class are the 未分类 row
    names = {r["id"]: r["name"] for r in rows}
    assert names[None] == "未分类"
    assert {k: v for k, v in names.items() if k} == {
        c.pk: c.name for c in RegionClass.objects.filter(pk__in=[k for k in names if k])
    }
    # and the rates are the one definition's (compute_rates' shares of the same counters)
    for r in rows:
        d, rsp = r["dispatched"], r["responded"]
        assert r["response_rate"] == (round(rsp / d, 4) if d else None)
        assert r["resolution_rate"] == (
            round(r["resolved"] / r["replied"], 4) if r["replied"] else None
        )


def test_the_class_filter_restricts_every_figure(db: None, superuser: User) -> None:
    # Given random cases in communities of every class
    random_cases(4)
    today = timezone.localdate()
    expected = expected_by_class(superuser)
    api = APIClient()
    api.force_authenticate(superuser)
    for region_class in RegionClass.objects.all():
        query = {"region_class": region_class.code, "from": today, "to": today}
        want = expected.get(region_class.pk, dict.fromkeys(("created", *RATE_COUNTERS), 0))
        # When the overview is filtered by the class
        overview = api.get(f"{URL}overview/", query).json()
        # Then its totals are the class's, and the open cases are those of its communities
        assert {k: overview["totals"][k] for k in want} == want, region_class.code
        open_cases = Case.objects.filter(
            region__region_class=region_class, status__in=OPEN_STATUSES
        )
        assert overview["open"] == open_cases.count()
        # and the trend and the rankings hold only that class's cases
        trend = api.get(f"{URL}trend/", query).json()["buckets"]
        assert sum(b["created"] for b in trend) == want["created"]
        units = api.get(f"{URL}rankings/", {**query, "by": "unit"}).json()["results"]
        assert sum(u["dispatched"] for u in units) == want["dispatched"]
        by_class = api.get(f"{URL}rankings/", {**query, "by": "region_class"}).json()["results"]
        assert [r["id"] for r in by_class] in ([], [region_class.pk])


def test_an_unknown_class_is_a_400(db: None, superuser: User) -> None:
    api = APIClient()
    api.force_authenticate(superuser)
    response = api.get(f"{URL}overview/", {"region_class": "nope"})
    assert response.status_code == 400
    assert "region_class" in response.json()["fields"]


def test_a_dispatcher_sees_only_their_district_by_class(db: None) -> None:
    # Given cases in two districts' communities of the same class
    places = random_cases(5, communities=6, cases=16)
    district = places[1].parent.parent
    dispatcher = CaseStaff.for_case(CaseFactory(region=places[1])).dispatcher
    refresh_rollup()
    today = timezone.localdate()
    # When their district's dispatcher ranks by class
    rows = dashboards.rankings(dispatcher, today, today, "region_class")
    # Then only the cases of that district count
    assert sum(r["created"] for r in rows) == Case.objects.filter(district=district).count()


def test_queries_stay_constant_whatever_the_data(db: None, superuser: User) -> None:
    api = APIClient()
    api.force_authenticate(superuser)
    urls = [
        f"{URL}rankings/?by=region_class",
        f"{URL}overview/?region_class=rural",
        f"{URL}trend/?region_class=urban&granularity=week",
    ]

    def counts() -> list[int]:
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert api.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    random_cases(1, communities=5, cases=6)
    small = counts()
    random_cases(3, communities=8, cases=20)
    assert counts() == small
    # and the figures come from the rollup, never from grouping the cases table
    with CaptureQueriesContext(connection) as ctx:
        api.get(urls[0])
    assert not [q for q in ctx.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert any("casedaystat" in q["sql"] for q in ctx.captured_queries)
