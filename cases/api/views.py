"""The case API: list/detail scoped by selectors, one POST action per transition.

Views parse input, call one workflow function and serialize the result; permission and state
rules live in the workflow and the selectors, not here. The transitions' routes come from their
entries in ``steps.STEPS`` (one each); this module holds the list, detail, intake and lookups.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from org import jurisdiction
from org.api.serializers import UnitSerializer
from org.models import STAFF_ROLES, Role
from xining_issues.db_router import Freshness, ReplicaReadMixin
from xining_issues.downloads import private_download
from xining_issues.pagination import StandardPagination
from xining_issues.throttling import (
    AnonRateThrottle,
    ClientIdentity,
    GuessLimit,
    Locked,
    ScopedRateThrottle,
)
from xining_issues.transitions import ERRORS

from .. import search, selectors, services, similar, workflow
from ..attachments import IMAGE_TYPES, PDF_TYPE
from ..models import (
    Case,
    CaseEvent,
    Category,
    ExtensionRequest,
    ExtensionStatus,
    ReplyTemplate,
    ReturnRequest,
    ReturnStatus,
)
from . import serializers as s
from . import suggest
from .filters import CaseFilter
from .steps import STEPS


class CasePagination(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


class AnonWriteThrottle(AnonRateThrottle):
    """Anonymous complaint submissions per IP (signed-in users are not limited here)."""

    scope = "anon_write"

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


class SimilarThrottle(ClientIdentity, UserRateThrottle):
    """Similar cases per user, or per client address (``client_ip``: a forged X-Forwarded-For
    is no new client). Intake staff, who look up all day, are not limited."""

    scope = "similar"
    rate = "30/min"

    def allow_request(self, request: Request, view: APIView) -> bool:
        return similar.reads_rows(request.user) or super().allow_request(request, view)


class CasePermission(IsAuthenticated):
    """Reading and acting need a sign-in; submitting a complaint does not."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(view, "action", None) == "create":
            return True
        return super().has_permission(request, view)


def _detail_queryset(user: Any) -> QuerySet[Case]:
    """The case page's case; whether a request for more time, or to give the case back
    (申请退回), is pending is a column of the row (the buttons need it), and the request itself
    is read only when one is."""
    pending = ExtensionRequest.objects.filter(case=OuterRef("pk"), status=ExtensionStatus.PENDING)
    returning = ReturnRequest.objects.filter(case=OuterRef("pk"), status=ReturnStatus.PENDING)
    merged = Case.objects.filter(duplicate_of=OuterRef("pk"), merged_at__isnull=False)
    return selectors.case_detail(user).annotate(
        has_pending_extension=Exists(pending),
        has_pending_return=Exists(returning),
        has_merged_duplicates=Exists(merged),  # 合并: a main case is not merged in turn
    )


