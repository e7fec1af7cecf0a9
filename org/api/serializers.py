from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from org import jurisdiction
from org.models import Membership, Region, Unit, User


class RegionSerializer(serializers.ModelSerializer):
    has_children = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ["id", "name", "level", "code", "parent", "has_children"]

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
    def get_memberships(self, user: User) -> list[dict]:
        return MembershipSerializer(jurisdiction.memberships(user), many=True).data
