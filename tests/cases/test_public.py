"""办理公开 (/public/) and its Atom feed: only answered cases, filtered, paged by keyset without a
count, in a constant number of queries, and nothing personal in the page or the feed."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from cases import public, workflow
from cases.models import Case, Status
from tests.cases.conftest import run_steps
from tests.conftest import Demo

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
PAGE = "/public/"
FEED = "/public/feed.atom"

# 湟中区 and 城东区, two streets of 湟中区, two categories under 供暖 and one elsewhere.
DUOBA = ("湟中区", "多巴镇", "多巴一村")
LUSHAER = ("湟中区", "鲁沙尔镇")
KANGXI = ("城东区", "大众街街道", "康西社区")


@pytest.fixture
def answered(demo: Demo) -> Callable[..., Case]:
    """answered(title, region=…, category=…, reply=…): a case answered on the spot by the
    hotline operator (即时办结, status replied) through the workflow."""

    def make(
        title: str,
        *,
        region: tuple[str, ...] = DUOBA,
        category: str = "heating-cold",
        reply: str = "已联系燃气公司修复管道。",
        **fields: Any,
    ) -> Case:
        if len(region) == 2:  # a street: its first community
            street = demo.region(*region)
            place = street.children.order_by("pk").first()
        else:
            place = demo.region(*region)
        values: dict[str, Any] = {
            "actor": demo.user("resident1"),
            "category": demo.category(category),
            "region": place,
            "title": title,
            "description": "家里暖气不热，附近管道破损。",
            "complainant_name": "赵建国",
            "complainant_phone": "13897123456",
            "address": "新村巷38号",
        }
        values.update(fields)
        with transaction.atomic():
            case = workflow.case_submit(**values)
        return workflow.case_resolve_at_intake(
            case=case, actor=demo.user("operator1"), reply=reply
        )

    return make


def listed(html: str, *titles: str) -> list[str]:
    """Which of ``titles`` the page shows, in the order given."""
    return [title for title in titles if title in html]


def feed_entries(content: bytes) -> list[ET.Element]:
    root = ET.fromstring(content)  # noqa: S314 (the server under test wrote it)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


# --- what is listed -----------------------------------------------------------------------------


def test_only_answered_cases_are_listed(
    client: Client, answered: Callable[..., Case], make_case: Callable[..., Case]
) -> None:
    # Given an answered case, and cases submitted, in handling, rejected and evaluated
    answered("楼道暖气不热")
    for status in (Status.SUBMITTED, Status.HANDLING, Status.REJECTED, Status.EVALUATED):
        make_case(status, title=f"状态{status}")
    # When the public opens the page
    response = client.get(PAGE)
    html = response.content.decode()
    # Then it lists the answered ones (replied, evaluated), never the others
    assert response.status_code == 200
    assert "楼道暖气不热" in html and f"状态{Status.EVALUATED}" in html
    for status in (Status.SUBMITTED, Status.HANDLING, Status.REJECTED):
        assert f"状态{status}" not in html
    # And the reply, category, place, dates and status are shown
    assert "已联系燃气公司修复管道。" in html and "供暖不热" in html
    assert "湟中区 多巴镇" in html and "待评价" in html
    assert timezone.localdate().isoformat() in html


def test_a_reopened_case_leaves_the_list_until_it_is_answered_again(
    client: Client, make_case: Callable[..., Case], demo: Demo
) -> None:
    # Given a case rated 不满意 and sent back to the unit (重办)
    case = make_case(Status.REPLIED, title="重办的诉求")
    workflow.case_evaluate(case=case, actor=demo.user("resident1"), rating="unsatisfied")
    workflow.case_reopen(case=case, actor=demo.user("dispatcher_huangzhong"), reason="不满意")
    # Then its earlier answer is not shown
    assert "重办的诉求" not in client.get(PAGE).content.decode()


# --- filters ------------------------------------------------------------------------------------


@pytest.fixture
def spread(answered: Callable[..., Case]) -> dict[str, Case]:
    """Four answered cases: two streets of 湟中区, one case in 城东区, one about roads."""
    return {
        "duoba": answered("多巴镇的暖气"),
        "lushaer": answered("鲁沙尔镇的暖气", region=LUSHAER, category="heating-leak"),
        "kangxi": answered("康西社区的暖气", region=KANGXI),
        "road": answered("多巴镇的路灯", category="roads-lights"),
    }


TITLES = ("多巴镇的暖气", "鲁沙尔镇的暖气", "康西社区的暖气", "多巴镇的路灯")


def test_filters_by_district_street_and_category(
    client: Client, demo: Demo, spread: dict[str, Case]
) -> None:
    huangzhong = demo.region("湟中区").pk
    duoba = demo.region("湟中区", "多巴镇").pk

    def shown(**params: Any) -> list[str]:
        response = client.get(PAGE, params)
        assert response.status_code == 200
        return listed(response.content.decode(), *TITLES)

    assert shown() == list(TITLES)
    assert shown(district=huangzhong) == ["多巴镇的暖气", "鲁沙尔镇的暖气", "多巴镇的路灯"]
    assert shown(street=duoba) == ["多巴镇的暖气", "多巴镇的路灯"]
    # A top-level category brings its children; a child is itself alone
    assert shown(category="heating") == ["多巴镇的暖气", "鲁沙尔镇的暖气", "康西社区的暖气"]
    assert shown(category="heating-leak") == ["鲁沙尔镇的暖气"]
    assert shown(district=huangzhong, category="roads") == ["多巴镇的路灯"]
    # And the form keeps what was chosen
    html = client.get(PAGE, {"street": duoba}).content.decode()
    assert f'<option value="{duoba}" selected>多巴镇</option>' in html


def test_a_filter_without_results_says_so(client: Client, demo: Demo, spread: Any) -> None:
    # Given a street of 城东区 chosen with the district 湟中区, and a category without answers
    html = client.get(
        PAGE,
        {"district": demo.region("湟中区").pk, "street": demo.region("城东区", "大众街街道").pk},
    ).content.decode()
    # Then the page says nothing matches and offers the whole list
    assert "这个筛选条件下还没有公开的办理结果。" in html and listed(html, *TITLES) == []
    html = client.get(PAGE, {"category": "market"}).content.decode()
    assert "这个筛选条件下还没有公开的办理结果。" in html


def test_the_page_without_any_answer_has_an_empty_state(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "还没有公开的办理结果。" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"district": "999999"},
        {"district": "abc"},
        {"district": "1 OR 1=1"},
        {"district": "9" * 40},
        {"street": "-1"},
        {"category": "no-such-category"},
        {"category": "<script>"},
        {"older": "yesterday"},
        {"older": "9" * 30 + "-1"},
    ],
)
def test_unknown_or_malformed_parameters_get_a_clear_empty_state(
    client: Client, spread: Any, params: dict[str, str]
) -> None:
    # When a parameter names nothing we know
    response = client.get(PAGE, params)
    html = response.content.decode()
    # Then the page explains it (a 400, never a 500) and lists nothing
    assert response.status_code == 400
    assert "筛选条件有误" in html and listed(html, *TITLES) == []
    assert "<script>" not in html.split("<main", 1)[1]
    # And the feed of that filter does not exist
    assert client.get(FEED, params).status_code == 404


def test_a_nul_character_is_refused_before_the_page(client: Client) -> None:
    assert client.get(PAGE, {"district": "\x00"}).status_code == 400
    assert client.get(FEED, {"district": "\x00"}).status_code == 400


def test_a_district_given_as_a_street_is_refused(client: Client, demo: Demo) -> None:
    # A region id of the wrong level is no street
    response = client.get(PAGE, {"street": demo.region("湟中区").pk})
    assert response.status_code == 400


def test_unrelated_parameters_are_ignored(client: Client, spread: Any) -> None:
    response = client.get(PAGE, {"utm_source": "weibo"})
    assert response.status_code == 200
    assert listed(response.content.decode(), *TITLES) == list(TITLES)


# --- paging -------------------------------------------------------------------------------------


def test_pages_follow_the_older_link_to_the_end_without_gaps_or_repeats(
    client: Client, answered: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given seven answers, three of them at the same instant, and pages of three
    monkeypatch.setattr(public, "PAGE_SIZE", 3)
    cases = [answered(f"第{n}件诉求") for n in range(7)]
    same = timezone.now() - dt.timedelta(hours=1)
    Case.objects.filter(pk__in=[c.pk for c in cases[2:5]]).update(replied_at=same)
    expected = [
        c.title
        for c in Case.objects.order_by("-replied_at", "-pk").filter(pk__in=[c.pk for c in cases])
    ]
    # When the reader follows "更早的结果" to the end
    seen: list[str] = []
    url = PAGE
    pages = 0
    while url:
        html = client.get(url).content.decode()
        seen += [t for t in expected if t in html]
        pages += 1
        assert ("回到最新" in html) == (pages > 1)
        url = public_older_link(html)
    # Then every case was shown exactly once, newest answer first, on three pages
    assert seen == expected and pages == 3


def public_older_link(html: str) -> str:
    marker = 'rel="next"'
    if marker not in html:
        return ""
    tag = html[: html.index(marker)].rsplit("<a", 1)[1]
    return tag.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_the_older_link_keeps_the_filter(
    client: Client, demo: Demo, answered: Callable[..., Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public, "PAGE_SIZE", 1)
    answered("城东一", region=KANGXI)
    answered("湟中一")
    answered("湟中二")
    huangzhong = demo.region("湟中区").pk
    first = client.get(PAGE, {"district": huangzhong}).content.decode()
    link = public_older_link(first)
    assert f"district={huangzhong}" in link
    second = client.get(link).content.decode()
    assert listed(second, "城东一", "湟中一", "湟中二") == ["湟中一"]
    assert public_older_link(second) == ""


@pytest.mark.parametrize("size", [3, 12])
def test_a_page_costs_the_same_queries_however_many_cases(
    client: Client,
    answered: Callable[..., Case],
    demo: Demo,
    size: int,
    django_assert_num_queries: Any,
) -> None:
    # Given some or many answered cases in three categories
    for n in range(size):
        answered(f"诉求{n}", category=("heating-cold", "roads-lights", "water-outage")[n % 3])
    filtered = {"district": demo.region("湟中区").pk, "category": "heating"}
    older = {"older": public.cursor_of(Case.objects.latest("replied_at"))}
    # Then a page (the first, a filtered one, an older one) and a feed read the choices (2)
    # and one query per answered status (4): no query per row, no count
    for url, params in (
        (PAGE, {}),
        (PAGE, filtered),
        (PAGE, older),
        (FEED, {"category": "roads"}),
    ):
        with django_assert_num_queries(6):
            assert client.get(url, params).status_code == 200


# --- the feed -----------------------------------------------------------------------------------


def test_the_feed_is_atom_and_follows_the_filter(
    client: Client, demo: Demo, spread: dict[str, Case]
) -> None:
    # When a reader subscribes to the whole list and to 多巴镇's heating
    whole = client.get(FEED)
    duoba = demo.region("湟中区", "多巴镇").pk
    narrow = client.get(FEED, {"street": duoba, "category": "heating"})
    # Then both are Atom documents
    assert whole["Content-Type"].startswith("application/atom+xml")
    titles = [e.findtext(f"{ATOM}title") for e in feed_entries(whole.content)]
    assert sorted(titles) == sorted(TITLES)
    entries = feed_entries(narrow.content)
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["多巴镇的暖气"]
    root = ET.fromstring(narrow.content)  # noqa: S314 (the server under test wrote it)
    assert "多巴镇" in (root.findtext(f"{ATOM}title") or "")
    # And each entry links to the page where it is listed, with its reply and its date
    entry = entries[0]
    link = entry.find(f"{ATOM}link")
    assert link is not None
    href = link.get("href", "")
    assert href.startswith("http://testserver/public/?older=")
    assert f"#case-{spread['duoba'].pk}" in href
    path = href.removeprefix("http://testserver")
    assert "多巴镇的暖气" in client.get(path).content.decode()
    assert "已联系燃气公司修复管道。" in (entry.findtext(f"{ATOM}summary") or "")
    assert entry.findtext(f"{ATOM}updated")


def test_the_page_links_the_feed_of_its_filter(client: Client, demo: Demo) -> None:
    huangzhong = demo.region("湟中区").pk
    html = client.get(PAGE, {"district": huangzhong, "category": "heating"}).content.decode()
    feed = f"/public/feed.atom?district={huangzhong}&amp;category=heating"
    assert f'<link rel="alternate" type="application/atom+xml" href="{feed}"' in html
    assert f'<a class="btn btn-sm btn-outline-dark" href="{feed}"' in html


def test_the_feed_escapes_markup_typed_into_a_reply(
    client: Client, answered: Callable[..., Case]
) -> None:
    answered("标题", reply="<script>alert(1)</script>已处理")
    summary = feed_entries(client.get(FEED).content)[0].findtext(f"{ATOM}summary") or ""
    # The summary is HTML to a reader: the reply arrives as text, not as a script
    assert "<script>" not in summary and "&lt;script&gt;" in summary


def test_the_home_page_links_the_public_page(client: Client) -> None:
    assert 'href="/public/"' in client.get("/").content.decode()


# --- privacy ------------------------------------------------------------------------------------

PHONE = "13912345678"
ID_NUMBER = "630102198501012345"  # a valid check digit (GB 11643)


def test_nothing_personal_reaches_the_page_or_the_feed(client: Client, demo: Demo) -> None:
    # Given a case whose title and reply repeat the complainant's name, a phone and an ID
    # number, handled with an internal note and a public update on its timeline
    with transaction.atomic():
        case = workflow.case_submit(
            actor=demo.user("resident1"),
            category=demo.category("heating-cold"),
            region=demo.region(*DUOBA),
            title=f"赵建国反映暖气不热，电话{PHONE}",
            description="家里暖气不热，附近管道破损。",
            complainant_name="赵建国",
            complainant_phone="13897123456",
            address="新村巷38号",
        )
    case = run_steps(case, ["accept", "dispatch", "sign"], demo)
    handler = demo.user("handler_huangzhong")
    workflow.case_add_progress(case=case, actor=handler, text="内部备注：诉求人情绪激动")
    workflow.case_add_progress(case=case, actor=handler, text="公开进展：已派人", public=True)
    workflow.case_reply(
        case=case,
        actor=handler,
        outcome="resolved",
        text=f"已联系赵建国（身份证{ID_NUMBER}，电话0971-6123456），管道已修复。",
    )
    # When the public reads the page and the feed
    page = client.get(PAGE).content.decode()
    feed = client.get(FEED).content.decode()
    # Then the answer is there, masked, and nothing else of the case
    for body in (page, feed):
        assert "管道已修复" in body and "赵**" in body
        for secret in ("赵建国", "13897123456", PHONE, ID_NUMBER, "6123456", "内部备注",
                       "情绪激动", "公开进展", "新村巷", "家里暖气不热", "韩承办"):  # fmt: skip
            assert secret not in body, secret


def test_the_drill_category_is_not_offered_as_a_filter(client: Client, demo: Demo) -> None:
    # The drill (应急演练) is not offered to residents: nor is it among the page's categories
    html = client.get(PAGE).content.decode()
    assert 'value="drill"' not in html and 'value="heating"' in html
    assert client.get(PAGE, {"category": "drill"}).status_code == 400
