"""有诉必应: the case record, its append-only timeline and what hangs off it.

Nothing here changes ``Case.status``: every state change is a function in ``workflow.py`` that
checks the transition table and the actor's right and writes one ``CaseEvent``.

Over 500 lines on purpose: the case, its choices and the rows that exist only for a case (its
events, attachments, extensions, evaluations, 督办 orders, marks) are one aggregate; their
constraints and indexes are read together when a query plan is.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from org.models import Region, RegionLevel, Unit, UnitKind

SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")

# --- choices -------------------------------------------------------------------------------


class TimeUnit(models.TextChoices):
    """How an SLA amount is counted (工作日 / 工作小时 / 自然小时)."""

    WORKING_DAYS = "working_days", _("工作日")
    WORKING_HOURS = "working_hours", _("工作小时")
    CLOCK_HOURS = "clock_hours", _("自然小时")
    CLOCK_MINUTES = "clock_minutes", _("自然分钟")


class Channel(models.TextChoices):
    WEB = "web", _("网上")
    PHONE = "phone", _("12345热线")
    WALK_IN = "walk_in", _("来访")
    MINI_PROGRAM = "mini_program", _("小程序")
    GRID = "grid", _("网格员发现")
    OPEN311 = "open311", _("第三方接口")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("待派单")
    DISPATCHED = "dispatched", _("待签收")
    HANDLING = "handling", _("办理中")
    REPLIED = "replied", _("待评价")
    EVALUATED = "evaluated", _("已评价")
    REVIEW = "review", _("督查研判")
    CLOSED = "closed", _("已归档")
    REJECTED = "rejected", _("不予受理")


OPEN_STATUSES = [
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.HANDLING,
    Status.REPLIED,
    Status.EVALUATED,
    Status.REVIEW,
]


class Stage(models.TextChoices):
    """The six links 接 派 办 督 评 报; ``selectors.stage_filter`` maps them to statuses."""

    RECEIVE = "receive", _("接")
    DISPATCH = "dispatch", _("派")
    HANDLE = "handle", _("办")
    SUPERVISE = "supervise", _("督")
    EVALUATE = "evaluate", _("评")
    REPORT = "report", _("报")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    EMERGENCY = "emergency", _("特急")


class SupervisionLevel(models.TextChoices):
    ON_TIME = "on_time", _("正常")
    WARNING = "warning", _("预警")
    OVERDUE = "overdue", _("超期")
    SUPERVISED = "supervised", _("督办")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("已解决")
    PARTLY = "partly", _("部分解决")
    EXPLAINED = "explained", _("已解释说明")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically_satisfied", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class RejectReason(models.TextChoices):
    OUT_OF_SCOPE = "out_of_scope", _("不属于受理范围")
    DUPLICATE = "duplicate", _("重复诉求")
    INSUFFICIENT = "insufficient", _("信息不全")
    MALICIOUS = "malicious", _("恶意诉求")


class EventType(models.TextChoices):
    SUBMIT = "submit", _("提交诉求")
    ACCEPT = "accept", _("受理")
    REJECT = "reject", _("不予受理")
    RESOLVE_AT_INTAKE = "resolve_at_intake", _("即时办结")
    DISPATCH = "dispatch", _("派单")
    SIGN = "sign", _("签收")
    RETURN = "return", _("退回")
    PROGRESS = "progress", _("办理进展")
    CONTACT = "contact", _("联系诉求人")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    DECIDE_EXTENSION = "decide_extension", _("延期审批")
    REQUEST_RETURN = "request_return", _("申请退回")
    DECIDE_RETURN = "decide_return", _("退回审批")
    WITHDRAW = "withdraw", _("撤回")
    REASSIGN = "reassign", _("改派")
    MERGE = "merge", _("合并")
    REPLY = "reply", _("办结答复")
    EVALUATE = "evaluate", _("评价")
    REOPEN = "reopen", _("重办")
    SUPERVISE = "supervise", _("督办")
    RECATEGORISE = "recategorise", _("改派分类")
    CLOSE = "close", _("归档")
    REMIND = "remind", _("督办提醒")
    ESCALATE = "escalate", _("督办升级")


# --- calendar and categories -----------------------------------------------------------------


class CalendarDay(models.Model):
    """An official override of the holiday calendar (放假 / 调休上班).

    The ``holidays`` package knows past years; the State Council publishes each new year's
    schedule in the autumn, and an administrator enters it here the same day.
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("上班"), help_text=_("勾选：调休上班；不勾选：放假。"))
    note = models.CharField(_("说明"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.note}"


SERVICE_ATTRIBUTE_TYPES = (
    "string",
    "number",
    "datetime",
    "text",
    "singlevaluelist",
    "multivaluelist",
)
LIST_ATTRIBUTE_TYPES = ("singlevaluelist", "multivaluelist")


def validate_service_attributes(value: object) -> None:
    """The shape Open311 GeoReport v2 gives a service's attributes: a category's extra
    questions are published as they are stored, so a malformed one is refused in the admin
    rather than served to every client."""
    if not isinstance(value, list):
        raise ValidationError(_("补充信息项必须是列表。"))
    codes = set()
    for item in value:
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not SLUG.fullmatch(code) or code in codes:
            raise ValidationError(_("每一项都需要不重复的代码（字母、数字、-、_）。"))
        codes.add(code)
        if item.get("datatype") not in SERVICE_ATTRIBUTE_TYPES:
            raise ValidationError(_("补充信息项 %(code)s 的类型无效。") % {"code": code})
        if not isinstance(item.get("description"), str) or not item["description"]:
            raise ValidationError(_("补充信息项 %(code)s 需要问题说明。") % {"code": code})
        if not isinstance(item.get("required", False), bool):
            raise ValidationError(
                _("补充信息项 %(code)s 的 required 必须是 true 或 false。") % {"code": code}
            )
        values = item.get("values", [])
        listed = item["datatype"] in LIST_ATTRIBUTE_TYPES
        if (
            not isinstance(values, list)
            or listed != bool(values)
            or not all(isinstance(v, dict) and {"key", "name"} <= v.keys() for v in values)
        ):
            raise ValidationError(
                _("补充信息项 %(code)s：列表类型需要选项 {key, name}，其他类型不需要。")
                % {"code": code}
            )


class Category(models.Model):
    """A kind of matter (供暖, 物业 …) with its service-level deadlines (时限).

    Deadlines count from submission (accept), from dispatch (first contact, resolve). Urgent
    categories (water, power, gas, heating) run in clock hours.
    """

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_urgent = models.BooleanField(_("紧急类"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    # A drill or an internal matter: staff may log it, residents and Open311 clients never see it.
    offered_to_residents = models.BooleanField(
        _("居民可选"),
        default=True,
        help_text=_("关闭后居民提交页和第三方接口不提供该类别，接线员仍可登记"),
    )
    accept_amount = models.PositiveIntegerField(_("受理时限"), default=2)
    accept_unit = models.CharField(
        _("受理时限单位"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS
    )
    contact_amount = models.PositiveIntegerField(_("响应时限"), default=1)
    contact_unit = models.CharField(
        _("响应时限单位"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    resolve_amount = models.PositiveIntegerField(_("办结时限"), default=7)
    resolve_unit = models.CharField(
        _("办结时限单位"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    complex_resolve_amount = models.PositiveIntegerField(
        _("复杂件办结时限"), default=15, help_text=_("受理时标为复杂件的，按此时限办结。")
    )
    complex_resolve_unit = models.CharField(
        _("复杂件时限单位"),
        max_length=16,
        choices=TimeUnit.choices,
        default=TimeUnit.WORKING_DAYS,
    )
    # The Open311 service definition's attributes: the extra facts this kind of matter asks for.
    open311_attributes = models.JSONField(
        _("补充信息项"),
        default=list,
        blank=True,
        validators=[validate_service_attributes],
        help_text=_(
            "Open311 的 attributes 列表：每项有 code、datatype、required、description；"
            "singlevaluelist / multivaluelist 另有 values：[{key, name}]。"
        ),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["parent_id", "name"]

    def __str__(self) -> str:
        return self.name


class Responsibility(models.Model):
    """权责清单: which unit owns a category at a region level; drives the dispatch suggestion.

    Either ``unit`` names one unit (华润燃气 for gas across the city), or ``unit_kind`` says
    which kind of unit at ``region_level`` in the case's own region owns it (the district
    government of the case's district).
    """

    category = models.ForeignKey(
        Category, verbose_name=_("分类"), on_delete=models.CASCADE, related_name="responsibilities"
    )
    region_level = models.PositiveSmallIntegerField(
        _("层级"), choices=RegionLevel.choices, default=RegionLevel.DISTRICT
    )
    unit_kind = models.CharField(
        _("单位类型"), max_length=32, choices=UnitKind.choices, blank=True
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("指定单位"), on_delete=models.CASCADE, null=True, blank=True
    )
    co_units = models.ManyToManyField(
        Unit, verbose_name=_("协办单位"), blank=True, related_name="co_responsibilities"
    )
    note = models.CharField(_("依据"), max_length=255, blank=True)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100)
    history = HistoricalRecords(m2m_fields=[co_units])

    class Meta:
        verbose_name = _("权责清单")
        verbose_name_plural = _("权责清单")
        ordering = ["category", "priority"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(unit_kind="") | Q(unit__isnull=False),
                name="responsibility_names_a_kind_or_a_unit",
            )
        ]

    def __str__(self) -> str:
        owner = self.unit.name if self.unit_id and self.unit else self.get_unit_kind_display()
        return f"{self.category} → {owner}"


# --- the case --------------------------------------------------------------------------------


class DailySequence(models.Model):
    """The last tracking number issued on a day: an upsert's row lock makes numbers unique; a
    complaint that fails after taking its number leaves a gap (see
    ``workflow._next_tracking_code``)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Case(models.Model):
    """One complaint, request, consultation or suggestion (诉求)."""

    tracking_code = models.CharField(_("受理编号"), max_length=20, unique=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    # db_index=False on a foreign key here: an index in Meta leads with its column and serves
    # its lookups (migration 0012), and every index of this table is paid on each write to it.
    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("社区/村"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    # Denormalised ancestors of ``region``: dashboards and queues group and filter by them.
    district = models.ForeignKey(
        Region, verbose_name=_("区/县"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    street = models.ForeignKey(
        Region,
        verbose_name=_("街道/乡镇"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Whose dispatchers dispatch this case; moves one level up on the third return (兜底).
    dispatch_region = models.ForeignKey(
        Region, verbose_name=_("派单层级"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("详细地址"), max_length=255, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    title = models.CharField(_("标题"), max_length=120, blank=True)
    description = models.TextField(_("诉求内容"))

    # Personal information (PIPL): shown whole only where selectors.can_see_identity says so.
    complainant_name = models.CharField(_("诉求人姓名"), max_length=64)
    complainant_phone = models.CharField(_("诉求人电话"), max_length=20)
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("诉求人账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    hide_identity = models.BooleanField(_("对承办单位保密"), default=False)
    # Which Open311 client filed it (channel "open311"): a column, not only the submit event's
    # payload, so that revoking a client's key can be followed by finding its cases.
    open311_client = models.ForeignKey(
        "Open311Client",
        verbose_name=_("第三方接口客户端"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )

    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    urgency = models.CharField(
        _("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    is_complex = models.BooleanField(_("复杂件"), default=False)
    duty_level = models.PositiveSmallIntegerField(
        _("办理层级"), choices=RegionLevel.choices, null=True, blank=True
    )
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("承办单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_cases",
        db_index=False,
    )
    co_units = models.ManyToManyField(
        Unit, verbose_name=_("协办单位"), blank=True, related_name="co_cases"
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    # 合并: set when the case was merged into ``duplicate_of`` (closed as its duplicate; its
    # complainant hears the main case's answer). A duplicate marked at 受理 or 不予受理 has none.
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True)

    accept_by = models.DateTimeField(_("受理时限"), null=True, blank=True)
    contact_by = models.DateTimeField(_("响应时限"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("办结时限"), null=True, blank=True)
    sign_by = models.DateTimeField(_("签收时限"), null=True, blank=True)
    # The warning point (预警) of ``resolve_by``, stored so the supervision scan finds it by index.
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    supervision_level = models.CharField(
        _("督办等级"),
        max_length=16,
        choices=SupervisionLevel.choices,
        default=SupervisionLevel.ON_TIME,
    )

    return_count = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    outcome = models.CharField(_("办理结果"), max_length=16, choices=Outcome.choices, blank=True)
    reply_text = models.TextField(_("答复内容"), blank=True)
    rating = models.CharField(_("评价"), max_length=24, choices=Rating.choices, blank=True)
    excluded_from_satisfaction = models.BooleanField(
        _("不计入满意率"), default=False, help_text=_("督查研判为不合理诉求。")
    )
    reject_reason = models.CharField(
        _("不予受理原因"), max_length=16, choices=RejectReason.choices, blank=True
    )

    created_at = models.DateTimeField(_("提交时间"), db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # The messages about this case (no column: ``notifications`` points here by content type
    # and id). Also lets a query say ``Notification.objects.filter(case=…)``, and deletes a
    # case's messages with the case, as the foreign key they had did.
    notifications = GenericRelation(
        "notifications.Notification",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="case",
    )

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Work queues: state first, then the deadline or scope they sort or filter by.
            # (No (status, deadline) index for the deadlines of the cases being worked on,
            # contact_by, warn_at and resolve_by: the scan reads its partial indexes below, and
            # the tabs that compare resolve_by walk the cases newest first. Migration 0012.)
            models.Index(fields=["status", "accept_by"], name="case_status_accept_by"),
            models.Index(fields=["status", "sign_by"], name="case_status_sign_by"),
            models.Index(fields=["status", "replied_at"], name="case_status_replied_at"),
            models.Index(fields=["lead_unit", "status"], name="case_lead_unit_status"),
            models.Index(fields=["district", "status"], name="case_district_status"),
            models.Index(fields=["street", "status"], name="case_street_status"),
            models.Index(fields=["region", "status"], name="case_region_status"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            models.Index(fields=["supervision_level", "status"], name="case_supervision_status"),
            models.Index(fields=["complainant", "created_at"], name="case_complainant_created"),
            models.Index(fields=["channel", "created_at"], name="case_channel_created"),
            # 督: the supervision scan pages through each rule's trigger in (trigger, id) order.
            # A rule of one status reads the (status, trigger) index above; these serve the
            # rules of the cases being worked on (cases.supervision.RULES: the predicates are
            # their statuses, written the same way so that PostgreSQL matches them). The
            # warning's index holds the deadline too, so a case past it is passed over inside
            # the index (the warning is for cases not yet late).
            models.Index(
                fields=["contact_by", "id"],
                name="case_scan_contact_by",
                condition=Q(status__in=["dispatched", "handling"], contacted_at__isnull=True),
            ),
            models.Index(
                fields=["warn_at", "resolve_by", "id"],
                name="case_scan_warn_at",
                condition=Q(status__in=["dispatched", "handling"]),
            ),
            models.Index(
                fields=["resolve_by", "id"],
                name="case_scan_resolve_by",
                condition=Q(status__in=["dispatched", "handling"]),
            ),
            # The work-queue tabs: one status, newest first, as the cursor pages them (the
            # page after page 5,000 starts where the cursor points, as cheap as page 1).
            models.Index(fields=["status", "created_at", "id"], name="case_status_created"),
            # The tabs' counts read the open cases only, from this index alone (an index-only
            # scan): every column the tabs and the reader's jurisdiction test is in it.
            models.Index(
                fields=["status"],
                include=[
                    "id",
                    "district",
                    "street",
                    "region",
                    "lead_unit",
                    "complainant",
                    "accept_by",
                    "resolve_by",
                    "supervision_level",
                    "dispatch_region",
                ],
                name="case_open_tabs",
                condition=Q(
                    status__in=[
                        "submitted",
                        "accepted",
                        "dispatched",
                        "handling",
                        "replied",
                        "evaluated",
                        "review",
                    ]
                ),
            ),
            # 查询进度 by code uses the unique index. Chinese search uses the bigram index of
            # migration 0011 (PostgreSQL only; cases.search).
        ]

    def __str__(self) -> str:
        return self.tracking_code

    def notification_label(self) -> str:
        """The case as the inbox names it (``notifications.subjects.Subject``): its tracking
        code, never its title, which may hold personal information."""
        return self.tracking_code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseEvent(models.Model):
    """One line of the case's timeline; append-only (a PostgreSQL trigger refuses changes).

    ``is_public`` events appear, without personal data, on the public tracking page.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(_("类型"), max_length=24, choices=EventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("事件发生时负责的单位，用于按单位统计三率。"),
    )
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("诉求事件")
        verbose_name_plural = _("诉求事件")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_created"),
            models.Index(fields=["type", "created_at"], name="event_type_created"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.type} {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never uses the uploader's file name (path tricks, personal data).
    return f"attachments/{instance.case_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A photo or a piece of evidence; kept in the default storage (MEDIA_ROOT or the object
    store), served only through a view that checks the user may see the case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.original_name


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("不予批准")
    LAPSED = "lapsed", _("已失效")  # the unit replied (or the case was re-handled) first


class ExtensionRequest(models.Model):
    """延期申请: the deadline moves only when a dispatcher approves."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extension_requests")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("理由"))
    requested_until = models.DateTimeField(_("申请延至"))
    status = models.CharField(
        max_length=16, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="pending"),
                name="extension_one_pending_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.requested_until:%Y-%m-%d} ({self.status})"


class ReturnStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("不予批准")
    LAPSED = "lapsed", _("已失效")  # the case left the unit first (撤回, 改派, 办结答复)


class ReturnRequest(models.Model):
    """退回申请: a unit that has signed for a case asks to give it back; the case stays with the
    unit until a dispatcher approves (then it goes back to 待派单, counted as the unit's 退回)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="return_requests")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("理由"))
    status = models.CharField(
        max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("退回申请")
        verbose_name_plural = _("退回申请")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="pending"),
                name="return_one_pending_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ← {self.unit_id} ({self.status})"


class EvaluationSource(models.TextChoices):
    COMPLAINANT = "complainant", _("诉求人评价")
    CALLBACK = "callback", _("回访")


class Evaluation(models.Model):
    """评价: one rating per round (the first reply, then each re-handling)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evaluations")
    round = models.PositiveSmallIntegerField(default=0)
    rating = models.CharField(max_length=24, choices=Rating.choices)
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=EvaluationSource.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            models.UniqueConstraint(fields=["case", "round"], name="evaluation_once_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} #{self.round}: {self.rating}"


class SupervisionOrder(models.Model):
    """督办单: a supervisor orders a unit to finish by a date."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="supervision_orders")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(_("督办期限"))
    note = models.TextField(_("督办要求"))
    created_at = models.DateTimeField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        indexes = [
            models.Index(fields=["fulfilled_at", "due_at"], name="supervision_open_due"),
            # The supervision scan's pages of late orders (see Case's scan indexes).
            models.Index(
                fields=["due_at", "id"],
                name="supervision_order_scan",
                condition=Q(fulfilled_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 督办 → {self.due_at:%Y-%m-%d}"


class ReplyTemplate(models.Model):
    """常用答复: a canned reply a handler starts from (editable in the admin)."""

    title = models.CharField(_("标题"), max_length=64)
    text = models.TextField(_("答复内容"))
    category = models.ForeignKey(
        Category,
        verbose_name=_("适用分类"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reply_templates",
        help_text=_("留空则适用于所有分类。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("常用答复")
        verbose_name_plural = _("常用答复")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


# --- 督 supervision --------------------------------------------------------------------------


class DeadlineKind(models.TextChoices):
    ACCEPT = "accept", _("受理时限")
    SIGN = "sign", _("签收时限")
    CONTACT = "contact", _("响应时限")
    RESOLVE = "resolve", _("办结时限")
    ORDER = "order", _("督办期限")
    EVALUATE = "evaluate", _("评价期限")


class SupervisionStep(models.TextChoices):
    WARNING = "warning", _("预警")
    OVERDUE = "overdue", _("超期")
    LEADER = "leader", _("升级至单位负责人")
    OFFICE = "office", _("升级至上级督查室")
    AUTO_CLOSE = "auto_close", _("超时未评价归档")


class SupervisionMark(models.Model):
    """One reminder or escalation that has happened. The unique constraint is what makes every
    (case, deadline kind, step, deadline) happen at most once, however many scans or workers
    race; a new deadline (after an extension or 重办) starts a fresh series."""

    # No index of its own: the unique constraint's index leads with the case (migration 0012).
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="supervision_marks", db_index=False
    )
    kind = models.CharField(max_length=16, choices=DeadlineKind.choices)
    step = models.CharField(max_length=16, choices=SupervisionStep.choices)
    deadline = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "step", "deadline"], name="supervision_mark_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}/{self.step} @ {self.deadline:%Y-%m-%d %H:%M}"


# --- Open311 clients ---------------------------------------------------------------------------


class Open311Client(models.Model):
    """A third-party system allowed to file complaints through Open311 GeoReport v2 (a WeChat
    mini-program, a neighbouring hotline's software, a civic-tech app).

    The key is shown once, when it is made (``manage.py open311_key``); only its SHA-256 is kept,
    so a copy of the database does not hand out working keys. ``key_prefix`` (its first
    characters) lets an administrator tell keys apart. A key is revoked, never deleted: the
    cases it filed keep pointing at their client."""

    name = models.CharField(_("客户端名称"), max_length=128, unique=True)
    contact = models.CharField(_("联系人"), max_length=255, blank=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 客户端")
        verbose_name_plural = _("Open311 客户端")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class Open311Submission(models.Model):
    """A request a client posted, by the digest of what it posted and the day: a client that
    posts the same form again (a retry after a timeout) is answered with the case its first
    post made, not given a second one. The unique constraint is what makes it so when the two
    posts race; the row is claimed before the case is written and points at it after."""

    # No index of its own: the unique constraint's index leads with the client.
    client = models.ForeignKey(
        Open311Client, on_delete=models.PROTECT, related_name="submissions", db_index=False
    )
    digest = models.CharField(max_length=64)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Open311 提交记录")
        verbose_name_plural = _("Open311 提交记录")
        constraints = [
            models.UniqueConstraint(fields=["client", "digest"], name="open311_submission_once")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.digest[:12]} → {self.case_id}"


class RouterState(models.TextChoices):
    ACTIVE = "active", _("使用中")
    RETIRED = "retired", _("已替换")
    REJECTED = "rejected", _("未采用")  # scored worse than the model in use


class RouterModel(models.Model):
    """智能派单's trained model (``cases.router``): kept in the database so every web node and
    worker loads the same one. At most one is active; a newly trained model that scores worse
    than it on the same held-out cases is kept as 未采用, with its figures, and never used.
    The trained pipeline is a pickle written by ``cases.router.train`` alone."""

    trained_at = models.DateTimeField(_("训练时间"))
    state = models.CharField(_("状态"), max_length=16, choices=RouterState.choices)
    cases_trained = models.PositiveIntegerField(_("训练件数"))
    cases_held_out = models.PositiveIntegerField(_("检验件数"))
    top1 = models.FloatField(_("首选准确率"))
    top3 = models.FloatField(_("前三准确率"))
    seconds = models.FloatField(_("训练用时（秒）"))
    # per-category precision and recall, the confusion pairs, the model it was compared with
    metrics = models.JSONField(_("检验指标"), default=dict)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    blob = models.BinaryField(_("模型"), editable=False, null=True)

    class Meta:
        verbose_name = _("智能派单模型")
        verbose_name_plural = _("智能派单模型")
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="active"),
                name="router_one_active_model",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.pk} {self.get_state_display()} top-1 {self.top1:.1%}"


# --- 知识库 knowledge base ---------------------------------------------------------------------


class KnowledgeArticle(models.Model):
    """知识库: a policy answer an operator gives on the spot (即时办结), kept by its owner unit.

    Every edit is kept (``history``); an article is offered at intake only between its
    ``valid_from`` and ``valid_until``, and its owner is reminded when ``review_by`` comes. Public
    articles are readable by anyone at /knowledge/. ``search_words`` holds the question's and
    answer's words as jieba cuts them (``cases.knowledge``), for the full-text index."""

    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("答复内容"))
    basis = models.TextField(_("政策依据"), blank=True)
    # The policy document as published (a government site), not a copy of it: the published
    # text is the one that counts, and an upload here would be one more file to check and keep.
    document_url = models.URLField(_("政策文件链接"), blank=True)
    categories = models.ManyToManyField(
        Category, verbose_name=_("适用分类"), blank=True, related_name="articles"
    )
    regions = models.ManyToManyField(
        Region,
        verbose_name=_("适用地区"),
        blank=True,
        related_name="articles",
        help_text=_("留空则全市适用；选了区县或街道，则其下各社区适用。"),
    )
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    owner_unit = models.ForeignKey(
        Unit, verbose_name=_("维护单位"), on_delete=models.PROTECT, related_name="articles"
    )
    review_by = models.DateField(_("复核日期"))
    is_public = models.BooleanField(_("对居民公开"), default=True)
    search_words = models.TextField(_("检索词"), blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[categories, regions])

    class Meta:
        verbose_name = _("知识库文章")
        verbose_name_plural = _("知识库文章")
        ordering = ["question", "id"]
        indexes = [models.Index(fields=["review_by"], name="article_review_by")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="article_valid_range",
            )
        ]

    def __str__(self) -> str:
        return self.question

    def notification_label(self) -> str:
        """The article as the inbox names it (``notifications.subjects.Subject``)."""
        return self.question

    def clean(self) -> None:
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("失效日期不能早于生效日期。")})


class KnowledgeUse(models.Model):
    """An article an operator answered a case with at intake (即时办结): one per case, counted
    by the dashboards (the articles used most, and those whose answers led to 不满意)."""

    article = models.ForeignKey(
        KnowledgeArticle,
        verbose_name=_("知识库文章"),
        on_delete=models.PROTECT,
        related_name="uses",
    )
    case = models.OneToOneField(
        Case, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="knowledge_use"
    )
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("使用人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    used_at = models.DateTimeField(_("使用时间"))

    class Meta:
        verbose_name = _("知识库使用记录")
        verbose_name_plural = _("知识库使用记录")
        indexes = [models.Index(fields=["article", "used_at"], name="knowledge_use_article")]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.case_id}"
