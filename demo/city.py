"""A synthetic city for the benchmark of issue 11: N cases over ten years, written set-based.

Over 500 lines on purpose: the builder's steps (reference data, calendar, chunk plan, parallel
writers, deferred indexes, checks) share one run's state; its SQL is apart in ``demo.city_sql``.

``CityBuilder`` fills the configured PostgreSQL database with cases and the events their
histories imply, in chunks of one transaction each. Python does a fixed amount of work per run
and per chunk (reference data, the calendar, the number of cases per day); every case, event,
evaluation, extension request, 督办 order and co-unit link is made by PostgreSQL itself, with
``INSERT … SELECT`` over ``generate_series`` (the SQL is in ``demo.city_sql``). Memory in
Python stays flat whatever N is.

The shape (the words and weights of the year of demo cases, ``demo.vocabulary`` and
``demo.catalogue``)
    * ten years ending now, volume growing 8 % a year, fewer cases on days off, more in the
      heating season (15 October – 15 April), when 供暖 categories dominate;
    * districts by population, communities within them spread by a fixed name-derived factor,
      villages raising fewer property and more road and water matters;
    * channels (12345 phone first, then mini-program, web, grid inspectors, walk-ins);
    * about 95 % closed; the rest rejected (不予受理) or open in every open status: recent cases
      still on their way, and a small share stuck for good (awaiting dispatch, in handling and
      long overdue, waiting to be archived, or with a supervisor after a second 不满意);
    * the histories the workflow writes: 提交 → 受理 → 派单 → 签收 → 联系 → (进展, 延期, 督办) →
      答复 → 评价 → 归档, with 不予受理, 即时办结, 退回 and re-dispatch, 重办 after 不满意,
      督查研判 and the archive of a reply nobody evaluated.

Every event has the type, from/to status, payload keys, role, actor and unit that the matching
``cases.workflow`` function writes (``tests/demo/test_bench_city.py`` replays them through
``workflow.TRANSITIONS``). Deadlines are the ones ``cases.sla`` computes on the holiday
calendar, by the same arithmetic done in SQL on working-second positions (see
``demo.city_sql``). Supervision levels are what the scan would have left; the scan's own
reminder events and marks, notifications and the outbox are not written (as in the demo data).

Chunks follow the timeline: case ids and tracking numbers grow with ``created_at`` as they do in
a real system, so the physical order of the tables is a realistic one. Just before a chunk is
written, its tracking numbers (in ``DailySequence``) and a block of case ids are reserved in a
short transaction of their own, in the order of the chunks, so a later real submission never
collides with a generated code; the chunks commit in their order too, so the cases written are
always a prefix of the timeline and an interrupted run can be resumed (``start``). (A chunk
that was interrupted leaves its reserved numbers and ids unused: a gap, never a duplicate.)

Speed
    ``WORKERS`` chunks are written at once, each on a connection of its own (the work is
    PostgreSQL's: one backend per chunk uses one core). Inside a transaction (a test's) the
    other connections could not see its rows, so there the chunks are written one by one.
    A chunk runs without JIT (compiling the plan's expressions cost more than it saved) and,
    where the role may set ``session_replication_role``, without the deferred foreign-key
    triggers: the chunk only refers to rows it has just read or written, and ``orphans()``
    checks that afterwards. A large load sets the secondary indexes of the case tables aside
    and builds them once after it (``defer_indexes`` / ``restore_indexes``, ``WORKERS``
    builds at a time, the GIN ones first); the dropped definitions are recorded in
    ``demo.DeferredIndex`` first, so an interrupted load is repaired by the next run.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cases import sla, workflow
from cases.models import Case, Category, Responsibility, Status, TimeUnit
from org.models import Membership, Region, RegionLevel, Role, Unit, UnitKind, path_ids
from xining_issues.bulk import analyze

from . import city_sql
from .catalogue import (
    COMPLEX_SHARE,
    CONSULTATIONS,
    GRID_GROUPS,
    GROUP_OF,
    GROUPS,
    HARD,
    MEMBERS,
    MONEY,
    REPLY_GROUP,
    ROADS,
    TEMPLATES,
    TIMES_OF_DAY,
)
from .geography import DISTRICT_SLUGS
from .history_world import create_handler_accounts
from .organisation import seed_organisation
from .reference import seed_reference
from .topics import seed_topics
from .vocabulary import (
    CHANNELS,
    COMMENTS,
    COMPOUNDS,
    DISTRICT_CENTRES,
    DISTRICT_WEIGHTS,
    EXTENSION_REASONS,
    HOUR_WEIGHTS,
    INTAKE_REPLIES,
    MOBILE_PREFIXES,
    PROGRESS_NOTES,
    REJECT_NOTES,
    REOPEN_REASONS,
    REPLIES,
    RETURN_REASONS,
    SUPERVISION_NOTES,
    SURNAMES,
    heating_weight,
)

YEARS = 10
GROWTH_PER_YEAR = 1.08  # hotline volume grows as the city learns to call it
DAY_OFF_WEIGHT = 0.8
PLACE_SLOTS = 10_000
SLOTS = 1_000
CLOCK_UNITS = {TimeUnit.CLOCK_HOURS.value, TimeUnit.CLOCK_MINUTES.value}
WORKING_UNITS = {TimeUnit.WORKING_HOURS.value, TimeUnit.WORKING_DAYS.value}
# How far past today the calendar reaches: deadlines and the late tails of cases still open.
CALENDAR_AHEAD = dt.timedelta(days=800)
# Chunks written at once, each on its own connection: PostgreSQL does the work, one backend
# per chunk, so two use both cores of the benchmark machine.
WORKERS = 2

# A few of the most recent cases of a run are steered into each open state (how long before
# now they were submitted), so that every open status shows up even in a small city.
STEERED: list[tuple[str, dt.timedelta]] = [
    (Status.SUBMITTED, dt.timedelta(minutes=20)),
    (Status.ACCEPTED, dt.timedelta(hours=3)),
    (Status.DISPATCHED, dt.timedelta(hours=8)),
    (Status.HANDLING, dt.timedelta(days=1)),
    (Status.REPLIED, dt.timedelta(days=2)),
    (Status.EVALUATED, dt.timedelta(days=5)),
    (Status.REVIEW, dt.timedelta(days=40)),
]


class CityError(Exception):
    """The city cannot be built here (wrong database, no reference data)."""


def server_version() -> int:
    """PostgreSQL's version as a number (150002 for 15.2)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0])


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise CityError(
            "bench_city needs PostgreSQL: it writes the city with INSERT … SELECT over "
            "generate_series and PL/SQL helpers that SQLite does not have. Set DATABASE_URL to "
            "a scratch PostgreSQL database (postgres://user@host:5432/name) and run it again. / "
            "bench_city 只能在 PostgreSQL 上运行，"
            "请将 DATABASE_URL 指向一个临时的 PostgreSQL 数据库。"
        )


