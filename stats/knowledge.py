"""知识库 in the dashboards: which articles answer the calls, which answers led to 不满意, and
which are past their review date (``GET /api/v1/stats/knowledge/``).

Read from ``KnowledgeUse`` (one row per case answered from an article, indexed by article and
time) joined to the case for its rating and for the reader's scope; the articles past review
from the articles themselves. A city's knowledge base is thousands of articles, not millions,
and each query returns at most ``TOP`` rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q
from django.utils import timezone

from cases import knowledge
from cases.models import Case, CaseEvent, EventType, KnowledgeUse, Rating
from org.models import User

from .dashboards import case_scope_q

TOP = 10
# 一次办结率 read from the events of the period (the (type, created_at) index): the dashboards'
# answer for readers narrower than a district (``stats.first_call`` answers the others from its
# counters), and the tests' reference; a quarter at most, so that what a reader waits for stays
# bounded whatever the history.
FIRST_CALL_MAX_DAYS = 92
TAKEN = (EventType.ACCEPT, EventType.RESOLVE_AT_INTAKE)


def start_of(day: dt.date, later: int = 0) -> dt.datetime:
    """The first instant of ``day`` (plus ``later`` days) in the city's time: a range on the
    indexed timestamp itself, which ``__date`` would hide from the index."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=later), dt.time.min))


def _scope(user: User | AnonymousUser | None) -> Q:
    """The cases ``user`` may count; ``None``: the whole city (the 月通报)."""
    return Q() if user is None else case_scope_q(user)


def usage(
    user: User | AnonymousUser | None, start: dt.date, end: dt.date, today: dt.date
) -> dict[str, Any]:
    """The articles used to answer at intake from ``start`` to ``end`` (inclusive) in the
    cases ``user`` may count (``None``: all): most used first, and those whose answers were
    rated 不满意."""
    uses = KnowledgeUse.objects.filter(used_at__gte=start_of(start), used_at__lt=start_of(end, 1))
    if user is not None:
        uses = uses.filter(case__in=Case.objects.filter(_scope(user)).values("pk"))
    counted = uses.values("article", "article__question", "article__owner_unit__name").annotate(
        uses=Count("pk"),
        unsatisfied=Count("pk", filter=Q(case__rating=Rating.UNSATISFIED)),
    )

    def rows(ordered: Any) -> list[dict[str, Any]]:
        return [
            {
                "id": row["article"],
                "question": row["article__question"],
                "owner_unit": row["article__owner_unit__name"],
                "uses": row["uses"],
                "unsatisfied": row["unsatisfied"],
            }
            for row in ordered[:TOP]
        ]

    due = knowledge.valid(today).filter(review_by__lt=today)
    return {
        "uses": uses.count(),
        "most_used": rows(counted.order_by("-uses", "article")),
        "unsatisfied": rows(counted.filter(unsatisfied__gt=0).order_by("-unsatisfied", "article")),
        "past_review_count": due.count(),
        "past_review": [
            {"id": a.pk, "question": a.question, "owner_unit": a.owner_unit.name,
             "review_by": a.review_by}
            for a in due.select_related("owner_unit").order_by("review_by", "pk")[:TOP]
        ],
    }  # fmt: skip


def _through_case(condition: Q) -> Q:
    """``condition`` on the cases table, read from a table that points at a case."""
    prefixed = Q(_connector=condition.connector, _negated=condition.negated)
    for child in condition.children:
        if isinstance(child, Q):
            prefixed.children.append(_through_case(child))
        else:
            field, value = cast(tuple[str, Any], child)
            prefixed.children.append((f"case__{field}", value))
    return prefixed


def first_call(user: User | AnonymousUser | None, start: dt.date, end: dt.date) -> dict[str, Any]:
    """一次办结率: of the cases taken in at intake from ``start`` to ``end`` (受理, or answered
    on the spot: 即时办结), the share answered on the spot; in all, by operator and by category
    (their current one), in the cases ``user`` may count (``None``: all)."""
    events = CaseEvent.objects.filter(
        type__in=TAKEN, created_at__gte=start_of(start), created_at__lt=start_of(end, 1)
    ).filter(_through_case(_scope(user)))
    # One pass over the period's events, grouped by operator and category; the totals by each
    # are summed here from those few thousand rows.
    rows = events.values(
        "actor", "actor__display_name", "case__category", "case__category__name"
    ).annotate(
        taken=Count("pk"), at_intake=Count("pk", filter=Q(type=EventType.RESOLVE_AT_INTAKE))
    )
    total = [0, 0]
    operators: dict[int | None, list[Any]] = {}
    categories: dict[int | None, list[Any]] = {}
    for row in rows:
        counted = (row["taken"], row["at_intake"])
        total = [total[0] + counted[0], total[1] + counted[1]]
        for key, name, into in (
            (row["actor"], row["actor__display_name"], operators),
            (row["case__category"], row["case__category__name"], categories),
        ):
            if key is None:  # an event without an actor (none at intake; kept safe)
                continue
            entry = into.setdefault(key, [name, 0, 0])
            entry[1] += counted[0]
            entry[2] += counted[1]

    return first_call_answer(total[0], total[1], operators, categories)


def _rate(taken: int, at_intake: int) -> dict[str, Any]:
    return {"taken": taken, "at_intake": at_intake,
            "rate": round(at_intake / taken, 4) if taken else None}  # fmt: skip


def first_call_answer(
    taken: int,
    at_intake: int,
    operators: dict[int | None, list[Any]],
    categories: dict[int | None, list[Any]],
) -> dict[str, Any]:
    """The answer of 一次办结率, read from the events here or from the counters
    (``stats.first_call``): the totals, and the operators and categories (key → [name, taken,
    at intake]) with any intake, most taken first, 50 at most."""

    def ranked(entries: dict[int | None, list[Any]]) -> list[dict[str, Any]]:
        kept = [(k, v) for k, v in entries.items() if k is not None and v[1]]
        ordered = sorted(kept, key=lambda item: (-item[1][1], item[0]))
        return [{"id": k, "name": n, **_rate(t, a)} for k, (n, t, a) in ordered[:50]]

    return {**_rate(taken, at_intake), "by_operator": ranked(operators),
            "by_category": ranked(categories)}  # fmt: skip
