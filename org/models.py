"""The organisation: people, places and the units that serve them.

Both halves of the product (cases and topics) stand on these three ideas:

* ``Region`` (行政区划): city → district/county → street/town → community/village.
* ``Unit`` (单位): a body that handles cases or topics, placed in a region.
* ``Membership``: a user works in a unit in one role (接线员, 派单员, 承办人 …).

A unit's jurisdiction (管辖范围) is its region's subtree.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """A person who signs in: a resident, or staff through their memberships."""

    display_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class RegionLevel(models.IntegerChoices):
    CITY = 1, _("市")
    DISTRICT = 2, _("区/县")
    STREET = 3, _("街道/乡镇")
    COMMUNITY = 4, _("社区/村")


def path_ids(path: str) -> list[int]:
    """The region ids a materialised ``path`` ("/1/5/23/") names, from the city down: what
    ``Region.ancestor_ids`` gives, for a path read as a plain value (``values_list``)."""
    return [int(part) for part in path.strip("/").split("/") if part]


class RegionClass(models.Model):
    """社区分类: a kind of community or village (城市社区, 城郊社区, 农村社区, 易地搬迁社区 …).

    The list is data a city edits in the admin, not code: statistics are grouped and filtered
    by it, and services (or funds) differ by class. A class in use is deactivated, not deleted.
    """

    code = models.SlugField(
        _("代码"), max_length=32, unique=True, help_text=_("稳定的英文标识，用于接口和筛选。")
    )
    name = models.CharField(_("名称"), max_length=32, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用的分类不能再分给社区，历史统计仍按它分组。")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("社区分类")
        verbose_name_plural = _("社区分类")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """One administrative division. ``path`` is a materialised path of ancestor ids.

    ``path`` is "/1/5/27/" for region 27 under 5 under 1: a subtree is one indexed
    ``path__startswith`` query and the ancestors are the ids in the path, so no recursive
    query is needed for the jurisdiction checks that every request makes.
    """

    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices)
    code = models.CharField(_("区划代码"), max_length=12, blank=True, null=True, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    # 代表点: where the community (or village) committee sits. An Open311 request that gives only
    # lat/long is placed in the nearest community that has one (cases.open311.intake).
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    # 社区分类: only a community or village has one (``clean``); dashboards group by it.
    region_class = models.ForeignKey(
        RegionClass,
        verbose_name=_("社区分类"),
        on_delete=models.PROTECT,
        related_name="regions",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="region_unique_name_in_parent"
            ),
            models.CheckConstraint(
                condition=Q(level=RegionLevel.CITY) | Q(parent__isnull=False),
                name="region_only_city_is_root",
            ),
            models.CheckConstraint(
                condition=Q(region_class__isnull=True) | Q(level=RegionLevel.COMMUNITY),
                name="region_class_only_on_community",
                violation_error_message=_("只有社区（村）可以设置社区分类。"),
            ),
        ]
        indexes = [
            models.Index(fields=["level", "parent"], name="region_level_parent"),
            # LIKE 'prefix%' uses this index on PostgreSQL whatever the collation.
            models.Index(
                fields=["path"], name="region_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if self.parent_id and self.parent and self.level != self.parent.level + 1:
            raise ValueError("A region's level must be one below its parent's.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        parent_path = self.parent.path if self.parent_id and self.parent else "/"
        path = f"{parent_path}{self.pk}/"
        if path != self.path:
            self.path = path
            Region.objects.filter(pk=self.pk).update(path=path)

    def clean(self) -> None:
        """A class (社区分类) describes a community or village: a street or a district has
        communities of several classes, so it has none of its own."""
        super().clean()
        if self.region_class_id and self.level != RegionLevel.COMMUNITY:
            raise ValidationError(
                {"region_class": _("只有社区（村）可以设置社区分类。")}, code="not_community"
            )

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the city down to this region, itself included."""
        return path_ids(self.path)

    def is_within(self, other: Region) -> bool:
        """True when this region is ``other`` or lies inside it."""
        return self.path.startswith(other.path)

    def full_name(self) -> str:
        """'城东区大众街街道康西社区': the names below the city, the way addresses are written."""
        names = dict(Region.objects.filter(pk__in=self.ancestor_ids).values_list("pk", "name"))
        return _written(names, self.ancestor_ids)

    @staticmethod
    def full_names(ids: Iterable[int]) -> dict[int, str]:
        """Region id → ``full_name``, for many regions in two queries."""
        paths = dict(Region.objects.filter(pk__in=set(ids)).values_list("pk", "path"))
        ancestors = {pk for path in paths.values() for pk in path_ids(path)}
        names = dict(Region.objects.filter(pk__in=ancestors).values_list("pk", "name"))
        return {pk: _written(names, path_ids(path)) for pk, path in paths.items()}


def _written(names: dict[int, str], ancestor_ids: list[int]) -> str:
    """The names of ``ancestor_ids`` below the city, run together as an address writes them."""
    parts = [names[pk] for pk in ancestor_ids if pk in names]
    return "".join(parts[1:] if len(parts) > 1 else parts)


class UnitKind(models.TextChoices):
    PARTY_GOVERNMENT = "party_government", _("党委/政府")
    DEPARTMENT = "department", _("职能部门")
    STREET_OFFICE = "street_office", _("街道办事处/乡镇政府")
    COMMUNITY_COMMITTEE = "community_committee", _("社区居委会/村委会")
    UTILITY = "utility", _("公共事业单位")
    ENTERPRISE = "enterprise", _("企业")


class Unit(models.Model):
    """A body that receives, handles or supervises cases (承办单位, 督查室, 12345 热线中心 …)."""

    code = models.SlugField(
        _("代码"), max_length=64, unique=True, help_text=_("稳定的英文标识，用于导入和接口。")
    )
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=32, choices=UnitKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["region__path", "name"]
        indexes = [models.Index(fields=["kind", "region"], name="unit_kind_region")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """What a person does. Residents have no membership; every staff role comes from one."""

    RESIDENT = "resident", _("群众")
    OPERATOR = "operator", _("接线员")
    DISPATCHER = "dispatcher", _("派单员")
    HANDLER = "handler", _("承办人")
    SUPERVISOR = "supervisor", _("督查员")
    COMMITTEE = "committee", _("常委会(只读)")
    # 网格员: attached to a community (its committee's unit); files what they find on their
    # rounds (channel 网格员发现) and follows their own filings, as a complainant does. They see
    # no other case and have no workbench.
    GRID_INSPECTOR = "grid_inspector", _("网格员")
    ADMIN = "admin", _("管理员")


STAFF_ROLES = [role for role in Role if role != Role.RESIDENT]


class Membership(models.Model):
    """A user works in a unit in one role; a person may hold several."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        _("角色"), max_length=16, choices=[(r.value, r.label) for r in STAFF_ROLES]
    )
    is_leader = models.BooleanField(
        _("单位负责人"), default=False, help_text=_("督办升级时通知的负责人。")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], name="membership_unique_user_unit_role"
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.RESIDENT), name="membership_role_is_staff"
            ),
        ]
        indexes = [models.Index(fields=["user", "role"], name="membership_user_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class ServiceHeartbeat(models.Model):
    """When a background service last proved it was alive (the worker runs a task each minute).

    ``/healthz`` reports the age of each heartbeat, so operators see a stopped worker or beat
    without reading logs.
    """

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = _("服务心跳")
        verbose_name_plural = _("服务心跳")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
