"""Chinese search at city scale (``cases.search``): the bigram index and the ordered walk find
exactly what the plain ``ILIKE`` finds, and the queue's queries use the indexes meant for them.

The plan tests need a table the planner takes seriously: ``many_cases`` copies one submitted
case 20,000 times set-based (varied texts, statuses and dates) and runs ANALYZE."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cases import search, selectors
from cases.models import OPEN_STATUSES, Case, Status
from org.models import User
from tests.conftest import Demo

pytestmark = pytest.mark.postgres

WORDS = ["暖气不热", "多巴镇路灯不亮", "夜间施工噪音", "物业不作为", "雪豹出没", "楼道漏水"]


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def found(user: User, q: str) -> set[int]:
    """Every case id the queue's search returns to ``user``, following the cursor."""
    client, ids, url = client_for(user), set(), "/api/v1/cases/"
    params: dict[str, Any] | None = {"q": q, "page_size": 200}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        ids |= {row["id"] for row in response.json()["results"]}
        url, params = response.json()["next"], None
    return ids


@pytest.fixture
def texts(demo: Demo, make_case: Callable[..., Case]) -> list[Case]:
    rng = random.Random(3)
    cases = []
    for i in range(24):
        words = rng.sample(WORDS, 2)
        cases.append(
            make_case(
                Status.SUBMITTED,
                title=words[0][:4],
                description=f"{words[1]}，第{i}次反映。Heating BROKEN  twice, 5µg",
            )
        )
    return cases


def test_bigrams_are_the_neighbouring_pairs_upper_cased_without_spaces(demo: Demo) -> None:
    assert search.query_bigrams("多巴镇 暖气  Ab") == ["多巴", "巴镇", "暖气", "AB"]
    assert search.query_bigrams("水") == []
    assert not search.has_bigram("水 电") and search.has_bigram("水电")


@pytest.mark.parametrize("walk_from", [0.0, 2.0], ids=["always walk", "always the index"])
@pytest.mark.parametrize(
    "q",
    ["暖气", "多巴", "路灯不亮", "雪豹", "漏水", "heating broken", "BROKEN  TW", "μg", "水", "猫"],
)
def test_search_finds_exactly_what_ilike_finds_whichever_way_it_goes(
    demo: Demo, texts: list[Case], q: str, walk_from: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "WALK_FROM", walk_from)
    monkeypatch.setattr(search, "_stats", (float("inf"), dict.fromkeys(["暖气", "多巴"], 1.0)))
    user = demo.user("dispatcher_city")
    needle = q.upper()
    expected = {
        c.pk for c in texts if needle in c.title.upper() or needle in c.description.upper()
    }
    assert found(user, q) == expected


