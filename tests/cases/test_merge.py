"""合并 (issue 14 item 5): a case that repeats another open one is closed into it.

Who may merge from which state is the permission table's
(tests/cases/api/test_permission_table.py); this file checks the rules about the main case,
what a merge writes and tells, the tracking page of a merged case, the rates (the matter
counted once) and two staff merging crosswise at once.

The seed's case: heating in 湟中区多巴一村 (make_case: resident1, 13897123456); the repeat is
filed by resident2 from another phone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import workflow
from cases.models import (
    Case,
    CaseEvent,
    EventType,
    ReturnRequest,
    ReturnStatus,
    Status,
)
from notifications.models import Notification, OutboxMessage
from stats.rates import compute_rates
from tests.cases.test_concurrency import fresh_case, race, seeded  # noqa: F401 - seeded: a fixture
from tests.conftest import Demo
from xining_issues.errors import InvalidInput, NotAllowed, WrongState

MakeCase = Callable[..., Case]
MAIN_PHONE = "13897123456"  # make_case's complainant (resident1)
REPEAT_PHONE = "13897120000"


@pytest.fixture
def repeat_of(make_case: MakeCase, demo: Demo) -> Callable[..., Case]:
    """repeat_of(status): the same matter filed again by resident2, walked to ``status``."""

    def make(status: str = Status.SUBMITTED) -> Case:
        return make_case(
            status,
            actor=demo.user("resident2"),
            complainant_name="钱女士",
            complainant_phone=REPEAT_PHONE,
            description="新村巷的暖气也不热。",
        )

    return make


def merge(demo: Demo, case: Case, into: Case | None, user: str = "operator1") -> Case:
    return workflow.case_merge(case=case, actor=demo.user(user), into=into, note="同一处管道。")


def refused(case: Case, error: type[Exception], call: Callable[[], Any]) -> Exception:
    """Run ``call``, expect ``error``; the case and its timeline stay as they were."""
    before = (Case.objects.values().get(pk=case.pk), CaseEvent.objects.filter(case=case).count())
    with pytest.raises(error) as caught:
        call()
    after = (Case.objects.values().get(pk=case.pk), CaseEvent.objects.filter(case=case).count())
    assert after == before
    return caught.value


def told(case: Case, kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(case=case, kind=kind).values_list("user__username", flat=True)
    )


def texted(kind: str, phone: str) -> int:
    return OutboxMessage.objects.filter(kind=kind, recipient=phone).count()


# --- the merge itself ---------------------------------------------------------------------------


def test_the_repeat_is_closed_as_a_duplicate_of_the_main_case(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(Status.HANDLING), repeat_of(Status.ACCEPTED)
    # When the operator merges the repeat into the main case
    merged = merge(demo, repeat, main)
    # Then it is closed as the main case's duplicate, with one 合并 event naming the main case
    stored = Case.objects.get(pk=repeat.pk)
    assert merged.status == stored.status == Status.CLOSED
    assert stored.duplicate_of_id == main.pk
    assert stored.merged_at is not None and stored.closed_at == stored.merged_at
    (event,) = CaseEvent.objects.filter(case=repeat, type=EventType.MERGE)
    assert (event.from_status, event.to_status) == (Status.ACCEPTED, Status.CLOSED)
    assert event.payload["into"] == main.tracking_code and event.payload["note"] == "同一处管道。"
    # and the main case is untouched
    assert Case.objects.get(pk=main.pk).status == Status.HANDLING
    assert not CaseEvent.objects.filter(case=main, type=EventType.MERGE).exists()


def test_the_complainant_is_told_of_the_merge_once(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(Status.HANDLING), repeat_of()
    merge(demo, repeat, main)
    assert told(repeat, "case_merged") == ["resident2"]
    assert texted("case_merged", REPEAT_PHONE) == 1
    note = Notification.objects.get(case=repeat, kind="case_merged")
    assert note.params == {"code": repeat.tracking_code, "main": main.tracking_code}
    # nobody else hears of it, and the main complainant not at all
    assert Notification.objects.filter(kind="case_merged").count() == 1
    assert texted("case_merged", MAIN_PHONE) == 0


def test_when_the_main_case_is_replied_the_merged_complainant_hears_it_once(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(Status.HANDLING), repeat_of()
    # a duplicate only marked at 受理 (not merged) is not told the outcome
    marked = repeat_of()
    workflow.case_accept(case=marked, actor=demo.user("operator1"), duplicate_of=main)
    merge(demo, repeat, main)
    # When the lead unit replies to the main case
    workflow.case_reply(
        case=main, actor=demo.user("handler_huangzhong"), outcome="resolved", text="管道已修复。"
    )
    # Then the main complainant gets the reply, the merged one the merged reply, each once
    assert told(main, "case_replied") == ["resident1"]
    assert told(repeat, "case_merged_replied") == ["resident2"]
    assert texted("case_merged_replied", REPEAT_PHONE) == 1
    params = Notification.objects.get(case=repeat, kind="case_merged_replied").params
    assert params["main"] == main.tracking_code and params["code"] == repeat.tracking_code
    assert params["url"].endswith(f"?code={repeat.tracking_code}")
    assert told(marked, "case_merged_replied") == []
    assert Notification.objects.filter(kind="case_merged_replied").count() == 1


def test_open_requests_of_the_merged_case_lapse(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(Status.ACCEPTED), repeat_of(Status.HANDLING)
    workflow.case_request_return(
        case=repeat, actor=demo.user("handler_huangzhong"), reason="非本单位"
    )
    merge(demo, repeat, main, user="dispatcher_huangzhong")
    assert ReturnRequest.objects.get(case=repeat).status == ReturnStatus.LAPSED


# --- the rules about the main case --------------------------------------------------------------


def test_the_main_case_must_be_named_and_not_the_case_itself(
    demo: Demo, repeat_of: Callable[..., Case]
) -> None:
    repeat = repeat_of()
    error = refused(repeat, InvalidInput, lambda: merge(demo, repeat, None))
    assert "into" in error.fields
    error = refused(repeat, InvalidInput, lambda: merge(demo, repeat, repeat))
    assert "into" in error.fields


def test_no_chains(demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]) -> None:
    main, first, second = make_case(), repeat_of(), repeat_of()
    merge(demo, first, main)
    # merging into a merged case is a 400 on ``into`` that names where to go
    error = refused(second, InvalidInput, lambda: merge(demo, second, first))
    assert "into" in error.fields and first.tracking_code in str(error.fields["into"])
    # and a case others were merged into is a main case: it cannot be merged in turn
    other = repeat_of()
    refused(main, WrongState, lambda: merge(demo, main, other))
    assert "merge" not in workflow.allowed_actions(demo.user("operator1"), main)


def test_the_main_case_must_not_be_replied_yet(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    repeat = repeat_of()
    for status in (Status.REPLIED, Status.CLOSED, Status.REJECTED):
        main = make_case(status)
        error = refused(repeat, InvalidInput, lambda main=main: merge(demo, repeat, main))
        assert "into" in error.fields


def test_a_replied_case_cannot_be_merged(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(), repeat_of(Status.REPLIED)
    refused(repeat, WrongState, lambda: merge(demo, repeat, main))


def test_a_handler_cannot_merge(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(), repeat_of(Status.HANDLING)
    refused(repeat, NotAllowed, lambda: merge(demo, repeat, main, user="handler_huangzhong"))


def test_an_invisible_main_case_reads_as_one_that_does_not_exist(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    # A case of 城东区, out of the 湟中区 dispatcher's sight
    elsewhere = make_case(region=demo.region("城东区", *_first_community(demo, "城东区")))
    repeat = repeat_of(Status.ACCEPTED)
    client = APIClient()
    client.force_authenticate(demo.user("dispatcher_huangzhong"))
    url = f"/api/v1/cases/{repeat.pk}/merge/"
    hidden = client.post(url, {"into": elsewhere.pk}, format="json")
    missing = client.post(url, {"into": 10**9}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()
    assert list(hidden.json()["fields"]) == ["into"]
    # and the function refuses it too, in the same words
    error = refused(
        repeat, InvalidInput, lambda: merge(demo, repeat, elsewhere, user="dispatcher_huangzhong")
    )
    assert "into" in error.fields
    assert Case.objects.get(pk=repeat.pk).status == Status.ACCEPTED


def _first_community(demo: Demo, district: str) -> tuple[str, str]:
    from org.models import Region, RegionLevel

    community = Region.objects.filter(
        level=RegionLevel.COMMUNITY, parent__parent__name=district
    ).select_related("parent")[0]
    return community.parent.name, community.name


def test_the_api_merges_and_answers_with_the_closed_case(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(), repeat_of()
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    response = client.post(
        f"/api/v1/cases/{repeat.pk}/merge/", {"into": main.pk, "note": "同一事项"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.CLOSED
    assert response.json()["duplicate_of"] == main.tracking_code


# --- the tracking page --------------------------------------------------------------------------


def test_the_tracking_page_of_a_merged_case_shows_the_main_case_without_its_complainant(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    main, repeat = make_case(Status.HANDLING), repeat_of()
    merge(demo, repeat, main)
    workflow.case_reply(
        case=main,
        actor=demo.user("handler_huangzhong"),
        outcome="resolved",
        text="管道已修复，赵先生家已恢复供暖，电话 13897123456。",
    )
    response = APIClient().get(
        "/api/v1/track/", {"code": repeat.tracking_code, "phone_last4": REPEAT_PHONE[-4:]}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == Status.CLOSED
    shown = data["merged_into"]
    assert shown["tracking_code"] == main.tracking_code
    assert shown["status"] == Status.REPLIED and shown["outcome"] == "resolved"
    assert "管道已修复" in shown["reply_text"]
    assert any(e["type"] == "reply" for e in shown["timeline"])
    body = response.content.decode()
    for secret in ("赵先生", MAIN_PHONE, "家里暖气不热"):
        assert secret not in body
    assert "merge" in [e["type"] for e in data["timeline"]]
    # an unmerged case has none
    plain = APIClient().get(
        "/api/v1/track/", {"code": main.tracking_code, "phone_last4": MAIN_PHONE[-4:]}
    )
    assert plain.json()["merged_into"] is None


# --- the rates count the matter once ------------------------------------------------------------


def test_a_merged_case_drops_out_of_the_rates(
    demo: Demo, make_case: MakeCase, repeat_of: Callable[..., Case]
) -> None:
    start = timezone.now() - dt.timedelta(hours=1)
    main, repeat = make_case(Status.HANDLING), repeat_of(Status.HANDLING)
    superuser = demo.user("admin")

    def dispatched() -> int:
        end = timezone.now() + dt.timedelta(hours=1)
        rows = compute_rates(superuser, start=start, end=end, group_by="district")
        return sum(int(row["dispatched"]) for row in rows)  # type: ignore[call-overload]

    assert dispatched() == 2
    merge(demo, repeat, main, user="dispatcher_huangzhong")
    assert dispatched() == 1
    # and the merge is no 归档: the closed counter counts 归档 events only
    assert not CaseEvent.objects.filter(case=repeat, type=EventType.CLOSE).exists()


# --- two staff merging crosswise at once (PostgreSQL) -------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_crosswise_merges_at_once_one_wins_without_deadlock() -> None:
    demo = Demo()
    first, second = fresh_case(demo, Status.ACCEPTED), fresh_case(demo, Status.ACCEPTED)
    operator, dispatcher = demo.user("operator1"), demo.user("dispatcher_huangzhong")
    for _round in range(3):
        results = race(
            lambda a=first, b=second: workflow.case_merge(case=a, actor=operator, into=b),
            lambda a=first, b=second: workflow.case_merge(case=b, actor=dispatcher, into=a),
        )
        wins = [r for r in results if isinstance(r, Case)]
        # the loser finds its main case merged (400 on into) or its own case a main case (409)
        losses = [r for r in results if isinstance(r, (InvalidInput, WrongState))]
        assert len(wins) == 1 and len(losses) == 1, results
        merged = Case.objects.get(pk=wins[0].pk)
        main = Case.objects.get(pk=merged.duplicate_of_id)
        assert main.merged_at is None and main.status == Status.ACCEPTED
        assert (
            CaseEvent.objects.filter(type=EventType.MERGE, case__in=[first, second]).count() == 1
        )
        # a fresh pair for the next round
        first, second = fresh_case(demo, Status.ACCEPTED), fresh_case(demo, Status.ACCEPTED)
