"""Work-queue filters for ``GET /api/v1/cases/``."""

from __future__ import annotations

import datetime as dt
import re

import django_filters
from django import forms
from django.db.models import Case as Choose
from django.db.models import Exists, Func, OuterRef, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat, Left, Length, Repeat, Replace, Trim, Upper
from django.db.models.lookups import Contains
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from org.api.filters import IdFilter
from org.models import Region, Unit
from xining_issues.privacy import COMPOUND_SURNAMES, HONORIFICS, PLACEHOLDER_NAMES, mask_text

from .. import selectors
from ..models import OPEN_STATUSES, Case, Category, Channel, Stage, Status, SupervisionLevel
from ..search import bigram_filter
from ..selectors import queue_filter, queue_filters, stage_filter

QUEUES = list(queue_filters(timezone.now()))


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, handed to the database in UTC. Python accepts offsets up to ±23:59,
    PostgreSQL only up to ±15:59 (``+17:12`` was a 500), and a moment at the edge of the
    calendar may not exist in UTC at all (year 1 at +05:00): a 400 on the field."""

    def to_python(self, value: object) -> dt.datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("时间超出范围。"), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class CaseFilter(django_filters.FilterSet):
    # distinct=False: these are columns of the case itself, so no row can repeat, and a
    # DISTINCT would make PostgreSQL sort every matching case before the cursor takes 50.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    stage = django_filters.ChoiceFilter(choices=Stage.choices, method="filter_stage")
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), method="filter_category", label="category (and below)"
    )
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), method="filter_region", label="region (and below)"
    )
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.all(), method="filter_unit", label="lead or co-handling unit"
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="past its deadline now")
    supervision_level = django_filters.MultipleChoiceFilter(
        choices=SupervisionLevel.choices, distinct=False
    )
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, distinct=False)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_q", label="search (code, title, description)")
    topic = IdFilter(field_name="topics", label="linked to this 每月一题 topic")
    queue = django_filters.ChoiceFilter(
        choices=[(name, name) for name in QUEUES], method="filter_queue", label="workbench tab"
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_queue(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        if not value:
            return queryset
        return queryset.filter(
            queue_filter(value, timezone.now(), getattr(self.request, "user", None))
        )

    def filter_stage(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.filter(stage_filter(value)) if value else queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_category(
        self, queryset: QuerySet[Case], name: str, value: Category | None
    ) -> QuerySet[Case]:
        if value is None:
            return queryset
        ids, frontier = {value.pk}, [value.pk]
        while frontier:  # the category tree is two or three levels deep
            frontier = list(
                Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.update(frontier)
        return queryset.filter(category_id__in=ids)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_region(
        self, queryset: QuerySet[Case], name: str, value: Region | None
    ) -> QuerySet[Case]:
        return queryset.filter(region__path__startswith=value.path) if value else queryset

    @extend_schema_field(OpenApiTypes.INT)
    def filter_unit(
        self, queryset: QuerySet[Case], name: str, value: Unit | None
    ) -> QuerySet[Case]:
        if value is None:
            return queryset
        co = Case.co_units.through.objects.filter(case=OuterRef("pk"), unit=value)
        return queryset.filter(Q(lead_unit=value) | Q(Exists(co)))

    def filter_overdue(
        self, queryset: QuerySet[Case], name: str, value: bool | None
    ) -> QuerySet[Case]:
        if value is None:
            return queryset
        now = timezone.now()
        late = Q(status=Status.SUBMITTED, accept_by__lt=now) | Q(
            status__in=[Status.DISPATCHED, Status.HANDLING], resolve_by__lt=now
        )
        late &= Q(status__in=OPEN_STATUSES)
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_q(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        """Chinese full text: ILIKE on title and description, with the rows chosen by the
        bigram index on PostgreSQL (``cases.search``) and by a plain scan on SQLite; a tracking
        code matches exactly, on every row.

        The search may not tell a reader what masking hides from them (PIPL), or ``q=1391234``
        against ``q=1391235`` would read a masked phone back digit by digit. So the text is
        searched as stored only on the cases whose complainant the reader may see whole
        (``selectors.identity_filter``, the same rule as the serializers). On the others it is
        searched only for a query that masking cannot touch (``harmless_query``: no run of
        three digits, nothing ``mask_text`` would mask) and only in the text with the
        complainant's name masked in SQL, and, for a query that could be part of an e-mail
        address, only in texts that hold none (``masked_text_filter``). The complainant's name
        field is never searched. One query, no pass per row in Python; the conditions are
        ANDed to the plain ILIKEs, so the bigram index still chooses the rows. (It is built on the
        text as stored, so a query that matches only a masking placeholder finds nothing: the
        search never tells more than the text shows.)"""
        value = value.strip()
        if not value:
            return queryset
        # The bigram index chooses the rows on PostgreSQL (cases.search); ILIKE decides.
        walk = getattr(self.request, "search_walks", False)
        text = bigram_filter(value, walk=walk) & (
            Q(title__icontains=value) | Q(description__icontains=value)
        )
        shown = selectors.identity_filter(self.request.user)
        if harmless_query(value):
            shown |= masked_text_filter(value)
        return queryset.filter(Q(tracking_code=value.upper()) | (text & shown))


# Characters that join the digits of a number as people write it: 139-1234 5678, 139.1234.
_NUMBER_JOINS = re.compile(r"[\s\-.()（）+*/．－]")
_THREE_DIGITS = re.compile(r"\d{3}")  # any digits, fullwidth included
_EMAIL_LETTER = re.compile(r"[A-Za-z0-9._+\-@]")


def harmless_query(value: str) -> bool:
    """Whether ``value`` could match masked text as it matches the text as stored, on any case:
    no run of three digits (a phone, ID or card read back in pieces), nothing masked, and not
    so many honorifics touched that their masking would not fit in one SQL expression."""
    digits_together = _NUMBER_JOINS.sub("", value)
    return (
        not _THREE_DIGITS.search(digits_together)
        and mask_text(value) == value
        and len(_honorifics_touched(value)) <= _MAX_HONORIFICS
    )


# Beyond this many honorifics sharing a letter with the query, it is not searched in masked text:
# each is one more nested REPLACE, and SQLite's parser stops at about thirty.
_MAX_HONORIFICS = 8


def _honorifics_touched(value: str) -> list[str]:
    """The honorifics a query could overlap (it shares a letter with them): only in those can
    a masked 孙先生 differ from the text as stored, so only those need masking in SQL."""
    return [h for h in HONORIFICS if set(h) & set(value)]


def _without_names(field: str, honorifics: list[str]) -> Func:
    """``field`` upper-cased with the complainant's name masked as ``mask_text`` masks it, in
    SQL: the name, and its surname (two characters for 欧阳) with each of ``honorifics``,
    kept to the first character and as many stars as it had characters."""
    as_text = TextField()
    name = Upper(Trim("complainant_name"), output_field=as_text)
    compound = Q()
    for two in COMPOUND_SURNAMES:
        compound |= Q(complainant_name__startswith=two)
    surname = Choose(
        When(compound, then=Left(name, 2)),
        default=Left(name, 1),
        output_field=as_text,
    )

    def masked(mention: Func) -> Func:
        stars = Repeat(Value("*"), Length(mention) - 1, output_field=as_text)
        return Concat(Left(mention, 1), stars, output_field=as_text)

    # django-stubs types REPLACE's pattern and replacement as Value; Django takes expressions.
    text: Func = Replace(Upper(field, output_field=as_text), name, masked(name))  # type: ignore[arg-type]
    for honorific in honorifics:
        mention = Concat(surname, Value(honorific), output_field=as_text)
        text = Replace(text, mention, masked(mention), output_field=as_text)  # type: ignore[arg-type]
    return text


def masked_text_filter(value: str) -> Q:
    """The cases where a harmless ``value`` is found in the text as the reader reads it: with
    the complainant's name masked (so 孙建国 and 孙建军 find the same cases), and not inside an
    e-mail address, which is masked too (so a query that could be part of one is searched
    only in texts that hold none)."""
    needle, honorifics = value.upper(), _honorifics_touched(value)
    condition = Q(
        Q(complainant_name="")
        | Q(complainant_name__in=PLACEHOLDER_NAMES)
        | Q(Contains(_without_names("title", honorifics), needle))
        | Q(Contains(_without_names("description", honorifics), needle))
    )
    if _EMAIL_LETTER.search(value):
        condition &= ~Q(title__contains="@") & ~Q(description__contains="@")
    return condition
