"""报's pages for the committee: the bulletin page's draft editor and the overview's form (who
may open the dashboards at all is in tests/topics/test_pages.py, with the board's pages)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from stats.bulletins import bulletin_generate
from tests.conftest import Demo

pytestmark = pytest.mark.django_db


def client_for(demo: Demo, username: str) -> Client:
    client = Client()
    client.force_login(demo.user(username))
    return client


def test_the_draft_editor_is_only_for_the_committee_and_admins(demo: Demo) -> None:
    draft = bulletin_generate(dt.date(2023, 11, 1))
    url = f"/dashboard/bulletins/{draft.pk}/"
    for username in ("committee1", "admin"):
        page = client_for(demo, username).get(url)
        assert page.status_code == 200 and b'id="bulletin-form"' in page.content
    assert client_for(demo, "supervisor1").get(url).status_code == 404  # drafts are not theirs
    assert client_for(demo, "handler_gas").get(url).status_code == 403


def test_the_overview_form_starts_from_the_configured_weights(demo: Demo, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STATS_SCORE_WEIGHTS = {"response": 0.5, "resolution": 0.25, "satisfaction": 2}
    page = client_for(demo, "committee1").get("/dashboard/").content.decode()
    assert 'name="w_response" min="0" max="10" step="0.1" value="0.5"' in page
    assert 'name="w_resolution" min="0" max="10" step="0.1" value="0.25"' in page
    assert 'name="w_satisfaction" min="0" max="10" step="0.1" value="2"' in page
