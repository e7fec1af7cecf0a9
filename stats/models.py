"""报 (reporting): the statistics rollup, its narrow projections, the exports and the bulletin.

The rollup (``CaseDayStat``, ``CaseMonthStat``) holds the counters of the case events per day ×
since × community × category × unit; ``stats.rollup`` folds the events into it and
``stats.rebuild`` rebuilds it set-based. The models came from ``cases`` and keep their tables
(``Meta.db_table``, migration ``stats.0003``): a rename would buy only a prettier name, while the
SQL rebuild's table swap, the replica and any report query written against the old names would
all have to follow it.

Projections: at ten million cases the wide table has some sixteen thousand rows a day, and a
trend over a year would sum six million of them. Each projection table holds the same counters
summed over fewer dimensions: per district, per street, per unit, per district × category and per
street × category. A dashboard that groups and filters only by those dimensions reads the
narrowest table that has them (``stats.projections.narrowest``) and gets the same sums, because a
sum over a projection's rows is a sum over the wide rows they were summed from. Everything else
(a community filter, a handler's units together with districts …) still reads the wide table.

Every projection comes as a day table and a month table, keyed like the rollup (``day``,
``since``, then its dimensions), with the same rule for a period: a row counts in [from, to]
when ``since >= from`` and ``day <= to``. They are kept in step with the rollup in the same
transaction: the incremental fold adds to them (``stats.projections.fold``, called by
``stats.rollup``) and the set-based rebuild builds them from the same staged rows
(``stats.rebuild``). The foreign keys have no index of their own: every read goes by the
(day, since, …) key, and an index per key column would only slow the rebuild (deleting a
region, category or unit, which they protect, scans these tables instead). ``district`` on a
street table is the street's district when the row was
first written (as the rollup's own ``street`` and ``district`` columns): it is carried, not a
key.

Exports (``ExportJob``) and the monthly bulletin (``Bulletin``, 月通报) are 报 too; they came
from ``topics`` and keep their tables the same way.

Over 500 lines on purpose: the wide rollup and its ten projections share one counters base and
one period rule; kept together, a change to a counter is seen in every table it reaches.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Category
from org.models import Region, Unit

# --- the counters ----------------------------------------------------------------------------


class Counters(models.Model):
    """The nine counters every rollup and projection row carries (see ``stats.rollup``)."""

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


# The counters' column names in the order the fold's vectors and the SQL rebuild use.
COUNTERS = (
    "created",
    "rejected",
    "dispatched",
    "responded",
    "replied",
    "resolved",
    "evaluated",
    "satisfied",
    "closed",
)


# --- the rollup (stats.rollup keeps it up to date) -------------------------------------------


class RollupCounters(Counters):
    """The dimensions the rollup tables count by (the counters: ``Counters``).

    A row applies to a period [from, to] when ``since >= from`` and ``day <= to``. Ordinary
    rows have ``since == day``. A few rows have ``since`` earlier than ``day`` and usually hold
    negative counters. They correct what a plain sum would count twice, for example a case
    dispatched twice in one period, or a response counted only when its dispatch also falls in
    the period. This keeps the sums equal to ``stats.rates.compute_rates`` for any period of
    whole days (see ``stats.rollup``).

    ``unit_key`` is the unit id, or 0 for no unit. It is in the unique key because a nullable
    column in a unique constraint lets NULLs repeat on SQLite and before PostgreSQL 15
    (``nulls_distinct`` works only on 15+). The additive upsert's ON CONFLICT target must be
    the same on both databases. ``unit`` is the same value as a real foreign key, for joins.
    """

    region = models.ForeignKey(
        Region, verbose_name=_("社区/村"), on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised ancestors of ``region`` (as on Case): group and filter without a join.
    street = models.ForeignKey(
        Region, verbose_name=_("街道/乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Region, verbose_name=_("区/县"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("承办单位"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    unit_key = models.BigIntegerField(_("单位键"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.region_id}/{self.category_id}/{self.unit_key}"  # type: ignore[attr-defined]


class CaseDayStat(RollupCounters):
    """Counters of one day × community × category × unit, folded from the ``CaseEvent`` rows.
    The dashboards read these rows (and ``CaseMonthStat``) and never group the cases table."""

    day = models.DateField(_("日期"))
    since = models.DateField(_("起算日期"))

    class Meta:
        db_table = "cases_casedaystat"  # from cases (migration 0003): the table kept its name
        verbose_name = _("诉求日统计")
        verbose_name_plural = _("诉求日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "since", "region", "category", "unit_key"],
                name="case_day_stat_key",
            )
        ]
        indexes = [
            models.Index(fields=["day", "district"], name="case_day_stat_day_district"),
            models.Index(fields=["day", "street"], name="case_day_stat_day_street"),
            models.Index(fields=["day", "unit_key"], name="case_day_stat_day_unit"),
            models.Index(fields=["district", "day"], name="case_day_stat_district_day"),
            models.Index(fields=["street", "day"], name="case_day_stat_street_day"),
            # The leading edge of a period that starts mid-month (a dashboard ``Period``).
            models.Index(fields=["since"], name="case_day_stat_since"),
        ]


class CaseMonthStat(RollupCounters):
    """``CaseDayStat`` summed per month: ``day`` and ``since`` are the first days of the months
    of the day rows. A period of whole months sums the same rows as over the day table with
    ``since >= first month`` and ``day <= last month``, and a year reads about a twentieth of
    the rows. The refresh writes both tables in the same transaction."""

    day = models.DateField(_("月份"))
    since = models.DateField(_("起算月份"))

    class Meta:
        db_table = "cases_casemonthstat"  # from cases (migration 0003): the table kept its name
        verbose_name = _("诉求月统计")
        verbose_name_plural = _("诉求月统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "since", "region", "category", "unit_key"],
                name="case_month_stat_key",
            )
        ]
        indexes = [
            models.Index(fields=["district", "day"], name="case_month_stat_district_day"),
            models.Index(fields=["street", "day"], name="case_month_stat_street_day"),
            models.Index(fields=["unit_key", "day"], name="case_month_stat_unit_day"),
        ]


class RollupState(models.Model):
    """The one row (pk=1) that says how far ``CaseDayStat`` has folded the events.

    Every event with ``id <= last_event_id`` is folded, except the ids in ``gaps``. Gaps are
    id ranges ``[low, high, first_seen]`` that were not visible at a fold, because a
    transaction still held them open or rolled back. They are checked again until they expire.
    Refreshes lock this row, so no event is folded twice.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cases_rollupstate"  # from cases (migration 0003): the table kept its name
        verbose_name = _("统计汇总进度")
        verbose_name_plural = _("统计汇总进度")

    def __str__(self) -> str:
        return f"rollup @ {self.last_event_id}"


