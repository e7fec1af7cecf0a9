"""Serializers: input for each action, output scoped by what the reader may see (PIPL masking).

Over 500 lines until the transition registry (issue 12, item 3) binds each step's input to its
entry; the output side (list, detail, timeline) must stay one place, because the masking rules
of each field are checked together by tests/cases/api/test_privacy.py.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any, cast

from django.db import connections, models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from org.models import Region, RegionLevel, Unit, User

from .. import selectors, workflow
from ..models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Channel,
    ExtensionRequest,
    ExtensionStatus,
    KnowledgeArticle,
    Outcome,
    Rating,
    RejectReason,
    ReplyTemplate,
    ReturnRequest,
    ReturnStatus,
    Status,
    Urgency,
)

# --- reference data ---------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = [
            "id", "code", "name", "parent", "is_urgent",
            "accept_amount", "accept_unit", "contact_amount", "contact_unit",
            "resolve_amount", "resolve_unit", "complex_resolve_amount", "complex_resolve_unit",
        ]  # fmt: skip


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# --- output -----------------------------------------------------------------------------------
#
# The case page, its timeline and the work queue are the paths every member of staff waits on,
# and building and walking DRF's fields was most of their time: a ModelSerializer builds its
# fields from the model for every request (a detail is one instance, so about fifty fields for
# one row) and calls two methods per field per row. Their serializers therefore write each
# answer out in ``to_representation``, straight from the instance, with the same converters
# DRF would use (built once per process below). The declared fields stay what the OpenAPI
# schema is made from, and ``represent_by_fields`` is DRF's own answer from them: a test holds
# the two equal, key for key and in order, for every status and every kind of reader.

_DATETIME = serializers.DateTimeField()
_COORDINATE = serializers.DecimalField(max_digits=9, decimal_places=6)


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _coordinate(value: Decimal | None) -> str | None:
    return None if value is None else _COORDINATE.to_representation(value)


def _named(obj: Any) -> dict[str, Any] | None:
    """``NamedSerializer``'s answer for a region, unit or category (None stays None)."""
    return None if obj is None else {"id": obj.pk, "name": obj.name}


@functools.lru_cache(maxsize=128)
def _labels(field: models.Field, language: str | None) -> dict[Any, str]:
    """A choice field's labels in one language: ``get_FOO_display`` looks each up through
    gettext on every call, and a queue page asks for dozens."""
    return {value: str(label) for value, label in field.flatchoices}


def _display(instance: models.Model, name: str) -> Any:
    """``instance.get_<name>_display()``, from the labels of the active language."""
    # ``name`` is one of the model's own choice fields, never a reverse relation.
    field = cast(models.Field, instance._meta.get_field(name))
    value = getattr(instance, field.attname)
    return _labels(field, get_language()).get(value, value)


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "original_name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": reverse(
            "case-attachment", kwargs={"pk": attachment.case_id, "attachment_id": attachment.pk}
        ),
    }


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "url"]

    def get_url(self, attachment: Attachment) -> str:
        return reverse(
            "case-attachment", kwargs={"pk": attachment.case_id, "attachment_id": attachment.pk}
        )

    def to_representation(self, attachment: Attachment) -> dict[str, Any]:
        return _attachment(attachment)

    def represent_by_fields(self, attachment: Attachment) -> dict[str, Any]:
        return dict(super().to_representation(attachment))


class PendingExtensionSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name")

    class Meta:
        model = ExtensionRequest
        fields = ["id", "unit", "requested_until", "reason", "created_at"]


class PendingReturnSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name")
    # The staff member who asked, named as the timeline names who acted.
    requested_by: serializers.StringRelatedField[User] = serializers.StringRelatedField()

    class Meta:
        model = ReturnRequest
        fields = ["id", "unit", "requested_by", "reason", "created_at"]


