"""Believable demo cases (诉求) for a year of 有诉必应, in bulk: ``generate_cases(n)``.

The year and its batches are here; the walk of one case is ``demo.history_case``, the reference
data ``demo.history_world``, the inserts ``demo.history_writer``, the words ``demo.vocabulary``
and, for each category, ``demo.catalogue`` (what residents say about it, and how often).

Every case is simulated through the workflow's own steps (提交 → 受理 → 派单 → 签收 → 联系 →
答复 → 评价 → 归档, with 即时办结, 不予受理, 退回, 延期, 督办, 重办 and 督查研判 along the way)
and written the way ``cases.workflow`` writes it: the same case fields (deadlines from
``cases.sla`` with one ``WorkCalendar``, ``sign_by``/``warn_at``, timestamps), the same
``CaseEvent`` types, from/to statuses, payload keys, roles, actors and units, plus the
``Evaluation``, ``ExtensionRequest`` and ``SupervisionOrder`` rows and the co-unit links. The
rates in ``stats.rates`` are computed from those events, so the dashboards show believable
numbers. Supervision levels are what the scan (``cases.supervision``) would have left: it
raises a level when a deadline passes and never lowers it; dispatch, an approved extension and
重办 start afresh. Not written: the scan's reminder events and marks, notifications and the
outbox (nobody should get 100,000 text messages about last year).

The shape of the year
    Cases are spread over the 365 days up to ``now``, more on working days and in office
    hours, and many more in the heating season (供暖不热 dominates from November to March).
    Districts are weighted by population (城东/城中/城西/城北 heavier, 湟中 medium, 大通/湟源
    lighter); villages raise fewer property matters and more roads and water. Phone (12345)
    is the main channel. Lead units come from the 权责清单 exactly as
    ``services.suggest_lead_units`` resolves it, computed in memory.

States
    A case moves on while its next step falls before ``now``: old cases are almost all closed,
    recent ones are still being accepted, handled or evaluated. A handful of cases are steered
    into each open state and into 不予受理 so that even a small sample shows every state.

Performance
    One pass over the days in order, ``batch_size`` cases at a time, each batch written in one
    transaction with a fixed number of statements (``demo.history_writer``); nothing is
    queried per case (regions, units, responsibilities, accounts and the holiday calendar are
    loaded once).
    Memory stays bounded by the batch.

Over 500 lines on purpose: the year's shape (days, hours, places, categories) and the draft of
one case read the same generator state, and ``demo.topic_history`` overrides its choices
(``pick_place``, ``pick_code``, ``day_counts``); split, each override would reach across modules.

Tracking codes continue each local day's ``DailySequence``; every batch moves the sequences on
in its own transaction, so a later real submission never collides with a generated code, even
if a later batch fails.

Demo accounts: a handling step needs a 承办人 of the lead unit. Units that can be a lead unit
but have no handler account get one (``handler_<unit code>``, the demo password), so every
event has an actor the workflow would have let act.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import time as clock
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases import sla
from cases.models import (
    Case,
    CaseEvent,
    Channel,
    DailySequence,
    Evaluation,
    ExtensionRequest,
    Status,
    SupervisionOrder,
    Urgency,
)
from org.models import Role
from xining_issues.bulk import analyze

from .catalogue import (
    GAS_LEAK,
    GRID_CODES,
    GROUPS,
    MEMBERS,
    MONEY,
    RARE_EMERGENCIES,
    ROADS,
    TIMES_OF_DAY,
    compose,
)
from .geography import pin
from .history_case import CaseRow, CaseWalk, Draft
from .history_world import Place, World, cumulative, ensure_handlers
from .history_writer import EVALUATION_COLUMNS, EVENT_COLUMNS, Writer
from .vocabulary import (
    CHANNEL_CUM,
    CHANNEL_NAMES,
    COMPOUNDS,
    DISTRICT_CENTRES,
    HOUR_WEIGHTS,
    INDOOR_TEMPERATURES,
    MOBILE_PREFIXES,
    SURNAMES,
    heating_weight,
)

__all__ = ["GenerateReport", "generate_cases", "write_drafts"]

DAYS = 365

# A few cases are steered into these states (most recent first) so every state shows up;
# each is taken from the cases created about this long before ``now``.
STEERED: list[tuple[str, dt.timedelta]] = [
    (Status.SUBMITTED, dt.timedelta(hours=1)),
    (Status.ACCEPTED, dt.timedelta(hours=3)),
    (Status.DISPATCHED, dt.timedelta(hours=8)),
    (Status.REJECTED, dt.timedelta(days=1)),
    (Status.EVALUATED, dt.timedelta(days=2)),
    (Status.REPLIED, dt.timedelta(days=3)),
    (Status.HANDLING, dt.timedelta(days=5)),
    (Status.REVIEW, dt.timedelta(days=18)),
]


@dataclass
class GenerateReport:
    cases: int = 0
    events: int = 0
    evaluations: int = 0
    extension_requests: int = 0
    supervision_orders: int = 0
    co_unit_links: int = 0
    accounts_created: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


class Generator:
    def __init__(self, n: int, seed: int, now: dt.datetime, batch_size: int) -> None:
        self.n = n
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.zone = timezone.get_default_timezone()
        self.now = timezone.localtime(now, self.zone)
        self.batch_size = max(1, batch_size)
        self.world = World()
        self.today = self.now.date()
        self.first_day = self.today - dt.timedelta(days=DAYS - 1)
        self.cal = sla.WorkCalendar.load(self.first_day, self.today)
        self._reach: dict[tuple[str, int], list[int]] = {}
        self._places = {p.region_id: p for p in self.world.places}
        self._category_cum: dict[tuple[float, bool], tuple[list[str], list[float]]] = {}
        self.writer = Writer()
        policy = {
            "warning_share": 0.75,
            "sign_hours": 2,
            "office_after_hours": 72,
            "evaluate_days": 7,
            **getattr(settings, "SUPERVISION", {}),
        }
        self.warning_share = float(policy["warning_share"])
        self.sign_hours = int(policy["sign_hours"])
        self.office_after = dt.timedelta(hours=policy["office_after_hours"])
        self.evaluate_window = dt.timedelta(days=policy["evaluate_days"])

    # -- lookups ---------------------------------------------------------------------------

    def reachers(self, role: str, region_id: int) -> list[int]:
        key = (role, region_id)
        found = self._reach.get(key)
        if found is None:
            found = self._reach[key] = self.world.reachers(role, region_id)
        return found

    def operator_for(self, case: CaseRow) -> int | None:
        users = self.reachers(Role.OPERATOR, case.region_id)
        return users[0] if users else None

    def place_of(self, case: CaseRow) -> Place:
        return self._places[case.region_id]

    def awake(self, when: dt.datetime) -> dt.datetime:
        """``when`` if it falls between 08:00 and 21:00, else some time the next morning."""
        if 8 <= when.hour < 21:
            return when
        day = when.date() if when.hour < 8 else when.date() + dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time(8), tzinfo=self.zone)
        return start + dt.timedelta(minutes=self.rng.uniform(0, 240))

    def office(self, when: dt.datetime) -> dt.datetime:
        """``when`` if it falls in office hours on a working day, else a moment spread over
        the rest of that working day (or the next one)."""
        day, moment = when.date(), when.time()
        while True:
            if self.cal.is_workday(day):
                left = []
                for opens, closes in sla.WORKING_PERIODS:
                    if moment < closes:
                        if moment >= opens:
                            return when
                        start = dt.datetime.combine(day, opens, tzinfo=self.zone)
                        left.append((start, dt.datetime.combine(day, closes, tzinfo=self.zone)))
                if left:
                    spare = self.rng.random() * sum((b - a for a, b in left), dt.timedelta())
                    for start, end in left:
                        if spare < end - start:
                            return start + spare
                        spare -= end - start
                    return left[-1][0]
            day += dt.timedelta(days=1)
            moment = dt.time.min

    # -- the year --------------------------------------------------------------------------

    def day_weight(self, day: dt.date) -> float:
        base = sum(city for city, _village in GROUPS.values()) + heating_weight(day)
        weight = base * (1.0 if self.cal.is_workday(day) else 0.8)
        if day == self.today:
            midnight = dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)
            weight *= (self.now - midnight) / dt.timedelta(days=1)
        return weight

    def day_counts(self) -> list[int]:
        """Cases per day (oldest first): the share of each day's weight, remainders drawn."""
        days = [self.first_day + dt.timedelta(days=i) for i in range(DAYS)]
        weights = [self.day_weight(d) for d in days]
        total = sum(weights)
        exact = [self.n * w / total for w in weights]
        counts = [int(x) for x in exact]
        short = self.n - sum(counts)
        if short:
            remainders = [x - int(x) for x in exact]
            picked: set[int] = set()
            while len(picked) < short:
                picked.add(self.rng.choices(range(DAYS), remainders)[0])
            for i in picked:
                counts[i] += 1
        return counts

    def steered(self, counts: list[int]) -> dict[int, str]:
        """Case index → state, for the few cases steered into each open state."""
        starts = cumulative([float(c) for c in counts])
        used: set[int] = set()
        result: dict[int, str] = {}
        if self.n < len(STEERED) + 1:
            return result
        for status, age in STEERED:
            target = (timezone.localtime(self.now - age, self.zone).date() - self.first_day).days
            order = [target - k for k in range(DAYS)] + [target + k for k in range(1, DAYS)]
            for day in order:
                if not 0 <= day < DAYS or counts[day] == 0:
                    continue
                last = int(starts[day]) - 1
                first = last - counts[day] + 1
                free = [i for i in range(last, first - 1, -1) if i not in used]
                if free:
                    used.add(free[0])
                    result[free[0]] = status
                    break
        return result

    def times(self, day: dt.date, k: int) -> list[dt.datetime]:
        midnight = dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)
        limit = 24
        if day == self.today:
            limit = self.now.hour + 1
        hours = self.rng.choices(range(limit), HOUR_WEIGHTS[:limit], k=k)
        out = []
        for hour in hours:
            t = midnight + dt.timedelta(hours=hour, seconds=self.rng.uniform(0, 3600))
            if t >= self.now:
                t = self.now - (self.now - max(midnight, self.now - dt.timedelta(hours=1))) * (
                    self.rng.uniform(0.02, 1)
                )
            out.append(t.replace(microsecond=0))
        out.sort()
        return out

    def category_table(self, day: dt.date, rural: bool) -> tuple[list[str], list[float]]:
        heat = heating_weight(day)
        key = (heat, rural)
        table = self._category_cum.get(key)
        if table is None:
            codes: list[str] = []
            weights: list[float] = []
            groups = {**{g: w[1 if rural else 0] for g, w in GROUPS.items()}, "heating": heat}
            for group, weight in groups.items():
                for code, share in MEMBERS.get(group, {group: 1.0}).items():
                    if code in self.world.categories:
                        codes.append(code)
                        weights.append(weight * share)
            table = self._category_cum[key] = (codes, cumulative(weights))
        return table

    # -- one case --------------------------------------------------------------------------

    def pick(self, cum: list[float]) -> int:
        return bisect.bisect_right(cum, self.rng.random() * cum[-1])

    def pick_place(self) -> Place:
        world = self.world
        return world.places[min(self.pick(world.place_cum), len(world.places) - 1)]

    def pick_code(self, day: dt.date, place: Place) -> str:
        codes, cum = self.category_table(day, place.rural)
        return codes[min(self.pick(cum), len(codes) - 1)]

    def draft(self, created: dt.datetime, steer: str | None) -> Draft:
        rng, world = self.rng, self.world
        place = self.pick_place()
        code = self.pick_code(created.date(), place)
        category_id, _name, _parent = world.categories[code]
        category = world.category_rows[category_id]
        channel = CHANNEL_NAMES[min(self.pick(CHANNEL_CUM), len(CHANNEL_NAMES) - 1)]
        if channel == Channel.GRID and code not in GRID_CODES:
            channel = Channel.PHONE
        urgency = Urgency.NORMAL
        if code == GAS_LEAK:
            urgency = Urgency.EMERGENCY if rng.random() < 0.5 else Urgency.URGENT
        elif category.is_urgent and rng.random() < 0.3:
            urgency = Urgency.URGENT
        elif code in RARE_EMERGENCIES and rng.random() < 0.05:
            urgency = Urgency.EMERGENCY
        title, text = compose(code, rng, rural=place.rural)
        address = self.address(place)
        description = text.format(
            addr=f"{place.name}{address}",
            road=rng.choice(ROADS),
            temp=rng.choice(INDOOR_TEMPERATURES),
            days=rng.randint(2, 6),
            hours=rng.randint(3, 12),
            floor=rng.randint(5, 18),
            years=rng.randint(3, 10),
            time=rng.choice(TIMES_OF_DAY),
            money=rng.choice(MONEY),
        )
        resident = None
        if (
            channel in (Channel.WEB, Channel.MINI_PROGRAM)
            and world.residents
            and rng.random() < 0.004
        ):
            resident = rng.choice(world.residents)
        if resident is not None:
            name = resident[1] or f"{rng.choice(SURNAMES)}先生"
            phone = resident[2] or self.phone()
        else:
            name = rng.choice(SURNAMES) + ("先生" if rng.random() < 0.55 else "女士")
            phone = self.phone()
        lat = lng = None
        if channel in (Channel.MINI_PROGRAM, Channel.GRID) or (
            channel == Channel.WEB and rng.random() < 0.5
        ):
            # Round the community's point (a few hundred metres), else anywhere in the district.
            centre = place.point or DISTRICT_CENTRES.get(place.slug, (36.62, 101.78))
            reach = 0.004 if place.point else 0.03
            lat, lng = pin(
                place.slug,
                centre[0] + rng.uniform(-reach, reach),
                centre[1] + rng.uniform(-reach, reach) * 1.3,
            )
        case = CaseRow(
            category=category,
            channel=channel,
            category_id=category_id,
            region_id=place.region_id,
            district_id=place.district_id,
            street_id=place.street_id,
            dispatch_region_id=place.district_id,
            address=address,
            lat=lat,
            lng=lng,
            title=title,
            description=description,
            complainant_name=name,
            complainant_phone=phone,
            complainant_id=resident[0] if resident else None,
            hide_identity=rng.random() < 0.05,
            status=Status.SUBMITTED,
            urgency=urgency,
            accept_by=sla.accept_deadline(category, created, urgency=urgency, calendar=self.cal),
            created_at=created,
        )
        draft = Draft(case=case, day=created.date())
        CaseWalk(self, draft, steer).run()
        return draft

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def address(self, place: Place) -> str:
        rng = self.rng
        if place.rural:
            return f"{rng.randint(1, 8)}社{rng.randint(1, 120)}号"
        compound = COMPOUNDS[sum(map(ord, place.name)) % len(COMPOUNDS)]
        if rng.random() < 0.5:
            compound = place.name.removesuffix("社区") + "小区"
        return (
            f"{compound}{rng.randint(1, 30)}号楼{rng.randint(1, 4)}单元"
            f"{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
        )

    def drafts(self) -> Iterator[Draft]:
        counts = self.day_counts()
        steer = self.steered(counts)
        index = 0
        for offset, k in enumerate(counts):
            if not k:
                continue
            day = self.first_day + dt.timedelta(days=offset)
            for created in self.times(day, k):
                yield self.draft(created, steer.get(index))
                index += 1

    # -- writing ---------------------------------------------------------------------------

    def flush(self, drafts: list[Draft], report: GenerateReport) -> None:
        write_drafts(self.writer, drafts, report)


