"""Who is told what: the complainant's SMS and in-app messages, staff inboxes, the outbox drain
and its SMS backends, and intake while the broker is down.

Messages are written in the transaction of the change they report (``OutboxMessage`` for SMS
and email, ``Notification`` in-app); the drain sends the outbox later. A failing SMS gateway is
a backend that raises; the HTTP gateway is a tiny ``http.server`` on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import supervision, workflow
from cases.models import Case, Rating, Status
from notifications import backends, messages, services
from notifications.models import Notification, OutboxMessage, OutboxStatus
from tests.cases.conftest import run_steps
from tests.conftest import Demo
from xining_issues.celery import app

NAME = "欧阳娜娜"
PHONE = "13912345678"
MASKED = "139****5678"
TO_COMPLAINANT = ["case_accepted", "case_dispatched", "case_replied", "case_closed"]
# Nothing listens here: the broker is "down" (connection refused at once).
DOWN_BROKER = "redis://127.0.0.1:6399/0"
SECOND = dt.timedelta(seconds=1)

MakeCase = Callable[..., Case]


def sms_to(phone: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(channel="sms", recipient=phone).order_by("id"))


def reset_producers() -> None:
    # What Celery itself does after a fork: the next publish opens a connection from the
    # configuration as it is now.
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None


@contextlib.contextmanager
def broker_down() -> Iterator[None]:
    """Publish to a port where nothing listens, as if Redis were down; restore on exit.

    ``CELERY_BROKER_WRITE_URL`` in the environment wins over every other setting (CI sets
    ``CELERY_BROKER_URL`` there, so changing ``app.conf`` alone would not do)."""
    reset_producers()
    try:
        with mock.patch.dict(os.environ, {"CELERY_BROKER_WRITE_URL": DOWN_BROKER}):
            assert app.conf.broker_write_url == DOWN_BROKER
            yield
    finally:
        reset_producers()


# --- what the complainant hears ------------------------------------------------------------------


class TestComplainant:
    def test_a_resident_with_an_account_gets_an_sms_and_an_inbox_message_at_each_step(
        self, make_case: MakeCase
    ) -> None:
        # Given a resident with an account files a complaint that runs its whole course
        case = make_case(Status.CLOSED, complainant_name=NAME, complainant_phone=PHONE)
        assert case.complainant is not None

        # Then an SMS went to the phone when it was accepted, dispatched, replied and closed
        texts = sms_to(PHONE)
        assert [m.kind for m in texts] == TO_COMPLAINANT
        assert {m.status for m in texts} == {OutboxStatus.PENDING}
        # And the same four messages are in the resident's inbox
        inbox = Notification.objects.filter(user=case.complainant, case=case).order_by("id")
        assert [n.kind for n in inbox] == TO_COMPLAINANT
        # And each names the case by its tracking code; the dispatch names the unit
        assert all(m.params["code"] == case.tracking_code for m in texts)
        assert texts[1].params["unit"] == "湟中区人民政府"
        # And the reply carries the evaluation link with the tracking code
        url = texts[2].params["url"]
        assert url.startswith("http") and url.endswith(f"?code={case.tracking_code}")
        _title, body = messages.render("case_replied", texts[2].params, "zh-hans")
        assert url in body

    def test_an_anonymous_complainant_gets_the_sms_only(self, demo: Demo) -> None:
        # Given a complaint filed without an account, handled, rated by tracking code, closed
        case = workflow.case_submit(
            actor=None,
            category=demo.category("heating-cold"),
            region=demo.region("湟中区", "多巴镇", "多巴一村"),
            description="暖气不热",
            complainant_name=NAME,
            complainant_phone=PHONE,
        )
        run_steps(case, ["accept", "dispatch", "sign", "reply"], demo)
        workflow.case_evaluate_by_tracking(
            case=case, phone_last4=PHONE[-4:], rating=Rating.SATISFIED
        )
        workflow.case_close(case=case, actor=demo.user("dispatcher_huangzhong"))

        # Then the four SMS went out, and nobody's inbox has the complainant's messages
        assert [m.kind for m in sms_to(PHONE)] == TO_COMPLAINANT
        assert not Notification.objects.filter(case=case, kind__in=TO_COMPLAINANT).exists()
        # And the handlers were told of the new case in their inbox
        assigned = Notification.objects.filter(case=case, kind="case_assigned")
        assert {n.user.username for n in assigned} == {"handler_huangzhong", "leader_huangzhong"}

    def test_an_answer_at_intake_sends_the_evaluation_link(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.SUBMITTED, complainant_phone=PHONE)
        workflow.case_resolve_at_intake(
            case=case, actor=demo.user("operator1"), reply="供暖时间为每年10月15日起。"
        )
        (text,) = sms_to(PHONE)
        assert text.kind == "case_replied"
        assert text.params["url"].endswith(f"?code={case.tracking_code}")

    def test_steps_that_concern_only_staff_send_the_complainant_nothing(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        case = make_case(Status.HANDLING, complainant_phone=PHONE)
        before = len(sms_to(PHONE))
        handler = demo.user("handler_huangzhong")
        workflow.case_add_progress(case=case, actor=handler, text="已到现场查看")
        workflow.case_record_contact(case=case, actor=handler)
        assert len(sms_to(PHONE)) == before

    def test_no_message_carries_the_complainants_name_or_phone(
        self, demo: Demo, make_case: MakeCase
    ) -> None:
        # Given cases through every step, a supervision order, and the supervision scan's
        # reminders and escalations for a late case
        make_case(Status.CLOSED, complainant_name=NAME, complainant_phone=PHONE)
        late = make_case(Status.HANDLING, complainant_name=NAME, complainant_phone=PHONE)
        workflow.case_supervise(
            case=late,
            actor=demo.user("supervisor1"),
            due_at=timezone.now() + dt.timedelta(days=1),
            note="限期办结",
        )
        far = timezone.now() + dt.timedelta(days=120)
        for rule, items in supervision.scan(far):
            supervision.supervise_batch(rule, items, far)
        supervision.daily_digest(timezone.localdate(far))
        kinds = set(Notification.objects.values_list("kind", flat=True))
        assert {"reminder_overdue", "escalation_leader", "escalation_office"} <= kinds
        assert {"order_overdue", "case_assigned", "daily_digest"} <= kinds

        # Then no stored parameter and no rendered text, in either language, has them
        rows: list[Notification | OutboxMessage] = [
            *Notification.objects.all(),
            *OutboxMessage.objects.all(),
        ]
        for row in rows:
            stored = json.dumps(row.params, ensure_ascii=False)
            assert NAME not in stored and PHONE not in stored, row
            for language in ("zh-hans", "en"):
                title, body = messages.render(row.kind, row.params, language)
                for secret in (NAME, PHONE, PHONE[3:]):
                    assert secret not in title and secret not in body, (row, language)
        # And the full phone is only ever the recipient of the complainant's SMS
        with_phone = OutboxMessage.objects.filter(recipient__contains=PHONE)
        assert {(m.channel, m.kind) for m in with_phone} <= {("sms", k) for k in TO_COMPLAINANT}
        assert not OutboxMessage.objects.filter(
            channel="email", recipient__contains="139"
        ).exists()


# --- the templates -------------------------------------------------------------------------------

SAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "case_accepted": {"code": "XN-20310314-0007"},
    "case_dispatched": {"code": "XN-20310314-0007", "unit": "湟中区人民政府"},
    "case_replied": {
        "code": "XN-20310314-0007",
        "url": "http://127.0.0.1:8000/track/?code=XN-20310314-0007",
    },
    "case_closed": {"code": "XN-20310314-0007"},
    "case_merged": {"code": "XN-20310314-0007", "main": "XN-20310313-0002"},
    "case_merged_replied": {
        "code": "XN-20310314-0007",
        "main": "XN-20310313-0002",
        "url": "https://12345.xining.example/track?code=XN-20310314-0007",
    },
    "return_approved": {"code": "XN-20310314-0007"},
    "return_refused": {"code": "XN-20310314-0007"},
    "case_assigned": {
        "code": "XN-20310314-0007",
        "category": "供暖",
        "deadline": "2031-03-14T09:00:00+00:00",
    },
    **{
        kind: {
            "code": "XN-20310314-0007",
            "deadline": "2031-03-14T09:00:00+00:00",
            "deadline_kind": "resolve",
            "office": "西宁市委市政府督查室",
        }
        for kind in (
            "reminder_warning",
            "reminder_overdue",
            "escalation_leader",
            "escalation_office",
            "order_overdue",
        )
    },
    "daily_digest": {"unit": "湟中区人民政府", "overdue": 2, "due_today": 3},
    "case_cohandle": {"code": "XN-20310314-0007", "category": "供暖", "unit": "湟中区人民政府"},
    "supervision_order": {"code": "XN-20310314-0007", "deadline": "2031-03-14T09:00:00+00:00"},
    "topic_proposed": {"title": "不动产登记历史遗留问题", "month": "2031-03"},
    "knowledge_review_due": {"question": "怎么申请低保？", "due": "2031-03-14"},
    "topic_task_late": {
        "title": "不动产登记历史遗留问题",
        "task": "集中办证",
        "due": "2031-03-14",
    },
    "topic_report_due": {"title": "不动产登记历史遗留问题", "week": "2031-03-10"},
    "case_report": {
        "report": "daily",
        "from": "2031-03-13",
        "to": "2031-03-13",
        "created": 12,
        "overdue": 3,
    },
}


class TestTemplates:
    def test_every_template_has_sample_parameters(self) -> None:
        assert set(SAMPLE_PARAMS) == set(messages.TEMPLATES)

    @pytest.mark.parametrize("language", ["zh-hans", "en"])
    @pytest.mark.parametrize("kind", sorted(SAMPLE_PARAMS))
    def test_each_message_renders_in_both_languages(self, kind: str, language: str) -> None:
        title, body = messages.render(kind, SAMPLE_PARAMS[kind], language)
        assert title.strip() and body.strip()
        if kind == "daily_digest":
            assert "湟中区人民政府" in body and "2" in body and "3" in body
        elif kind.startswith("topic_"):
            assert "不动产登记历史遗留问题" in body
        elif kind == "knowledge_review_due":
            assert "怎么申请低保？" in body and "2031-03-14" in body
        elif kind == "case_report":
            assert "2031-03-13" in body and "12" in body
        else:
            assert "XN-20310314-0007" in body
        if "deadline" in SAMPLE_PARAMS[kind]:
            # shown on Xining's clock (09:00 UTC is 17:00 in Asia/Shanghai)
            assert "2031-03-14 17:00" in body

    def test_the_deadline_kind_is_named_in_chinese(self) -> None:
        _title, body = messages.render("reminder_overdue", SAMPLE_PARAMS["reminder_overdue"])
        assert "办结时限" in body


# --- the inbox API -------------------------------------------------------------------------------

INBOX = "/api/v1/notifications/"


@pytest.fixture
def inbox(demo: Demo, make_case: MakeCase) -> dict[str, Any]:
    """Two messages for handler_huangzhong (one about a case), one for handler_chengdong."""
    case = make_case(Status.SUBMITTED)
    now = timezone.now()
    handler, other = demo.user("handler_huangzhong"), demo.user("handler_chengdong")
    Notification.objects.filter(user__in=[handler, other]).delete()
    params = {"code": case.tracking_code, "category": "供暖", "deadline": now.isoformat()}
    services.notify_users(
        [handler], kind="case_assigned", params=params, key="t:1", subject=case, now=now
    )
    services.notify_users(
        [handler, other],
        kind="daily_digest",
        params={"unit": "湟中区人民政府", "overdue": 1, "due_today": 0},
        key="t:2",
        subject=None,
        now=now + dt.timedelta(minutes=1),
    )
    return {"handler": handler, "other": other, "case": case}


def signed_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestInboxApi:
    def test_the_list_shows_only_the_users_own_messages_newest_first(
        self, inbox: dict[str, Any]
    ) -> None:
        response = signed_in(inbox["handler"]).get(INBOX)
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [r["kind"] for r in rows] == ["daily_digest", "case_assigned"]
        assert all(r["is_read"] is False for r in rows)
        assert rows[1]["case_code"] == inbox["case"].tracking_code
        assert inbox["case"].tracking_code in rows[1]["body"]
        assert set(Notification.objects.filter(pk__in=[r["id"] for r in rows]).values_list(
            "user", flat=True
        )) == {inbox["handler"].pk}  # fmt: skip

    def test_marking_one_read_and_counting_the_unread(self, inbox: dict[str, Any]) -> None:
        client = signed_in(inbox["handler"])
        assert client.get(f"{INBOX}unread/").json() == {"unread": 2}
        note = Notification.objects.get(user=inbox["handler"], kind="case_assigned")

        response = client.post(f"{INBOX}{note.pk}/read/")
        assert response.status_code == 200
        assert response.json()["is_read"] is True
        read_at = Notification.objects.get(pk=note.pk).read_at
        assert read_at is not None
        # reading it again changes nothing
        assert client.post(f"{INBOX}{note.pk}/read/").status_code == 200
        assert Notification.objects.get(pk=note.pk).read_at == read_at

        assert client.get(f"{INBOX}unread/").json() == {"unread": 1}
        unread = client.get(INBOX, {"unread": "true"}).json()["results"]
        assert [r["kind"] for r in unread] == ["daily_digest"]

    def test_read_all_marks_only_the_users_own(self, inbox: dict[str, Any]) -> None:
        client = signed_in(inbox["handler"])
        response = client.post(f"{INBOX}read-all/")
        assert response.status_code == 200
        assert response.json() == {"unread": 0}
        assert client.get(f"{INBOX}unread/").json() == {"unread": 0}
        assert signed_in(inbox["other"]).get(f"{INBOX}unread/").json() == {"unread": 1}

    def test_someone_elses_message_cannot_be_marked_read(self, inbox: dict[str, Any]) -> None:
        theirs = Notification.objects.get(user=inbox["other"])
        response = signed_in(inbox["handler"]).post(f"{INBOX}{theirs.pk}/read/")
        assert response.status_code == 404
        assert Notification.objects.get(pk=theirs.pk).read_at is None

    @pytest.mark.parametrize(
        ("method", "path"),
        [("get", ""), ("get", "unread/"), ("post", "read-all/"), ("post", "{id}/read/")],
    )
    def test_an_anonymous_request_is_refused(
        self, inbox: dict[str, Any], method: str, path: str
    ) -> None:
        note = Notification.objects.get(user=inbox["other"])
        response = getattr(APIClient(), method)(INBOX + path.format(id=note.pk))
        assert response.status_code == 403
        assert response.json()["code"] == "not_authenticated"
        assert Notification.objects.get(pk=note.pk).read_at is None

    def test_messages_are_rendered_in_the_readers_language(self, inbox: dict[str, Any]) -> None:
        client = signed_in(inbox["handler"])
        for language in ("zh-hans", "en"):
            response = client.get(INBOX, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200
            bodies = [r["body"] for r in response.json()["results"]]
            assert inbox["case"].tracking_code in bodies[1]


# --- the drain and the SMS backends --------------------------------------------------------------


class RecordingBackend:
    """An SMS gateway that fails the first ``failures`` sends, then accepts."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[str, str]] = []
        self.keys: list[str | None] = []

    def send(self, phone: str, text: str, *, key: str | None = None) -> None:
        self.calls.append((phone, text))
        self.keys.append(key)
        if len(self.calls) <= self.failures:
            raise backends.SmsError("gateway timeout")


