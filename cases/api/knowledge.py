"""知识库's doors: ``GET /api/v1/knowledge/`` (the articles in force, by question, in pages),
``GET /api/v1/knowledge/{id}/`` and ``GET /api/v1/knowledge/search/?q=…`` (the articles that best
answer a question, ``cases.knowledge``). Residents and visitors read public articles; staff read
every article in force. Articles are kept in the admin (their history is kept there)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from org import jurisdiction
from org.models import STAFF_ROLES
from xining_issues.pagination import StandardPagination
from xining_issues.transitions import ERRORS

from .. import knowledge
from ..models import KnowledgeArticle
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


class KnowledgeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """知识库: the articles in force (public ones for residents and visitors)."""

    permission_classes = [AllowAny]
    serializer_class = KnowledgeArticleSerializer
    pagination_class = StandardPagination
    throttle_classes = [SuggestThrottle]

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
