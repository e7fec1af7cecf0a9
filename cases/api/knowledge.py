"""知识库's doors: ``GET /api/v1/knowledge/`` (the articles in force, by question, in pages),
``GET /api/v1/knowledge/{id}/`` and ``GET /api/v1/knowledge/search/?q=…`` (the articles that best
answer a question, ``cases.knowledge``). Residents and visitors read public articles; staff read
every article in force. The owner unit's handlers keep its articles here (``GET
knowledge/mine/``, ``POST knowledge/``, ``PATCH knowledge/{id}/``) or in the admin; every change
is a version kept (``simple_history``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from org import jurisdiction
from org.models import STAFF_ROLES, Region, Unit
from xining_issues.pagination import StandardPagination
from xining_issues.transitions import ERRORS

from .. import knowledge
from ..models import Category, KnowledgeArticle
from .serializers import CategoryPlaceQuery, NamedSerializer
from .suggest import SuggestThrottle


class KnowledgeArticleSerializer(serializers.ModelSerializer):
    categories = NamedSerializer(many=True)
    regions = NamedSerializer(many=True)
    owner_unit = NamedSerializer()

    class Meta:
        model = KnowledgeArticle
        fields = [
            "id", "question", "answer", "basis", "document_url", "categories", "regions",
            "valid_from", "valid_until", "owner_unit", "review_by", "is_public",
        ]  # fmt: skip


class KeptArticleSerializer(KnowledgeArticleSerializer):
    """An article as its keepers see it: with whether it is in force and when it changed."""

    in_force = serializers.SerializerMethodField()
    versions = serializers.IntegerField(read_only=True, help_text="Versions kept (history).")

    class Meta(KnowledgeArticleSerializer.Meta):
        fields = [*KnowledgeArticleSerializer.Meta.fields, "in_force", "versions", "updated_at"]

    def get_in_force(self, article: KnowledgeArticle) -> bool:
        today = self.context["today"]
        return article.valid_from <= today and (
            article.valid_until is None or article.valid_until >= today
        )


class KnowledgeArticleWriteSerializer(serializers.ModelSerializer):
    """What a keeper writes: the regions and categories by id (none: everywhere, every matter)."""

    categories = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), many=True, required=False
    )
    regions = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(), many=True, required=False
    )
    owner_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())

    class Meta:
        model = KnowledgeArticle
        fields = [*knowledge.ARTICLE_FIELDS, "categories", "regions"]


class KnowledgeHitSerializer(serializers.Serializer):
    article = KnowledgeArticleSerializer()
    matched = serializers.ListField(
        child=serializers.CharField(), help_text="The question's words the article holds."
    )


class KnowledgeQuerySerializer(CategoryPlaceQuery):
    q = serializers.CharField(max_length=500, trim_whitespace=True)


def _for(request: Request) -> QuerySet[KnowledgeArticle]:
    articles = knowledge.valid()
    if not jurisdiction.has_role(request.user, *STAFF_ROLES):
        articles = articles.filter(is_public=True)
    return articles


def _versions() -> Subquery:
    """How many versions of the article the history keeps (its historical rows carry its id,
    without a foreign key)."""
    history = KnowledgeArticle.history.model.objects.filter(id=OuterRef("pk"))  # type: ignore[attr-defined]
    counted = history.order_by().values("id").annotate(n=Count("*")).values("n")
    return Subquery(counted, output_field=IntegerField())


class KnowledgeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """知识库: the articles in force (public ones for residents and visitors); the owner units'
    handlers (and administrators) write theirs (``cases.knowledge.article_save``)."""

    permission_classes = [AllowAny]
    serializer_class = KnowledgeArticleSerializer
    pagination_class = StandardPagination
    throttle_classes = [SuggestThrottle]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"[0-9]+"  # /knowledge/j/ is no article: a 404, never a lookup

    def get_permissions(self) -> Sequence[Any]:
        if self.action in ("create", "partial_update", "mine"):
            return [IsAuthenticated()]
        return super().get_permissions()

    def _kept(self) -> QuerySet[KnowledgeArticle]:
        return (
            knowledge.kept_by(self.request.user)
            .select_related("owner_unit")
            .prefetch_related("categories", "regions")
            .annotate(versions=_versions())
            .order_by("question", "id")
        )

    def _answer(self, article: KnowledgeArticle, code: int = 200) -> Response:
        kept = self._kept().get(pk=article.pk)
        context = {"today": timezone.localdate()}
        return Response(KeptArticleSerializer(kept, context=context).data, status=code)

    def _write(self, article: KnowledgeArticle | None, partial: bool) -> KnowledgeArticle:
        serializer = KnowledgeArticleWriteSerializer(
            article, data=self.request.data, partial=partial
        )
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        return knowledge.article_save(
            actor=self.request.user,  # type: ignore[arg-type]
            article=article,
            values=values,
            categories=values.pop("categories", None),
            regions=values.pop("regions", None),
        )

    @extend_schema(
        summary="知识库: the articles the user keeps (in force or not, public or not)",
        responses={200: KeptArticleSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def mine(self, request: Request) -> Response:
        page = self.paginate_queryset(self._kept())
        context = {"today": timezone.localdate()}
        return self.get_paginated_response(
            KeptArticleSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        summary="知识库: a new article, for a unit the user keeps articles of",
        request=KnowledgeArticleWriteSerializer,
        responses={201: KeptArticleSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    )
    def create(self, request: Request) -> Response:
        return self._answer(self._write(None, partial=False), 201)

    @extend_schema(
        summary="知识库: change an article the user keeps (each change is a version kept)",
        request=KnowledgeArticleWriteSerializer,
        responses={200: KeptArticleSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        article = get_object_or_404(knowledge.kept_by(request.user), pk=pk)
        return self._answer(self._write(article, partial=True))

    def get_queryset(self) -> QuerySet[KnowledgeArticle]:
        return (
            _for(self.request)
            .select_related("owner_unit")
            .prefetch_related("categories", "regions")
            .order_by("question", "id")
        )

    @extend_schema(
        summary="知识库: the articles that best answer a question, best first",
        parameters=[KnowledgeQuerySerializer],
        responses={200: KnowledgeHitSerializer(many=True), 400: ERRORS[400]},
    )
    @action(detail=False, methods=["get"], pagination_class=None)  # the best few, not pages
    def search(self, request: Request) -> Response:
        query = KnowledgeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = knowledge.search(
            query.validated_data["q"],
            category=query.validated_data.get("category"),
            region=query.validated_data.get("region"),
            public_only=not jurisdiction.has_role(request.user, *STAFF_ROLES),
        )
        return Response(
            KnowledgeHitSerializer(
                [{"article": f.article, "matched": f.matched} for f in found], many=True
            ).data
        )