class CaseListSerializer(serializers.ModelSerializer):
    """A queue row. Name and phone are masked unless the reader may see them whole, and so is
    personal data typed into the free text (``selectors.masked_text``)."""

    # Free text that follows the name and phone fields' rule (PIPL).
    masked_fields: tuple[str, ...] = ("title",)

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    stage = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    category = NamedSerializer(read_only=True)
    district = NamedSerializer(read_only=True)
    street = NamedSerializer(read_only=True)
    region = NamedSerializer(read_only=True)
    lead_unit = NamedSerializer(read_only=True, allow_null=True)
    complainant_name = serializers.SerializerMethodField()
    complainant_phone = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "tracking_code", "title", "status", "status_display", "stage", "channel",
            "urgency", "is_complex", "supervision_level", "category", "district", "street",
            "region", "lead_unit", "complainant_name", "complainant_phone", "hide_identity",
            "accept_by", "contact_by", "resolve_by", "dispatched_at", "created_at",
            "updated_at", "summary",
        ]  # fmt: skip

    def _identity(self, case: Case) -> bool:
        # DRF's context is a dict (the stubs type it as a read-only Mapping).
        cache = cast(dict[str, Any], self.context).setdefault("_identity", {})
        if case.pk not in cache:
            cache[case.pk] = selectors.can_see_identity(self.context["request"].user, case)
        return cache[case.pk]

    def _text(self, case: Case, text: str) -> str:
        return text if self._identity(case) else selectors.masked_text(text, case=case)

    def to_representation(self, case: Case) -> dict[str, Any]:
        title = self._text(case, case.title or "")
        return {
            "id": case.pk,
            "tracking_code": case.tracking_code,
            "title": title,
            "status": case.status,
            "status_display": _display(case, "status"),
            "stage": self.get_stage(case),
            "channel": case.channel,
            "urgency": case.urgency,
            "is_complex": case.is_complex,
            "supervision_level": case.supervision_level,
            "category": _named(case.category),
            "district": _named(case.district),
            "street": _named(case.street),
            "region": _named(case.region),
            "lead_unit": _named(case.lead_unit),
            "complainant_name": self.get_complainant_name(case),
            "complainant_phone": self.get_complainant_phone(case),
            "hide_identity": case.hide_identity,
            "accept_by": _when(case.accept_by),
            "contact_by": _when(case.contact_by),
            "resolve_by": _when(case.resolve_by),
            "dispatched_at": _when(case.dispatched_at),
            "created_at": _when(case.created_at),
            "updated_at": _when(case.updated_at),
            # The title masked once serves both (get_summary masks the same text).
            "summary": _cut(title) if case.title else self.get_summary(case),
        }

    def represent_by_fields(self, case: Case) -> dict[str, Any]:
        """DRF's answer from the declared and model fields, masked: what
        ``to_representation`` must equal."""
        data = dict(super().to_representation(case))
        for field in self.masked_fields:
            data[field] = self._text(case, data[field] or "")
        return data

    def get_stage(self, case: Case) -> str:
        return selectors.stage_of(case)

    def get_summary(self, case: Case) -> str:
        """The title, or the start of the description for cases logged without one (masked
        before it is cut, so that a number cut in two is still found)."""
        return _cut(self._text(case, case.title or case.description))

    def get_complainant_name(self, case: Case) -> str:
        name = case.complainant_name
        return name if self._identity(case) else selectors.mask_name(name)

    def get_complainant_phone(self, case: Case) -> str:
        phone = case.complainant_phone
        return phone if self._identity(case) else selectors.mask_phone(phone)


