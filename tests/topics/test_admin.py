"""The admin cannot rewrite what the committee has concluded: a closed topic (销号) and a
published bulletin (月通报) are read-only there, and neither can be deleted.

Each refusal is checked with a POST the admin would accept for an open topic or a draft
bulletin (the control), so a 403 means "not allowed", not "the form was wrong".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from org.models import User
from stats.bulletins import bulletin_generate, bulletin_publish
from stats.models import Bulletin, BulletinStatus
from tests.conftest import Demo
from topics import workflow
from topics.models import (
    DocumentKind,
    IndicatorValue,
    PolicyDocument,
    Topic,
    TopicStatus,
)

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)
TOPICS = "/admin/topics/topic/"
BULLETINS = "/admin/stats/bulletin/"


@pytest.fixture
def admin(demo: Demo) -> Client:
    client = Client()
    client.force_login(demo.user("admin"))
    return client


def topic_form(topic: Topic, **changes: Any) -> dict[str, Any]:
    """The admin's change form for ``topic`` as the browser would post it, with ``changes``."""
    data: dict[str, Any] = {
        "title": topic.title,
        "month": topic.month.isoformat(),
        "end_month": "",
        "theme": topic.theme,
        "problem": topic.problem,
        "goals": topic.goals,
        "target_date": topic.target_date.isoformat() if topic.target_date else "",
        "lead_unit": topic.lead_unit_id,
        "cooperating_units": [u.pk for u in topic.cooperating_units.all()],
        "leader_name": topic.leader_name,
        "leader_title": topic.leader_title,
        "categories": [],
        "regions": [],
        "cases": "",
        "_save": "保存",
    }
    for prefix in ("tasks", "indicators", "reports"):  # the read-only inlines
        data |= {
            f"{prefix}-TOTAL_FORMS": 0,
            f"{prefix}-INITIAL_FORMS": 0,
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
    return data | changes


def bulletin_form(bulletin: Bulletin, **changes: Any) -> dict[str, Any]:
    data = {
        "month": bulletin.month.isoformat(),
        "title": bulletin.title,
        "body": bulletin.body,
        "_save": "保存",
    }
    return data | changes


class TestTopics:
    def test_an_open_topic_can_still_be_edited(
        self, admin: Client, make_topic: Callable[..., Topic]
    ) -> None:
        topic = make_topic(TopicStatus.IN_PROGRESS)
        response = admin.post(f"{TOPICS}{topic.pk}/change/", topic_form(topic, title="新题目"))
        assert response.status_code == 302, response.content.decode()[-2000:]
        assert Topic.objects.get(pk=topic.pk).title == "新题目"

    def test_a_closed_topic_is_read_only(
        self, admin: Client, make_topic: Callable[..., Topic]
    ) -> None:
        # Given a topic the committee has closed (销号)
        topic = make_topic(TopicStatus.CLOSED)
        before = Topic.objects.filter(pk=topic.pk).values().get()

        # When the admin opens it, there is nothing to save
        page = admin.get(f"{TOPICS}{topic.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()

        # When the admin posts a change anyway, it is refused and nothing changes
        response = admin.post(
            f"{TOPICS}{topic.pk}/change/",
            topic_form(topic, title="改写的题目", problem="改写", leader_name="某某"),
        )
        assert response.status_code == 403
        assert Topic.objects.filter(pk=topic.pk).values().get() == before

    def test_no_topic_can_be_deleted(
        self, admin: Client, make_topic: Callable[..., Topic]
    ) -> None:
        # A topic carries its timeline of events; it is closed or carried over, never deleted
        for status in (TopicStatus.CANDIDATE, TopicStatus.CLOSED):
            topic = make_topic(status)
            response = admin.post(f"{TOPICS}{topic.pk}/delete/", {"post": "yes"})
            assert response.status_code == 403
            assert Topic.objects.filter(pk=topic.pk).exists()

    def test_the_evidence_of_a_closed_topic_cannot_be_edited_or_deleted(
        self,
        admin: Client,
        make_topic: Callable[..., Topic],
        lead: User,
        demo: Demo,
        media_root: Path,
    ) -> None:
        # Given a topic closed with a reading of its indicator and a piece of evidence
        topic = make_topic(TopicStatus.IN_PROGRESS)
        indicator = workflow.indicator_add(
            topic=topic, actor=lead, name="已办证户数", unit_of_measure="户", target=Decimal(10)
        )
        workflow.indicator_record(
            indicator=indicator, actor=lead, value=Decimal(10), date=dt.date(2026, 3, 31)
        )
        pdf = SimpleUploadedFile("e.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
        workflow.topic_close(
            topic=topic, actor=demo.user("committee1"), summary="已解决。", evidence=[pdf]
        )
        evidence = PolicyDocument.objects.get(topic=topic, kind=DocumentKind.EVIDENCE)
        reading = IndicatorValue.objects.get(indicator=indicator)

        # When the admin tries to change or delete them, it is refused
        url = f"/admin/topics/policydocument/{evidence.pk}/"
        changed = admin.post(f"{url}change/", {"title": "换掉", "kind": "policy"})
        assert changed.status_code == 403
        assert admin.post(f"{url}delete/", {"post": "yes"}).status_code == 403
        url = f"/admin/topics/indicatorvalue/{reading.pk}/"
        assert admin.post(f"{url}delete/", {"post": "yes"}).status_code == 403

        # Then both are as they were
        assert PolicyDocument.objects.get(pk=evidence.pk).title == evidence.title
        assert IndicatorValue.objects.filter(pk=reading.pk, value=10).exists()


class TestBulletins:
    @pytest.fixture
    def draft(self, make_topic: Callable[..., Topic]) -> Bulletin:
        make_topic(TopicStatus.IN_PROGRESS)
        return bulletin_generate(MARCH)

    def test_a_draft_can_still_be_edited(self, admin: Client, draft: Bulletin) -> None:
        response = admin.post(f"{BULLETINS}{draft.pk}/change/", bulletin_form(draft, body="改稿"))
        assert response.status_code == 302, response.content.decode()[-2000:]
        assert Bulletin.objects.get(pk=draft.pk).body == "改稿"

    def test_a_published_bulletin_is_read_only_and_cannot_be_deleted(
        self, admin: Client, draft: Bulletin, demo: Demo
    ) -> None:
        # Given the committee has published the month's bulletin
        published = bulletin_publish(bulletin=draft, actor=demo.user("committee1"))
        before = Bulletin.objects.filter(pk=published.pk).values().get()

        # When the admin opens it, there is nothing to save
        page = admin.get(f"{BULLETINS}{published.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()

        # When the admin posts a change, or asks to delete it, both are refused
        response = admin.post(
            f"{BULLETINS}{published.pk}/change/",
            bulletin_form(published, title="改写的标题", body="改写的正文"),
        )
        assert response.status_code == 403
        response = admin.post(f"{BULLETINS}{published.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        # (nor through the list's bulk delete)
        admin.post(
            BULLETINS,
            {"action": "delete_selected", "_selected_action": [published.pk], "post": "yes"},
        )

        # Then the bulletin is exactly as published
        assert Bulletin.objects.filter(pk=published.pk).values().get() == before
        assert before["status"] == BulletinStatus.PUBLISHED
