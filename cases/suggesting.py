"""智能派单 at intake: the model in use (``cases.router`` trains it) and what it suggests.

``suggest`` answers while a complaint is typed: each process keeps the active model loaded and
loads it again when the active version changes, which it checks, with the categories, at most
every ``ROUTER_CACHE_SECONDS`` (``xining_issues.snapshot``). When there is no model, or it is
unsure (top probability below ``ROUTER_MIN_CONFIDENCE``), the rule stands alone: categories
whose name the text contains. The text is used and dropped; nothing here stores or logs it.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from django.conf import settings

from org.models import Region, Unit
from xining_issues.snapshot import Fresh

from .models import Category, RouterModel, RouterState
from .router import TEXT_MAX, Router, load


def _active_version() -> tuple[tuple[int, dt.datetime] | None]:
    return (
        RouterModel.objects.filter(state=RouterState.ACTIVE)
        .values_list("pk", "trained_at")
        .first(),
    )


def _categories() -> dict[int, Category]:
    """Every active category with its parent, by id (the suggestions' answer names both)."""
    return {c.pk: c for c in Category.objects.filter(is_active=True).select_related("parent")}


ACTIVE_VERSION = Fresh(_active_version)
CATEGORIES = Fresh(_categories)


class _Loaded:
    """The active model of this process (loaded once per version). A version is the row's id
    and training time together: a restored or rolled-back database may give an id again."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: tuple[int, dt.datetime] | None = None
        self.router: Router | None = None

    def get(self) -> tuple[int | None, Router | None]:
        (version,) = ACTIVE_VERSION.get()
        if version is None:
            return None, None
        if version != self.version:
            with self.lock:
                if version != self.version:
                    blob = (
                        RouterModel.objects.filter(pk=version[0])
                        .values_list("blob", flat=True)
                        .first()
                    )
                    self.router = load(bytes(blob)) if blob else None
                    self.version = version
        return version[0], self.router


LOADED = _Loaded()


@dataclass(frozen=True)
class CategoryGuess:
    category: Category
    probability: float | None  # None: the rule (the name is in the text)
    learned_units: list[tuple[Unit, int, float]]  # (unit, satisfied cases, share)


@dataclass(frozen=True)
class Guesses:
    basis: str  # "model", or "rule" (no model, or the model unsure)
    version: int | None
    confident: bool
    threshold: float
    guesses: list[CategoryGuess]


def _rule_guesses(text: str, names: dict[int, str], limit: int) -> list[int]:
    """Categories whose name the text contains, the longest (most specific) first."""
    named = [(pk, name) for pk, name in names.items() if name and name in text]
    named.sort(key=lambda item: (-len(item[1]), item[0]))
    return [pk for pk, _name in named[:limit]]


def suggest(
    text: str,
    *,
    region: Region | None = None,
    offered_only: bool = True,
    with_units: bool = True,
    limit: int = 5,
) -> Guesses:
    """The categories ``text`` most likely belongs to, best first, each with the units that
    answered such cases in ``region``'s district to the complainant's satisfaction."""
    threshold = float(settings.ROUTER_MIN_CONFIDENCE)
    text = text.strip()[:TEXT_MAX]
    by_id = {
        pk: c for pk, c in CATEGORIES.get().items() if c.offered_to_residents or not offered_only
    }
    names = {pk: c.name for pk, c in by_id.items()}
    version, router = LOADED.get()
    ranked: list[tuple[int, float | None]] = []
    if router is not None and text:
        probabilities = router.probabilities([text])[0]
        order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
        model_ranked: list[tuple[int, float | None]] = [
            (int(router.categories[i]), float(probabilities[i]))
            for i in order
            if router.categories[i] in names
        ]
        ranked = model_ranked[:limit]
    confident = bool(ranked) and (ranked[0][1] or 0.0) >= threshold
    basis = "model"
    if not confident:
        basis = "rule"
        rule = _rule_guesses(text, names, limit)
        model_rest = [(c, p) for c, p in ranked if c not in rule]
        ranked = [(c, None) for c in rule] + model_rest
        ranked = ranked[:limit]
    learned = (
        _learned(router, [c for c, _p in ranked], region)
        if with_units and router is not None
        else {}
    )
    guesses = [
        CategoryGuess(by_id[category_id], probability, learned.get(category_id, []))
        for category_id, probability in ranked
    ]
    return Guesses(basis, version, confident, threshold, guesses)


def learned_units(category_id: int, region: Region | None) -> list[tuple[Unit, int, float]]:
    """The units that answered cases of the category in ``region``'s district (else anywhere)
    to the complainant's satisfaction, most first: how such cases were routed before."""
    _version, router = LOADED.get()
    if router is None:
        return []
    return _learned(router, [category_id], region).get(category_id, [])


def _learned(
    router: Router, category_ids: list[int], region: Region | None
) -> dict[int, list[tuple[Unit, int, float]]]:
    district = region.ancestor_ids[1] if region is not None and region.level > 1 else None
    learned = {
        category_id: router.units.get((category_id, district))
        or router.units.get((category_id, None), [])
        for category_id in category_ids
    }
    unit_ids = {u for rows in learned.values() for u, _n in rows}
    units = Unit.objects.in_bulk(unit_ids) if unit_ids else {}
    result = {}
    for category_id, counted in learned.items():
        rows = [(units[u], n) for u, n in counted if u in units]
        total = sum(n for _u, n in rows)
        result[category_id] = [(unit, n, n / total) for unit, n in rows] if total else []
    return result
