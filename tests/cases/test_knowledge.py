"""知识库 (issue 16, item 2): finding the article that answers a colloquial question, only while
it is in force and where it applies, and recording the article an operator answered with."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import knowledge
from cases.models import KnowledgeArticle, KnowledgeUse, Status
from demo.knowledge import seed_knowledge
from tests.conftest import Demo

SEARCH = "/api/v1/knowledge/search/"
DIBAO = "怎么申请低保？需要什么材料？"


@pytest.fixture
def articles(demo: Demo) -> int:
    return seed_knowledge()


def article(demo: Demo, question: str, **fields: Any) -> KnowledgeArticle:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "question": question,
        "answer": fields.pop("answer", f"{question}的答复。"),
        "owner_unit": demo.unit("xn-civil"),
        "valid_from": today - dt.timedelta(days=10),
        "review_by": today + dt.timedelta(days=90),
    }
    values.update(fields)
    made = KnowledgeArticle(**values)
    knowledge.refresh_words(made)
    made.save()
    return made


def questions(found: list[knowledge.Found]) -> list[str]:
    return [f.article.question for f in found]


@pytest.mark.parametrize(
    "asked",
    [
        "我家里困难，想吃低保，要咋弄",
        "你好，我妈一个人生活没有收入，能不能给她办个低保",
        "低保申请要交哪些证明",
    ],
)
def test_a_colloquial_question_finds_the_planted_article(
    demo: Demo, articles: int, asked: str
) -> None:
    assert articles >= 7
    assert questions(knowledge.search(asked))[0] == DIBAO


def test_the_other_common_questions_find_their_articles(demo: Demo, articles: int) -> None:
    heating = "西宁什么时候开始供暖？什么时候停暖？"
    assert questions(knowledge.search("暖气啥时候开始烧"))[0] == heating
    assert "不动产" in questions(knowledge.search("办房产证要带什么材料"))[0]
    assert "停水" in questions(knowledge.search("小区突然停水了什么时候来水"))[0]
    assert knowledge.search("你好请问一下") == []  # nothing but words that say nothing


def test_expired_and_future_articles_are_not_offered(demo: Demo) -> None:
    today = timezone.localdate()
    article(demo, "临时救助怎么申请？", valid_until=today - dt.timedelta(days=1))
    article(demo, "临时救助新政策怎么申请？", valid_from=today + dt.timedelta(days=1))
    current = article(demo, "临时救助到哪里申请？")
    assert questions(knowledge.search("想申请临时救助")) == [current.question]
    listed = APIClient().get("/api/v1/knowledge/").json()["results"]
    assert [row["question"] for row in listed] == [current.question]


def test_an_article_applies_only_where_it_is_meant(demo: Demo) -> None:
    huangzhong = article(demo, "湟中区取暖补贴怎么领？")
    huangzhong.regions.set([demo.region("湟中区")])
    everywhere = article(demo, "取暖补贴政策是什么？")
    duoba = demo.region("湟中区", "多巴镇", "多巴一村")
    found = questions(knowledge.search("取暖补贴", region=duoba))
    assert set(found) == {huangzhong.question, everywhere.question}
    elsewhere = demo.region("城东区").children.first().children.first()
    assert questions(knowledge.search("取暖补贴", region=elsewhere)) == [everywhere.question]


def test_the_complaints_category_ranks_its_articles_first(demo: Demo) -> None:
    water = article(demo, "停水停电怎么查询", owner_unit=demo.unit("xn-water"))
    power = article(demo, "停水停电怎么查询？", owner_unit=demo.unit("xn-power"))
    power.categories.set([demo.category("power")])
    water.categories.set([demo.category("water")])
    assert questions(knowledge.search("停水停电", category=demo.category("water-outage")))[0] == (
        water.question
    )
    assert questions(knowledge.search("停水停电", category=demo.category("power")))[0] == (
        power.question
    )


def test_residents_read_public_articles_only(demo: Demo, articles: int) -> None:
    internal = article(demo, "低保内部审核口径", is_public=False)
    visitor = APIClient()
    hits = visitor.get(SEARCH, {"q": "低保审核"}).json()
    assert internal.question not in [hit["article"]["question"] for hit in hits]
    assert visitor.get(f"/api/v1/knowledge/{internal.pk}/").status_code == 404
    staff = APIClient()
    staff.force_authenticate(demo.user("operator1"))
    hits = staff.get(SEARCH, {"q": "低保审核"}).json()
    assert internal.question in [hit["article"]["question"] for hit in hits]
    assert staff.get(f"/api/v1/knowledge/{internal.pk}/").status_code == 200


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "低保", "category": 999999}])
def test_bad_searches_are_a_400(demo: Demo, query: dict[str, Any]) -> None:
    response = APIClient().get(SEARCH, query)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_an_article_used_at_intake_is_recorded_and_counted(
    demo: Demo, articles: int, make_case: Any
) -> None:
    dibao = KnowledgeArticle.objects.get(question=DIBAO)
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    for _ in range(2):
        case = make_case(
            description="想问一下低保怎么申请。", category=demo.category("social-dibao")
        )
        response = client.post(
            f"/api/v1/cases/{case.pk}/resolve-at-intake/",
            {"reply": dibao.answer, "article": dibao.pk},
            format="json",
        )
        assert response.status_code == 200, response.content
        case.refresh_from_db()
        assert case.status == Status.REPLIED and case.reply_text == dibao.answer
        payload = case.events.get(type="resolve_at_intake").payload
        assert payload["article"] == dibao.pk and payload["article_question"] == DIBAO
    assert KnowledgeUse.objects.filter(article=dibao).count() == 2
    # Left out, nothing is recorded.
    plain = make_case()
    url = f"/api/v1/cases/{plain.pk}/resolve-at-intake/"
    client.post(url, {"reply": "已答复。"}, format="json")
    assert "article" not in plain.events.get(type="resolve_at_intake").payload
    assert not KnowledgeUse.objects.filter(case=plain).exists()


def test_an_article_out_of_force_cannot_answer(demo: Demo, make_case: Any) -> None:
    old = article(demo, "旧的低保标准", valid_until=timezone.localdate() - dt.timedelta(days=1))
    case = make_case()
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    response = client.post(
        f"/api/v1/cases/{case.pk}/resolve-at-intake/",
        {"reply": "按旧标准答复。", "article": old.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "article" in response.json()["fields"]
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and not KnowledgeUse.objects.exists()


def test_the_public_page_answers_residents_without_a_case(demo: Demo, articles: int) -> None:
    from django.test import Client

    internal = article(demo, "低保内部审核口径", is_public=False)
    expired = article(
        demo, "低保旧标准是多少？", valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    page = Client().get("/knowledge/", {"q": "我家困难想吃低保"}).content.decode()
    assert DIBAO in page and "维护单位：西宁市民政局" in page
    assert internal.question not in page and expired.question not in page
    listed = Client().get("/knowledge/").content.decode()
    assert DIBAO in listed and internal.question not in listed and expired.question not in listed
    nothing = Client().get("/knowledge/", {"q": "火星移民"}).content.decode()
    assert 'id="knowledge-empty"' in nothing and 'href="/submit/"' in nothing


def test_the_owner_unit_is_told_once_when_an_article_is_due_for_review(demo: Demo) -> None:
    from notifications.models import Notification
    from org.models import Membership, Role

    handler = demo.user("handler_huangzhong")
    Membership.objects.create(user=handler, unit=demo.unit("xn-civil"), role=Role.HANDLER)
    today = timezone.localdate()
    due = article(demo, "低保标准是多少？", review_by=today - dt.timedelta(days=1))
    article(demo, "临时救助怎么申请？", review_by=today + dt.timedelta(days=30))  # not yet
    article(  # out of force: nobody answers with it any more
        demo,
        "旧的救助标准",
        review_by=today - dt.timedelta(days=5),
        valid_until=today - dt.timedelta(days=1),
    )
    assert knowledge.tell_reviews_due(today) == 1
    assert knowledge.tell_reviews_due(today) == 1  # the next morning's run, before the edit
    told = Notification.objects.filter(user=handler, kind="knowledge_review_due")
    assert told.count() == 1
    assert told.get().params == {"question": due.question, "due": due.review_by.isoformat()}
    # A new review date, once it comes, is told again.
    due.review_by = today
    due.save()
    knowledge.tell_reviews_due(today)
    assert told.count() == 2


def test_a_word_many_articles_share_does_not_push_the_answer_out(demo: Demo) -> None:
    """More articles than the candidates read hold 申请; the one that also holds 低保 and
    comes last by the alphabet is still found first."""
    for n in range(knowledge.CANDIDATES + 10):
        article(demo, f"甲{n:03d}类证明怎么申请？")
    wanted = article(demo, "龥 低保怎么申请？", answer="低保向乡镇（街道）申请。")
    assert questions(knowledge.search("申请低保"))[0] == wanted.question
