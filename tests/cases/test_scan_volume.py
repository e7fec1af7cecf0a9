"""督 at volume, in small (issue 11, point 5): open cases written set-based by
``demo.scan_bench``, one beat tick through a real ``celery worker``, every batch, mark, event and
message counted; and the plan of each rule's scan query.

The cases are placed around a moment ``T``: the due ones crossed a point of the supervision rules
in the eight days before it, the others cross theirs at least four hours after it. The worker is
the bench's own (solo pool, a queue of its own on the configured Redis; ``CELERY_BROKER_URL``
must be ``redis://…``), so the scan runs to its end before the first batch and the count of
batches per rule is exact.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cases import supervision
from cases.models import Case, SupervisionMark
from demo import scan_bench
from notifications.models import Notification
from org.models import Membership, Role

pytestmark = [pytest.mark.postgres]

OPEN, DUE, BATCH = 3000, 300, 25
# The rules whose message goes to the lead unit's handlers: each of them hears once per case.
TO_HANDLERS = ["contact:overdue", "sign:overdue", "resolve:warning", "resolve:overdue"]


def place_cases() -> dt.datetime:
    """``OPEN`` open cases, ``DUE`` of them due at the returned moment ``T``."""
    now = timezone.now().replace(microsecond=0)
    made = scan_bench.generate(open_cases=OPEN, due=DUE, now=now, out=lambda _line: None)
    assert made.cases == OPEN
    return now


@pytest.fixture
def placed(transactional_db: None) -> dt.datetime:
    # Transactional: the worker reads what this test wrote, so it must be committed.
    return place_cases()


@pytest.fixture
def worker(placed: dt.datetime) -> Iterator[scan_bench.Worker]:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs a live Redis (CELERY_BROKER_URL=redis://…)")
    with scan_bench.Worker(
        concurrency=1, batch_size=BATCH, out=lambda _line: None, broker=settings.CELERY_BROKER_URL
    ) as w:
        yield w


@pytest.mark.worker
def test_one_tick_through_a_worker_chases_each_due_case_once(
    placed: dt.datetime, worker: scan_bench.Worker
) -> None:
    # Given 3,000 open cases, 300 of them due at T for one step or more (the set is recorded)
    due = scan_bench.snapshot_due(placed)
    assert scan_bench.due_cases() == DUE
    batches = {rule: math.ceil(n / BATCH) for rule, n in due.items() if n}
    assert set(batches) == set(supervision.RULE_NAMES)
    before = scan_bench.Ledger.take()

    # When beat's tick reaches the worker
    tick = worker.tick(placed)

    # Then the scan sent one task per batch of 25: ceil(due / 25) for each rule
    assert tick.per_rule == batches
    assert tick.batches == sum(batches.values()) == len(tick.batch_ids)
    assert set(tick.done.values()) == {"succeeded"}
    books = scan_bench.account(before)
    # And each batch wrote its marks in one transaction of its own
    assert books.transactions == batches
    # And each due (case, step, deadline) got exactly one mark and one event, nothing more
    assert books.marks == {rule: n for rule, n in due.items() if n}
    assert (books.missed, books.unexpected) == (0, 0)
    assert (books.duplicate_events, books.marks_without_event) == (0, 0)
    assert books.events == sum(due.values()) - due["evaluate:auto_close"]
    assert books.closed == due["evaluate:auto_close"]
    assert books.cases_chased == DUE
    # And no case that was not due was touched
    assert books.others_touched == 0
    # And each handler of the lead unit heard once of each case of the handlers' steps
    assert books.duplicate_notifications == 0
    handlers = Counter(
        Membership.objects.filter(role=Role.HANDLER).values_list("unit_id", flat=True)
    )
    lead = dict(Case.objects.values_list("pk", "lead_unit_id"))
    heard = Counter(
        Notification.objects.filter(key__startswith="supervision:").values_list("key", flat=True)
    )
    for mark in SupervisionMark.objects.all():
        rule = f"{mark.kind}:{mark.step}"
        if rule in TO_HANDLERS:
            key = f"supervision:{mark.case_id}:{mark.kind}:{mark.step}:{mark.deadline.isoformat()}"
            assert heard[key] == handlers[lead[mark.case_id]], (key, rule)

    # When the next tick comes with nothing newly due
    after = scan_bench.Ledger.take()
    second = worker.tick(placed)

    # Then it sends no batch and writes nothing
    assert second.batches == 0
    assert scan_bench.account(after).marked == 0


# What each rule's query reads cases_case (or the 督办 orders) through. The rules of one status
# use the (status, trigger) index every queue has; the rules of the cases being worked on, the
# scan's partial indexes; every candidate is checked against the marks by their unique index.
INDEX = {
    "accept:overdue": "case_status_accept_by",
    "sign:overdue": "case_status_sign_by",
    "contact:overdue": "case_scan_contact_by",
    "resolve:warning": "case_scan_warn_at",
    "resolve:overdue": "case_scan_resolve_by",
    "resolve:leader": "case_scan_resolve_by",
    "resolve:office": "case_scan_resolve_by",
    "evaluate:auto_close": "case_status_replied_at",
    "order:overdue": "supervision_order_scan",
}
JOINED = {"order:overdue": ["cases_case_pkey"]}  # the order's case, to see it is still open


HISTORY = """
INSERT INTO cases_supervisionmark (case_id, kind, step, deadline, created_at)
SELECT c.id, split_part(r.rule, ':', 1), split_part(r.rule, ':', 2), %s, %s
FROM cases_case c CROSS JOIN unnest(%s) AS r(rule)
"""


def read_through(plan: str) -> set[str]:
    """The indexes a plan reads, and the tables it reads whole ("Seq Scan on …")."""
    found = re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", plan)
    found += re.findall(r"Bitmap Index Scan on (\w+)", plan)
    found += [f"Seq Scan on {t}" for t in re.findall(r"Seq Scan on (\w+)", plan)]
    return set(found)


def test_each_rule_reads_its_index_and_probes_the_marks(db: None) -> None:
    # Given 3,000 open cases, 300 due, a year of earlier reminders (a mark for each step of
    # each case, for deadlines long gone), and the planner's statistics
    now = place_cases()
    with connection.cursor() as cursor:
        cursor.execute(
            HISTORY,
            [now - dt.timedelta(days=365), now - dt.timedelta(days=360), supervision.RULE_NAMES],
        )
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE cases_supervisionorder")
        cursor.execute("ANALYZE cases_supervisionmark")

    # When each rule's candidates and the scan's first page of them are explained
    plans = {
        rule: [
            supervision.candidate_query(rule, now).explain(),
            supervision.page_query(rule, now, None, BATCH).explain(),
        ]
        for rule in supervision.RULE_NAMES
    }

    # Then both read the rule's index, never a whole table, and check the marks candidate by
    # candidate through their unique index
    found = {rule: [read_through(plan) for plan in pair] for rule, pair in plans.items()}
    expected = {
        rule: [{index, "supervision_mark_once", *JOINED.get(rule, [])}] * 2
        for rule, index in INDEX.items()
    }
    assert found == expected, plans
