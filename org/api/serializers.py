from typing import Any, cast

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from org import jurisdiction
from org.models import Membership, Region, RegionClass, Unit, User


class RegionClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = RegionClass
        fields = ["code", "name", "sort_order", "is_active"]


class RegionSerializer(serializers.ModelSerializer):
    has_children = serializers.SerializerMethodField()
    # 社区分类 by its code, and its name (the view selects the class: no query per row).
    region_class: serializers.SlugRelatedField[RegionClass] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    region_class_name = serializers.CharField(
        source="region_class.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Region
        fields = [
            "id",
            "name",
            "level",
            "code",
            "parent",
            "has_children",
            "region_class",
            "region_class_name",
        ]

    def get_has_children(self, region: Region) -> bool:
        # Annotated by the view: a community has no children, so no extra query per row.
        return bool(getattr(region, "child_count", 0))


class UnitSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "region", "region_name", "parent"]


class MembershipSerializer(serializers.ModelSerializer):
    unit = UnitSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["role", "is_leader", "unit"]


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "roles", "memberships"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_roles(self, user: User) -> list[str]:
        return sorted(jurisdiction.roles_of(user))

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, user: User) -> list[dict[str, Any]]:
        # many=True builds a ListSerializer whose data is a list; the stubs type it as a dict.
        return cast(
            list[dict[str, Any]],
            MembershipSerializer(jurisdiction.memberships(user), many=True).data,
        )


class RegisterSerializer(serializers.Serializer):
    """A resident's account: username, password (Django's validators), name and mobile."""

    username = serializers.RegexField(r"^[A-Za-z0-9_.@+-]{3,30}$", max_length=30)
    password = serializers.CharField(write_only=True, min_length=8, max_length=128)
    display_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    phone = serializers.RegexField(r"^1[3-9]\d{9}$", required=False, allow_blank=True)

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(_("该用户名已被使用。"))
        return value

    def validate(self, attrs: dict) -> dict:
        candidate = User(username=attrs["username"], display_name=attrs.get("display_name", ""))
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from error
        return attrs