class RollupCase(models.Model):
    """The category a case's counters were folded under. When the case is recategorised, the
    next fold takes its counters out of that category and puts them under the new one."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "cases_rollupcase"  # from cases (migration 0003): the table kept its name
        verbose_name = _("统计汇总诉求")
        verbose_name_plural = _("统计汇总诉求")

    def __str__(self) -> str:
        return f"{self.case_id} → {self.category_id}"


# --- projections -----------------------------------------------------------------------------


class ProjectionCounters(Counters):
    """A projection's two dates (as on the rollup); its dimensions are on each table."""

    day = models.DateField(_("日期"))
    since = models.DateField(_("起算日期"))

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
        # A few categories over a stretch of days (a topic's 成效, ``stats.effect``).
        indexes = [models.Index(fields=["category", "day"], name="stats_district_cat_cat_day")]


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
        indexes = [models.Index(fields=["category", "day"], name="stats_street_cat_cat_day")]


class StreetCategoryMonthStat(ProjectionCounters):
    street = _street()
    district = _district()
    category = _category()

    class Meta:
        verbose_name = _("街道分类月统计")
        verbose_name_plural = _("街道分类月统计")
        constraints = _key("stats_street_category_month", "street", "category")


# --- 一次办结率 (stats.first_call keeps them with the rollup) -----------------------------------


