"""The inbox and the outbox moved to ``notifications`` (issue 12) keep their rows, and a
message about a case finds the case as its subject, migrated from the schema before the move.

PostgreSQL (CI): the migrator empties the database and migrates it twice, which is slow, and the
production database is PostgreSQL. Nothing here depends on the engine (the data step is one
ORM UPDATE; the PostgreSQL-only parts, the table lock and CONCURRENTLY, have SQLite twins).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.migrations.state import ProjectState

pytestmark = [pytest.mark.postgres]

BEFORE = [("cases", "0013_move_rollup_to_stats")]
AFTER = [("notifications", "0004_inbox_and_outbox_indexes")]
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _seed(state: ProjectState) -> dict[str, Any]:
    """A case, a message about it and one about nothing in the inbox, a queued SMS, and the
    content type a permission hangs on, written through the models before the move."""
    model = state.apps.get_model
    region = model("org", "Region")
    city = region.objects.create(name="西宁市", level=1)
    district = region.objects.create(name="湟中区", level=2, parent=city)
    street = region.objects.create(name="多巴镇", level=3, parent=district)
    village = region.objects.create(name="多巴一村", level=4, parent=street)
    category = model("cases", "Category").objects.create(code="heating", name="供暖")
    user = model("org", "User").objects.create(username="handler1", password="!")
    case = model("cases", "Case").objects.create(
        tracking_code="XN20260302-0001",
        channel="phone",
        category=category,
        region=village,
        district=district,
        street=street,
        dispatch_region=street,
        description="暖气不热",
        complainant_name="赵先生",
        complainant_phone="13912345678",
        created_at=NOW,
    )
    notification = model("cases", "Notification")
    about_case = notification.objects.create(
        user=user,
        case=case,
        kind="case_assigned",
        params={"code": case.tracking_code},
        key="event:1",
        created_at=NOW,
    )
    digest = notification.objects.create(
        user=user, kind="daily_digest", params={}, key="digest:1", created_at=NOW
    )
    sms = model("cases", "OutboxMessage").objects.create(
        channel="sms",
        recipient="13912345678",
        kind="case_accepted",
        params={"code": case.tracking_code},
        key="event:2",
        next_attempt_at=NOW,
        created_at=NOW,
    )
    outbox_type = model("contenttypes", "ContentType").objects.create(
        app_label="cases", model="outboxmessage"
    )
    return {
        "case": case.pk,
        "user": user.pk,
        "about_case": about_case.pk,
        "digest": digest.pk,
        "sms": sms.pk,
        "outbox_type": outbox_type.pk,
    }


def test_messages_keep_their_rows_and_find_the_case_as_their_subject(migrator: Any) -> None:
    # Given the schema before the move, with messages about a case and about nothing
    before = migrator.apply_initial_migration(BEFORE)
    seeded = _seed(before)

    # When the move is migrated
    after = migrator.apply_tested_migration(AFTER)
    model = after.apps.get_model

    # Then the models are gone from cases and the same rows are found in notifications
    for name in ("Notification", "OutboxMessage"):
        with pytest.raises(LookupError):
            model("cases", name)
    notification = model("notifications", "Notification")
    case_type = model("contenttypes", "ContentType").objects.get(app_label="cases", model="case")
    rows = notification.objects.order_by("pk").values(
        "pk", "user_id", "kind", "key", "subject_type_id", "subject_id", "subject_label"
    )
    assert list(rows) == [
        {
            "pk": seeded["about_case"],
            "user_id": seeded["user"],
            "kind": "case_assigned",
            "key": "event:1",
            "subject_type_id": case_type.pk,
            "subject_id": seeded["case"],
            "subject_label": "XN20260302-0001",
        },
        {
            "pk": seeded["digest"],
            "user_id": seeded["user"],
            "kind": "daily_digest",
            "key": "digest:1",
            "subject_type_id": None,
            "subject_id": None,
            "subject_label": "",
        },
    ]
    sms = model("notifications", "OutboxMessage").objects.get()
    assert (sms.pk, sms.channel, sms.recipient, sms.key, sms.status) == (
        seeded["sms"],
        "sms",
        "13912345678",
        "event:2",
        "pending",
    )
    # And the outbox's content type (and so the permissions on it) moved with the model
    outbox_type = model("contenttypes", "ContentType").objects.get(pk=seeded["outbox_type"])
    assert (outbox_type.app_label, outbox_type.model) == ("notifications", "outboxmessage")


def test_the_move_migrates_back_to_the_case_foreign_key(migrator: Any) -> None:
    # Given the moved schema with a message about a case
    before = migrator.apply_initial_migration(BEFORE)
    seeded = _seed(before)
    migrator.apply_tested_migration(AFTER)

    # When the move is migrated back
    back = migrator.apply_tested_migration(BEFORE)

    # Then the message points at its case by the foreign key again
    note = back.apps.get_model("cases", "Notification").objects.get(pk=seeded["about_case"])
    assert note.case_id == seeded["case"]