BENCH_MARK = "xining-issues bench city: a scratch database of synthetic cases"


def _database_comment() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(d.oid, 'pg_database') FROM pg_database d "
            "WHERE d.datname = current_database()"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def require_scratch_database(*, force: bool = False) -> None:
    """Refuse to add synthetic cases to a database that holds real ones.

    A database is the benchmark's when it holds no case yet (it is then marked, with a comment
    on the database, so that later runs may add to it) or when it carries that mark. ``force``
    marks any database: for an operator who means it."""
    from cases.models import Case

    if _database_comment() == BENCH_MARK:
        return
    if Case.objects.exists() and not force:
        raise CityError(
            f"the database {connection.settings_dict['NAME']!r} holds cases that bench_city did "
            "not write: it adds synthetic cases and drops indexes, so it runs only on a scratch "
            "database (createdb xining_bench; DATABASE_URL=postgres:///xining_bench manage.py "
            "migrate). Add --force if this database really is a scratch one. / 该数据库已有真实"
            "诉求，bench_city 只在临时数据库上运行。"
        )
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(f"COMMENT ON DATABASE {name} IS %s", [BENCH_MARK])


# --- the calendar --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkDays:
    """``cases.sla.WorkCalendar`` as arrays, for the SQL functions of ``demo.city_sql``.

    Day ``i`` is ``base + i`` days. ``seq[i]`` counts the working days in ``base .. base + i``;
    ``workday[i]`` is 1 on a working day; ``days[s - 1]`` is the day index of working day ``s``.
    """

    base: dt.date
    offset: int  # seconds east of UTC of settings.TIME_ZONE (a zone without summer time)
    seq: list[int]
    workday: list[int]
    days: list[int]

    @classmethod
    def build(cls, first: dt.date, last: dt.date) -> WorkDays:
        calendar = sla.WorkCalendar.load(first, last)
        zone = timezone.get_default_timezone()
        offsets = {
            int(dt.datetime.combine(first + dt.timedelta(days=i), dt.time(12), zone)
                .utcoffset().total_seconds())  # type: ignore[union-attr]
            for i in range(0, (last - first).days + 1, 30)
        }  # fmt: skip
        if len(offsets) != 1:
            raise CityError(
                f"TIME_ZONE {settings.TIME_ZONE} changes its offset (summer time); the city's "
                "calendar arithmetic needs a fixed offset such as Asia/Shanghai."
            )
        seq, workday, days, count = [], [], [], 0
        for i in range((last - first).days + 1):
            day = first + dt.timedelta(days=i)
            is_workday = calendar.is_workday(day)
            count += is_workday
            seq.append(count)
            workday.append(int(is_workday))
            if is_workday:
                days.append(i)
        return cls(first, offsets.pop(), seq, workday, days)

    @property
    def base_day(self) -> int:
        """``base`` as days since 1970-01-01."""
        return (self.base - dt.date(1970, 1, 1)).days

    def index(self, day: dt.date) -> int:
        return (day - self.base).days


# --- the reference data --------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    unit_id: int
    level: int
    co_units: tuple[int, ...]


