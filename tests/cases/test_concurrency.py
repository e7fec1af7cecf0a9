"""Two people click at once: the row lock lets exactly one transition win, the other gets 409.

PostgreSQL only: SQLite serialises whole transactions, so there is no race to lose there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from cases import workflow
from cases.models import Case, CaseEvent, EventType, Status
from tests.cases.conftest import PATH_TO, run_steps
from tests.conftest import Demo
from xining_issues.errors import WrongState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], Any]) -> list[object]:
    """Run the calls in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def fresh_case(demo: Demo, status: str) -> Case:
    case = workflow.case_submit(
        actor=demo.user("resident1"),
        category=demo.category("heating-cold"),
        region=demo.region("湟中区", "多巴镇", "多巴一村"),
        description="暖气不热",
        complainant_name="赵先生",
        complainant_phone="13909712345",
    )
    return run_steps(case, PATH_TO[status], demo)


@pytest.fixture
def seeded(django_db_setup: None) -> Demo:
    # Transactional tests start from an emptied database: seed the organisation again.
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    seed_organisation()
    seed_reference()
    return Demo()


def test_two_dispatches_one_wins(seeded: Demo) -> None:
    demo = seeded
    case = fresh_case(demo, Status.ACCEPTED)
    city, district = demo.user("dispatcher_city"), demo.user("dispatcher_huangzhong")

    def dispatch(actor: Any, unit_code: str) -> Callable[[], Case]:
        return lambda: workflow.case_dispatch(
            case=case, actor=actor, lead_unit=demo.unit(unit_code)
        )

    results = race(dispatch(city, "xn-heating"), dispatch(district, "huangzhong-gov"))
    wins = [r for r in results if isinstance(r, Case)]
    losses = [r for r in results if isinstance(r, WrongState)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert CaseEvent.objects.filter(case=case, type=EventType.DISPATCH).count() == 1
    assert Case.objects.get(pk=case.pk).lead_unit == wins[0].lead_unit


def test_sign_and_return_at_once_one_wins(seeded: Demo) -> None:
    demo = seeded
    case = fresh_case(demo, Status.DISPATCHED)
    handler = demo.user("handler_huangzhong")
    results = race(
        lambda: workflow.case_sign(case=case, actor=handler),
        lambda: workflow.case_return(case=case, actor=handler, reason="不属于本单位职责"),
    )
    assert sum(isinstance(r, Case) for r in results) == 1, results
    assert sum(isinstance(r, WrongState) for r in results) == 1, results
    final = Case.objects.get(pk=case.pk)
    kinds = set(CaseEvent.objects.filter(case=case).values_list("type", flat=True))
    assert (EventType.SIGN in kinds) != (EventType.RETURN in kinds)
    assert final.status in (Status.HANDLING, Status.ACCEPTED)


def test_the_http_loser_gets_409(seeded: Demo, live_server: Any) -> None:
    import json
    import urllib.request

    from rest_framework.authtoken.models import Token

    demo = seeded
    case = fresh_case(demo, Status.ACCEPTED)
    tokens = [
        Token.objects.get_or_create(user=demo.user(name))[0].key
        for name in ("dispatcher_city", "dispatcher_huangzhong")
    ]
    unit = demo.unit("huangzhong-gov").pk

    def post(token: str) -> Callable[[], int]:
        def call() -> int:
            request = urllib.request.Request(  # noqa: S310 - the local live server
                f"{live_server.url}/api/v1/cases/{case.pk}/dispatch/",
                data=json.dumps({"lead_unit": unit}).encode(),
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        return call

    assert sorted(race(post(tokens[0]), post(tokens[1]))) == [200, 409]  # type: ignore[type-var]
