"""An optional streaming read replica: which reads may go to it, and when it is trusted.

A city that outgrows one PostgreSQL adds a hot standby (streaming replication) and sets
``DATABASE_REPLICA_URL``; the settings then add the ``replica`` alias and install
``ReplicaRouter``. Without that variable nothing here runs and every query goes to ``default``.

Decisions, and why:

* **Views opt in; nothing else reads from the replica.** ``ReplicaReadMixin`` (DRF views) and
  ``replica_reads`` (function views) mark a view; for its GET/HEAD requests a context variable
  says "this request may read from the replica". The router sends a read there only while that
  variable is set. Everything unmarked, every write, every Celery task (the rollup refresh, the
  supervision scan, background exports), management commands and the admin read and write the
  primary, because they decide things or must see what was just written.
* **Which views:** the dashboards' figures (``stats.api.views.StatsView``: overview,
  trend, rankings, 未诉先办 candidates, the Excel export's GET), ``stats.api.rates.RatesView``,
  and the work queue of ``CaseViewSet`` (its ``list`` and ``counts`` actions only). A case's
  detail page, the topic board and the background export's status stay on the primary: they
  show the result of the reader's own last action.
* **Freshness per view.** Dashboards read the rollup, itself folded every 30 seconds, so a
  replica up to ``DATABASE_REPLICA_MAX_LAG`` seconds behind is good enough
  (``Freshness.WITHIN_MAX_LAG``). The work queue is reloaded right after the user's own
  受理/派单 (the workbench does exactly that after a bulk action): a case must not reappear in
  the tab it just left, so the queue uses ``Freshness.CAUGHT_UP``: the replica is used only if it
  has replayed everything the primary had written when the request began (one
  ``pg_current_wal_lsn()`` on the primary, one comparison on the replica), else the primary.
* **Who the user is, and what they may see, is decided on the primary.** Sessions, tokens,
  lockouts, the user row and staff memberships are never read from the replica, even inside a
  marked view: a new sign-in's session may not have arrived yet, and a deactivated account or a
  withdrawn role must take effect at once.
* **Transactions and writes pin the primary.** Inside an atomic block on ``default`` every read
  goes there (a decision must see its own writes); once a request has written anything, its
  later reads go to the primary too. One request decides once, at its first read, and then keeps
  to one database.
* **Health, per process.** "Reachable, and lag ≤ DATABASE_REPLICA_MAX_LAG" is checked on the
  replica connection and remembered for ``CHECK_EVERY_SECONDS`` (``RETRY_DOWN_AFTER_SECONDS``
  once it failed, so a partitioned replica costs one 2-second connect timeout per process every
  few seconds, not one per request). Each process keeps its own answer: nothing is shared
  between processes, so nothing here assumes one process.
* **Falling back.** When a read on the replica fails with ``OperationalError`` or
  ``InterfaceError`` (the replica stopped or restarted mid-request), the marked view is run again
  with every read on the primary, and the replica is marked down. A run is repeated only if the
  request wrote nothing (marked views are read-only GETs; the router notes any write), so no
  write is ever done twice. A query the standby cancelled for a recovery conflict is retried
  the same way without marking the replica down.
* ``allow_relation`` is always true (one database, two copies); migrations run only on
  ``default`` (a standby is read-only and receives the schema through replication). In tests
  the alias mirrors ``default`` (``TEST["MIRROR"]``), so no second test database is made.

``/healthz`` shows ``replica_health(refresh=True)``: a down or lagging replica makes the service
"degraded", not down, since reads fall back to the primary.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
import logging
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from time import monotonic
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import Model

logger = logging.getLogger(__name__)

DEFAULT = "default"
REPLICA = "replica"
# Methods a marked view may serve from the replica: the ones that change nothing.
READ_METHODS = frozenset({"GET", "HEAD"})
# How long a health answer is believed, in seconds: after success, and after a failure.
CHECK_EVERY_SECONDS = 5.0
RETRY_DOWN_AFTER_SECONDS = 10.0
# Apps and models whose rows decide who the user is and what they may see (see above).
PRIMARY_ONLY_APPS = frozenset({"sessions", "authtoken", "axes", "auth"})
PRIMARY_ONLY_MODELS = frozenset({"org.membership"})
# SQLSTATE 40001: the standby cancelled the query (conflict with recovery); the replica is fine.
RECOVERY_CONFLICT = "40001"

# Seconds the standby is behind. Zero when it has replayed everything it received and is still
# streaming (an idle primary writes nothing, so the last replayed transaction may be old); a
# standby whose WAL receiver is not running may be missing writes, so its lag is then the age of
# the last replayed transaction. Not in recovery (a promoted standby): nothing to wait for.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
         AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""
CAUGHT_UP_SQL = "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn"

T = TypeVar("T")


class Freshness(enum.StrEnum):
    """How far behind the primary a marked view accepts the replica to be."""

    WITHIN_MAX_LAG = "within_max_lag"
    CAUGHT_UP = "caught_up"


@dataclass
class ReadState:
    """What one request of a marked view may do and has done."""

    freshness: Freshness
    use_replica: bool | None = None  # decided at the first read
    replica_used: bool = False
    wrote: bool = False


_request_state: contextvars.ContextVar[ReadState | None] = contextvars.ContextVar(
    "replica_read_state", default=None
)


# --- health ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaHealth:
    ok: bool
    lag_seconds: float | None
    checked_at: float  # monotonic()
    error: str = ""

    def as_check(self) -> dict[str, Any]:
        """The /healthz entry."""
        lag = None if self.lag_seconds is None else round(self.lag_seconds, 1)
        return {"ok": self.ok, "lag_seconds": lag, "max_lag_seconds": max_lag()}


_health: ReplicaHealth | None = None
_health_lock = threading.Lock()


def replica_configured() -> bool:
    return REPLICA in connections.settings


def max_lag() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG", 30))


def _close_quietly(alias: str) -> None:
    """Drop this thread's connection, so that the next use connects afresh."""
    with contextlib.suppress(DatabaseError):
        connections[alias].close()


