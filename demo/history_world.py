"""The reference data of the year of demo cases (``demo.history``), read once: regions, units,
categories, the 权责清单 and the staff, so that nothing is queried per case; the demo 承办人
accounts that a handling step needs; and map pins kept inside their district's outline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from simple_history.utils import bulk_create_with_history

from cases import grading
from cases.models import Category, Responsibility
from org.models import Membership, Region, RegionLevel, Role, Unit, UnitKind, User, path_ids

from .geography import DISTRICT_SLUGS
from .organisation import DEMO_PASSWORD
from .vocabulary import DISTRICT_WEIGHTS, SURNAMES


@dataclass(frozen=True)
class Suggestion:
    unit_id: int
    unit_name: str
    co_units: tuple[tuple[int, str], ...]
    level: int


@dataclass(frozen=True)
class Place:
    region_id: int
    district_id: int
    street_id: int
    name: str
    slug: str
    rural: bool
    # The community's point (代表点), or None where the region has none: pins cluster round it.
    point: tuple[float, float] | None = None


class World:
    """Regions, units, categories, the 权责清单 and the staff, read in a few queries."""

    def __init__(self) -> None:
        regions = list(Region.objects.values_list("pk", "name", "level", "path", "lat", "lng"))
        by_id = {pk: (name, level, path) for pk, name, level, path, _y, _x in regions}
        self.region_paths = {pk: path for pk, _n, _l, path, _y, _x in regions}
        self.region_names = {pk: name for pk, name, _l, _p, _y, _x in regions}
        self.places: list[Place] = []
        self.district_names: dict[int, str] = {}
        weights: list[float] = []
        per_district: Counter[int] = Counter()
        for pk, name, level, path, lat, lng in sorted(regions):
            if level != RegionLevel.COMMUNITY:
                continue
            ids = path_ids(path)
            if len(ids) < 4:
                continue
            district_name = by_id[ids[1]][0]
            self.district_names[ids[1]] = district_name
            per_district[ids[1]] += 1
            self.places.append(
                Place(
                    region_id=pk,
                    district_id=ids[1],
                    street_id=ids[2],
                    name=name,
                    slug=DISTRICT_SLUGS.get(district_name, ""),
                    rural=name.endswith("村"),
                    point=(float(lat), float(lng)) if lat is not None else None,
                )
            )
        if not self.places:
            raise RuntimeError("No communities: run seed_demo (the organisation) first.")
        for place in self.places:
            district_weight = DISTRICT_WEIGHTS.get(self.district_names[place.district_id], 0.1)
            # A fixed, name-derived spread so some communities are busier than others.
            spread = 0.6 + (sum(map(ord, place.name)) % 9) / 10
            weights.append(district_weight / per_district[place.district_id] * spread)
        self.place_cum = cumulative(weights)

        units = list(
            Unit.objects.filter(is_active=True).values_list("pk", "code", "name", "kind", "region")
        )
        self.unit_names = {pk: name for pk, _c, name, _k, _r in units}
        self.unit_codes = {pk: code for pk, code, _n, _k, _r in units}
        self.unit_by_kind_region: dict[tuple[str, int], int] = {}
        for pk, _code, _name, kind, region_id in sorted(units):
            self.unit_by_kind_region.setdefault((kind, region_id), pk)

        categories = list(Category.objects.all())
        self.category_rows = {c.pk: c for c in categories}
        self.categories = {c.code: (c.pk, c.name, c.parent_id) for c in categories if c.is_active}
        parents = {c.pk: c.parent_id for c in categories}
        self.category_codes = {c.pk: c.code for c in categories}
        self.rules: dict[int, list[tuple[int, int, str, int | None, tuple[int, ...], int]]] = {}
        for rule in Responsibility.objects.prefetch_related("co_units").order_by("pk"):
            co = tuple(sorted(u.pk for u in rule.co_units.all() if u.is_active))
            self.rules.setdefault(rule.category_id, []).append(
                (rule.priority, rule.pk, rule.unit_kind, rule.unit_id, co, rule.region_level)
            )
        self.chains: dict[int, list[int]] = {}
        for pk in parents:
            chain: list[int] = []
            current: int | None = pk
            while current is not None and current not in chain:
                chain.append(current)
                current = parents.get(current)
            self.chains[pk] = chain
        # Categories that inherit the same rules share their suggestions (many children of a
        # group have no rows of their own): the cache is keyed by the category's rule set.
        self._rule_sets: dict[int, int] = {}
        self._ordered: list[list[tuple[int, int, str, int | None, tuple[int, ...], int]]] = []
        self._suggestions: dict[tuple[int, int], list[Suggestion]] = {}

        self.staff: dict[str, list[tuple[int, str, int]]] = {}
        self.handlers: dict[int, list[int]] = {}
        self.residents: list[tuple[int, str, str]] = []
        self.load_staff()

    def load_staff(self) -> None:
        self.staff, self.handlers = {}, {}
        rows = Membership.objects.filter(user__is_active=True, unit__is_active=True).values_list(
            "user_id", "role", "unit_id", "unit__region__path"
        )
        for user_id, role, unit_id, path in sorted(rows):
            self.staff.setdefault(role, []).append((user_id, path, unit_id))
            if role == Role.HANDLER:
                self.handlers.setdefault(unit_id, []).append(user_id)
        self.residents = list(
            User.objects.filter(is_active=True, is_superuser=False, memberships__isnull=True)
            .order_by("pk")
            .values_list("pk", "display_name", "phone")[:20]
        )

    def suggestions(self, category_id: int, place: Place) -> list[Suggestion]:
        """``services.suggest_lead_units`` computed in memory (same rules, same order)."""
        rule_set = self._rule_set(category_id)
        key = (rule_set, place.region_id)
        cached = self._suggestions.get(key)
        if cached is not None:
            return cached
        ancestors = [int(p) for p in self.region_paths[place.region_id].strip("/").split("/")]
        result: list[Suggestion] = []
        seen: set[int] = set()
        for _prio, _pk, kind, unit_id, co, level in self._ordered[rule_set]:
            unit = unit_id
            if unit is None and level - 1 < len(ancestors):
                unit = self.unit_by_kind_region.get((kind, ancestors[level - 1]))
            if unit is None or unit not in self.unit_names or unit in seen:
                continue
            seen.add(unit)
            co_units = tuple((u, self.unit_names[u]) for u in co if u in self.unit_names)
            result.append(Suggestion(unit, self.unit_names[unit], co_units, level))
        if not result:  # no rule: the district government takes it
            gov = self.unit_by_kind_region.get((UnitKind.PARTY_GOVERNMENT, place.district_id))
            if gov is not None:
                result.append(Suggestion(gov, self.unit_names[gov], (), RegionLevel.DISTRICT))
        self._suggestions[key] = result
        return result

    def _rule_set(self, category_id: int) -> int:
        """The index of the category's rules in the order ``suggest_lead_units`` reads them
        (its own first, then its parent's …), the same index for the same rules."""
        known = self._rule_sets.get(category_id)
        if known is not None:
            return known
        chain = self.chains[category_id]
        rules = [(chain.index(cat), rule) for cat in chain for rule in self.rules.get(cat, [])]
        rules.sort(key=lambda item: (item[0], item[1][0], item[1][1]))
        ordered = [rule for _index, rule in rules]
        if ordered not in self._ordered:
            self._ordered.append(ordered)
        self._rule_sets[category_id] = self._ordered.index(ordered)
        return self._rule_sets[category_id]

    def street_office(self, place: Place) -> int | None:
        return self.unit_by_kind_region.get((UnitKind.STREET_OFFICE, place.street_id))

    def possible_leads(self) -> set[int]:
        """Every unit a generated case may be dispatched to."""
        leads: set[int] = set()
        # One category of each rule set: the others are suggested the same units.
        representatives: dict[int, int] = {}
        for category_id in self.chains:
            representatives.setdefault(self._rule_set(category_id), category_id)
        for place in self.places:
            for category_id in representatives.values():
                leads.update(s.unit_id for s in self.suggestions(category_id, place))
            office = self.street_office(place)
            if office is not None:
                leads.add(office)
        return leads

    def dispatch_region(self, place: Place, duty_level: int) -> int:
        """``cases.grading.dispatch_region_id`` in memory: the level above the duty level (the
        city for city matters), or the nearest staffed level above it, else the district."""
        staffed = {path for _u, path, _unit in self.staff.get(Role.DISPATCHER, [])}
        chain = path_ids(self.region_paths[place.region_id])
        for region_id in reversed(chain[: grading.DISPATCHED_BY[duty_level]]):
            if self.region_paths[region_id] in staffed:
                return region_id
        return place.district_id

    def reachers(self, role: str, region_id: int) -> list[int]:
        """Users holding ``role`` in a unit whose region contains ``region_id``, the most local
        first (``jurisdiction.may_act`` in memory)."""
        path = self.region_paths[region_id]
        found = [(len(p), -u, u) for u, p, _unit in self.staff.get(role, []) if path.startswith(p)]
        return [u for _len, _neg, u in sorted(found, reverse=True)]


def cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def create_handler_accounts(units: dict[int, str]) -> tuple[dict[int, int], int]:
    """A demo 承办人 account ``handler_<unit code>`` for each unit (id → code), with its
    handler membership, made where missing. Returns (unit id → user id, accounts created)."""
    usernames = {f"handler_{code}"[:150]: unit for unit, code in units.items()}
    existing = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    password = make_password(DEMO_PASSWORD)
    new_users = [
        User(
            username=name,
            display_name=f"{SURNAMES[unit % len(SURNAMES)]}承办",
            email=f"{name}@example.invalid",
            password=password,
        )
        for name, unit in usernames.items()
        if name not in existing
    ]
    if new_users:
        User.objects.bulk_create(new_users, ignore_conflicts=True)
        existing = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
    have = set(
        Membership.objects.filter(user_id__in=existing.values(), role=Role.HANDLER).values_list(
            "user_id", "unit_id"
        )
    )
    posts = [
        Membership(user_id=existing[name], unit_id=unit, role=Role.HANDLER)
        for name, unit in usernames.items()
        if name in existing and (existing[name], unit) not in have
    ]
    if posts:
        bulk_create_with_history(posts, Membership, batch_size=500)
    accounts = {unit: existing[name] for name, unit in usernames.items() if name in existing}
    return accounts, len(new_users)


def ensure_handlers(world: World) -> int:
    """Give every possible lead unit without a 承办人 one demo handler account."""
    missing = sorted(u for u in world.possible_leads() if u not in world.handlers)
    if not missing:
        return 0
    _accounts, created = create_handler_accounts({u: world.unit_codes[u] for u in missing})
    world.load_staff()
    return created
