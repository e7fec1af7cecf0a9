"""The topic API through HTTP: lifecycle, permissions, nested writes, plan, query counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from org.models import User
from tests.conftest import Demo
from topics import workflow
from topics.api.steps import STEPS
from topics.models import Topic, TopicEvent, TopicStatus

pytestmark = pytest.mark.django_db
D = dt.date
URL = "/api/v1/topics/"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_lifecycle_through_http(demo: Demo, lead: User) -> None:
    committee = client_for(demo.user("committee1"))
    # Given the committee proposes a candidate
    response = committee.post(
        URL,
        {
            "title": "不动产登记历史遗留问题",
            "month": "2026-03-01",
            "theme": "problem_solving",
            "lead_unit": demo.unit("xn-planning").pk,
            "cooperating_units": [demo.unit("xn-housing").pk],
            "leader_name": "演示领导",
            "leader_title": "副市长",
            "categories": [demo.category("real-estate").pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["status"] == "candidate"
    # When it is adopted, started by the lead unit and closed (销号)
    r = committee.post(f"{URL}{pk}/adopt/", {"adopted_on": "2026-03-02"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "adopted"
    r = client_for(lead).post(f"{URL}{pk}/start/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    r = committee.post(f"{URL}{pk}/close/", {"summary": "问题已解决。"}, format="json")
    # Then it is closed, with four events
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "closed"
    assert r.json()["closing_summary"] == "问题已解决。"
    assert TopicEvent.objects.filter(topic_id=pk).count() == 4


def test_close_with_evidence_files(
    make_topic: Callable[..., Topic], demo: Demo, media_root: Any
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    evidence = SimpleUploadedFile("验收.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    r = client_for(demo.user("committee1")).post(
        f"{URL}{topic.pk}/close/",
        {"summary": "销号。", "evidence": [evidence]},
        format="multipart",
    )
    assert r.status_code == 200, r.json()
    assert [d["kind"] for d in r.json()["documents"]] == ["evidence"]


def test_a_bad_file_in_a_list_is_a_readable_message(
    make_topic: Callable[..., Topic], demo: Demo, media_root: Any
) -> None:
    # A list field's error comes keyed by position ({0: [...]}): the reader gets the message
    topic = make_topic(TopicStatus.IN_PROGRESS)
    r = client_for(demo.user("committee1")).post(
        f"{URL}{topic.pk}/close/", {"summary": "销号。", "evidence": ["not a file"]}
    )
    assert r.status_code == 400
    assert r.json()["fields"]["evidence"] == ["提交的数据不是一个文件。请检查表单的编码类型。"]
    topic.refresh_from_db()
    assert topic.status == TopicStatus.IN_PROGRESS


def test_carry_over_through_http(make_topic: Callable[..., Topic], demo: Demo) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    r = client_for(demo.user("committee1")).post(
        f"{URL}{topic.pk}/carry-over/", {"to_month": "2026-04-01"}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["end_month"]) == ("carried_over", "2026-04-01")
    r = client_for(demo.user("committee1")).post(
        f"{URL}{topic.pk}/carry-over/", {"to_month": "2026-03-01"}, format="json"
    )
    assert r.status_code == 400
    assert "to_month" in r.json()["fields"]


ACTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "adopt": (TopicStatus.CANDIDATE, {"adopted_on": "2026-03-02"}),
    "start": (TopicStatus.ADOPTED, {}),
    "close": (TopicStatus.IN_PROGRESS, {"summary": "已解决"}),
    "carry-over": (TopicStatus.IN_PROGRESS, {"to_month": "2026-05-01"}),
    "schedule/accept": (TopicStatus.IN_PROGRESS, {}),
}
# role → action → expected status code
COLUMNS = ("adopt", "start", "close", "carry-over", "schedule/accept")
EXPECTED: dict[str, dict[str, int]] = {
    role: dict(zip(COLUMNS, codes, strict=True))
    for role, codes in {
        "committee":     (200, 200, 200, 200, 403),
        "admin":         (200, 200, 200, 200, 403),
        "supervisor":    (403, 403, 403, 403, 403),
        "lead":          (403, 200, 403, 403, 200),
        "cooperator":    (403, 403, 403, 403, 403),
        "other_handler": (404, 404, 404, 404, 404),
        "resident":      (404, 404, 404, 404, 404),
    }.items()
}  # fmt: skip


def test_the_table_has_a_row_for_every_decision() -> None:
    """The committee's transitions (routes that answer the topic) are the table's columns; the
    lead unit's nested writes have their own tests below."""
    decisions = {step.path for step in STEPS if step.route and step.created is None}
    assert sorted(ACTIONS) == sorted(decisions)
    assert all(sorted(row) == sorted(decisions) for row in EXPECTED.values())


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize("action", ACTIONS)
def test_permission_table(
    role: str, action: str, actors: dict[str, User], make_topic: Callable[..., Topic]
) -> None:
    state, body = ACTIONS[action]
    topic = make_topic(state)
    if action == "schedule/accept":  # a task with a 工期 whose dates the plan moves
        workflow.task_add(
            topic=topic, actor=actors["lead"], title="摸底建账",
            owner_unit=topic.lead_unit, workdays=5,
        )  # fmt: skip
    events = TopicEvent.objects.filter(topic=topic).count()
    r = client_for(actors[role]).post(f"{URL}{topic.pk}/{action}/", body, format="json")
    expected = EXPECTED[role][action]
    assert r.status_code == expected, r.content
    topic.refresh_from_db()
    if expected != 200:
        assert topic.status == state
        assert TopicEvent.objects.filter(topic=topic).count() == events
        assert set(r.json()) == {"code", "message", "fields"}


