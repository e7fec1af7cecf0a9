"""知识库 kept by units (issue 16 item 2): the owner unit's handlers (and administrators) write
its articles through the API, every change is a version kept, and nobody else writes any."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import knowledge
from cases.models import KnowledgeArticle
from org.models import Role, User
from tests.cases.test_knowledge import article
from tests.conftest import Demo
from tests.factories import MembershipFactory

URL = "/api/v1/knowledge/"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def new_article(demo: Demo, **fields: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "question": "临时救助怎么申请？",
        "answer": "向户籍所在地乡镇（街道）提出申请，急难情形可先行救助。",
        "basis": "《社会救助暂行办法》",
        "owner_unit": demo.unit("xn-civil").pk,
        "valid_from": today.isoformat(),
        "review_by": (today + dt.timedelta(days=180)).isoformat(),
        "categories": [demo.category("social").pk],
        "regions": [demo.region("城东区").pk],
        **fields,
    }


@pytest.fixture
def keeper(demo: Demo) -> User:
    """A handler of 民政局, the owner unit."""
    return MembershipFactory(unit=demo.unit("xn-civil"), role=Role.HANDLER).user


def test_a_handler_of_the_owner_unit_writes_and_every_change_is_kept(
    demo: Demo, keeper: User
) -> None:
    client = client_for(keeper)
    # When the unit's handler writes a new article
    created = client.post(URL, new_article(demo), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["in_force"] is True and body["versions"] == 1
    assert [c["id"] for c in body["categories"]] == [demo.category("social").pk]
    # Then operators find it from a caller's words
    found = knowledge.search("想申请临时救助", region=demo.region("城东区"))
    assert [f.article.pk for f in found] == [body["id"]]
    # When the handler changes its answer
    answer = {"answer": "可通过“青海救助”小程序在线申请临时救助。"}
    changed = client.patch(f"{URL}{body['id']}/", answer, format="json")
    assert changed.status_code == 200, changed.json()
    # Then both versions are kept, by whom, and the search reads the new words
    assert changed.json()["versions"] == 2
    history = KnowledgeArticle.history.filter(id=body["id"]).order_by("history_date")  # type: ignore[attr-defined]
    assert [h.history_user_id for h in history] == [keeper.pk, keeper.pk]
    assert history.first().answer.startswith("向户籍所在地")
    assert [f.article.pk for f in knowledge.search("青海救助小程序")] == [body["id"]]
    # and the unit's list holds it, with the articles out of force and not public
    old = article(
        demo, "旧版临时救助标准", valid_until=timezone.localdate() - dt.timedelta(days=1),
        is_public=False,
    )  # fmt: skip
    mine = client.get(f"{URL}mine/").json()["results"]
    assert {(a["id"], a["in_force"]) for a in mine} == {(body["id"], True), (old.pk, False)}


def test_bad_input_is_a_400_and_nothing_is_written(demo: Demo, keeper: User) -> None:
    client = client_for(keeper)
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    for bad, field in [
        ({"valid_until": yesterday}, "valid_until"),
        ({"question": ""}, "question"),
        ({"document_url": "javascript:alert(1)"}, "document_url"),
        ({"categories": [999999]}, "categories"),
        ({"review_by": "2026-02-30"}, "review_by"),
    ]:
        response = client.post(URL, new_article(demo, **bad), format="json")
        assert response.status_code == 400, bad
        assert field in response.json()["fields"], (bad, response.json())
    assert not KnowledgeArticle.objects.exists()


@pytest.mark.parametrize(
    ("who", "create", "change"),
    [
        ("keeper", 201, 200),
        ("admin", 201, 200),
        ("other_handler", 400, 404),  # may keep its own unit's only: not 民政局's
        ("operator", 403, 404),
        ("dispatcher", 403, 404),
        ("supervisor", 403, 404),
        ("committee", 403, 404),
        ("resident", 403, 404),
        ("anonymous", 403, 403),
    ],
)
def test_who_keeps_the_articles(
    demo: Demo, keeper: User, who: str, create: int, change: int
) -> None:
    users = {
        "keeper": keeper,
        "admin": demo.user("admin"),
        "other_handler": demo.user("handler_chengdong"),
        "operator": demo.user("operator1"),
        "dispatcher": MembershipFactory(unit=demo.unit("xn-civil"), role=Role.DISPATCHER).user,
        "supervisor": demo.user("supervisor1"),
        "committee": demo.user("committee1"),
        "resident": demo.user("resident1"),
        "anonymous": None,
    }
    existing = article(demo, "高龄补贴怎么领？")
    client = client_for(users[who])
    assert client.post(URL, new_article(demo), format="json").status_code == create
    response = client.patch(f"{URL}{existing.pk}/", {"answer": "改过的答复。"}, format="json")
    assert response.status_code == change
    existing.refresh_from_db()
    assert (existing.answer == "改过的答复。") == (change == 200)
    assert client.put(f"{URL}{existing.pk}/", {}, format="json").status_code in (403, 405)


def test_the_workbench_page_is_for_the_keepers(demo: Demo, keeper: User) -> None:
    from django.test import Client

    for user, expected in [
        (keeper, 200),
        (demo.user("admin"), 200),
        (demo.user("operator1"), 403),
        (demo.user("committee1"), 403),
    ]:
        client = Client()
        client.force_login(user)
        assert client.get("/workbench/knowledge/").status_code == expected, user
    # and the workbench links to it for them only
    client = Client()
    client.force_login(keeper)
    assert "/workbench/knowledge/" in client.get("/workbench/").content.decode()
    client.force_login(demo.user("operator1"))
    assert "/workbench/knowledge/" not in client.get("/workbench/").content.decode()


def test_an_id_that_is_no_number_is_a_404(demo: Demo, keeper: User) -> None:
    client = client_for(keeper)
    for path in ("j/", "1.5/", "-3/"):
        assert client.patch(f"{URL}{path}", {"answer": "x"}, format="json").status_code == 404
        assert client.get(f"{URL}{path}").status_code == 404
