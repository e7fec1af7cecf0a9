"""成效: did the complaints a 每月一题 topic was about fall after it was adopted?

A topic's **area** is its linked categories (with their subcategories) in its linked regions
(any level; none: the whole city). A topic linked to cases only takes the categories of those
cases. Its **windows**, in whole local days:

* before: the ``weeks`` weeks before the day the committee adopted it (``adopted_on``);
* since: from that day to today, at most ``MAX_SINCE_WEEKS`` weeks.

For each window: complaints received (the rollup's ``created``), complaints per week, the three
rates (响应率/解决率/满意率, the rollup's counters: what ``stats.rates.compute_rates`` finds
for the area's cases over the window) and the repeat complainants (people, by phone number,
with two or more of the area's complaints), plus the complaints week by week, counted from the
day of adoption. Repeat complainants are counted over windows of the same length on both sides
(the ``weeks`` before, and the first ``weeks`` since: ``repeat_end``), since people repeat more
over a longer time; that also bounds the one read of the cases table below.

**The test (stated on the page and in the API).** A fall after adoption may be only the season
(heating complaints fall every spring). So the change is compared with a reference that had no
topic:

1. the same weeks one year earlier (364 days, so that weekdays line up), when that year holds
   at least ``MIN_REFERENCE`` complaints in each window; else
2. the same categories in the rest of the city over the same weeks (when the topic has regions).

With a, b the complaints before and since, and c, d the reference's over windows of the same
lengths, the effect is the ratio of the two changes, E = (b/a) / (d/c), a difference in
differences on the log scale. Counts are taken as Poisson, so ln E has the standard error
√(1/a + 1/b + 1/c + 1/d) (0.5 added to each when one is zero). The verdict:

* ``fell`` (明显下降): the 95 % interval of E lies below 1;
* ``rose`` (明显上升): it lies above 1;
* ``unclear`` (变化不显著): it holds 1;
* ``too_early``: fewer than ``MIN_SINCE_DAYS`` days since adoption;
* ``insufficient``: fewer than ``MIN_COUNTED`` complaints before and since together, or no
  reference with enough complaints;
* ``not_adopted``: the topic has no adoption date; ``no_area``: no category to count.

Cost: the counts and rates read the rollup's street × category (or district × category)
projections by category and day (indexes ``*_category_day``), or the wide rollup for a topic
linked to communities: a few hundred rows per window, whatever the history. The repeat
complainants are the one figure the rollup cannot hold (it has no complainant); they are read
from the cases table by the (category, created_at) index, bounded by the area and the window.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from cases.models import Case, Category
from org.models import Region, RegionLevel, path_ids
from topics.models import Topic

from .dashboards import LEVEL_FIELD, Rows, grouped, totals, weights, with_rates
from .knowledge import start_of
from .models import COUNTERS

DEFAULT_WEEKS = 12
MAX_WEEKS = 52
MAX_SINCE_WEEKS = 52
MIN_SINCE_DAYS = 14
MIN_COUNTED = 10
MIN_REFERENCE = 5
YEAR = dt.timedelta(days=364)
Z95 = 1.959964


@dataclass(frozen=True)
class Area:
    """What a topic counts: categories (ids, with their subcategories) and where."""

    categories: tuple[int, ...]
    regions: tuple[Region, ...]
    names: dict[int, str]  # the categories' names

    def q(self) -> Q:
        """The rollup rows (or cases: the columns have the same names) of the area."""
        return Q(category_id__in=self.categories) & self.where()

    @property
    def citywide(self) -> bool:
        return not self.regions or any(not _region_q(r) for r in self.regions)

    def where(self) -> Q:
        if self.citywide:
            return Q()
        condition = Q(pk__in=[])
        for region in self.regions:
            condition |= _region_q(region)
        return condition

    def elsewhere(self) -> Q:
        """The same categories outside the topic's regions (only when it has regions)."""
        return Q(category_id__in=self.categories) & ~self.where()


