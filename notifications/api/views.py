"""站内消息 API: the signed-in user's inbox.

Served at ``/api/v1/notifications/`` (``notifications.api.urls``): the same paths,
operationIds, component names and JSON as when the inbox lived in ``cases``. ``case`` and
``case_code`` are the subject's id and label when the subject is a case; other subjects (a
topic) leave them empty until the API grows a general ``subject`` field.
"""

from __future__ import annotations

from typing import cast

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import messages, services
from ..models import Notification, NotificationPreference
from ..subjects import subject_url

# The ``app_label.model`` of the subjects the ``case`` fields describe. A string, not an
# import: this app does not know the cases app, only how its subjects are named.
CASE_SUBJECT = ("cases", "case")


class CaseIdField(serializers.IntegerField):
    """``case``: the subject's id when the subject is a case, else null (as the old FK was)."""

    def __init__(self) -> None:
        super().__init__(source="*", read_only=False, allow_null=True, required=False)

    def to_representation(self, note: Notification) -> int | None:  # type: ignore[override]
        return note.subject_id if _about_a_case(note) else None


def _about_a_case(note: Notification) -> bool:
    if note.subject_type_id is None:
        return False
    # get_for_id is cached per process: no query per row.
    subject_type = ContentType.objects.get_for_id(note.subject_type_id)
    return (subject_type.app_label, subject_type.model) == CASE_SUBJECT


def _reader_id(request: Request) -> int:
    # Signed-in users only (the API's default permission): the reader is a real account.
    return cast(int, request.user.pk)


class NotificationSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    case = CaseIdField()
    case_code = serializers.SerializerMethodField()
    subject_label = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "case", "case_code", "subject_label", "url",
                  "created_at", "read_at", "is_read"]  # fmt: skip

    def _text(self, note: Notification) -> tuple[str, str]:
        return messages.render(note.kind, note.params)

    def get_title(self, note: Notification) -> str:
        return self._text(note)[0]

    def get_body(self, note: Notification) -> str:
        return self._text(note)[1]

    # A string in the schema, as the old ``CharField(source="case.tracking_code")`` was.
    @extend_schema_field(OpenApiTypes.STR)
    def get_case_code(self, note: Notification) -> str | None:
        return note.subject_label if _about_a_case(note) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, note: Notification) -> str | None:
        """The page of the message's subject where its app registered one (a topic's page);
        a case's page is found from ``case``."""
        return subject_url(note.subject_type_id, note.subject_id)

    def get_is_read(self, note: Notification) -> bool:
        return note.read_at is not None


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=32)
    title = serializers.CharField(read_only=True)
    email = serializers.BooleanField()
    sms = serializers.BooleanField()

    def validate_kind(self, kind: str) -> str:
        if kind not in messages.STAFF_KINDS:
            raise serializers.ValidationError(_("没有这类消息。"))
        return kind


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's messages, newest first; ``?unread=true`` for the unread ones."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; get_queryset scopes to the user

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        queryset = Notification.objects.filter(user_id=_reader_id(self.request))
        if self.request.query_params.get("unread") in ("1", "true"):
            queryset = queryset.filter(read_at__isnull=True)
        return queryset

    @extend_schema(
        methods=["GET"],
        summary="How the user receives each kind of staff message besides the inbox",
        responses=PreferenceSerializer(many=True),
    )
    @extend_schema(
        methods=["PUT"],
        summary="Choose e-mail and SMS per kind (the inbox is always on); kinds not sent keep "
        "their choice",
        request=PreferenceSerializer(many=True),
        responses=PreferenceSerializer(many=True),
    )
    @action(detail=False, methods=["get", "put"], pagination_class=None)
    def preferences(self, request: Request) -> Response:
        user_id = _reader_id(request)
        if request.method == "PUT":
            given = PreferenceSerializer(data=request.data, many=True)
            given.is_valid(raise_exception=True)
            chosen = {row["kind"]: row for row in given.validated_data}  # the last of a kind
            NotificationPreference.objects.bulk_create(
                [
                    NotificationPreference(
                        user_id=user_id, kind=kind, email=row["email"], sms=row["sms"]
                    )
                    for kind, row in chosen.items()
                ],
                update_conflicts=True,
                unique_fields=["user", "kind"],
                update_fields=["email", "sms"],
            )
        rows = {
            kind: services.Channels(email=email, sms=sms)
            for kind, email, sms in NotificationPreference.objects.filter(
                user_id=user_id
            ).values_list("kind", "email", "sms")
        }
        answer = [
            {
                "kind": kind,
                "title": str(messages.TEMPLATES[kind][0]),
                "email": rows.get(kind, services.Channels()).email,
                "sms": rows.get(kind, services.Channels()).sms,
            }
            for kind in messages.STAFF_KINDS
        ]
        return Response(PreferenceSerializer(answer, many=True).data)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark one message read (idempotent)."""
        note = self.get_object()
        if note.read_at is None:
            note.read_at = timezone.now()
            note.save(update_fields=["read_at"])
        return Response(NotificationSerializer(note).data)

    @extend_schema(request=None, responses=UnreadSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark every message read."""
        Notification.objects.filter(user_id=_reader_id(request), read_at__isnull=True).update(
            read_at=timezone.now()
        )
        return Response({"unread": 0})

    @extend_schema(responses=UnreadSerializer)
    @action(detail=False, methods=["get"])
    def unread(self, request: Request) -> Response:
        """How many unread messages (for the badge in the navigation)."""
        count = Notification.objects.filter(
            user_id=_reader_id(request), read_at__isnull=True
        ).count()
        return Response({"unread": count})