def write_drafts(writer: Writer, drafts: list[Draft], report: GenerateReport) -> None:
    """Write one batch in one transaction: cases, their requests and orders, events,
    evaluations, co-unit links, and the day sequences moved past the codes used (the year's
    batches and the archived real case, ``demo.archive``)."""
    with transaction.atomic():
        days = sorted({d.day for d in drafts})
        last = dict(
            DailySequence.objects.select_for_update()
            .filter(day__in=days)
            .values_list("day", "last")
        )
        for d in drafts:
            number = last.get(d.day, 0) + 1
            last[d.day] = number
            d.case.tracking_code = f"XN-{d.day:%Y%m%d}-{number:04d}"
        writer.insert_objects(Case, [d.case for d in drafts])
        extensions, orders = [], []
        for d in drafts:
            for obj in (*d.extensions, *d.orders):
                obj.case_id = d.case.pk
            extensions.extend(d.extensions)
            orders.extend(d.orders)
        writer.insert_objects(ExtensionRequest, extensions)
        writer.insert_objects(SupervisionOrder, orders)
        events, evaluations = [], []
        links: list[tuple[int | None, int]] = []
        for d in drafts:
            case_id = d.case.pk
            for kind, when, actor, unit, source, target, payload, public, patch in d.events:
                if patch is not None:
                    payload[patch[0]] = patch[1].pk
                events.append((case_id, kind, actor, unit, source, target, payload, public, when))
            for e in d.evaluations:
                evaluations.append(
                    (case_id, e.round, e.rating, e.comment, e.source, e.by_id, e.created_at)
                )
            links.extend((case_id, unit) for unit in d.co_units)
            report.statuses[d.case.status] += 1
        writer.insert_rows(CaseEvent, EVENT_COLUMNS, events)
        writer.insert_rows(Evaluation, EVALUATION_COLUMNS, evaluations)
        writer.insert_rows(Case.co_units.through, ("case_id", "unit_id"), links)
        DailySequence.objects.bulk_create(
            [DailySequence(day=day, last=last[day]) for day in days],
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=["last"],
        )
    report.cases += len(drafts)
    report.events += len(events)
    report.evaluations += len(evaluations)
    report.extension_requests += len(extensions)
    report.supervision_orders += len(orders)
    report.co_unit_links += len(links)


def generate_cases(
    n: int,
    *,
    seed: int = 20231019,
    now: dt.datetime | None = None,
    batch_size: int = 5000,
) -> GenerateReport:
    """Create ``n`` demo cases over the 12 months up to ``now`` (see the module docstring).

    Deterministic for a given seed, ``now`` and database. Each batch of ``batch_size`` cases is
    written in one transaction; the number of queries grows with the number of batches, not
    with the number of cases.
    """
    started = clock.perf_counter()
    report = GenerateReport()
    if n <= 0:
        return report
    if now is None:
        now = timezone.now()
    run(Generator(n, seed, now, batch_size), report)
    report.seconds = clock.perf_counter() - started
    return report


def run(generator: Generator, report: GenerateReport) -> None:
    """Write the generator's cases, ``batch_size`` at a time (and the handler accounts their
    steps need), into ``report``."""
    report.accounts_created = ensure_handlers(generator.world)
    batch: list[Draft] = []
    for draft in generator.drafts():
        batch.append(draft)
        if len(batch) >= generator.batch_size:
            generator.flush(batch, report)
            batch = []
    if batch:
        generator.flush(batch, report)
    analyze(Case, CaseEvent)
