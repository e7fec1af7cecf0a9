"""月通报 API: read bulletins; the committee edits a draft and publishes it; its Excel export."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xining_issues.downloads import XLSX_TYPE, private_attachment
from xining_issues.transitions import ERRORS

from .. import bulletins, selectors
from ..models import Bulletin
from ..models import BulletinEventType as E
from . import serializers as s
from .steps import STEPS


class BulletinFilter(django_filters.FilterSet):
    class Meta:
        model = Bulletin
        fields = ["status"]


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