def _set_health(health: ReplicaHealth) -> None:
    global _health
    before = _health
    _health = health
    if health.ok and before is not None and not before.ok:
        logger.warning("read replica is back (lag %.1f s)", health.lag_seconds or 0)
    elif not health.ok and (before is None or before.ok):
        logger.warning("read replica not used: %s", health.error)


def _measure_lag() -> float | None:
    """Seconds the replica is behind (None: unknown), on this thread's replica connection."""
    connection = connections[REPLICA]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":  # only tests point the alias at another engine
            cursor.execute("SELECT 1")
            return 0.0
        cursor.execute(LAG_SQL)
        (lag,) = cursor.fetchone()
    return None if lag is None else float(lag)


def _probe() -> ReplicaHealth:
    now = monotonic()
    try:
        lag = _measure_lag()
    except DatabaseError as error:
        _close_quietly(REPLICA)
        return ReplicaHealth(ok=False, lag_seconds=None, checked_at=now, error=_first_line(error))
    if lag is None:
        return ReplicaHealth(ok=False, lag_seconds=None, checked_at=now, error="lag unknown")
    lag = max(lag, 0.0)
    if lag > max_lag():
        return ReplicaHealth(
            ok=False, lag_seconds=lag, checked_at=now, error=f"{lag:.1f} s behind the primary"
        )
    return ReplicaHealth(ok=True, lag_seconds=lag, checked_at=now)


def replica_health(*, refresh: bool = False) -> ReplicaHealth | None:
    """The replica's health as this process believes it; None when there is no replica.

    ``refresh`` checks now (for /healthz); otherwise an answer younger than
    ``CHECK_EVERY_SECONDS`` (``RETRY_DOWN_AFTER_SECONDS`` when it was down) is reused, and
    while another thread is checking, the last answer stands (none yet: not healthy).
    """
    if not replica_configured():
        return None
    known = _health
    if not refresh and known is not None:
        ttl = CHECK_EVERY_SECONDS if known.ok else RETRY_DOWN_AFTER_SECONDS
        if monotonic() - known.checked_at < ttl:
            return known
    if not _health_lock.acquire(blocking=refresh):
        return known or ReplicaHealth(
            ok=False, lag_seconds=None, checked_at=monotonic(), error="being checked"
        )
    try:
        health = _probe()
        _set_health(health)
        return health
    finally:
        _health_lock.release()


def mark_replica_down(error: BaseException) -> None:
    """A query on the replica failed: believe it down until the next check is due."""
    _close_quietly(REPLICA)
    _set_health(
        ReplicaHealth(ok=False, lag_seconds=None, checked_at=monotonic(), error=_first_line(error))
    )


