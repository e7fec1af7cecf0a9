"""一次办结率 from its counters (issue 16 item 3, at city scale): kept with the rollup by the
refresh, the Python rebuild and the SQL rebuild, they give what the period's events give
(``stats.knowledge.first_call``) for any period and any district scope; narrower readers are
answered from the events, a quarter at most."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases import workflow
from demo.history import generate_cases
from org.models import Role, Unit, UnitKind, User
from stats import first_call, knowledge
from stats.dashboards import scope_q
from stats.models import FirstCallCategoryDay, FirstCallOperatorMonth
from stats.rebuild import rebuild_rollup_sql
from stats.rollup import rebuild_rollup, refresh_rollup
from tests.conftest import Demo
from tests.factories import MembershipFactory
from tests.stats.conftest import NOW

URL = "/api/v1/stats/first-call/"


def periods(seed: int) -> list[tuple[dt.date, dt.date]]:
    """The year, whole months, a month with a head and a tail of days, and random periods."""
    rng = random.Random(seed)
    last = NOW.date()
    first = last - dt.timedelta(days=364)
    out = [(first, last), (dt.date(2023, 3, 1), dt.date(2023, 5, 31))]
    out.append((dt.date(2023, 6, 20), dt.date(2023, 8, 3)))
    for _ in range(4):
        a = first + dt.timedelta(days=rng.randrange(360))
        out.append((a, min(last, a + dt.timedelta(days=rng.randrange(1, 120)))))
    return out


def same(user: Any, start: dt.date, end: dt.date) -> None:
    counted = first_call.first_call(user, start, end)
    expected = knowledge.first_call(user, start, end)
    assert counted == expected, (start, end)


@pytest.mark.parametrize("seed", [4, 9])
def test_the_counters_give_what_the_events_give(superuser: User, demo: Demo, seed: int) -> None:
    # Given a year of generated cases (受理 and 即时办结 by many operators), folded in two goes
    generate_cases(300, now=NOW, seed=seed, batch_size=150)
    refresh_rollup(batch_size=500, max_batches=2)
    refresh_rollup(batch_size=500)
    district = demo.user("dispatcher_chengdong")
    assert first_call.answers(scope_q(district))
    # Then every period reads the same from the counters as from the events, city-wide and
    # for a district's reader
    for start, end in periods(seed):
        same(superuser, start, end)
        same(district, start, end)
    year = first_call.first_call(superuser, NOW.date() - dt.timedelta(days=364), NOW.date())
    assert year["taken"] > 100 and 0 < year["at_intake"] < year["taken"]
    # and so after the Python rebuild, and (on PostgreSQL) the set-based one
    rebuild_rollup()
    same(superuser, *periods(seed)[0])
    if connection.vendor == "postgresql":
        rebuild_rollup_sql(workers=1)
        for start, end in periods(seed):
            same(superuser, start, end)


def test_a_case_taken_in_later_is_added_once(demo: Demo, make_case: Any, superuser: User) -> None:
    today = dt.date.today()
    make_case("accepted")
    refresh_rollup()
    refresh_rollup()  # nothing new: nothing added twice
    case = make_case()
    workflow.case_resolve_at_intake(case=case, actor=demo.user("operator1"), reply="已答复。")
    refresh_rollup()
    counted = first_call.first_call(superuser, today, today)
    assert (counted["taken"], counted["at_intake"]) == (2, 1)
    assert FirstCallCategoryDay.objects.filter(day=today).count() >= 1
    assert FirstCallOperatorMonth.objects.get(operator_key=demo.user("operator1").pk).taken == 2


def test_a_reader_narrower_than_a_district_is_answered_from_the_events(
    demo: Demo, make_case: Any
) -> None:
    make_case("accepted")
    refresh_rollup()
    street = demo.region("城东区", "大众街街道")
    unit = Unit.objects.create(
        code="street-dazhong", name="大众街街道办事处", region=street, kind=UnitKind.STREET_OFFICE
    )
    reader = MembershipFactory(unit=unit, role=Role.DISPATCHER).user
    assert not first_call.answers(scope_q(reader))
    today = dt.date.today()
    assert first_call.first_call(reader, today, today) == knowledge.first_call(
        reader, today, today
    )
    client = APIClient()
    client.force_authenticate(reader)
    assert client.get(URL).status_code == 200
    long = client.get(URL, {"from": (today - dt.timedelta(days=200)).isoformat()})
    assert long.status_code == 400 and "from" in long.json()["fields"]