def _cut(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


class CaseDetailSerializer(CaseListSerializer):
    co_units = NamedSerializer(many=True, read_only=True)
    # 派单层级: whose dispatchers dispatch it (the duty level decides, cases.grading)
    dispatch_region = NamedSerializer(read_only=True)
    region_full_name = serializers.SerializerMethodField()
    duplicate_of: serializers.SlugRelatedField[Case] = serializers.SlugRelatedField(
        slug_field="tracking_code", read_only=True, allow_null=True
    )
    attachments = AttachmentSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField()
    pending_extension = serializers.SerializerMethodField()
    pending_return = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "description", "address", "lat", "lng", "region_full_name", "co_units",
            "duty_level", "dispatch_region", "duplicate_of", "return_count", "reopen_count",
            "outcome",
            "reply_text", "rating", "excluded_from_satisfaction", "reject_reason",
            "accepted_at", "dispatched_at", "signed_at", "contacted_at", "replied_at",
            "evaluated_at", "closed_at", "attachments", "allowed_actions",
            "pending_extension", "pending_return",
        ]  # fmt: skip

    masked_fields = ("title", "description", "address", "reply_text")

    def to_representation(self, case: Case) -> dict[str, Any]:
        data = super().to_representation(case)
        data.update(
            {
                "description": self._text(case, case.description or ""),
                "address": self._text(case, case.address or ""),
                "lat": _coordinate(case.lat),
                "lng": _coordinate(case.lng),
                "region_full_name": self.get_region_full_name(case),
                "co_units": [_named(unit) for unit in case.co_units.all()],
                "duty_level": case.duty_level,
                "dispatch_region": _named(case.dispatch_region),
                "duplicate_of": self._duplicate_code(case),
                "return_count": case.return_count,
                "reopen_count": case.reopen_count,
                "outcome": case.outcome,
                "reply_text": self._text(case, case.reply_text or ""),
                "rating": case.rating,
                "excluded_from_satisfaction": case.excluded_from_satisfaction,
                "reject_reason": case.reject_reason,
                "accepted_at": _when(case.accepted_at),
                "signed_at": _when(case.signed_at),
                "contacted_at": _when(case.contacted_at),
                "replied_at": _when(case.replied_at),
                "evaluated_at": _when(case.evaluated_at),
                "closed_at": _when(case.closed_at),
                "attachments": [_attachment(a) for a in self._attachments(case)],
                "allowed_actions": self.get_allowed_actions(case),
                "pending_extension": self.get_pending_extension(case),
                "pending_return": self.get_pending_return(case),
            }
        )
        return data

    @staticmethod
    def _duplicate_code(case: Case) -> str | None:
        """The tracking code of the case this one repeats (``duplicate_code`` of
        ``selectors.case_detail``, else read through the relation)."""
        if case.duplicate_of_id is None:
            return None
        code: str | None = getattr(case, "duplicate_code", None)
        # duplicate_of_id is set, so the relation holds a case.
        return code if code is not None else cast(Case, case.duplicate_of).tracking_code

    @staticmethod
    def _attachments(case: Case) -> Any:
        """The case's files; none without a query when the row says it has none
        (``has_attachments``, see ``selectors.case_detail``)."""
        if getattr(case, "has_attachments", True):
            return case.attachments.all()
        return ()

    @extend_schema_field(PendingExtensionSerializer(allow_null=True))
    def get_pending_extension(self, case: Case) -> dict[str, Any] | None:
        """The unit's request for more time, for the dispatcher to decide. It is a note between
        staff (its event is not public), so the complainant does not read it here either.

        Read only when the row says one is pending (``has_pending_extension``, which the
        buttons need anyway): most cases never ask for more time, and then it costs no query."""
        if getattr(case, "has_pending_extension", True) is False:
            return None
        pending = list(
            case.extension_requests.filter(status=ExtensionStatus.PENDING)
            .select_related("unit")
            .order_by("created_at", "pk")
        )
        if not pending or not selectors.reads_as_staff(self.context["request"].user, case):
            return None
        data = dict(PendingExtensionSerializer(pending[0]).data)
        data["reason"] = self._text(case, data["reason"])
        return data

    @extend_schema_field(PendingReturnSerializer(allow_null=True))
    def get_pending_return(self, case: Case) -> dict[str, Any] | None:
        """The unit's request to give the case back (申请退回), for the dispatcher to decide: a
        note between staff, like a request for more time. Only a signed case (办理中) can have
        one, so no other costs a query."""
        if case.status != Status.HANDLING or getattr(case, "has_pending_return", True) is False:
            return None
        pending = list(
            case.return_requests.filter(status=ReturnStatus.PENDING).select_related(
                "unit", "requested_by"
            )
        )
        if not pending or not selectors.reads_as_staff(self.context["request"].user, case):
            return None
        data = dict(PendingReturnSerializer(pending[0]).data)
        data["reason"] = self._text(case, data["reason"])
        return data

    def get_region_full_name(self, case: Case) -> str:
        return f"{case.district.name}{case.street.name}{case.region.name}"

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, case: Case) -> list[str]:
        return workflow.allowed_actions(self.context["request"].user, case)


