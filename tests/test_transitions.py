"""The step registry (``xining_issues.transitions``): one entry per transition, and what is
derived from it.

The apps' permission tables iterate over their registries (tests/cases/api/
test_permission_table.py, tests/topics/api/test_topics_api.py); these check the registry itself:
that it cannot disagree with the workflow's table, and that the routes, the dialogs and the
tracking texts come from its entries and nowhere else.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import get_template
from django.urls import reverse
from rest_framework import serializers

from cases.api.steps import STEPS as CASE_STEPS
from cases.api.views import CaseViewSet
from cases.models import EventType
from cases.pages import TrackPage
from cases.workflow import FLOW as CASE_FLOW
from stats.api.steps import STEPS as BULLETIN_STEPS
from topics.api.steps import STEPS as TOPIC_STEPS
from xining_issues.transitions import Action, Steps


def entry(event: str) -> Action:
    return Action(event=event, call=lambda **kwargs: None, input=None, summary=event, label=event)


def steps(*events: str) -> Steps:
    return Steps(
        workflow=CASE_FLOW,
        subject="case",
        detail=serializers.Serializer,
        actions=tuple(entry(event) for event in events),
    )


@pytest.mark.parametrize(
    ("events", "complaint"),
    [
        (list(CASE_FLOW.table)[1:], "without an entry ['accept']"),
        ([*CASE_FLOW.table, "teleport"], "not in the table ['teleport']"),
        ([*CASE_FLOW.table, EventType.SIGN], "repeated ['sign']"),
    ],
    ids=["missing", "unknown", "repeated"],
)
def test_a_registry_that_disagrees_with_the_table_is_refused(
    events: list[str], complaint: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        steps(*events)
    assert complaint in str(refused.value)


def test_the_whole_table_is_accepted() -> None:
    registry = steps(*CASE_FLOW.table)
    assert [a.event for a in registry] == [str(e) for e in CASE_FLOW.table]


@pytest.mark.parametrize(
    ("registry", "basename"),
    [(CASE_STEPS, "case"), (TOPIC_STEPS, "topic"), (BULLETIN_STEPS, "bulletin")],
    ids=["cases", "topics", "bulletins"],
)
def test_every_routed_step_is_served_at_its_path(registry: Steps, basename: str) -> None:
    for step in registry:
        if step.route:
            url = reverse(f"{basename}-{step.path}", kwargs={"pk": 7})
            assert url.endswith(f"/7/{step.path}/"), (step.event, url)


def test_the_case_view_set_routes_exactly_the_registry() -> None:
    routed = {
        extra.url_path
        for extra in CaseViewSet.get_extra_actions()
        if extra.__name__.startswith("step_")
    }
    assert routed == {step.path for step in CASE_STEPS}


def test_the_case_page_has_one_dialog_per_step_with_its_own_form() -> None:
    dialogs = CASE_STEPS.dialogs()
    assert [d.name for d in dialogs] == [str(step.event) for step in CASE_STEPS]
    for dialog in dialogs:
        get_template(dialog.form)  # raises if a step's template is missing


def test_the_tracking_page_says_what_each_public_step_means() -> None:
    texts: dict[str, Any] = TrackPage.texts
    for step in CASE_STEPS:
        assert step.tracking is not None, step.event
        assert texts[f"event_{step.event}"] == step.tracking
