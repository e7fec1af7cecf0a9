"""PIPL on the 每月一题 side: case text that reaches a topic is masked for every reader.

Topics are read by the committee, supervisors, administrators and the staff of the lead and
cooperating units; none of them handles the cases a topic links to from there, so the case text
they see there is masked (those who handle a case read it whole on the case's own page).

The topic serializers that emit case text, and the test for each:
  TopicCaseSerializer (TopicDetailSerializer.cases, every topic action's answer)
      test_linked_case_titles_are_masked_for_every_topic_reader
  candidates' sample_cases (GET /api/v1/topics/candidates/)
      test_candidate_sample_titles_are_masked
  the candidates export (Excel)
      test_the_candidates_export_holds_no_case_text
Topic texts written by staff about the topic (problem, goals, tasks, weekly reports, indicator
notes, bulletins) are official writing, not case text, and are shown as written.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from cases import workflow as case_workflow
from cases.models import Case
from org.models import User
from stats.rollup import refresh_rollup
from tests.conftest import Demo
from topics.models import Topic, TopicStatus

NAME, PHONE = "赵先生", "13909712345"
ID_NUMBER = "630102199001011234"
SECRETS = [NAME, PHONE, ID_NUMBER]
TITLE = f"{NAME}家暖气不热（{PHONE}，身份证{ID_NUMBER}）"
MASKED_TITLE = "赵**家暖气不热（139****2345，身份证6301**********1234）"


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)
    elif value is not None:
        yield str(value)


def leaks(body: Any) -> list[str]:
    return [s for s in strings(body) if any(secret in s for secret in SECRETS)]


@pytest.fixture
def wordy_cases(demo: Demo) -> list[Case]:
    """Three heating complaints in 城东区大众街街道 whose titles name the complainant."""
    return [
        case_workflow.case_submit(
            actor=None,
            category=demo.category("heating-cold"),
            region=demo.region("城东区", "大众街街道", "康西社区"),
            title=TITLE,
            description=f"暖气不热。{TITLE}",
            complainant_name=NAME,
            complainant_phone=PHONE,
        )
        for _ in range(3)
    ]


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("reader", ["committee", "supervisor", "admin", "lead", "cooperator"])
def test_linked_case_titles_are_masked_for_every_topic_reader(
    make_topic: Callable[..., Topic],
    wordy_cases: list[Case],
    actors: dict[str, User],
    reader: str,
) -> None:
    # Given a topic linked to complaints whose titles name the complainant
    topic = make_topic(TopicStatus.IN_PROGRESS, cases=wordy_cases)
    # When a reader of the topic opens it
    response = client_for(actors[reader]).get(f"/api/v1/topics/{topic.pk}/")
    # Then the cases are listed, their titles masked
    assert response.status_code == 200
    body = response.json()
    assert [c["title"] for c in body["cases"]] == [MASKED_TITLE] * 3
    assert leaks(body) == []


def test_a_topic_action_answers_with_the_masked_cases_too(
    make_topic: Callable[..., Topic], wordy_cases: list[Case], actors: dict[str, User]
) -> None:
    topic = make_topic(TopicStatus.ADOPTED, cases=wordy_cases)
    response = client_for(actors["lead"]).post(f"/api/v1/topics/{topic.pk}/start/", {})
    assert response.status_code == 200
    assert leaks(response.json()) == []


@pytest.mark.parametrize("username", ["committee1", "supervisor1", "admin"])
def test_candidate_sample_titles_are_masked(
    demo: Demo, wordy_cases: list[Case], username: str
) -> None:
    # Given the complaints folded into the statistics
    refresh_rollup()
    # When the candidates of the last week are read
    response = client_for(demo.user(username)).get("/api/v1/topics/candidates/", {"weeks": 1})
    # Then the cluster's sample cases show their titles masked
    assert response.status_code == 200
    body = response.json()
    samples = [c for r in body["results"] for c in r["sample_cases"]]
    assert {c["id"] for c in samples} >= {c.pk for c in wordy_cases}
    assert {c["title"] for c in samples if c["id"] in {w.pk for w in wordy_cases}} == {
        MASKED_TITLE
    }
    assert leaks(body) == []


def test_the_candidates_export_holds_no_case_text(demo: Demo, wordy_cases: list[Case]) -> None:
    from openpyxl import load_workbook

    refresh_rollup()
    response = client_for(demo.user("committee1")).get(
        "/api/v1/stats/export.xlsx", {"table": "candidates", "weeks": 1}
    )
    assert response.status_code == 200, response.content[:300]
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    assert any(c.tracking_code in " ".join(cells) for c in wordy_cases)
    assert leaks(cells) == []
