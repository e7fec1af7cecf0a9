"""The optional read replica (``xining_issues/db_router.py``).

* The router's choice as a table: per situation (marked or not, healthy or not, in a
  transaction, after a write, which model), and per view, through the API.
* Falling back: a replica failing under a marked view, and /healthz's replica entry.
* A real streaming standby: a small primary cluster made with ``initdb`` on a free port, copied
  with ``pg_basebackup -R -X stream`` into a hot standby on another port. The app, in a process of
  its own, serves a dashboard from the standby, decides on the primary, and keeps answering
  (from the primary) when the standby is stopped, and uses it again when it is back.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import OperationalError, connections, router
from django.db.models import Model
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.models import Case
from org.models import Membership, User
from stats.models import CaseDayStat
from stats.tasks import build_export_task
from xining_issues import db_router
from xining_issues.db_router import (
    DEFAULT,
    REPLICA,
    Freshness,
    ReplicaRouter,
    replica_allowed,
    replica_reads,
    run_reads,
)

BASE_DIR = Path(__file__).resolve().parent.parent
ROUTERS = ["xining_issues.db_router.ReplicaRouter"]


# --- a replica alias for the tests that need no real standby --------------------------------


@pytest.fixture
def replica_alias() -> Iterator[None]:
    """A ``replica`` alias with the test database's settings (no connection is opened here),
    and a process that knows nothing yet about the replica's health. Request it after ``db``:
    Django's test case fences off the aliases it finds when it starts."""
    configured = connections.settings.get(REPLICA)  # DATABASE_REPLICA_URL set for the run
    connections.settings[REPLICA] = {
        **connections.settings[DEFAULT],
        "TEST": {**connections.settings[DEFAULT].get("TEST", {}), "MIRROR": DEFAULT},
    }
    db_router.forget_replica_health()
    try:
        yield
    finally:
        db_router.forget_replica_health()
        with contextlib.suppress(AttributeError):
            del connections[REPLICA]
        del connections.settings[REPLICA]
        if configured is not None:
            connections.settings[REPLICA] = configured


@dataclass
class Lag:
    """What ``_measure_lag`` answers: seconds behind, or an error (the replica is down)."""

    seconds: float | None = 0.0
    error: Exception | None = None
    calls: int = 0

    def __call__(self) -> float | None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.seconds


@pytest.fixture
def lag(replica_alias: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lag]:
    answer = Lag()
    monkeypatch.setattr(db_router, "_measure_lag", answer)
    with override_settings(DATABASE_REPLICA_MAX_LAG=30):
        yield answer


# --- the router's choice, situation by situation ---------------------------------------------


@dataclass(frozen=True)
class Situation:
    marked: bool = True
    freshness: Freshness = Freshness.WITHIN_MAX_LAG
    configured: bool = True
    lag: float | None = 0.5
    down: bool = False
    caught_up: bool = True
    in_transaction: bool = False
    wrote: bool = False
    model: type[Model] = CaseDayStat


# Written from the rules in the router's docstring, not from its code.
SITUATIONS: dict[str, tuple[Situation, str]] = {
    "unmarked code (other views, tasks, commands)": (Situation(marked=False), DEFAULT),
    "marked view, replica healthy": (Situation(), REPLICA),
    "marked view, the cases table": (Situation(model=Case), REPLICA),
    "marked view, lag within the maximum": (Situation(lag=29.0), REPLICA),
    "marked view, lag beyond the maximum": (Situation(lag=31.0), DEFAULT),
    "marked view, lag unknown": (Situation(lag=None), DEFAULT),
    "marked view, replica down": (Situation(down=True), DEFAULT),
    "marked view, no replica configured": (Situation(configured=False), DEFAULT),
    "marked view, inside an atomic block": (Situation(in_transaction=True), DEFAULT),
    "marked view, after it wrote": (Situation(wrote=True), DEFAULT),
    "marked view, sessions": (Situation(model=Session), DEFAULT),
    "marked view, tokens": (Situation(model=Token), DEFAULT),
    "marked view, the user row": (Situation(model=User), DEFAULT),
    "marked view, staff memberships": (Situation(model=Membership), DEFAULT),
    "queue view, replica caught up": (Situation(freshness=Freshness.CAUGHT_UP), REPLICA),
    "queue view, replica behind the primary": (
        Situation(freshness=Freshness.CAUGHT_UP, caught_up=False),
        DEFAULT,
    ),
}