@dataclass
class World:
    """Regions, units, categories, the 权责清单 and the staff, read in a few queries, and turned
    into the small lookup tables the SQL draws from."""

    places: list[dict[str, Any]] = field(default_factory=list)
    categories: dict[str, Category] = field(default_factory=dict)
    eligible: list[Category] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # The lead units by category and place, written once for each set of 权责清单 rules:
    # ``lead_category`` maps a category to the first category with the same rules, whose rows
    # of ``rule_leads`` it takes (``leads`` spells them out for every category).
    rule_leads: list[dict[str, Any]] = field(default_factory=list)
    lead_category: dict[int, int] = field(default_factory=dict)
    staff: list[dict[str, Any]] = field(default_factory=list)
    unit_names: dict[int, str] = field(default_factory=dict)
    handlers: dict[int, int] = field(default_factory=dict)
    accounts_created: int = 0

    @property
    def leads(self) -> list[dict[str, Any]]:
        """The lead units of every eligible category in every place (the rows of its rules)."""
        rows: dict[int, list[dict[str, Any]]] = {}
        for lead in self.rule_leads:
            rows.setdefault(lead["category_id"], []).append(lead)
        return [
            {**lead, "category_id": category.pk}
            for category in self.eligible
            for lead in rows.get(self.lead_category.get(category.pk, category.pk), [])
        ]

    @classmethod
    def load(cls) -> World:
        world = cls()
        world._load_places()
        world._load_categories()
        world._load_leads()
        world._ensure_handlers()
        world._load_staff()
        return world

    # -- places --------------------------------------------------------------------------

    def _load_places(self) -> None:
        regions = {
            pk: (name, level, path, point)
            for pk, name, level, path, *point in Region.objects.values_list(
                "pk", "name", "level", "path", "lat", "lng"
            )
        }
        self.region_paths = {pk: path for pk, (_n, _l, path, _p) in regions.items()}
        per_district: Counter[int] = Counter()
        for pk, (name, level, path, point) in sorted(regions.items()):
            ids = path_ids(path)
            if level != RegionLevel.COMMUNITY or len(ids) < 4:
                continue
            district_name = regions[ids[1]][0]
            slug = DISTRICT_SLUGS.get(district_name, "")
            # Pins round the community's point (代表点) where it has one.
            plat, plng = point
            lat, lng = (
                (float(plat), float(plng))
                if plat is not None and plng is not None
                else DISTRICT_CENTRES.get(slug, (36.62, 101.78))
            )
            per_district[ids[1]] += 1
            self.places.append(
                {
                    "region_id": pk,
                    "district_id": ids[1],
                    "street_id": ids[2],
                    "district_name": district_name,
                    "name": name,
                    "rural": name.endswith("村"),
                    "compound": COMPOUNDS[sum(map(ord, name)) % len(COMPOUNDS)],
                    "compound_b": name.removesuffix("社区") + "小区",
                    "lat": lat,
                    "lng": lng,
                }
            )
        if not self.places:
            raise CityError("No communities: the demo organisation is missing (seed_demo).")
        for place in self.places:
            weight = DISTRICT_WEIGHTS.get(place["district_name"], 0.1)
            # A fixed, name-derived spread so that some communities are busier than others.
            spread = 0.6 + (sum(map(ord, place["name"])) % 9) / 10
            place["weight"] = weight / per_district[place["district_id"]] * spread

    # -- categories ----------------------------------------------------------------------

    def _load_categories(self) -> None:
        self.categories = {c.code: c for c in Category.objects.filter(is_active=True)}
        wanted = {
            code for group in [*GROUPS, "heating"] for code in MEMBERS.get(group, {group: 1.0})
        }
        for code in sorted(wanted):
            category = self.categories.get(code)
            if category is None:
                self.skipped.append(f"{code} (not in the database)")
            elif self.mode(category) is None:
                self.skipped.append(f"{code} (its deadlines mix clock and working time)")
            else:
                self.eligible.append(category)
        if not self.eligible:
            raise CityError("No usable categories: the demo reference data is missing.")

    @staticmethod
    def mode(category: Category) -> str | None:
        """'clock' for urgent matters counted in clock time (heating, water, gas, power),
        'working' for the rest; None for a category whose units this generator cannot place."""
        units = {category.contact_unit, category.resolve_unit}
        if units <= CLOCK_UNITS and category.is_urgent:
            return "clock"
        if units | {category.complex_resolve_unit} <= WORKING_UNITS and not category.is_urgent:
            return "working"
        return None

    def category_slots(self) -> list[tuple[str, int, int]]:
        """(kind, slot, category id): 'heat' draws among the heating categories, 'city' and
        'village' among the others, each with its weights."""
        eligible = {c.code: c.pk for c in self.eligible}
        rows: list[tuple[str, int, int]] = []
        for kind in ("heat", "city", "village"):
            groups = (
                {"heating": 1.0}
                if kind == "heat"
                else {g: w[1 if kind == "village" else 0] for g, w in GROUPS.items()}
            )
            weights: dict[int, float] = {}
            for group, weight in groups.items():
                for code, share in MEMBERS.get(group, {group: 1.0}).items():
                    if code in eligible:
                        weights[eligible[code]] = weights.get(eligible[code], 0) + weight * share
            if not weights:  # no heating categories: the heating draw falls back to the city's
                continue
            rows.extend((kind, slot, pk) for slot, pk in enumerate(_slots(weights, SLOTS)))
        return rows

    def heating_eligible(self) -> bool:
        return any(code.startswith("heating") for code in (c.code for c in self.eligible))

    # -- who takes a case -----------------------------------------------------------------

    def _load_leads(self) -> None:
        units = list(
            Unit.objects.filter(is_active=True).values_list("pk", "name", "kind", "region_id")
        )
        self.unit_names = {pk: name for pk, name, _k, _r in units}
        by_kind_region: dict[tuple[str, int], int] = {}
        for pk, _name, kind, region_id in sorted(units):
            by_kind_region.setdefault((kind, region_id), pk)
        parents = dict(Category.objects.values_list("pk", "parent_id"))
        rules: dict[int, list[tuple[int, int, str, int | None, tuple[int, ...], int]]] = {}
        for rule in Responsibility.objects.prefetch_related("co_units").order_by("pk"):
            co = tuple(sorted(u.pk for u in rule.co_units.all() if u.is_active))
            rules.setdefault(rule.category_id, []).append(
                (rule.priority, rule.pk, rule.unit_kind, rule.unit_id, co, rule.region_level)
            )
        # Children without rows of their own share their parent's rules: their leads are the
        # same, so each set of rules is resolved once (and its rows written once).
        by_rules: dict[tuple[Any, ...], int] = {}
        for category in self.eligible:
            chain: list[int] = []
            current: int | None = category.pk
            while current is not None and current not in chain:
                chain.append(current)
                current = parents.get(current)
            ordered = sorted(
                ((chain.index(cat), rule) for cat in chain for rule in rules.get(cat, [])),
                key=lambda item: (item[0], item[1][0], item[1][1]),
            )
            same = tuple(rule for _index, rule in ordered)
            self.lead_category[category.pk] = by_rules.setdefault(same, category.pk)
            if by_rules[same] != category.pk:
                continue
            for place in self.places:
                ancestors = [int(p) for p in self.region_paths[place["region_id"]].split("/") if p]
                found = self._suggest(ordered, ancestors, place, by_kind_region)
                if not found:
                    continue
                office = by_kind_region.get((UnitKind.STREET_OFFICE, place["street_id"]))
                first = found[0]
                wrong = found[1].unit_id if len(found) > 1 else None
                if wrong is None and office is not None and office != first.unit_id:
                    wrong = office
                second = found[1] if len(found) > 1 else None
                self.rule_leads.append(
                    {
                        "category_id": category.pk,
                        "region_id": place["region_id"],
                        "level": first.level,
                        "lead1": first.unit_id,
                        "co1": list(first.co_units),
                        "lead2": second.unit_id if second else None,
                        "co2": list(second.co_units) if second else [],
                        "wrong1": wrong,
                    }
                )

    def _suggest(
        self,
        ordered: list[tuple[int, tuple[int, int, str, int | None, tuple[int, ...], int]]],
        ancestors: list[int],
        place: dict[str, Any],
        by_kind_region: dict[tuple[str, int], int],
    ) -> list[Suggestion]:
        """``cases.services.suggest_lead_units`` in memory (same rules, same order); with no
        rule the district government takes it, as in the demo cases."""
        found: list[Suggestion] = []
        seen: set[int] = set()
        for _index, (_prio, _pk, kind, unit_id, co, level) in ordered:
            unit = unit_id
            if unit is None and level - 1 < len(ancestors):
                unit = by_kind_region.get((kind, ancestors[level - 1]))
            if unit is None or unit not in self.unit_names or unit in seen:
                continue
            seen.add(unit)
            co_units = tuple(u for u in co if u in self.unit_names and u != unit)
            found.append(Suggestion(unit, level, co_units))
        if not found:
            gov = by_kind_region.get((UnitKind.PARTY_GOVERNMENT, place["district_id"]))
            if gov is not None:
                found.append(Suggestion(gov, RegionLevel.DISTRICT, ()))
        return found

    def _ensure_handlers(self) -> None:
        """Every unit a case may go to needs a 承办人 to sign, reply and return: units without
        one get a demo account ``handler_<unit code>``, as the demo cases give them."""
        needed = {
            unit
            for lead in self.rule_leads
            for unit in (lead["lead1"], lead["lead2"], lead["wrong1"])
            if unit is not None
        }
        have = dict(
            Membership.objects.filter(role=Role.HANDLER, unit_id__in=needed, user__is_active=True)
            .order_by("unit_id", "user_id")
            .values_list("unit_id", "user_id")
            .distinct("unit_id")
        )
        missing = sorted(needed - set(have))
        if missing:
            codes = dict(Unit.objects.filter(pk__in=missing).values_list("pk", "code"))
            accounts, self.accounts_created = create_handler_accounts(
                {unit: codes[unit] for unit in missing}
            )
            have.update(accounts)
        self.handlers = have

    def _load_staff(self) -> None:
        """The most local operator, dispatcher and supervisor who reach each community (and
        the dispatcher of its district, who dispatches): ``jurisdiction.may_act`` in memory."""
        posts = sorted(
            Membership.objects.filter(
                user__is_active=True,
                unit__is_active=True,
                role__in=[Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR],
            ).values_list("role", "user_id", "unit__region__path")
        )

        def reacher(role: str, region_id: int) -> int | None:
            path = self.region_paths[region_id]
            found = [(len(p), -u, u) for r, u, p in posts if r == role and path.startswith(p)]
            return max(found)[2] if found else None

        for place in self.places:
            region, district = place["region_id"], place["district_id"]
            self.staff.append(
                {
                    "region_id": region,
                    "operator": reacher(Role.OPERATOR, region),
                    "dispatcher": reacher(Role.DISPATCHER, region),
                    "district_dispatcher": reacher(Role.DISPATCHER, district),
                    "supervisor": reacher(Role.SUPERVISOR, region),
                }
            )

    def steer_category(self) -> int:
        """The category of the steered cases: an urgent one, whose clock-hour deadlines let a
        case reach each state within the ages in ``STEERED``."""
        clock = [c for c in self.eligible if self.mode(c) == "clock"]
        for code in ("heating-cold", "water-outage", "gas-outage", "power"):
            for category in clock:
                if category.code == code:
                    return category.pk
        return (clock or self.eligible)[0].pk


