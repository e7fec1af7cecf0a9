"""月通报 API: read bulletins; the committee edits a draft and publishes it; its Excel export."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from org import jurisdiction
from topics.models import first_of_month
from xining_issues.downloads import XLSX_TYPE, private_attachment
from xining_issues.errors import WrongState
from xining_issues.transitions import ERRORS

from .. import bulletins, selectors
from ..models import Bulletin, BulletinStatus
from ..models import BulletinEventType as E
from . import serializers as s
from .steps import STEPS


class BulletinFilter(django_filters.FilterSet):
    class Meta:
        model = Bulletin
        fields = ["status"]


class BulletinDraftSerializer(serializers.Serializer):
    month = serializers.DateField(
        required=False, help_text="Any day of the month; default: the current month."
    )


@STEPS.routes
class BulletinViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """月通报: read bulletins; the committee edits a draft and publishes it."""

    serializer_class = s.BulletinSerializer
    filterset_class = BulletinFilter
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Bulletin]:
        return selectors.visible_bulletins(self.request.user).select_related("published_by")

    @extend_schema(
        summary=STEPS[E.EDIT].summary,
        request=STEPS[E.EDIT].input,
        responses={200: s.BulletinSerializer, **ERRORS},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        bulletin = self.get_object()
        serializer = s.BulletinEditSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        bulletin = bulletins.bulletin_update(
            bulletin=bulletin, actor=request.user, **serializer.validated_data
        )
        return Response(s.BulletinSerializer(bulletin).data)

    @extend_schema(
        summary="生成本月草稿 draft a month's bulletin now, from its figures so far (committee; "
        "a draft is rebuilt, a published bulletin is a 409)",
        request=BulletinDraftSerializer,
        responses={200: s.BulletinSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"])
    def draft(self, request: Request) -> Response:
        if not jurisdiction.has_role(request.user, *bulletins.EDIT_ROLES):
            raise PermissionDenied(_("只有常委会和管理员可以生成通报草稿。"))
        given = BulletinDraftSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        month = first_of_month(given.validated_data.get("month") or timezone.localdate())
        if month > timezone.localdate():
            raise ValidationError({"month": [_("不能为未来的月份生成通报。")]})
        bulletin = bulletins.bulletin_generate(month)
        if bulletin.status == BulletinStatus.PUBLISHED:
            raise WrongState(_("该月通报已发布，不能再生成草稿。"))
        return self.detail_response(bulletin.pk)

    def detail_response(self, pk: int) -> Response:
        return Response(s.BulletinSerializer(self.get_queryset().get(pk=pk)).data)


class BulletinExportView(APIView):
    """GET /bulletins/{id}/export.xlsx: the bulletin's text and tables as a workbook."""

    @extend_schema(
        summary="The bulletin's tables as an Excel workbook",
        responses={(200, XLSX_TYPE): OpenApiTypes.BINARY, 404: ERRORS[404]},
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        bulletin = get_object_or_404(selectors.visible_bulletins(request.user), pk=pk)
        return private_attachment(
            bulletins.export_xlsx(bulletin),
            filename=f"bulletin-{bulletin.month:%Y-%m}.xlsx",
            content_type=XLSX_TYPE,
        )
