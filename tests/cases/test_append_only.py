"""The timelines (case, topic and bulletin events) cannot be rewritten, on PostgreSQL and on
SQLite.

The database refuses UPDATE and DELETE of an event row, whoever asks: the ORM, raw SQL, a
shell on the server. Only wiping the whole database (``flush``: a test's teardown, a fresh
demo) empties the tables: on PostgreSQL by TRUNCATE, which row triggers do not see, and on
SQLite by the project's ``flush`` command, which sets the triggers aside for that one
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from cases import workflow
from cases.models import Case, CaseEvent, EventType, Status
from demo.reference import seed_live_case
from stats.bulletins import bulletin_generate, bulletin_publish
from stats.models import BulletinEvent
from tests.conftest import Demo
from topics import workflow as topics_workflow
from topics.models import Topic, TopicEvent, TopicTheme

MakeCase = Callable[..., Case]

# The two ways to rewrite a row of a timeline, in SQL that both databases accept.
REWRITES = {
    "update": "UPDATE {table} SET payload = %s WHERE id = %s",
    "delete": "DELETE FROM {table} WHERE id = %s",
}


def rewrite(sql: str, *, table: str, pk: int) -> None:
    params: list[str | int] = ["{}", pk] if sql.startswith("UPDATE") else [pk]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)


def guard_triggers() -> set[str]:
    """The names of the append-only triggers the database holds."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
                ["%append_only%"],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                ["%append_only%"],
            )
        return {name for (name,) in cursor.fetchall()}


class TestCaseEvents:
    @pytest.mark.parametrize("how", sorted(REWRITES))
    def test_raw_sql_cannot_change_or_remove_an_event(self, make_case: MakeCase, how: str) -> None:
        # Given a submitted case and its one event
        case = make_case(Status.SUBMITTED)
        event = CaseEvent.objects.get(case=case)

        # When raw SQL tries to rewrite it, the database refuses
        with pytest.raises(IntegrityError, match="append-only"):
            rewrite(REWRITES[how], table="cases_caseevent", pk=event.pk)

        # Then the event is as it was
        event.refresh_from_db()
        assert event.payload == {"channel": "web"}

    def test_the_orm_cannot_change_or_remove_an_event(self, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        event = CaseEvent.objects.get(case=case)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            CaseEvent.objects.filter(pk=event.pk).update(is_public=False)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            event.save(update_fields=["is_public"])
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            event.delete()
        assert CaseEvent.objects.filter(pk=event.pk, is_public=True).exists()

    def test_new_events_are_still_written(self, demo: Demo, make_case: MakeCase) -> None:
        case = make_case(Status.SUBMITTED)
        workflow.case_accept(case=case, actor=demo.user("operator1"))
        assert list(CaseEvent.objects.filter(case=case).values_list("type", flat=True)) == [
            EventType.SUBMIT,
            EventType.ACCEPT,
        ]


class TestTopicEvents:
    @pytest.mark.parametrize("how", sorted(REWRITES))
    def test_raw_sql_cannot_change_or_remove_a_topic_event(self, demo: Demo, how: str) -> None:
        topic: Topic = topics_workflow.topic_create(
            actor=demo.user("committee1"),
            title="不动产登记历史遗留问题",
            month=dt.date(2026, 3, 1),
            theme=TopicTheme.PROBLEM_SOLVING,
            lead_unit=demo.unit("xn-planning"),
        )
        event = TopicEvent.objects.get(topic=topic)
        with pytest.raises(IntegrityError, match="append-only"):
            rewrite(REWRITES[how], table="topics_topicevent", pk=event.pk)
        assert TopicEvent.objects.filter(pk=event.pk, payload=event.payload).exists()


class TestBulletinEvents:
    @pytest.fixture
    def event(self, demo: Demo) -> BulletinEvent:
        """The one event of a bulletin the committee has published (发布)."""
        draft = bulletin_generate(dt.date(2026, 3, 1))
        bulletin_publish(bulletin=draft, actor=demo.user("committee1"))
        return BulletinEvent.objects.get(bulletin=draft)

    @pytest.mark.parametrize("how", sorted(REWRITES))
    def test_raw_sql_cannot_change_or_remove_a_bulletin_event(
        self, event: BulletinEvent, how: str
    ) -> None:
        # When raw SQL tries to rewrite the event, the database refuses
        with pytest.raises(IntegrityError, match="append-only"):
            rewrite(REWRITES[how], table="stats_bulletinevent", pk=event.pk)
        # Then the event is as it was
        assert BulletinEvent.objects.filter(pk=event.pk, payload=event.payload).exists()

    def test_the_orm_cannot_change_or_remove_a_bulletin_event(self, event: BulletinEvent) -> None:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            BulletinEvent.objects.filter(pk=event.pk).update(payload={})
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            event.delete()
        assert BulletinEvent.objects.filter(pk=event.pk, payload=event.payload).exists()


def test_the_drill_case_is_added_again_never_replaced(demo: Demo) -> None:
    # `make run` adds a drill case on every start: a new case each time; the old drill and its
    # timeline stay as they were (nothing has to delete events for the drill to work).
    first = seed_live_case()
    events = list(CaseEvent.objects.filter(case=first).values_list("pk", "type"))
    second = seed_live_case()
    assert second.pk != first.pk and second.tracking_code != first.tracking_code
    assert list(CaseEvent.objects.filter(case=first).values_list("pk", "type")) == events
    assert second.status == first.status == Status.HANDLING


@pytest.mark.django_db(transaction=True)
def test_flushing_the_whole_database_empties_the_events_and_keeps_the_guard() -> None:
    # Given a database with events in it (seeded here: transactional tests start empty)
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    seed_organisation()
    seed_reference()
    case = seed_live_case()
    assert CaseEvent.objects.filter(case=case).exists()
    triggers = guard_triggers()
    for table in (
        "cases_event_append_only",
        "topics_event_append_only",
        "stats_bulletinevent_append_only",
    ):
        assert any(name.startswith(table) for name in triggers), triggers

    # When the whole database is flushed (what a transactional test's teardown does)
    call_command("flush", interactive=False, verbosity=0)

    # Then the events are gone with everything else, and the guard is still in place
    assert not CaseEvent.objects.exists() and not Case.objects.exists()
    assert guard_triggers() == triggers