def forget_replica_health() -> None:
    """Forget what this process knows (tests; the next read checks again)."""
    global _health
    _health = None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _caught_up() -> bool:
    """Whether the replica has replayed everything the primary had written by now."""
    primary, replica = connections[DEFAULT], connections[REPLICA]
    if primary.vendor != "postgresql" or replica.vendor != "postgresql":
        return True
    try:
        with primary.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (position,) = cursor.fetchone()
    except DatabaseError:
        return False  # the view will meet the primary's trouble itself
    try:
        with replica.cursor() as cursor:
            cursor.execute(CAUGHT_UP_SQL, [position])
            (caught_up,) = cursor.fetchone()
    except DatabaseError as error:
        mark_replica_down(error)
        return False
    return bool(caught_up)


# --- the router -----------------------------------------------------------------------------


def _primary_only(model: type[Model]) -> bool:
    meta = model._meta
    return (
        meta.app_label in PRIMARY_ONLY_APPS
        or meta.label_lower in PRIMARY_ONLY_MODELS
        or meta.label == settings.AUTH_USER_MODEL
    )


def _in_transaction() -> bool:
    """Inside an atomic block on the primary: what it wrote there is visible only there."""
    return connections[DEFAULT].in_atomic_block


def _decide(state: ReadState) -> bool:
    health = replica_health()
    if health is None or not health.ok:
        return False
    if state.freshness == Freshness.CAUGHT_UP:
        return _caught_up()
    return True


class ReplicaRouter:
    """Reads of marked views to the replica while it is healthy; everything else to default."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        state = _request_state.get()
        if state is None or state.wrote or _primary_only(model) or not replica_configured():
            return DEFAULT
        if _in_transaction():
            return DEFAULT
        if state.use_replica is None:
            state.use_replica = _decide(state)
        if not state.use_replica:
            return DEFAULT
        state.replica_used = True
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        state = _request_state.get()
        if state is not None:
            state.wrote = True
        return DEFAULT

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT


# --- marking views --------------------------------------------------------------------------


@contextlib.contextmanager
def replica_allowed(freshness: Freshness = Freshness.WITHIN_MAX_LAG) -> Iterator[ReadState]:
    """Within this block, reads may go to the replica (what the markers below use)."""
    state = ReadState(freshness=Freshness(freshness))
    token = _request_state.set(state)
    try:
        yield state
    finally:
        _request_state.reset(token)


def _cancelled_by_recovery(error: BaseException) -> bool:
    return getattr(error.__cause__, "pgcode", None) == RECOVERY_CONFLICT


def run_reads(call: Callable[[], T], freshness: Freshness = Freshness.WITHIN_MAX_LAG) -> T:
    """``call()`` with its reads allowed on the replica; if the replica fails under it, and it
    wrote nothing, ``call()`` once more with every read on the primary."""
    with replica_allowed(freshness) as state:
        try:
            return call()
        except (OperationalError, InterfaceError) as error:
            if not state.replica_used or state.wrote:
                raise
            failure = error
    if _cancelled_by_recovery(failure):
        logger.info("replica cancelled a read (recovery conflict); reading from the primary")
    else:
        mark_replica_down(failure)
        logger.warning("read replica failed mid-request; reading from the primary: %s", failure)
    return call()


def replica_reads(
    view: Callable[..., Any] | None = None,
    *,
    freshness: Freshness = Freshness.WITHIN_MAX_LAG,
) -> Any:
    """Mark a function view: its GET/HEAD requests may read from the replica.

    ``@replica_reads`` or ``@replica_reads(freshness=Freshness.CAUGHT_UP)``.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if request.method not in READ_METHODS:
                return func(request, *args, **kwargs)
            return run_reads(functools.partial(func, request, *args, **kwargs), freshness)

        return wrapper

    return decorate if view is None else decorate(view)


class ReplicaReadMixin:
    """Mark a DRF view: its GET/HEAD requests may read from the replica.

    On a viewset, ``replica_actions`` names the actions that may (the others never do).
    """

    replica_freshness: Freshness = Freshness.WITHIN_MAX_LAG
    replica_actions: Collection[str] | None = None

    def reads_from_replica(self, request: Any) -> bool:
        if request.method not in READ_METHODS:
            return False
        if self.replica_actions is None:
            return True
        # A viewset's action for this method, as ViewSetMixin.initialize_request will set it.
        action_map: dict[str, str] = getattr(self, "action_map", None) or {}
        return action_map.get(request.method.lower()) in self.replica_actions

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        run = functools.partial(super().dispatch, request, *args, **kwargs)  # type: ignore[misc]
        if not self.reads_from_replica(request):
            return run()
        return run_reads(run, self.replica_freshness)
