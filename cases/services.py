"""Help for the people dispatching: who should take a case, and which cases it may repeat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from org.models import Unit, User

from .models import Case, Category, Responsibility
from .selectors import visibility_filter

DUPLICATE_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class Suggestion:
    unit: Unit
    co_units: list[Unit]
    reason: str


def category_chain(category: Category | None) -> list[int]:
    """The category and its ancestors, nearest first (a rule for 供暖 covers 供暖不热)."""
    chain, seen = [], set()
    current: Category | None = category
    while current is not None and current.pk not in seen:
        chain.append(current.pk)
        seen.add(current.pk)
        current = current.parent
    return chain


def suggest_lead_units(case: Case) -> list[Suggestion]:
    """权责清单 → candidate lead units for this case, best first.

    A rule naming a unit suggests it outright; a rule naming a kind of unit at a level suggests
    the active unit of that kind whose region is the case's ancestor at that level (e.g. the
    district government of the case's district).
    """
    chain = category_chain(case.category)
    rules = list(
        Responsibility.objects.filter(category_id__in=chain)
        .select_related("unit", "category")
        .prefetch_related("co_units")
    )
    rules.sort(key=lambda r: (chain.index(r.category_id), r.priority))
    ancestors = case.region.ancestor_ids
    kinds_at = [
        (rule.unit_kind, ancestors[rule.region_level - 1])
        for rule in rules
        if rule.unit_id is None and rule.region_level - 1 < len(ancestors)
    ]
    condition = Q(pk__in=[])
    for kind, region_id in kinds_at:
        condition |= Q(kind=kind, region_id=region_id)
    by_kind_region = {
        (u.kind, u.region_id): u
        for u in Unit.objects.filter(condition, is_active=True).order_by("pk")
    }
    suggestions: list[Suggestion] = []
    seen: set[int] = set()
    for rule in rules:
        unit = rule.unit
        if unit is None and rule.region_level - 1 < len(ancestors):
            unit = by_kind_region.get((rule.unit_kind, ancestors[rule.region_level - 1]))
        if unit is None or not unit.is_active or unit.pk in seen:
            continue
        seen.add(unit.pk)
        reason = rule.note or f"权责清单：{rule.category.name}"
        suggestions.append(Suggestion(unit, list(rule.co_units.all()), reason))
    return suggestions


def possible_duplicates(case: Case, user: User, limit: int = 10) -> QuerySet[Case]:
    """Cases ``user`` may see that may be the same matter: same phone, or same category in the
    same community, within 30 days either side."""
    window = Q(
        created_at__gte=case.created_at - DUPLICATE_WINDOW,
        created_at__lte=case.created_at + DUPLICATE_WINDOW,
    )
    same = Q(complainant_phone=case.complainant_phone) | Q(
        category_id=case.category_id, region_id=case.region_id
    )
    return (
        Case.objects.filter(window, same)
        .filter(visibility_filter(user))
        .exclude(pk=case.pk)
        .select_related("category", "region")
        .order_by("-created_at")[:limit]
    )
