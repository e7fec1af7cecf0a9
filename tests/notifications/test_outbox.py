"""The outbox sends each message at most once, and in practice exactly once.

A message is claimed (a short transaction: ``sending``, with a lease), sent outside any
transaction, then marked ``sent`` or given back for a retry in a second short transaction. The
gateway here is a fake: each send takes a few seconds on a fake clock (never a real ``sleep``),
and every call is recorded, so "each phone once" is counted at the gateway itself.

The issue this answers: 60 queued messages, a slow gateway, the drain cut off by its time limit
inside one big transaction, rolled back and run again: 108 sends, phones with 2-3 copies, rows
pending forever.
"""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.test import Client
from django.utils import timezone

from notifications import backends, services, tasks
from notifications.models import OutboxMessage, OutboxStatus
from org.models import User
from xining_issues.privacy import mask_phone

NOW = dt.datetime(2031, 3, 14, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
QUEUED = 60


class WorkerKilled(BaseException):
    """What a SIGKILL (or the hard time limit) looks like from inside a send: no ``except
    Exception`` sees it, so no code of the drain runs for that message afterwards."""


@dataclass
class FakeClock:
    """A monotonic clock that moves only when a send takes time."""

    seconds: float = 1000.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> float:
        with self.lock:
            return self.seconds

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.seconds += seconds


@dataclass
class SlowGateway:
    """A fake SMS gateway: each send takes ``seconds`` on ``clock``; every call is recorded.

    ``fail`` refuses every message (as a gateway timing out would); ``die_on`` kills the worker
    during that call (1-based), ``cut_on`` raises Celery's soft time limit during that call."""

    clock: FakeClock = field(default_factory=FakeClock)
    seconds: float = 2.0
    fail: bool = False
    die_on: int | None = None
    cut_on: int | None = None
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, phone: str, text: str, *, key: str | None = None) -> None:
        with self.lock:
            self.calls.append((phone, text, key))
            call = len(self.calls)
        self.clock.advance(self.seconds)
        if call == self.die_on:
            raise WorkerKilled
        if call == self.cut_on:
            raise SoftTimeLimitExceeded
        if self.fail:
            raise backends.SmsError("gateway timeout")

    def phones(self) -> Counter[str]:
        return Counter(phone for phone, _text, _key in self.calls)


def phone(n: int) -> str:
    return f"139{n:08d}"


def queue_sms(count: int = QUEUED, *, due: dt.datetime = NOW) -> list[OutboxMessage]:
    """``count`` SMS '诉求已受理' to ``count`` different phones, all due at ``due``."""
    return OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                channel="sms",
                recipient=phone(n),
                kind="case_accepted",
                params={"code": f"XN-20310314-{n:04d}"},
                key=f"test:{n}",
                next_attempt_at=due,
                created_at=due,
            )
            for n in range(count)
        ]
    )


def statuses() -> Counter[str]:
    return Counter(OutboxMessage.objects.values_list("status", flat=True))


def every_phone_once(gateway: SlowGateway, count: int = QUEUED) -> bool:
    return gateway.phones() == Counter({phone(n): 1 for n in range(count)})


# --- a slow gateway, a drain cut off, run again -------------------------------------------------