@pytest.fixture
def walks_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every walk meets its timeout."""
    from contextlib import contextmanager

    @contextmanager
    def too_long() -> Iterator[None]:
        raise search.WalkTooLong
        yield  # pragma: no cover

    monkeypatch.setattr(search, "walks", lambda value: True)
    monkeypatch.setattr(search, "walking", too_long)


def test_a_walk_that_meets_its_timeout_is_answered_by_the_index(
    demo: Demo, texts: list[Case], walks_too_long: None
) -> None:
    user = demo.user("dispatcher_city")
    assert found(user, "暖气") == {c.pk for c in texts if "暖气" in c.title + c.description}


def test_a_one_character_search_that_outlasts_its_walk_asks_for_a_longer_word(
    demo: Demo, texts: list[Case], walks_too_long: None
) -> None:
    response = client_for(demo.user("dispatcher_city")).get("/api/v1/cases/", {"q": "豹"})
    assert response.status_code == 400 and "q" in response.json()["fields"]


def test_the_walk_runs_with_the_planner_kept_to_ordered_index_scans(
    demo: Demo, texts: list[Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "walks", lambda value: True)
    with CaptureQueriesContext(connection) as queries:
        found(demo.user("dispatcher_city"), "暖气")
    sqls = [q["sql"] for q in queries.captured_queries]
    settings = next(i for i, sql in enumerate(sqls) if sql.startswith("SET LOCAL"))
    assert "enable_seqscan = off" in sqls[settings] and "statement_timeout" in sqls[settings]
    listing = next(sql for sql in sqls[settings:] if 'FROM "cases_case"' in sql)
    assert "LIKE" in listing and "xn_bigrams" not in listing  # the walk needs no index


# --- plans ------------------------------------------------------------------------------------


@pytest.fixture
def many_cases(demo: Demo, make_case: Callable[..., Case]) -> Iterator[None]:
    seed = make_case(Status.SUBMITTED)
    columns = [
        f.column
        for f in Case._meta.concrete_fields
        if f.column not in ("id", "tracking_code", "description", "status", "created_at")
    ]
    listed = ", ".join(columns)
    # Mostly closed, every open status, and one in a thousand waiting for 受理 (a rare tab).
    statuses = ["closed"] * 18 + [s for s in OPEN_STATUSES if s != Status.SUBMITTED]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO cases_case ({listed}, tracking_code, description, status, created_at) "  # noqa: S608
            f"SELECT {listed}, 'XT-' || g, (%s::text[])[1 + g %% 5] || '，第' || g || '号', "
            "CASE WHEN g %% 1000 = 0 THEN 'submitted' ELSE (%s::text[])[1 + g %% %s] END, "
            "now() - g * interval '37 minutes' "
            "FROM cases_case, generate_series(1, 20000) g WHERE id = %s",
            [WORDS[:5], statuses, len(statuses), seed.pk],
        )
        cursor.execute("ANALYZE cases_case")
    yield


def plan_of(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_rare_word_is_looked_up_in_the_bigram_index(demo: Demo, many_cases: None) -> None:
    user = demo.user("dispatcher_city")
    from cases.api.filters import CaseFilter

    class Request:
        pass

    request = Request()
    request.user = user  # type: ignore[attr-defined]
    request.search_walks = False  # type: ignore[attr-defined]
    queryset = CaseFilter(
        {"q": "猞猁"}, queryset=selectors.case_list(user), request=request
    ).qs.order_by("-created_at", "-id")[:51]
    assert "case_text_bigrams" in plan_of(queryset)


def _full_sorts(plan: str) -> list[str]:
    """Plan nodes that sort every row they get (an incremental sort on a presorted key, which
    only orders ties, is not one)."""
    return [
        line for line in plan.splitlines() if line.strip().lstrip("->").strip()[:6] == "Sort  "
    ]


def test_a_queue_tab_is_read_in_order(demo: Demo, many_cases: None) -> None:
    user = demo.user("dispatcher_huangzhong")
    tabs = selectors.queue_filters(timezone.now())
    # A rare tab is read from an index on the status (its few rows, then sorted); a common one
    # walks the cases newest first and stops at fifty, sorting nothing whole.
    rare = selectors.case_list(user).filter(tabs["submitted"]).order_by("-created_at", "-id")
    plan = plan_of(rare[:51])
    assert "Seq Scan on cases_case" not in plan, plan
    assert "case_status_created" in plan or "case_open_tabs" in plan, plan
    common = selectors.case_list(user).filter(tabs["handling"]).order_by("-created_at", "-id")
    plan = plan_of(common[:51])
    assert not _full_sorts(plan) and "Seq Scan on cases_case" not in plan, plan


@pytest.fixture
def seeded(transactional_db: None) -> None:
    """A transactional test starts from an empty database: seed the organisation again."""
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    seed_organisation()
    seed_reference()


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction only
def test_the_tab_counts_are_read_from_the_open_cases_index_alone(
    seeded: None, demo: Demo, many_cases: None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")  # what autovacuum does after a load
    with CaptureQueriesContext(connection) as queries:
        selectors.queue_counts(demo.user("dispatcher_huangzhong"), timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        counts = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using case_open_tabs" in counts, counts