# Payload keys that hold what somebody typed (notes, reasons, replies, comments).
TEXT_KEYS = frozenset({"note", "reason", "text", "reply", "comment"})
# What the complainant reads of each public step: the facts that concern them, never the notes
# staff write to each other (a dispatch note, a return or reopen reason, a 督办 order) nor the
# role of who acted. Steps not listed show no details.
RESIDENT_PAYLOAD: dict[str, frozenset[str]] = {
    "submit": frozenset({"channel"}),
    "accept": frozenset({"category"}),
    "reject": frozenset({"reason"}),  # a RejectReason code, the answer they are owed
    "resolve_at_intake": frozenset({"reply", "outcome"}),
    "dispatch": frozenset({"lead_unit", "co_units", "resolve_by"}),
    "reassign": frozenset({"lead_unit", "co_units", "resolve_by"}),
    "sign": frozenset({"unit"}),
    "progress": frozenset({"text"}),  # only public progress reaches them
    "reply": frozenset({"outcome", "text"}),
    "evaluate": frozenset({"rating", "comment"}),  # their own words
    "reopen": frozenset({"resolve_by"}),
    "close": frozenset({"not_evaluated"}),
    "merge": frozenset({"into"}),  # the main case's code: its progress is theirs now
}


class EventSerializer(serializers.ModelSerializer):
    """A step of the timeline, for its audience (the view sets the context):

    * ``resident``: the complainant, reading only as such: public steps (the view filters
      them), unit names but no staff names, the payload cut to ``RESIDENT_PAYLOAD``;
    * otherwise staff, with names and every detail; the typed text is whole when ``whole``
      (they may see the complainant's identity) and masked when not.
    """

    type_display = serializers.CharField(source="get_type_display", read_only=True)
    actor = serializers.SerializerMethodField()
    unit = NamedSerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = CaseEvent
        fields = [
            "id", "type", "type_display", "actor", "unit", "from_status", "to_status",
            "payload", "is_public", "created_at", "attachments",
        ]  # fmt: skip

    def get_actor(self, event: CaseEvent) -> str | None:
        # Staff act under their names; a resident's own actions show as 诉求人, never a name.
        if event.actor is None or event.payload.get("role") in (None, "resident"):
            return str(_("诉求人")) if event.type in ("submit", "evaluate") else None
        # The complainant reads who acted by unit, never by person.
        return None if self.context.get("resident") else str(event.actor)

    def to_representation(self, event: CaseEvent) -> dict[str, Any]:
        return self._audience(
            event,
            {
                "id": event.pk,
                "type": event.type,
                "type_display": _display(event, "type"),
                "actor": self.get_actor(event),
                "unit": _named(event.unit),
                "from_status": event.from_status,
                "to_status": event.to_status,
                "payload": event.payload,
                "is_public": event.is_public,
                "created_at": _when(event.created_at),
                "attachments": [_attachment(a) for a in event.attachments.all()],
            },
        )

    def represent_by_fields(self, event: CaseEvent) -> dict[str, Any]:
        """DRF's answer from the fields: what ``to_representation`` must equal."""
        return self._audience(event, dict(super().to_representation(event)))

    def _audience(self, event: CaseEvent, data: dict[str, Any]) -> dict[str, Any]:
        """The payload as this reader may read it (see the class docstring)."""
        payload = event.payload or {}
        if self.context.get("resident"):
            keep = RESIDENT_PAYLOAD.get(event.type, frozenset())
            data["payload"] = {k: v for k, v in payload.items() if k in keep}
        elif not self.context.get("whole", False):
            case = self.context["case"]
            data["payload"] = {
                k: selectors.masked_text(v, case=case)
                if k in TEXT_KEYS and isinstance(v, str)
                else v
                for k, v in payload.items()
            }
        return data


