"""知识库 (knowledge base): the articles that answer a complaint, found from its words.

An article's words are cut by jieba (``cases.router.words``, the segmentation smart dispatch
uses) and kept space-separated in ``KnowledgeArticle.search_words`` on every save
(``refresh_words``). A search cuts the question the same way, keeps its meaningful words, finds
the articles holding any of them (PostgreSQL's full-text search in its ``simple``
configuration, which takes the words as cut; elsewhere a match of whole words), and ranks them
by how much of the question they answer: each word found weighs its length, and an article of
the complaint's category (or its parent) counts extra. Only articles valid today and meant for
the complaint's place are offered; residents see public ones only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet, signals
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import services as notifications
from org import jurisdiction
from org.models import Region, Role, User
from xining_issues.errors import InvalidInput, NotAllowed, invalid

from . import router
from .models import Category, KnowledgeArticle

# Words a question is made of that say nothing about its matter.
STOP_WORDS = frozenset(
    [
        "你好",
        "您好",
        "请问",
        "问下",
        "问一下",
        "一下",
        "怎么",
        "怎么办",
        "怎么样",
        "如何",
        "什么",
        "哪里",
        "哪儿",
        "哪个",
        "多少",
        "为什么",
        "可以",
        "能不能",
        "可不可以",
        "需要",
        "要求",
        "我们",
        "你们",
        "他们",
        "自己",
        "这个",
        "那个",
        "这样",
        "那样",
        "现在",
        "已经",
        "还是",
        "就是",
        "没有",
        "不是",
        "是不是",
        "有没有",
        "知道",
        "想问",
        "想要",
        "办理",
        "一些",
        "时候",
        "因为",
        "所以",
        "但是",
        "然后",
        "谢谢",
        "麻烦",
    ]
)
WORD = re.compile(r"^\w+$")  # nothing a tsquery would read as an operator
MAX_WORDS = 24
CATEGORY_BONUS = 4.0
CANDIDATES = 60
RELATIVE_FLOOR = 0.5


def words_of(text: str) -> list[str]:
    """The meaningful words of ``text``, in order, once each."""
    seen: dict[str, None] = {}
    for word in router.words(text):
        word = word.strip()
        if len(word) >= 2 and word not in STOP_WORDS and WORD.match(word):
            seen.setdefault(word, None)
    return list(seen)[:MAX_WORDS]


def refresh_words(article: KnowledgeArticle) -> None:
    """Keep the article's search words (call after its text changes; the admin does)."""
    text = f"{article.question} {article.question} {article.answer} {article.basis}"
    article.search_words = " " + " ".join(router.words(text)) + " "