def _slots(weights: dict[int, float], slots: int) -> list[int]:
    """``slots`` keys, each key as often as its weight's share (largest remainder, at least
    once), so that a uniform draw of a slot is a weighted draw of a key."""
    total = sum(weights.values())
    exact = {k: slots * w / total for k, w in weights.items()}
    counts = {k: max(1, int(x)) for k, x in exact.items()}
    order = sorted(exact, key=lambda k: (int(exact[k]) - exact[k], k))
    i = 0
    while sum(counts.values()) < slots:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts.values()) > slots:
        biggest = max(counts, key=lambda k: (counts[k], -k))
        counts[biggest] -= 1
    return [k for k in sorted(counts) for _ in range(counts[k])]


# --- the plan: how many cases each day -----------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """How ``n`` cases spread over the days of ten years ending ``now`` (deterministic)."""

    now: dt.datetime
    first: dt.date
    counts: list[int]  # cases per day, oldest first
    heat: list[float]  # the heating weight of each day

    @classmethod
    def plan(cls, n: int, now: dt.datetime) -> Timeline:
        zone = timezone.get_default_timezone()
        local = timezone.localtime(now, zone)
        today = local.date()
        try:
            first = today.replace(year=today.year - YEARS) + dt.timedelta(days=1)
        except ValueError:  # 29 February
            first = today.replace(year=today.year - YEARS, day=28) + dt.timedelta(days=1)
        calendar = sla.WorkCalendar.load(first, today)
        base = sum(city for city, _village in GROUPS.values())
        days = (today - first).days + 1
        weights, heat = [], []
        for i in range(days):
            day = first + dt.timedelta(days=i)
            h = heating_weight(day)
            weight = (base + h) * GROWTH_PER_YEAR ** (i / 365.25)
            if not calendar.is_workday(day):
                weight *= DAY_OFF_WEIGHT
            if day == today:
                midnight = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
                weight *= (local - midnight) / dt.timedelta(days=1)
            weights.append(weight)
            heat.append(h)
        # Cumulative rounding: each day gets its expected share rounded, the fraction carried
        # to the next day, so the total is exactly n and small cities keep the shape too.
        total, running, done, counts = sum(weights), 0.0, 0, []
        for weight in weights:
            running += n * weight / total
            upto = min(n, round(running))
            counts.append(upto - done)
            done = upto
        counts[-1] += n - done
        return cls(now, first, counts, heat)

    def days_between(self, start: int, stop: int) -> Iterator[tuple[dt.date, int, int, float]]:
        """(day, first case index, last case index + 1, heating weight) of the days that the
        cases ``start .. stop - 1`` fall on."""
        g = 0
        for i, count in enumerate(self.counts):
            lo, hi = max(g, start), min(g + count, stop)
            if lo < hi:
                yield self.first + dt.timedelta(days=i), lo, hi, self.heat[i]
            g += count
            if g >= stop:
                return