class FirstCallCounts(models.Model):
    """Cases taken in at intake (受理 or 即时办结 events) and those answered on the spot
    (即时办结), on a day (or in a month: ``day`` is its first day) in a district."""

    day = models.DateField(_("日期"))
    district = _district()
    taken = models.IntegerField(_("受理"), default=0)
    at_intake = models.IntegerField(_("当场答复办结"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.day} {self.district_id}: {self.at_intake}/{self.taken}"  # type: ignore[attr-defined]


class OperatorFirstCall(FirstCallCounts):
    """Per day (or month) × district × the staff member who took the case in
    (``operator_key`` 0: none, as the rollup's ``unit_key``)."""

    operator_key = models.BigIntegerField(default=0)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接线员"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True


class CategoryFirstCall(FirstCallCounts):
    """Per day (or month) × district × the case's category when it was folded."""

    category = _category()

    class Meta:
        abstract = True


def _first_call_key(name: str, key: str) -> list[models.BaseConstraint]:
    return [models.UniqueConstraint(fields=["day", "district", key], name=name)]


class FirstCallOperatorDay(OperatorFirstCall):
    class Meta:
        verbose_name = _("一次办结日统计（接线员）")
        verbose_name_plural = _("一次办结日统计（接线员）")
        constraints = _first_call_key("first_call_operator_day_key", "operator_key")


class FirstCallOperatorMonth(OperatorFirstCall):
    class Meta:
        verbose_name = _("一次办结月统计（接线员）")
        verbose_name_plural = _("一次办结月统计（接线员）")
        constraints = _first_call_key("first_call_operator_month_key", "operator_key")


class FirstCallCategoryDay(CategoryFirstCall):
    class Meta:
        verbose_name = _("一次办结日统计（分类）")
        verbose_name_plural = _("一次办结日统计（分类）")
        constraints = _first_call_key("first_call_category_day_key", "category")


class FirstCallCategoryMonth(CategoryFirstCall):
    class Meta:
        verbose_name = _("一次办结月统计（分类）")
        verbose_name_plural = _("一次办结月统计（分类）")
        constraints = _first_call_key("first_call_category_month_key", "category")


# --- exports and the monthly bulletin (月通报) -----------------------------------------------


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class Bulletin(models.Model):
    """月通报: the monthly report on the topics, generated as a draft, edited and published."""

    month = models.DateField(_("月份"), unique=True, help_text=_("该月第一天。"))
    status = models.CharField(
        _("状态"), max_length=16, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), blank=True)
    # The tables behind the text (topics, indicators, case figures), for the Excel export.
    data = models.JSONField(default=dict, blank=True)
    generated_at = models.DateTimeField(_("生成时间"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "topics_bulletin"  # from topics (migration 0003): the table kept its name
        verbose_name = _("月通报")
        verbose_name_plural = _("月通报")
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.title


class BulletinEventType(models.TextChoices):
    EDIT = "edit", _("修改")
    PUBLISH = "publish", _("发布")


class BulletinEvent(models.Model):
    """One step of a bulletin (修改, 发布): who did it, from which state to which; append-only
    like ``CaseEvent`` and ``TopicEvent`` (a trigger refuses an UPDATE or DELETE, migration
    ``0005``).

    Written by ``stats.bulletins`` through the workflow kernel, like ``CaseEvent`` and
    ``TopicEvent``; neither of those fits, since each belongs to a case or a topic."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(_("类型"), max_length=24, choices=BulletinEventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(max_length=16, choices=BulletinStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=BulletinStatus.choices, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("月通报记录")
        verbose_name_plural = _("月通报记录")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["bulletin", "created_at"], name="bulletinevent_created"),
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id} {self.type}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


def export_path(instance: ExportJob, filename: str) -> str:
    # In the default storage (MEDIA_ROOT or the object store, never a public URL): served only to
    # the job's owner, by a view; purged after EXPORT_RETENTION_DAYS.
    return f"exports/{instance.user_id}/{instance.pk}-{filename}"


class ExportJob(models.Model):
    """A dashboard table exported in the background (``stats.exports.run_job``): the parameters
    as validated by the export API, the progress, and the workbook when it is done."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="export_jobs",
    )
    table = models.CharField(_("报表"), max_length=32)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    file = models.FileField(_("文件"), upload_to=export_path, max_length=255, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        db_table = "topics_exportjob"  # from topics (migration 0003): the table kept its name
        verbose_name = _("后台导出")
        verbose_name_plural = _("后台导出")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="export_user_created")]

    def __str__(self) -> str:
        return f"{self.table} #{self.pk} {self.status}"


# --- 日报 / 周报 (stats.reports) ----------------------------------------------------------------


class ReportKind(models.TextChoices):
    DAILY = "daily", _("日报")
    WEEKLY = "weekly", _("周报")


class CaseReport(models.Model):
    """报: the figures of one day (日报) or one ISO week (周报), written by beat the morning after
    and published to the committee and the units' leaders. Kept as generated: its overdue count
    is that morning's, which no later query could give again."""

    kind = models.CharField(_("类型"), max_length=8, choices=ReportKind.choices)
    start = models.DateField(_("起始日期"))
    end = models.DateField(_("截止日期"))
    data = models.JSONField(default=dict)
    generated_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("日报/周报")
        verbose_name_plural = _("日报/周报")
        ordering = ["-start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "start"], name="report_once_per_period"),
            models.CheckConstraint(
                condition=Q(end__gte=F("start")), name="report_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start}"

    def notification_label(self) -> str:
        """The report as the inbox names it (``notifications.subjects.Subject``)."""
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d}"