class PublicEventSerializer(serializers.ModelSerializer):
    """A line of the public tracking timeline: what happened and when, no people, and the
    texts masked (anyone holding the code and four digits reads them). The context names the
    ``case``."""

    type_display = serializers.CharField(source="get_type_display", read_only=True)
    text = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ["type", "type_display", "to_status", "created_at", "text"]

    def get_text(self, event: CaseEvent) -> str:
        text = ""
        if event.type == "progress" and event.payload.get("public"):
            text = event.payload.get("text", "")
        elif event.type in ("reply", "resolve_at_intake"):
            text = event.payload.get("text") or event.payload.get("reply", "")
        return selectors.masked_text(text, case=self.context["case"]) if text else ""


class MergedIntoSerializer(serializers.ModelSerializer):
    """合并: the main case as the tracking page of a case merged into it shows it: its public
    progress and answer (masked as the main case's own tracking page masks them), never its
    title, description or complainant."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    timeline = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "tracking_code", "status", "status_display", "resolve_by", "outcome", "reply_text",
            "replied_at", "timeline",
        ]  # fmt: skip

    def to_representation(self, case: Case) -> dict[str, Any]:
        data = super().to_representation(case)
        data["reply_text"] = selectors.masked_text(data["reply_text"] or "", case=case)
        return data

    @extend_schema_field(PublicEventSerializer(many=True))
    def get_timeline(self, case: Case) -> list[dict[str, Any]]:
        events = case.events.filter(is_public=True).order_by("created_at", "id")
        return cast(
            list[dict[str, Any]],
            PublicEventSerializer(events, many=True, context={"case": case}).data,
        )


class PublicCaseSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    category = serializers.CharField(source="category.name")
    district = serializers.CharField(source="district.name")
    street = serializers.CharField(source="street.name")
    can_evaluate = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    merged_into = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "tracking_code", "status", "status_display", "category", "district", "street",
            "title", "created_at", "resolve_by", "outcome", "reply_text", "rating",
            "can_evaluate", "timeline", "merged_into",
        ]  # fmt: skip

    def get_can_evaluate(self, case: Case) -> bool:
        return case.status == "replied"

    @extend_schema_field(MergedIntoSerializer(allow_null=True))
    def get_merged_into(self, case: Case) -> dict[str, Any] | None:
        """合并: the main case's public progress and answer, for a case merged into it."""
        if case.merged_at is None or case.duplicate_of_id is None:
            return None
        main = Case.objects.get(pk=case.duplicate_of_id)
        return cast(dict[str, Any], MergedIntoSerializer(main).data)

    def to_representation(self, case: Case) -> dict[str, Any]:
        data = super().to_representation(case)
        for field in ("title", "reply_text"):
            data[field] = selectors.masked_text(data[field] or "", case=case)
        return data

    @extend_schema_field(PublicEventSerializer(many=True))
    def get_timeline(self, case: Case) -> list[dict[str, Any]]:
        events = [e for e in case.events.all() if e.is_public]
        # many=True builds a ListSerializer whose data is a list; the stubs type it as a dict.
        return cast(
            list[dict[str, Any]],
            PublicEventSerializer(events, many=True, context={"case": case}).data,
        )


class ReplyTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplyTemplate
        fields = ["id", "title", "text", "category"]


class PublicResultSerializer(serializers.ModelSerializer):
    """A finished case on the home page: what and where (street level) and the answer, with
    personal data typed into them masked."""

    category = serializers.CharField(source="category.name")
    district = serializers.CharField(source="district.name")
    street = serializers.CharField(source="street.name")

    class Meta:
        model = Case
        fields = ["category", "district", "street", "title", "reply_text", "replied_at", "rating"]

    def to_representation(self, case: Case) -> dict[str, Any]:
        data = super().to_representation(case)
        for field in ("title", "reply_text"):
            data[field] = selectors.masked_text(data[field] or "", case=case)
        return data