# --- the builder ---------------------------------------------------------------------------------


@dataclass
class ChunkReport:
    cases: int = 0
    events: int = 0
    other_rows: int = 0  # evaluations, extension requests, 督办 orders, co-unit links
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per statement

    @property
    def rows(self) -> int:
        return self.cases + self.events + self.other_rows


@dataclass
class CityReport:
    target: int = 0
    start: int = 0
    chunks: list[ChunkReport] = field(default_factory=list)
    first_id: int | None = None
    last_id: int | None = None
    accounts_created: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0

    @property
    def cases(self) -> int:
        return sum(c.cases for c in self.chunks)

    @property
    def events(self) -> int:
        return sum(c.events for c in self.chunks)

    @property
    def rows(self) -> int:
        return sum(c.rows for c in self.chunks)

    def timings(self) -> dict[str, float]:
        """Seconds per statement over all chunks, slowest first."""
        total: Counter[str] = Counter()
        for chunk in self.chunks:
            total.update(chunk.timings)
        return dict(total.most_common())


Progress = Callable[[str], None]


@dataclass
class Turn:
    """One chunk's place in the line when chunks are written at once: it reserves its numbers
    after the chunk before it did, and commits after that chunk committed."""

    reserved: threading.Event = field(default_factory=threading.Event)
    committed: threading.Event = field(default_factory=threading.Event)
    after: Turn | None = None
    failed: threading.Event | None = None

    def wait(self, what: str) -> None:
        if self.after is not None:
            getattr(self.after, what).wait()
        if self.failed is not None and self.failed.is_set():
            raise CityError("an earlier chunk failed: this one is rolled back")


