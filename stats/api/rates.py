"""``GET /api/v1/stats/rates/``: 响应率 / 解决率 / 满意率 computed from the case events (the
reference calculation, ``stats.rates.compute_rates``), not from the rollup.

It lived in ``cases.api.views`` while the calculation was in ``cases``; the route, its name and
its schema are unchanged. The query serializer stays with the case API's inputs
(``cases.api.serializers.RatesQuerySerializer``): it validates case dates only.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.serializers import RatesQuerySerializer
from org import jurisdiction
from xining_issues.db_router import ReplicaReadMixin

from ..rates import RATE_DEFINITIONS, compute_rates


class RatesView(ReplicaReadMixin, APIView):
    """响应率 / 解决率 / 满意率 per unit or district, from the case events. Staff only, scoped to
    the cases the user may see."""

    @extend_schema(
        parameters=[RatesQuerySerializer],
        description=RATE_DEFINITIONS,
        responses={200: OpenApiResponse(description="a list of rows with counts and rates")},
    )
    def get(self, request: Request) -> Response:
        if not jurisdiction.is_staff(request.user):
            return Response(
                {"code": "forbidden", "message": _("统计数据仅对工作人员开放。"), "fields": {}},
                status=status.HTTP_403_FORBIDDEN,
            )
        query = RatesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = timezone.localdate()
        start_day = query.validated_data.get("from") or today - dt.timedelta(days=30)
        end_day = query.validated_data.get("to") or today
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(start_day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        rows = compute_rates(
            request.user, start=start, end=end, group_by=query.validated_data["group_by"]
        )
        return Response(
            {
                "from": start_day,
                "to": end_day,
                "group_by": query.validated_data["group_by"],
                "results": rows,
            }
        )