@STEPS.routes
class CaseViewSet(ReplicaReadMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """诉求: submit, list and read cases; one POST action per workflow transition."""

    # The work queue may read from the replica, once it holds the user's own last step.
    replica_actions = ("list", "counts")
    replica_freshness = Freshness.CAUGHT_UP

    permission_classes = [CasePermission]
    pagination_class = CasePagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CaseFilter
    ordering_fields = ["created_at", "updated_at"]
    throttle_classes = [AnonWriteThrottle]

    def get_queryset(self) -> QuerySet[Case]:
        if self.action == "list":
            return selectors.case_list(self.request.user)
        if self.action == "dispatch_units":
            # The case's place and category are all it needs, not the detail's files.
            return selectors.case_detail(self.request.user)
        if self.action == "events":
            # The timeline shows nothing of the case itself: only who reads it, and how.
            return selectors.case_reader(self.request.user)
        return _detail_queryset(self.request.user)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The queue's filters and ordering narrow the list only. DRF would also run them
        when it looks up one case (building the filter form, a few milliseconds of every
        case page and timeline); a case's own address is answered whatever its query string."""
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The work queue. A search for a common word walks the cases newest first instead of
        asking the index for every match (``cases.search``); a walk that meets its timeout is
        answered by the index."""
        if not search.walks(request.query_params.get("q", "")):
            return super().list(request, *args, **kwargs)
        try:
            # A flag on this request for CaseFilter.filter_q; DRF's Request takes any attribute.
            request.search_walks = True  # type: ignore[attr-defined]
            with search.walking():
                return super().list(request, *args, **kwargs)
        except search.WalkTooLong:
            if not search.has_bigram(request.query_params.get("q", "")):
                # One character, rare: no index can find it in a city's history in time.
                raise ValidationError(
                    {"q": [_("这个词太短，查找太慢：请输入至少两个相连的字。")]}
                ) from None
            request.search_walks = False  # type: ignore[attr-defined]  # (see above)
            return super().list(request, *args, **kwargs)

    def get_serializer_class(self) -> type[Serializer]:
        if self.action == "create":
            return s.CaseSubmitSerializer
        if self.action == "list":
            return s.CaseListSerializer
        return s.CaseDetailSerializer

    def detail_response(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        """The case as the actor now sees it; after a step that takes it out of their sight
        (退回 clears the unit) only its id, code and new status."""
        case = _detail_queryset(self.request.user).filter(pk=pk).first()
        if case is None:
            return Response(Case.objects.values("id", "tracking_code", "status").get(pk=pk), code)
        return Response(
            s.CaseDetailSerializer(case, context=self.get_serializer_context()).data, code
        )

    @extend_schema(
        summary="Submit a complaint (anonymous with name and phone, a resident, or an operator)",
        request={
            "multipart/form-data": s.CaseSubmitSerializer,
            "application/json": s.CaseSubmitSerializer,
        },
        responses={201: s.SubmittedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.CaseSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["attachments"] = request.FILES.getlist("attachments") or data.get("attachments", [])
        case = workflow.case_submit(actor=request.user, **data)
        return Response(
            {"id": case.pk, "tracking_code": case.tracking_code}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="How many visible cases are in each workbench tab",
        responses=s.QueueCountsSerializer,
    )
    @action(detail=False, methods=["get"])
    def counts(self, request: Request) -> Response:
        return Response(selectors.queue_counts(request.user, timezone.now()))

    @extend_schema(
        summary="The case's timeline, for its reader",
        description=(
            "Staff read every step with who took it, the typed texts masked unless they may "
            "see the complainant's identity. The complainant reads the public steps only, with "
            "unit names but no staff names and no internal notes. A bare list, oldest first."
        ),
        responses=s.EventSerializer(many=True),
    )
    # A case's timeline is short and read whole: no cursor, and not the case list's filters.
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        resident = not selectors.reads_as_staff(request.user, case)
        context = {
            "case": case,
            "resident": resident,
            "whole": selectors.can_see_identity(request.user, case),
        }
        events = selectors.case_events(case, public_only=resident)
        return Response(s.EventSerializer(events, many=True, context=context).data)

    @extend_schema(
        summary="Open cases that may be the matter being typed (intake, while typing)",
        description=(
            "cases.similar: intake staff get the cases they may see as their queue shows them; "
            "anyone else only a count and names, the phone unused. Limited per user or address."
        ),
        parameters=[s.SimilarQuerySerializer],
        responses={200: s.SimilarSerializer, 400: ERRORS[400]},
    )
    @action(
        detail=False,
        methods=["get"],
        permission_classes=[AllowAny],
        throttle_classes=[SimilarThrottle],
        filter_backends=[],
        pagination_class=None,
    )
    def similar(self, request: Request) -> Response:
        query = s.SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        probe = similar.Probe(**query.validated_data)
        if not similar.reads_rows(request.user):
            # Residents and visitors: a count and names, never by phone (see cases.similar).
            return Response({"rows": False, **similar.resident_hint(probe), "cases": []})
        cases = similar.similar_cases(request.user, probe)
        rows = s.CaseListSerializer(cases, many=True, context=self.get_serializer_context()).data
        return Response({"rows": True, **similar.names(probe), "count": len(rows), "cases": rows})

    @extend_schema(
        summary="Lead-unit suggestions (权责清单), possible duplicates and 智能派单's guesses",
        responses=s.SuggestionsSerializer,
    )
    @action(detail=True, methods=["get"])
    def suggestions(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if not jurisdiction.has_role(request.user, Role.OPERATOR, Role.DISPATCHER):
            return Response(
                {
                    "code": "forbidden",
                    "message": _("只有受理和派单人员可以查看派单建议。"),
                    "fields": {},
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        duplicates = services.possible_duplicates(case, request.user)
        data = {
            "lead_units": [
                {
                    "unit": {"id": sug.unit.pk, "name": sug.unit.name},
                    "co_units": [{"id": u.pk, "name": u.name} for u in sug.co_units],
                    "reason": sug.reason,
                }
                for sug in services.suggest_lead_units(case)
            ],
            "possible_duplicates": s.CaseListSerializer(
                duplicates, many=True, context=self.get_serializer_context()
            ).data,
            **suggest.for_case(case),
        }
        return Response(data)

    @extend_schema(
        summary="The units this dispatcher may send the case to (派单范围), for the unit pickers",
        description=(
            "Active units of the dispatcher's own area and the units the 权责清单 names for the "
            "case's category in its region (services.dispatch_targets), by name, in pages like "
            "/api/v1/units/. ``name`` keeps those whose name contains it. 403 for anyone who "
            "does not dispatch; empty for a dispatcher who may not dispatch this case."
        ),
        parameters=[
            OpenApiParameter("name", str, description="part of the unit's name"),
        ],
        responses={200: UnitSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    # The case list's filters and cursor are not this list's: its own name filter, numbered
    # pages as on /api/v1/units/.
    @action(
        detail=True,
        methods=["get"],
        url_path="dispatch-units",
        pagination_class=StandardPagination,
        filter_backends=[],
    )
    def dispatch_units(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_object()
        if not jurisdiction.has_role(request.user, Role.DISPATCHER):
            return Response(
                {
                    "code": "forbidden",
                    "message": _("只有派单人员可以查看可派单位。"),
                    "fields": {},
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        units = (
            services.dispatch_targets(case=case, actor=request.user)
            .select_related("region")
            .order_by("name", "pk")
        )
        name = request.query_params.get("name", "").strip()
        if name:
            units = units.filter(name__icontains=name)
        page = self.paginate_queryset(units)
        return self.get_paginated_response(UnitSerializer(page, many=True).data)

    @extend_schema(
        summary="Download an attachment (only for those who may see the case)",
        # The stored type is what is served: a checked image or a PDF (see cases.attachments).
        responses={
            **{
                (200, kind): OpenApiTypes.BINARY
                for kind in (PDF_TYPE, *sorted(IMAGE_TYPES.values()))
            },
            404: ERRORS[404],
        },
        parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>\d+)",
        url_name="attachment",
    )
    def attachment(
        self, request: Request, pk: str | None = None, attachment_id: str | None = None
    ) -> FileResponse:
        case = self.get_object()
        attachment = case.attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404
        return private_download(
            attachment.file,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """诉求分类 with their deadlines (public: the submit form needs them)."""

    queryset = Category.objects.filter(is_active=True).order_by("parent_id", "name")
    serializer_class = s.CategorySerializer
    permission_classes = [AllowAny]
    pagination_class = None

    def get_queryset(self) -> QuerySet[Category]:
        """Residents and visitors are offered only the categories open to them; staff see
        every active one (an operator may log a drill)."""
        categories = super().get_queryset()
        if jurisdiction.has_role(self.request.user, *STAFF_ROLES):
            return categories
        return categories.filter(offered_to_residents=True)


class ReplyTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """常用答复 for the reply dialog; ``?category=<id>`` adds the general ones too."""

    serializer_class = s.ReplyTemplateSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ReplyTemplate]:
        queryset = ReplyTemplate.objects.filter(is_active=True)
        category = self.request.query_params.get("category", "")
        if category.isdigit():
            chain = services.category_chain(Category.objects.filter(pk=int(category)).first())
            queryset = queryset.filter(Q(category__isnull=True) | Q(category_id__in=chain))
        return queryset


class PublicRecentView(APIView):
    """近期办结: recently answered cases for the home page, without personal data."""

    permission_classes = [AllowAny]

    @extend_schema(responses=s.PublicResultSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.PublicResultSerializer(selectors.public_recent(), many=True).data)


class TrackThrottle(ScopedRateThrottle):
    """Tracking requests per client address; the guesses per code are limited apart."""

    scope_attr = "throttle_scope"


def _public_cases() -> QuerySet[Case]:
    return Case.objects.select_related("category", "district", "street").prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.order_by("created_at", "id"))
    )


def _tracked_case(code: str, phone_last4: str) -> Case:
    """The case with this code whose phone ends in these digits.

    Any mismatch is one answer, 404, so a guess reveals nothing about which half was wrong. Each
    counts against the code as typed, from whatever address: after ``TRACK_FAILURE_LIMIT`` of
    them the code answers 429 for ``TRACK_LOCK_MINUTES``, even to the right digits. Codes are
    sequential, so this is what stops a guesser who can change address; and codes that do not
    exist are counted and locked the same way, so neither answer tells that a code exists.
    """
    code = code.strip().upper()
    guesses = GuessLimit(
        scope="track",
        limit=settings.TRACK_FAILURE_LIMIT,
        lock_seconds=settings.TRACK_LOCK_SECONDS,
    )
    try:
        claim = guesses.claim(subject=code)
    except Locked:
        raise Throttled(
            detail=_("这个受理编号查询错误次数过多，已暂停查询，请 {minutes} 分钟后再试。").format(
                minutes=settings.TRACK_LOCK_SECONDS // 60
            )
        ) from None
    case = _public_cases().filter(tracking_code=code).first()
    if case is None or not phone_last4 or case.complainant_phone[-4:] != phone_last4:
        claim.wrong()
        raise Http404
    claim.right()
    return case


class TrackView(APIView):
    """查询进度: public status and timeline by tracking code and the phone's last four digits."""

    permission_classes = [AllowAny]
    throttle_classes = [TrackThrottle]
    throttle_scope = "track"

    @extend_schema(
        parameters=[
            OpenApiParameter("code", str, required=True, description="受理编号 XN-YYYYMMDD-NNNN"),
            OpenApiParameter("phone_last4", str, required=True, description="手机号后四位"),
        ],
        responses={200: s.PublicCaseSerializer, 404: OpenApiResponse(description="no such case")},
    )
    def get(self, request: Request) -> Response:
        case = _tracked_case(
            request.query_params.get("code", ""), request.query_params.get("phone_last4", "")
        )
        return Response(s.PublicCaseSerializer(case).data)


class TrackEvaluateView(APIView):
    """评价 from the tracking page, identified by the code and the phone's last four digits."""

    permission_classes = [AllowAny]
    throttle_classes = [TrackThrottle]
    throttle_scope = "track"

    @extend_schema(request=s.TrackEvaluateSerializer, responses={200: s.PublicCaseSerializer})
    def post(self, request: Request) -> Response:
        serializer = s.TrackEvaluateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = _tracked_case(data["code"], data["phone_last4"])
        workflow.case_evaluate_by_tracking(
            case=case,
            phone_last4=data["phone_last4"],
            rating=data["rating"],
            comment=data["comment"],
        )
        # Re-read without a second guess: the first one already proved the digits.
        return Response(s.PublicCaseSerializer(_public_cases().get(pk=case.pk)).data)
