"""督 through the broker: a real ``celery worker`` process runs the supervision scan and its
batches against this test's database, the way beat and the workers do in production.

The clock is travelled by the scan task's ``now_iso`` argument, never slept. The worker is a
``celery worker`` subprocess (solo pool) on a queue of its own: the scan it runs publishes its
batches and outbox drains to the worker's default queue, so the worker is started with that
queue as its default. Its log goes to a file the test reads line by line ("Task … received",
"… succeeded"), to know when a batch has arrived and when the worker has nothing left to do.

The broker is what ``CELERY_BROKER_URL`` says: Redis in CI, kombu's filesystem transport in a
folder of the test's own otherwise. Counting is by (case, deadline kind, step): one
``SupervisionMark``, one 督办提醒/督办升级 event and one message per recipient, exactly.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction

from cases.models import (
    Case,
    CaseEvent,
    EventType,
    Status,
    SupervisionLevel,
    SupervisionMark,
)
from cases.tasks import supervision_scan_task
from notifications.models import Notification, OutboxMessage, OutboxStatus
from notifications.tasks import drain_outbox_task
from tests.cases.test_concurrency import fresh_case
from tests.cases.test_supervision import (
    HANDLERS,
    HOUR,
    LEADER_AT,
    RESOLVE_BY,
    WARN_AT,
    at,
    clone_cases,
    given_deadlines,
)
from tests.conftest import Demo
from tests.notifications.test_notifications import (
    MASKED,
    PHONE,
    broker_down,
    reset_producers,
    submit_and_accept_over_http,
)
from tests.test_celery_worker import database_url
from xining_issues.brokers import filesystem_transport_options
from xining_issues.celery import app

pytestmark = [pytest.mark.worker]

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Seconds any wait may take on a loaded CI machine before the test gives up.
TIMEOUT = int(os.environ.get("WORKER_TEST_TIMEOUT", "90"))
# The worker's default queue must be the test's own: the scan it runs publishes its batches
# (and the batches their outbox drains) without naming a queue.
WORKER_MAIN = (
    "import sys; from xining_issues.celery import app; "
    "app.conf.task_default_queue = sys.argv[1]; app.worker_main(sys.argv[2:])"
)
RECEIVED = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[\w-]+)\] received")
FINISHED = re.compile(
    r"Task (?P<name>[\w.]+)\[(?P<id>[\w-]+)\] (?P<how>succeeded|retry|raised)"
    r"(?: in [\d.e-]+s: (?P<result>.*))?"
)


def wait_until(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``check`` (bounded) until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, no rollback by the worker itself."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=TIMEOUT)

    def stop(self) -> None:
        # The tests wait for the workers to settle, so nothing is in flight by now: no need
        # for the seconds a warm shutdown takes (the fixture tidies the broker afterwards).
        if self.process.poll() is None:
            self.kill()


@dataclass
class Workers:
    """Start ``celery worker`` processes on one queue of the test's own; publish to it."""

    queue: str
    folder: Path
    env: dict[str, str]
    started: list[Worker] = field(default_factory=list)

    def start(self, **env: str) -> Worker:
        name = f"w{len(self.started) + 1}"
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable, "-c", WORKER_MAIN, self.queue,
                    "worker", "--pool=solo", "--loglevel=INFO", "-Q", self.queue,
                    "-n", f"{name}-{self.queue}@%h", "--without-gossip", "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=BASE_DIR, env={**self.env, **env}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        worker = Worker(name, process, log)
        self.started.append(worker)
        wait_until(lambda: " ready." in worker.text() or process.poll() is not None, "ready")
        assert process.poll() is None, worker.text()
        return worker

    def publish(self, task: Any, *args: Any) -> None:
        with app.connection_for_write() as conn:
            task.apply_async(args=list(args), queue=self.queue, connection=conn)

    def scan(self, now: dt.datetime) -> None:
        """What beat does every minute, at a travelled ``now``."""
        self.publish(supervision_scan_task, now.isoformat())

    def lines(self) -> list[str]:
        return [line for w in self.started for line in w.text().splitlines()]

    def settled(self, scans: int) -> bool:
        """``scans`` scans have finished, every batch they announced has arrived at a worker,
        and no live worker is still running a task or waiting to retry one (a killed worker's
        last task stays unfinished in its log)."""
        batches: set[str] = set()
        announced = finished_scans = 0
        busy = False
        for worker in self.started:
            last: dict[str, str] = {}
            for line in worker.text().splitlines():
                if match := RECEIVED.search(line):
                    last[match["id"]] = "received"
                    if match["name"] == "cases.supervise_batch":
                        batches.add(match["id"])
                elif match := FINISHED.search(line):
                    last[match["id"]] = match["how"]
                    if match["name"] == "cases.supervision_scan" and match["how"] == "succeeded":
                        finished_scans += 1
                        announced += int(match["result"])
            alive = worker.process.poll() is None
            busy = busy or (alive and any(how in ("received", "retry") for how in last.values()))
        return finished_scans >= scans and len(batches) >= announced and not busy

    def succeeded(self, task: str) -> int:
        return sum(
            1
            for line in self.lines()
            if (match := FINISHED.search(line))
            and match["name"] == task
            and match["how"] == "succeeded"
        )

    def settle(self, scans: int) -> None:
        wait_until(lambda: self.settled(scans), f"{scans} scans and their batches")

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()
        if os.environ.get("SHOW_WORKER_LOG"):
            for worker in self.started:
                print(f"--- {worker.name}\n{worker.text()}")


