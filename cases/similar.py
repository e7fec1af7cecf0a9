"""Possible duplicates (重复诉求): the one place that says which cases may be the same matter.

Two readers use it:

* the dispatch dialog (``services.possible_duplicates``): cases around a case already filed,
  any status, within ``WINDOW`` either side of it, by place and category or by phone;
* intake while typing (``similar_cases`` / ``resident_hint``, ``GET /api/v1/cases/similar/``):
  *open* cases of the last ``WINDOW`` that may be the matter being typed, by place and
  category, by phone (staff only) or by similar text.

The criteria (``matches``, ``window``) are shared; what bounds each query is said where it is
built. A query here never scans the whole history: every one is narrowed first by the open
statuses and the last 30 days (the ``case_open_tabs`` and ``case_status_created`` indexes),
then by an equality on an indexed column (the community, the phone, or for text the street).

EXPLAIN on PostgreSQL with 6,000 generated cases: the staff query reads ``case_status_created``
(open statuses, created in the window) and filters the rest; the text query ANDs the bitmaps
of ``case_street_status``, the ``created_at`` index and ``case_open_tabs`` and counts bigrams
only on the few rows left (8 rows, under a millisecond); the resident's count ANDs
``case_region_status`` and ``case_category_created``. None reads the whole table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from org import jurisdiction
from org.models import Region, Role

from . import search
from .models import OPEN_STATUSES, Case, Category
from .selectors import case_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from org.models import User

WINDOW = dt.timedelta(days=30)
LIMIT = 10
# Text: the share of the typed text's bigrams (two neighbouring characters) a case must hold.
TEXT_MIN_SHARE = 0.5
TEXT_MIN_CHARS = 6  # fewer typed characters say too little to compare
# On SQLite the text is compared in Python over at most this many candidates (newest first).
TEXT_CANDIDATES = 300
# Who reads the rows themselves; anyone else gets only a count (``resident_hint``).
INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER)


@dataclass(frozen=True)
class Probe:
    """What is known of the matter: typed text, category, community (村/社区), phone."""

    text: str = ""
    category: Category | None = None
    region: Region | None = None
    phone: str = ""


def window(at: dt.datetime, *, after: bool = True) -> Q:
    """Created within ``WINDOW`` before ``at`` (and after it too, for a case already filed)."""
    condition = Q(created_at__gte=at - WINDOW)
    return condition & Q(created_at__lte=at + WINDOW) if after else condition


def matches(*, category_id: int | None, region_id: int | None, phone: str = "") -> Q:
    """The same place (community) and category, or the same phone. Empty parts match nothing."""
    condition = Q(pk__in=[])
    if category_id is not None and region_id is not None:
        condition |= Q(category_id=category_id, region_id=region_id)
    if phone:
        condition |= Q(complainant_phone=phone)
    return condition


def bigrams(text: str) -> set[str]:
    """The text's bigrams as ``xn_bigrams`` (cases.search) makes them: upper-cased, pairs of
    neighbouring characters within a run without whitespace."""
    return {term[i : i + 2] for term in text.upper().split() for i in range(len(term) - 1)}


def reads_rows(user: User | AnonymousUser) -> bool:
    """Intake staff read the similar cases as the queue shows them; anyone else a count."""
    return jurisdiction.has_role(user, *INTAKE_ROLES)


def _open_recent(queryset: QuerySet[Case], now: dt.datetime) -> QuerySet[Case]:
    return queryset.filter(status__in=OPEN_STATUSES, created_at__gte=now - WINDOW)


def _similar_text_ids(queryset: QuerySet[Case], probe: Probe) -> list[int]:
    """Ids of cases in ``queryset`` (already bounded to the open cases of 30 days) of the
    probe's street whose title and description hold at least ``TEXT_MIN_SHARE`` of the typed
    text's bigrams, best first. Bounded by the street (``case_street_status``): a text alone
    never searches the city."""
    text = probe.text.strip()
    if probe.region is None or probe.region.parent_id is None or len(text) < TEXT_MIN_CHARS:
        return []
    grams = bigrams(text)
    if not grams:
        return []
    need = max(1, round(len(grams) * TEXT_MIN_SHARE))
    nearby = queryset.filter(street_id=probe.region.parent_id)
    if connection.vendor == "postgresql":
        # The database counts the shared bigrams with the function the search index uses.
        # Bound parameters; the SQL around them is a constant of cases.search.
        sql = (
            f"(SELECT count(DISTINCT g) FROM unnest({search.INDEXED}) g WHERE g = ANY(%s::text[]))"  # noqa: S608
        )
        shared = RawSQL(  # noqa: S611
            sql,
            [sorted(grams)],
            output_field=FloatField(),
        )
        return list(
            nearby.annotate(shared=shared)
            .filter(shared__gte=need)
            .order_by("-shared", "-created_at")
            .values_list("pk", flat=True)[:LIMIT]
        )
    scored = []
    for pk, title, description in nearby.order_by("-created_at").values_list(
        "pk", "title", "description"
    )[:TEXT_CANDIDATES]:
        score = len(grams & bigrams(f"{title} {description}"))
        if score >= need:
            scored.append((-score, pk))
    return [pk for _score, pk in sorted(scored)[:LIMIT]]


def similar_cases(
    user: User | AnonymousUser, probe: Probe, *, now: dt.datetime | None = None
) -> QuerySet[Case]:
    """Open cases of the last 30 days that ``user`` may see and that may be the matter typed:
    same community and category, same phone, or similar text in the same street; newest first,
    at most ``LIMIT``. The rows are ``case_list``'s, so the queue's serializer masks them."""
    now = now or timezone.now()
    visible = _open_recent(case_list(user), now)
    condition = matches(
        category_id=probe.category.pk if probe.category else None,
        region_id=probe.region.pk if probe.region else None,
        phone=probe.phone.strip(),
    )
    text_ids = _similar_text_ids(visible, probe)
    if text_ids:
        condition |= Q(pk__in=text_ids)
    return visible.filter(condition).order_by("-created_at", "-id")[:LIMIT]


def names(probe: Probe) -> dict[str, str]:
    """The probe's category and street, by name (what the answer says it looked at)."""
    street = probe.region.parent if probe.region is not None else None
    return {
        "category": probe.category.name if probe.category is not None else "",
        "street": street.name if street is not None else "",
    }


def resident_hint(probe: Probe, *, now: dt.datetime | None = None) -> dict[str, object]:
    """What a resident (or a visitor) typing a complaint may learn: how many open cases of the
    same category in the same community came in over the last 30 days, with the category's and
    the street's names. Never a text, a code, a name, or anything by phone (that would tell
    whether a number has complained)."""
    now = now or timezone.now()
    if probe.category is None or probe.region is None:
        return {"count": 0, **names(probe)}
    count = (
        _open_recent(Case.objects.all(), now)
        .filter(matches(category_id=probe.category.pk, region_id=probe.region.pk))
        .count()
    )
    return {"count": count, **names(probe)}
