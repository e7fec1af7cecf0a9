"""智能派单: the category and lead unit a complaint's own words suggest, learned from the city's
closed cases.

The model is two heads:

* **category**: the words of the title and description, cut by jieba, and their character 2–3
  grams, weighted by TF-IDF, into a logistic regression (scikit-learn's ``SGDClassifier`` with
  the log loss: one linear model per category, trained by stochastic gradient descent, which
  keeps a million cases within minutes). Its probabilities are the regression's own. The label
  is the case's category as it was archived, after any re-categorisation at 受理, so what staff
  correct is what the next training learns.
* **lead unit**: for a category and a district, the units that answered such cases and were
  rated 满意, by count, with the category across the city as the fallback.

``train`` trains on a time split: the oldest 90 % of the archived cases, scored on the newest
10 % (the cases the model would have met next). The model is stored in the database
(``RouterModel``), so every process of every node uses the same one; a new model that scores
worse than the model in use on the same held-out cases is stored as 未采用 and never used.

The suggestions themselves, from the model in use, are ``cases.suggesting``'s.

Privacy: the text is used and dropped; nothing here stores or logs it (a case that is filed
stores its own description as always).
"""

from __future__ import annotations

import io
import logging
import math
import pickle
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Case, Category, Rating, RouterModel, RouterState, Status

log = logging.getLogger(__name__)

HELD_OUT_SHARE = 0.10
MIN_CASES = 50  # fewer archived cases teach nothing worth suggesting
TEXT_MAX = 2000
# A new model must not score worse than the one in use by more than this (top-1, same cases).
TOLERANCE = 0.002
LEARNED_UNITS = 3
BATCH = 5000
VOCABULARY_SAMPLE = 150_000

_NOT_WORDS = re.compile(r"^[\W\d_]+$")
_jieba_lock = threading.Lock()
_jieba_ready = False


