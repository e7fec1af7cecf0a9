from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Membership, Region, Unit, User


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


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "level", "code", "parent")
    list_filter = ("level",)
    search_fields = ("name", "code")
    autocomplete_fields = ["parent"]
    list_select_related = ("parent",)
    readonly_fields = ("path",)


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