@pytest.fixture
def accepted_sms(make_case: MakeCase) -> OutboxMessage:
    """The one SMS waiting in the outbox: '诉求已受理' to the complainant."""
    case = make_case(Status.ACCEPTED, complainant_phone=PHONE)
    (row,) = OutboxMessage.objects.all()
    assert (row.channel, row.kind, row.recipient) == ("sms", "case_accepted", PHONE)
    assert row.params["code"] == case.tracking_code
    return row


class TestDrain:
    def test_a_failing_gateway_is_retried_with_backoff_then_given_up(
        self, accepted_sms: OutboxMessage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given a gateway that never accepts
        backend = RecordingBackend(failures=10**6)
        monkeypatch.setattr(backends, "get_backend", lambda: backend)
        now = accepted_sms.next_attempt_at

        # When the drain runs whenever the row is due again (and once just before)
        waits = []
        for attempt in range(1, services.MAX_ATTEMPTS + 1):
            assert services.drain_outbox(now=now) == 0
            row = OutboxMessage.objects.get(pk=accepted_sms.pk)
            assert row.attempts == attempt
            assert row.last_error == "gateway timeout"
            waits.append(row.next_attempt_at - now)
            calls = len(backend.calls)
            assert services.drain_outbox(now=row.next_attempt_at - SECOND) == 0
            assert len(backend.calls) == calls  # not due yet: not tried
            now = row.next_attempt_at

        # Then the waits doubled, and after MAX_ATTEMPTS the message is marked failed
        assert waits == [dt.timedelta(minutes=2**n) for n in range(1, services.MAX_ATTEMPTS + 1)]
        assert row.status == OutboxStatus.FAILED
        assert row.sent_at is None
        # And it is never tried again
        services.drain_outbox(now=now + dt.timedelta(days=30))
        assert len(backend.calls) == services.MAX_ATTEMPTS

    def test_a_message_that_gets_through_on_a_retry_is_sent_once(
        self, accepted_sms: OutboxMessage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        backend = RecordingBackend(failures=2)
        monkeypatch.setattr(backends, "get_backend", lambda: backend)
        now = accepted_sms.next_attempt_at
        for _ in range(3):
            services.drain_outbox(now=now)
            now = OutboxMessage.objects.get(pk=accepted_sms.pk).next_attempt_at

        row = OutboxMessage.objects.get(pk=accepted_sms.pk)
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)
        assert row.sent_at is not None
        services.drain_outbox(now=now + dt.timedelta(days=1))
        assert len(backend.calls) == 3
        # every try named the message by the same key, for the gateway to drop a duplicate
        assert backend.keys == [accepted_sms.key] * 3
        assert backend.calls[-1][0] == PHONE
        assert accepted_sms.params["code"] in backend.calls[-1][1]

    def test_the_logging_backend_never_logs_the_whole_number(
        self, accepted_sms: OutboxMessage, caplog: pytest.LogCaptureFixture, settings: Any
    ) -> None:
        settings.SMS_BACKEND = "logging"
        with caplog.at_level(logging.INFO):
            assert services.drain_outbox(now=accepted_sms.next_attempt_at) == 1
        assert MASKED in caplog.text
        assert accepted_sms.params["code"] in caplog.text
        assert PHONE not in caplog.text
        assert OutboxMessage.objects.get(pk=accepted_sms.pk).status == OutboxStatus.SENT

    def test_emails_go_out_through_django_mail(
        self, make_case: MakeCase, mailoutbox: list[Any]
    ) -> None:
        # Given a dispatch: the two handlers of the unit and the co-handling gas company's
        # handler have an email each
        make_case(Status.DISPATCHED)
        assert services.drain_outbox() == 5  # accepted + dispatched SMS, three emails
        assert sorted(m.to[0] for m in mailoutbox) == [
            "handler_gas@example.invalid",
            "handler_huangzhong@example.invalid",
            "leader_huangzhong@example.invalid",
        ]
        assert services.drain_outbox() == 0


def test_a_message_that_cannot_be_rendered_does_not_block_the_outbox(
    accepted_sms: OutboxMessage,
) -> None:
    # Given, before the good row, one whose parameters lack the template's %(unit)s
    bad = OutboxMessage.objects.create(
        channel="sms",
        recipient=PHONE,
        kind="case_dispatched",
        params={"code": "XN-20310314-0007"},
        key="test:bad",
        next_attempt_at=accepted_sms.next_attempt_at - dt.timedelta(hours=1),
        created_at=accepted_sms.created_at,
    )
    # When the drain runs
    services.drain_outbox(now=accepted_sms.next_attempt_at)
    # Then the good message went out and the bad one is retried like any failure
    assert OutboxMessage.objects.get(pk=accepted_sms.pk).status == OutboxStatus.SENT
    bad.refresh_from_db()
    assert (bad.status, bad.attempts) == (OutboxStatus.PENDING, 1)


@contextlib.contextmanager
def gateway(status: int = 200) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A tiny SMS gateway on 127.0.0.1 answering ``status``; yields (url, requests seen)."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            seen.append(
                {"path": self.path, "headers": dict(self.headers),
                 "body": json.loads(self.rfile.read(length))}
            )  # fmt: skip
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class TestHttpGateway:
    def test_it_posts_json_with_the_bearer_token(self) -> None:
        with gateway() as (url, seen):
            backends.HttpGatewaySmsBackend(url, "s3cret-token", timeout=5).send(
                PHONE, "诉求已受理"
            )
        (request,) = seen
        assert request["path"] == "/send"
        assert request["headers"]["Authorization"] == "Bearer s3cret-token"
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["body"] == {"phone": PHONE, "text": "诉求已受理"}

    def test_the_message_key_is_sent_as_an_idempotency_key(self) -> None:
        with gateway() as (url, seen):
            backend = backends.HttpGatewaySmsBackend(url, "t", timeout=5)
            backend.send(PHONE, "诉求已受理", key="event:42")
            backend.send(PHONE, "诉求已受理")
        assert seen[0]["headers"]["Idempotency-Key"] == "event:42"
        assert "Idempotency-Key" not in seen[1]["headers"]
        assert seen[0]["body"] == seen[1]["body"] == {"phone": PHONE, "text": "诉求已受理"}

    def test_a_refusal_is_an_sms_error(self) -> None:
        with gateway(status=503) as (url, seen), pytest.raises(backends.SmsError):
            backends.HttpGatewaySmsBackend(url, "t", timeout=5).send(PHONE, "x")
        assert len(seen) == 1

    def test_an_unreachable_gateway_is_an_sms_error(self) -> None:
        with gateway() as (url, _seen):
            pass  # closed again: nothing listens there any more
        with pytest.raises(backends.SmsError):
            backends.HttpGatewaySmsBackend(url, "t", timeout=5).send(PHONE, "x")

    @pytest.mark.parametrize("url", ["ftp://127.0.0.1/send", "file:///etc/passwd", ""])
    def test_only_http_urls_are_accepted(self, url: str) -> None:
        with pytest.raises(backends.SmsError):
            backends.HttpGatewaySmsBackend(url, "t")

    def test_the_drain_sends_through_the_configured_gateway(
        self, accepted_sms: OutboxMessage, settings: Any
    ) -> None:
        with gateway() as (url, seen):
            settings.SMS_BACKEND = "http"
            settings.SMS_GATEWAY_URL = url
            settings.SMS_GATEWAY_TOKEN = "tok"
            assert services.drain_outbox(now=accepted_sms.next_attempt_at) == 1
        (request,) = seen
        assert request["body"]["phone"] == PHONE
        assert accepted_sms.params["code"] in request["body"]["text"]
        assert request["headers"]["Authorization"] == "Bearer tok"
        assert OutboxMessage.objects.get(pk=accepted_sms.pk).status == OutboxStatus.SENT

    def test_the_drain_retries_when_the_gateway_refuses(
        self, accepted_sms: OutboxMessage, settings: Any
    ) -> None:
        with gateway(status=500) as (url, seen):
            settings.SMS_BACKEND = "http"
            settings.SMS_GATEWAY_URL = url
            assert services.drain_outbox(now=accepted_sms.next_attempt_at) == 0
        row = OutboxMessage.objects.get(pk=accepted_sms.pk)
        assert (row.status, row.attempts, len(seen)) == (OutboxStatus.PENDING, 1, 1)
        assert "500" in row.last_error


