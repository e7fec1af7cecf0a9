"""Serializers of the 报 API's bulletins (月通报): the output shape and the draft's edit."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Bulletin


class BulletinSerializer(serializers.ModelSerializer):
    published_by = serializers.SerializerMethodField()

    class Meta:
        model = Bulletin
        fields = [
            "id",
            "month",
            "status",
            "title",
            "body",
            "generated_at",
            "published_at",
            "published_by",
            "updated_at",
        ]
        read_only_fields = fields

    def get_published_by(self, bulletin: Bulletin) -> str:
        return str(bulletin.published_by) if bulletin.published_by else ""


class BulletinEditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False, allow_blank=True)
