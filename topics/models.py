"""每月一题 (one topic a month): the standing committee's monthly focus problems.

A ``Topic`` is taken up by the city party committee's standing committee (常委会), given a lead
unit (牵头单位) and cooperating units (配合单位), a city leader in charge (包案领导), measures with
deadlines planned backwards from the target date (``TopicTask``, 倒排工期), weekly follow-up by
the lead unit (``ProgressReport``, 周调度), indicators of target against actual (``Indicator``),
policy documents, and is finally ticked off (销号) or carried over to a later month.

Only the functions in ``topics.workflow`` change a topic's status or write its nested rows;
each writes one append-only ``TopicEvent``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from org.models import Region, Unit


class TopicTheme(models.TextChoices):
    """The ten themes the committee's topics are drawn from."""

    BASIC_SUPPORT = "basic_support", _("强化基础保障")
    SERVICE_PLATFORM = "service_platform", _("优化服务平台")
    CADRE_CARE = "cadre_care", _("关心关爱基层干部")
    BURDEN_REDUCTION = "burden_reduction", _("推进基层减负")
    RESPONSIBILITY_LIST = "responsibility_list", _("完善权责清单")
    GRASSROOTS_GOVERNANCE = "grassroots_governance", _("优化基层治理")
    PROBLEM_SOLVING = "problem_solving", _("提升发现和解决问题的质效")
    SERVICE_QUALITY = "service_quality", _("提升服务质效")
    COORDINATION = "coordination", _("强化统筹能力")
    RURAL_DEVELOPMENT = "rural_development", _("破除乡村发展瓶颈")


class TopicStatus(models.TextChoices):
    CANDIDATE = "candidate", _("候选")
    ADOPTED = "adopted", _("已确定")
    IN_PROGRESS = "in_progress", _("推进中")
    CLOSED = "closed", _("已销号")
    CARRIED_OVER = "carried_over", _("结转下月")


OPEN_TOPIC_STATUSES = (TopicStatus.ADOPTED, TopicStatus.IN_PROGRESS, TopicStatus.CARRIED_OVER)


class TopicEventType(models.TextChoices):
    CREATE = "create", _("提出候选")
    ADOPT = "adopt", _("常委会确定")
    START = "start", _("启动推进")
    CLOSE = "close", _("销号")
    CARRY_OVER = "carry_over", _("结转")
    TASK_ADD = "task_add", _("新增任务")
    TASK_UPDATE = "task_update", _("更新任务")
    TASK_SUPERVISE = "task_supervise", _("任务督办")
    REPORT = "report", _("周调度")
    INDICATOR_ADD = "indicator_add", _("新增指标")
    INDICATOR_VALUE = "indicator_value", _("更新指标")
    DOCUMENT = "document", _("上传文件")
    PLAN_ACCEPT = "plan_accept", _("采纳倒排工期")


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