def _region_q(region: Region) -> Q:
    """A region's rows by its own column and its ancestors' (a community's street and
    district), so that an index on a coarser column can narrow them."""
    ids = path_ids(region.path)
    levels = (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY)
    parts = {LEVEL_FIELD[level]: i for level, i in zip(levels, ids[1:], strict=False)}
    return Q(**parts) if parts else Q()


def area_of(topic: Topic) -> Area:
    """The topic's categories with their subcategories, or those of its linked cases."""
    chosen = set(topic.categories.values_list("pk", flat=True))
    if not chosen:
        chosen = set(topic.cases.values_list("category_id", flat=True).distinct())
    children: dict[int | None, list[int]] = {}
    names: dict[int, str] = {}
    for pk, parent, name in Category.objects.values_list("pk", "parent_id", "name"):
        children.setdefault(parent, []).append(pk)
        names[pk] = name
    found, todo = set(chosen), list(chosen)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    regions = tuple(topic.regions.only("pk", "path", "level").order_by("pk"))
    return Area(tuple(sorted(found)), regions, {pk: names[pk] for pk in found})


# --- the test --------------------------------------------------------------------------------


def effect_test(a: int, b: int, c: int, d: int) -> dict[str, float]:
    """E = (b/a) / (d/c) and its 95 % interval (see the module docstring)."""
    if 0 in (a, b, c, d):
        a, b, c, d = (x + 0.5 for x in (a, b, c, d))  # type: ignore[assignment]
    ratio = (b * c) / (a * d)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return {
        "ratio": round(ratio, 4),
        "low": round(ratio * math.exp(-Z95 * se), 4),
        "high": round(ratio * math.exp(Z95 * se), 4),
    }


def verdict(interval: dict[str, float]) -> str:
    if interval["high"] < 1:
        return "fell"
    if interval["low"] > 1:
        return "rose"
    return "unclear"


# --- the figures -----------------------------------------------------------------------------


def _days(start: dt.date, end: dt.date) -> int:
    return (end - start).days + 1


def _created_by_day(start: dt.date, end: dt.date, where: Q) -> dict[dt.date, int]:
    """Complaints received per day: ``created`` is counted on the day rows of its day only."""
    rows = grouped(Rows.of(start, end, months=False).filter(where), "day")
    return {r["day"]: int(r["created"] or 0) for r in rows if r["created"]}


def _sum(by_day: dict[dt.date, int], start: dt.date, end: dt.date) -> int:
    return sum(n for day, n in by_day.items() if start <= day <= end)


def _window(
    area: Area, start: dt.date, end: dt.date, created: int, repeat_days: int
) -> dict[str, Any]:
    """A window's figures; its repeat complainants over its first ``repeat_days`` days (the
    before window's length on both sides: people repeat more over a longer time)."""
    counts = totals(Rows.of(start, end).filter(area.q()))
    rated = with_rates(counts, weights())
    repeat_end = min(end, start + dt.timedelta(days=repeat_days - 1))
    cases = Case.objects.filter(
        area.q(),
        created_at__gte=start_of(start),
        created_at__lt=start_of(repeat_end, 1),
    )
    repeats = (
        cases.values("complainant_phone")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .aggregate(people=Count("complainant_phone"), cases=Sum("n"))
    )
    days = _days(start, end)
    return {
        "start": start,
        "end": end,
        "days": days,
        "created": created,
        "per_week": round(created * 7 / days, 2),
        **{name: rated[name] for name in COUNTERS if name not in ("created",)},
        "response_rate": rated["response_rate"],
        "resolution_rate": rated["resolution_rate"],
        "satisfaction_rate": rated["satisfaction_rate"],
        "repeat_complainants": int(repeats["people"] or 0),
        "repeat_cases": int(repeats["cases"] or 0),
        "repeat_end": repeat_end,
    }


