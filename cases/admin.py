"""Admin: reference data is edited here; cases are read-only (state changes go through the
workflow, never through a form that writes ``status``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from org.models import Unit
from xining_issues.admin import ReadOnlyAdmin

from . import knowledge
from .models import (
    CalendarDay,
    Case,
    CaseEvent,
    Category,
    Evaluation,
    ExtensionRequest,
    KnowledgeArticle,
    KnowledgeUse,
    Open311Client,
    ReplyTemplate,
    Responsibility,
    ReturnRequest,
    RouterModel,
    SupervisionOrder,
)
from .open311 import keys as open311_keys


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
        "offered_to_residents",
    )  # fmt: skip
    list_filter = ("is_urgent", "is_active", "offered_to_residents", "parent")
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


for model in (ExtensionRequest, ReturnRequest, Evaluation, SupervisionOrder):
    admin.site.register(model, ReadOnlyAdmin)


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("title", "text")


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    """Open311 clients: a key is shown once, in the message after the client is added; only its
    prefix is shown after that. A client is revoked, never deleted (its cases name it)."""

    list_display = ("name", "key_prefix", "contact", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "contact", "key_prefix")
    fields = ("name", "contact", "key_prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Open311Client, form: Any, change: bool
    ) -> None:
        key = None if change else open311_keys.issue_key(obj)
        super().save_model(request, obj, form, change)
        if key is not None:
            self.message_user(
                request,
                _("接口密钥（只显示这一次，请立即交给对方）：%(key)s") % {"key": key},
                messages.WARNING,
            )

    @admin.action(description=gettext_lazy("吊销所选客户端的密钥"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Open311Client]) -> None:
        for client in queryset:
            open311_keys.open311_client_revoke(client=client)


@admin.register(RouterModel)
class RouterModelAdmin(ReadOnlyAdmin):
    """智能派单's models: which is in use, how each scored on its held-out cases and when it was
    trained (``python manage.py train_router``, and the weekly beat job)."""

    list_display = (
        "id", "state", "trained_at", "top1_percent", "top3_percent", "hand_top1",
        "cases_trained", "cases_held_out", "seconds", "note",
    )  # fmt: skip
    list_filter = ("state",)
    exclude = ("blob",)

    @admin.display(description=gettext_lazy("首选准确率"), ordering="top1")
    def top1_percent(self, model: RouterModel) -> str:
        return f"{model.top1:.1%}"

    @admin.display(description=gettext_lazy("前三准确率"), ordering="top3")
    def top3_percent(self, model: RouterModel) -> str:
        return f"{model.top3:.1%}"

    @admin.display(description=gettext_lazy("人工样本首选准确率"))
    def hand_top1(self, model: RouterModel) -> str:
        hand = model.metrics.get("hand")
        return f"{hand['top1']:.1%} / {hand['cases']}" if hand else "—"


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(SimpleHistoryAdmin):
    """知识库: units keep their articles here (every edit kept); the words follow the text."""

    list_display = [
        "question",
        "owner_unit",
        "valid_from",
        "valid_until",
        "review_by",
        "is_public",
    ]
    list_filter = ["is_public", "owner_unit", "categories"]
    search_fields = ["question", "answer"]
    filter_horizontal = ["categories", "regions"]
    autocomplete_fields = ["owner_unit"]
    date_hierarchy = "review_by"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        knowledge.refresh_words(obj)
        super().save_model(request, obj, form, change)


@admin.register(KnowledgeUse)
class KnowledgeUseAdmin(ReadOnlyAdmin):
    list_display = ["article", "case", "used_by", "used_at"]
    list_select_related = ["article", "case", "used_by"]
    date_hierarchy = "used_at"
