"""The workflow kernel (``xining_issues.workflow``) on a declaration of its own.

Apps' tests check their tables (tests/cases/api/test_permission_table.py, tests/topics/); these
check what every app gets from the kernel whatever its table says: the order of the refusals
(state, role, the step's own rule, input), one event per step and nothing on a refusal, effects
after the commit and never after a rollback, ``precheck`` and ``allowed_actions`` judged by the
same guards as the step, and a batch of events in one statement.

The declaration rides on ``Topic`` and ``TopicEvent`` (any model with a status would do) with a
table that exists only here, so a change to the topics' own table cannot hide a kernel fault.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import django.dispatch
import pytest
from django.db import transaction

from org import jurisdiction
from org.models import Role, User
from tests.conftest import Demo
from topics import workflow as topics_workflow
from topics.models import Topic, TopicEvent, TopicStatus, TopicTheme
from xining_issues.errors import InvalidInput, NotAllowed, WrongState
from xining_issues.workflow import Step, Workflow, clean_text, transition

pytestmark = pytest.mark.django_db

S = TopicStatus
BLOCKED = "blocked:"  # a title the guard of "adopt" refuses

committed = django.dispatch.Signal()


def guard_adopt(topic: Topic, role: str) -> None:
    if topic.title.startswith(BLOCKED):
        raise WrongState("blocked by the step's own rule")


def event_row(topic: Topic, step: Step, *, note: str = "") -> TopicEvent:
    return TopicEvent(
        topic=topic,
        type=step.action,
        actor=step.actor,
        from_status=step.from_status,
        to_status=step.to_status,
        payload={**step.payload, "note": note},
        created_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    )


recorded: list[TopicEvent] = []  # what on_record saw, in the step's transaction

FLOW: Workflow[Topic, TopicEvent] = Workflow(
    model=Topic,
    table={
        "adopt": transition([S.CANDIDATE], S.ADOPTED, Role.COMMITTEE),
        # Two roles: the first that reaches the topic acts.
        "comment": transition([S.CANDIDATE, S.ADOPTED], None, Role.SUPERVISOR, Role.COMMITTEE),
    },
    reaches=lambda actor, topic, role, action: jurisdiction.has_role(actor, role),
    guards={"adopt": guard_adopt},
    event_row=event_row,
    on_record=recorded.append,
    committed=committed,
    wrong_state="state is %(status)s",
    not_allowed="not yours",
)


def adopt(*, topic: Topic, actor: User | None, word: str) -> Topic:
    """A step written the way the apps write theirs."""
    with transaction.atomic():
        topic, role = FLOW.begin(topic, actor, "adopt")
        word = clean_text(word, "word", max_length=5)
        from_status = FLOW.move(topic, "adopt")
        FLOW.save(topic, "status")
        FLOW.record(topic, "adopt", actor, role, from_status, {"word": word}, note="n")
    return topic


@pytest.fixture(autouse=True)
def _clear_recorded() -> Iterator[None]:
    recorded.clear()
    yield
    recorded.clear()


@pytest.fixture
def sent() -> Iterator[list[TopicEvent]]:
    """The events the ``committed`` signal announced."""
    events: list[TopicEvent] = []

    def receiver(sender: Any, event: TopicEvent, **kwargs: Any) -> None:
        events.append(event)

    committed.connect(receiver, weak=False)
    yield events
    committed.disconnect(receiver)


@pytest.fixture
def make_topic(demo: Demo) -> Callable[..., Topic]:
    def make(title: str = "kernel", status: str = S.CANDIDATE) -> Topic:
        topic = topics_workflow.topic_create(
            actor=demo.user("committee1"),
            title=title,
            month=dt.date(2026, 3, 1),
            theme=TopicTheme.PROBLEM_SOLVING,
            lead_unit=demo.unit("xn-planning"),
        )
        if status != S.CANDIDATE:
            Topic.objects.filter(pk=topic.pk).update(status=status)
            topic.refresh_from_db()
        return topic

    return make


def events_of(topic: Topic) -> list[tuple[str, str, str]]:
    return list(
        TopicEvent.objects.filter(topic=topic)
        .exclude(type="create")
        .order_by("pk")
        .values_list("type", "from_status", "to_status")
    )


# --- the order of the refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "title", "who", "word", "error"),
    [
        # Everything wrong: the state speaks first (the loser of a race hears "changed").
        (S.ADOPTED, BLOCKED, "supervisor1", "", WrongState),
        # Right state, wrong role, wrong rule, bad input: the role.
        (S.CANDIDATE, BLOCKED, "supervisor1", "", NotAllowed),
        # Nobody signed in is a role refusal too.
        (S.CANDIDATE, BLOCKED, None, "", NotAllowed),
        # Right state and role: the step's own rule before the input.
        (S.CANDIDATE, BLOCKED, "committee1", "", WrongState),
        # Only then the input.
        (S.CANDIDATE, "kernel", "committee1", "", InvalidInput),
        (S.CANDIDATE, "kernel", "committee1", "toolong", InvalidInput),
    ],
)
def test_refusals_come_in_the_order_state_role_rule_input_and_change_nothing(
    make_topic: Callable[..., Topic],
    demo: Demo,
    status: str,
    title: str,
    who: str | None,
    word: str,
    error: type[Exception],
) -> None:
    # Given a topic
    topic = make_topic(title=title, status=status)
    actor = demo.user(who) if who else None
    # When the step is tried
    with pytest.raises(error):
        adopt(topic=topic, actor=actor, word=word)
    # Then it is refused with that error, and nothing changed
    topic.refresh_from_db()
    assert topic.status == status
    assert events_of(topic) == []
    assert recorded == []


def test_precheck_and_allowed_actions_judge_by_the_same_guards(
    make_topic: Callable[..., Topic], demo: Demo
) -> None:
    committee = demo.user("committee1")
    # Given a topic the guard of "adopt" refuses
    blocked = make_topic(title=BLOCKED + "x")
    # Then precheck refuses it with the guard's error and the button is not offered
    with pytest.raises(WrongState, match="blocked"):
        FLOW.precheck(committee, blocked, "adopt")
    assert FLOW.allowed_actions(committee, blocked) == ["comment"]
    # And an ordinary topic offers both, a supervisor only what the table gives them
    plain = make_topic()
    assert FLOW.allowed_actions(committee, plain) == ["adopt", "comment"]
    assert FLOW.allowed_actions(demo.user("supervisor1"), plain) == ["comment"]
    assert FLOW.allowed_actions(demo.user("resident1"), plain) == []


def test_the_first_role_in_the_table_that_reaches_the_object_acts(
    make_topic: Callable[..., Topic], demo: Demo
) -> None:
    topic = make_topic()
    assert FLOW.acting_role(demo.user("supervisor1"), topic, "comment") == Role.SUPERVISOR
    assert FLOW.acting_role(demo.user("committee1"), topic, "comment") == Role.COMMITTEE
    with pytest.raises(NotAllowed, match="not yours"):
        FLOW.acting_role(demo.user("resident1"), topic, "comment")


def test_the_state_refusal_names_the_current_state(
    make_topic: Callable[..., Topic], demo: Demo
) -> None:
    topic = make_topic(status=S.CLOSED)
    with pytest.raises(WrongState) as refused:
        FLOW.precheck(demo.user("committee1"), topic, "adopt")
    assert refused.value.message == f"state is {topic.get_status_display()}"
    assert refused.value.status_code == 409


# --- one event, effects on commit ---------------------------------------------------------------


def test_a_step_writes_one_event_and_announces_it_after_the_commit(
    make_topic: Callable[..., Topic],
    demo: Demo,
    sent: list[TopicEvent],
    django_capture_on_commit_callbacks: Any,
) -> None:
    topic = make_topic()
    committee = demo.user("committee1")
    # When the step succeeds
    with django_capture_on_commit_callbacks(execute=True):
        adopt(topic=topic, actor=committee, word=" yes ")
        # Then nothing is announced before the commit, but on_record ran in the transaction
        assert sent == []
        assert len(recorded) == 1
    # And exactly one event was written, with the acting role in its payload
    assert events_of(topic) == [("adopt", S.CANDIDATE, S.ADOPTED)]
    event = TopicEvent.objects.get(topic=topic, type="adopt")
    assert event.actor == committee
    assert event.payload == {"role": Role.COMMITTEE, "word": "yes", "note": "n"}
    assert sent == [event] == recorded
    topic.refresh_from_db()
    assert topic.status == S.ADOPTED


def test_nothing_is_announced_for_a_step_that_rolled_back(
    make_topic: Callable[..., Topic],
    demo: Demo,
    sent: list[TopicEvent],
    django_capture_on_commit_callbacks: Any,
) -> None:
    topic = make_topic()
    # When the step's transaction fails after the event was written
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        adopt(topic=topic, actor=demo.user("committee1"), word="yes")
        raise RuntimeError("later in the same transaction")
    # Then neither the change nor the event stays, and no effect ran
    assert callbacks == []
    assert sent == []
    assert events_of(topic) == []
    topic.refresh_from_db()
    assert topic.status == S.CANDIDATE


def test_record_events_writes_a_batch_in_one_statement(
    make_topic: Callable[..., Topic],
    demo: Demo,
    sent: list[TopicEvent],
    django_capture_on_commit_callbacks: Any,
    django_assert_num_queries: Any,
) -> None:
    topics = [make_topic(title=f"t{i}") for i in range(3)]
    batches: list[list[TopicEvent]] = []
    rows = [
        (topic, FLOW.step(topic, "comment", None, None, topic.status, {"n": i}), {"note": "scan"})
        for i, topic in enumerate(topics)
    ]
    # When a scan records one event per topic
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(1):
        events = FLOW.record_events(rows, on_batch=batches.append)
    # Then the rows are the ones record would write, the batch's effects ran once, and each
    # event was announced after the commit
    assert [(e.topic_id, e.type, e.actor_id, e.payload) for e in events] == [
        (t.pk, "comment", None, {"n": i, "note": "scan"}) for i, t in enumerate(topics)
    ]
    assert all(e.pk for e in events)
    assert batches == [events]
    assert sent == events
    # And the rows read back are the events as built (keys in order, JSON and times as given)
    stored = TopicEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk")
    assert [(e.pk, e.topic_id, e.payload, e.created_at) for e in stored] == [
        (e.pk, e.topic_id, e.payload, e.created_at) for e in events
    ]
    assert FLOW.record_events([]) == []


# --- text ---------------------------------------------------------------------------------------


def test_clean_text_strips_requires_and_takes_the_fields_own_limit() -> None:
    assert clean_text("  abc ", "f", max_length=3) == "abc"
    assert clean_text(None, "f", max_length=3, required=False) == ""
    with pytest.raises(InvalidInput) as empty:
        clean_text("   ", "f", max_length=3)
    assert list(empty.value.fields) == ["f"]
    with pytest.raises(InvalidInput) as long:
        clean_text("abcd", "g", max_length=3)
    assert list(long.value.fields) == ["g"]


# --- the bulletin's steps are the kernel's too ---------------------------------------------


def test_publishing_a_bulletin_writes_one_event_and_a_refusal_none(demo: Demo) -> None:
    from stats.bulletins import bulletin_generate, bulletin_publish
    from stats.models import BulletinEvent, BulletinStatus

    # Given a draft bulletin
    draft = bulletin_generate(dt.date(2026, 3, 1))
    # When a supervisor tries to publish it, then the committee does, then again
    with pytest.raises(NotAllowed):
        bulletin_publish(bulletin=draft, actor=demo.user("supervisor1"))
    published = bulletin_publish(bulletin=draft, actor=demo.user("committee1"))
    with pytest.raises(WrongState):
        bulletin_publish(bulletin=draft, actor=demo.user("committee1"))
    # Then it was published once, with one event naming who, in which role, from which state
    assert published.status == BulletinStatus.PUBLISHED
    events = list(BulletinEvent.objects.filter(bulletin=draft))
    assert [(e.type, e.from_status, e.to_status, e.actor) for e in events] == [
        ("publish", BulletinStatus.DRAFT, BulletinStatus.PUBLISHED, demo.user("committee1"))
    ]
    assert events[0].payload["role"] == Role.COMMITTEE


def test_editing_a_draft_writes_one_event_naming_the_fields(demo: Demo) -> None:
    from stats.bulletins import bulletin_generate, bulletin_update
    from stats.models import BulletinEvent, BulletinStatus

    # Given a draft bulletin
    draft = bulletin_generate(dt.date(2026, 3, 1))
    # When the committee changes its title, and a blank title is refused
    bulletin_update(bulletin=draft, actor=demo.user("committee1"), title="  三月通报  ")
    with pytest.raises(InvalidInput):
        bulletin_update(bulletin=draft, actor=demo.user("committee1"), title="  ")
    # Then the title is stored stripped, with one 修改 event that names the field, not its text
    draft.refresh_from_db()
    assert draft.title == "三月通报"
    events = list(BulletinEvent.objects.filter(bulletin=draft))
    assert [(e.type, e.from_status, e.to_status, e.payload) for e in events] == [
        (
            "edit",
            BulletinStatus.DRAFT,
            BulletinStatus.DRAFT,
            {"role": Role.COMMITTEE, "fields": ["title"]},
        )
    ]
