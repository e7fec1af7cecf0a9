"""Who may open the committee's dashboards (看板): the committee, supervisors and admins."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import Demo
from topics.api.steps import STEPS

pytestmark = pytest.mark.django_db

PAGES = ["/dashboard/", "/dashboard/topics/", "/dashboard/plan/", "/dashboard/candidates/"]
READERS = ["committee1", "supervisor1", "supervisor_huangzhong", "admin"]
OTHERS = ["resident1", "operator1", "dispatcher_city", "handler_huangzhong", "handler_gas"]


def client_for(demo: Demo, username: str) -> Client:
    client = Client()
    client.force_login(demo.user(username))
    return client


@pytest.mark.parametrize("username", READERS)
def test_readers_open_every_dashboard(demo: Demo, username: str) -> None:
    client = client_for(demo, username)
    assert {p: client.get(p).status_code for p in PAGES} == dict.fromkeys(PAGES, 200)


@pytest.mark.parametrize("username", OTHERS)
def test_residents_and_case_staff_are_refused(demo: Demo, username: str) -> None:
    client = client_for(demo, username)
    assert {p: client.get(p).status_code for p in PAGES} == dict.fromkeys(PAGES, 403)


def test_signed_out_visitors_are_sent_to_sign_in(demo: Demo) -> None:
    for path in PAGES:
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_unit_staff_see_the_board_and_the_pages_of_their_own_topics(demo: Demo) -> None:
    # Given the demo topics: 自然资源和规划局 leads the property-certificate topic
    from demo.topics import PROPERTY_TITLE, seed_topics
    from topics.models import Topic

    seed_topics()
    own = Topic.objects.get(title=PROPERTY_TITLE)
    other = Topic.objects.exclude(pk=own.pk).exclude(cooperating_units=own.lead_unit).first()
    lead = client_for(demo, "handler_planning")
    # Then its staff open the board (with the topic in their menu) and their topic's page,
    board = lead.get("/dashboard/topics/")
    assert board.status_code == 200
    assert b'href="/dashboard/topics/"' in board.content  # 每月一题 in the main menu
    assert b'href="/dashboard/"' not in board.content  # but not the committee's dashboards
    assert lead.get(f"/dashboard/topics/{own.pk}/").status_code == 200
    # not another unit's topic, and not the committee's dashboards
    assert other is not None and lead.get(f"/dashboard/topics/{other.pk}/").status_code == 404
    assert lead.get("/dashboard/").status_code == 403
    # and a unit with no topic has neither
    outsider = client_for(demo, "handler_gas")
    assert outsider.get("/dashboard/topics/").status_code == 403
    assert outsider.get(f"/dashboard/topics/{own.pk}/").status_code == 404
    assert b"/dashboard/topics/" not in outsider.get("/workbench/").content


def test_each_form_of_the_topic_page_posts_to_its_steps_path(demo: Demo) -> None:
    # Given a topic's page, as the committee sees it
    from demo.topics import PROPERTY_TITLE, seed_topics
    from topics.models import Topic

    seed_topics()
    topic = Topic.objects.get(title=PROPERTY_TITLE)
    page = client_for(demo, "committee1").get(f"/dashboard/topics/{topic.pk}/").content.decode()
    # Then every form names a step of the registry and posts to that step's path
    forms = dict(re.findall(r'data-form="([a-z_]+)" data-path="([^"]*)"', page))
    assert forms == {
        name: STEPS[name].path
        for name in (
            "adopt", "start", "carry_over", "close", "task_add", "plan_accept", "report",
            "indicator_add", "document",
        )
    }  # fmt: skip
