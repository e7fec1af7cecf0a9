"""知识库 in the dashboards (issue 16, item 3): the articles used most at intake, those whose
answers were rated 不满意, and those past their review date, counted within the reader's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from cases import workflow
from cases.models import KnowledgeArticle, KnowledgeUse, Rating
from demo.knowledge import seed_knowledge
from stats.rollup import refresh_rollup
from tests.cases.test_knowledge import DIBAO, article
from tests.conftest import Demo

URL = "/api/v1/stats/knowledge/"


def answer(
    demo: Demo, make_case: Any, chosen: KnowledgeArticle, rating: str | None = None
) -> None:
    case = make_case(description="想问问政策。")
    case = workflow.case_resolve_at_intake(
        case=case, actor=demo.user("operator1"), reply=chosen.answer, article=chosen
    )
    if rating:
        workflow.case_evaluate(case=case, actor=demo.user("resident1"), rating=rating)


def test_uses_unsatisfied_and_past_review_are_counted(demo: Demo, make_case: Any) -> None:
    seed_knowledge()
    dibao = KnowledgeArticle.objects.get(question=DIBAO)
    heating = KnowledgeArticle.objects.get(question__startswith="西宁什么时候开始供暖")
    for _ in range(3):
        answer(demo, make_case, dibao, Rating.SATISFIED)
    answer(demo, make_case, heating, Rating.UNSATISFIED)
    answer(demo, make_case, heating)
    late = article(
        demo, "临时救助怎么申请？", review_by=timezone.localdate() - dt.timedelta(days=3)
    )
    client = APIClient()
    client.force_authenticate(demo.user("committee1"))
    body = client.get(URL).json()
    assert body["uses"] == 5 == KnowledgeUse.objects.count()
    assert [(r["question"], r["uses"], r["unsatisfied"]) for r in body["most_used"]] == [
        (DIBAO, 3, 0),
        (heating.question, 2, 1),
    ]
    assert [r["question"] for r in body["unsatisfied"]] == [heating.question]
    assert body["past_review_count"] == 1 and body["past_review"][0]["question"] == late.question
    # A period before the uses counts none of them.
    old = client.get(URL, {"from": "2020-01-01", "to": "2020-01-31"}).json()
    assert old["uses"] == 0 and old["most_used"] == []


def test_a_reader_counts_the_uses_of_their_own_area_and_residents_none(
    demo: Demo, make_case: Any
) -> None:
    seed_knowledge()
    dibao = KnowledgeArticle.objects.get(question=DIBAO)
    answer(demo, make_case, dibao)  # in 湟中区 (make_case's community)
    elsewhere = APIClient()
    elsewhere.force_authenticate(demo.user("dispatcher_chengdong"))
    assert elsewhere.get(URL).json()["uses"] == 0
    inside = APIClient()
    inside.force_authenticate(demo.user("dispatcher_huangzhong"))
    assert inside.get(URL).json()["uses"] == 1
    resident = APIClient()
    resident.force_authenticate(demo.user("resident1"))
    assert resident.get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)


FIRST_CALL = "/api/v1/stats/first-call/"


def test_the_first_call_rate_counts_what_intake_answered_on_the_spot(
    demo: Demo, make_case: Any
) -> None:
    """一次办结率 = answered at intake ÷ taken in (受理 or 即时办结), in all, by operator and by
    category, equal to counting the cases themselves."""
    seed_knowledge()
    dibao = KnowledgeArticle.objects.get(question=DIBAO)
    for _ in range(3):
        answer(demo, make_case, dibao)  # operator1, 即时办结 (category heating-cold)
    for _ in range(2):
        make_case("accepted")
    moved = make_case(category=demo.category("noise"))
    workflow.case_accept(case=moved, actor=demo.user("operator1"))
    refresh_rollup()  # the counters are kept with the rollup (stats.first_call)
    client = APIClient()
    client.force_authenticate(demo.user("committee1"))
    body = client.get(FIRST_CALL).json()
    assert (body["taken"], body["at_intake"], body["rate"]) == (6, 3, 0.5)
    # make_case walks a case through 受理 as operator1 too.
    assert [(r["name"], r["taken"], r["at_intake"]) for r in body["by_operator"]] == [
        ("王接线", 6, 3)
    ]
    categories = {r["name"]: (r["taken"], r["at_intake"], r["rate"]) for r in body["by_category"]}
    assert categories["供暖不热"] == (5, 3, 0.6) and categories["噪音"] == (1, 0, 0.0)
    # Nothing in an empty period; a period longer than three years is refused.
    empty = client.get(FIRST_CALL, {"from": "2020-01-01", "to": "2020-01-31"}).json()
    assert (empty["taken"], empty["rate"], empty["by_operator"]) == (0, None, [])
    assert client.get(FIRST_CALL, {"from": "2020-01-01", "to": "2020-12-31"}).status_code == 200
    too_long = client.get(FIRST_CALL, {"from": "2020-01-01", "to": "2023-12-31"})
    assert too_long.status_code == 400
