"""Help for the people dispatching: who should take a case, whom they may send it to, and which
cases it may repeat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from org import jurisdiction
from org.models import Region, Role, Unit, User
from xining_issues.snapshot import Fresh

from . import similar
from .models import Case, Category, Responsibility
from .selectors import case_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

DUPLICATE_WINDOW = similar.WINDOW


@dataclass(frozen=True)
class Suggestion:
    unit: Unit
    co_units: list[Unit]
    reason: str
    level: int  # the rule's region level: the duty level (办理层级) it implies


def category_chain(category: Category | None) -> list[int]:
    """The category and its ancestors, nearest first (a rule for 供暖 covers 供暖不热)."""
    chain, seen = [], set()
    current: Category | None = category
    while current is not None and current.pk not in seen:
        chain.append(current.pk)
        seen.add(current.pk)
        current = current.parent
    return chain


def _responsible_units(case: Case) -> list[tuple[Responsibility, Unit | None]]:
    """The 权责清单 rules for the case's category (and its ancestors), best first, each with the
    unit it names for this case: the named unit, or the active unit of the rule's kind whose
    region is the case's ancestor at the rule's level (None when there is none)."""
    return _rules_in_region([case.category], case.region)[case.category.pk]


def _rules_in_region(
    categories: list[Category], region: Region, every_rule: list[Responsibility] | None = None
) -> dict[int, list[tuple[Responsibility, Unit | None]]]:
    """``_responsible_units`` for several categories in one place, in three queries (one, given
    ``every_rule``: the whole 权责清单 as ``RULES`` keeps it)."""
    chains = {category.pk: category_chain(category) for category in categories}
    wanted = {c for chain in chains.values() for c in chain}
    rules = (
        [rule for rule in every_rule if rule.category_id in wanted]
        if every_rule is not None
        else list(
            Responsibility.objects.filter(category_id__in=wanted)
            .select_related("unit", "category")
            .prefetch_related("co_units")
        )
    )
    ancestors = region.ancestor_ids
    kinds_at = {
        (rule.unit_kind, ancestors[rule.region_level - 1])
        for rule in rules
        if rule.unit_id is None and rule.region_level - 1 < len(ancestors)
    }
    condition = Q(pk__in=[])
    for kind, region_id in sorted(kinds_at):
        condition |= Q(kind=kind, region_id=region_id)
    by_kind_region = {
        (u.kind, u.region_id): u
        for u in Unit.objects.filter(condition, is_active=True).order_by("pk")
    }
    result: dict[int, list[tuple[Responsibility, Unit | None]]] = {}
    for category_id, chain in chains.items():
        own = sorted(
            (rule for rule in rules if rule.category_id in chain),
            key=lambda r: (chain.index(r.category_id), r.priority),
        )
        resolved: list[tuple[Responsibility, Unit | None]] = []
        for rule in own:
            unit = rule.unit
            if unit is None and rule.region_level - 1 < len(ancestors):
                unit = by_kind_region.get((rule.unit_kind, ancestors[rule.region_level - 1]))
            resolved.append((rule, unit))
        result[category_id] = resolved
    return result


def suggest_lead_units(case: Case) -> list[Suggestion]:
    """权责清单 → candidate lead units for this case, best first.

    A rule naming a unit suggests it outright; a rule naming a kind of unit at a level suggests
    the active unit of that kind whose region is the case's ancestor at that level (e.g. the
    district government of the case's district).
    """
    return _suggestions(_responsible_units(case))


def _suggestions(resolved: list[tuple[Responsibility, Unit | None]]) -> list[Suggestion]:
    suggestions: list[Suggestion] = []
    seen: set[int] = set()
    for rule, unit in resolved:
        if unit is None or not unit.is_active or unit.pk in seen:
            continue
        seen.add(unit.pk)
        reason = rule.note or f"权责清单：{rule.category.name}"
        suggestions.append(Suggestion(unit, list(rule.co_units.all()), reason, rule.region_level))
    return suggestions


def _every_rule() -> list[Responsibility]:
    return list(
        Responsibility.objects.select_related("unit", "category").prefetch_related("co_units")
    )


# The whole 权责清单, as each process last read it (智能派单 reads it on every pause in typing).
RULES = Fresh(_every_rule)


def responsible_units(categories: list[Category], region: Region) -> dict[int, Suggestion]:
    """The 权责清单's first lead unit for each of ``categories`` in the community ``region``:
    what the dispatch dialog would suggest first for a case of theirs (智能派单 shows it beside
    the model's guess). One query (the units by kind in the region's chain) however many
    categories, the list itself as ``RULES`` last read it; a category without one is left out."""
    found = {}
    for category_id, resolved in _rules_in_region(categories, region, RULES.get()).items():
        suggestions = _suggestions(resolved)
        if suggestions:
            found[category_id] = suggestions[0]
    return found


def dispatch_targets(*, case: Case, actor: User | AnonymousUser) -> QuerySet[Unit]:
    """派单范围: the active units ``actor`` may send ``case`` to, as lead or as co-handler.

    The complainant's full name and phone go with the case to every unit that handles it, so a
    dispatcher reaches only:

    * the units of the area they dispatch for: those whose region lies within the root of
      their dispatcher jurisdiction that covers the case's dispatch level (a district's
      dispatcher: the district's government, departments, towns and villages; the city's
      dispatcher, or any dispatcher once a case has gone up to the city, every unit of the
      city);
    * the units the 权责清单 names for the case's category in the case's region, as owner or
      as co-handler (华润燃气 for heating anywhere in the city): the units the dispatch
      suggestions offer. The list is kept by the administrators and is the city's word on who
      owns a matter, so a unit it names may take either place.

    Empty for anyone who may not dispatch the case (the workflow answers them 403 first).
    """
    roots = [
        root
        for root in jurisdiction.region_paths(actor, Role.DISPATCHER)
        if case.dispatch_region.path.startswith(root)
    ]
    if not roots:
        return Unit.objects.none()
    named: set[int] = set()
    for rule, unit in _responsible_units(case):
        if unit is not None:
            named.add(unit.pk)
        named.update(co.pk for co in rule.co_units.all())
    area = Q(pk__in=named)
    for root in roots:
        area |= Q(region__path__startswith=root)
    return Unit.objects.filter(area, is_active=True)


def possible_duplicates(case: Case, user: User | AnonymousUser, limit: int = 10) -> QuerySet[Case]:
    """Cases ``user`` may see that may be the same matter: same phone, or same category in the
    same community, within 30 days either side (the criteria are ``cases.similar``'s, which
    intake's similar cases use too)."""
    window = similar.window(case.created_at)
    same = similar.matches(
        category_id=case.category_id, region_id=case.region_id, phone=case.complainant_phone
    )
    # case_list: what a queue row shows is loaded with the rows (no query per duplicate).
    return case_list(user).filter(window, same).exclude(pk=case.pk).order_by("-created_at")[:limit]
