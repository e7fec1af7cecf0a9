"""The API's contract is the committed schema (docs/api/openapi.yaml).

Moving code between apps must not change what a client sees: this test diffs the schema the
server serves against the committed one. An intended change (a new endpoint or field) is made by
regenerating the file with ``make schema`` and committing it beside the code, so the review shows
the contract's diff next to the code's.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

COMMITTED = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.yaml"


@pytest.mark.django_db
def test_the_served_schema_is_the_committed_one(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    served = response.content.decode().splitlines(keepends=True)
    committed = COMMITTED.read_text(encoding="utf-8").splitlines(keepends=True)

    diff = "".join(difflib.unified_diff(committed, served, "committed", "served", n=2))
    assert not diff, f"the API schema changed; if intended, run `make schema`:\n{diff[:6000]}"
