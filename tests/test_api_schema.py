"""The API's contract is the committed schema (docs/api/openapi.yaml).

Moving code between apps must not change what a client sees: this test diffs the schema the
server serves against the committed one. An intended change (a new endpoint or field) is made by
regenerating the file with ``make schema`` and committing it beside the code, so the review shows
the contract's diff next to the code's.

An integer model field's bounds come from the database backend (Django adds the backend's range as
validators): SQLite allows 64 bits where PostgreSQL has 16 or 32. The comparison therefore reads a
bound that is exactly a backend's range as "the column's range", so that the file made on a laptop
(SQLite) and CI (PostgreSQL) agree; any other bound, such as a field's own ``max_value``, is
compared as written.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

COMMITTED = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.yaml"

# The ranges of SQLite's and PostgreSQL's integer columns (smallint, integer, bigint).
BACKEND_BOUND = re.compile(
    r"^(\s+)(maximum|minimum): "
    r"(-?(32767|32768|2147483647|2147483648|9223372036854775807|9223372036854775808))\n"
)
INT64 = re.compile(r"^\s+format: int64\n")


def _normalised(lines: list[str]) -> list[str]:
    """Lines with backend integer ranges replaced by a marker; the int64 format that a 64-bit
    range implies is dropped (a real bigint column says int64 on both backends, so dropping it on
    both sides loses nothing the diff could see)."""
    out = []
    for line in lines:
        if INT64.match(line):
            continue
        out.append(BACKEND_BOUND.sub(r"\1\2: <column range>\n", line))
    return out


@pytest.mark.django_db
def test_the_served_schema_is_the_committed_one(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    served = _normalised(response.content.decode().splitlines(keepends=True))
    committed = _normalised(COMMITTED.read_text(encoding="utf-8").splitlines(keepends=True))

    diff = "".join(difflib.unified_diff(committed, served, "committed", "served", n=2))
    assert not diff, f"the API schema changed; if intended, run `make schema`:\n{diff[:6000]}"
