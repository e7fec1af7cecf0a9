from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Membership, Region, RegionClass, Unit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        # Django's UserAdmin always sets its fieldsets; the stubs type the attribute Optional.
        *(DjangoUserAdmin.fieldsets or ()),
        (_("联系方式"), {"fields": ("display_name", "phone")}),
    )
    list_display = ("username", "display_name", "email", "is_staff", "is_active")
    search_fields = ("username", "display_name", "email", "phone")
    inlines = [MembershipInline]


@admin.register(RegionClass)
class RegionClassAdmin(SimpleHistoryAdmin):
    """社区分类: the editable list; a class in use is deactivated (its regions protect it)."""

    list_display = ("name", "code", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "level", "code", "parent", "region_class")
    list_filter = ("level", "region_class")
    search_fields = ("name", "code")
    autocomplete_fields = ["parent"]
    list_select_related = ("parent", "region_class")
    readonly_fields = ("path",)

    def get_form(
        self, request: HttpRequest, obj: Region | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm]:
        """Offer the active classes, and the region's own even once deactivated (so the
        region can still be edited); ``Region.clean`` refuses a class above a community."""
        form = super().get_form(request, obj, change, **kwargs)
        field = form.base_fields.get("region_class")
        if field is not None:
            kept = Q(pk=obj.region_class_id) if obj and obj.region_class_id else Q(pk__in=[])
            field.queryset = RegionClass.objects.filter(Q(is_active=True) | kept)  # type: ignore[attr-defined]
        return form


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "kind", "region", "parent", "is_active")
    list_filter = ("kind", "is_active", "region__level")
    search_fields = ("name", "code")
    autocomplete_fields = ["region", "parent"]
    list_select_related = ("region", "parent")


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ("user", "unit", "role", "is_leader")
    list_filter = ("role", "is_leader", "unit__kind")
    search_fields = ("user__username", "user__display_name", "unit__name")
    autocomplete_fields = ["user", "unit"]
    list_select_related = ("user", "unit")
