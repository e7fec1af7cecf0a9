from typing import Any

from django.contrib.auth import login
from django.db import transaction
from django.db.models import Count
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from org.lockout import lockout_message
from org.models import Region, RegionClass, Unit, User
from xining_issues.throttling import AnonRateThrottle

from .filters import RegionFilter, UnitFilter
from .serializers import (
    MeSerializer,
    RegionClassSerializer,
    RegionSerializer,
    RegisterSerializer,
    UnitSerializer,
)


class LoginThrottle(AnonRateThrottle):
    scope = "anon_auth"


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (Authorization: Token …).

    Shares the login page's lockout: a username or an address locked by repeated failed
    sign-ins gets 429 with the code ``locked``, even with the right password.
    """

    throttle_classes = [LoginThrottle]

    @extend_schema(
        responses={
            200: AuthTokenSerializer,
            400: OpenApiResponse(description="wrong username or password"),
            429: OpenApiResponse(description="too many requests, or sign-in locked"),
        }
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except serializers.ValidationError:
            # django-axes marks the request it refused (or the failure that reached the limit);
            # DRF's request object is the one authenticate() was given.
            if getattr(request, "axes_locked_out", False):
                return Response(
                    {"code": "locked", "message": lockout_message(), "fields": {}},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                )
            raise


class RegisterThrottle(AnonRateThrottle):
    scope = "anon_write"


class RegisterView(APIView):
    """A resident creates an account and is signed in (session) in the same step."""

    permission_classes = [AllowAny]
    throttle_classes = [RegisterThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: MeSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            user = User.objects.create_user(
                username=data["username"],
                password=data["password"],
                display_name=data.get("display_name", ""),
                phone=data.get("phone", ""),
            )
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        """The signed-in user with their roles and units."""
        return Response(MeSerializer(request.user).data)


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """行政区划: the public region tree (the submit form's district → street → community cascade).

    Filter with ``?root=true`` for the city, ``?parent=<id>`` for one level down,
    ``?level=`` and ``?within=<id>`` for a subtree, ``?region_class=<code>`` for the
    communities of one class (社区分类).
    """

    queryset = (
        Region.objects.select_related("region_class")
        .annotate(child_count=Count("children"))
        .order_by("path")
    )
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    permission_classes = [AllowAny]
    pagination_class = None


class RegionClassViewSet(viewsets.ReadOnlyModelViewSet):
    """社区分类: the classes of communities and villages (the dashboards' filter and grouping),
    inactive ones included, since past figures are still grouped by them. Public, as the
    region tree is."""

    queryset = RegionClass.objects.order_by("sort_order", "code")
    serializer_class = RegionClassSerializer
    permission_classes = [AllowAny]
    pagination_class = None
    lookup_field = "code"


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """承办单位: units that handle cases, filterable by kind and region subtree."""

    queryset = Unit.objects.filter(is_active=True).select_related("region").order_by("name")
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