def _reference(
    area: Area, before: tuple[dt.date, dt.date], since: tuple[dt.date, dt.date]
) -> dict[str, Any] | None:
    """The reference the change is compared with: last year's same weeks when they hold
    enough complaints, else the rest of the city (``None``: neither)."""
    (b0, b1), (s0, s1) = before, since
    last_year = _created_by_day(b0 - YEAR, s1 - YEAR, area.q())
    c, d = _sum(last_year, b0 - YEAR, b1 - YEAR), _sum(last_year, s0 - YEAR, s1 - YEAR)
    if min(c, d) >= MIN_REFERENCE:
        return {"kind": "last_year", "before": c, "since": d, "shift_days": YEAR.days}
    if not area.citywide:
        rest = _created_by_day(b0, s1, area.elsewhere())
        c, d = _sum(rest, b0, b1), _sum(rest, s0, s1)
        if min(c, d) >= MIN_REFERENCE:
            return {"kind": "elsewhere", "before": c, "since": d, "shift_days": 0}
    return None


def topic_effect(
    topic: Topic, *, weeks: int = DEFAULT_WEEKS, today: dt.date | None = None
) -> dict[str, Any]:
    """The topic's 成效 (see the module docstring): the windows, the weeks, the reference, the
    change and the verdict."""
    today = today or timezone.localdate()
    out: dict[str, Any] = {
        "topic": topic.pk,
        "adopted_on": topic.adopted_on,
        "weeks": weeks,
        "categories": [],
        "regions": [],
        "before": None,
        "since": None,
        "weekly": [],
        "reference": None,
        "change": None,
        "reference_change": None,
        "effect": None,
        "verdict": "not_adopted",
    }
    adopted = topic.adopted_on
    if adopted is None:
        return out
    area = area_of(topic)
    out["categories"] = [{"id": pk, "name": area.names[pk]} for pk in area.categories]
    out["regions"] = [{"id": r.pk, "name": r.name} for r in area.regions]
    if not area.categories:
        out["verdict"] = "no_area"
        return out
    before = (adopted - dt.timedelta(weeks=weeks), adopted - dt.timedelta(days=1))
    since_end = min(today, adopted + dt.timedelta(weeks=MAX_SINCE_WEEKS, days=-1))
    by_day = _created_by_day(before[0], max(since_end, before[1]), area.q())
    a = _sum(by_day, *before)
    out["before"] = _window(area, *before, created=a, repeat_days=_days(*before))
    out["weekly"] = _weekly(by_day, before[0], max(since_end, before[1]), adopted)
    if since_end < adopted:
        out["verdict"] = "too_early"
        return out
    since = (adopted, since_end)
    b = _sum(by_day, *since)
    out["since"] = _window(area, *since, created=b, repeat_days=_days(*before))
    if a:
        out["change"] = round((b / _days(*since)) / (a / _days(*before)) - 1, 4)
    if _days(*since) < MIN_SINCE_DAYS:
        out["verdict"] = "too_early"
        return out
    # The reference compares windows of the same lengths as the topic's own.
    reference = _reference(area, before, since)
    out["reference"] = reference
    if reference is None or a + b < MIN_COUNTED:
        out["verdict"] = "insufficient"
        return out
    c, d = reference["before"], reference["since"]
    out["reference_change"] = round((d / _days(*since)) / (c / _days(*before)) - 1, 4)
    out["effect"] = effect_test(a, b, c, d)
    out["verdict"] = verdict(out["effect"])
    return out


def _weekly(
    by_day: dict[dt.date, int], start: dt.date, end: dt.date, adopted: dt.date
) -> list[dict[str, Any]]:
    """Complaints per week, the weeks counted from the day of adoption (the last may be
    short: ``days`` says how long)."""
    out = []
    first = start
    while first <= end:
        last = min(first + dt.timedelta(days=6), end)
        out.append(
            {
                "start": first,
                "end": last,
                "days": _days(first, last),
                "created": _sum(by_day, first, last),
                "after": first >= adopted,
            }
        )
        first = last + dt.timedelta(days=1)
    return out