class QueueCountsSerializer(serializers.Serializer):
    submitted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    dispatched = serializers.IntegerField()
    handling = serializers.IntegerField()
    replied = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    overdue = serializers.IntegerField()
    supervised = serializers.IntegerField()


# --- input ------------------------------------------------------------------------------------


class PrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """``PrimaryKeyRelatedField`` for the intake path, at a third of its cost.

    The lookup is the SQL the ORM writes for ``queryset.filter(pk=…)``, compiled once per
    process for each serializer field and database and then run through ``queryset.raw`` with
    the pk: the same query, the same model instance (converters included), the same errors.
    Building that query anew on every request was most of the cost of DRF's field (the two on
    an intake POST were an eighth of its CPU, issue 11). The queryset must be the declared
    one: a field that narrows it per request keeps ``PrimaryKeyRelatedField``."""

    # Stands for the pk while the lookup is compiled; found again among the parameters.
    PK_PLACEHOLDER = -7_340_033
    _compiled: dict[tuple[Any, ...], tuple[str, tuple[Any, ...], int]] = {}

    def _lookup(self, queryset: Any) -> tuple[str, tuple[Any, ...], int]:
        key = (type(self.parent), self.field_name, queryset.db)
        compiled = self._compiled.get(key)
        if compiled is None:
            # As ``QuerySet.get`` does: the pk filter, and no ordering.
            lookup = queryset.filter(pk=self.PK_PLACEHOLDER).order_by()
            sql, params = lookup.query.sql_with_params()
            compiled = self._compiled[key] = (sql, params, params.index(self.PK_PLACEHOLDER))
        return compiled

    def to_internal_value(self, data: Any) -> Any:
        if self.pk_field is not None:
            data = self.pk_field.to_internal_value(data)
        # A writable related field always has a queryset (DRF asserts it when building it).
        queryset = cast(models.QuerySet[Any], self.get_queryset())
        try:
            if isinstance(data, bool):
                raise TypeError
            # The ORM's own conversion of the pk, so that "x" fails as in ``queryset.get``.
            pk = queryset.model._meta.pk.get_prep_value(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        sql, params, index = self._lookup(queryset)
        # A pk outside the column's range matches no row; the ORM's lookup says so without asking
        # the database (which would overflow: a 500), and the raw query must do the same.
        pk_field = queryset.model._meta.pk
        low, high = connections[queryset.db].ops.integer_field_range(pk_field.get_internal_type())
        in_range = not isinstance(pk, int) or (
            (low is None or pk >= low) and (high is None or pk <= high)
        )
        found = in_range and list(queryset.raw(sql, (*params[:index], pk, *params[index + 1 :])))
        if not found:
            self.fail("does_not_exist", pk_value=data)
        return found[0]


class CaseSubmitSerializer(serializers.Serializer):
    category = PrimaryKeyField(queryset=Category.objects.filter(is_active=True))
    region = PrimaryKeyField(queryset=Region.objects.all())
    description = serializers.CharField(max_length=2000)
    complainant_name = serializers.CharField(max_length=64)
    complainant_phone = serializers.CharField(max_length=20)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    lat = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-90,
        max_value=90,
    )
    lng = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    hide_identity = serializers.BooleanField(required=False, default=False)
    # Open311 is the channel of keyed third-party clients (cases.open311), never typed here.
    channel = serializers.ChoiceField(
        choices=[(v, label) for v, label in Channel.choices if v != Channel.OPEN311],
        required=False,
        default=Channel.WEB,
    )
    urgency = serializers.ChoiceField(
        choices=Urgency.choices, required=False, default=Urgency.NORMAL
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=20
    )


class SubmittedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_code = serializers.CharField()