def _forget_redis_queue(queue: str) -> None:
    """Remove the test queue's traces from a shared Redis: its list, kombu's bindings of it and
    the unacknowledged message of a killed worker (else restored into the queue an hour
    later)."""
    name = queue.encode()
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        for key in client.scan_iter(match=f"{queue}*"):
            client.delete(key)
        for key in client.scan_iter(match="_kombu.binding*"):
            kind = client.type(key)
            if name in key:
                client.delete(key)
            elif kind == b"set":
                for member in client.smembers(key):
                    if name in member:
                        client.srem(key, member)
            elif kind == b"zset":
                for member in client.zrange(key, 0, -1):
                    if name in member:
                        client.zrem(key, member)
        for tag, payload in client.hscan_iter("unacked"):
            if name in payload:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)


@pytest.fixture
def seeded(transactional_db: None) -> Demo:
    # Transactional tests start from an emptied database: seed the organisation again.
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    seed_organisation()
    seed_reference()
    return Demo()


@pytest.fixture
def workers(seeded: Demo, tmp_path: Path) -> Iterator[Workers]:
    queue = f"test-sup-{uuid.uuid4().hex[:12]}"
    env = dict(os.environ, DATABASE_URL=database_url(), EMAIL_URL="dummymail://", LOG_LEVEL="INFO")
    filesystem = settings.CELERY_BROKER_URL.startswith("filesystem://")
    if filesystem:
        # A folder of our own, so a developer's running `make run` worker is not involved.
        env["CELERY_FILESYSTEM_DIR"] = str(tmp_path / "broker")
        app.conf.broker_transport_options = filesystem_transport_options(tmp_path / "broker")
    # What this process publishes (the outbox kick after a commit) goes to the same queue.
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    reset_producers()
    group = Workers(queue, tmp_path, env)
    try:
        yield group
    finally:
        group.stop_all()
        if not filesystem:
            _forget_redis_queue(queue)
        app.conf.task_default_queue = default_queue
        app.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        reset_producers()


# --- what to count -------------------------------------------------------------------------------


def chased_once(cases: list[Case], steps: dict[str, int]) -> None:
    """Each case was chased exactly once for each of ``steps`` ({"kind:step": recipients}),
    and for nothing else: one mark, one event, one message per recipient."""
    ids = [c.pk for c in cases]
    want = {(pk, *rule.split(":")) for pk in ids for rule in steps}
    marks = Counter(
        SupervisionMark.objects.filter(case__in=ids).values_list("case_id", "kind", "step")
    )
    assert set(marks) == want and set(marks.values()) == {1}, marks
    events = Counter(
        (e.case_id, e.payload["kind"], e.payload["step"])
        for e in CaseEvent.objects.filter(
            case__in=ids, type__in=[EventType.REMIND, EventType.ESCALATE]
        )
    )
    assert set(events) == want and set(events.values()) == {1}, events
    notes = Counter(
        Notification.objects.filter(case__in=ids, key__startswith="supervision:").values_list(
            "subject_id", "key", "user_id"
        )
    )
    assert set(notes.values()) == {1}
    per_case = Counter(case_id for case_id, _key, _user in notes)
    assert set(per_case.values()) == {sum(steps.values())}
    assert len(per_case) == len(ids)


