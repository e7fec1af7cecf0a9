"""The demo catalogue (``demo.catalogue``): the shape of a real 12345 catalogue, today's codes
kept, every leaf owned by someone in the 权责清单, sane deadlines, and many natural texts per
category for the generator.

The expectations about the first demo's categories are written out here, not read from the
module under test: they are what existing databases, links and tests hold.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections import Counter

import pytest

from cases.models import Category, Responsibility, TimeUnit
from demo import catalogue, city_sql
from demo.catalogue import CATALOGUE, GROUPS, MEMBERS, RESPONSIBILITIES, compose
from demo.organisation import CITY_UNITS
from demo.vocabulary import heating_weight
from org.models import RegionLevel, UnitKind

H, WD, WH = TimeUnit.CLOCK_HOURS, TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS
MIN = TimeUnit.CLOCK_MINUTES
URGENT = (True, (2, H), (24, H))

# The first demo's categories: code → (name, parent, urgent, contact, resolve).
FIRST: dict[str, tuple[str, str | None, tuple[object, ...]]] = {
    "heating": ("供暖", None, URGENT),
    "heating-cold": ("供暖不热", "heating", URGENT),
    "heating-leak": ("供暖管道漏水", "heating", URGENT),
    "water": ("供水", None, URGENT),
    "water-outage": ("停水", "water", URGENT),
    "water-quality": ("水质问题", "water", URGENT),
    "gas": ("燃气", None, URGENT),
    "gas-leak": ("燃气泄漏", "gas", URGENT),
    "gas-outage": ("燃气停供", "gas", URGENT),
    "power": ("供电", None, URGENT),
    "property": ("物业", None, (False, (1, WD), (7, WD))),
    "property-service": ("物业服务", "property", (False, (1, WD), (7, WD))),
    "property-elevator": ("电梯故障", "property", (False, (1, WD), (3, WD))),
    "real-estate": ("不动产登记", None, (False, (1, WD), (15, WD))),
    "noise": ("噪音", None, (False, (1, WD), (7, WD))),
    "sanitation": ("环境卫生", None, (False, (1, WD), (7, WD))),
    "roads": ("道路", None, (False, (1, WD), (7, WD))),
    "roads-damage": ("道路破损", "roads", (False, (1, WD), (7, WD))),
    "roads-lights": ("路灯不亮", "roads", (False, (1, WD), (3, WD))),
    "social": ("民政服务", None, (False, (1, WD), (7, WD))),
    "market": ("市场监管", None, (False, (1, WD), (7, WD))),
    "consult": ("政策咨询", None, (False, (1, WD), (1, WD))),
    "drill": ("应急演练（演示）", None, (True, (2, MIN), (4, MIN))),
}  # fmt: skip
# The first demo's 权责清单: (category, level, kind, unit) of each row.
FIRST_RULES = {
    ("heating", RegionLevel.DISTRICT, UnitKind.PARTY_GOVERNMENT, ""),
    ("heating", RegionLevel.CITY, "", "xn-heating"),
    ("water", RegionLevel.CITY, "", "xn-water"),
    ("gas", RegionLevel.CITY, "", "xn-gas"),
    ("power", RegionLevel.CITY, "", "xn-power"),
    ("property", RegionLevel.STREET, UnitKind.STREET_OFFICE, ""),
    ("property-service", RegionLevel.COMMUNITY, UnitKind.COMMUNITY_COMMITTEE, ""),
    ("property-elevator", RegionLevel.CITY, "", "xn-market"),
    ("real-estate", RegionLevel.CITY, "", "xn-planning"),
    ("noise", RegionLevel.DISTRICT, UnitKind.PARTY_GOVERNMENT, ""),
    ("sanitation", RegionLevel.STREET, UnitKind.STREET_OFFICE, ""),
    ("roads", RegionLevel.CITY, "", "xn-urban"),
    ("social", RegionLevel.STREET, UnitKind.STREET_OFFICE, ""),
    ("market", RegionLevel.CITY, "", "xn-market"),
    ("consult", RegionLevel.CITY, "", "xn-hotline"),
}
# What the year of demo cases fills in (demo.history) and the benchmark's SQL replaces.
PLACEHOLDERS = {"addr", "road", "temp", "days", "hours", "floor", "years", "time", "money"}
BY_CODE = {c.code: c for c in CATALOGUE}
PARENTS = {c.parent for c in CATALOGUE if c.parent}
TOP = [c for c in CATALOGUE if c.parent is None]
LEAVES = [c for c in CATALOGUE if c.code not in PARENTS]
GENERATED = [c for c in CATALOGUE if c.offered and c.says]


def fill(text: str, rng: random.Random) -> str:
    """``text`` with its placeholders filled the way the generator fills them."""
    return text.format(
        addr=f"康西社区阳光花园{rng.randint(1, 30)}号楼",
        road=rng.choice(catalogue.ROADS),
        temp=rng.randint(10, 16),
        days=rng.randint(2, 6),
        hours=rng.randint(3, 12),
        floor=rng.randint(5, 18),
        years=rng.randint(3, 10),
        time=rng.choice(catalogue.TIMES_OF_DAY),
        money=rng.choice(catalogue.MONEY),
    )


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


# --- the shape ----------------------------------------------------------------------------------


def test_the_catalogue_has_the_shape_of_a_city_catalogue() -> None:
    assert 12 <= len(TOP) <= 20, [c.name for c in TOP]
    assert 80 <= len(LEAVES) <= 150, len(LEAVES)
    names = {c.name for c in TOP}
    assert names >= {"城乡建设", "供暖", "供水", "供电", "燃气", "交通运输", "生态环境", "物业"}
    assert names >= {"市场监管", "劳动保障", "教育", "医疗卫生", "民政服务", "公共安全"}
    assert "政策咨询" in names
    # Every top-level matter has members to route to, but the drill and the first demo's 噪音
    # (noise by its source is 生态环境's: 建筑施工噪声 …).
    assert [c.code for c in TOP if c.code not in PARENTS] == ["noise", "drill"]


def test_codes_are_slugs_names_unique_parents_listed_first() -> None:
    seen: set[str] = set()
    for category in CATALOGUE:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", category.code), category.code
        assert category.parent is None or category.parent in seen, category.code
        seen.add(category.code)
    names = Counter(c.name for c in CATALOGUE)
    assert not [n for n, k in names.items() if k > 1]
    # The browser tests pick these by searching their names: one category each.
    assert [c.code for c in CATALOGUE if "供暖不热" in c.name] == ["heating-cold"]
    assert [c.code for c in CATALOGUE if "演练" in c.name] == ["drill"]


def visible(query: str) -> list[str]:
    """The categories the submit page lists for ``query`` (static/js/submit.js): those whose name
    or code holds it, and every child of a top-level one that does, and a parent above them."""
    shown = []
    for root in TOP:
        kids = [c for c in CATALOGUE if c.parent == root.code and c.offered]
        hit = query in f"{root.name} {root.code}".lower()
        kids_shown = [k.code for k in kids if hit or query in f"{k.name} {k.code}".lower()]
        if root.offered and (hit or kids_shown):
            shown.append(root.code)
        shown += kids_shown
    return shown


def test_a_resident_finds_the_categories_the_browser_tests_pick() -> None:
    assert visible("噪音") == ["noise"]  # typed, then Enter picks the only match
    assert visible("供暖不热") == ["heating", "heating-cold"]
    assert visible("演练") == []


def test_the_first_demo_codes_keep_name_parent_and_deadlines() -> None:
    for code, (name, parent, (urgent, contact, resolve)) in FIRST.items():
        category = BY_CODE[code]
        assert (category.name, category.parent) == (name, parent), code
        assert (category.urgent, category.contact, category.resolve) == (urgent, contact, resolve)
    assert not BY_CODE["drill"].offered
    rules = {(code, level, kind, unit) for code, level, kind, unit, _co, _n in RESPONSIBILITIES}
    assert rules >= FIRST_RULES
    # …and no new row of their own that would change whom they are suggested to
    assert {r for r in rules if r[0] in FIRST and r[0] != "drill"} == FIRST_RULES


def test_deadlines_are_sane() -> None:
    for c in CATALOGUE:
        (contact, contact_unit), (resolve, resolve_unit) = c.contact, c.resolve
        if c.code == "drill":
            continue
        if c.urgent:  # utilities and hazards in clock hours, like today's URGENT
            assert contact_unit == resolve_unit == H, c.code
            assert contact < resolve <= 48, c.code
        else:
            assert resolve_unit == WD and contact_unit in (WD, WH), c.code
            assert contact <= (2 if contact_unit == WD else 8), c.code
            # not past the complex-case deadline every category has (15 working days)
            assert 1 <= resolve <= 15, c.code
    for code in catalogue.CONSULTATIONS:
        assert BY_CODE[code].resolve == (1, WD), code


# --- the 权责清单 -------------------------------------------------------------------------------


def test_every_leaf_is_owned_through_its_own_or_an_ancestors_rows() -> None:
    owned = {code for code, *_rest in RESPONSIBILITIES}
    for leaf in LEAVES:
        chain, code = [], leaf.code
        while code is not None:
            chain.append(code)
            code = BY_CODE[code].parent
        assert owned & set(chain), leaf.code


def test_rows_name_kinds_or_city_units_that_exist_at_every_level() -> None:
    units = {code for code, _name, _kind in CITY_UNITS}
    for code, level, kind, unit, co, note in RESPONSIBILITIES:
        assert code in BY_CODE and note
        assert bool(kind) != bool(unit), code  # a kind of unit at a level, or a named unit
        assert not unit or (unit in units and level == RegionLevel.CITY), code
        assert kind in ("", *UnitKind.values)
        assert set(co) <= units, code
    # Graded dispatch gets matters at every level: community, street, district and city.
    assert {level for _c, level, *_rest in RESPONSIBILITIES} == set(RegionLevel.values)
    assert units >= {"xn-education", "xn-health", "xn-hrss", "xn-police", "xn-medical-insurance"}


@pytest.mark.django_db
def test_the_seeded_database_holds_the_catalogue(demo: object) -> None:
    rows = {c.code: c for c in Category.objects.select_related("parent")}
    for category in CATALOGUE:
        row = rows[category.code]
        assert row.name == category.name, category.code
        assert (row.parent.code if row.parent else None) == category.parent
        assert row.offered_to_residents == category.offered
    seeded = Responsibility.objects.filter(category__code__in=BY_CODE)
    assert seeded.count() == len(RESPONSIBILITIES)
    for leaf in LEAVES:
        ancestors, row = [], rows[leaf.code]
        while row is not None:
            ancestors.append(row.pk)
            row = row.parent
        assert seeded.filter(category_id__in=ancestors).exists(), leaf.code


# --- the generator's weights and words ----------------------------------------------------------


def test_weights_cover_every_group_and_keep_the_heating_season() -> None:
    assert set(GROUPS) == {c.code for c in TOP} - {"heating", "drill"}
    generated = {c.code for c in GENERATED}
    assert {code for members in MEMBERS.values() for code in members} == generated
    for members in MEMBERS.values():
        assert sum(members.values()) == pytest.approx(1.0)
    # About as much as the first demo's groups (0.94), so heating keeps its share of a winter.
    assert 0.9 <= sum(city for city, _village in GROUPS.values()) <= 1.0
    assert heating_weight(dt.date(2024, 12, 1)) > 1
    # Common matters dominate: 物业 in the city, 道路 and 供水 in villages.
    assert max(GROUPS, key=lambda g: GROUPS[g][0]) == "property"
    assert {"roads", "water", "sanitation"} >= set(sorted(GROUPS, key=lambda g: -GROUPS[g][1])[:3])


@pytest.mark.parametrize("category", GENERATED, ids=lambda c: c.code)
def test_every_category_speaks_in_many_natural_ways(category: catalogue.DemoCategory) -> None:
    # Given 200 complaints the generator would write about the category
    rng = random.Random(category.code)
    written = [compose(category.code, rng) for _ in range(200)]
    texts = {fill(text, rng) for _title, text in written}
    titles = {title for title, _text in written}
    # Then they are many, from many problem cores, and every placeholder is one it fills
    assert len(category.says) >= 5 if category.code in PARENTS else len(category.says) >= 6
    assert len(texts) >= 150, category.code
    assert len(titles) >= 6, category.code
    for title, text in written:
        assert fields(text) <= PLACEHOLDERS and not fields(title), (category.code, text)
        assert text.endswith(("。", "！", "？")), text
        assert "，，" not in text and "。，" not in text, text


def test_villagers_and_town_residents_speak_of_their_own_places() -> None:
    rng = random.Random(1)
    village = {compose("water-pipe", rng, rural=True)[1] for _ in range(300)}
    town = {compose("water-outage", rng, rural=False)[1] for _ in range(300)}
    assert not [t for t in village if "小区" in t or "楼道" in t]
    assert not [t for t in town if "村" in t]
    villagers = {compose("water-outage", rng, rural=True)[1] for _ in range(300)}
    assert any("村" in t for t in villagers)


def test_siblings_share_words_as_real_complaints_do() -> None:
    # 停水, 水压, 水质 and 水费 all speak of 水; every 供暖 matter of 暖 or 供热
    for code in ("water-outage", "water-quality", "water-pressure", "water-pipe", "water-bill"):
        assert all("水" in line for line in BY_CODE[code].says), code
    for code in ("heating-cold", "heating-leak", "heating-fee", "heating-stop"):
        assert all(("暖" in line or "热" in line) for line in BY_CODE[code].says), code


def test_the_benchmark_templates_are_a_fixed_sample_its_sql_can_fill() -> None:
    for category in GENERATED:
        templates = catalogue.TEMPLATES[category.code]
        assert len(set(templates)) == catalogue.TEMPLATES_PER_CATEGORY
        assert templates == catalogue.sample(
            category.code, catalogue.TEMPLATES_PER_CATEGORY, brief=True
        )
        for _title, text in templates:
            for name in fields(text):
                assert f"'«{name}»'" in city_sql.CASES, name