def valid(today: dt.date | None = None) -> QuerySet[KnowledgeArticle]:
    """The articles in force on ``today`` (expired or not yet valid ones are never offered)."""
    today = today or timezone.localdate()
    return KnowledgeArticle.objects.filter(valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


@dataclass(frozen=True)
class Found:
    article: KnowledgeArticle
    score: float
    matched: list[str]  # the question's words the article holds


def search(
    text: str,
    *,
    category: Category | None = None,
    region: Region | None = None,
    public_only: bool = False,
    limit: int = 5,
    today: dt.date | None = None,
) -> list[Found]:
    """The valid articles that best answer ``text``, best first (none without a shared word)."""
    wanted = words_of(text)
    if not wanted:
        return []
    articles = valid(today)
    if public_only:
        articles = articles.filter(is_public=True)
    articles = _holding_any(articles, wanted)
    articles = articles.select_related("owner_unit").prefetch_related("categories", "regions")
    # PostgreSQL ranks them, so the best CANDIDATES are enough; the whole-word fallback (a
    # laptop's few articles) does not rank, so it reads them all.
    candidates = list(articles[:CANDIDATES] if connection.vendor == "postgresql" else articles)
    family = {category.pk, category.parent_id} - {None} if category else set()
    found = []
    for article in candidates:
        if not _applies_in(article, region):
            continue
        matched = [w for w in wanted if f" {w} " in article.search_words]
        if not matched:
            continue
        score = float(sum(len(w) for w in matched))
        if family & {c.pk for c in article.categories.all()}:
            score += CATEGORY_BONUS
        found.append(Found(article, score, matched))
    found.sort(key=lambda f: (-f.score, f.article.pk))
    # An article sharing one common word (材料, 申请) with the question is no answer beside one
    # that shares its matter: keep those within half of the best.
    best = found[0].score if found else 0.0
    return [f for f in found if f.score >= best * RELATIVE_FLOOR][:limit]


def _holding_any(articles: QuerySet[KnowledgeArticle], wanted: list[str]) -> QuerySet:
    if connection.vendor == "postgresql":
        # Ranked before the cut to CANDIDATES, so that a word many articles share (申请) never
        # pushes the best answer out by the alphabet.
        query = SearchQuery(" | ".join(wanted), config="simple", search_type="raw")
        document = SearchVector("search_words", config="simple")
        return (
            articles.annotate(document=document, rank=SearchRank(document, query))
            .filter(document=query)
            .order_by("-rank", "pk")
        )
    condition = Q(pk__in=[])
    for word in wanted:
        condition |= Q(search_words__contains=f" {word} ")
    return articles.filter(condition)


def _applies_in(article: KnowledgeArticle, region: Region | None) -> bool:
    """City-wide articles apply everywhere; the others within their regions."""
    regions = list(article.regions.all())
    if not regions or region is None:  # city-wide, or the place not yet known
        return True
    return any(region.path.startswith(r.path) for r in regions)


# --- keeping the articles (the workbench; the admin keeps them too) ---------------------------

# 维护: the owner unit's handlers keep its articles (they are the ones reminded to review them);
# administrators keep any unit's.
KEEPER_ROLES = (Role.HANDLER,)
ARTICLE_FIELDS = (
    "question", "answer", "basis", "document_url", "valid_from", "valid_until", "owner_unit",
    "review_by", "is_public",
)  # fmt: skip


def keeper_units(user: User | AnonymousUser) -> set[int] | None:
    """The units whose articles ``user`` keeps (``None``: every unit, for administrators)."""
    if user.is_superuser or jurisdiction.has_role(user, Role.ADMIN):
        return None
    return jurisdiction.unit_ids(user, *KEEPER_ROLES)


def kept_by(user: User | AnonymousUser) -> QuerySet[KnowledgeArticle]:
    """Every article ``user`` keeps, in force or not, public or not."""
    units = keeper_units(user)
    articles = KnowledgeArticle.objects.all()
    return articles if units is None else articles.filter(owner_unit_id__in=units)


@transaction.atomic
def article_save(
    *,
    actor: User,
    article: KnowledgeArticle | None,
    values: dict[str, Any],
    categories: Sequence[Category] | None = None,
    regions: Sequence[Region] | None = None,
) -> KnowledgeArticle:
    """Write an article (a new one when ``article`` is None) for a unit ``actor`` keeps: its
    words for the search, and one history version by ``actor`` (``simple_history``). A field
    not in ``values`` (or a list given as None) stays as it was."""
    units = keeper_units(actor)
    if units is not None and not units:
        raise NotAllowed(_("只有维护单位的承办人或管理员可以维护知识库。"))
    if article is None:
        article = KnowledgeArticle()
    elif units is not None and article.owner_unit_id not in units:
        raise NotAllowed(_("该条目由其他单位维护。"))
    for name in ARTICLE_FIELDS:
        if name in values:
            setattr(article, name, values[name])
    if units is not None and article.owner_unit_id not in units:
        raise invalid("owner_unit", _("只能选择您所在的单位。"))
    try:
        article.full_clean(exclude=["search_words"])
    except ValidationError as error:
        raise InvalidInput(str(_("请检查填写的内容。")), fields=error.message_dict) from error
    record(article, by=actor, categories=categories, regions=regions)
    return article


def record(
    article: KnowledgeArticle,
    *,
    by: User | None,
    categories: Sequence[Category] | None = None,
    regions: Sequence[Region] | None = None,
) -> None:
    """Save the article, its search words and its lists as one version by ``by`` (``None``:
    the system, as the demo). simple_history would add one version for the row and one for
    each list that changes; so they are written unrecorded, then recorded once, as the row's
    own post_save would be (its receiver takes the lists along)."""
    refresh_words(article)
    created = article.pk is None
    article.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        article.save()
        if categories is not None:
            article.categories.set(categories)
        if regions is not None:
            article.regions.set(regions)
    finally:
        del article.skip_history_when_saving  # type: ignore[attr-defined]
    article._history_user = by  # type: ignore[attr-defined]
    signals.post_save.send(
        KnowledgeArticle, instance=article, created=created, raw=False, using="default"
    )


def tell_reviews_due(today: dt.date | None = None) -> int:
    """Tell the owner unit's handlers of each article in force whose review date has come, once
    per review date (a unit that sets a new date is told again when that one comes); returns
    how many articles are due."""
    today = today or timezone.localdate()
    due = list(valid(today).filter(review_by__lte=today).order_by("pk"))
    handlers = jurisdiction.handlers_by_unit({a.owner_unit_id for a in due})
    now = timezone.now()
    for article in due:
        notifications.notify_users(
            handlers.get(article.owner_unit_id, []),
            kind="knowledge_review_due",
            params={"question": article.question, "due": article.review_by.isoformat()},
            key=f"knowledge-review:{article.pk}:{article.review_by.isoformat()}",
            subject=article,
            now=now,
        )
    return len(due)
