"""成效: ``GET /api/v1/topics/{id}/effect/``, a topic's complaints and rates before and since its
adoption, with the stated test of whether the change is more than the season (``stats.effect``).

Whoever may read the topic may read its effect: the figures are counts and rates of the topic's
area, never a case or a person. Anyone else gets 404, as for the topic itself.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.serializers import NamedSerializer
from topics import selectors
from xining_issues.db_router import ReplicaReadMixin
from xining_issues.transitions import ERRORS

from .. import effect


class EffectParams(serializers.Serializer):
    weeks = serializers.IntegerField(
        min_value=4,
        max_value=effect.MAX_WEEKS,
        default=effect.DEFAULT_WEEKS,
        help_text=_("确定前比较几周（4–52，默认 12）。"),
    )


class EffectWindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Complaints received in the window.")
    per_week = serializers.FloatField()
    rejected = serializers.IntegerField()
    dispatched = serializers.IntegerField()
    responded = serializers.IntegerField()
    replied = serializers.IntegerField()
    resolved = serializers.IntegerField()
    evaluated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    closed = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True)
    resolution_rate = serializers.FloatField(allow_null=True)
    satisfaction_rate = serializers.FloatField(allow_null=True)
    repeat_complainants = serializers.IntegerField(
        help_text="People (by phone number) with two or more of the area's complaints."
    )
    repeat_cases = serializers.IntegerField(help_text="The complaints those people made.")
    repeat_end = serializers.DateField(
        help_text="Repeat complainants are counted from start to here: as long a time on both "
        "sides (the weeks before adoption)."
    )


class EffectWeekSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField()
    created = serializers.IntegerField()
    after = serializers.BooleanField(help_text="The week starts on or after the adoption.")


class EffectReferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["last_year", "elsewhere"],
        help_text="last_year: the same weeks 364 days earlier; elsewhere: the same categories "
        "in the rest of the city over the same weeks.",
    )
    before = serializers.IntegerField()
    since = serializers.IntegerField()
    shift_days = serializers.IntegerField()


class EffectIntervalSerializer(serializers.Serializer):
    ratio = serializers.FloatField(help_text="E = (since / before) / (reference's since / before)")
    low = serializers.FloatField()
    high = serializers.FloatField()


class EffectSerializer(serializers.Serializer):
    topic = serializers.IntegerField()
    adopted_on = serializers.DateField(allow_null=True)
    weeks = serializers.IntegerField()
    categories = NamedSerializer(many=True)
    regions = NamedSerializer(many=True)
    before = EffectWindowSerializer(allow_null=True)
    since = EffectWindowSerializer(allow_null=True)
    weekly = EffectWeekSerializer(many=True)
    reference = EffectReferenceSerializer(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="Per week, since ÷ before − 1.")
    reference_change = serializers.FloatField(allow_null=True)
    effect = EffectIntervalSerializer(allow_null=True)
    verdict = serializers.ChoiceField(
        choices=["fell", "rose", "unclear", "too_early", "insufficient", "not_adopted", "no_area"]
    )


class TopicEffectView(ReplicaReadMixin, APIView):
    @extend_schema(
        summary="每月一题成效：确定前后的诉求量、三率、重复诉求人，及是否超出季节性变化",
        description=effect.__doc__ or "",
        parameters=[EffectParams],
        responses={200: EffectSerializer, 400: ERRORS[400], 404: ERRORS[404]},
        tags=["topics"],
    )
    def get(self, request: Request, pk: int) -> Response:
        topic = get_object_or_404(selectors.visible_topics(request.user), pk=pk)
        params = EffectParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = effect.topic_effect(topic, weeks=params.validated_data["weeks"])
        return Response(EffectSerializer(data).data)
