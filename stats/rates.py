"""The three rates units and districts are ranked by, computed from the case events.

Definitions (the same text is in the API schema):

* 响应率 (response rate): of the cases first dispatched in the period, the share whose first
  contact with the complainant was recorded by the contact deadline.
* 解决率 (resolution rate): of the cases replied in the period (办结答复 or 即时办结), the share
  whose latest reply in the period says the problem was resolved.
* 满意率 (satisfaction rate): of the cases evaluated in the period, the share whose latest rating
  is 满意 or 基本满意; cases a supervisor ruled unreasonable are left out of both counts.

A case merged (合并) in the period into another is left out of all three: the matter is counted
once, on the main case. (A period that ends before the merge counts what it saw of it; the case
still counts as received: it was a real call.)

Nothing is read from hand-kept counters, so any period can be recomputed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q

from cases.models import Case, CaseEvent, EventType, Outcome, Rating
from cases.selectors import visibility_filter

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from org.models import User

RATE_DEFINITIONS = __doc__ or ""
# The one definition of what the rates count; the rollup (``stats.rollup``) and its SQL rebuild
# (``stats.rebuild``) fold the same event types and ratings.
SATISFIED_RATINGS = frozenset({Rating.SATISFIED, Rating.BASICALLY})
# A 改派 gives the case to a new unit with new deadlines, as a 派单 does: it counts as one (and
# names the new unit). A 退回 (or an approved 退回申请) and a 撤回 count nothing: the 派单 that
# follows them does.
DISPATCH_TYPES = frozenset({EventType.DISPATCH, EventType.REASSIGN})
RATE_TYPES = frozenset(
    {
        *DISPATCH_TYPES,
        EventType.CONTACT,
        EventType.REPLY,
        EventType.RESOLVE_AT_INTAKE,
        EventType.EVALUATE,
        EventType.CLOSE,
        EventType.MERGE,  # leaves the merged case out of the rates (counted on the main case)
    }
)


@dataclass
class Rates:
    key: int | None
    name: str
    dispatched: int = 0
    responded: int = 0
    replied: int = 0
    resolved: int = 0
    evaluated: int = 0
    satisfied: int = 0

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "name": self.name,
            "dispatched": self.dispatched,
            "responded": self.responded,
            "replied": self.replied,
            "resolved": self.resolved,
            "evaluated": self.evaluated,
            "satisfied": self.satisfied,
            "response_rate": self._share(self.responded, self.dispatched),
            "resolution_rate": self._share(self.resolved, self.replied),
            "satisfaction_rate": self._share(self.satisfied, self.evaluated),
        }


@dataclass
class _CaseFacts:
    group: int | None = None
    dispatched: bool = False
    responded: bool = False
    reply_outcome: str | None = None
    rating: str | None = None
    unreasonable: bool = False
    contact_seen: bool = False
    merged: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def compute_rates(
    user: User | AnonymousUser,
    *,
    start: dt.datetime,
    end: dt.datetime,
    group_by: str = "unit",
    cases: Q | None = None,
) -> list[dict[str, object]]:
    """Rates per lead unit or per district for events in [start, end), within what ``user``
    may see (and, given ``cases``, of the cases it selects). One query over the events of the
    period, then counting in Python."""
    visible = Case.objects.filter(visibility_filter(user), cases or Q()).values("pk")
    events = (
        CaseEvent.objects.filter(
            case__in=visible, type__in=RATE_TYPES, created_at__gte=start, created_at__lt=end
        )
        .order_by("created_at", "id")
        .values_list(
            "case_id",
            "type",
            "payload",
            "unit_id",
            "unit__name",
            "case__district_id",
            "case__district__name",
        )
    )
    facts: dict[int, _CaseFacts] = defaultdict(_CaseFacts)
    names: dict[int | None, str] = {}
    for case_id, kind, payload, unit_id, unit_name, district_id, district_name in events.iterator(
        chunk_size=5000
    ):
        f = facts[case_id]
        group, name = (unit_id, unit_name) if group_by == "unit" else (district_id, district_name)
        if group is not None:
            f.group = group
            names[group] = name or ""
        if kind in DISPATCH_TYPES:
            f.dispatched = True
        elif kind == EventType.CONTACT and payload.get("first"):
            f.responded = bool(payload.get("on_time"))
        elif kind in (EventType.REPLY, EventType.RESOLVE_AT_INTAKE):
            f.reply_outcome = payload.get("outcome")
        elif kind == EventType.EVALUATE:
            f.rating = payload.get("rating")
        elif kind == EventType.CLOSE and payload.get("unreasonable"):
            f.unreasonable = True
        elif kind == EventType.MERGE:
            f.merged = True

    rows: dict[int | None, Rates] = {}
    for f in facts.values():
        if f.merged:
            continue
        row = rows.setdefault(f.group, Rates(f.group, names.get(f.group, "")))
        if f.dispatched:
            row.dispatched += 1
            row.responded += int(f.responded)
        if f.reply_outcome is not None:
            row.replied += 1
            row.resolved += int(f.reply_outcome == Outcome.RESOLVED)
        if f.rating is not None and not f.unreasonable:
            row.evaluated += 1
            row.satisfied += int(f.rating in SATISFIED_RATINGS)
    return [r.as_dict() for r in sorted(rows.values(), key=lambda r: (r.name, r.key or 0))]
