"""The demo's 不动产登记 topic shows its effect (成效): the complaints of 城东区 around its
adoption are written once, and the stated test finds the fall."""

from __future__ import annotations

from demo.topic_history import seed_topic_history
from demo.topics import PROPERTY_TITLE, seed_topics
from stats import effect
from stats.rollup import refresh_rollup
from tests.conftest import Demo
from topics.models import Topic


def test_the_property_topic_shows_its_effect(demo: Demo) -> None:
    # Given the demo topics and the complaints around the property topic, folded in
    seed_topics()
    written = seed_topic_history()
    assert written.cases > 400
    assert seed_topic_history().cases == 0  # once
    refresh_rollup()
    # When the topic's effect is read
    data = effect.topic_effect(Topic.objects.get(title=PROPERTY_TITLE))
    # Then the complaints fell since adoption, more than last year's same weeks, and the
    # committee reads 明显下降 with rates on both sides
    assert data["reference"]["kind"] == "last_year"
    assert data["change"] < -0.5 < data["reference_change"]
    assert data["verdict"] == "fell"
    for window in ("before", "since"):
        assert data[window]["created"] and data[window]["satisfaction_rate"] is not None
