"""The complaints behind the demo's 不动产登记 topic, so that its page shows an effect (成效).

The demo topic was adopted on 2023-09-05, long before the generated year (``demo.history``),
so its windows would be empty. ``seed_topic_history()`` writes the property-certificate
complaints of 城东区 around that day with the same generator, walked through the same steps:

* the year before: about ``BASE`` a week (the reference the test compares with);
* the ``RISING_WEEKS`` weeks before adoption: ``PEAK`` a week (why the committee took it up);
* since adoption: falling over ``FALL_WEEKS`` weeks to ``AFTER`` a week, for a year.

Idempotent: it writes nothing when the district already has such complaints before the topic.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.models import Case, Category
from org.models import Region, RegionLevel
from topics.models import Topic

from .history import GenerateReport, Generator, run
from .history_world import Place
from .topics import PROPERTY_TITLE

DISTRICT = "城东区"
CODES = {"real-estate-legacy": 0.7, "real-estate-transfer": 0.2, "real-estate": 0.1}
BASE, PEAK, AFTER = 6.0, 9.0, 2.0
RISING_WEEKS, FALL_WEEKS, SINCE_WEEKS, YEAR_DAYS = 12, 8, 52, 364


def weekly_rate(day: dt.date, adopted: dt.date) -> float:
    """Complaints a week on ``day`` (see the module docstring)."""
    weeks = (day - adopted).days / 7
    if weeks < -RISING_WEEKS:
        return BASE
    if weeks < 0:
        return PEAK
    if weeks < FALL_WEEKS:
        return PEAK + (AFTER - PEAK) * weeks / FALL_WEEKS
    return AFTER


class TopicHistory(Generator):
    """``demo.history.Generator`` over the topic's days, its district and its categories."""

    def __init__(self, adopted: dt.date, district: Region, seed: int, now: dt.datetime) -> None:
        self.adopted = adopted
        self.days_ = [
            adopted - dt.timedelta(days=YEAR_DAYS + 7 * RISING_WEEKS) + dt.timedelta(days=i)
            for i in range(YEAR_DAYS + 7 * RISING_WEEKS + 7 * SINCE_WEEKS)
        ]
        n = round(sum(weekly_rate(d, adopted) / 7 for d in self.days_))
        super().__init__(n, seed, now, batch_size=1000)
        self.first_day = self.days_[0]
        self.cal = type(self.cal).load(self.first_day, self.today)
        self.places_ = [p for p in self.world.places if p.district_id == district.pk]
        codes = [c for c in CODES if c in self.world.categories]
        self.codes_ = codes, [CODES[c] for c in codes]

    def day_counts(self) -> list[int]:
        """Whole complaints per day: the running total of the weekly rate, rounded."""
        counts, total, given = [], 0.0, 0
        for day in self.days_:
            total += weekly_rate(day, self.adopted) / 7
            counts.append(round(total) - given)
            given += counts[-1]
        return counts

    def steered(self, counts: list[int]) -> dict[int, str]:
        return {}  # long closed: no case is steered into an open state

    def pick_place(self) -> Place:
        return self.places_[self.rng.randrange(len(self.places_))]

    def pick_code(self, day: dt.date, place: Place) -> str:
        codes, weights = self.codes_
        return self.rng.choices(codes, weights)[0]


def seed_topic_history(seed: int = 20230905) -> GenerateReport:
    """Write the topic's complaints once (see the module docstring)."""
    report = GenerateReport()
    topic = Topic.objects.filter(title=PROPERTY_TITLE).first()
    district = Region.objects.filter(name=DISTRICT, level=RegionLevel.DISTRICT).first()
    if topic is None or topic.adopted_on is None or district is None:
        return report
    categories = Category.objects.filter(code__in=CODES)
    already = Case.objects.filter(
        district=district,
        category__in=categories,
        created_at__lt=timezone.make_aware(dt.datetime.combine(topic.adopted_on, dt.time.min)),
    )
    if already.exists():
        return report
    generator = TopicHistory(topic.adopted_on, district, seed, timezone.now())
    if not generator.places_ or not generator.codes_[0]:
        return report
    run(generator, report)
    return report