@pytest.mark.django_db
class TestSlowGateway:
    def test_a_drain_stopped_by_its_deadline_and_run_again_sends_each_message_once(self) -> None:
        # Given 60 SMS queued and a gateway that takes 2 s a message
        queue_sms()
        gateway = SlowGateway()

        # When the drain may claim for 50 s only: it stops, and is run again until done
        runs = []
        while statuses()[OutboxStatus.PENDING]:
            runs.append(
                services.drain_outbox(now=NOW, backend=gateway, stop_after=50, clock=gateway.clock)
            )
            # a stopped drain leaves nothing claimed behind it
            assert not statuses()[OutboxStatus.SENDING]
            assert len(runs) < 10

        # Then it took three runs (25, 25, 10), and each phone got exactly one SMS
        assert runs == [25, 25, 10]
        assert len(gateway.calls) == QUEUED
        assert every_phone_once(gateway)
        # And every row is marked sent, after one attempt
        assert statuses() == {OutboxStatus.SENT: QUEUED}
        assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}

    def test_a_worker_killed_mid_send_never_sends_a_message_twice(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given 60 SMS queued, and a worker that dies while sending the 31st
        queue_sms()
        gateway = SlowGateway(die_on=31)
        monkeypatch.setattr(backends, "get_backend", lambda: gateway)
        with pytest.raises(WorkerKilled):
            services.drain_outbox(now=NOW)

        # When the next drain runs (beat's, a few seconds later)
        services.drain_outbox(now=NOW + 30 * SECOND)

        # Then the gateway was asked once per phone: the 30 sent before are not sent again,
        # and the message the dead worker was sending is not sent again either
        assert len(gateway.calls) == QUEUED
        assert every_phone_once(gateway)
        assert statuses() == {OutboxStatus.SENT: QUEUED - 1, OutboxStatus.SENDING: 1}

    def test_the_soft_time_limit_mid_send_marks_that_message_unknown_and_stops(self) -> None:
        # Given 60 SMS queued, and the task's soft time limit striking during the 11th send
        rows = queue_sms()
        gateway = SlowGateway(cut_on=11)
        with pytest.raises(SoftTimeLimitExceeded):
            services.drain_outbox(now=NOW, backend=gateway)

        # Then the drain stopped there: 10 sent, the 11th unknown (it may have gone out), and
        # the rest untouched
        assert statuses() == {
            OutboxStatus.SENT: 10,
            OutboxStatus.UNKNOWN: 1,
            OutboxStatus.PENDING: QUEUED - 11,
        }
        cut = OutboxMessage.objects.get(pk=rows[10].pk)
        assert cut.status == OutboxStatus.UNKNOWN and cut.last_error

        # When the next drain runs, it sends the rest and leaves the unknown one alone
        assert services.drain_outbox(now=NOW + 30 * SECOND, backend=gateway) == QUEUED - 11
        assert every_phone_once(gateway)
        assert OutboxMessage.objects.get(pk=cut.pk).status == OutboxStatus.UNKNOWN


# --- two drains at once --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_drains_running_at_once_never_send_a_row_twice() -> None:
    # Given 60 SMS queued, and a gateway at which both drains must be sending at the same moment
    # (each one's first send waits for the other's), so the two really overlap
    queue_sms()
    gateway = SlowGateway(seconds=0)
    both_sending = threading.Barrier(2, timeout=20)
    sent_by: dict[str, int] = {}
    errors: list[BaseException] = []

    class Overlapping:
        def __init__(self) -> None:
            self.first = True

        def send(self, phone: str, text: str, *, key: str | None = None) -> None:
            if self.first:
                self.first = False
                both_sending.wait()
            gateway.send(phone, text, key=key)

    def drain(name: str) -> None:
        try:
            sent_by[name] = services.drain_outbox(now=NOW, backend=Overlapping())
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()  # each thread has a connection of its own

    # When two drains run in two threads
    threads = [threading.Thread(target=drain, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then both sent some, together exactly 60, each phone once, and every row is sent
    assert not errors, errors
    assert sent_by["a"] > 0 and sent_by["b"] > 0
    assert sent_by["a"] + sent_by["b"] == QUEUED
    assert every_phone_once(gateway)
    assert statuses() == {OutboxStatus.SENT: QUEUED}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_message_another_drain_is_claiming_is_passed_over_not_waited_for() -> None:
    import psycopg2

    # Given three SMS, the first locked by another drain's claim that has not committed yet
    first, *others = queue_sms(3)
    db = connection.settings_dict
    other_drain = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or None, port=db["PORT"] or None,
    )  # fmt: skip
    try:
        with other_drain.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM cases_outboxmessage WHERE id = %s FOR UPDATE", [first.pk]
            )
        with connection.cursor() as cursor:  # fail, rather than hang, if this drain waits
            cursor.execute("SET lock_timeout = '5s'")

        # When this drain runs meanwhile, it sends the other two without waiting
        gateway = SlowGateway(seconds=0)
        assert services.drain_outbox(now=NOW, backend=gateway) == 2
        assert {p for p, _t, _k in gateway.calls} == {m.recipient for m in others}
    finally:
        other_drain.rollback()
        other_drain.close()

    # Then the first is still waiting for its turn, and goes out on the next run
    assert OutboxMessage.objects.get(pk=first.pk).status == OutboxStatus.PENDING
    assert services.drain_outbox(now=NOW, backend=gateway) == 1
    assert every_phone_once(gateway, 3)


# --- a gateway that keeps failing ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_failing_gateway_is_retried_with_backoff_and_ends_failed_after_the_cap() -> None:
    # Given three SMS and a gateway that refuses everything
    queue_sms(3)
    gateway = SlowGateway(fail=True)

    # When the drain runs each time the messages are due again
    now, waits = NOW, []
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        assert services.drain_outbox(now=now, backend=gateway) == 0
        rows = list(OutboxMessage.objects.all())
        # every message was tried once more, and is not left claimed between tries
        assert {r.attempts for r in rows} == {attempt}
        assert {r.claimed_until for r in rows} == {None}
        assert {r.last_error for r in rows} == {"gateway timeout"}
        (due,) = {r.next_attempt_at for r in rows}
        waits.append(due - now)
        now = due

    # Then the waits doubled from 2 minutes, and after the cap every message is failed
    assert waits == [dt.timedelta(minutes=2**n) for n in range(1, services.MAX_ATTEMPTS + 1)]
    assert statuses() == {OutboxStatus.FAILED: 3}
    assert len(gateway.calls) == 3 * services.MAX_ATTEMPTS
    # And a failed message is never tried again by the drain
    services.drain_outbox(now=now + dt.timedelta(days=30), backend=gateway)
    assert len(gateway.calls) == 3 * services.MAX_ATTEMPTS


# --- a lease that ran out ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_whose_lease_ran_out_is_marked_unknown_and_not_sent_again() -> None:
    # Given a worker that died while sending the first of two messages
    first, second = queue_sms(2)
    gateway = SlowGateway(die_on=1)
    with pytest.raises(WorkerKilled):
        services.drain_outbox(now=NOW, backend=gateway)
    claimed = OutboxMessage.objects.get(pk=first.pk)
    assert claimed.status == OutboxStatus.SENDING
    assert claimed.claimed_until == NOW + services.LEASE

    # When drains run while the lease lasts: the message stays claimed, never re-sent
    services.drain_outbox(now=NOW + services.LEASE - SECOND, backend=gateway)
    assert OutboxMessage.objects.get(pk=first.pk).status == OutboxStatus.SENDING

    # When a drain runs after the lease ran out
    services.drain_outbox(now=NOW + services.LEASE + SECOND, backend=gateway)

    # Then the message is marked unknown for an operator, and was still sent only once (the
    # dead worker's try), while the other message went out normally
    lost = OutboxMessage.objects.get(pk=first.pk)
    assert lost.status == OutboxStatus.UNKNOWN
    assert "lease" in lost.last_error
    assert gateway.phones() == Counter({first.recipient: 1, second.recipient: 1})
    assert OutboxMessage.objects.get(pk=second.pk).status == OutboxStatus.SENT
    services.drain_outbox(now=NOW + dt.timedelta(days=30), backend=gateway)
    assert len(gateway.calls) == 2


# --- the time limits fit together ----------------------------------------------------------------


def test_a_send_always_ends_long_before_its_lease() -> None:
    # The gateway's timeout bounds one send; the task's hard time limit bounds a worker that
    # hangs anyway. Both are well inside the lease, so a lease runs out only when its worker
    # is gone.
    lease = services.LEASE.total_seconds()
    assert lease >= backends.GATEWAY_TIMEOUT * 10
    assert tasks.drain_outbox_task.time_limit < lease
    backend = backends.HttpGatewaySmsBackend("https://sms.example.invalid/send", "t")
    assert backend.timeout == backends.GATEWAY_TIMEOUT


def test_the_task_stops_claiming_before_its_soft_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def drain(**kwargs: Any) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(services, "drain_outbox", drain)
    tasks.drain_outbox_task()
    # the last claim leaves room for one whole send (the gateway's timeout) and its mark
    task = tasks.drain_outbox_task
    assert seen["stop_after"] + 2 * backends.GATEWAY_TIMEOUT <= task.soft_time_limit
    assert task.soft_time_limit < task.time_limit


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    return client


OUTBOX_ADMIN = "/admin/notifications/outboxmessage/"


@pytest.mark.django_db
class TestAdmin:
    @pytest.fixture
    def one_of_each(self) -> dict[str, OutboxMessage]:
        rows = queue_sms(4, due=timezone.now() - dt.timedelta(hours=1))
        for row, status in zip(
            rows,
            [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNKNOWN, OutboxStatus.PENDING],
            strict=True,
        ):
            OutboxMessage.objects.filter(pk=row.pk).update(
                status=status, attempts=services.MAX_ATTEMPTS, last_error="boom"
            )
        return {r.status: r for r in OutboxMessage.objects.all()}

    def test_failed_messages_are_found_by_status_with_the_number_masked(
        self, admin_client_logged_in: Client, one_of_each: dict[str, OutboxMessage]
    ) -> None:
        response = admin_client_logged_in.get(OUTBOX_ADMIN, {"status__exact": "failed"})
        assert response.status_code == 200
        page = response.content.decode()
        failed = one_of_each[OutboxStatus.FAILED]
        assert mask_phone(failed.recipient) in page
        assert failed.recipient not in page
        assert mask_phone(one_of_each[OutboxStatus.SENT].recipient) not in page
        # the detail page shows the row read-only, without the whole number either
        detail = admin_client_logged_in.get(f"{OUTBOX_ADMIN}{failed.pk}/change/")
        assert detail.status_code == 200
        assert failed.recipient not in detail.content.decode()
        assert 'name="_save"' not in detail.content.decode()

    def test_the_retry_action_requeues_failed_and_unknown_messages_only(
        self, admin_client_logged_in: Client, one_of_each: dict[str, OutboxMessage]
    ) -> None:
        # When an operator selects every message and asks to send them again
        before = timezone.now()
        response = admin_client_logged_in.post(
            OUTBOX_ADMIN,
            {
                "action": "retry_messages",
                "_selected_action": [r.pk for r in one_of_each.values()],
            },
        )
        assert response.status_code == 302

        # Then the failed and the unknown one are pending again, due now, with fresh attempts
        for status in (OutboxStatus.FAILED, OutboxStatus.UNKNOWN):
            row = OutboxMessage.objects.get(pk=one_of_each[status].pk)
            assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
            assert row.next_attempt_at >= before
        # And the sent one is left as it was (never sent twice by an operator's slip)
        sent = OutboxMessage.objects.get(pk=one_of_each[OutboxStatus.SENT].pk)
        assert (sent.status, sent.attempts) == (OutboxStatus.SENT, services.MAX_ATTEMPTS)

        # When the drain runs, the three pending messages go out
        gateway = SlowGateway()
        assert services.drain_outbox(backend=gateway) == 3

    def test_messages_cannot_be_added_edited_or_deleted(
        self, admin_client_logged_in: Client, one_of_each: dict[str, OutboxMessage]
    ) -> None:
        row = one_of_each[OutboxStatus.PENDING]
        assert admin_client_logged_in.get(f"{OUTBOX_ADMIN}add/").status_code == 403
        assert admin_client_logged_in.get(f"{OUTBOX_ADMIN}{row.pk}/delete/").status_code == 403
        response = admin_client_logged_in.post(
            f"{OUTBOX_ADMIN}{row.pk}/change/", {"status": "sent", "recipient": "x"}
        )
        assert response.status_code == 403
        assert OutboxMessage.objects.get(pk=row.pk).status == OutboxStatus.PENDING


# --- a real HTTP gateway that takes the message and then stalls ---------------------------------


class _Gateway(http.server.BaseHTTPRequestHandler):
    """Reads the whole POST, records it, then answers after ``stall`` seconds (or with
    ``status`` at once)."""

    received: list[bytes]
    stall: float = 0.0
    status: int = 200

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        if self.stall:
            self.server.stalled.wait(self.stall)  # type: ignore[attr-defined]
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[type[_Gateway]]:
    handler = type("Handler", (_Gateway,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.stalled = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_port}/sms"  # type: ignore[attr-defined]
    yield handler
    server.stalled.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_a_gateway_that_takes_the_message_and_stalls_gets_it_once_and_it_is_unknown(
    gateway: type[_Gateway],
) -> None:
    # Given one queued SMS and a gateway that accepts it but answers after the timeout
    queue_sms(1)
    gateway.stall = 5.0
    backend = backends.HttpGatewaySmsBackend(gateway.url, "token", timeout=0.5)  # type: ignore[attr-defined]
    # When the drain runs, and runs again once the message would be due for a retry
    services.drain_outbox(now=NOW, backend=backend)
    services.drain_outbox(now=NOW + dt.timedelta(hours=6), backend=backend)
    # Then the gateway got it exactly once, and it waits for an operator as "unknown"
    assert len(gateway.received) == 1
    assert statuses() == Counter({OutboxStatus.UNKNOWN: 1})


@pytest.mark.django_db
def test_a_gateway_that_refuses_with_an_error_status_is_retried_later(
    gateway: type[_Gateway],
) -> None:
    # Given one queued SMS and a gateway that answers 503
    queue_sms(1)
    gateway.status = 503
    backend = backends.HttpGatewaySmsBackend(gateway.url, "token", timeout=2)  # type: ignore[attr-defined]
    # When the drain runs
    services.drain_outbox(now=NOW, backend=backend)
    # Then it is back in the queue for a later try
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.next_attempt_at > NOW


@pytest.mark.django_db
def test_an_unreachable_gateway_is_retried_later() -> None:
    # Given one queued SMS and a gateway address where nothing listens
    queue_sms(1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = backends.HttpGatewaySmsBackend(f"http://127.0.0.1:{port}/sms", "token", timeout=2)
    # When the drain runs
    services.drain_outbox(now=NOW, backend=backend)
    # Then nothing was delivered, so it is simply tried again later
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING
