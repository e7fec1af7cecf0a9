"""智能派单 (issue 15, ``cases.router``): the model, its training and keeping, and the suggestion
endpoint through HTTP (shape, privacy, fallback to the rule, limits).

Most tests store a model trained in memory on a small set written here (``small_corpus``): the
training on the archived cases of the demo generator is one test, since it takes seconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import random
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cases import router, suggesting
from cases.models import Case, CaseEvent, Category, RouterModel, RouterState
from demo.history import generate_cases
from tests.conftest import Demo

# What residents say about five matters, to be combined: each category gets every opener with
# every core, so the model sees the same words in different company.
OPENERS = ["你好，", "我想反映一下，", "我是小区住户，", "麻烦问一下，", ""]
CORES = {
    "heating-cold": [
        "家里暖气不热，室温只有十几度",
        "暖气片摸着是凉的，屋里冷得很",
        "供暖开始了但是房间一直不热",
        "暖气温度太低，老人孩子受不了",
    ],
    "water-outage": [
        "小区停水了，也没有通知",
        "水龙头一滴水都没有，停水一整天了",
        "突然停水，做饭洗漱都没法弄",
        "自来水停了，什么时候恢复供水",
    ],
    "noise": [
        "楼下商铺音响太吵，噪音扰民",
        "工地半夜施工，噪音大睡不着",
        "广场舞声音太大，吵得没法休息",
        "酒吧夜里很吵，噪音一直到凌晨",
    ],
    "roads-lights": [
        "路灯坏了好几天，晚上黑乎乎的",
        "巷子里的路灯不亮，走路看不见",
        "这段路灯一直不亮，出行不安全",
        "路灯晚上不亮，孩子放学回家很危险",
    ],
    "property-elevator": [
        "电梯又坏了，老人上下楼很困难",
        "电梯经常停运，物业也不修",
        "电梯突然卡住，有人被困在里面",
        "单元电梯故障好几天了没人管",
    ],
}
CLOSERS = ["，希望尽快处理。", "，请派人看看。", "。", "，谢谢。"]


def small_corpus(demo: Demo) -> router.Corpus:
    """Every opener × core × closer of the five matters, in a fixed shuffled order (so that the
    newest tenth, held out by ``train``, holds every matter)."""
    rows = [
        (f"{opener}{core}{closer}", demo.category(code).pk)
        for code, cores in CORES.items()
        for opener, core, closer in itertools.product(OPENERS, cores, CLOSERS)
    ]
    random.Random(15).shuffle(rows)
    return router.Corpus.labelled([text for text, _c in rows], [c for _t, c in rows])


def store(model: router.Router, top1: float = 0.9) -> RouterModel:
    """A model in use, as ``train`` would have stored it."""
    RouterModel.objects.filter(state=RouterState.ACTIVE).update(state=RouterState.RETIRED)
    return RouterModel.objects.create(
        trained_at=timezone.now(),
        state=RouterState.ACTIVE,
        cases_trained=100,
        cases_held_out=10,
        top1=top1,
        top3=1.0,
        seconds=1.0,
        blob=router.dump(model),
    )


@pytest.fixture
def small_model(demo: Demo) -> RouterModel:
    return store(router.fit(small_corpus(demo)))


def codes(guesses: suggesting.Guesses) -> list[str]:
    return [g.category.code for g in guesses.guesses]


# --- the model -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("家里的暖气一点都不热，冻得受不了", "heating-cold"),
        ("我们楼今天早上开始停水", "water-outage"),
        ("隔壁装修噪音特别大", "noise"),
        ("门口那盏路灯坏了", "roads-lights"),
        ("电梯坏了没人修", "property-elevator"),
    ],
)
def test_a_small_model_predicts_the_obvious(
    small_model: RouterModel, text: str, code: str
) -> None:
    guesses = suggesting.suggest(text)
    assert guesses.basis == "model" and guesses.version == small_model.pk
    assert codes(guesses)[0] == code
    assert guesses.guesses[0].probability is not None
    assert guesses.guesses[0].probability >= guesses.threshold
    probabilities = [g.probability for g in guesses.guesses]
    assert probabilities == sorted(probabilities, reverse=True)  # type: ignore[type-var]


def test_a_loaded_model_reads_its_weights_feature_by_feature(small_model: RouterModel) -> None:
    """A suggestion multiplies a few features by ``coef_.T``: laid out class by class, that
    product copied every weight on every call (9 ms at a city's size); the numbers are the same."""
    loaded = router.load(bytes(small_model.blob))
    assert loaded.classifier.coef_.T.flags.c_contiguous
    fresh = router.fit(small_corpus(Demo()))
    text = ["家里暖气不热，屋里冷得很"]
    assert (loaded.probabilities(text) == fresh.probabilities(text)).all()


def test_the_evaluation_counts_top1_top3_and_the_confused(demo: Demo) -> None:
    model = router.fit(small_corpus(demo))
    heating, noise = demo.category("heating-cold").pk, demo.category("noise").pk
    held_out = router.Corpus.labelled(
        ["暖气不热屋里冷", "噪音太吵睡不着", "暖气不热屋里冷"], [heating, noise, noise]
    )
    scored = router.evaluate(model, held_out)
    assert scored["top1"] == pytest.approx(2 / 3)
    assert scored["top3"] >= scored["top1"]
    assert scored["confused"] == [{"category": "noise", "predicted": "heating-cold", "cases": 1}]
    assert scored["per_category"]["heating-cold"] == {"cases": 1, "precision": 0.5, "recall": 1.0}
    assert scored["per_category"]["noise"] == {"cases": 2, "precision": 1.0, "recall": 0.5}


# --- training on the archived cases --------------------------------------------------------------


def test_train_learns_from_the_archived_cases_on_a_time_split(demo: Demo) -> None:
    now = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    generate_cases(3000, seed=15, now=now)
    archived = Case.objects.filter(status="closed", merged_at__isnull=True)
    trained = router.train()
    model = trained.model
    assert model.state == RouterState.ACTIVE and trained.replaced is None
    assert model.cases_trained + model.cases_held_out <= archived.count()
    assert model.cases_held_out == pytest.approx(
        0.1 * (model.cases_trained + model.cases_held_out), abs=1
    )
    # Better than guessing the commonest category by far; the exact figure is the README's.
    assert model.top1 > 0.5 and model.top3 >= model.top1
    assert model.metrics["per_category"] and "confused" in model.metrics
    # The lead-unit head learned who answers heating in 湟中区 to the complainant's satisfaction
    region = demo.region("湟中区", "多巴镇", "多巴一村")
    guesses = suggesting.suggest("家里暖气不热，室温只有12度，请尽快处理", region=region)
    assert codes(guesses)[0] == "heating-cold"
    assert guesses.guesses[0].learned_units, "no unit answered heating in 湟中区 satisfactorily"
    shares = [share for _u, _n, share in guesses.guesses[0].learned_units]
    assert sum(shares) == pytest.approx(1.0)


def test_too_few_archived_cases_train_nothing(demo: Demo) -> None:
    with pytest.raises(router.TrainingError):
        router.train()
    assert not RouterModel.objects.exists()


def test_a_worse_model_never_replaces_a_better_one(
    demo: Demo, small_model: RouterModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = small_corpus(demo)
    monkeypatch.setattr(router, "archived_cases", lambda limit=None: corpus)
    # A model that learned nothing: every text labelled with one category but one.
    first, other = demo.category("noise").pk, demo.category("heating-cold").pk
    blind = router.Corpus.labelled(corpus.texts, [first] * (len(corpus) - 1) + [other])
    monkeypatch.setattr(router, "fit", lambda _older, fit=router.fit: fit(blind))
    trained = router.train()
    assert trained.model.state == RouterState.REJECTED and trained.kept == small_model
    assert trained.model.blob is None and "未采用" in trained.model.note
    assert trained.model.metrics["compared_with"]["version"] == small_model.pk
    small_model.refresh_from_db()
    assert small_model.state == RouterState.ACTIVE
    assert suggesting.suggest("暖气不热").version == small_model.pk


def test_a_better_model_takes_over_and_every_process_reloads_it(
    demo: Demo, small_model: RouterModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert suggesting.suggest("暖气不热").version == small_model.pk  # loaded in this process
    corpus = small_corpus(demo)
    monkeypatch.setattr(router, "archived_cases", lambda limit=None: corpus)
    trained = router.train()
    assert trained.model.state == RouterState.ACTIVE and trained.replaced == small_model
    small_model.refresh_from_db()
    assert small_model.state == RouterState.RETIRED and small_model.blob is not None
    assert suggesting.suggest("暖气不热").version == trained.model.pk


# --- without a model, or unsure ------------------------------------------------------------------


def test_without_a_model_the_rule_stands_alone(demo: Demo) -> None:
    guesses = suggesting.suggest("楼里又停水了，电梯故障也没人管")
    assert guesses.basis == "rule" and guesses.version is None and not guesses.confident
    assert set(codes(guesses)) == {"water-outage", "property-elevator"}
    assert all(g.probability is None for g in guesses.guesses)
    assert suggesting.suggest("一段与任何分类都无关的话").guesses == []


def test_an_unsure_model_puts_the_rule_first(small_model: RouterModel, settings: Any) -> None:
    settings.ROUTER_MIN_CONFIDENCE = 0.999
    guesses = suggesting.suggest("路灯不亮，家里暖气也不热")
    assert guesses.basis == "rule" and not guesses.confident
    assert codes(guesses)[:2] == ["heating-cold", "roads-lights"] or codes(guesses)[:2] == [
        "roads-lights",
        "heating-cold",
    ]
    assert guesses.guesses[0].probability is None


def test_the_drill_is_never_suggested_to_residents(demo: Demo) -> None:
    assert demo.category("drill").name == "应急演练（演示）"
    assert "drill" not in codes(suggesting.suggest("应急演练（演示）"))
    assert "drill" in codes(suggesting.suggest("应急演练（演示）", offered_only=False))


# --- the endpoint --------------------------------------------------------------------------------


URL = "/api/v1/categories/suggest/"


def test_the_endpoint_answers_residents_with_categories_only(small_model: RouterModel) -> None:
    response = APIClient().get(URL, {"text": "家里暖气不热，屋里很冷"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"basis", "model_version", "confident", "threshold", "suggestions"}
    assert body["basis"] == "model" and body["model_version"] == small_model.pk
    first = body["suggestions"][0]
    assert first["category"]["code"] == "heating-cold"
    assert first["category"]["parent_name"] == "供暖"
    assert 0 < first["probability"] <= 1
    assert first["rule_unit"] is None and first["learned_units"] == []
    assert len(body["suggestions"]) <= 5


def test_staff_get_the_responsibility_list_unit_for_the_place(
    demo: Demo, small_model: RouterModel
) -> None:
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    region = demo.region("湟中区", "多巴镇", "多巴一村")
    body = client.get(URL, {"text": "家里暖气不热，屋里很冷", "region": region.pk}).json()
    first = body["suggestions"][0]
    assert first["category"]["code"] == "heating-cold"
    assert first["rule_unit"]["name"] == "湟中区人民政府"
    assert "供暖" in first["rule_unit"]["reason"]


@pytest.mark.parametrize(
    "query",
    [{}, {"text": ""}, {"text": "   "}, {"text": "暖" * 2001}, {"text": "暖气", "region": 999999}],
)
def test_bad_input_is_a_400(demo: Demo, query: dict[str, Any]) -> None:
    response = APIClient().get(URL, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_text_is_used_and_dropped(
    demo: Demo, small_model: RouterModel, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "我叫赵某某电话13897123456家里暖气不热"
    counts = (Case.objects.count(), CaseEvent.objects.count(), RouterModel.objects.count())
    caplog.set_level(logging.DEBUG)
    with CaptureQueriesContext(connection) as queries:
        response = APIClient().get(URL, {"text": secret})
    assert response.status_code == 200
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert all("13897123456" not in q["sql"] for q in queries)
    assert (Case.objects.count(), CaseEvent.objects.count(), RouterModel.objects.count()) == counts
    assert "13897123456" not in caplog.text


def test_visitors_are_limited_and_a_forged_forwarded_for_does_not_reset_it(
    demo: Demo, settings: Any
) -> None:
    client = APIClient()
    for _ in range(60):
        assert client.get(URL, {"text": "停水"}).status_code == 200
    assert client.get(URL, {"text": "停水"}).status_code == 429
    forged = client.get(URL, {"text": "停水"}, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 429


def test_intake_staff_are_not_limited(demo: Demo) -> None:
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    assert all(client.get(URL, {"text": "停水"}).status_code == 200 for _ in range(70))


def test_a_suggestion_costs_the_same_queries_whatever_the_history(
    demo: Demo, small_model: RouterModel
) -> None:
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    region = demo.region("湟中区", "多巴镇", "多巴一村")
    client.get(URL, {"text": "暖气不热", "region": region.pk})  # the model loaded
    with CaptureQueriesContext(connection) as first:
        client.get(URL, {"text": "暖气不热", "region": region.pk})
    generate_cases(200, seed=3, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    with CaptureQueriesContext(connection) as second:
        client.get(URL, {"text": "暖气不热", "region": region.pk})
    # the names, the model's version, the five categories, the units they learned, the region
    # and the 权责清单 (its rules, their co-units, the units by kind): one each, however many
    assert len(second) == len(first) <= 10
    assert not any("cases_case" in q["sql"] for q in second)  # no case is read to suggest
    assert Category.objects.exists()


def test_accept_records_the_suggestion_and_the_correction(demo: Demo, make_case: Any) -> None:
    """What the next training learns from is the archived category; the accept event keeps
    what the dialog suggested and what the case was filed as, so the misses can be counted."""
    case = make_case(category=demo.category("heating"))  # filed under the general 供暖
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    body = {
        "category": demo.category("heating-leak").pk,
        "suggested_category": demo.category("heating-cold").pk,
    }
    response = client.post(f"/api/v1/cases/{case.pk}/accept/", body, format="json")
    assert response.status_code == 200, response.content
    payload = case.events.get(type="accept").payload
    assert payload["category"] == "供暖管道漏水"
    assert payload["category_was"] == "heating" and payload["suggested_category"] == "heating-cold"
    # Left alone, nothing is added.
    other = make_case()
    client.post(f"/api/v1/cases/{other.pk}/accept/", {}, format="json")
    assert "category_was" not in other.events.get(type="accept").payload
    assert "suggested_category" not in other.events.get(type="accept").payload


def test_the_case_dialogs_get_the_guesses_from_its_own_words(demo: Demo, make_case: Any) -> None:
    """The accept and dispatch dialogs read ``suggestions/``: the categories the case's words
    suggest (with the 权责清单's unit for its community) and who answered such cases well."""
    model = router.fit(small_corpus(demo))
    heating = demo.category("heating-cold").pk
    district = demo.region("湟中区").pk
    model.units = {(heating, district): [(demo.unit("xn-heating").pk, 6)]}
    stored = store(model)
    case = make_case(
        category=demo.category("heating"), description="暖气片摸着是凉的，屋里冷得很。"
    )
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    body = client.get(f"/api/v1/cases/{case.pk}/suggestions/").json()
    guesses = body["categories"]
    assert guesses["basis"] == "model" and guesses["model_version"] == stored.pk
    first = guesses["suggestions"][0]
    assert first["category"]["code"] == "heating-cold"
    assert first["rule_unit"]["name"] == "湟中区人民政府"
    assert first["learned_units"] == [
        {"id": demo.unit("xn-heating").pk, "name": "西宁市供热有限公司", "cases": 6, "share": 1.0}
    ]
    # The case is still filed under the general 供暖: nobody answered such cases yet.
    assert body["learned_units"] == []
    Case.objects.filter(pk=case.pk).update(category=heating)
    body = client.get(f"/api/v1/cases/{case.pk}/suggestions/").json()
    assert [u["name"] for u in body["learned_units"]] == ["西宁市供热有限公司"]


def test_without_a_model_the_case_dialogs_get_the_rule(demo: Demo, make_case: Any) -> None:
    case = make_case(description="小区停水了，停水一整天也没有通知。")
    client = APIClient()
    client.force_authenticate(demo.user("dispatcher_huangzhong"))
    body = client.get(f"/api/v1/cases/{case.pk}/suggestions/").json()
    assert body["categories"]["basis"] == "rule"
    assert body["categories"]["suggestions"][0]["category"]["code"] == "water-outage"
    assert body["categories"]["suggestions"][0]["probability"] is None
    assert body["learned_units"] == []


def test_each_process_keeps_the_categories_and_the_list_for_a_while(
    demo: Demo, small_model: RouterModel, settings: Any
) -> None:
    """With the snapshot window on (as in production), a suggestion with its community reads
    three rows' worth of queries (the community, the units by kind there, the learned units);
    a renamed category shows once the window has passed (here: ``forget``)."""
    from cases import services

    settings.ROUTER_CACHE_SECONDS = 30
    snapshots = (suggesting.ACTIVE_VERSION, suggesting.CATEGORIES, services.RULES)
    for snapshot in snapshots:
        snapshot.forget()
    client = APIClient()
    client.force_authenticate(demo.user("operator1"))
    region = demo.region("湟中区", "多巴镇", "多巴一村")
    query = {"text": "家里暖气不热，屋里很冷", "region": region.pk}
    client.get(URL, query)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(URL, query).json()
    assert len(queries) <= 3, [q["sql"][:80] for q in queries]
    assert body["suggestions"][0]["rule_unit"]["name"] == "湟中区人民政府"
    Category.objects.filter(code="heating-cold").update(name="暖气不热")
    assert client.get(URL, query).json()["suggestions"][0]["category"]["name"] == "供暖不热"
    suggesting.CATEGORIES.forget()
    assert client.get(URL, query).json()["suggestions"][0]["category"]["name"] == "暖气不热"
    for snapshot in snapshots:
        snapshot.forget()
