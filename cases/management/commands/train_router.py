"""``python manage.py train_router [--if-missing] [--limit N] [--hand FILE]``: train 智能派单.

Trains on the oldest 90 % of the archived cases, scores on the newest 10 %, stores the model and
uses it unless the model in use scores better on the same cases (``cases.router.train``). Prints
the figures: top-1 and top-3 accuracy, the time and the peak memory of this process, the
categories' precision and recall, the most confused pairs; with ``--hand``, the accuracy on a
file of complaints phrased by hand (lines ``category code<TAB>text``), the figure that tells
how the model does on words the generator never wrote.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases import router
from cases.models import Category, RouterModel, RouterState


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def read_hand_file(path: Path) -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        code, _tab, text = line.partition("\t")
        if not text.strip():
            raise CommandError(f"{path}:{number}: expected 'code<TAB>text'")
        rows.append((code.strip(), text.strip()))
    return rows


class Command(BaseCommand):
    help = "Train the category and lead-unit suggestions (智能派单) on the archived cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-missing", action="store_true", help="Do nothing when a model is in use."
        )
        parser.add_argument("--limit", type=int, help="Learn from the oldest N cases only.")
        parser.add_argument("--hand", type=Path, help="Score a hand-phrased file too.")
        parser.add_argument(
            "--details", action="store_true", help="Print every category's precision and recall."
        )

    def handle(
        self,
        *args: object,
        if_missing: bool,
        limit: int | None,
        hand: Path | None,
        details: bool,
        **options: object,
    ) -> None:
        if if_missing and RouterModel.objects.filter(state=RouterState.ACTIVE).exists():
            self.stdout.write("train_router: a model is in use; nothing to do.")
            return
        hand_rows = read_hand_file(hand) if hand else []
        try:
            trained = router.train(limit=limit)
        except router.TrainingError as error:
            # Not an error for `make run` on an empty database: say so and go on.
            self.stdout.write(f"train_router: {error}")
            return
        model = trained.model
        out = self.stdout.write
        out(
            f"model v{model.pk}: {model.get_state_display()} ({model.state})"
            + (f" — {model.note}" if model.note else "")
        )
        out(f"cases trained      {model.cases_trained:>10,}")
        out(f"cases held out     {model.cases_held_out:>10,}  (the newest 10 %)")
        out(f"top-1 accuracy     {model.top1:>10.1%}")
        out(f"top-3 accuracy     {model.top3:>10.1%}")
        out(f"training time      {model.seconds:>10.1f} s")
        out(f"peak memory        {peak_memory_mb():>10.0f} MB")
        compared = model.metrics.get("compared_with")
        if compared:
            out(f"model in use before: v{compared['version']}, top-1 {compared['top1']:.1%}")
        if hand_rows:
            self.hand_figures(hand_rows, model)
        out("most confused (category → predicted: cases):")
        for pair in model.metrics["confused"][:10]:
            out(f"  {pair['category']} → {pair['predicted']}: {pair['cases']}")
        per_category = model.metrics["per_category"]
        weakest = sorted(per_category.items(), key=lambda item: item[1]["recall"])
        out("categories" + ("" if details else " (the ten of lowest recall; --details for all)"))
        for code, row in weakest if details else weakest[:10]:
            precision = "-" if row["precision"] is None else f"{row['precision']:.0%}"
            out(f"  {code:32} cases {row['cases']:>7}  precision {precision:>4}  "
                f"recall {row['recall']:.0%}")  # fmt: skip

    def hand_figures(self, rows: list[tuple[str, str]], model: RouterModel) -> None:
        """Score the hand-phrased complaints with the model just trained (in use or not)."""
        blob = RouterModel.objects.filter(pk=model.pk).values_list("blob", flat=True).first()
        if not blob:
            self.stdout.write("hand-phrased: the new model was not kept; scoring skipped")
            return
        trained = router.load(bytes(blob))
        codes = dict(Category.objects.values_list("code", "pk"))
        unknown = sorted({code for code, _text in rows if code not in codes})
        if unknown:
            raise CommandError(f"hand file: unknown category codes {', '.join(unknown)}")
        corpus = router.Corpus.labelled(
            [text for _code, text in rows], [codes[code] for code, _text in rows]
        )
        scored = router.evaluate(trained, corpus)
        model.metrics = {**model.metrics, "hand": {k: scored[k] for k in ("top1", "top3")}}
        model.metrics["hand"]["cases"] = len(rows)
        model.save(update_fields=["metrics"])
        self.stdout.write(
            f"hand-phrased       {len(rows):>10}  top-1 {scored['top1']:.1%}  "
            f"top-3 {scored['top3']:.1%}"
        )
