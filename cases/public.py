"""办理公开: the public face of the answered cases (issue 13, part 3).

``/public/`` lists the answered cases as anyone may read them: title and reply with personal data
masked (``selectors.masked_text``, the one rule the tracking page and Open311 use), category,
district, street, dates and status; filtered by district, street and category through GET
parameters, paged by keyset ("older" links by (``replied_at``, ``id``)), never counted.
``/public/feed.atom`` is the same list for the same filter as an Atom feed, so that residents
and the press can follow their area.

Server-rendered without a script: the list is the page's content, readable before any script
runs and by a feed reader that runs none.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from org.models import Region, RegionLevel

from . import selectors
from .models import Case, Category

PAGE_SIZE = 20
FEED_SIZE = 30

# The keyset of the "older" link: microseconds since the epoch and the id, "1697700000000000-42".
# Whole numbers keep the instant exact, and the link readable and free of characters to escape.
CURSOR = re.compile(r"^(\d{1,17})-(\d{1,18})$")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def cursor_of(case: Case, *, including: bool = False) -> str:
    """The keyset of the page after ``case``; ``including``: of the page that starts with it
    (one id above it). Listed cases are answered, so ``replied_at`` is set."""
    micros = ((case.replied_at or EPOCH) - EPOCH) // dt.timedelta(microseconds=1)
    return f"{micros}-{case.pk + 1 if including else case.pk}"


def parse_cursor(value: str) -> tuple[dt.datetime, int] | None:
    match = CURSOR.match(value)
    if match is None:
        return None
    return EPOCH + dt.timedelta(microseconds=int(match[1])), int(match[2])


@dataclass
class Choices:
    """What the filter form offers: the districts, their streets and the category tree, read in
    two queries (a few hundred rows of reference data)."""

    districts: list[Region]
    streets: dict[int, list[Region]]  # by district id
    categories: list[tuple[Category, list[Category]]]  # top level and its children

    @classmethod
    def load(cls) -> Choices:
        regions = Region.objects.filter(level__in=[RegionLevel.DISTRICT, RegionLevel.STREET]).only(
            "name", "level", "code", "parent"
        )
        # Districts in the order of their 区划代码 (城东 630102 … 湟源 630123), as the city has it.
        districts = sorted(
            (r for r in regions if r.level == RegionLevel.DISTRICT), key=lambda r: r.code or ""
        )
        streets: dict[int, list[Region]] = {d.pk: [] for d in districts}
        for region in regions:
            if region.level == RegionLevel.STREET and region.parent_id in streets:
                streets[region.parent_id].append(region)
        tops: dict[int, tuple[Category, list[Category]]] = {}
        children: list[Category] = []
        # Only the categories residents are offered (not the drill): the filter is a resident's.
        offered = Category.objects.filter(is_active=True, offered_to_residents=True)
        for category in offered.only("code", "name", "parent"):
            if category.parent_id is None:
                tops[category.pk] = (category, [])
            else:
                children.append(category)
        for child in children:
            if child.parent_id in tops:
                tops[child.parent_id][1].append(child)
        return cls(districts=districts, streets=streets, categories=list(tops.values()))

    @property
    def street_groups(self) -> list[tuple[Region, list[Region]]]:
        return [(district, self.streets[district.pk]) for district in self.districts]


@dataclass
class Filters:
    """The GET parameters read against ``Choices``. ``invalid`` names the parameters whose value
    is no district, street, category or cursor: the page says so instead of guessing."""

    district: Region | None = None
    street: Region | None = None
    category: Category | None = None
    category_ids: list[int] | None = None
    before: tuple[dt.datetime, int] | None = None
    invalid: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, params: QueryDict, choices: Choices) -> Filters:
        filters = cls()
        districts = {str(d.pk): d for d in choices.districts}
        streets = {str(s.pk): s for group in choices.streets.values() for s in group}
        # A top-level category brings its children along; a child category is itself alone.
        categories = {
            top.code: (top, [top.pk, *(k.pk for k in kids)]) for top, kids in choices.categories
        }
        categories.update(
            {kid.code: (kid, [kid.pk]) for _top, kids in choices.categories for kid in kids}
        )
        district = params.get("district", "").strip()
        if district:
            if district in districts:
                filters.district = districts[district]
            else:
                filters.invalid.append("district")
        street = params.get("street", "").strip()
        if street:
            if street in streets:
                filters.street = streets[street]
            else:
                filters.invalid.append("street")
        code = params.get("category", "").strip()
        if code:
            if code in categories:
                filters.category, filters.category_ids = categories[code]
            else:
                filters.invalid.append("category")
        older = params.get("older", "").strip()
        if older:
            filters.before = parse_cursor(older)
            if filters.before is None:
                filters.invalid.append("older")
        return filters

    @property
    def contradictory(self) -> bool:
        """A street outside the chosen district: no case can match both."""
        return bool(self.district and self.street and self.street.parent_id != self.district.pk)

    def query(self, **extra: str) -> str:
        """The filter as a query string ("" for none), for links that keep it."""
        values = {
            "district": str(self.district.pk) if self.district else "",
            "street": str(self.street.pk) if self.street else "",
            "category": self.category.code if self.category else "",
            **extra,
        }
        kept = {key: value for key, value in values.items() if value}
        return "?" + urlencode(kept) if kept else ""

    def describe(self) -> str:
        """The filter in words (湟中区 · 多巴镇 · 供暖), for the feed's title."""
        names = [x.name for x in (self.district, self.street, self.category) if x is not None]
        return " · ".join(names)

    def cases(self, limit: int) -> list[Case]:
        if self.invalid or self.contradictory:
            return []
        return selectors.public_answered(
            district_id=self.district.pk if self.district else None,
            street_id=self.street.pk if self.street else None,
            category_ids=self.category_ids,
            before=self.before,
            limit=limit,
        )


