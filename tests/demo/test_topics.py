"""The demo topics from the source articles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from demo.topics import PROPERTY_TITLE, seed_topics
from topics.models import Indicator, Topic, TopicEvent, TopicStatus

pytestmark = pytest.mark.django_db


def test_seed_topics_holds_the_figures_and_is_idempotent() -> None:
    report = seed_topics()
    assert report.topics == 4
    events = TopicEvent.objects.count()
    assert seed_topics().topics == 0
    assert TopicEvent.objects.count() == events

    backlog = Topic.objects.get(title=PROPERTY_TITLE)
    assert backlog.lead_unit.code == "xn-planning"
    assert list(backlog.cooperating_units.values_list("code", flat=True)).count("xn-housing") == 1
    figures = {i.name: (i.target, i.actual) for i in Indicator.objects.filter(topic=backlog)}
    assert figures["已化解历史遗留问题小区"] == (Decimal(46), Decimal(46))
    assert figures["已化解历史遗留问题户数"] == (Decimal(40489), Decimal(40489))
    assert figures["东府嘉和小区已办证户数"] == (Decimal(3242), Decimal(650))
    assert backlog.tasks.count() == 6
    assert backlog.reports.count() == 3

    basic = Topic.objects.get(title="强化基础保障")
    assert basic.status == TopicStatus.CLOSED
    actual = {i.name: i.actual for i in basic.indicators.all()}
    assert actual["城东区社区工作者参加社会保险"] == 315
    assert actual["供暖补贴（2022年，补发）"] == 559_300
    assert actual["供暖补贴（2023年）"] == 1_212_900
    assert actual["社区干部健康体检"] == 1_680

    titles = set(Topic.objects.values_list("title", flat=True))
    assert titles == {"强化基础保障", "优化服务平台", "关心关爱基层干部", PROPERTY_TITLE}
    assert Topic.objects.get(title="优化服务平台").theme == "service_platform"
    assert Topic.objects.get(title="关心关爱基层干部").theme == "cadre_care"

    statuses = set(Topic.objects.values_list("status", flat=True))
    assert {TopicStatus.CLOSED, TopicStatus.IN_PROGRESS, TopicStatus.ADOPTED} <= statuses