def test_wrong_state_is_409(make_topic: Callable[..., Topic], demo: Demo) -> None:
    topic = make_topic(TopicStatus.CLOSED)
    r = client_for(demo.user("committee1")).post(f"{URL}{topic.pk}/start/", {}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "conflict"


def test_anonymous_is_refused(make_topic: Callable[..., Topic]) -> None:
    topic = make_topic()
    for response in (client_for(None).get(URL), client_for(None).get(f"{URL}{topic.pk}/")):
        assert (response.status_code, response.json()["code"]) == (403, "not_authenticated")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("committee", 201), ("supervisor", 201), ("admin", 201), ("lead", 403), ("resident", 403)],
)
def test_who_may_propose(role: str, expected: int, actors: dict[str, User], demo: Demo) -> None:
    r = client_for(actors[role]).post(
        URL,
        {"title": "推进基层减负", "month": "2026-04-01", "theme": "burden_reduction",
         "lead_unit": demo.unit("xn-civil").pk},
        format="json",
    )  # fmt: skip
    assert r.status_code == expected, r.content


def test_proposing_with_a_bad_body_is_400_for_the_committee(demo: Demo) -> None:
    r = client_for(demo.user("committee1")).post(URL, {"title": ""}, format="json")
    assert r.status_code == 400
    assert {"title", "month", "theme", "lead_unit"} <= set(r.json()["fields"])


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("committee", True),
        ("supervisor", True),
        ("admin", True),
        ("lead", True),
        ("cooperator", True),
        ("other_handler", False),
        ("resident", False),
    ],
)
def test_visibility(
    role: str, sees: bool, actors: dict[str, User], make_topic: Callable[..., Topic]
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    client = client_for(actors[role])
    ids = [t["id"] for t in client.get(URL).json()["results"]]
    assert (topic.pk in ids) is sees
    assert client.get(f"{URL}{topic.pk}/").status_code == (200 if sees else 404)


# --- nested writes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("lead", 201), ("cooperator", 403), ("committee", 403), ("supervisor", 403),
     ("other_handler", 404)],
)  # fmt: skip
def test_nested_writes_by_the_lead_unit_only(
    role: str, expected: int, actors: dict[str, User], make_topic: Callable[..., Topic], demo: Demo
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    client = client_for(actors[role])
    task = client.post(
        f"{URL}{topic.pk}/tasks/",
        {"title": "摸底建账", "owner_unit": demo.unit("xn-planning").pk, "deadline": "2026-12-31"},
        format="json",
    )
    report = client.post(
        f"{URL}{topic.pk}/reports/", {"week": "2026-03-09", "done": "成立专班"}, format="json"
    )
    indicator = client.post(
        f"{URL}{topic.pk}/indicators/",
        {"name": "已办证户数", "unit_of_measure": "户", "target": "3242"},
        format="json",
    )
    assert (task.status_code, report.status_code, indicator.status_code) == (expected,) * 3
    if expected != 201:
        assert not topic.tasks.exists()
        assert not topic.reports.exists()
        assert not topic.indicators.exists()


def test_task_patch_and_indicator_values(
    make_topic: Callable[..., Topic], demo: Demo, lead: User, cooperator: User
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    client = client_for(lead)
    task_id = client.post(
        f"{URL}{topic.pk}/tasks/",
        {"title": "集中办证", "owner_unit": demo.unit("xn-planning").pk, "deadline": "2026-12-31"},
        format="json",
    ).json()["id"]
    r = client.patch(f"{URL}{topic.pk}/tasks/{task_id}/", {"progress": 50}, format="json")
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["progress"]) == ("doing", 50)
    r = client_for(cooperator).patch(
        f"{URL}{topic.pk}/tasks/{task_id}/", {"status": "done"}, format="json"
    )
    assert r.status_code == 403
    r = client.patch(f"{URL}{topic.pk}/tasks/{task_id}/", {"progress": 150}, format="json")
    assert r.status_code == 400

    ind = client.post(
        f"{URL}{topic.pk}/indicators/",
        {"name": "东府嘉和小区已办证户数", "unit_of_measure": "户", "target": "3242"},
        format="json",
    ).json()
    for day, value in [("2026-04-30", "380"), ("2026-05-31", "650")]:
        r = client.post(
            f"{URL}{topic.pk}/indicators/{ind['id']}/values/",
            {"date": day, "value": value},
            format="json",
        )
        assert r.status_code == 201, r.json()
    assert r.json()["actual"] == "650.00"
    assert [v["value"] for v in r.json()["values"]] == ["380.00", "650.00"]
    detail = client.get(f"{URL}{topic.pk}/").json()
    assert detail["indicators"][0]["values"][-1]["value"] == "650.00"
    assert detail["tasks"][0]["progress"] == 50


def test_second_report_for_the_same_week_is_refused(
    make_topic: Callable[..., Topic], lead: User
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    client = client_for(lead)
    first = client.post(
        f"{URL}{topic.pk}/reports/", {"week": "2026-03-10", "done": "a"}, format="json"
    )
    second = client.post(
        f"{URL}{topic.pk}/reports/", {"week": "2026-03-12", "done": "b"}, format="json"
    )
    assert first.status_code == 201
    assert first.json()["week"] == "2026-03-09"
    assert second.status_code == 409
    assert topic.reports.count() == 1


@time_machine.travel(dt.datetime(2026, 6, 15, 10, tzinfo=dt.UTC), tick=False)
def test_supervise_a_late_task(
    make_topic: Callable[..., Topic], demo: Demo, lead: User, actors: dict[str, User]
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS)
    task = workflow.task_add(
        topic=topic, actor=lead, title="税费清缴", owner_unit=demo.unit("chengdong-gov"),
        deadline=D(2026, 6, 1),
    )  # fmt: skip
    url = f"{URL}{topic.pk}/tasks/{task.pk}/supervise/"
    assert client_for(lead).post(url, {"note": "x"}, format="json").status_code == 403
    r = client_for(actors["supervisor"]).post(url, {"note": "请本周完成。"}, format="json")
    assert r.status_code == 201, r.json()
    detail = client_for(actors["committee"]).get(f"{URL}{topic.pk}/").json()
    assert detail["tasks"][0]["is_overdue"] is True
    assert detail["tasks"][0]["supervisions"][0]["note"] == "请本周完成。"


def test_documents_upload_and_download(
    make_topic: Callable[..., Topic], lead: User, actors: dict[str, User], media_root: Any
) -> None:
    topic = make_topic(TopicStatus.ADOPTED)
    client = client_for(lead)
    not_pdf = SimpleUploadedFile("a.pdf", b"<html>", content_type="application/pdf")
    r = client.post(
        f"{URL}{topic.pk}/documents/", {"title": "方案", "file": not_pdf}, format="multipart"
    )
    assert r.status_code == 400
    pdf = SimpleUploadedFile("方案.pdf", b"%PDF-1.7\nbody\n%%EOF", content_type="application/pdf")
    r = client.post(
        f"{URL}{topic.pk}/documents/",
        {
            "title": "实施方案",
            "number": "宁政办〔2023〕88号",
            "issued_on": "2023-09-20",
            "file": pdf,
        },
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    doc_url = f"{URL}{topic.pk}/documents/{r.json()['id']}/"
    download = client_for(actors["cooperator"]).get(doc_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert client_for(actors["other_handler"]).get(doc_url).status_code == 404


# --- list, filters, plan, query counts ------------------------------------------------------


def test_list_filters(make_topic: Callable[..., Topic], demo: Demo) -> None:
    march = make_topic(TopicStatus.IN_PROGRESS)
    may = make_topic(
        TopicStatus.CANDIDATE, title="推进基层减负", month=D(2026, 5, 1), theme="burden_reduction",
        lead_unit=demo.unit("xn-civil"), cooperating_units=[],
    )  # fmt: skip
    client = client_for(demo.user("committee1"))

    def ids(query: str) -> set[int]:
        return {t["id"] for t in client.get(f"{URL}?{query}").json()["results"]}

    assert ids("status=in_progress") == {march.pk}
    assert ids("theme=burden_reduction") == {may.pk}
    assert ids(f"lead_unit={demo.unit('xn-civil').pk}") == {may.pk}
    assert ids("month_from=2026-04-01") == {may.pk}
    assert ids("month_to=2026-04-30") == {march.pk}
    assert ids("month_from=2026-03-01&month_to=2026-05-01") == {march.pk, may.pk}


@time_machine.travel(dt.datetime(2026, 6, 15, 10, tzinfo=dt.UTC), tick=False)
def test_plan_for_the_year(make_topic: Callable[..., Topic], demo: Demo, lead: User) -> None:
    topic = make_topic(TopicStatus.CARRIED_OVER)  # March, carried over to April
    workflow.task_add(
        topic=topic, actor=lead, title="税费清缴", owner_unit=demo.unit("chengdong-gov"),
        start_date=D(2026, 3, 2), deadline=D(2026, 6, 1),
    )  # fmt: skip
    make_topic(TopicStatus.CANDIDATE, title="候选题目")  # candidates are not planned
    r = client_for(demo.user("committee1")).get(f"{URL}plan/?year=2026")
    assert r.status_code == 200
    months = r.json()["months"]
    assert [m["month"] for m in months] == ["2026-03-01", "2026-04-01"]
    task = months[0]["topics"][0]["tasks"][0]
    assert task["title"] == "税费清缴"
    assert task["owner"]["code"] == "chengdong-gov"
    assert (task["start"], task["deadline"], task["is_overdue"]) == (
        "2026-03-02",
        "2026-06-01",
        True,
    )
    assert client_for(demo.user("committee1")).get(f"{URL}plan/?year=abc").status_code == 400


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _fill(topic: Topic, demo: Demo, lead: User, n: int) -> None:
    for i in range(n):
        workflow.task_add(
            topic=topic, actor=lead, title=f"任务{i}", owner_unit=demo.unit("xn-housing"),
            deadline=D(2026, 12, 31),
        )  # fmt: skip
        ind = workflow.indicator_add(topic=topic, actor=lead, name=f"指标{i}")
        workflow.indicator_record(indicator=ind, actor=lead, value=i, date=D(2026, 3, 1))  # type: ignore[arg-type]
        workflow.report_add(
            topic=topic, actor=lead, week=D(2026, 3, 2) + dt.timedelta(weeks=i), done="x"
        )


def test_list_and_detail_query_counts_are_constant(
    make_topic: Callable[..., Topic], demo: Demo, lead: User
) -> None:
    client = client_for(demo.user("committee1"))
    first = make_topic(TopicStatus.IN_PROGRESS)
    _fill(first, demo, lead, 1)
    client.get(URL)  # warm up: the user's memberships are loaded once per user object
    list_one, detail_one = _queries(client, URL), _queries(client, f"{URL}{first.pk}/")
    for _i in range(3):
        _fill(make_topic(TopicStatus.IN_PROGRESS), demo, lead, 0)
    _fill(first, demo, lead, 0)
    more = make_topic(TopicStatus.IN_PROGRESS)
    _fill(more, demo, lead, 4)
    assert _queries(client, URL) == list_one
    assert _queries(client, f"{URL}{more.pk}/") == detail_one


def test_board_is_one_request_in_constant_queries(
    make_topic: Callable[..., Topic], demo: Demo, lead: User
) -> None:
    # Given a topic in progress with a task, an indicator with a reading and two weekly reports
    client = client_for(demo.user("committee1"))
    first = make_topic(TopicStatus.IN_PROGRESS)
    _fill(first, demo, lead, 2)
    make_topic(TopicStatus.CANDIDATE, title="候选题目不上看板")
    client.get(f"{URL}board/")  # warm up the user's memberships
    one = _queries(client, f"{URL}board/")

    # When the board is read
    body = client.get(f"{URL}board/").json()

    # Then it holds the topics past 候选 with their progress, indicators and latest report
    assert [t["id"] for t in body["results"]] == [first.pk]
    topic = body["results"][0]
    assert (topic["tasks_done"], topic["tasks_total"]) == (0, 2)
    assert [i["name"] for i in topic["indicators"]] == ["指标0", "指标1"]
    assert [v["value"] for v in topic["indicators"][1]["values"]] == ["1.00"]
    assert topic["latest_report"]["week"] == "2026-03-09"  # the newer of the two weeks
    # and more topics with more rows cost no more queries
    for n in (0, 3, 4):
        _fill(make_topic(TopicStatus.IN_PROGRESS), demo, lead, n)
    assert _queries(client, f"{URL}board/") == one
    assert client.get(f"{URL}board/").json()["count"] == 4
    # a status filter and pages work as on the list
    paged = client.get(f"{URL}board/", {"page_size": 3}).json()
    assert len(paged["results"]) == 3 and paged["next"]
    assert client.get(f"{URL}board/", {"status": "closed"}).json()["count"] == 0


def test_board_is_scoped_like_the_list(
    make_topic: Callable[..., Topic], demo: Demo, lead: User, cooperator: User
) -> None:
    make_topic(TopicStatus.IN_PROGRESS)
    users = {
        "committee": demo.user("committee1"),
        "supervisor": demo.user("supervisor1"),
        "lead unit": lead,
        "cooperating unit": cooperator,
        "other unit": demo.user("handler_gas"),
        "resident": demo.user("resident1"),
    }
    seen = {k: client_for(u).get(f"{URL}board/").json()["count"] for k, u in users.items()}
    assert seen == {
        "committee": 1, "supervisor": 1, "lead unit": 1, "cooperating unit": 1,
        "other unit": 0, "resident": 0,
    }  # fmt: skip
    assert client_for(None).get(f"{URL}board/").status_code == 403  # not 401: no auth challenge


def test_a_proposer_links_only_cases_they_may_see(demo: Demo) -> None:
    # Given a case in 湟中区 and one in 城东区, and the 湟中区 supervisor
    from cases import workflow as case_workflow

    def call(region: Any) -> Any:
        return case_workflow.case_submit(
            actor=demo.user("operator1"), channel="phone", category=demo.category("heating-cold"),
            region=region, description="暖气不热。", complainant_name="王某",
            complainant_phone="13900001111",
        )  # fmt: skip

    own = call(demo.region("湟中区", "多巴镇", "多巴一村"))
    away = call(demo.region("城东区", "大众街街道").children.first())
    client = client_for(demo.user("supervisor_huangzhong"))
    body = {
        "title": "供暖", "month": "2026-12-01", "theme": "basic_support",
        "lead_unit": demo.unit("xn-heating").pk,
    }  # fmt: skip
    # When they propose a topic linked to the other district's case: 400, and no topic
    before = Topic.objects.count()
    refused = client.post(URL, {**body, "cases": [own.pk, away.pk]}, format="json")
    assert refused.status_code == 400, refused.content
    assert "cases" in refused.json()["fields"]
    assert Topic.objects.count() == before
    # and with their own district's case only: created, linked
    created = client.post(URL, {**body, "cases": [own.pk]}, format="json")
    assert created.status_code == 201, created.content
    assert [c["id"] for c in created.json()["cases"]] == [own.pk]