# --- intake while the broker is down -------------------------------------------------------------


@pytest.fixture
def seeded(transactional_db: None) -> Demo:
    # Transactional tests start from an emptied database: seed the organisation again.
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference

    seed_organisation()
    seed_reference()
    return Demo()


def submit_and_accept_over_http(demo: Demo) -> tuple[Case, list[float]]:
    """File a complaint anonymously and have an operator accept it, through the API; returns
    the case and how long each request took."""
    took = []
    started = time.monotonic()
    response = APIClient().post(
        "/api/v1/cases/",
        {
            "category": demo.category("heating-cold").pk,
            "region": demo.region("湟中区", "多巴镇", "多巴一村").pk,
            "description": "暖气不热，附近管道破损。",
            "complainant_name": NAME,
            "complainant_phone": PHONE,
        },
        format="json",
    )
    took.append(time.monotonic() - started)
    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert response.json()["tracking_code"] == case.tracking_code

    started = time.monotonic()
    response = signed_in(demo.user("operator1")).post(
        f"/api/v1/cases/{case.pk}/accept/", {}, format="json"
    )
    took.append(time.monotonic() - started)
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    return case, took


def test_intake_works_while_the_broker_is_down_and_its_messages_go_out_after(
    seeded: Demo, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.SMS_BACKEND = "logging"
    # Given the broker is down
    with caplog.at_level(logging.INFO), broker_down():
        # When a complaint is filed and accepted through the API
        case, took = submit_and_accept_over_http(seeded)

    # Then both requests were answered without hanging
    assert case.status == Status.ACCEPTED
    assert max(took) < 30, took
    # And asking a worker to drain failed quietly, leaving the SMS in the outbox
    assert "broker unavailable" in caplog.text
    (text,) = sms_to(PHONE)
    assert (text.kind, text.status) == ("case_accepted", OutboxStatus.PENDING)

    # When the broker is back and the drain runs (twice, as beat would)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        sent = services.drain_outbox()
        again = services.drain_outbox()

    # Then the SMS went out exactly once, the number masked in the log
    assert (sent, again) == (1, 0)
    assert OutboxMessage.objects.get(pk=text.pk).status == OutboxStatus.SENT
    assert caplog.text.count(MASKED) == 1
    assert case.tracking_code in caplog.text
    assert PHONE not in caplog.text


def test_asking_for_a_drain_with_the_broker_down_gives_up_within_the_timeout(
    settings: Any,
) -> None:
    with broker_down():
        started = time.monotonic()
        services.kick_outbox()
        took = time.monotonic() - started
    assert took < settings.CELERY_BROKER_CONNECTION_TIMEOUT + 1, took


def test_one_transition_asks_for_one_drain(
    make_case: MakeCase, demo: Demo, django_capture_on_commit_callbacks: Any
) -> None:
    # The test's transaction never commits, so everything here is one transaction: the SMS to
    # the complainant (accept, dispatch) and the handlers' emails ask for one drain between them.
    with django_capture_on_commit_callbacks() as callbacks:
        case = make_case(Status.ACCEPTED)
        run_steps(case, ["dispatch"], demo)
    assert OutboxMessage.objects.filter(key__startswith="event:").count() > 2
    assert sum(c is services.kick_outbox for c in callbacks) == 1


def test_a_drain_is_asked_for_by_the_name_the_drain_task_is_registered_under(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a broker that takes anything (the real one is tried in test_celery_worker)
    from celery import current_app

    from notifications import tasks

    sent: list[str] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **_options: sent.append(name))
    monkeypatch.setattr(current_app, "connection_for_write", FakeConnection)

    # When a drain is asked for
    services.kick_outbox()

    # Then the message names the registered drain task, not a typo nobody would consume
    assert sent == [services.DRAIN_TASK]
    assert current_app.tasks[services.DRAIN_TASK] is tasks.drain_outbox_task._get_current_object()


class FakeConnection:
    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def ensure_connection(self, **_options: object) -> None:
        return None
