"""倒排工期 on the topic: the proposal from the tasks' 工期 and the target date, the lead unit
accepting it (one event), and cooperating units recording their own tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import date as D

import pytest
import time_machine
from rest_framework.test import APIClient

from org.models import User
from tests.conftest import Demo
from topics import workflow
from topics.models import TaskStatus, Topic, TopicEventType, TopicStatus, TopicTask
from xining_issues.errors import InvalidInput, NotAllowed

URL = "/api/v1/topics/"
# Before the plan: 2026-09-01, so nothing proposed lies in the past.
BEFORE = dt.datetime(2026, 9, 1, 2, tzinfo=dt.UTC)


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def add(topic: Topic, lead: User, title: str, workdays: int | None, **extra: object) -> TopicTask:
    fields = {"owner_unit": topic.lead_unit, "workdays": workdays}
    if workdays is None:
        fields["deadline"] = D(2026, 12, 31)
    return workflow.task_add(topic=topic, actor=lead, title=title, **(fields | extra))  # type: ignore[arg-type]


@pytest.fixture
def topic(make_topic: Callable[..., Topic]) -> Topic:
    """In progress, target Monday 2026-10-12 (after National Day, with 10-10 a make-up day)."""
    return make_topic(TopicStatus.IN_PROGRESS)


@time_machine.travel(BEFORE, tick=False)
def test_the_proposal_chains_the_open_tasks_with_a_workdays_in_their_order(
    topic: Topic, lead: User
) -> None:
    # Given tasks of 2 and 3 working days, listed 3 first by position, a task without 工期
    # and a done one
    second = add(topic, lead, "集中办证", 2, position=2)
    first = add(topic, lead, "摸底建账", 3, position=1)
    loose = add(topic, lead, "宣传引导", None, position=0)
    done = add(topic, lead, "成立专班", 4, position=0)
    workflow.task_update(task=done, actor=lead, status=TaskStatus.DONE)
    # When the proposal is read
    plan = workflow.schedule(topic)
    # Then the open tasks with a 工期 run one after the other to the target, on working days
    assert [(p.task, p.start, p.deadline) for p in plan.planned] == [
        (first, D(2026, 9, 30), D(2026, 10, 9)),
        (second, D(2026, 10, 10), D(2026, 10, 12)),
    ]
    assert plan.unplanned == [loose] and plan.target == D(2026, 10, 12)
    assert all(p.changed for p in plan.planned) and not plan.starts_too_late


def test_a_topic_without_a_target_date_proposes_nothing(
    make_topic: Callable[..., Topic], lead: User
) -> None:
    topic = make_topic(TopicStatus.IN_PROGRESS, target_date=None)
    task = add(topic, lead, "摸底建账", None)
    assert workflow.schedule(topic).planned == []
    with pytest.raises(InvalidInput) as refused:
        workflow.plan_accept(topic=topic, actor=lead)
    assert "tasks" in refused.value.fields
    # And a 工期 without a deadline needs the target date to stand in for it
    with pytest.raises(InvalidInput) as refused:
        add(topic, lead, "集中办证", 3)
    assert list(refused.value.fields) == ["deadline"]
    assert list(topic.tasks.all()) == [task]


@time_machine.travel(BEFORE, tick=False)
def test_the_lead_unit_accepts_the_plan_through_http_once(topic: Topic, lead: User) -> None:
    client = client_for(lead)
    # Given two tasks added with their 工期 alone (their deadline is the target date for now)
    for title, days, position in (("摸底建账", 3, 1), ("集中办证", 2, 2)):
        r = client.post(
            f"{URL}{topic.pk}/tasks/",
            {"title": title, "owner_unit": topic.lead_unit_id, "workdays": days,
             "position": position},
            format="json",
        )  # fmt: skip
        assert r.status_code == 201, r.json()
        assert (r.json()["deadline"], r.json()["workdays"]) == ("2026-10-12", days)
    # When the lead unit reads the proposal and accepts it
    proposal = client.get(f"{URL}{topic.pk}/schedule/").json()
    proposed = [(t["proposed_start"], t["proposed_deadline"]) for t in proposal["tasks"]]
    assert proposed == [("2026-09-30", "2026-10-09"), ("2026-10-10", "2026-10-12")]
    assert [t["changed"] for t in proposal["tasks"]] == [True, True]
    r = client.post(f"{URL}{topic.pk}/schedule/accept/", {}, format="json")
    # Then the tasks carry the proposed dates, and one event records what moved
    assert r.status_code == 200, r.json()
    assert [(t["start_date"], t["deadline"]) for t in r.json()["tasks"]] == [
        ("2026-09-30", "2026-10-09"),
        ("2026-10-10", "2026-10-12"),
    ]
    (event,) = topic.events.filter(type=TopicEventType.PLAN_ACCEPT)
    assert event.payload["target"] == "2026-10-12"
    assert [m["to"] for m in event.payload["tasks"]] == [
        {"start_date": "2026-09-30", "deadline": "2026-10-09"},
        {"start_date": "2026-10-10", "deadline": "2026-10-12"},
    ]
    assert event.payload["tasks"][1]["from"] == {"start_date": None, "deadline": "2026-10-12"}
    # And accepting again changes nothing: a 400, no second event
    again = client.post(f"{URL}{topic.pk}/schedule/accept/", {}, format="json")
    assert again.status_code == 400 and "tasks" in again.json()["fields"]
    assert topic.events.filter(type=TopicEventType.PLAN_ACCEPT).count() == 1
    proposal = client.get(f"{URL}{topic.pk}/schedule/").json()
    assert [t["changed"] for t in proposal["tasks"]] == [False, False]


@time_machine.travel(BEFORE, tick=False)
def test_accepting_chosen_tasks_moves_only_those(topic: Topic, lead: User) -> None:
    first = add(topic, lead, "摸底建账", 3, position=1)
    second = add(topic, lead, "集中办证", 2, position=2)
    loose = add(topic, lead, "宣传引导", None)
    client = client_for(lead)
    refused = client.post(
        f"{URL}{topic.pk}/schedule/accept/", {"tasks": [first.pk, loose.pk]}, format="json"
    )
    assert refused.status_code == 400 and "tasks" in refused.json()["fields"]
    r = client.post(f"{URL}{topic.pk}/schedule/accept/", {"tasks": [first.pk]}, format="json")
    assert r.status_code == 200, r.json()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.start_date, first.deadline) == (D(2026, 9, 30), D(2026, 10, 9))
    assert (second.start_date, second.deadline) == (None, D(2026, 10, 12))


@time_machine.travel(dt.datetime(2026, 10, 8, 2, tzinfo=dt.UTC), tick=False)
def test_a_plan_that_should_have_started_already_says_so(topic: Topic, lead: User) -> None:
    add(topic, lead, "摸底建账", 10)
    proposal = client_for(lead).get(f"{URL}{topic.pk}/schedule/").json()
    assert proposal["starts_too_late"] is True
    assert proposal["tasks"][0]["proposed_start"] < "2026-10-08"


@pytest.mark.parametrize("workdays", [0, -1, 501])
def test_a_workdays_out_of_range_is_a_400(topic: Topic, lead: User, workdays: int) -> None:
    r = client_for(lead).post(
        f"{URL}{topic.pk}/tasks/",
        {"title": "摸底建账", "owner_unit": topic.lead_unit_id, "workdays": workdays},
        format="json",
    )
    assert r.status_code == 400 and "workdays" in r.json()["fields"]
    with pytest.raises(InvalidInput):
        add(topic, lead, "摸底建账", workdays)
    assert not topic.tasks.exists()


def test_cooperating_units_record_their_own_tasks_only(
    topic: Topic, lead: User, cooperator: User, demo: Demo, actors: dict[str, User]
) -> None:
    # Given a task of the cooperating unit (住建局) and one of the lead unit
    theirs = add(topic, lead, "物业维修资金核查", None, owner_unit=demo.unit("xn-housing"))
    ours = add(topic, lead, "集中办证", None)
    client = client_for(cooperator)
    # Then the detail tells each reader which tasks they may record
    detail = client.get(f"{URL}{topic.pk}/").json()
    assert detail["updatable_tasks"] == [theirs.pk]
    assert client_for(lead).get(f"{URL}{topic.pk}/").json()["updatable_tasks"] == [
        theirs.pk,
        ours.pk,
    ]
    assert client_for(actors["committee"]).get(f"{URL}{topic.pk}/").json()["updatable_tasks"] == []
    # And the cooperator records its own task's progress, not the other, nor its dates
    ok = client.patch(f"{URL}{topic.pk}/tasks/{theirs.pk}/", {"progress": 40}, format="json")
    assert ok.status_code == 200, ok.json()
    assert (ok.json()["status"], ok.json()["progress"]) == ("doing", 40)
    for task, body in ((ours, {"progress": 40}), (theirs, {"deadline": "2027-01-31"}),
                       (theirs, {"workdays": 5})):  # fmt: skip
        r = client.patch(f"{URL}{topic.pk}/tasks/{task.pk}/", body, format="json")
        assert r.status_code == 403, (task.title, body)
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.progress, theirs.deadline, theirs.workdays) == (0, D(2026, 12, 31), None)
    assert topic.events.filter(type=TopicEventType.TASK_UPDATE).count() == 1
    with pytest.raises(NotAllowed):
        workflow.plan_accept(topic=topic, actor=cooperator)


def test_the_schedule_is_read_by_whoever_sees_the_topic(
    topic: Topic, lead: User, actors: dict[str, User]
) -> None:
    add(topic, lead, "摸底建账", 3)
    for role, expected in (("committee", 200), ("cooperator", 200), ("other_handler", 404),
                           ("resident", 404)):  # fmt: skip
        r = client_for(actors[role]).get(f"{URL}{topic.pk}/schedule/")
        assert r.status_code == expected, role
