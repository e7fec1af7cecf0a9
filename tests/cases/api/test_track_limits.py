"""Wrong phone digits are counted per tracking code, whatever address they come from.

Tracking codes are sequential (XN-YYYYMMDD-NNNN), so the four digits are all that keeps a
stranger from reading a case and rating it; a guesser can change address at will. After
TRACK_FAILURE_LIMIT (5) wrong guesses the code's public view is locked for TRACK_LOCK_MINUTES
(15), and a code that does not exist answers exactly as one that does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case, Rating, Status
from tests.conftest import Demo

PHONE = "13897123456"
RIGHT = PHONE[-4:]
WRONG = ["0000", "1111", "2222", "3333", "4444", "5555", "6666"]
MISSING = "XN-20000101-0001"

MakeCase = Callable[..., Case]


def track(code: str, digits: str, *, ip: str) -> Any:
    # Each guess from its own address, as a guesser with many addresses would send them.
    return APIClient().get("/api/v1/track/", {"code": code, "phone_last4": digits}, REMOTE_ADDR=ip)


def evaluate(code: str, digits: str, *, ip: str) -> Any:
    return APIClient().post(
        "/api/v1/track/evaluate/",
        {"code": code, "phone_last4": digits, "rating": Rating.SATISFIED, "comment": ""},
        format="json",
        REMOTE_ADDR=ip,
    )


def guess_wrong(code: str, times: int, *, first_ip: int = 1) -> list[int]:
    return [
        track(code, WRONG[n], ip=f"198.51.100.{first_ip + n}").status_code for n in range(times)
    ]


def test_the_sixth_guess_on_one_code_is_refused_from_any_address(make_case: MakeCase) -> None:
    # Given a case, and five wrong guesses at its digits from five addresses
    case = make_case(Status.REPLIED, complainant_phone=PHONE)
    assert guess_wrong(case.tracking_code, 5) == [404] * 5

    # When a sixth address sends the right digits
    response = track(case.tracking_code, RIGHT, ip="203.0.113.99")

    # Then it is refused, in the API's error shape, without the case
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert "15" in body["message"]
    assert case.tracking_code not in response.content.decode()
    # And the evaluation door is locked too: the case is not rated
    assert evaluate(case.tracking_code, RIGHT, ip="203.0.113.98").status_code == 429
    case.refresh_from_db()
    assert case.rating == ""


def test_a_code_that_does_not_exist_answers_exactly_like_one_that_does(
    make_case: MakeCase,
) -> None:
    # Given a real case and a code nobody was given
    case = make_case(Status.HANDLING, complainant_phone=PHONE)

    def answers(code: str) -> list[tuple[int, dict[str, Any]]]:
        responses = [track(code, WRONG[n], ip=f"198.51.100.{n}") for n in range(7)]
        return [(r.status_code, r.json()) for r in responses]

    # When the same wrong guesses are made on each
    real, missing = answers(case.tracking_code), answers(MISSING)

    # Then the answers are the same, status and body, guess by guess
    assert [status for status, _body in real] == [404] * 5 + [429] * 2
    assert real == missing


def test_the_lock_lifts_after_fifteen_minutes(make_case: MakeCase) -> None:
    case = make_case(Status.HANDLING, complainant_phone=PHONE)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        # Given a code locked by five wrong guesses
        assert guess_wrong(case.tracking_code, 5) == [404] * 5
        # Then fourteen minutes later it is still locked
        clock.shift(dt.timedelta(minutes=14))
        assert track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code == 429
        # And after fifteen minutes the right digits open it
        clock.shift(dt.timedelta(minutes=1, seconds=1))
        assert track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code == 200


def test_the_lock_lasts_fifteen_minutes_from_the_fifth_wrong_guess(make_case: MakeCase) -> None:
    case = make_case(Status.HANDLING, complainant_phone=PHONE)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        # Given four wrong guesses, and a fifth ten minutes later
        assert guess_wrong(case.tracking_code, 4) == [404] * 4
        clock.shift(dt.timedelta(minutes=10))
        assert guess_wrong(case.tracking_code, 1, first_ip=50) == [404]
        # Then the lock holds for fifteen minutes from that fifth guess, not from the first
        clock.shift(dt.timedelta(minutes=14))
        assert track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code == 429


def test_right_answers_do_not_count_and_do_not_wipe_the_wrong_ones(make_case: MakeCase) -> None:
    # Given a complainant who checks the case again and again with the right digits
    case = make_case(Status.HANDLING, complainant_phone=PHONE)
    assert guess_wrong(case.tracking_code, 4) == [404] * 4
    assert [track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code for _ in range(8)] == [
        200
    ] * 8
    # When a fifth wrong guess comes in
    assert guess_wrong(case.tracking_code, 1, first_ip=60) == [404]
    # Then the code is locked: the right answers in between did not reset the count
    assert track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code == 429


def test_wrong_guesses_through_the_evaluation_form_count_too(make_case: MakeCase) -> None:
    case = make_case(Status.REPLIED, complainant_phone=PHONE)
    statuses = [
        evaluate(case.tracking_code, WRONG[n], ip=f"198.51.100.{n}").status_code for n in range(5)
    ]
    assert statuses == [404] * 5
    assert track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code == 429


def test_a_right_evaluation_is_saved_and_counts_as_one_right_guess(make_case: MakeCase) -> None:
    case = make_case(Status.REPLIED, complainant_phone=PHONE)
    assert guess_wrong(case.tracking_code, 4) == [404] * 4
    response = evaluate(case.tracking_code, RIGHT, ip="203.0.113.1")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.EVALUATED
    # Still one wrong guess to go before the lock
    assert track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code == 200


def test_the_code_is_counted_as_typed_in_any_case_and_spacing(make_case: MakeCase) -> None:
    case = make_case(Status.HANDLING, complainant_phone=PHONE)
    variants = [
        case.tracking_code.lower(),
        f" {case.tracking_code} ",
        case.tracking_code.title(),
        case.tracking_code,
        f"{case.tracking_code.lower()}\t",
    ]
    statuses = [
        track(code, WRONG[n], ip=f"198.51.100.{n}").status_code for n, code in enumerate(variants)
    ]
    assert statuses == [404] * 5
    assert track(case.tracking_code, RIGHT, ip="203.0.113.1").status_code == 429


def test_locking_one_code_leaves_the_others_open(demo: Demo, make_case: MakeCase) -> None:
    locked = make_case(Status.HANDLING, complainant_phone=PHONE)
    other = make_case(Status.HANDLING, complainant_phone="13912340000")
    assert guess_wrong(locked.tracking_code, 5) == [404] * 5
    assert track(other.tracking_code, "0000", ip="198.51.100.1").status_code == 200
