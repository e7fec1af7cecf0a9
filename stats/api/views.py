"""报: the statistics API (overview, trend, rankings) and 未诉先办 topic candidates.

All of them read the rollup (day and month rows), or the narrowest of its projections that can
answer (``stats.projections``), through ``stats.dashboards`` and ``stats.candidates``, scoped to
what the user may see. Residents get 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.serializers import check_calendar
from org.models import Region, RegionClass, RegionLevel
from topics import selectors, workflow
from topics.api import serializers as s
from xining_issues.db_router import ReplicaReadMixin
from xining_issues.errors import invalid
from xining_issues.transitions import ERRORS

from .. import candidates, dashboards, first_call, knowledge
from ..models import COUNTERS
from ..rates import RATE_DEFINITIONS

# --- parameters ------------------------------------------------------------------------------


class PeriodParams(serializers.Serializer):
    # Totals read whole months from the month rows, so a period as long as the history (all
    # time, 全部) costs a few hundred months; a trend by day or week is capped at three years.
    max_days = 30 * 366
    too_long = _("统计区间最长三十年。")

    from_ = serializers.DateField(required=False, help_text=_("起始日期（含），默认 30 天前。"))
    to = serializers.DateField(required=False, help_text=_("截止日期（含），默认今天。"))
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(), required=False, help_text=_("区划 id（含下级）。")
    )
    region_class = serializers.SlugRelatedField(
        slug_field="code",
        queryset=RegionClass.objects.all(),
        required=False,
        help_text=_("社区分类代码：只统计该类社区（村）的诉求。"),
    )
    w_response = serializers.FloatField(required=False, min_value=0)
    w_resolution = serializers.FloatField(required=False, min_value=0)
    w_satisfaction = serializers.FloatField(required=False, min_value=0)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_calendar(attrs, "from", "to")
        today = timezone.localdate()
        attrs.setdefault("to", today)
        attrs.setdefault("from", attrs["to"] - dt.timedelta(days=29))
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": _("起始日期不能晚于截止日期。")})
        if (attrs["to"] - attrs["from"]).days > self.max_days:
            raise serializers.ValidationError({"from": self.too_long})
        return attrs


class TrendParams(PeriodParams):
    max_days = 3 * 366
    too_long = _("统计区间最长三年。")
    granularity = serializers.ChoiceField(choices=["day", "week", "month"], default="day")


class RankingParams(PeriodParams):
    by = serializers.ChoiceField(choices=list(dashboards.RANK_FIELDS), default="unit")


class CandidateParams(serializers.Serializer):
    weeks = serializers.IntegerField(min_value=1, max_value=26, default=4)
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all(), required=False)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)


# --- response shapes (for the schema) --------------------------------------------------------


def _rates_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {name: serializers.IntegerField() for name in COUNTERS}
    for name in ("response_rate", "resolution_rate", "satisfaction_rate"):
        fields[name] = serializers.FloatField(allow_null=True)
    fields["score"] = serializers.FloatField(allow_null=True)
    return fields


RatesSerializer = inline_serializer("StatsRates", fields=_rates_fields())
NamedRatesSerializer = inline_serializer(
    "StatsNamedRates",
    fields={"id": serializers.IntegerField(), "name": serializers.CharField(), **_rates_fields()},
)
RankingRowSerializer = inline_serializer(
    "StatsRankingRow",
    fields={
        # null: the 未分类 row of a ranking by community class
        "id": serializers.IntegerField(allow_null=True),
        "name": serializers.CharField(),
        "rank": serializers.IntegerField(allow_null=True),
        **_rates_fields(),
    },
)
WeightsSerializer = inline_serializer(
    "StatsWeights",
    fields={
        "response": serializers.FloatField(),
        "resolution": serializers.FloatField(),
        "satisfaction": serializers.FloatField(),
    },
)
PeriodSerializer = inline_serializer(
    "StatsPeriod", fields={"from": serializers.DateField(), "to": serializers.DateField()}
)
OverviewSerializer = inline_serializer(
    "StatsOverview",
    fields={
        "period": PeriodSerializer,
        "stages": inline_serializer(
            "StatsStage",
            fields={
                "stage": serializers.CharField(),
                "label": serializers.CharField(),
                "count": serializers.IntegerField(),
            },
            many=True,
        ),
        "open": serializers.IntegerField(),
        "overdue": serializers.IntegerField(),
        "totals": RatesSerializer,
        "weights": WeightsSerializer,
        "hot_categories": inline_serializer(
            "StatsHotCategory",
            fields={
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "created": serializers.IntegerField(),
            },
            many=True,
        ),
        "districts": NamedRatesSerializer.__class__(many=True),
    },
)
TrendSerializer = inline_serializer(
    "StatsTrend",
    fields={
        "period": PeriodSerializer,
        "granularity": serializers.CharField(),
        "buckets": inline_serializer(
            "StatsTrendBucket",
            fields={
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                **_rates_fields(),
            },
            many=True,
        ),
    },
)
RankingsSerializer = inline_serializer(
    "StatsRankings",
    fields={
        "period": PeriodSerializer,
        "by": serializers.CharField(),
        "weights": WeightsSerializer,
        "results": RankingRowSerializer.__class__(many=True),
    },
)
CandidatesSerializer = inline_serializer(
    "TopicCandidates",
    fields={
        "weeks": serializers.IntegerField(),
        "period": PeriodSerializer,
        "results": inline_serializer(
            "TopicCandidate",
            fields={
                "category": inline_serializer(
                    "CandidateCategory",
                    fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
                ),
                "street": inline_serializer(
                    "CandidateStreet",
                    fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
                ),
                "count": serializers.IntegerField(),
                "previous": serializers.IntegerField(),
                "growth": serializers.FloatField(allow_null=True),
                "repeat_complainants": serializers.IntegerField(),
                "evaluated": serializers.IntegerField(),
                "satisfaction_rate": serializers.FloatField(allow_null=True),
                "score": serializers.FloatField(),
                "sample_cases": inline_serializer(
                    "CandidateCase",
                    fields={
                        "id": serializers.IntegerField(),
                        "tracking_code": serializers.CharField(),
                        "title": serializers.CharField(),
                    },
                    many=True,
                ),
                "weekly": inline_serializer(
                    "CandidateWeek",
                    fields={"start": serializers.DateField(), "count": serializers.IntegerField()},
                    many=True,
                ),
            },
            many=True,
        ),
    },
)

PERIOD_PARAMETERS = [
    OpenApiParameter("from", dt.date, description="起始日期（含），默认 30 天前"),
    OpenApiParameter("to", dt.date, description="截止日期（含），默认今天"),
    OpenApiParameter("region", int, description="区划 id，含下级区划"),
    OpenApiParameter(
        "region_class", str, description="社区分类代码（如 rural），只统计该类社区（村）的诉求"
    ),
    OpenApiParameter("w_response", float, description="综合得分中响应率的权重（默认 0.3）"),
    OpenApiParameter("w_resolution", float, description="综合得分中解决率的权重（默认 0.3）"),
    OpenApiParameter("w_satisfaction", float, description="综合得分中满意率的权重（默认 0.4）"),
]


class StatsView(ReplicaReadMixin, APIView):
    """Base: parse the query, refuse non-staff (403). Its GETs may read from the replica."""

    params_class: type[serializers.Serializer] = PeriodParams

    def params(self, request: Request, data: Any = None) -> dict[str, Any]:
        """Validated parameters from the query string (or from ``data``, e.g. a POST body)."""
        try:
            dashboards.scope_q(request.user)
        except dashboards.NotStaff as exc:
            raise PermissionDenied(_("统计数据仅对工作人员开放。")) from exc
        serializer = self.params_class(data=request.query_params if data is None else data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["weights"] = dashboards.weights(
            {
                "response": data.get("w_response"),
                "resolution": data.get("w_resolution"),
                "satisfaction": data.get("w_satisfaction"),
            }
        )
        return data


class OverviewView(StatsView):
    @extend_schema(
        summary="统计概览（接派办督评报、新增/办结、超期、三率、热点分类、分区县）",
        description=RATE_DEFINITIONS,
        parameters=PERIOD_PARAMETERS,
        responses=OverviewSerializer,
        tags=["stats"],
    )
    def get(self, request: Request) -> Response:
        p = self.params(request)
        return Response(
            dashboards.overview(
                request.user,
                p["from"],
                p["to"],
                p.get("region"),
                p["weights"],
                region_class=p.get("region_class"),
            )
        )


class TrendView(StatsView):
    params_class = TrendParams

    @extend_schema(
        summary="趋势：每日/周/月的新增、归档与三率",
        description=RATE_DEFINITIONS,
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("granularity", str, enum=["day", "week", "month"]),
        ],
        responses=TrendSerializer,
        tags=["stats"],
    )
    def get(self, request: Request) -> Response:
        p = self.params(request)
        data = dashboards.trend(
            request.user,
            p["from"],
            p["to"],
            p["granularity"],
            p.get("region"),
            p["weights"],
            region_class=p.get("region_class"),
        )
        return Response(
            {
                "period": {"from": p["from"], "to": p["to"]},
                "granularity": p["granularity"],
                "buckets": data,
            }
        )


class RankingsView(StatsView):
    params_class = RankingParams

    @extend_schema(
        summary="排名：按承办单位、区县、街道或社区分类的三率与综合得分",
        description=RATE_DEFINITIONS,
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter(
                "by",
                str,
                enum=list(dashboards.RANK_FIELDS),
                description="region_class: 按社区分类，无分类的社区计入“未分类”（id 为 null）",
            ),
        ],
        responses=RankingsSerializer,
        tags=["stats"],
    )
    def get(self, request: Request) -> Response:
        p = self.params(request)
        data = dashboards.rankings(
            request.user,
            p["from"],
            p["to"],
            p["by"],
            p.get("region"),
            p["weights"],
            region_class=p.get("region_class"),
        )
        return Response(
            {
                "period": {"from": p["from"], "to": p["to"]},
                "by": p["by"],
                "weights": p["weights"],
                "results": data,
            }
        )


# --- 未诉先办: topic candidates ----------------------------------------------------------------


class TopicCandidatesView(StatsView):
    params_class = CandidateParams

    @extend_schema(
        summary="未诉先办：候选议题（分类 × 街道的聚集、增长、重复诉求人、低满意率）",
        parameters=[
            OpenApiParameter("weeks", int, description="最近几周（默认 4）"),
            OpenApiParameter("region", int, description="区划 id，含下级区划"),
            OpenApiParameter("limit", int, description="返回条数（默认 10）"),
        ],
        responses=CandidatesSerializer,
        tags=["topics"],
    )
    def get(self, request: Request) -> Response:
        p = self.params(request)
        return Response(
            candidates.candidates(request.user, p["weeks"], p.get("region"), p["limit"])
        )


class TopicCandidateAdoptView(APIView):
    """ "Adopt as topic" (立为题目): a topic proposed from a candidate, linked to its cases."""

    @extend_schema(
        summary="未诉先办：把候选议题立为题目（候选状态，关联该聚集的全部诉求）",
        description=(
            "Creates a topic in status 候选 (candidate), as POST /api/v1/topics/ does, linked to "
            "the category, the street and every case of the cluster that the user may see in "
            "the last `weeks` weeks. The standing committee then adopts it (常委会确定) with "
            "the date of its meeting."
        ),
        request=s.CandidateAdoptSerializer,
        responses={201: s.TopicDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
        tags=["topics"],
    )
    def post(self, request: Request) -> Response:
        workflow.check_may_create(request.user)  # 403 before 400
        serializer = s.CandidateAdoptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        category, street, weeks = data.pop("category"), data.pop("street"), data.pop("weeks")
        if street.level != RegionLevel.STREET:
            raise invalid("street", _("请选择街道（乡镇）。"))
        cases = list(candidates.cluster_cases(request.user, category, street, weeks).only("pk"))
        if not cases:
            raise invalid("street", _("该分类在该街道最近几周没有您可见的诉求，无法立题。"))
        topic = workflow.topic_create(
            actor=request.user, categories=[category], regions=[street], cases=cases, **data
        )
        detail = selectors.topic_detail(request.user).get(pk=topic.pk)
        return Response(
            s.TopicDetailSerializer(detail, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class KnowledgeRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = serializers.CharField()
    owner_unit = serializers.CharField()
    uses = serializers.IntegerField()
    unsatisfied = serializers.IntegerField(help_text="Of those uses, cases rated 不满意.")


class KnowledgeUsageView(StatsView):
    @extend_schema(
        summary="知识库: the articles used most at intake, those led to 不满意, those past review",
        parameters=PERIOD_PARAMETERS[:2],
        responses=inline_serializer(
            "KnowledgeUsage",
            {
                "uses": serializers.IntegerField(),
                "most_used": KnowledgeRowSerializer(many=True),
                "unsatisfied": KnowledgeRowSerializer(many=True),
                "past_review_count": serializers.IntegerField(),
                "past_review": inline_serializer(
                    "KnowledgeDue",
                    {
                        "id": serializers.IntegerField(),
                        "question": serializers.CharField(),
                        "owner_unit": serializers.CharField(),
                        "review_by": serializers.DateField(),
                    },
                    many=True,
                ),
            },
        ),
        tags=["stats"],
    )
    def get(self, request: Request) -> Response:
        p = self.params(request)
        return Response(knowledge.usage(request.user, p["from"], p["to"], timezone.localdate()))


class FirstCallParams(PeriodParams):
    max_days = first_call.MAX_DAYS
    too_long = _("统计区间最长三年。")


class RateRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    taken = serializers.IntegerField()
    at_intake = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class FirstCallView(StatsView):
    params_class = FirstCallParams

    @extend_schema(
        summary="一次办结率: the share of cases taken in at intake that were answered on the spot",
        description=(
            "Of the cases accepted (受理) or answered on the spot (即时办结) in the period, the "
            "share answered on the spot: in all, by operator and by category (the category "
            "the case had when it was counted). Read from the counters kept with the rollup "
            "(stats.first_call), up to three years; a reader whose scope is narrower than a "
            "district is answered from the period's events, 92 days at most."
        ),
        parameters=PERIOD_PARAMETERS[:2],
        responses=inline_serializer(
            "FirstCall",
            {
                "taken": serializers.IntegerField(),
                "at_intake": serializers.IntegerField(),
                "rate": serializers.FloatField(allow_null=True),
                "by_operator": RateRowSerializer(many=True),
                "by_category": RateRowSerializer(many=True),
            },
        ),
        tags=["stats"],
    )
    def get(self, request: Request) -> Response:
        p = self.params(request)
        # A reader narrower than a district is answered from the period's events: a quarter
        # at most (``stats.first_call``).
        narrow = not first_call.answers(dashboards.scope_q(request.user))
        if narrow and (p["to"] - p["from"]).days >= knowledge.FIRST_CALL_MAX_DAYS:
            raise invalid("from", _("街道及以下范围的一次办结率，统计区间最长 92 天。"))
        return Response(first_call.first_call(request.user, p["from"], p["to"]))
