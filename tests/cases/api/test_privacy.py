"""PIPL: the complainant's full name and phone reach only those who need them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import workflow
from cases.models import Case, Status
from tests.conftest import Demo

NAME, PHONE = "赵先生", "13909712345"


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON body: keys, values, nested lists and objects."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif value is not None:
        yield str(value)


def leaks(body: Any) -> list[str]:
    return [s for s in strings(body) if NAME in s or PHONE in s]


def bodies(client: APIClient, case: Case) -> dict[str, Any]:
    """Every response a user can get about this case and its queue."""
    url = f"/api/v1/cases/{case.pk}/"
    return {
        "list": client.get("/api/v1/cases/").json(),
        "detail": client.get(url).json(),
        "events": client.get(url + "events/").json(),
    }


@pytest.fixture
def handled_case(make_case: Callable[..., Case]) -> Case:
    return make_case(Status.HANDLING, complainant_name=NAME, complainant_phone=PHONE)


def client_for(demo: Demo, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo.user(username))
    return client


@pytest.mark.parametrize("username", ["committee1", "supervisor1", "handler_chengdong"])
def test_bodies_for_people_who_do_not_handle_it_never_hold_the_identity(
    demo: Demo, handled_case: Case, username: str
) -> None:
    for where, body in bodies(client_for(demo, username), handled_case).items():
        assert leaks(body) == [], (username, where)


def test_committee_sees_the_masked_identity(demo: Demo, handled_case: Case) -> None:
    detail = client_for(demo, "committee1").get(f"/api/v1/cases/{handled_case.pk}/").json()
    assert detail["complainant_name"] == "赵**"
    assert detail["complainant_phone"] == "139****2345"


def test_unrelated_handler_does_not_even_see_the_case(demo: Demo, handled_case: Case) -> None:
    response = client_for(demo, "handler_chengdong").get(f"/api/v1/cases/{handled_case.pk}/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "username", ["dispatcher_huangzhong", "handler_huangzhong", "handler_gas", "operator1"]
)
def test_intake_dispatch_and_assigned_units_see_it_whole(
    demo: Demo, handled_case: Case, username: str
) -> None:
    detail = client_for(demo, username).get(f"/api/v1/cases/{handled_case.pk}/").json()
    assert (detail["complainant_name"], detail["complainant_phone"]) == (NAME, PHONE)


@pytest.mark.parametrize(
    ("username", "whole"),
    [
        ("dispatcher_huangzhong", True),
        ("handler_huangzhong", False),
        ("handler_gas", False),
        ("operator1", False),
        ("resident1", True),
    ],
)
def test_hide_identity_leaves_only_the_dispatcher_and_the_complainant(
    demo: Demo, make_case: Callable[..., Case], username: str, whole: bool
) -> None:
    case = make_case(
        Status.HANDLING, complainant_name=NAME, complainant_phone=PHONE, hide_identity=True
    )
    body = bodies(client_for(demo, username), case)
    if whole:
        assert (body["detail"]["complainant_name"], body["detail"]["complainant_phone"]) == (
            NAME,
            PHONE,
        )
    else:
        assert leaks(body) == [], username


def test_public_tracking_never_holds_the_identity(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    case = make_case(Status.REPLIED, complainant_name=NAME, complainant_phone=PHONE)
    response = APIClient().get(
        "/api/v1/track/", {"code": case.tracking_code, "phone_last4": "2345"}
    )
    assert response.status_code == 200
    assert leaks(response.json()) == []
    assert "赵" not in json.dumps(response.json(), ensure_ascii=False)


def test_tracking_with_the_wrong_digits_reveals_nothing(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    case = make_case(Status.HANDLING, complainant_phone=PHONE)
    wrong = APIClient().get("/api/v1/track/", {"code": case.tracking_code, "phone_last4": "0000"})
    unknown = APIClient().get(
        "/api/v1/track/", {"code": "XN-20000101-0001", "phone_last4": "2345"}
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_logs_never_hold_the_identity(
    demo: Demo, make_case: Callable[..., Case], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    case = make_case(Status.CLOSED, complainant_name=NAME, complainant_phone=PHONE)
    bodies(client_for(demo, "committee1"), case)
    assert [
        r.getMessage() for r in caplog.records if NAME in r.getMessage() or PHONE in r.getMessage()
    ] == []


# --- free text: one de-identification rule for every surface ------------------------------------
#
# Personal data typed into a title, a description, a note or a reply follows the rule of the
# name and phone fields (selectors.can_see_identity): whole for the complainant, the dispatchers
# and operators of the jurisdiction and the handling units; masked for everybody else and on
# every public surface.
#
# Every serializer of the API is listed at the end of this module (a test keeps the list
# whole): those that emit case text with the test that checks them for each role, and why the
# others need no masking.

ID_NUMBER = "630102199001011235"  # with its check digit
OTHER_MOBILE = "13812348765"
LANDLINE = "0971-6123456"
CARD = "6222021234567894"  # passes Luhn
EMAIL = "zhao.home@example.com"
# What a resident or a clerk might type: the complainant by name, and their numbers.
FREE_TEXT = (
    f"{NAME}（身份证{ID_NUMBER}，电话{OTHER_MOBILE}，座机{LANDLINE}，卡号{CARD}，邮箱{EMAIL}）"
)
SECRETS = [NAME, PHONE, ID_NUMBER, OTHER_MOBILE, LANDLINE, CARD, EMAIL]
# Facts in the same texts that must stay readable for everybody.
FACTS = ["新村巷38号", "559,300元"]


def text_leaks(body: Any) -> list[str]:
    return [s for s in strings(body) if any(secret in s for secret in SECRETS)]


def note(what: str) -> str:
    return f"{what}：{FREE_TEXT}"


@pytest.fixture
def wordy_case(demo: Demo, make_case: Callable[..., Case]) -> Case:
    """A case whose every free-text field and event note carries personal data: the title, the
    description, the address, each step's note, the reply, the evaluation, and an extension
    request still waiting."""
    case = make_case(
        Status.SUBMITTED,
        title=f"{NAME}家暖气不热 {PHONE}",
        description=f"家里暖气不热，补贴559,300元也没用。{FREE_TEXT}",
        address=f"新村巷38号（{OTHER_MOBILE}）",
        complainant_name=NAME,
        complainant_phone=PHONE,
    )
    operator, dispatcher = demo.user("operator1"), demo.user("dispatcher_huangzhong")
    handler = demo.user("handler_huangzhong")
    workflow.case_accept(case=case, actor=operator, note=note("受理备注"))
    workflow.case_dispatch(
        case=case,
        actor=dispatcher,
        lead_unit=demo.unit("huangzhong-gov"),
        co_units=[demo.unit("xn-gas")],
        note=note("派单备注"),
    )
    workflow.case_sign(case=case, actor=handler)
    workflow.case_record_contact(case=case, actor=handler, note=note("联系备注"))
    workflow.case_add_progress(case=case, actor=handler, text=note("内部进展"))
    workflow.case_add_progress(case=case, actor=handler, text=note("公开进展"), public=True)
    case.refresh_from_db()
    workflow.case_request_extension(
        case=case,
        actor=handler,
        until=case.resolve_by + dt.timedelta(days=5),
        reason=note("延期理由"),
    )
    workflow.case_decide_extension(case=case, actor=dispatcher, approve=True, note="同意")
    workflow.case_supervise(
        case=case,
        actor=demo.user("supervisor1"),
        due_at=timezone.now() + dt.timedelta(days=3),
        note=note("督办意见"),
    )
    workflow.case_recategorise(
        case=case, actor=operator, category=demo.category("heating-leak"), reason=note("改分类")
    )
    workflow.case_reply(case=case, actor=handler, outcome="resolved", text=note("答复"))
    workflow.case_evaluate(
        case=case, actor=demo.user("resident1"), rating="unsatisfied", comment=note("评价")
    )
    workflow.case_reopen(case=case, actor=dispatcher, reason=note("重办理由"))
    case.refresh_from_db()
    workflow.case_request_extension(
        case=case,
        actor=handler,
        until=case.resolve_by + dt.timedelta(days=5),
        reason=note("再次延期"),
    )
    case.refresh_from_db()
    return case


def case_bodies(client: APIClient, case: Case) -> dict[str, Any]:
    """Every body a staff member can read about the case, its queue row and its events."""
    url = f"/api/v1/cases/{case.pk}/"
    return {
        "list": client.get("/api/v1/cases/").json(),
        "detail": client.get(url).json(),
        "events": client.get(url + "events/").json(),
    }


# Staff who read the case but do not handle it: the committee, supervisors of the city and of
# the district, and the administrator (a superuser without a handling role).
WITHOUT_NEED = ["committee1", "supervisor1", "supervisor_huangzhong", "admin"]
# Those who handle it: intake, the district's dispatcher, the lead and the co-handling unit.
WITH_NEED = ["operator1", "dispatcher_huangzhong", "handler_huangzhong", "handler_gas"]


@pytest.mark.parametrize("username", WITHOUT_NEED)
def test_free_text_is_masked_for_readers_without_the_need(
    demo: Demo, wordy_case: Case, username: str
) -> None:
    # Given a case whose texts hold the complainant's name and numbers
    # When a reader who does not handle it opens the queue, the case and its timeline
    found = case_bodies(client_for(demo, username), wordy_case)
    # Then they read it (it is in their sight) but no name or number in any text
    assert found["detail"]["tracking_code"] == wordy_case.tracking_code
    assert found["events"], username
    for where, body in found.items():
        assert text_leaks(body) == [], (username, where)
    # and the texts still say what happened, in the same shape, with the facts left readable
    detail = found["detail"]
    assert all(fact in json.dumps(detail, ensure_ascii=False) for fact in FACTS)
    assert detail["title"] == "赵**家暖气不热 139****2345"
    assert detail["description"].startswith("家里暖气不热，补贴559,300元也没用。赵**（身份证6301")
    assert detail["address"] == "新村巷38号（138****8765）"
    assert "赵**" in detail["reply_text"]
    assert "139****8765" not in detail["pending_extension"]["reason"]
    assert detail["pending_extension"]["reason"].startswith("再次延期：赵**（")
    row = next(r for r in found["list"]["results"] if r["id"] == wordy_case.pk)
    assert (row["title"], row["summary"]) == (detail["title"], detail["title"])


@pytest.mark.parametrize("username", WITHOUT_NEED)
def test_every_note_in_the_timeline_is_masked_for_readers_without_the_need(
    demo: Demo, wordy_case: Case, username: str
) -> None:
    events = client_for(demo, username).get(f"/api/v1/cases/{wordy_case.pk}/events/").json()
    texts = {
        key: value
        for event in events
        for key, value in event["payload"].items()
        if isinstance(value, str) and "：" in value
    }
    # every kind of note is there, masked
    assert set(texts) >= {"note", "reason", "text", "comment"}
    assert all("赵**（身份证6301**********1235" in value for value in texts.values()), texts


@pytest.mark.parametrize("username", WITH_NEED)
def test_staff_who_handle_the_case_read_it_whole(
    demo: Demo, wordy_case: Case, username: str
) -> None:
    found = case_bodies(client_for(demo, username), wordy_case)
    detail = found["detail"]
    assert detail["title"] == f"{NAME}家暖气不热 {PHONE}"
    assert FREE_TEXT in detail["description"]
    assert FREE_TEXT in detail["reply_text"]
    assert FREE_TEXT in detail["pending_extension"]["reason"]
    notes = [e["payload"].get("note", "") for e in found["events"]]
    assert note("派单备注") in notes


@pytest.mark.parametrize(
    ("username", "whole"),
    [
        ("dispatcher_huangzhong", True),
        ("resident1", True),
        ("operator1", False),
        ("handler_huangzhong", False),
        ("handler_gas", False),
        ("committee1", False),
    ],
)
def test_hidden_identity_masks_the_free_text_as_it_masks_the_fields(
    demo: Demo, make_case: Callable[..., Case], username: str, whole: bool
) -> None:
    # Given a complainant who asked the units not to know who they are
    case = make_case(
        Status.HANDLING,
        complainant_name=NAME,
        complainant_phone=PHONE,
        hide_identity=True,
        description=FREE_TEXT,
    )
    detail = client_for(demo, username).get(f"/api/v1/cases/{case.pk}/").json()
    # Then the description names them only to the dispatcher and themselves
    assert (detail["description"] == FREE_TEXT) is whole
    if not whole:
        assert text_leaks(detail) == []


def test_suggestions_mask_possible_duplicates_the_reader_does_not_handle(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    # Given two cases from the same phone, the second hidden from the units
    make_case(Status.SUBMITTED, title=f"{NAME}又反映 {PHONE}", hide_identity=True)
    case = make_case(Status.SUBMITTED, title="暖气不热")
    # When the operator asks for duplicates of the second
    body = client_for(demo, "operator1").get(f"/api/v1/cases/{case.pk}/suggestions/").json()
    # Then the hidden one is listed, its title masked as its name
    [duplicate] = body["possible_duplicates"]
    assert duplicate["title"] == "赵**又反映 139****2345"


# --- public surfaces: masked for everybody ----------------------------------------------------


@pytest.fixture
def answered_case(demo: Demo, make_case: Callable[..., Case]) -> Case:
    """A case answered with the reply the probe found on the home page, and evaluated."""
    case = make_case(
        Status.HANDLING,
        title=f"{NAME}家暖气不热 {PHONE}",
        complainant_name=NAME,
        complainant_phone=PHONE,
    )
    handler = demo.user("handler_huangzhong")
    workflow.case_add_progress(case=case, actor=handler, text=note("公开进展"), public=True)
    workflow.case_reply(
        case=case,
        actor=handler,
        outcome="resolved",
        text=f"已答复赵先生（13912345678，身份证{ID_NUMBER}），{FREE_TEXT}",
    )
    workflow.case_evaluate(case=case, actor=demo.user("resident1"), rating="satisfied")
    case.refresh_from_db()
    return case


def test_public_recent_masks_titles_and_replies(answered_case: Case) -> None:
    # When anybody opens the home page's 近期办结
    body = APIClient().get("/api/v1/public/recent/").json()
    # Then the answer is there without a name or number
    [row] = body
    assert text_leaks(body) == [] and "13912345678" not in str(body)
    assert row["title"] == "赵**家暖气不热 139****2345"
    assert row["reply_text"].startswith("已答复赵**（139****5678，身份证6301**********1235）")


def test_tracking_masks_the_title_the_reply_and_the_timeline(answered_case: Case) -> None:
    # Even the right code and digits (anyone may hold them) give the masked texts
    response = APIClient().get(
        "/api/v1/track/", {"code": answered_case.tracking_code, "phone_last4": PHONE[-4:]}
    )
    assert response.status_code == 200
    body = response.json()
    assert text_leaks(body) == [] and "13912345678" not in str(body)
    assert body["title"] == "赵**家暖气不热 139****2345"
    texts = [line["text"] for line in body["timeline"] if line["text"]]
    assert len(texts) == 2 and all("赵**（身份证6301" in text for text in texts)


def test_masking_keeps_the_list_queries_constant(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(demo, "committee1")
    make_case(Status.HANDLING, title=FREE_TEXT)
    client.get("/api/v1/cases/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/cases/?page_size=50")
    for _ in range(6):
        make_case(Status.HANDLING, title=FREE_TEXT)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/api/v1/cases/?page_size=50").json()
    assert text_leaks(body) == []
    assert len(many) == len(few)


# --- search: it finds no more than the reader is shown ----------------------------------------
#
# ``?q=`` must not answer what masking hides: if 1391234 finds the case and 1391235 does not, the
# masked phone is read back one digit at a time. So a pair of queries, one right and one wrong,
# must give the same answer to every reader who sees the text masked.

SEARCH_NAME, SEARCH_MOBILE = "孙建国", "13912345678"
SEARCH_ID = "630102199001011235"  # a valid check digit: an ID masking recognises
SEARCH_EMAIL = "sun.jianguo@example.com"


@pytest.fixture
def searched_case(make_case: Callable[..., Case]) -> Case:
    return make_case(
        Status.HANDLING,
        title="暖气不热",
        description=(
            f"{SEARCH_NAME}反映家里暖气不热，孙先生说电话{SEARCH_MOBILE}，"
            f"身份证{SEARCH_ID}，邮箱{SEARCH_EMAIL}。"
        ),
        complainant_name=SEARCH_NAME,
        complainant_phone="13897120000",
    )


def found(client: APIClient, query: str) -> set[int]:
    response = client.get("/api/v1/cases/", {"q": query, "page_size": 100})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


# (in the text, not in it): what a reader who sees the text masked must not tell apart.
RIGHT_AND_WRONG = [
    ("1391234", "1391235"),
    ("139", "138"),
    (SEARCH_MOBILE, "13912345679"),
    ("139-1234", "139-1235"),
    ("１３９１２３４", "１３９１２３５"),
    ("19900101", "19900102"),
    ("0101123", "0101124"),
    (SEARCH_ID, "630102199001011243"),
    ("孙建国", "孙建军"),
    ("建国", "建军"),
    ("国反映", "军反映"),
    ("孙建", "孙志"),
    ("先生说", "女士说"),
    ("sun.jianguo", "qian.jianguo"),
    ("jianguo", "zhiqiang"),
    (SEARCH_EMAIL, "qian@example.com"),
]


@pytest.mark.parametrize("username", ["supervisor1", "committee1", "supervisor_huangzhong"])
@pytest.mark.parametrize(("right", "wrong"), RIGHT_AND_WRONG)
def test_search_tells_readers_of_the_masked_text_nothing_more(
    demo: Demo, searched_case: Case, username: str, right: str, wrong: str
) -> None:
    # Given a reader who is shown the description masked
    client = client_for(demo, username)
    detail = client.get(f"/api/v1/cases/{searched_case.pk}/").json()
    assert "139****5678" in detail["description"] and SEARCH_MOBILE not in detail["description"]
    # When they search for what is hidden, and for something else in its place
    # Then the answers are the same
    assert found(client, right) == found(client, wrong), (right, wrong)


@pytest.mark.parametrize(
    "username", ["dispatcher_huangzhong", "handler_huangzhong", "handler_gas"]
)
def test_staff_who_read_it_whole_find_it_by_the_phone_and_the_name(
    demo: Demo, searched_case: Case, username: str
) -> None:
    client = client_for(demo, username)
    for query in ["1391234", SEARCH_MOBILE, "19900101", "孙建国", "sun.jianguo"]:
        assert searched_case.pk in found(client, query), query
    assert searched_case.pk not in found(client, "1391235")


@pytest.mark.parametrize(
    "username",
    [
        "supervisor1",
        "committee1",
        "supervisor_huangzhong",
        "admin",
        "operator1",
        "dispatcher_huangzhong",
        "handler_huangzhong",
        "handler_gas",
        "resident1",
    ],
)
def test_plain_words_and_the_tracking_code_find_it_for_everyone(
    demo: Demo, searched_case: Case, username: str
) -> None:
    client = client_for(demo, username)
    assert searched_case.pk in found(client, "暖气")
    assert searched_case.pk in found(client, "家里暖气不热")
    assert searched_case.pk in found(client, searched_case.tracking_code.lower())
    # and so is the surname the masked text shows (孙**)
    assert searched_case.pk in found(client, "孙")


def test_hidden_identity_keeps_the_handling_unit_from_searching_the_digits(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    case = make_case(
        Status.HANDLING,
        description=f"{SEARCH_NAME}电话{SEARCH_MOBILE}，暖气不热",
        complainant_name=SEARCH_NAME,
        hide_identity=True,
    )
    handler, dispatcher = (
        client_for(demo, "handler_huangzhong"),
        client_for(demo, "dispatcher_huangzhong"),
    )
    assert found(handler, "1391234") == found(handler, "1391235") == set()
    assert found(handler, "孙建国") == found(handler, "孙建军") == set()
    assert case.pk in found(handler, "暖气")
    assert case.pk in found(dispatcher, "1391234") and case.pk in found(dispatcher, "孙建国")


def test_a_placeholder_name_is_no_reason_to_hide_words(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    case = make_case(Status.HANDLING, description="业主委员会不作为", complainant_name="业主")
    assert case.pk in found(client_for(demo, "supervisor1"), "业主委员会")


def test_the_name_field_is_never_searched(demo: Demo, make_case: Callable[..., Case]) -> None:
    make_case(Status.HANDLING, description="暖气不热", complainant_name="孙建国")
    for username in ["supervisor1", "dispatcher_huangzhong"]:
        assert found(client_for(demo, username), "孙建国") == set()


def test_search_is_one_query_whatever_the_page(demo: Demo, make_case: Callable[..., Case]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(demo, "supervisor1")
    make_case(Status.HANDLING, description=f"暖气 {FREE_TEXT}")
    found(client, "暖气")
    with CaptureQueriesContext(connection) as few:
        found(client, "暖气")
    for _ in range(4):
        make_case(Status.HANDLING, description=f"暖气 {FREE_TEXT}")
    with CaptureQueriesContext(connection) as many:
        assert len(found(client, "暖气")) == 5
    assert len(many) == len(few)


# --- the identity rule as a query is the identity rule ------------------------------------------


def test_identity_filter_is_can_see_identity_over_users_and_cases(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    from django.contrib.auth.models import AnonymousUser

    from cases import selectors

    # Given cases of every shape the rule looks at: who raised it, where, hidden or not, and
    # which units handle it
    from org.models import Region, RegionLevel, Role
    from tests.factories import MembershipFactory, UserFactory

    # a community of another district (a case's region is always a community)
    chengdong = (
        Region.objects.filter(
            level=RegionLevel.COMMUNITY, path__startswith=demo.region("城东区").path
        )
        .order_by("pk")
        .first()
    )
    assert chengdong is not None
    base = [make_case(Status.SUBMITTED), make_case(Status.HANDLING)]
    base.append(make_case(Status.HANDLING, actor=demo.user("resident2")))
    shapes = []
    for case in base:
        for hide in (False, True):
            for region in (case.region, chengdong):
                copy = make_case(Status.HANDLING if case.lead_unit_id else Status.SUBMITTED)
                Case.objects.filter(pk=copy.pk).update(
                    hide_identity=hide,
                    # with its denormalised street and district, as case_submit writes them
                    region=region,
                    district_id=region.ancestor_ids[1],
                    street_id=region.ancestor_ids[2],
                    complainant=case.complainant,
                )
                shapes.append(copy.pk)
    anonymous = make_case(Status.HANDLING)
    Case.objects.filter(pk=anonymous.pk).update(complainant=None)
    gas_only = make_case(Status.HANDLING)
    Case.objects.filter(pk=gas_only.pk).update(lead_unit=demo.unit("chengdong-gov"))
    cases = list(
        Case.objects.filter(pk__in=[*shapes, anonymous.pk, gas_only.pk])
        .select_related("region")
        .prefetch_related("co_units")
    )
    # and users in every role, one in two roles at once
    both = UserFactory(username="operator_and_gas")
    MembershipFactory(user=both, unit=demo.unit("chengdong-gov"), role=Role.OPERATOR)
    MembershipFactory(user=both, unit=demo.unit("xn-gas"), role=Role.HANDLER)
    users: list[Any] = [AnonymousUser(), both]
    users += [demo.user(name) for name in ["resident1", "resident2", *WITHOUT_NEED, *WITH_NEED]]
    users += [demo.user(name) for name in ["dispatcher_city", "dispatcher_chengdong"]]
    users += [demo.user(name) for name in ["handler_chengdong", "leader_huangzhong"]]
    # Then the query keeps exactly the cases the function says yes to
    table = {}
    for user in users:
        by_query = set(
            Case.objects.filter(selectors.identity_filter(user)).values_list("pk", flat=True)
        )
        table[str(user)] = (
            by_query & {c.pk for c in cases},
            {c.pk for c in cases if selectors.can_see_identity(user, c)},
        )
    assert {u: q for u, (q, _f) in table.items()} == {u: f for u, (_q, f) in table.items()}
    # and the table is not trivial
    assert any(q for q, _f in table.values()) and any(not q for q, _f in table.values())


# --- events by audience -----------------------------------------------------------------------

# The demo staff's display names: a resident reads units, never people.
STAFF_NAMES = ["王接线", "马派单", "韩承办", "华润燃气抢修", "刘督查", "湟中督查"]


def test_the_complainant_reads_public_events_with_units_but_no_staff_or_internal_notes(
    demo: Demo, wordy_case: Case
) -> None:
    # When the resident who raised the case opens its timeline
    response = client_for(demo, "resident1").get(f"/api/v1/cases/{wordy_case.pk}/events/")
    assert response.status_code == 200
    events = response.json()
    text = json.dumps(events, ensure_ascii=False)
    # Then only the public steps are there
    assert all(e["is_public"] for e in events)
    types = [e["type"] for e in events]
    assert "contact" not in types and "recategorise" not in types
    assert "request_extension" not in types and "decide_extension" not in types
    assert [e["payload"]["text"] for e in events if e["type"] == "progress"] == [note("公开进展")]
    # with the units that did the work and none of the people
    assert "湟中区人民政府" in text
    assert [name for name in STAFF_NAMES if name in text] == []
    assert {e["actor"] for e in events} <= {"诉求人", None}
    # and none of the notes staff wrote to each other
    for internal in ["受理备注", "派单备注", "内部进展", "督办意见", "重办理由", "延期", "改分类"]:
        assert internal not in text, internal
    assert '"role"' not in text
    # while what was answered to them, and what they said, is theirs to read whole
    reply = next(e for e in events if e["type"] == "reply")
    assert reply["payload"]["text"] == note("答复")
    evaluation = next(e for e in events if e["type"] == "evaluate")
    assert evaluation["payload"]["comment"] == note("评价")
    # and the case itself does not show them the unit's pending request for more time
    detail = client_for(demo, "resident1").get(f"/api/v1/cases/{wordy_case.pk}/").json()
    assert detail["pending_extension"] is None


def test_a_staff_member_who_only_raised_the_case_reads_it_as_a_resident(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    # Given a 城东 handler who complains, signed in, about their family's heating in 湟中
    handler = demo.user("handler_chengdong")
    case = make_case(Status.HANDLING, actor=handler)
    workflow.case_add_progress(
        case=case, actor=demo.user("handler_huangzhong"), text="内部：先查管网图纸"
    )
    # Then their staff role elsewhere does not open the internal notes of their own case
    events = client_for(demo, "handler_chengdong").get(f"/api/v1/cases/{case.pk}/events/").json()
    assert "内部：先查管网图纸" not in json.dumps(events, ensure_ascii=False)
    assert "韩承办" not in json.dumps(events, ensure_ascii=False)


@pytest.mark.parametrize("username", ["dispatcher_huangzhong", "committee1"])
def test_staff_keep_the_whole_timeline_with_names(
    demo: Demo, wordy_case: Case, username: str
) -> None:
    events = client_for(demo, username).get(f"/api/v1/cases/{wordy_case.pk}/events/").json()
    types = {e["type"] for e in events}
    assert {"contact", "recategorise", "request_extension", "decide_extension"} <= types
    assert "马派单" in {e["actor"] for e in events}


def test_events_schema_is_the_bare_list_the_endpoint_returns(demo: Demo, wordy_case: Case) -> None:
    from django.core.management import call_command

    path = "/api/v1/cases/{id}/events/"
    schema = json.loads(_schema_json(call_command))
    operation = schema["paths"][path]["get"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    # a timeline takes no list filters or cursor
    assert [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"] == []
    returned = client_for(demo, "committee1").get(path.replace("{id}", str(wordy_case.pk)))
    assert isinstance(returned.json(), list)


def _schema_json(call_command: Callable[..., Any]) -> str:
    import io

    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    return out.getvalue()


def test_detail_schema_says_duplicate_of_may_be_null() -> None:
    from django.core.management import call_command

    schema = json.loads(_schema_json(call_command))
    assert schema["components"]["schemas"]["CaseDetail"]["properties"]["duplicate_of"]["nullable"]


# --- messages: no free text leaves by SMS or e-mail -------------------------------------------


def test_messages_to_staff_and_complainant_carry_no_free_text(
    demo: Demo, wordy_case: Case
) -> None:
    # Given every message the wordy case's steps queued (SMS and e-mail to the complainant, to
    # the units and to their leaders)
    from django.conf import settings

    from notifications import messages
    from notifications.models import Notification, OutboxMessage

    rows = [*OutboxMessage.objects.all(), *Notification.objects.all()]
    rendered = [messages.render(row.kind, row.params, settings.LANGUAGE_CODE) for row in rows]
    assert rendered
    # Then no message repeats what was typed into the case
    for title, body in rendered:
        assert text_leaks([title, body]) == [], body
        assert "暖气不热" not in body


# --- the list of every serializer, and who checks it ------------------------------------------


def _api_modules() -> list[str]:
    """Every module of the apps' API packages (found, not listed: a new module is checked the
    day it is written)."""
    import importlib
    import pkgutil

    names = []
    for package in ("cases.api", "notifications.api", "org.api", "stats.api", "topics.api"):
        path = importlib.import_module(package).__path__
        names += [f"{package}.{m.name}" for m in pkgutil.walk_packages(path) if not m.ispkg]
    return sorted(names)


SERIALIZER_MODULES = _api_modules()
TOPIC_TESTS = "tests.topics.api.test_privacy"
# Serializers that emit free text about a case → (the fields, the test module, the test).
CASE_TEXT: dict[str, tuple[str, str, str]] = {
    "cases.api.serializers.CaseListSerializer": (
        "title, summary (list; suggestions' possible_duplicates)",
        __name__,
        "test_free_text_is_masked_for_readers_without_the_need",
    ),
    "cases.api.serializers.CaseDetailSerializer": (
        "title, summary, description, address, reply_text (detail, every action's answer)",
        __name__,
        "test_free_text_is_masked_for_readers_without_the_need",
    ),
    "cases.api.serializers.PendingExtensionSerializer": (
        "reason (in the detail)",
        __name__,
        "test_free_text_is_masked_for_readers_without_the_need",
    ),
    "cases.api.serializers.PendingReturnSerializer": (
        "reason (in the detail)",
        "tests.cases.test_reroute",
        "test_the_pending_request_is_masked_for_readers_without_the_need",
    ),
    "cases.api.serializers.EventSerializer": (
        "payload note, reason, text, reply, comment; staff names (events)",
        __name__,
        "test_every_note_in_the_timeline_is_masked_for_readers_without_the_need",
    ),
    "cases.api.serializers.SuggestionsSerializer": (
        "possible_duplicates (CaseListSerializer)",
        __name__,
        "test_suggestions_mask_possible_duplicates_the_reader_does_not_handle",
    ),
    "cases.api.serializers.PublicCaseSerializer": (
        "title, reply_text (track)",
        __name__,
        "test_tracking_masks_the_title_the_reply_and_the_timeline",
    ),
    "cases.api.serializers.PublicEventSerializer": (
        "text (track timeline)",
        __name__,
        "test_tracking_masks_the_title_the_reply_and_the_timeline",
    ),
    "cases.api.serializers.MergedIntoSerializer": (
        "reply_text, timeline of the main case (track of a case merged into it)",
        "tests.cases.test_merge",
        "test_the_tracking_page_of_a_merged_case_shows_the_main_case_without_its_complainant",
    ),
    "cases.api.serializers.SimilarSerializer": (
        "cases (CaseListSerializer) for intake staff; a count and names for anyone else",
        "tests.cases.test_similar",
        "test_residents_and_visitors_get_a_count_and_names_only",
    ),
    "cases.api.serializers.PublicResultSerializer": (
        "title, reply_text (public/recent)",
        __name__,
        "test_public_recent_masks_titles_and_replies",
    ),
    "notifications.api.views.NotificationSerializer": (
        "title, body rendered from cases.messages, which takes no free text",
        __name__,
        "test_messages_to_staff_and_complainant_carry_no_free_text",
    ),
    "topics.api.serializers.TopicCaseSerializer": (
        "title of the linked cases (topic detail, every topic action's answer)",
        TOPIC_TESTS,
        "test_linked_case_titles_are_masked_for_every_topic_reader",
    ),
    "topics.api.serializers.TopicDetailSerializer": (
        "cases (TopicCaseSerializer)",
        TOPIC_TESTS,
        "test_a_topic_action_answers_with_the_masked_cases_too",
    ),
    "stats.api.views.CandidateParams": (
        "the candidates' sample_cases titles (stats.candidates.candidates), and their export",
        TOPIC_TESTS,
        "test_candidate_sample_titles_are_masked",
    ),
}
# Serializers whose output holds no text typed about a case, and why.
NO_CASE_TEXT: dict[str, str] = {
    "cases.api.serializers.CategorySerializer": "reference data",
    "cases.api.serializers.NamedSerializer": "names of units, regions, categories",
    "cases.api.serializers.AttachmentSerializer": "file name of a stored, re-encoded upload",
    "cases.api.serializers.ReplyTemplateSerializer": "staff's stock answers, not about a case",
    "cases.api.serializers.QueueCountsSerializer": "counts",
    "cases.api.serializers.SubmittedSerializer": "the new case's id and code",
    "cases.api.serializers.SuggestionSerializer": "units and the 权责清单 rule that matched",
    "cases.api.serializers.SuggestSerializer": "智能派单: categories and units, never the text",
    "cases.api.serializers.CategorySuggestionSerializer": "a category, a probability, units",
    "cases.api.serializers.SuggestedCategorySerializer": "reference data",
    "cases.api.serializers.RuleUnitSerializer": "a unit and the 权责清单 rule's note",
    "cases.api.serializers.LearnedUnitSerializer": "a unit and counts",
    "cases.api.knowledge.KnowledgeArticleSerializer": "知识库: policy answers written by units",
    "cases.api.knowledge.KnowledgeHitSerializer": "知识库 articles and the words they share",
    "cases.api.knowledge.KeptArticleSerializer": "知识库: units' answers, dates, version counts",
    "notifications.api.views.UnreadSerializer": "a count",
    "notifications.api.views.PreferenceSerializer": "a kind of message and two choices",
    "topics.api.serializers.TopicUnitSerializer": "unit names",
    "topics.api.serializers.TopicNamedSerializer": "names of categories and regions",
    "topics.api.serializers.TopicListSerializer": "the topic's own fields, written by staff",
    "topics.api.serializers.TopicBoardSerializer": "the topic's own fields and indicators",
    "topics.api.serializers.TopicTaskSerializer": "measures written by staff",
    "topics.api.serializers.TaskSupervisionSerializer": "督办 notes written by staff",
    "topics.api.serializers.ProgressReportSerializer": "周调度 reports written by units",
    "topics.api.serializers.IndicatorSerializer": "targets and figures",
    "topics.api.serializers.IndicatorValueSerializer": "figures",
    "topics.api.serializers.PolicyDocumentSerializer": "official documents' titles",
    "topics.api.serializers.PlanSerializer": "topics and tasks",
    "topics.api.serializers.PlanMonthSerializer": "topics and tasks",
    "topics.api.serializers.PlanTopicSerializer": "topics and tasks",
    "topics.api.serializers.PlanTaskSerializer": "tasks",
    "topics.api.serializers.ScheduleSerializer": "倒排工期: tasks' titles and dates",
    "topics.api.serializers.PlannedTaskSerializer": "a task's title, unit and dates",
    "topics.api.serializers.UnplannedTaskSerializer": "a task's title",
    "stats.api.serializers.BulletinSerializer": "月通报 built from topics and figures",
    "stats.api.exports.ExportJobSerializer": "a job's state (tables: see the topic tests)",
    "stats.api.reports.ReportSummarySerializer": "日报/周报 figures",
    "stats.api.reports.ReportSerializer": "日报/周报 figures by district, unit and category",
    "stats.api.views.KnowledgeRowSerializer": "知识库 questions written by units, and counts",
    "stats.api.views.RateRowSerializer": "一次办结率: staff or category names, and counts",
    "stats.api.effect.EffectSerializer": "成效: category and region names, counts and rates",
    "stats.api.effect.EffectWindowSerializer": "成效: dates, counts and rates",
    "stats.api.effect.EffectWeekSerializer": "成效: dates and counts",
    "stats.api.effect.EffectReferenceSerializer": "成效: counts",
    "stats.api.effect.EffectIntervalSerializer": "成效: the test's ratio and interval",
    "org.api.serializers.RegionSerializer": "reference data",
    "org.api.serializers.RegionClassSerializer": "reference data (社区分类)",
    "org.api.serializers.UnitSerializer": "reference data",
    "org.api.serializers.MembershipSerializer": "the reader's own roles",
    "org.api.serializers.MeSerializer": "the reader's own account",
}
# Serializers that only read a request (they emit nothing).
INPUTS = {
    "cases.api.serializers." + name
    for name in [
        "CaseSubmitSerializer", "AcceptSerializer", "RejectSerializer", "ReplyTextSerializer",
        "DispatchSerializer", "ReasonSerializer", "ProgressSerializer", "ContactSerializer",
        "ExtensionRequestSerializer", "ExtensionDecisionSerializer", "ReturnDecisionSerializer",
        "CaseReplySerializer",
        "EvaluateSerializer", "TrackEvaluateSerializer", "SuperviseSerializer",
        "RecategoriseSerializer", "CloseSerializer", "RatesQuerySerializer",
        "MergeSerializer", "SimilarQuerySerializer", "SuggestQuerySerializer",
        "ResolveAtIntakeSerializer", "CategoryPlaceQuery",
    ]
} | {
    "topics.api.serializers." + name
    for name in [
        "TopicCreateSerializer", "CandidateAdoptSerializer", "TopicAdoptSerializer",
        "TopicStartSerializer", "TopicCloseSerializer", "TopicCarryOverSerializer",
        "TopicTaskCreateSerializer", "TopicTaskUpdateSerializer", "TaskSuperviseSerializer",
        "ProgressReportCreateSerializer", "IndicatorCreateSerializer",
        "IndicatorValueCreateSerializer", "PolicyDocumentCreateSerializer",
        "PlanAcceptSerializer",
    ]
} | {
    "stats.api.serializers.BulletinEditSerializer",
    "stats.api.bulletins.BulletinDraftSerializer",
    "stats.api.reports.ReportRequestSerializer",
    "stats.api.map.CaseMapParams",
    "stats.api.exports.ExportParams",
    "stats.api.views.PeriodParams",
    "stats.api.views.FirstCallParams",
    "stats.api.effect.EffectParams",
    "stats.api.views.TrendParams",
    "stats.api.views.RankingParams",
    "org.api.serializers.RegisterSerializer",
    "cases.api.knowledge.KnowledgeQuerySerializer",
    "cases.api.knowledge.KnowledgeArticleWriteSerializer",
}  # fmt: skip


def test_every_serializer_is_listed_with_its_check_or_its_reason() -> None:
    import importlib
    import inspect

    from rest_framework.serializers import BaseSerializer

    # Given every serializer class the API modules define
    found = set()
    for module_name in SERIALIZER_MODULES:
        module = importlib.import_module(module_name)
        found |= {
            f"{module_name}.{name}"
            for name, value in vars(module).items()
            if inspect.isclass(value)
            and issubclass(value, BaseSerializer)
            and value.__module__ == module_name
        }
    # Then each is listed once: case text with its test, or a reason, or as an input
    listed = [*CASE_TEXT, *NO_CASE_TEXT, *INPUTS]
    assert len(listed) == len(set(listed))
    assert found - set(listed) == set(), "a new serializer: does it emit case text?"
    # and each named test exists
    for _fields, module_name, test in CASE_TEXT.values():
        assert callable(getattr(importlib.import_module(module_name), test)), test


def test_a_community_moved_to_another_district_takes_its_cases_along(
    demo: Demo, make_case: Callable[..., Case]
) -> None:
    """区划调整: the queues (the case's street and district columns) and the permission checks
    (the community's path) must keep agreeing, or a dispatcher could read masked text back."""
    from cases import selectors
    from org.models import Region, RegionLevel

    case = make_case(Status.SUBMITTED)
    community = case.region
    street = (
        Region.objects.filter(
            level=RegionLevel.STREET, path__startswith=demo.region("城东区").path
        )
        .order_by("pk")
        .first()
    )
    assert street is not None
    # When an administrator moves the community to a street of another district
    community.parent = street
    community.save()
    case.refresh_from_db()
    # Then its cases follow it, and every reader's list agrees with their permission
    assert (case.street_id, case.district_id) == (street.pk, street.parent_id)
    case = Case.objects.select_related("region").prefetch_related("co_units").get(pk=case.pk)
    for username in ["dispatcher_huangzhong", "dispatcher_chengdong", "dispatcher_city"]:
        user = demo.user(username)
        listed = Case.objects.filter(selectors.visibility_filter(user), pk=case.pk).exists()
        shown = Case.objects.filter(selectors.identity_filter(user), pk=case.pk).exists()
        assert shown == selectors.can_see_identity(user, case), username
        assert listed == (username != "dispatcher_huangzhong"), username