class VisibleCaseCodeField(serializers.SlugRelatedField):
    """A case named by its tracking code (as typed: spaces and case do not matter), among the
    cases the acting user may see. A code out of their sight gets the same answer as a code
    that does not exist, so naming a duplicate cannot tell a dispatcher that a case exists
    outside their area. The acting user is the context's ``request.user``; a serializer built
    without a request (a script, the shell) resolves any code."""

    default_error_messages = {
        "does_not_exist": _("没有找到受理编号为 {value} 的诉求。"),
        "invalid": _("受理编号无效。"),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="tracking_code", queryset=Case.objects.all(), **kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        if request is None:
            return Case.objects.all()
        return Case.objects.filter(selectors.visibility_filter(request.user))

    def to_internal_value(self, data: Any) -> Case:
        return super().to_internal_value(data.strip().upper() if isinstance(data, str) else data)


class VisibleCaseIdField(serializers.PrimaryKeyRelatedField):
    """A case named by its id among the cases the acting user may see; an id out of their
    sight gets the same answer as one that does not exist (as ``VisibleCaseCodeField``)."""

    default_error_messages = {
        "does_not_exist": _("没有找到这件诉求。"),
        "incorrect_type": _("没有找到这件诉求。"),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Case.objects.all(), **kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        if request is None:
            return Case.objects.all()
        return Case.objects.filter(selectors.visibility_filter(request.user))


class CategoryPlaceQuery(serializers.Serializer):
    """The matter and the community a question at intake is about, when known."""

    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.filter(level=RegionLevel.COMMUNITY),
        required=False,
        allow_null=True,
    )


class SimilarQuerySerializer(CategoryPlaceQuery):
    """What intake has typed so far (``GET /api/v1/cases/similar/``): every part optional."""

    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)


class SuggestQuerySerializer(serializers.Serializer):
    """The complaint's words so far (``GET /api/v1/categories/suggest/``); the community, when
    known, picks the units that answered such cases nearby."""

    text = serializers.CharField(max_length=2000, trim_whitespace=True)
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.filter(level=RegionLevel.COMMUNITY),
        required=False,
        allow_null=True,
    )


class SuggestedCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    parent_name = serializers.CharField(allow_null=True, help_text="The parent category.")


class LearnedUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    cases = serializers.IntegerField(help_text="Such cases it answered, rated 满意.")
    share = serializers.FloatField()


class RuleUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.CharField(help_text="The 权责清单 row that names it.")


class CategorySuggestionSerializer(serializers.Serializer):
    category = SuggestedCategorySerializer()
    probability = serializers.FloatField(
        allow_null=True,
        help_text="The model's; null when the rule (the name in the text) put it here.",
    )
    rule_unit = RuleUnitSerializer(
        allow_null=True, help_text="Staff only, with a region: the 权责清单's lead unit."
    )
    learned_units = LearnedUnitSerializer(
        many=True,
        help_text="Staff only: who answered such cases to the complainant's satisfaction.",
    )


class SuggestSerializer(serializers.Serializer):
    """智能派单 (``cases.router``): the likeliest categories, best first."""

    basis = serializers.ChoiceField(
        choices=["model", "rule"],
        help_text="model: the trained model is sure enough; rule: no model, or it is unsure.",
    )
    model_version = serializers.IntegerField(allow_null=True)
    confident = serializers.BooleanField()
    threshold = serializers.FloatField(help_text="ROUTER_MIN_CONFIDENCE")
    suggestions = CategorySuggestionSerializer(many=True)


class SimilarSerializer(serializers.Serializer):
    """Open cases that may be the matter being typed. Intake staff (``rows``) get the cases as
    their queue shows them (``CaseListSerializer``, masked as they may see them); anyone else
    only how many open cases of the category the community has, with the category's and the
    street's names: ``cases`` is then empty."""

    rows = serializers.BooleanField()
    count = serializers.IntegerField()
    category = serializers.CharField()
    street = serializers.CharField()
    cases = CaseListSerializer(many=True)