def words(text: str) -> list[str]:
    """jieba's words of ``text`` without punctuation and bare numbers (a module function, so
    that the pickled vectorizer finds it by name)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return [w for w in jieba.lcut(text) if not w.isspace() and not _NOT_WORDS.match(w)]


def case_text(title: str, description: str) -> str:
    return f"{title} {description}".strip()[:TEXT_MAX]


class TrainingError(Exception):
    """Too little to learn from; nothing was stored."""


@dataclass
class Router:
    """What is pickled into ``RouterModel.blob``."""

    vectorizers: list[Any]
    classifier: Any
    # (category id, district id) and (category id, None) → [(unit id, satisfied cases)], best first
    units: dict[tuple[int, int | None], list[tuple[int, int]]]
    categories: list[int] = field(default_factory=list)  # the classifier's classes, in order

    def features(self, texts: list[str]) -> Any:
        from scipy.sparse import hstack

        return hstack([v.transform(texts) for v in self.vectorizers], format="csr")

    def probabilities(self, texts: list[str]) -> Any:
        return self.classifier.predict_proba(self.features(texts))


# --- training -----------------------------------------------------------------------------------


@dataclass
class Corpus:
    texts: list[str]
    labels: list[int]
    districts: list[int | None]
    units: list[int | None]
    satisfied: list[bool]

    @classmethod
    def labelled(cls, texts: list[str], labels: list[int]) -> Corpus:
        """Texts with their categories only (no place, unit or rating): to score a model."""
        return cls(texts, labels, [None] * len(texts), [None] * len(texts), [False] * len(texts))

    def __len__(self) -> int:
        return len(self.labels)

    def part(self, rows: slice) -> Corpus:
        return Corpus(
            self.texts[rows],
            self.labels[rows],
            self.districts[rows],
            self.units[rows],
            self.satisfied[rows],
        )


def archived_cases(limit: int | None = None) -> Corpus:
    """The newest ``limit`` archived cases to learn from (all without a limit), oldest first:
    not merged (a merged case's category is its main case's matter), in a category residents
    may be offered (never the drill). Streamed from a server-side cursor, so memory holds the
    texts and never the rows."""
    rows = (
        Case.objects.filter(
            status=Status.CLOSED,
            merged_at__isnull=True,
            category__offered_to_residents=True,
            category__is_active=True,
        )
        .order_by("-closed_at", "-id")
        .values_list(
            "title", "description", "category_id", "district_id", "lead_unit_id", "rating"
        )
    )
    if limit:
        rows = rows[:limit]
    corpus = Corpus([], [], [], [], [])
    for title, description, category, district, unit, rating in rows.iterator(chunk_size=BATCH):
        corpus.texts.append(case_text(title, description))
        corpus.labels.append(category)
        corpus.districts.append(district)
        corpus.units.append(unit)
        corpus.satisfied.append(rating == Rating.SATISFIED)
    for column in (corpus.texts, corpus.labels, corpus.districts, corpus.units, corpus.satisfied):
        column.reverse()
    return corpus


def _vectorizers() -> list[Any]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return [
        TfidfVectorizer(
            tokenizer=words,
            token_pattern=None,
            lowercase=False,
            ngram_range=(1, 2),
            min_df=2,
            max_features=60_000,
            sublinear_tf=True,
            dtype=np.float32,
        ),
        TfidfVectorizer(
            analyzer="char",
            ngram_range=(2, 3),
            min_df=3,
            max_features=60_000,
            sublinear_tf=True,
            dtype=np.float32,
        ),
    ]


def _classifier() -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(
        loss="log_loss", alpha=2e-6, max_iter=25, tol=1e-4, n_jobs=2, random_state=0
    )


def _learned_units(corpus: Corpus) -> dict[tuple[int, int | None], list[tuple[int, int]]]:
    counts: dict[tuple[int, int | None], Counter[int]] = defaultdict(Counter)
    for label, district, unit, satisfied in zip(
        corpus.labels, corpus.districts, corpus.units, corpus.satisfied, strict=True
    ):
        if satisfied and unit is not None:
            counts[(label, district)][unit] += 1
            counts[(label, None)][unit] += 1
    return {key: c.most_common(LEARNED_UNITS) for key, c in counts.items()}


def fit(corpus: Corpus) -> Router:
    """A router trained on ``corpus`` (no database).

    Memory is what bounds a city's training, so: the vocabulary is chosen on an even sample of
    at most ``VOCABULARY_SAMPLE`` texts (the dictionary of every n-gram of a million texts is
    larger than the model), the texts are turned into features a chunk at a time, and the
    features are float32."""
    from scipy.sparse import vstack

    vectorizers = _vectorizers()
    step = max(1, len(corpus) // VOCABULARY_SAMPLE)
    sample = corpus.texts[::step]
    for vectorizer in vectorizers:
        vectorizer.fit(sample)
        vectorizer.stop_words_ = None  # the terms cut by min_df: large and never used again
    del sample
    router = Router(vectorizers, _classifier(), _learned_units(corpus))
    matrix = vstack(
        [
            router.features(corpus.texts[start : start + BATCH * 4])
            for start in range(0, len(corpus), BATCH * 4)
        ],
        format="csr",
    )
    router.classifier.fit(matrix, corpus.labels)
    # float32 halves the stored model and its memory in every process; the ranking is unchanged
    router.classifier.coef_ = router.classifier.coef_.astype("float32")
    _weights_by_feature(router)
    router.categories = [int(c) for c in router.classifier.classes_]
    return router


def evaluate(router: Router, corpus: Corpus, batch: int = BATCH) -> dict[str, Any]:
    """Top-1 and top-3 accuracy, per-category precision and recall, the most confused pairs."""
    import numpy as np

    classes = np.array(router.categories)
    top1_hits = top3_hits = 0
    predicted: list[int] = []
    for start in range(0, len(corpus), batch):
        probabilities = router.probabilities(corpus.texts[start : start + batch])
        best = np.argsort(-probabilities, axis=1)[:, :3]
        truth = np.array(corpus.labels[start : start + batch])
        ranked = classes[best]
        top1_hits += int((ranked[:, 0] == truth).sum())
        top3_hits += int((ranked == truth[:, None]).any(axis=1).sum())
        predicted.extend(int(c) for c in ranked[:, 0])
    total = len(corpus)
    truth_counts = Counter(corpus.labels)
    predicted_counts = Counter(predicted)
    right = Counter(t for t, p in zip(corpus.labels, predicted, strict=True) if t == p)
    confused = Counter((t, p) for t, p in zip(corpus.labels, predicted, strict=True) if t != p)
    names = dict(Category.objects.values_list("pk", "code"))
    per_category = {
        names.get(c, str(c)): {
            "cases": truth_counts[c],
            "precision": round(right[c] / predicted_counts[c], 4) if predicted_counts[c] else None,
            "recall": round(right[c] / truth_counts[c], 4),
        }
        for c in sorted(truth_counts, key=lambda c: names.get(c, str(c)))
    }
    return {
        "top1": top1_hits / total if total else 0.0,
        "top3": top3_hits / total if total else 0.0,
        "per_category": per_category,
        "confused": [
            {"category": names.get(t, str(t)), "predicted": names.get(p, str(p)), "cases": n}
            for (t, p), n in confused.most_common(15)
        ],
    }


def dump(router: Router) -> bytes:
    buffer = io.BytesIO()
    pickle.dump(router, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def load(blob: bytes) -> Router:
    # The blob is written by ``train`` alone, into a table only the application writes.
    router: Router = pickle.loads(blob)  # noqa: S301
    _weights_by_feature(router)
    return router


def _weights_by_feature(router: Router) -> None:
    """Lay the weights out feature by feature. ``predict_proba`` multiplies the text's few
    features by ``coef_.T``; with ``coef_`` laid out class by class that transpose is not
    contiguous, and the product copied all of it (classes × features, some 70 MB) on every
    suggestion: 9 ms of a 20 ms budget. The same numbers, read in the other order."""
    import numpy as np

    coef = router.classifier.coef_
    if not coef.T.flags.c_contiguous:
        router.classifier.coef_ = np.ascontiguousarray(coef.T).T


@dataclass(frozen=True)
class Trained:
    model: RouterModel
    replaced: RouterModel | None  # the model it took over from
    kept: RouterModel | None  # the better model kept in use instead


def train(*, limit: int | None = None) -> Trained:
    """Train on the archived cases, store the model, and use it unless it scores worse than
    the model in use on the same held-out cases."""
    started = time.monotonic()
    # A city's newest cases teach its current words and units; older ones only cost memory.
    newest_wanted = math.ceil(settings.ROUTER_TRAINING_CASES / (1 - HELD_OUT_SHARE))
    corpus = archived_cases(min(limit, newest_wanted) if limit else newest_wanted)
    cut = int(len(corpus) * (1 - HELD_OUT_SHARE))
    older, newest = corpus.part(slice(0, cut)), corpus.part(slice(cut, None))
    if cut < MIN_CASES or len(newest) == 0 or len(set(older.labels)) < 2:
        raise TrainingError(
            _("已归档诉求太少（%(count)d 件），至少需要 %(min)d 件才能训练。")
            % {"count": len(corpus), "min": int(MIN_CASES / (1 - HELD_OUT_SHARE)) + 1}
        )
    router = fit(older)
    metrics = evaluate(router, newest)
    active = RouterModel.objects.filter(state=RouterState.ACTIVE).first()
    compared: dict[str, Any] | None = None
    if active is not None and active.blob is not None:
        scored = evaluate(load(bytes(active.blob)), newest)
        compared = {"version": active.pk, "top1": scored["top1"], "top3": scored["top3"]}
    row = RouterModel(
        trained_at=timezone.now(),
        cases_trained=len(older),
        cases_held_out=len(newest),
        top1=metrics["top1"],
        top3=metrics["top3"],
        seconds=round(time.monotonic() - started, 1),
        metrics={**metrics, "compared_with": compared},
        blob=dump(router),
    )
    with transaction.atomic():
        # The model in use, locked: a training that finished meanwhile is not overwritten.
        current = RouterModel.objects.select_for_update().filter(state=RouterState.ACTIVE).first()
        if current is not None and (active is None or current.pk != active.pk):
            row.note = _("训练期间已有新模型 v%(version)d 投入使用，本模型未采用。") % {
                "version": current.pk
            }
        elif compared is not None and metrics["top1"] < compared["top1"] - TOLERANCE:
            row.note = _("首选准确率低于使用中的 v%(version)d（%(old).1f%%），未采用。") % {
                "version": compared["version"],
                "old": compared["top1"] * 100,
            }
        if row.note:
            row.state = RouterState.REJECTED
            row.blob = None  # never used: its figures are what is worth keeping
            row.save()
            return Trained(row, None, current)
        RouterModel.objects.filter(state=RouterState.ACTIVE).update(state=RouterState.RETIRED)
        row.state = RouterState.ACTIVE
        row.save()
        # Keep the blob of the model just replaced (to go back to it), drop the older ones.
        keep = [row.pk] + ([current.pk] if current else [])
        RouterModel.objects.exclude(pk__in=keep).exclude(blob=None).update(blob=None)
    return Trained(row, current, None)