class CityBuilder:
    """Builds the city in chunks on the current PostgreSQL connection.

    ``prepare()`` loads the reference data and installs the session's helpers (temporary
    tables and functions); ``build()`` writes the cases ``start .. target - 1`` of the
    timeline; ``close()`` drops the helpers. Use it as a context manager.
    """

    def __init__(
        self,
        *,
        target: int,
        start: int = 0,
        chunk_size: int = 50_000,
        seed: int | None = None,
        now: dt.datetime | None = None,
        progress: Progress | None = None,
        workers: int = WORKERS,
    ) -> None:
        require_postgresql()
        self.target = target
        self.start = min(max(start, 0), target)
        self.chunk_size = max(1, chunk_size)
        self.seed = seed if seed is not None else int(time.time()) % 1_000_000
        self.now = (now or timezone.now()).replace(microsecond=0)
        self.progress = progress or (lambda _line: None)
        self.world: World | None = None
        self.skip_fk_checks = False
        self.workers = max(1, workers)
        self.session: list[tuple[str, list[Any] | None]] = []
        self.statements: list[tuple[str, str, str]] = []

    def __enter__(self) -> CityBuilder:
        self.prepare()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- set-up ------------------------------------------------------------------------------

    def prepare(self) -> None:
        if not Region.objects.filter(level=RegionLevel.COMMUNITY).exists() or not (
            Category.objects.exists()
        ):
            self.progress("reference data missing: seeding the demo organisation and categories")
            seed_organisation()
            seed_reference()
        # The demo topics (each found by its title): the 成效 path measures one of them.
        seed_topics()
        self.world = World.load()
        for skipped in self.world.skipped:
            self.progress(f"category left out: {skipped}")
        zone = timezone.get_default_timezone()
        today = timezone.localtime(self.now, zone).date()
        self.timeline = Timeline.plan(self.target, self.now)
        self.workdays = WorkDays.build(
            self.timeline.first - dt.timedelta(days=7), today + CALENDAR_AHEAD
        )
        with connection.cursor() as cursor:
            self.sequences = {}
            for table in ("cases_case", "cases_extensionrequest", "cases_supervisionorder"):
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                self.sequences[table] = cursor.fetchone()[0]
            self.session = list(city_sql.setup_statements(self._context(), self._tables()))
            self.install()
            if server_version() >= 150000:
                cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            else:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.skip_fk_checks = bool(cursor.fetchone()[0])
        self.statements = city_sql.chunk_statements(
            self._context(), skip_fk_checks=self.skip_fk_checks
        )
        if not self.skip_fk_checks:
            self.progress(
                "foreign keys are checked row by row: this role may not set "
                "session_replication_role (a superuser may), so the city is written slower"
            )

    def install(self) -> None:
        """The session's helpers (temporary tables and functions) on this thread's connection."""
        with connection.cursor() as cursor:
            # The plan table is read two dozen times a chunk: keep it in the session's memory.
            # (PostgreSQL refuses the change once the session has used a temporary table.)
            try:
                with transaction.atomic():
                    cursor.execute("SET temp_buffers = '256MB'")
            except DatabaseError:
                pass
            for statement, params in self.session:
                cursor.execute(statement, params)

    def close(self) -> None:
        with connection.cursor() as cursor:
            for statement in city_sql.teardown_statements():
                cursor.execute(statement)

    def _context(self) -> dict[str, Any]:
        """The constants the SQL is written with (see ``demo.city_sql``)."""
        zone = timezone.get_default_timezone()
        local_now = timezone.localtime(self.now, zone)
        midnight = dt.datetime.combine(local_now.date(), dt.time.min, tzinfo=zone)
        periods = [
            (p[0].hour * 3600 + p[0].minute * 60, p[1].hour * 3600 + p[1].minute * 60)
            for p in sla.WORKING_PERIODS
        ]
        if len(periods) != 2:
            raise CityError("The city's calendar arithmetic expects two office periods a day.")
        policy = settings.SUPERVISION
        offset = self.workdays.offset
        sign = "+" if offset >= 0 else "-"
        return {
            "now": int(self.now.timestamp()),
            "today_start": int(midnight.timestamp()),
            "today_dix": self.workdays.index(local_now.date()),
            "base_day": self.workdays.base_day,
            "off": offset,
            "off_text": f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}",
            "w": periods[0][1] - periods[0][0] + periods[1][1] - periods[1][0],
            "o1": periods[0][0],
            "l1": periods[0][1] - periods[0][0],
            "o2": periods[1][0],
            "l2": periods[1][1] - periods[1][0],
            "seed": self.seed,
            "share": float(policy["warning_share"]),
            "sign_s": int(policy["sign_hours"]) * 3600,
            "office_s": int(policy["office_after_hours"]) * 3600,
            "evaluate_s": int(policy["evaluate_days"]) * 86400,
            "reopen_days": workflow.REOPEN_RESOLVE_DAYS,
            "base_city": sum(city for city, _village in GROUPS.values()),
            "base_village": sum(village for _city, village in GROUPS.values()),
            "heating": self.world.heating_eligible() if self.world else False,
            "place_slots": PLACE_SLOTS,
            "seq": self.workdays.seq,
            "workday": self.workdays.workday,
            "days": self.workdays.days,
            "texts": TEXTS,
            "channels": CHANNELS,
            "ext_seq": self.sequences["cases_extensionrequest"],
            "order_seq": self.sequences["cases_supervisionorder"],
        }

    def _tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of the session's lookup tables."""
        world = self.world
        assert world is not None  # noqa: S101 - prepare() loads it first
        name = world.unit_names.get
        handler = world.handlers.get
        places = {p["region_id"]: p for p in world.places}
        weights = {p["region_id"]: p["weight"] for p in world.places}
        place_rows = [
            (
                slot,
                region,
                places[region]["district_id"],
                places[region]["street_id"],
                places[region]["rural"],
                places[region]["name"],
                places[region]["compound"],
                places[region]["compound_b"],
                places[region]["lat"],
                places[region]["lng"],
            )
            for slot, region in enumerate(_slots(weights, PLACE_SLOTS))
        ]
        hours = _slots(dict(enumerate(HOUR_WEIGHTS)), SLOTS)
        templates: list[tuple[Any, ...]] = []
        info: list[tuple[Any, ...]] = []
        for category in world.eligible:
            code = category.code
            group = GROUP_OF.get(code) or code.split("-")[0]
            own = TEMPLATES.get(code) or TEMPLATES["consult"]
            for i, (title, text) in enumerate(own):
                templates.append((category.pk, i, title, city_sql.placeholders(text)))
            complex_x = (category.complex_resolve_amount, category.complex_resolve_unit)
            info.append(
                (
                    category.pk,
                    world.lead_category.get(category.pk, category.pk),
                    code,
                    category.name,
                    World.mode(category) == "clock",
                    category.is_urgent,
                    category.accept_amount,
                    category.accept_unit,
                    category.contact_amount,
                    category.contact_unit,
                    category.resolve_amount,
                    category.resolve_unit,
                    *complex_x,
                    COMPLEX_SHARE.get(code, 0.03),
                    code in CONSULTATIONS,
                    code in HARD,
                    REPLY_GROUP.get(code, "default"),
                    group in GRID_GROUPS,
                    len(own),
                )
            )
        leads = [
            (
                lead["category_id"],
                lead["region_id"],
                lead["level"],
                lead["lead1"],
                name(lead["lead1"]),
                handler(lead["lead1"]),
                json.dumps(lead["co1"]),
                json.dumps([name(u) for u in lead["co1"]], ensure_ascii=False),
                lead["lead2"],
                name(lead["lead2"]) if lead["lead2"] else None,
                handler(lead["lead2"]) if lead["lead2"] else None,
                json.dumps(lead["co2"]),
                json.dumps([name(u) for u in lead["co2"]], ensure_ascii=False),
                lead["wrong1"],
                name(lead["wrong1"]) if lead["wrong1"] else None,
                handler(lead["wrong1"]) if lead["wrong1"] else None,
            )
            for lead in world.rule_leads
        ]
        staff = [
            (
                s["region_id"],
                s["operator"],
                s["dispatcher"],
                s["district_dispatcher"],
                s["supervisor"],
            )
            for s in world.staff
        ]
        return {
            "xn_place": place_rows,
            "xn_hour": list(enumerate(hours)),
            "xn_cat": world.category_slots(),
            "xn_catinfo": info,
            "xn_tpl": templates,
            "xn_lead": leads,
            "xn_staff": staff,
        }

    # -- the chunks ---------------------------------------------------------------------------

    def chunks(self) -> Iterator[tuple[int, int]]:
        for lo in range(self.start, self.target, self.chunk_size):
            yield lo, min(lo + self.chunk_size, self.target)

    def build(self) -> CityReport:
        assert self.world is not None, "prepare() first"  # noqa: S101
        started = time.perf_counter()
        report = CityReport(
            target=self.target, start=self.start, accounts_created=self.world.accounts_created
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM cases_case")
            before = cursor.fetchone()[0]
        chunks = list(self.chunks())
        # Other connections cannot see the rows of a transaction still open here (a test's),
        # nor could this one commit a chunk inside it: there the chunks are written one by one.
        workers = 1 if connection.in_atomic_block else min(self.workers, len(chunks))
        if workers > 1:
            done = self._build_parallel(chunks, workers)
        else:
            done = (self.chunk(lo, hi) for lo, hi in chunks)
        for (_lo, hi), chunk in zip(chunks, done, strict=True):
            report.chunks.append(chunk)
            self.progress(self._progress_line(report, chunk, hi, time.perf_counter() - started))
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM cases_case WHERE id > %s", [before])
            last = cursor.fetchone()[0]
        if last is not None:
            report.first_id, report.last_id = before + 1, last
        report.seconds = time.perf_counter() - started
        return report

    def _build_parallel(
        self, chunks: list[tuple[int, int]], workers: int
    ) -> Iterator[ChunkReport]:
        """The chunks on ``workers`` threads, each with its own connection and session helpers,
        chunk ``k`` on thread ``k mod workers``; yields the reports in the order of the chunks.

        The chunks commit in their order (``Turn``), so the cases in the database are always a
        prefix of the timeline and ``--resume`` (which counts them) continues where a stopped
        run left off."""
        turns = [Turn() for _chunk in chunks]
        results: list[ChunkReport | None] = [None] * len(chunks)
        errors: list[BaseException] = []
        failed = threading.Event()

        def work(first: int) -> None:
            try:
                self.install()
                for k in range(first, len(chunks), workers):
                    if failed.is_set():
                        return
                    turn = turns[k]
                    turn.after, turn.failed = (turns[k - 1] if k else None), failed
                    try:
                        results[k] = self.chunk(*chunks[k], turn=turn)
                    except BaseException:
                        failed.set()  # before the chunk after this one is woken to commit
                        raise
                    finally:
                        turn.reserved.set()
                        turn.committed.set()
            except BaseException as error:  # handed to the main thread
                errors.append(error)
                failed.set()
            finally:
                for turn in turns[first::workers]:  # wake whoever waits on a chunk not run
                    turn.reserved.set()
                    turn.committed.set()
                connection.close()

        threads = [
            threading.Thread(target=work, args=(i,), name=f"city-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in threads:
            thread.start()
        try:
            for k, turn in enumerate(turns):
                turn.committed.wait()
                result = results[k]
                if result is None:
                    break
                yield result
        finally:
            failed.set()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]

    def reserve(self, lo: int, hi: int) -> tuple[dict[dt.date, int], int]:
        """Reserve the tracking numbers and case ids of the cases ``lo .. hi - 1``, in a short
        transaction of their own: (the number each day had before the chunk, the first id).

        The days come from the timeline (a steered case is submitted ``age`` before now, on
        the day that falls on); ``chunk`` checks that the plan made as many cases."""
        counts: Counter[dt.date] = Counter()
        days = list(self.timeline.days_between(lo, hi))
        for day, g0, g1, _heat in days:
            counts[day] += g1 - g0
        zone = timezone.get_default_timezone()
        for g, _status, age in self._steered(lo, hi):
            day = next(d for d, g0, g1, _heat in days if g0 <= g < g1)
            counts[day] -= 1
            counts[timezone.localtime(self.now - dt.timedelta(seconds=age), zone).date()] += 1
        wanted = sorted((day, n) for day, n in counts.items() if n)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                city_sql.RESERVE, [[day for day, _n in wanted], [n for _day, n in wanted]]
            )
            bases = {day: last - counts[day] for day, last in cursor.fetchall()}
            # A block of ids: the cases of the chunk get them in the order they were submitted.
            cursor.execute(
                "SELECT setval(%s::regclass, nextval(%s::regclass) + %s - 1)",
                [self.sequences["cases_case"], self.sequences["cases_case"], hi - lo],
            )
            id0 = cursor.fetchone()[0] - (hi - lo) + 1
        return bases, id0

    def chunk(self, lo: int, hi: int, *, turn: Turn | None = None) -> ChunkReport:
        """Write the cases ``lo .. hi - 1`` of the timeline, with everything they imply, in one
        transaction (``turn``: when written beside other chunks, the chunk before this one)."""
        started = time.perf_counter()
        if turn is not None:
            turn.wait("reserved")
        try:
            bases, id0 = self.reserve(lo, hi)
        finally:
            if turn is not None:
                turn.reserved.set()
        days = list(self.timeline.days_between(lo, hi))
        steer = self._steered(lo, hi)
        params: dict[str, Any] = {
            "dix": [self.workdays.index(day) for day, _lo, _hi, _heat in days],
            "g0": [g0 for _day, g0, _hi, _heat in days],
            "g1": [g1 for _day, _lo, g1, _heat in days],
            "heat": [heat for _day, _lo, _hi, heat in days],
            "steer_g": [g for g, _status, _age in steer],
            "steer_status": [status for _g, status, _age in steer],
            "steer_age": [age for _g, _status, age in steer],
            "steer_cat": self.world.steer_category() if self.world else None,
            "seq_day": list(bases),
            "seq_base": list(bases.values()),
            "id0": id0,
        }
        report = ChunkReport()
        with transaction.atomic(), connection.cursor() as cursor:
            for label, kind, statement in self.statements:
                began = time.perf_counter()
                cursor.execute(statement, params)
                report.timings[label] = report.timings.get(label, 0.0) + (
                    time.perf_counter() - began
                )
                if kind == "cases":
                    report.cases += cursor.rowcount
                elif kind == "events":
                    report.events += cursor.rowcount
                elif kind == "rows":
                    report.other_rows += cursor.rowcount
            if report.cases != hi - lo:
                raise CityError(
                    f"the chunk {lo:,} .. {hi:,} made {report.cases:,} cases, not {hi - lo:,}: "
                    "the tracking numbers reserved for it do not match its days"
                )
            if turn is not None:
                turn.wait("committed")
        report.seconds = time.perf_counter() - started
        return report

    def _steered(self, lo: int, hi: int) -> list[tuple[int, str, int]]:
        """(case index, status, age in seconds) of the steered cases in this chunk: the last
        cases of the timeline, one per open status."""
        n = min(len(STEERED), self.target)
        first = self.target - n
        return [
            (first + i, str(status), int(age.total_seconds()))
            for i, (status, age) in enumerate(STEERED[:n])
            if lo <= first + i < hi
        ]

    def _progress_line(
        self, report: CityReport, chunk: ChunkReport, done: int, elapsed: float
    ) -> str:
        made = done - self.start
        todo = self.target - self.start
        rate = report.rows / elapsed if elapsed else 0.0
        left = (todo - made) * elapsed / made if made else 0.0
        width = 24
        filled = int(width * made / todo) if todo else width
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.target:,} cases, "
            f"{report.events:,} events · {rate:,.0f} rows/s "
            f"(this chunk {chunk.rows / chunk.seconds if chunk.seconds else 0:,.0f} rows/s) · "
            f"{elapsed:,.0f} s, about {left:,.0f} s left"
        )

    def analyze(self) -> None:
        from cases.models import CaseEvent, Evaluation, ExtensionRequest, SupervisionOrder

        analyze(Case, CaseEvent, Evaluation, ExtensionRequest, SupervisionOrder)


