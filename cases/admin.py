"""Admin: reference data is edited here; cases are read-only (state changes go through the
workflow, never through a form that writes ``status``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from org.models import Unit

from . import notifications
from .models import (
    CalendarDay,
    Case,
    CaseEvent,
    Category,
    Evaluation,
    ExtensionRequest,
    OutboxMessage,
    ReplyTemplate,
    Responsibility,
    SupervisionOrder,
)
from .selectors import mask_phone


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(Category)
class CategoryAdmin(SimpleHistoryAdmin):
    list_display = (
        "name", "code", "parent", "is_urgent", "accept_amount", "accept_unit",
        "contact_amount", "contact_unit", "resolve_amount", "resolve_unit", "is_active",
    )  # fmt: skip
    list_filter = ("is_urgent", "is_active", "parent")
    search_fields = ("name", "code")
    list_select_related = ("parent",)


class ResponsibilityResource(resources.ModelResource):
    """CSV/Excel columns: category (code), region_level (1-4), unit_kind, unit (code),
    co_units (codes separated by commas), note, priority."""

    category = fields.Field(
        column_name="category",
        attribute="category",
        widget=widgets.ForeignKeyWidget(Category, "code"),
    )
    unit = fields.Field(
        column_name="unit", attribute="unit", widget=widgets.ForeignKeyWidget(Unit, "code")
    )
    co_units = fields.Field(
        column_name="co_units",
        attribute="co_units",
        widget=widgets.ManyToManyWidget(Unit, field="code", separator=","),
    )

    class Meta:
        model = Responsibility
        fields = (
            "id",
            "category",
            "region_level",
            "unit_kind",
            "unit",
            "co_units",
            "note",
            "priority",
        )
        skip_unchanged = True
        report_skipped = True


@admin.register(Responsibility)
class ResponsibilityAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [ResponsibilityResource]
    list_display = ("category", "region_level", "unit_kind", "unit", "priority", "note")
    list_filter = ("region_level", "unit_kind")
    search_fields = ("category__name", "unit__name", "note")
    autocomplete_fields = ("unit", "co_units")
    list_select_related = ("category", "unit")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible for support and audits; every change goes through the workflow functions."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("created_at", "type", "actor", "unit", "from_status", "to_status", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "tracking_code", "status", "category", "district", "lead_unit", "supervision_level",
        "created_at",
    )  # fmt: skip
    list_filter = ("status", "channel", "supervision_level", "urgency")
    search_fields = ("tracking_code", "title")
    list_select_related = ("category", "district", "lead_unit")
    date_hierarchy = "created_at"
    inlines = [EventInline]
    # Personal data stays out of the admin list; the detail shows it to superusers only.
    exclude = ("complainant_phone",)


for model in (ExtensionRequest, Evaluation, SupervisionOrder):
    admin.site.register(model, ReadOnlyAdmin)


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("title", "text")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """The emails and SMS the outbox sends: find the failed and unknown ones, retry them.

    Read-only: the drain alone moves a message along, except for the operator's retry. The
    recipient's phone number is shown masked (like the complainant's, kept out of the case
    admin); the message key is what to look up in the gateway's delivery report.
    """

    list_display = (
        "created_at", "channel", "kind", "masked_recipient", "status", "attempts",
        "next_attempt_at", "sent_at", "last_error",
    )  # fmt: skip
    list_filter = ("status", "channel", "kind")
    search_fields = ("key",)
    date_hierarchy = "created_at"
    fields = (
        "key", "channel", "kind", "masked_recipient", "params", "status", "attempts",
        "next_attempt_at", "claimed_until", "last_error", "created_at", "sent_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ["retry_messages"]

    @admin.display(description=_("接收人"))
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return mask_phone(obj.recipient) if obj.channel == "sms" else obj.recipient

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("cases.change_outboxmessage")

    @admin.action(permissions=["retry"], description=_("重新发送所选的失败或结果未知的消息"))
    def retry_messages(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        # An unknown message may have reached the phone already: the operator retries it only
        # after checking the gateway's delivery report (the message key is its Idempotency-Key).
        count = notifications.outbox_retry(ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext("%(count)d 条消息已重新排队发送。", "%(count)d 条消息已重新排队发送。", count)
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                gettext("%(count)d 条消息未处理：只有发送失败或结果未知的消息可以重新发送。")
                % {"count": skipped},
                messages.WARNING,
            )
