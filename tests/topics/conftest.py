"""Fixtures for the 每月一题 tests: the topic URLs, the lead unit's staff, topics in any state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from org.models import Role, User
from tests.conftest import Demo
from tests.factories import MembershipFactory
from topics import workflow
from topics.models import Topic, TopicStatus, TopicTheme

MONTH = dt.date(2026, 3, 1)

# The steps that take a new candidate to each state.
PATH_TO: dict[str, list[str]] = {
    TopicStatus.CANDIDATE: [],
    TopicStatus.ADOPTED: ["adopt"],
    TopicStatus.IN_PROGRESS: ["adopt", "start"],
    TopicStatus.CLOSED: ["adopt", "start", "close"],
    TopicStatus.CARRIED_OVER: ["adopt", "start", "carry_over"],
}


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def lead(demo: Demo) -> User:
    """A handler of the lead unit (西宁市自然资源和规划局)."""
    return MembershipFactory(
        user__username="lead_planning", unit=demo.unit("xn-planning"), role=Role.HANDLER
    ).user


@pytest.fixture
def cooperator(demo: Demo) -> User:
    """A handler of the cooperating unit (住建局): may read, not write."""
    return MembershipFactory(
        user__username="coop_housing", unit=demo.unit("xn-housing"), role=Role.HANDLER
    ).user


@pytest.fixture
def actors(demo: Demo, lead: User, cooperator: User) -> dict[str, User]:
    return {
        "committee": demo.user("committee1"),
        "supervisor": demo.user("supervisor1"),
        "admin": demo.user("admin"),
        "lead": lead,
        "cooperator": cooperator,
        "other_handler": demo.user("handler_chengdong"),
        "resident": demo.user("resident1"),
    }


@pytest.fixture
def make_topic(demo: Demo, lead: User) -> Callable[..., Topic]:
    """A topic on 不动产登记 led by 自然资源和规划局 (住建局 cooperating), walked to ``status``."""

    def make(status: str = TopicStatus.CANDIDATE, **overrides: Any) -> Topic:
        committee = demo.user("committee1")
        fields: dict[str, Any] = {
            "title": "不动产登记历史遗留问题",
            "month": MONTH,
            "theme": TopicTheme.PROBLEM_SOLVING,
            "lead_unit": demo.unit("xn-planning"),
            "cooperating_units": [demo.unit("xn-housing")],
            "leader_name": "演示领导",
            "leader_title": "副市长",
            "target_date": dt.date(2026, 10, 12),
        }
        fields.update(overrides)
        topic = workflow.topic_create(actor=committee, **fields)
        for step in PATH_TO[status]:
            if step == "adopt":
                workflow.topic_adopt(topic=topic, actor=committee, adopted_on=dt.date(2026, 3, 2))
            elif step == "start":
                workflow.topic_start(topic=topic, actor=lead)
            elif step == "close":
                workflow.topic_close(topic=topic, actor=committee, summary="问题已解决。")
            elif step == "carry_over":
                workflow.topic_carry_over(
                    topic=topic, actor=committee, to_month=dt.date(2026, 4, 1), reason="未完成"
                )
        topic.refresh_from_db()
        return topic

    return make