@dataclass(frozen=True)
class Row:
    """A case as the public reads it: the free text masked; the heading is the category when
    the case has no title (then the category is not said twice)."""

    case: Case
    title: str
    has_title: bool
    reply: str

    @classmethod
    def of(cls, case: Case) -> Row:
        title = selectors.masked_text(case.title, case=case) if case.title else ""
        return cls(
            case=case,
            title=title or case.category.name,
            has_title=bool(title),
            reply=selectors.masked_text(case.reply_text, case=case),
        )


class PublicPage(TemplateView):
    """办理公开: the answered cases, filtered and paged, with the feed of the same filter."""

    template_name = "cases/public.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        context = self.get_context_data(**kwargs)
        # An unknown district, street, category or cursor is the reader's mistake (a stale or
        # edited link): the page explains it, and its status says so to a crawler too.
        status = 400 if context["filters"].invalid else 200
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        choices = Choices.load()
        filters = Filters.parse(self.request.GET, choices)
        # One more row than a page tells whether an older page exists, without counting.
        found = filters.cases(PAGE_SIZE + 1)
        page = found[:PAGE_SIZE]
        here = reverse("public")
        context.update(
            choices=choices,
            filters=filters,
            rows=[Row.of(case) for case in page],
            filtered=bool(filters.district or filters.street or filters.category),
            older_url=(
                here + filters.query(older=cursor_of(page[-1])) if len(found) > PAGE_SIZE else ""
            ),
            newest_url=here + filters.query() if filters.before else "",
            feed_url=reverse("public-feed") + filters.query(),
        )
        return context


if TYPE_CHECKING:  # the stubs make Feed generic; Django's class is not subscriptable
    CaseFeed = Feed[Case, Filters]
else:
    CaseFeed = Feed


class PublicFeed(CaseFeed):
    """The Atom feed of one filter: the newest answers, as the page's first page shows them."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Filters:
        filters = Filters.parse(request.GET, Choices.load())
        # A feed of a district that does not exist would stay empty for ever: say it is wrong.
        if filters.invalid or filters.before:
            raise Http404(_("没有这个筛选条件。"))
        return filters

    def title(self, obj: Filters) -> str:
        where = obj.describe()
        heading = _("西宁市有诉必应 · 办理公开")
        return f"{heading} · {where}" if where else heading

    def subtitle(self, obj: Filters) -> str:
        return _("已答复的诉求，个人信息已隐去。")

    def link(self, obj: Filters) -> str:
        return reverse("public") + obj.query()

    def feed_url(self, obj: Filters) -> str:
        return reverse("public-feed") + obj.query()

    def items(self, obj: Filters) -> list[Case]:
        return obj.cases(FEED_SIZE)

    def item_title(self, item: Case) -> str:
        return Row.of(item).title

    def item_description(self, item: Case) -> str:
        # Atom readers take the summary as HTML: the masked reply is escaped, never markup.
        place = " ".join(r.name for r in (item.district, item.street))
        facts = f"{item.category.name} · {place} · {item.get_status_display()}"
        return f"<p>{escape(facts)}</p>{linebreaks(Row.of(item).reply, autoescape=True)}"

    def item_link(self, item: Case) -> str:
        """The page that starts at this case (its own keyset, one id above), so that the link
        still finds it when newer answers have pushed it off the first page."""
        return reverse("public") + f"?older={cursor_of(item, including=True)}#case-{item.pk}"

    def item_pubdate(self, item: Case) -> dt.datetime | None:
        return item.replied_at

    def item_updateddate(self, item: Case) -> dt.datetime | None:
        return item.replied_at

    def item_categories(self, item: Case) -> list[str]:
        return [item.category.name, item.district.name]