# --- indexes: built once after a large load instead of row by row during it ----------------------

# The tables the city writes. Their primary keys and unique indexes stay (they keep tracking
# codes and evaluation rounds unique while the city is written); the other indexes (two dozen
# on the cases, among them the two trigram indexes, six on the events) are dropped before a
# large load and built again after it, sorted, in a fraction of the time.
LOAD_TABLES = (
    "cases_case",
    "cases_caseevent",
    "cases_evaluation",
    "cases_extensionrequest",
    "cases_supervisionorder",
    "cases_case_co_units",
)
SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relname = ANY(%s) AND c.relpersistence = 'p'
  AND NOT i.indisprimary AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname, 1
"""


def defer_indexes() -> int:
    """Drop the secondary indexes of ``LOAD_TABLES``, each recorded (``DeferredIndex``) in the
    same transaction that drops it. Returns how many were dropped."""
    from .models import DeferredIndex

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SECONDARY_INDEXES, [list(LOAD_TABLES)])
        rows = cursor.fetchall()
        now = timezone.now()
        DeferredIndex.objects.bulk_create(
            [DeferredIndex(name=n, table=t, definition=d, dropped_at=now) for n, t, d in rows],
            ignore_conflicts=True,
        )
        for name, _table, _definition in rows:
            # ``name`` is regclass text: already quoted and qualified as the catalog needs.
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    return len(rows)


def restore_indexes(progress: Progress, *, workers: int = WORKERS) -> float:
    """Build every index ``defer_indexes`` dropped (and a crashed run left dropped), each in
    its own transaction, with the memory a sorted build can use, ``workers`` at a time on
    connections of their own (the slowest first: GIN and GiST builds, which PostgreSQL does
    not parallelise, then the biggest tables). Returns the seconds it took."""
    from .models import DeferredIndex

    started = time.perf_counter()
    pending = list(DeferredIndex.objects.order_by("table", "name"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)",
            [list(LOAD_TABLES)],
        )
        sizes = dict(cursor.fetchall())
    pending.sort(
        key=lambda index: (
            " USING btree " in index.definition,
            -sizes.get(index.table, 0),
            index.table,
            index.name,
        )
    )
    # Inside a transaction (a test's) other connections would not see the rows to index.
    workers = 1 if connection.in_atomic_block else max(1, min(workers, len(pending)))
    queue = list(reversed(pending))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def build() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            if workers > 1:
                # The builds share the cores: each one its own, no parallel workers on top.
                cursor.execute("SET max_parallel_maintenance_workers = 0")
            while not errors:
                with lock:
                    if not queue:
                        break
                    index = queue.pop()
                began = time.perf_counter()
                definition = index.definition.replace(
                    "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1
                )
                with transaction.atomic():
                    cursor.execute(definition)
                    DeferredIndex.objects.filter(pk=index.pk).delete()
                took = time.perf_counter() - began
                progress(f"indexes: {index.name} on {index.table} built in {took:.1f} s")
            cursor.execute("RESET maintenance_work_mem")
            cursor.execute("RESET max_parallel_maintenance_workers")

    def work() -> None:
        try:
            build()
        except BaseException as error:  # handed to the calling thread
            errors.append(error)
        finally:
            connection.close()

    if workers == 1:
        build()
    else:
        threads = [threading.Thread(target=work, daemon=True) for _i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    return time.perf_counter() - started


def deferred_indexes() -> int:
    from .models import DeferredIndex

    return DeferredIndex.objects.count()


def orphans(first_id: int, last_id: int) -> dict[str, int]:
    """Rows of the cases ``first_id .. last_id`` (and of their events and the rest) that refer
    to a row that does not exist, what the foreign keys would have refused: all zero when the
    city is sound. One index lookup per reference: for a sample or a small city."""
    with connection.cursor() as cursor:
        cursor.execute(city_sql.ORPHANS, {"lo": first_id, "hi": last_id})
        counts = cursor.fetchone()
    return dict(zip(city_sql.ORPHAN_TABLES, counts, strict=True))


# The demo vocabulary the SQL draws its free text from (one registry: demo.vocabulary; the
# complaints themselves are demo.catalogue's TEMPLATES, in the table xn_tpl).
TEXTS: dict[str, Any] = {
    "replies": REPLIES,
    "intake": INTAKE_REPLIES,
    "comments": COMMENTS,
    "reject_notes": REJECT_NOTES,
    "progress_text": [text for text, _public in PROGRESS_NOTES],
    "progress_public": [public for _text, public in PROGRESS_NOTES],
    "extension": EXTENSION_REASONS,
    "return": RETURN_REASONS,
    "supervision": SUPERVISION_NOTES,
    "reopen": REOPEN_REASONS,
    "prefixes": MOBILE_PREFIXES,
    "times": list(TIMES_OF_DAY),
    "roads": list(ROADS),
    "money": list(MONEY),
    "surnames": SURNAMES,
}
