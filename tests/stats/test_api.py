"""The statistics API: figures, filters, scoping, constant query counts, the schema."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case
from demo.history import generate_cases
from stats import dashboards as stats
from stats.rollup import refresh_rollup
from tests.conftest import Demo
from tests.stats.conftest import get

pytestmark = pytest.mark.django_db


def test_overview_totals_match_the_rollup_and_the_stages(api_client, data, superuser) -> None:
    today = timezone.localdate()
    start = today - dt.timedelta(days=364)
    response = get(
        api_client, superuser, "/api/v1/stats/overview/", **{"from": start, "to": today}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    totals = stats.totals(stats.rows(superuser, start, today))
    assert body["totals"]["created"] == totals["created"] > 0
    assert {s["stage"] for s in body["stages"]} == {
        "receive", "dispatch", "handle", "supervise", "evaluate", "report",
    }  # fmt: skip
    assert body["open"] == Case.objects.filter(status__in=OPEN_STATUSES).count()
    assert sum(d["created"] for d in body["districts"]) == totals["created"]
    assert len(body["hot_categories"]) <= 10
    assert 0 <= body["totals"]["score"] <= 100


def test_weights_change_the_composite_score(api_client, data, superuser) -> None:
    url = "/api/v1/stats/overview/"
    only_response = get(api_client, superuser, url, w_response=1, w_resolution=0, w_satisfaction=0)
    body = only_response.json()
    assert body["weights"] == {"response": 1.0, "resolution": 0.0, "satisfaction": 0.0}
    assert body["totals"]["score"] == round(100 * body["totals"]["response_rate"], 2)


def test_a_district_dispatcher_sees_only_their_district(api_client, data) -> None:
    # Given the 城东区 dispatcher
    user = data.user("dispatcher_chengdong")
    chengdong = data.region("城东区")
    # When they read the rankings by district and the overview
    ranked = get(api_client, user, "/api/v1/stats/rankings/", by="district").json()
    overview = get(api_client, user, "/api/v1/stats/overview/").json()
    # Then only 城东区 is in them
    assert {r["name"] for r in ranked["results"]} <= {"城东区"}
    assert {d["id"] for d in overview["districts"]} <= {chengdong.pk}
    assert (
        overview["open"]
        == Case.objects.filter(district=chengdong, status__in=OPEN_STATUSES).count()
    )
    # and asking for another district gives nothing
    other = data.region("湟中区")
    away = get(api_client, user, "/api/v1/stats/overview/", region=other.pk).json()
    assert away["totals"]["created"] == 0 and away["open"] == 0


def test_region_filter_keeps_the_subtree(api_client, data, superuser) -> None:
    chengdong = data.region("城东区")
    body = get(api_client, superuser, "/api/v1/stats/rankings/", by="street", region=chengdong.pk)
    streets = {r["id"] for r in body.json()["results"]}
    # exactly the streets the unfiltered ranking lists under 城东区: none lost, none added
    everywhere = get(api_client, superuser, "/api/v1/stats/rankings/", by="street").json()
    inside = chengdong.children.filter(pk__in=[r["id"] for r in everywhere["results"]])
    assert streets == set(inside.values_list("pk", flat=True)) and streets
    assert all(
        data.region("城东区").pk == int(s.path.strip("/").split("/")[1])
        for s in (type(chengdong).objects.filter(pk__in=streets))
    )


@pytest.mark.parametrize("url", ["overview", "trend", "rankings"])
def test_residents_get_403(api_client, demo: Demo, url: str) -> None:
    response = get(api_client, demo.user("resident1"), f"/api/v1/stats/{url}/")
    assert response.status_code == 403
    assert get(api_client, demo.user("resident1"), "/api/v1/topics/candidates/").status_code == 403


def test_trend_buckets_add_up_to_the_period(api_client, data, superuser) -> None:
    today = timezone.localdate()
    start = today - dt.timedelta(days=120)
    for granularity in ("day", "week", "month"):
        body = get(
            api_client, superuser, "/api/v1/stats/trend/",
            granularity=granularity, **{"from": start, "to": today},
        ).json()  # fmt: skip
        created = sum(b["created"] for b in body["buckets"])
        closed = sum(b["closed"] for b in body["buckets"])
        totals = stats.totals(stats.rows(superuser, start, today))
        assert (created, closed) == (totals["created"], totals["closed"])
        assert body["buckets"][0]["start"] == start.isoformat()
        assert body["buckets"][-1]["end"] == today.isoformat()


def test_rankings_rank_by_score(api_client, data, superuser) -> None:
    body = get(api_client, superuser, "/api/v1/stats/rankings/", by="unit").json()
    scores = [r["score"] for r in body["results"] if r["score"] is not None]
    assert scores == sorted(scores, reverse=True)
    assert body["results"][0]["rank"] == 1


def test_bad_parameters_are_400(api_client, demo: Demo, superuser) -> None:
    url = "/api/v1/stats/trend/"
    assert get(api_client, superuser, url, granularity="year").status_code == 400
    assert (
        get(api_client, superuser, url, **{"from": "2024-02-01", "to": "2024-01-01"}).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("url", "years", "status"),
    [
        ("overview/", 10, 200),  # all time (全部): whole months of the month rows
        ("rankings/", 10, 200),
        ("trend/", 4, 400),  # a trend by day or week: three years at most
        ("export.xlsx?table=trend&", 4, 400),
    ],
)
def test_totals_may_span_the_whole_history_and_trends_three_years(
    api_client, demo: Demo, superuser, url: str, years: int, status: int
) -> None:
    api_client.force_authenticate(superuser)
    start = timezone.localdate() - dt.timedelta(days=365 * years)
    separator = "" if url.endswith("&") else "?"
    response = api_client.get(f"/api/v1/stats/{url}{separator}from={start.isoformat()}")
    assert response.status_code == status, response.content


@pytest.mark.parametrize(
    "url", ["overview/", "trend/", "rankings/", "export.xlsx?table=rankings&"]
)
@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01&to=0001-01-02"])
def test_dates_outside_the_calendar_are_400_not_500(api_client, superuser, url, query) -> None:
    api_client.force_authenticate(superuser)
    separator = "" if url.endswith("&") else "?"
    response = api_client.get(f"/api/v1/stats/{url}{separator}{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_query_count_does_not_grow_with_the_data(api_client, demo: Demo) -> None:
    user = demo.user("committee1")
    urls = [
        "/api/v1/stats/overview/",
        "/api/v1/stats/trend/?granularity=week",
        "/api/v1/stats/rankings/?by=unit",
        "/api/v1/topics/candidates/?weeks=4",
    ]
    api_client.force_authenticate(user)

    def counts() -> list[int]:
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert api_client.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    generate_cases(60, now=timezone.now(), seed=1)
    refresh_rollup()
    counts()  # the first request loads the user's memberships
    small = counts()
    generate_cases(400, now=timezone.now(), seed=2)
    refresh_rollup()
    assert counts() == small
    assert min(small) >= 1  # the figures were really read (an empty scope skips the query)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/stats/overview/",
        "/api/v1/stats/trend/?granularity=month",
        "/api/v1/stats/rankings/?by=street",
        "/api/v1/topics/board/",
    ],
)
def test_dashboards_never_group_the_cases_table(api_client, data, superuser, url) -> None:
    # The figures come from the rollup; the cases table is only COUNTed, filtered to the open
    # statuses (the live stage counts), never grouped, whatever the period (here three years).
    api_client.force_authenticate(superuser)
    since = (timezone.localdate() - dt.timedelta(days=3 * 365)).isoformat()
    with CaptureQueriesContext(connection) as ctx:
        assert api_client.get(url, {"from": since}).status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    on_cases = [q for q in sql if 'FROM "cases_case"' in q]
    if "overview" in url:  # the live counts per stage: one filtered COUNT over open cases
        assert len(on_cases) == 1, on_cases
        assert "COUNT(" in on_cases[0] and '"status" IN' in on_cases[0]
        assert "GROUP BY" not in on_cases[0]
    else:
        assert on_cases == []
    if "/stats/" in url:  # the rollup or one of its projections
        assert any(
            '"cases_casedaystat"' in q or '"cases_casemonthstat"' in q or '"stats_' in q
            for q in sql
        )


def test_month_summary(data) -> None:
    month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    summary = stats.month_summary(month)
    assert summary["from"] == month.replace(day=1) and summary["to"] == month
    assert (
        summary["totals"]["created"]
        == Case.objects.filter(
            created_at__date__gte=summary["from"], created_at__date__lte=summary["to"]
        ).count()
    )
    assert len(summary["top_categories"]) <= 5
    scores = [u["score"] for u in summary["worst_units"]]
    assert scores == sorted(scores)


def test_the_schema_validates_and_holds_every_topics_and_stats_route(tmp_path) -> None:
    out = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
        "--file", str(out),
    )  # fmt: skip
    paths = set(json.loads(out.read_text())["paths"])
    assert {
        "/api/v1/topics/",
        "/api/v1/topics/{id}/",
        "/api/v1/topics/board/",
        "/api/v1/topics/plan/",
        "/api/v1/topics/candidates/",
        "/api/v1/topics/candidates/adopt/",
        "/api/v1/topics/{id}/adopt/",
        "/api/v1/topics/{id}/start/",
        "/api/v1/topics/{id}/close/",
        "/api/v1/topics/{id}/carry-over/",
        "/api/v1/topics/{id}/tasks/",
        "/api/v1/topics/{id}/reports/",
        "/api/v1/topics/{id}/indicators/",
        "/api/v1/topics/{id}/documents/",
        "/api/v1/bulletins/",
        "/api/v1/bulletins/{id}/publish/",
        "/api/v1/stats/overview/",
        "/api/v1/stats/trend/",
        "/api/v1/stats/rankings/",
        "/api/v1/stats/export.xlsx",
        "/api/v1/stats/exports/",
    } <= paths, sorted(paths)


def test_the_default_weights_come_from_the_settings(api_client, data, superuser, settings) -> None:
    settings.STATS_SCORE_WEIGHTS = {"response": 0.0, "resolution": 1.0, "satisfaction": 0.0}
    body = get(api_client, superuser, "/api/v1/stats/overview/").json()
    assert body["weights"] == {"response": 0.0, "resolution": 1.0, "satisfaction": 0.0}
    assert body["totals"]["score"] == round(100 * body["totals"]["resolution_rate"], 2)