class MergeSerializer(serializers.Serializer):
    """合并: the main case this one is merged into, by id (``workflow.case_merge``)."""

    into = VisibleCaseIdField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AcceptSerializer(serializers.Serializer):
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.filter(is_active=True), required=False, allow_null=True
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, allow_null=True)
    is_complex = serializers.BooleanField(required=False, default=False)
    duty_level = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=4
    )
    duplicate_of = VisibleCaseCodeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    suggested_category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        help_text="智能派单: the category the dialog suggested first (recorded on the event).",
    )


class RejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RejectReason.choices)
    duplicate_of = VisibleCaseCodeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReplyTextSerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=2000)


class ResolveAtIntakeSerializer(ReplyTextSerializer):
    article = serializers.PrimaryKeyRelatedField(
        queryset=KnowledgeArticle.objects.all(),
        required=False,
        allow_null=True,
        help_text="知识库: the article the reply was taken from (recorded and counted).",
    )


class DispatchSerializer(serializers.Serializer):
    lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(is_active=True))
    co_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(is_active=True), many=True, required=False, default=list
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ProgressSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    public = serializers.BooleanField(required=False, default=False)


class ContactSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=[("phone", _("电话")), ("visit", _("上门")), ("sms", _("短信"))],
        required=False,
        default="phone",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ExtensionRequestSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=2000)


class ExtensionDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class ReturnDecisionSerializer(ExtensionDecisionSerializer):
    """退回审批 is decided as a request for more time is: approve or refuse, with a note."""


class CaseReplySerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    text = serializers.CharField(max_length=2000)
    evidence = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=20
    )


class EvaluateSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class TrackEvaluateSerializer(EvaluateSerializer):
    code = serializers.CharField(max_length=20)
    phone_last4 = serializers.RegexField(r"^\d{4}$")


class SuperviseSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField()
    note = serializers.CharField(max_length=2000)


class RecategoriseSerializer(serializers.Serializer):
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.filter(is_active=True))
    reason = serializers.CharField(max_length=2000)


class CloseSerializer(serializers.Serializer):
    unreasonable = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SuggestionSerializer(serializers.Serializer):
    unit = NamedSerializer()
    co_units = NamedSerializer(many=True)
    reason = serializers.CharField()


class SuggestionsSerializer(serializers.Serializer):
    lead_units = SuggestionSerializer(many=True)
    possible_duplicates = CaseListSerializer(many=True)
    categories = SuggestSerializer(help_text="智能派单: the categories the case's words suggest.")
    learned_units = LearnedUnitSerializer(
        many=True,
        help_text="Who answered cases of its category nearby to the complainant's satisfaction.",
    )


# The calendar the rates are asked about: far enough back for any history the city loads, a
# year ahead at most. Dates beyond it mean nothing here, and 9999-12-31 + 1 day overflows.
EARLIEST_DAY = dt.date(2000, 1, 1)
DAYS_AHEAD = 366


def check_calendar(attrs: dict[str, Any], *names: str) -> None:
    """A 400 naming each date in ``attrs`` outside the calendar (2000-01-01 to a year ahead)."""
    latest = timezone.localdate() + dt.timedelta(days=DAYS_AHEAD)
    message = _("日期须在 %(first)s 至 %(last)s 之间。") % {
        "first": EARLIEST_DAY.isoformat(),
        "last": latest.isoformat(),
    }
    outside = {
        name: [message]
        for name in names
        if attrs.get(name) and not EARLIEST_DAY <= attrs[name] <= latest
    }
    if outside:
        raise serializers.ValidationError(outside)


class RatesQuerySerializer(serializers.Serializer):
    """``?group_by=unit|region&from=YYYY-MM-DD&to=YYYY-MM-DD`` (``to`` inclusive; default: the
    last 30 days; both between 2000-01-01 and a year from today)."""

    group_by = serializers.ChoiceField(choices=["unit", "region"], default="unit")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "from" is a Python keyword, so these two are added here rather than declared.
        fields["from"] = serializers.DateField(required=False)
        fields["to"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_calendar(attrs, "from", "to")
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": [_("结束日期不能早于开始日期。")]})
        return attrs