def overdue_cases(demo: Demo, count: int) -> list[Case]:
    """``count`` cases 湟中区人民政府 is handling, their first contact made, all past the
    resolve deadline of the other tests (the copies are inserted in one go)."""
    template = fresh_case(demo, Status.HANDLING)
    Case.objects.filter(pk=template.pk).update(contacted_at=template.signed_at)
    template = given_deadlines(template, resolve_by=RESOLVE_BY, warn_at=WARN_AT)
    return [template, *clone_cases(template, count - 1)]


def other_sessions() -> int:
    """Sessions on this test database other than the test's own (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


OVERDUE_AND_LEADER = {"resolve:overdue": len(HANDLERS), "resolve:leader": 1}


# --- the rules, through the worker ---------------------------------------------------------------


def test_each_case_gets_exactly_the_reminders_due_at_the_travelled_time(
    workers: Workers, seeded: Demo
) -> None:
    # Given cases placed before, at and after the warning point, the deadline and the
    # escalation points of a moment ``now``, and a case not accepted in time
    now = at(2031, 3, 20, 10)
    day = dt.timedelta(days=1)

    def handling(warn_at: dt.datetime, resolve_by: dt.datetime) -> Case:
        case = fresh_case(seeded, Status.HANDLING)
        Case.objects.filter(pk=case.pk).update(contacted_at=case.signed_at)
        return given_deadlines(case, warn_at=warn_at, resolve_by=resolve_by)

    cases = {
        "before the warning point": handling(now + HOUR, now + 2 * day),
        "at the warning point": handling(now, now + 2 * day),
        "after the warning point": handling(now - HOUR, now + day),
        "at the deadline": handling(now - 2 * day, now),
        "a day late": handling(now - 3 * day, now - day),
        "three days late": handling(now - 5 * day, now - 3 * day),
        "not accepted": given_deadlines(
            fresh_case(seeded, Status.SUBMITTED), accept_by=now - HOUR
        ),
    }
    workers.start()

    # When beat's scan runs at ``now`` through the broker and the worker
    workers.scan(now)
    workers.settle(scans=1)

    # Then each case got exactly the steps due by then
    def steps(case: Case) -> list[str]:
        return sorted(
            f"{kind}:{step}"
            for kind, step in SupervisionMark.objects.filter(case=case).values_list("kind", "step")
        )

    assert {label: steps(case) for label, case in cases.items()} == {
        "before the warning point": [],
        "at the warning point": ["resolve:warning"],
        "after the warning point": ["resolve:warning"],
        "at the deadline": ["resolve:overdue"],
        "a day late": ["resolve:leader", "resolve:overdue"],
        "three days late": ["resolve:leader", "resolve:office", "resolve:overdue"],
        "not accepted": ["accept:overdue"],
    }
    # And the events and messages match, once each
    late = cases["three days late"]
    assert [
        (e.type, e.payload["step"])
        for e in CaseEvent.objects.filter(
            case=late, type__in=[EventType.REMIND, EventType.ESCALATE]
        ).order_by("id")
    ] == [
        (EventType.REMIND, "overdue"),
        (EventType.ESCALATE, "leader"),
        (EventType.ESCALATE, "office"),
    ]
    assert sorted(Notification.objects.filter(
        case=late, key__startswith="supervision:"
    ).values_list("kind", "user__username")) == [
        ("escalation_leader", "leader_huangzhong"),
        ("escalation_office", "supervisor1"),
        ("reminder_overdue", "handler_huangzhong"),
        ("reminder_overdue", "leader_huangzhong"),
    ]  # fmt: skip
    assert set(
        Notification.objects.filter(
            case=cases["not accepted"], key__startswith="supervision:"
        ).values_list("kind", "user__username")
    ) == {("reminder_overdue", "dispatcher_huangzhong")}
    levels = dict(Case.objects.filter(pk__in=[c.pk for c in cases.values()]).values_list(
        "pk", "supervision_level"
    ))  # fmt: skip
    assert {label: levels[case.pk] for label, case in cases.items()} == {
        "before the warning point": SupervisionLevel.ON_TIME,
        "at the warning point": SupervisionLevel.WARNING,
        "after the warning point": SupervisionLevel.WARNING,
        "at the deadline": SupervisionLevel.OVERDUE,
        "a day late": SupervisionLevel.OVERDUE,
        "three days late": SupervisionLevel.SUPERVISED,
        "not accepted": SupervisionLevel.OVERDUE,
    }
    # And the 督查室 was emailed too (the outbox rows wait for the travelled time to come)
    assert OutboxMessage.objects.filter(
        channel="email", kind="escalation_office", recipient="supervisor1@example.invalid"
    ).count() == 1  # fmt: skip

    # When the same scan runs again; Then it finds nothing to do
    marks = SupervisionMark.objects.count()
    workers.scan(now)
    workers.settle(scans=2)
    assert SupervisionMark.objects.count() == marks
    assert re.search(r"cases\.supervision_scan\[[\w-]+\] succeeded in [\d.e-]+s: 0", "\n".join(
        workers.lines()
    ))  # fmt: skip


def test_two_scans_at_once_in_two_workers_chase_each_case_once(
    workers: Workers, seeded: Demo
) -> None:
    # Given 120 overdue cases, two workers, and batches of 25
    cases = overdue_cases(seeded, 120)
    workers.start(SUPERVISION_BATCH_SIZE="25")
    workers.start(SUPERVISION_BATCH_SIZE="25")

    # When the same scan is published twice at once (each worker takes one), and once more a
    # minute later, as beat would (a scan skips rows the other holds: the next one has them)
    workers.scan(LEADER_AT)
    workers.scan(LEADER_AT)
    workers.settle(scans=2)
    workers.scan(LEADER_AT)
    workers.settle(scans=3)

    # Then every reminder was written exactly once
    chased_once(cases, OVERDUE_AND_LEADER)
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        # (Redis hands the second scan to the idle worker at once; the filesystem transport
        # polls, so there one worker may well have run both)
        assert all("cases.supervision_scan[" in w.text() for w in workers.started)


# --- a worker killed in the middle of a batch ----------------------------------------------------


def test_a_worker_killed_as_its_batch_arrives_leaves_all_or_nothing_and_a_restart_finishes(
    workers: Workers, seeded: Demo
) -> None:
    # Given 300 overdue cases and a worker that takes them in one batch per step
    cases = overdue_cases(seeded, 300)
    first = workers.start(SUPERVISION_BATCH_SIZE="300")

    # When the scan runs and the worker is killed the moment its first batch arrives
    workers.scan(LEADER_AT)
    wait_until(
        lambda: any(m["name"] == "cases.supervise_batch" for m in RECEIVED.finditer(first.text())),
        "a batch to arrive",
    )
    first.kill()
    if connection.vendor == "postgresql":
        wait_until(lambda: other_sessions() == 0, "the killed worker's session to end")

    # Then each step was done for the whole batch or not at all
    for kind, step, recipients in [("resolve", "overdue", 2), ("resolve", "leader", 1)]:
        done = SupervisionMark.objects.filter(kind=kind, step=step).count()
        assert done in (0, 300), (step, done)
        events = CaseEvent.objects.filter(payload__kind=kind, payload__step=step).count()
        assert events == done, (step, events)
        assert Notification.objects.filter(
            key__contains=f":{kind}:{step}:"
        ).count() == recipients * done  # fmt: skip

    # When a worker is started again and beat's next scan runs
    workers.start(SUPERVISION_BATCH_SIZE="300")
    workers.scan(LEADER_AT)
    workers.settle(scans=2)

    # Then every reminder due was sent exactly once, none missed
    chased_once(cases, OVERDUE_AND_LEADER)
    assert Case.objects.filter(
        pk__in=[c.pk for c in cases], supervision_level=SupervisionLevel.OVERDUE
    ).count() == 300  # fmt: skip


@pytest.mark.postgres
def test_a_worker_killed_half_way_through_a_batch_leaves_nothing_behind(
    workers: Workers, seeded: Demo
) -> None:
    import psycopg2

    # Given 100 overdue cases, and another session holding the events table so that a batch
    # gets as far as its marks and the level update and then waits to write its events
    cases = overdue_cases(seeded, 100)
    ids = [c.pk for c in cases]
    db = connection.settings_dict
    blocker = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or None, port=db["PORT"] or None,
    )  # fmt: skip
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE cases_caseevent IN SHARE MODE")
        worker = workers.start(SUPERVISION_BATCH_SIZE="100")
        workers.scan(RESOLVE_BY)

        def batch_waiting() -> int | None:
            with connection.cursor() as cursor:  # not the blocker: its view is a snapshot
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                    " AND query LIKE %s",
                    ['INSERT INTO "cases_caseevent"%'],
                )
                row = cursor.fetchone()
            return row[0] if row else None

        backend = wait_until(batch_waiting, "the batch to wait on the events table")
        # By then its transaction has locked every case (a scan now would skip them all) and
        # written to the marks and to the cases (the level), uncommitted
        with transaction.atomic():
            free = Case.objects.select_for_update(skip_locked=True).filter(pk__in=ids)
            assert list(free.values_list("pk", flat=True)) == []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.pid = %s AND l.granted AND l.mode = 'RowExclusiveLock'",
                [backend],
            )
            written = {name for (name,) in cursor.fetchall()}
        assert {"cases_supervisionmark", "cases_case"} <= written, written

        # When the worker is killed there, and the table is released
        worker.kill()
        blocker.rollback()

        def gone() -> bool:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
                return cursor.fetchone()[0] == 0

        wait_until(gone, "the killed worker's session to end")
    finally:
        blocker.close()

    # Then the half-done batch left nothing: no mark, no level, no event, no message
    assert SupervisionMark.objects.filter(case__in=ids).count() == 0
    assert set(Case.objects.filter(pk__in=ids).values_list("supervision_level", flat=True)) == {
        SupervisionLevel.ON_TIME
    }
    assert not CaseEvent.objects.filter(case__in=ids, type=EventType.REMIND).exists()
    assert not Notification.objects.filter(key__startswith="supervision:").exists()
    assert not OutboxMessage.objects.filter(kind="reminder_overdue").exists()

    # When a worker is started again and beat's next scan runs
    workers.start(SUPERVISION_BATCH_SIZE="100")
    workers.scan(RESOLVE_BY)
    workers.settle(scans=2)

    # Then each case was chased once
    chased_once(cases, {"resolve:overdue": len(HANDLERS)})


# --- the broker down, then back ------------------------------------------------------------------


def test_messages_written_while_the_broker_was_down_are_sent_once_by_the_worker(
    workers: Workers, seeded: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a complaint filed and accepted over HTTP while the broker is down
    with caplog.at_level(logging.INFO), broker_down():
        case, took = submit_and_accept_over_http(seeded)
    assert max(took) < 30, took
    (text,) = OutboxMessage.objects.filter(channel="sms", recipient=PHONE)
    assert text.status == OutboxStatus.PENDING

    # When the broker is back and beat's drain reaches the worker (twice)
    worker = workers.start(SMS_BACKEND="logging")
    workers.publish(drain_outbox_task)
    wait_until(
        lambda: OutboxMessage.objects.get(pk=text.pk).status == OutboxStatus.SENT, "the SMS"
    )
    workers.publish(drain_outbox_task)
    wait_until(
        lambda: workers.succeeded("notifications.drain_outbox") == 2 and workers.settled(scans=0),
        "both drains",
    )

    # Then the SMS went out once, logged with the number masked
    sent = OutboxMessage.objects.get(pk=text.pk)
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 1)
    log = worker.text()
    assert log.count(f"SMS to {MASKED}") == 1
    assert case.tracking_code in log
    assert PHONE not in log
    assert PHONE not in caplog.text