class Topic(models.Model):
    """One monthly focus problem (每月一题)."""

    title = models.CharField(_("题目"), max_length=200)
    month = models.DateField(_("月份"), help_text=_("所属月份（该月第一天）。"), db_index=True)
    end_month = models.DateField(
        _("截止月份"), null=True, blank=True, help_text=_("跨月推进时的最后一个月（该月第一天）。")
    )
    theme = models.CharField(_("主题"), max_length=32, choices=TopicTheme.choices)
    problem = models.TextField(_("问题描述"), blank=True)
    goals = models.TextField(_("工作目标"), blank=True)
    target_date = models.DateField(
        _("目标完成日期"), null=True, blank=True, help_text=_("倒排工期的起点。")
    )
    lead_unit = models.ForeignKey(
        Unit, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="led_topics"
    )
    cooperating_units = models.ManyToManyField(
        Unit, verbose_name=_("配合单位"), blank=True, related_name="cooperating_topics"
    )
    # 包案领导: a city leader, who need not have an account.
    leader_name = models.CharField(_("包案领导"), max_length=64, blank=True)
    leader_title = models.CharField(_("包案领导职务"), max_length=128, blank=True)
    categories = models.ManyToManyField(
        "cases.Category", verbose_name=_("相关分类"), blank=True, related_name="topics"
    )
    regions = models.ManyToManyField(
        Region, verbose_name=_("相关区划"), blank=True, related_name="topics"
    )
    cases = models.ManyToManyField(
        "cases.Case", verbose_name=_("相关诉求"), blank=True, related_name="topics"
    )
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=TopicStatus.choices,
        default=TopicStatus.CANDIDATE,
        db_index=True,
    )
    adopted_on = models.DateField(_("常委会确定日期"), null=True, blank=True)
    started_at = models.DateTimeField(_("启动时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    closing_summary = models.TextField(_("销号说明"), blank=True)
    carry_overs = models.PositiveSmallIntegerField(_("结转次数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("每月一题")
        verbose_name_plural = _("每月一题")
        ordering = ["-month", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_month__isnull=True) | Q(end_month__gte=models.F("month")),
                name="topic_end_month_after_month",
            ),
        ]
        indexes = [models.Index(fields=["status", "month"], name="topic_status_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.title}"

    @property
    def last_month(self) -> dt.date:
        return self.end_month or self.month

    def notification_label(self) -> str:
        """The topic as the inbox names it (``notifications.subjects.Subject``): its month and
        number; the message's text names the title."""
        return f"每月一题 {self.month:%Y-%m} #{self.pk}"


class TopicEvent(models.Model):
    """One line of a topic's timeline; append-only (a PostgreSQL trigger refuses changes)."""

    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(_("类型"), max_length=24, choices=TopicEventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(max_length=16, choices=TopicStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=TopicStatus.choices, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("每月一题事件")
        verbose_name_plural = _("每月一题事件")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["topic", "created_at"], name="topicevent_topic_created")]

    def __str__(self) -> str:
        return f"{self.topic_id} {self.type} {self.created_at:%Y-%m-%d %H:%M}"


MAX_WORKDAYS = 500  # a task's 工期 at most: two working years is a programme, not one task


class TaskStatus(models.TextChoices):
    TODO = "todo", _("未开始")
    DOING = "doing", _("进行中")
    DONE = "done", _("已完成")


class TopicTask(models.Model):
    """One measure (工作任务) with its owner unit and its deadline (倒排工期)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("任务措施"), max_length=300)
    area = models.CharField(_("工作领域"), max_length=64, blank=True)
    owner_unit = models.ForeignKey(
        Unit, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="topic_tasks"
    )
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    deadline = models.DateField(_("完成时限"))
    # 工期: how many working days the task takes, from which 倒排工期 proposes its dates.
    workdays = models.PositiveSmallIntegerField(
        _("工期（工作日）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WORKDAYS)],
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.TODO
    )
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("工作任务")
        verbose_name_plural = _("工作任务")
        ordering = ["position", "deadline", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="task_progress_max_100"),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="task_status_deadline")]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: dt.date) -> bool:
        """Late: the deadline has passed and the task is not done."""
        return self.status != TaskStatus.DONE and self.deadline < today


class TaskSupervision(models.Model):
    """A 督办 issued by a supervisor on a late task."""

    task = models.ForeignKey(TopicTask, on_delete=models.CASCADE, related_name="supervisions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("督办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("督办意见"))
    created_at = models.DateTimeField(_("督办时间"))

    class Meta:
        verbose_name = _("任务督办")
        verbose_name_plural = _("任务督办")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.created_at:%Y-%m-%d}"


class ProgressReport(models.Model):
    """周调度: the lead unit's weekly update, one per topic per ISO week."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="reports")
    week = models.DateField(_("周"), help_text=_("该周星期一的日期。"))
    done = models.TextField(_("本周完成"))
    problems = models.TextField(_("存在问题"), blank=True)
    next_steps = models.TextField(_("下步计划"), blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("填报单位"), on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("填报时间"))

    class Meta:
        verbose_name = _("周调度")
        verbose_name_plural = _("周调度")
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "week"], name="report_one_per_topic_week"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} {self.week}"


class Indicator(models.Model):
    """指标: a figure with a target and its latest actual value (history in IndicatorValue)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("指标名称"), max_length=200)
    unit_of_measure = models.CharField(_("计量单位"), max_length=16, blank=True)
    target = models.DecimalField(
        _("目标值"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    actual = models.DecimalField(
        _("实际值"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    actual_on = models.DateField(_("实际值日期"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class IndicatorValue(models.Model):
    """One reading of an indicator; appended, never changed."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    date = models.DateField(_("日期"))
    value = models.DecimalField(_("数值"), max_digits=16, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("填报时间"))

    class Meta:
        verbose_name = _("指标记录")
        verbose_name_plural = _("指标记录")
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.date} {self.value}"


class DocumentKind(models.TextChoices):
    POLICY = "policy", _("政策文件")
    EVIDENCE = "evidence", _("销号佐证")


def document_path(instance: PolicyDocument, filename: str) -> str:
    # Stored by hash, never by the uploader's file name.
    return f"topics/{instance.topic_id}/{instance.sha256[:2]}/{instance.sha256}"


class PolicyDocument(models.Model):
    """A policy document (文件) or a piece of closing evidence; served only to those who may see
    the topic."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(
        _("类别"), max_length=16, choices=DocumentKind.choices, default=DocumentKind.POLICY
    )
    title = models.CharField(_("标题"), max_length=200)
    number = models.CharField(_("文号"), max_length=64, blank=True)
    issued_on = models.DateField(_("印发日期"), null=True, blank=True)
    file = models.FileField(_("文件"), upload_to=document_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("文件")
        verbose_name_plural = _("文件")
        ordering = ["-issued_on", "id"]

    def __str__(self) -> str:
        return self.title
