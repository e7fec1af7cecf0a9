"""factory_boy factories shared by the whole suite."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from org.models import Membership, Region, RegionLevel, Role, Unit, UnitKind, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password("demo12345")


class RegionFactory(DjangoModelFactory):
    """A region one level under ``parent``; with no parent, a city."""

    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"区划{n}")
    parent = None
    level = factory.LazyAttribute(lambda o: o.parent.level + 1 if o.parent else RegionLevel.CITY)


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"单位{n}")
    kind = UnitKind.DEPARTMENT
    region = factory.SubFactory(RegionFactory)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = Role.HANDLER
