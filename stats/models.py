"""报: narrow projections of the statistics rollup, so that a dashboard reads few rows.

``cases.CaseDayStat`` has one row per day × since × community × category × unit; at ten million
cases that is some sixteen thousand rows a day, and a trend over a year would sum six million of
them. Each table here holds the same counters summed over fewer dimensions: per district, per
street, per unit, per district × category and per street × category. A dashboard that groups
and filters only by those dimensions reads the narrowest table that has them
(``stats.projections.narrowest``) and gets the same sums, because a sum over a projection's
rows is a sum over the wide rows they were summed from. Everything else (a community filter, a
handler's units together with districts …) still reads the wide table.

Every projection comes as a day table and a month table, keyed like the rollup (``day``,
``since``, then its dimensions), with the same rule for a period: a row counts in [from, to]
when ``since >= from`` and ``day <= to``. They are kept in step with the rollup in the same
transaction: the incremental fold adds to them (``stats.projections.fold``, connected to
``cases.rollup.rollup_folded``) and the set-based rebuild builds them from the same staged rows
(``stats.rebuild``). The foreign keys have no index of their own: every read goes by the
(day, since, …) key, and an index per key column would only slow the rebuild (deleting a
region, category or unit, which they protect, scans these tables instead). ``district`` on a
street table is the street's district when the row was
first written (as the rollup's own ``street`` and ``district`` columns): it is carried, not a
key.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Category
from org.models import Region, Unit


class ProjectionCounters(models.Model):
    """The rollup's counters (``cases.models.RollupCounters``) and its two dates."""

    day = models.DateField(_("日期"))
    since = models.DateField(_("起算日期"))
    created = models.IntegerField(_("新增"), default=0)
    rejected = models.IntegerField(_("不予受理"), default=0)
    dispatched = models.IntegerField(_("派单"), default=0)
    responded = models.IntegerField(_("按时响应"), default=0)
    replied = models.IntegerField(_("答复"), default=0)
    resolved = models.IntegerField(_("解决"), default=0)
    evaluated = models.IntegerField(_("评价"), default=0)
    satisfied = models.IntegerField(_("满意"), default=0)
    closed = models.IntegerField(_("归档"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} since {self.since}"


def _district() -> models.ForeignKey:
    return models.ForeignKey(
        Region, verbose_name=_("区/县"), on_delete=models.PROTECT, related_name="+", db_index=False
    )


def _street() -> models.ForeignKey:
    return models.ForeignKey(
        Region,
        verbose_name=_("街道/乡镇"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


def _category() -> models.ForeignKey:
    return models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )


def _key(table: str, *fields: str) -> list[models.BaseConstraint]:
    return [models.UniqueConstraint(fields=["day", "since", *fields], name=f"{table}_key")]


# --- per district ----------------------------------------------------------------------------


class DistrictDayStat(ProjectionCounters):
    """Counters per day × since × district: the trends of the city and of a district."""

    district = _district()

    class Meta:
        verbose_name = _("区县日统计")
        verbose_name_plural = _("区县日统计")
        constraints = _key("stats_district_day", "district")


class DistrictMonthStat(ProjectionCounters):
    """``DistrictDayStat`` summed per month (``day``, ``since``: first days of months)."""

    district = _district()

    class Meta:
        verbose_name = _("区县月统计")
        verbose_name_plural = _("区县月统计")
        constraints = _key("stats_district_month", "district")


# --- per street ------------------------------------------------------------------------------


class StreetDayStat(ProjectionCounters):
    """Counters per day × since × street: rankings by street, a street's trend."""

    street = _street()
    district = _district()

    class Meta:
        verbose_name = _("街道日统计")
        verbose_name_plural = _("街道日统计")
        constraints = _key("stats_street_day", "street")


class StreetMonthStat(ProjectionCounters):
    street = _street()
    district = _district()

    class Meta:
        verbose_name = _("街道月统计")
        verbose_name_plural = _("街道月统计")
        constraints = _key("stats_street_month", "street")


# --- per unit --------------------------------------------------------------------------------


class UnitDayStat(ProjectionCounters):
    """Counters per day × since × unit (``unit_key`` 0: no unit, as on the rollup): rankings
    by unit and the monthly bulletin's worst units."""

    unit_key = models.BigIntegerField(_("单位键"), default=0)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("承办单位"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("单位日统计")
        verbose_name_plural = _("单位日统计")
        constraints = _key("stats_unit_day", "unit_key")


class UnitMonthStat(ProjectionCounters):
    unit_key = models.BigIntegerField(_("单位键"), default=0)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("承办单位"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("单位月统计")
        verbose_name_plural = _("单位月统计")
        constraints = _key("stats_unit_month", "unit_key")


# --- per district × category -----------------------------------------------------------------


class DistrictCategoryDayStat(ProjectionCounters):
    """Counters per day × since × district × category: the overview (totals, hot categories,
    districts) and the bulletin's top categories."""

    district = _district()
    category = _category()

    class Meta:
        verbose_name = _("区县分类日统计")
        verbose_name_plural = _("区县分类日统计")
        constraints = _key("stats_district_category_day", "district", "category")


class DistrictCategoryMonthStat(ProjectionCounters):
    district = _district()
    category = _category()

    class Meta:
        verbose_name = _("区县分类月统计")
        verbose_name_plural = _("区县分类月统计")
        constraints = _key("stats_district_category_month", "district", "category")


# --- per street × category -------------------------------------------------------------------


class StreetCategoryDayStat(ProjectionCounters):
    """Counters per day × since × street × category: the 未诉先办 candidates (category ×
    street clusters) and the overview of a street."""

    street = _street()
    district = _district()
    category = _category()

    class Meta:
        verbose_name = _("街道分类日统计")
        verbose_name_plural = _("街道分类日统计")
        constraints = _key("stats_street_category_day", "street", "category")


class StreetCategoryMonthStat(ProjectionCounters):
    street = _street()
    district = _district()
    category = _category()

    class Meta:
        verbose_name = _("街道分类月统计")
        verbose_name_plural = _("街道分类月统计")
        constraints = _key("stats_street_category_month", "street", "category")