@pytest.mark.parametrize(("situation", "expected"), SITUATIONS.values(), ids=SITUATIONS.keys())
def test_the_router_reads_from_the_replica_only_when_allowed_and_safe(
    replica_alias: None,
    lag: Lag,
    monkeypatch: pytest.MonkeyPatch,
    situation: Situation,
    expected: str,
) -> None:
    # Given the situation
    replica_settings = connections.settings[REPLICA]
    if not situation.configured:
        del connections.settings[REPLICA]
    lag.seconds = situation.lag
    if situation.down:
        lag.error = OperationalError("connection refused")
    monkeypatch.setattr(db_router, "_caught_up", lambda: situation.caught_up)
    monkeypatch.setattr(db_router, "_in_transaction", lambda: situation.in_transaction)
    routing = ReplicaRouter()
    try:
        # When a read is routed
        with (
            replica_allowed(situation.freshness) if situation.marked else contextlib.nullcontext()
        ):
            if situation.wrote:
                assert routing.db_for_write(Case) == DEFAULT
            chosen = routing.db_for_read(situation.model)
    finally:
        connections.settings[REPLICA] = replica_settings
    # Then
    assert chosen == expected


def test_a_real_atomic_block_keeps_reads_on_the_primary(db: None, lag: Lag) -> None:
    # The test itself runs in a transaction on the primary, as a decision would.
    with replica_allowed():
        assert ReplicaRouter().db_for_read(Case) == DEFAULT


def test_writes_and_migrations_go_to_the_primary_and_relations_are_allowed() -> None:
    routing = ReplicaRouter()
    with replica_allowed():
        assert routing.db_for_write(Case) == DEFAULT
    assert routing.allow_migrate(DEFAULT, "cases") is True
    assert routing.allow_migrate(REPLICA, "cases") is False
    assert routing.allow_relation(Case(), User()) is True


