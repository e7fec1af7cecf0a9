import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from org.models import Region, RegionClass, RegionLevel, Unit, UnitKind

MAX_ID = 2**63 - 1  # the largest value a BigAutoField primary key holds


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A filter on an object's id: a whole number a primary key can hold, so ``abc``, ``1.5``,
    ``0`` or a number past the largest key is a 400 on the parameter, not a database error
    (SQLite cannot bind an integer past 64 bits). A well-formed id nobody has matches nothing."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def get_max_validator(self) -> MaxValueValidator:
        return MaxValueValidator(MAX_ID)


class RegionFilter(django_filters.FilterSet):
    parent = IdFilter(field_name="parent")
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="root")
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices)
    within = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), method="filter_within", label="within (subtree of)"
    )
    name = django_filters.CharFilter(lookup_expr="icontains")
    # 社区分类 by code: an unknown code is a 400, not an empty list.
    region_class = django_filters.ModelChoiceFilter(
        queryset=RegionClass.objects.all(), to_field_name="code", label="region_class (code)"
    )

    class Meta:
        model = Region
        fields = ["parent", "root", "level", "within", "name", "code", "region_class"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_within(
        self, queryset: QuerySet[Region], name: str, value: Region | None
    ) -> QuerySet[Region]:
        return queryset.filter(path__startswith=value.path) if value else queryset


class UnitFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices)
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), method="filter_region", label="region (and below)"
    )
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Unit
        fields = ["kind", "region", "name", "parent", "code"]

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(
        self, queryset: QuerySet[Unit], name: str, value: Region | None
    ) -> QuerySet[Unit]:
        return queryset.filter(region__path__startswith=value.path) if value else queryset
