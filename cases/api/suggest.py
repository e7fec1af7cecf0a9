"""智能派单's door: ``GET /api/v1/categories/suggest/`` (``cases.router``), its own view so that
``views.py`` stays the case and category resources."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from org import jurisdiction
from org.models import STAFF_ROLES, Region, Unit
from xining_issues.throttling import ClientIdentity
from xining_issues.transitions import ERRORS

from .. import router, services, similar, suggesting
from ..models import Case
from . import serializers as s


class SuggestThrottle(ClientIdentity, UserRateThrottle):
    """Category suggestions per user, or per client address (a forged X-Forwarded-For is no
    new client). Intake staff, who type all day, are not limited."""

    scope = "suggest"
    rate = "60/min"

    def allow_request(self, request: Request, view: APIView) -> bool:
        return similar.reads_rows(request.user) or super().allow_request(request, view)


class CategorySuggestView(APIView):
    """The categories a complaint's words suggest (residents, visitors and staff alike)."""

    permission_classes = [AllowAny]
    throttle_classes = [SuggestThrottle]

    @extend_schema(
        summary="智能派单: the categories a complaint's words suggest, best first",
        description=(
            "cases.router: the trained model's top five with their probabilities; when "
            "there is no model or it is unsure (below ROUTER_MIN_CONFIDENCE: basis 'rule') "
            "the rule (category names in the text) comes first. Staff also get, per "
            "category, the 权责清单's lead unit for the region and the units that "
            "answered such cases to the complainant's satisfaction. The text is used and "
            "dropped, never stored. Limited per user or address for residents and visitors."
        ),
        parameters=[s.SuggestQuerySerializer],
        responses={200: s.SuggestSerializer, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        query = s.SuggestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        region = query.validated_data.get("region")
        staff = jurisdiction.has_role(request.user, *STAFF_ROLES)
        guesses = suggesting.suggest(
            query.validated_data["text"], region=region, offered_only=not staff, with_units=staff
        )
        return Response(payload(guesses, region if staff else None))


def for_case(case: Case) -> dict[str, Any]:
    """What the accept and dispatch dialogs show (staff only): the categories the case's own
    words suggest, with the 权责清单's unit for its community, and the units that answered
    cases of its present category nearby to the complainant's satisfaction."""
    guesses = suggesting.suggest(
        router.case_text(case.title, case.description), region=case.region, offered_only=False
    )
    return {
        "categories": payload(guesses, case.region),
        "learned_units": units(suggesting.learned_units(case.category_id, case.region)),
    }


def payload(guesses: suggesting.Guesses, region: Region | None) -> dict[str, Any]:
    """The answer's shape (``SuggestSerializer``); ``region`` given (staff only), each category
    names the 权责清单's lead unit there."""
    rules = (
        services.responsible_units([guess.category for guess in guesses.guesses], region)
        if region
        else {}
    )
    rows = []
    for guess in guesses.guesses:
        category = guess.category
        rule = rules.get(category.pk)
        rows.append(
            {
                "category": {
                    "id": category.pk,
                    "code": category.code,
                    "name": category.name,
                    "parent_name": category.parent.name if category.parent else None,
                },
                "probability": guess.probability,
                "rule_unit": (
                    {"id": rule.unit.pk, "name": rule.unit.name, "reason": rule.reason}
                    if rule
                    else None
                ),
                "learned_units": units(guess.learned_units),
            }
        )
    return {
        "basis": guesses.basis,
        "model_version": guesses.version,
        "confident": guesses.confident,
        "threshold": guesses.threshold,
        "suggestions": rows,
    }


def units(learned: list[tuple[Unit, int, float]]) -> list[dict[str, Any]]:
    return [
        {"id": unit.pk, "name": unit.name, "cases": n, "share": round(share, 3)}
        for unit, n, share in learned
    ]