def test_a_request_keeps_to_the_database_it_started_reading_from(
    lag: Lag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_router, "_in_transaction", lambda: False)
    routing = ReplicaRouter()
    with replica_allowed():
        assert routing.db_for_read(Case) == REPLICA
        lag.error = OperationalError("gone")  # not asked again within the request
        assert routing.db_for_read(CaseDayStat) == REPLICA
    assert lag.calls == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_health_is_checked_every_few_seconds_and_a_down_replica_less_often(
    lag: Lag, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(db_router, "monotonic", clock)
    assert db_router.replica_health().ok  # type: ignore[union-attr]
    db_router.replica_health()
    assert lag.calls == 1
    clock.now += db_router.CHECK_EVERY_SECONDS + 0.1
    lag.error = OperationalError("connection refused")
    assert not db_router.replica_health().ok  # type: ignore[union-attr]
    assert lag.calls == 2
    clock.now += db_router.CHECK_EVERY_SECONDS + 0.1  # still within the retry delay
    assert not db_router.replica_health().ok  # type: ignore[union-attr]
    assert lag.calls == 2
    clock.now += db_router.RETRY_DOWN_AFTER_SECONDS
    lag.error = None
    assert db_router.replica_health().ok  # type: ignore[union-attr]
    assert lag.calls == 3


# --- falling back -----------------------------------------------------------------------------


@dataclass
class View:
    """A marked view's body: reads (and maybe writes), failing as told on the replica."""

    fail_on_replica: Exception | None = None
    write_first: bool = False
    aliases: list[str] = field(default_factory=list)

    def __call__(self) -> str:
        if self.write_first:
            router.db_for_write(Case)
        alias = router.db_for_read(Case)
        self.aliases.append(alias)
        if alias == REPLICA and self.fail_on_replica is not None:
            raise self.fail_on_replica
        return alias


@pytest.fixture
def routed(lag: Lag, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(db_router, "_in_transaction", lambda: False)
    with override_settings(DATABASE_ROUTERS=ROUTERS):
        yield


def test_a_replica_that_fails_mid_request_is_marked_down_and_the_view_rerun_on_the_primary(
    routed: None, lag: Lag
) -> None:
    view = View(fail_on_replica=OperationalError("server closed the connection unexpectedly"))
    assert run_reads(view) == DEFAULT
    assert view.aliases == [REPLICA, DEFAULT]
    health = db_router.replica_health()
    assert health is not None and not health.ok and "server closed" in health.error
    assert lag.calls == 1  # believed down without asking again


def test_a_view_that_wrote_is_never_run_twice(routed: None) -> None:
    class ReadWriteFail(View):
        def __call__(self) -> str:
            alias = router.db_for_read(Case)
            self.aliases.append(alias)
            router.db_for_write(Case)
            raise OperationalError("server closed the connection unexpectedly")

    view = ReadWriteFail()
    with pytest.raises(OperationalError):
        run_reads(view)
    assert view.aliases == [REPLICA]


def test_a_failure_on_the_primary_is_not_retried(routed: None, lag: Lag) -> None:
    lag.error = OperationalError("replica down")  # so every read goes to the primary
    calls: list[int] = []

    def primary_fails() -> None:
        calls.append(router.db_for_read(Case) == DEFAULT)
        raise OperationalError("primary down")

    with pytest.raises(OperationalError, match="primary down"):
        run_reads(primary_fails)
    assert calls == [True]


def test_a_query_cancelled_by_recovery_is_retried_without_marking_the_replica_down(
    routed: None,
) -> None:
    class Cancelled(Exception):
        pgcode = db_router.RECOVERY_CONFLICT

    error = OperationalError("canceling statement due to conflict with recovery")
    error.__cause__ = Cancelled()
    view = View(fail_on_replica=error)
    assert run_reads(view) == DEFAULT
    health = db_router.replica_health()
    assert health is not None and health.ok


@pytest.mark.parametrize(("method", "expected"), [("GET", REPLICA), ("POST", DEFAULT)])
def test_a_marked_function_view_may_read_from_the_replica_on_get_only(
    routed: None, rf: Any, method: str, expected: str
) -> None:
    @replica_reads
    def view(request: Any) -> str:
        return router.db_for_read(Case)

    assert view(rf.generic(method, "/")) == expected


# --- the router's choice per view, through the API ---------------------------------------------


@dataclass
class Routes:
    """The router's answers during one request: the models read from each alias (leaving out
    who the user is and what they may see: always the primary, see the table above)."""

    reads: dict[str, list[str]] = field(default_factory=lambda: {DEFAULT: [], REPLICA: []})
    writes: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.reads = {DEFAULT: [], REPLICA: []}
        self.writes = []


@pytest.fixture
def routes(demo: Any, replica_alias: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Routes]:
    """The router installed, its answers recorded, and a ``replica`` alias that is the test's own
    connection, so that reads sent there see the test's data (in its transaction). The test's own
    outer transaction is not one a view opened, so it does not count as "inside atomic"."""
    seen = Routes()
    read, write = ReplicaRouter.db_for_read, ReplicaRouter.db_for_write

    def recording_read(self: ReplicaRouter, model: type[Model], **hints: Any) -> str:
        alias = read(self, model, **hints)
        if not db_router._primary_only(model):
            seen.reads[alias].append(model._meta.label)
        return alias

    def recording_write(self: ReplicaRouter, model: type[Model], **hints: Any) -> str:
        seen.writes.append(model._meta.label)
        return write(self, model, **hints)

    monkeypatch.setattr(ReplicaRouter, "db_for_read", recording_read)
    monkeypatch.setattr(ReplicaRouter, "db_for_write", recording_write)
    outer = len(connections[DEFAULT].atomic_blocks)
    monkeypatch.setattr(
        db_router, "_in_transaction", lambda: len(connections[DEFAULT].atomic_blocks) > outer
    )
    monkeypatch.setattr(build_export_task, "apply_async", lambda *args, **kwargs: None)
    connections[REPLICA] = connections[DEFAULT]
    try:
        with override_settings(DATABASE_ROUTERS=ROUTERS):
            yield seen
    finally:
        del connections[REPLICA]


SUBMISSION = {
    "description": "楼下商铺夜间噪音扰民，持续到凌晨。",
    "complainant_name": "李女士",
    "complainant_phone": "13812345678",
}

# (who, method, path, body) → where its data is read. "{case}": a case just submitted.
VIEWS: dict[str, tuple[str | None, str, str, dict[str, Any] | str | None, str]] = {
    "dashboard overview": ("committee1", "get", "/api/v1/stats/overview/", None, REPLICA),
    "dashboard trend": ("committee1", "get", "/api/v1/stats/trend/", None, REPLICA),
    "dashboard rankings": ("committee1", "get", "/api/v1/stats/rankings/", None, REPLICA),
    "topic candidates": ("committee1", "get", "/api/v1/topics/candidates/", None, REPLICA),
    "rates": ("committee1", "get", "/api/v1/stats/rates/?group_by=unit", None, REPLICA),
    "excel export": (
        "committee1",
        "get",
        "/api/v1/stats/export.xlsx?table=rankings-unit",
        None,
        REPLICA,
    ),
    "work queue": ("dispatcher_city", "get", "/api/v1/cases/", None, REPLICA),
    "queue tab counts": ("dispatcher_city", "get", "/api/v1/cases/counts/", None, REPLICA),
    "case detail": ("dispatcher_city", "get", "/api/v1/cases/{case}/", None, DEFAULT),
    "case timeline": ("dispatcher_city", "get", "/api/v1/cases/{case}/events/", None, DEFAULT),
    "受理 (a decision)": ("dispatcher_city", "post", "/api/v1/cases/{case}/accept/", {}, DEFAULT),
    "background export (POST of a stats view)": (
        "committee1",
        "post",
        "/api/v1/stats/exports/",
        {"table": "rankings-unit"},
        DEFAULT,
    ),
    "topic board": ("committee1", "get", "/api/v1/topics/board/", None, DEFAULT),
    "submit a complaint": (None, "post", "/api/v1/cases/", "submission", DEFAULT),
    "public recent results": (None, "get", "/api/v1/public/recent/", None, DEFAULT),
}


@pytest.mark.parametrize(
    ("username", "method", "path", "body", "expected"), VIEWS.values(), ids=VIEWS.keys()
)
def test_the_router_choice_per_view(
    routes: Routes,
    demo: Any,
    username: str | None,
    method: str,
    path: str,
    body: Any,
    expected: str,
) -> None:
    # Given a submitted case and a signed-in user
    submission = {
        **SUBMISSION,
        "category": demo.category("noise").pk,
        "region": demo.region("城东区", "大众街街道", "康西社区").pk,
    }
    created = APIClient().post("/api/v1/cases/", submission, format="json")
    assert created.status_code == 201, created.content
    client = APIClient()
    if username:
        client.force_authenticate(demo.user(username))
    routes.clear()
    # When the view answers
    url = path.format(case=created.json()["id"])
    data = submission if body == "submission" else body
    response = client.get(url) if method == "get" else client.post(url, data, format="json")
    # Then its data was read where the table says, and nothing anywhere else
    assert response.status_code < 400, response.content
    elsewhere = DEFAULT if expected == REPLICA else REPLICA
    assert routes.reads[expected], f"no read routed to {expected}"
    assert routes.reads[elsewhere] == []
    if expected == REPLICA:
        assert routes.writes == []


def test_a_celery_task_reads_from_the_primary(routes: Routes, lag: Lag) -> None:
    from stats.tasks import refresh_rollup_task

    refresh_rollup_task.apply()
    assert routes.reads[REPLICA] == []


# --- /healthz --------------------------------------------------------------------------------


def health() -> tuple[int, dict[str, Any]]:
    response = Client().get("/healthz")
    return response.status_code, response.json()


def test_healthz_has_no_replica_entry_without_a_replica(db: None) -> None:
    status, body = health()
    assert status == 200 and "replica" not in body["checks"]


def test_healthz_reports_the_replica_and_its_lag(db: None, lag: Lag) -> None:
    lag.seconds = 1.26
    status, body = health()
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["replica"] == {"ok": True, "lag_seconds": 1.3, "max_lag_seconds": 30.0}


@pytest.mark.parametrize(
    ("seconds", "error", "lag_seconds"),
    [(None, OperationalError("connection refused"), None), (95.0, None, 95.0)],
    ids=["down", "too far behind"],
)
def test_a_replica_down_or_behind_degrades_the_service_but_does_not_fail_it(
    db: None, lag: Lag, seconds: float | None, error: Exception | None, lag_seconds: float | None
) -> None:
    lag.seconds, lag.error = seconds, error
    status, body = health()
    assert status == 200 and body["status"] == "degraded"
    assert body["checks"]["replica"] == {
        "ok": False,
        "lag_seconds": lag_seconds,
        "max_lag_seconds": 30.0,
    }
    assert body["checks"]["database"]["ok"] is True


# --- a real streaming standby -----------------------------------------------------------------


def _server_binaries() -> Path | None:
    """The newest PostgreSQL server bin folder with what the test runs."""
    needed = ("initdb", "pg_ctl", "pg_basebackup", "pg_dump", "psql")
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if all(os.access(Path(folder) / name, os.X_OK) for name in needed):
            return Path(folder)
    return None


def _version(folder: str) -> tuple[int, ...]:
    digits = Path(folder).parent.name
    return tuple(int(part) for part in digits.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Standby:
    """A primary cluster and its streaming standby, both in ``root``."""

    bin: Path
    root: Path
    as_postgres: list[str]
    primary_port: int = field(default_factory=_free_port)
    replica_port: int = field(default_factory=_free_port)

    def __post_init__(self) -> None:
        while self.replica_port == self.primary_port:
            self.replica_port = _free_port()

    def run(self, tool: str, *args: str) -> None:
        self.execute([*self.as_postgres, str(self.bin / tool), *args])

    def execute(self, command: list[str]) -> None:
        # In the clusters' folder: the postgres user may not enter the current one.
        subprocess.run(
            command, cwd=self.root, check=True, capture_output=True, text=True, timeout=60
        )

    def ctl(self, name: str, action: str) -> list[str]:
        """The pg_ctl command line that starts or stops one cluster."""
        data = self.root / name
        extra = ["-m", "immediate"] if action == "stop" else ["-l", f"{data}.log"]
        return [*self.as_postgres, str(self.bin / "pg_ctl"), "-D", str(data), "-w", *extra, action]

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/xining"

    def start(self) -> None:
        primary = self.root / "primary"
        self.run(
            "initdb",
            *("-D", str(primary), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
            *("--no-locale", "--no-sync"),
        )
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.primary_port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "wal_level = replica\n"
                "max_wal_senders = 4\n"
                "hot_standby = on\n"
                # A test cluster: no durability, no background writes that move the WAL.
                "fsync = off\n"
                "autovacuum = off\n"
                "shared_buffers = 16MB\n"
            )
        # initdb -A trust also trusts local and 127.0.0.1 replication connections.
        self.execute(self.ctl("primary", "start"))
        self.run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"),
            *("-D", str(self.root / "replica"), "-R", "-X", "stream", "-c", "fast"),
        )
        with (self.root / "replica" / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.replica_port}\nhot_standby_feedback = on\n")
        self.execute(self.ctl("replica", "start"))

    def stop(self) -> None:
        for name in ("replica", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                subprocess.run(
                    self.ctl(name, "stop"), cwd=self.root, capture_output=True, timeout=60
                )


def _copy_test_database(standby: Standby) -> None:
    """The test database (migrated, seeded) into the primary as ``xining``: a copy takes two
    seconds where running every migration again takes half a minute."""
    source = connections[DEFAULT].settings_dict
    client_env = dict(os.environ, PGPASSWORD=str(source.get("PASSWORD") or ""))
    psql = [str(standby.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
    psql += ["-p", str(standby.primary_port), "-U", "postgres"]
    create = "CREATE DATABASE xining TEMPLATE template0 ENCODING 'UTF8'"
    subprocess.run([*psql, "-d", "postgres", "-c", create], check=True, capture_output=True)
    dump = [str(standby.bin / "pg_dump"), "--no-owner", "--no-privileges"]
    if source.get("HOST"):
        dump += ["-h", str(source["HOST"])]
    dump += ["-p", str(source.get("PORT") or 5432), "-U", str(source.get("USER") or "postgres")]
    with subprocess.Popen(
        [*dump, str(source["NAME"])], stdout=subprocess.PIPE, env=client_env
    ) as dumper:
        subprocess.run(
            [*psql, "-d", "xining"],
            stdin=dumper.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )
    assert dumper.returncode == 0, "pg_dump of the test database failed"


@pytest.fixture(scope="module")
def standby(django_db_setup: None) -> Iterator[Standby]:
    folder = _server_binaries()
    if folder is None:
        pytest.skip("needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb …)")
    as_postgres: list[str] = []
    owner = None
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the clusters belong to the postgres user.
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and there is no postgres user to run PostgreSQL as")
        if not shutil.which("runuser"):
            pytest.skip("running as root, and there is no runuser to run PostgreSQL as postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="xining-replica-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    pair = Standby(bin=folder, root=root, as_postgres=as_postgres)
    try:
        pair.start()
        _copy_test_database(pair)
        yield pair
    except subprocess.CalledProcessError as error:
        logs = "".join(
            log.read_text(errors="replace")[-2000:] for log in root.glob("*.log") if log.exists()
        )
        pytest.fail(f"{error}\n{error.stderr}\n{logs}")
    finally:
        pair.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.django_db  # the test database is created, to be copied into the primary
def test_a_streaming_replica_serves_the_dashboard_and_the_primary_takes_over(
    standby: Standby, tmp_path: Path
) -> None:
    # Given the app configured with the primary and its standby, in a process of its own
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_BROKER", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=standby.url(standby.primary_port),
        DATABASE_REPLICA_URL=standby.url(standby.replica_port),
        DATABASE_REPLICA_MAX_LAG="30",
        # Tasks queued by the workflow vanish: no worker of anybody's picks them up.
        CELERY_BROKER_URL="memory://",
        CACHE_URL="locmemcache://",
        MEDIA_ROOT=str(tmp_path),
        DEBUG="1",
        XINING_REPLICA_CTL=json.dumps(
            {action: standby.ctl("replica", action) for action in ("start", "stop")}
        ),
    )
    # When it runs the scenario (replica_scenario below)
    finished = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            "from tests.test_replica import replica_scenario; replica_scenario()",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    assert finished.returncode == 0 and lines, finished.stdout[-3000:] + finished.stderr[-5000:]
    steps = json.loads(lines[-1].removeprefix("RESULT "))

    def data_reads(step: str, alias: str) -> list[str]:
        return [sql for sql in steps[step]["queries"][alias] if "cases_case" in sql]

    # Then the dashboard was served by the replica; the primary only said who the user is
    overview = steps["overview"]
    assert overview["status"] == 200
    assert data_reads("overview", REPLICA) and not data_reads("overview", DEFAULT)
    # and so was the work queue, the replica having caught up with the primary
    assert steps["counts_before"]["status"] == 200
    assert data_reads("counts_before", REPLICA) and not data_reads("counts_before", DEFAULT)
    # A decision (受理) was read and written on the primary alone
    assert steps["accept"]["status"] == 200, steps["accept"]["body"]
    assert data_reads("accept", DEFAULT) and steps["accept"]["queries"][REPLICA] == []
    # and the queue showed it at once, wherever it was read
    before, after = steps["counts_before"]["body"], steps["counts_after"]["body"]
    assert after["submitted"] == before["submitted"] - 1
    assert after["accepted"] == before["accepted"] + 1
    # /healthz reports the replica and its lag
    assert steps["health_up"]["status"] == 200
    assert steps["health_up"]["body"]["checks"]["replica"]["ok"] is True
    assert steps["health_up"]["body"]["checks"]["replica"]["lag_seconds"] <= 30

    # When the replica is stopped under a process that believes it healthy,
    # then the same dashboard still answers, read again from the primary
    stopped = steps["overview_replica_stopped"]
    assert stopped["status"] == 200, stopped["body"]
    assert any(sql.startswith("FAILED ") for sql in stopped["queries"][REPLICA])
    assert data_reads("overview_replica_stopped", DEFAULT)
    assert stopped["body"]["totals"] == overview["body"]["totals"]
    # and /healthz says degraded, not down
    down = steps["health_down"]
    assert down["status"] == 200 and down["body"]["status"] == "degraded"
    assert down["body"]["checks"]["replica"]["ok"] is False
    assert down["body"]["checks"]["database"]["ok"] is True
    # and while it is down the replica is not even tried
    assert steps["overview_replica_down"]["status"] == 200
    assert steps["overview_replica_down"]["queries"][REPLICA] == []
    assert steps["overview_replica_down"]["body"]["totals"] == overview["body"]["totals"]

    # When it is back, it serves the dashboard again
    assert steps["health_back"]["body"]["checks"]["replica"]["ok"] is True
    assert data_reads("overview_replica_back", REPLICA)
    assert not data_reads("overview_replica_back", DEFAULT)


def replica_scenario() -> None:
    """The app's side of the streaming test, run with ``manage.py shell`` against the primary
    (DATABASE_URL) and its standby (DATABASE_REPLICA_URL). Prints ``RESULT {json}``."""
    import time

    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from cases.models import Category
    from demo.history import generate_cases
    from demo.organisation import seed_organisation
    from demo.reference import seed_reference
    from org.models import Region
    from stats.rollup import refresh_rollup

    setup_test_environment()
    control = json.loads(os.environ["XINING_REPLICA_CTL"])

    def wait(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            time.sleep(0.05)

    def replayed() -> bool:
        with connections[DEFAULT].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (position,) = cursor.fetchone()
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
            return bool(cursor.fetchone()[0])

    def call(client: Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        queries: dict[str, list[str]] = {DEFAULT: [], REPLICA: []}

        def recorder(alias: str) -> Callable[..., Any]:
            def record(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
                try:
                    result = execute(sql, *args)
                except Exception:
                    queries[alias].append(f"FAILED {sql}")
                    raise
                queries[alias].append(sql)
                return result

            return record

        with (
            connections[DEFAULT].execute_wrapper(recorder(DEFAULT)),
            connections[REPLICA].execute_wrapper(recorder(REPLICA)),
        ):
            response = getattr(client, method)(path, **kwargs)
        return {"status": response.status_code, "body": response.json(), "queries": queries}

    # Data, written on the primary
    seed_organisation()
    seed_reference()
    generate_cases(60, now=timezone.now(), seed=11)
    refresh_rollup()
    community = Region.objects.get(name="康西社区", parent__name="大众街街道")
    submitted = Client().post(
        "/api/v1/cases/",
        {**SUBMISSION, "category": Category.objects.get(code="noise").pk, "region": community.pk},
        content_type="application/json",
    )
    case_id = submitted.json()["id"]
    committee, dispatcher, district, anonymous = Client(), Client(), Client(), Client()
    committee.force_login(User.objects.get(username="committee1"))
    dispatcher.force_login(User.objects.get(username="dispatcher_city"))
    # 分级派单: a noise case is dispatched at the district's level, so it waits in the 待派单
    # of 城东区's dispatcher, not the city's.
    district.force_login(User.objects.get(username="dispatcher_chengdong"))
    wait(replayed, "the replica to replay the primary's writes")

    steps: dict[str, Any] = {}
    overview = "/api/v1/stats/overview/"
    steps["overview"] = call(committee, "get", overview)
    steps["counts_before"] = call(district, "get", "/api/v1/cases/counts/")
    steps["accept"] = call(
        dispatcher,
        "post",
        f"/api/v1/cases/{case_id}/accept/",
        data={},
        content_type="application/json",
    )
    steps["counts_after"] = call(district, "get", "/api/v1/cases/counts/")
    steps["health_up"] = call(anonymous, "get", "/healthz")

    # The replica stops while this process believes it healthy (checked a moment ago)
    db_router.replica_health(refresh=True)
    subprocess.run(control["stop"], check=True, capture_output=True, timeout=60)
    steps["overview_replica_stopped"] = call(committee, "get", overview)
    steps["health_down"] = call(anonymous, "get", "/healthz")
    steps["overview_replica_down"] = call(committee, "get", overview)

    # and comes back
    subprocess.run(control["start"], check=True, capture_output=True, timeout=60)

    def healthy() -> bool:
        health = db_router.replica_health(refresh=True)
        return health is not None and health.ok

    wait(healthy, "the replica to come back")
    wait(replayed, "the replica to catch up")
    steps["health_back"] = call(anonymous, "get", "/healthz")
    steps["overview_replica_back"] = call(committee, "get", overview)
    print("RESULT " + json.dumps(steps, default=str))
