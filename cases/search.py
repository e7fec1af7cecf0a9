"""Chinese full-text search over the cases' title and description, at city scale.

Chinese has no spaces and most words are two characters (暖气, 多巴, 噪音), so a trigram index
(``pg_trgm``) cannot serve them: a two-character ``LIKE '%暖气%'`` yields no trigram and the
index hands back every row (ten seconds at a million cases). The index here is of *bigrams*:
``xn_bigrams(text)`` is the array of every pair of neighbouring characters (upper-cased as
``icontains`` compares,
whitespace runs folded to one space, pairs with a space left out), and a GIN index on
``xn_bigrams(title || ' ' || description)`` answers "which cases hold every bigram of the
query" (``@>``). That set is a superset of the real matches (the bigrams of 鲁沙尔 are in
鲁沙 … 沙尔 too), so the query keeps its exact ``ILIKE`` as the final check; the index only
chooses the rows. PostgreSQL computes the query's bigrams with the same function, so the two
sides cannot disagree on case folding or whitespace.

Two ways to find a page of matches, chosen here rather than left to the planner:

* **index**, for a rare query (雪豹, a street name): the GIN index hands over the few matching
  rows, which are checked and sorted. Cost grows with the number of matches.
* **walk**, for a common one (暖气 in a heating season is in one case of four): the cases are
  read newest first along the ordering's own index and the walk stops at the page's fiftieth
  match, after a few hundred rows. Cost grows with 50 ÷ (share of cases that match).

The planner cannot choose well by itself: the masking conditions of ``CaseFilter.filter_q``
are expressions it has no statistics for, so it believes almost no row matches and takes the
index even for 暖气 (two million rows at ten million cases). So the share of cases holding
the query is estimated from the index's own statistics (the most common bigrams and how many
cases hold each, ``pg_stats``), and a query estimated at ``WALK_FROM`` or more walks: its list
query runs with the planner told to avoid bitmaps, sequential scans and sorts, which leaves the
ordered walk, under a ``WALK_TIMEOUT_MS`` statement timeout. An estimate that was wrong (every
bigram common, the phrase nowhere) is caught by the timeout and the page is asked of the index
instead. A one-character query has no bigram and is searched by the walk alone.

PostgreSQL only (migration ``cases.0011``); on SQLite, the laptop default, search is the plain
``LIKE`` scan, which is quick at a demo's size.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator

from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

INDEX_NAME = "case_text_bigrams"
WALK_FROM = 0.001  # estimated share of cases holding the query from which a walk is cheaper
WALK_TIMEOUT_MS = 250
STATS_SECONDS = 600  # how long a process keeps the index's statistics

# The indexed expression, written exactly as the migration's index so the planner matches it.
INDEXED = 'xn_bigrams(("cases_case"."title")::text || \' \' || "cases_case"."description")'


def has_bigram(value: str) -> bool:
    """Whether the query holds two neighbouring non-space characters (else no index helps)."""
    return any(len(term) >= 2 for term in value.split())


def query_bigrams(value: str) -> list[str]:
    """The query's bigrams, computed by the database's own ``xn_bigrams``, so that they are
    folded exactly as the index folds the text. The function is IMMUTABLE, so a process keeps
    its answers: choosing the way (``walks``) and filtering by the index ask for the same query's
    bigrams in one request, and the second asks no database."""
    return list(_bigrams(value))


@functools.lru_cache(maxsize=1024)
def _bigrams(value: str) -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT xn_bigrams(%s)", [value])
        return tuple(cursor.fetchone()[0] or ())


_stats: tuple[float, dict[str, float]] = (float("-inf"), {})  # (when read, shares)


def bigram_shares() -> dict[str, float]:
    """bigram → share of cases holding it, for the most common bigrams (ANALYZE's statistics
    of the index expression); a bigram not listed is rarer than every one listed."""
    global _stats
    taken, shares = _stats
    if time.monotonic() - taken < STATS_SECONDS:
        return shares
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e, f FROM pg_stats s, unnest(s.most_common_elems::text::text[], "
            "s.most_common_elem_freqs) AS u(e, f) WHERE s.tablename = %s",
            [INDEX_NAME],
        )
        shares = dict(cursor.fetchall())
    _stats = (time.monotonic(), shares)
    return shares


def estimated_share(grams: list[str]) -> float:
    """The share of cases holding every bigram, as if they were independent (0 for a bigram
    outside the common list: rare)."""
    shares = bigram_shares()
    share = 1.0
    for gram in set(grams):
        share *= shares.get(gram, 0.0)
    return share


def walks(value: str) -> bool:
    """Whether a page of ``value``'s matches is best found by the ordered walk."""
    value = value.strip()
    if connection.vendor != "postgresql" or not value:
        return False
    if not has_bigram(value):
        return True
    grams = query_bigrams(value)
    return not grams or estimated_share(grams) >= WALK_FROM


class WalkTooLong(Exception):
    """The walk met its timeout: the query was rarer than its bigrams said."""


@contextlib.contextmanager
def walking() -> Iterator[None]:
    """Run the block's queries as an ordered walk (see the module doc), in a transaction of
    their own; raises ``WalkTooLong`` when a statement meets the timeout."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
                    "SET LOCAL enable_sort = off; SET LOCAL statement_timeout = %s",
                    [WALK_TIMEOUT_MS],
                )
            yield
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) == "57014":  # query_canceled
            raise WalkTooLong from error
        raise


def bigram_filter(value: str, *, walk: bool = False) -> Q:
    """A condition that keeps every case whose title or description could contain ``value``
    (all its bigrams are there); empty (keeps all) where the index cannot help or the query
    walks (the GIN index serves no ordered walk).

    The bigrams go into the statement as a constant array, not as ``xn_bigrams(%s)``: the
    planner then reads the column's statistics for them and knows 暖气 is in one case of five
    (walk the newest cases, stop at fifty) while 雪豹 is in none (ask the index)."""
    if walk or connection.vendor != "postgresql" or not has_bigram(value):
        return Q()
    grams = query_bigrams(value)
    if not grams:
        return Q()
    # Bound parameters; the SQL around them is a constant of this module.
    condition = RawSQL(f"{INDEXED} @> %s::text[]", [grams], output_field=BooleanField())  # noqa: S611
    return Q(condition)
