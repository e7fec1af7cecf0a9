"""The measurements of ``bench_city``: every path a user waits on, through HTTP on the
production configuration (gunicorn, ``DEBUG=0``), and intake beside ``pgbench``.

Over 500 lines on purpose: the server, the timed paths and the intake load are one
measurement, run in order against the one gunicorn it starts.

``Server`` starts gunicorn on a free port of 127.0.0.1 against the database this process uses,
with the settings a deployment has (``DEBUG=0``, Redis for the cache and the broker) and the
worker class and count of ``GUNICORN_*`` below. ``measure_paths`` calls each path a few times to
warm it and then ``calls`` times, one request at a time over one kept-alive connection, and
records p50 / p95 / max of the wall time the client saw (the whole HTTP round trip: parsing,
middleware, authentication, queries, serialisation). Every answer must be 200 and JSON of the
expected shape; a path that fails is reported as failed, never timed.

``measure_intake`` posts complaints as an operator (token, JSON, no files) from ``clients``
threads for ``seconds``, then runs ``pgbench`` on the same database with a custom script that
inserts one 300-byte row into a table with three indexes, ``clients`` clients, and reports both
rates and their ratio. The benchmark's cases are real cases of the city; the ``pgbench`` table is
dropped afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.pagination import Cursor, CursorPagination

from cases.models import OPEN_STATUSES, Case, Category, Status
from org.models import Region, RegionLevel, User
from topics.models import Topic

Out = Callable[[str], None]

BASE_DIR = Path(settings.BASE_DIR)
# The production image's gunicorn (Dockerfile): gthread, 3 workers × 3 threads, chosen on this
# 2-core machine by measuring intake. Sync workers close every connection after one answer (a
# new connection per request) and 2 × cores + 1 = 5 processes fight PostgreSQL for two cores;
# gthread keeps connections alive and overlaps the waits on commit, at 15-20 % less CPU per
# complaint, and 3 × 3 threads serve the 8 clients at once.
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
GUNICORN_CLASS = os.environ.get("BENCH_GUNICORN_CLASS", "gthread")
GUNICORN_THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "3"))
WARM_CALLS = 5


@dataclass
class Figure:
    """One measured path: wall times in milliseconds, or why it failed."""

    group: str
    name: str
    target_ms: float | None
    timings: list[float] = field(default_factory=list)
    error: str = ""
    note: str = ""

    def quantile(self, q: float) -> float:
        ordered = sorted(self.timings)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    @property
    def p50(self) -> float:
        return self.quantile(0.50)

    @property
    def p95(self) -> float:
        return self.quantile(0.95)

    @property
    def max(self) -> float:
        return max(self.timings) if self.timings else float("nan")

    @property
    def met(self) -> bool | None:
        if self.error:
            return False
        if self.target_ms is None or not self.timings:
            return None
        return self.p95 <= self.target_ms

    def line(self) -> str:
        if self.error:
            return f"{self.group} / {self.name}: FAILED {self.error}"
        target = f" (target p95 ≤ {self.target_ms:g} ms)" if self.target_ms else ""
        verdict = {True: " met", False: " MISSED", None: ""}[self.met]
        return (
            f"{self.group} / {self.name}: p50 {self.p50:.1f} ms, p95 {self.p95:.1f} ms, "
            f"max {self.max:.1f} ms over {len(self.timings)} calls{target}{verdict}"
        )


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """The URL of the database this process uses (its settings, so a test database too)."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "postgres", safe="")
    password = f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


def production_environment(port: int) -> dict[str, str]:
    """The environment of a deployment: DEBUG off, Redis behind the cache and the broker."""
    redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
    environment = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url(),
        # Databases 12 and 13: the benchmark's tasks never reach a worker of the live setup.
        "CACHE_URL": f"{redis}/12",
        "CELERY_BROKER_URL": f"{redis}/13",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    # Nothing of a live deployment this shell may know: no replica, no object store.
    for name in list(environment):
        if name in ("DJANGO_SETTINGS_MODULE", "DATABASE_REPLICA_URL") or name.startswith(
            ("MEDIA_S3_", "MEDIA_STORAGE")
        ):
            environment.pop(name)
    return environment


class Server:
    """gunicorn on the production settings, for the life of a ``with`` block."""

    def __init__(self, out: Out, *, workers: int = GUNICORN_WORKERS) -> None:
        self.out = out
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in __exit__
            prefix="bench-gunicorn-", suffix=".log", delete=False
        )

    @property
    def command(self) -> list[str]:
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        return [
            gunicorn,
            "xining_issues.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            GUNICORN_CLASS,
            "--threads",
            str(GUNICORN_THREADS),
            "--keep-alive",
            "30",
            "--timeout",
            "120",
            "--error-logfile",
            "-",
        ]

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            self.command,
            cwd=BASE_DIR,
            env=production_environment(self.port),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start: {self.tail()}")
            try:
                status, _body = self.request("GET", "/healthz")
            except OSError:
                time.sleep(0.2)
                continue
            if status in (200, 503):
                self.out(
                    f"server: gunicorn {GUNICORN_CLASS} × {self.workers}"
                    f" ({GUNICORN_THREADS} threads each) on 127.0.0.1:{self.port}"
                    " with DEBUG=0"
                )
                return self
        raise RuntimeError(f"gunicorn did not answer within 60 s: {self.tail()}")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-2000:]

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict[str, Any] | None = None,
        conn: http.client.HTTPConnection | None = None,
    ) -> tuple[int, bytes]:
        own = conn is None
        conn = conn or self.connect()
        headers = {"Host": "127.0.0.1", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if own:
                conn.close()


# --- what to call -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Path_:
    group: str
    name: str
    user: str
    url: str
    target_ms: float
    shape: str  # "object", "list", "page" or "any": what a right answer looks like


_made_tokens: list[int] = []


def token_for(username: str) -> str:
    """An API token of a demo account; the ones made here are deleted by ``forget_tokens``."""
    user = User.objects.get(username=username)
    token, created = Token.objects.get_or_create(user=user)
    if created:
        _made_tokens.append(user.pk)
    return token.key


def forget_tokens() -> None:
    Token.objects.filter(user_id__in=_made_tokens).delete()
    _made_tokens.clear()


def _cursor_at(offset: int, queryset: Any) -> str | None:
    """The cursor DRF would hand out after ``offset`` rows of the queue's ordering, computed
    once with OFFSET (setup, not measured) so that page 5,000 is reached as a user's client
    would after following 4,999 next links."""
    row = queryset.order_by("-created_at", "-id").values_list("created_at", flat=True)[
        offset : offset + 1
    ]
    position = next(iter(row), None)
    if position is None:
        return None
    paginator = CursorPagination()
    paginator.ordering = ("-created_at", "-id")
    paginator.base_url = "http://x/"
    # DRF's cursor positions are strings (its own ``_get_position_from_instance``); the
    # stubs type them as int.
    cursor = Cursor(offset=0, reverse=False, position=str(position))  # type: ignore[arg-type]
    link = paginator.encode_cursor(cursor)
    # The link carries the cursor URL-encoded (base64's "+", "/" and "=" escaped): decode it,
    # since the caller encodes it again (taken raw, a padded cursor was "invalid" at 10 M).
    return parse_qs(urlsplit(link).query)["cursor"][0]


QUEUE_USERS = {
    "dispatcher_city": "city dispatcher (whole city)",
    "dispatcher_huangzhong": "district dispatcher (湟中)",
    "handler_huangzhong": "handler (湟中区政府)",
    "supervisor1": "supervisor (city)",
}
QUEUE_TABS = [
    "submitted",
    "accepted",
    "dispatched",
    "handling",
    "replied",
    "due_soon",
    "overdue",
    "supervised",
]
SEARCHES = ["暖气", "多巴", "物业 漏水", "噪音"]
# 智能派单 as an operator types a call (cases.router): short and long words, with and without
# the community (which adds the 权责清单's unit); the model in use is the one ``bench_city``'s
# router step trained on this city. Target p95 ≤ 20 ms (issue 15).
SUGGESTIONS = [
    ("a few words", "暖气不热"),
    ("one sentence", "你好，我家住在康西社区，楼下饭馆的油烟太大了，窗户都不敢开"),
    (
        "300 characters",
        (
            "我想反映一下，我们小区从上周开始一直停水，物业说是管道坏了在修，但是一直没有人来，"
            "家里老人孩子喝水做饭都成问题，打了好几次电话也没人管，"
        )
        * 4,
    ),
]
SUGGEST_TARGET_MS = 20
PAGE_SIZE = 25  # the workbench asks for the API's default page, 25 cases
DEEP_PAGE = 5_000


def paths(out: Out) -> list[Path_]:
    """Every measured path, with the ids and dates of this database."""
    from cases import selectors

    today = timezone.localdate()
    year_ago = (today - dt.timedelta(days=365)).isoformat()
    month_start = today.replace(day=1).isoformat()
    first = Case.objects.order_by("created_at").values_list("created_at", flat=True).first()
    since = timezone.localtime(first).date().isoformat() if first else year_ago
    district = Region.objects.filter(level=RegionLevel.DISTRICT, code__contains="huangzhong")
    # A seeded city has districts (the measurement needs one anyway).
    district_id = cast(
        Region, district.first() or Region.objects.filter(level=RegionLevel.DISTRICT).first()
    ).pk
    dash = "committee1"
    result = [
        Path_("dashboard", "overview, 30 days", dash, "/api/v1/stats/overview/", 100, "object"),
        Path_(
            "dashboard",
            "overview, this month",
            dash,
            f"/api/v1/stats/overview/?from={month_start}",
            100,
            "object",
        ),
        Path_(
            "dashboard",
            "overview, 1 year",
            dash,
            f"/api/v1/stats/overview/?from={year_ago}",
            100,
            "object",
        ),
        Path_(
            "dashboard",
            "overview, all time",
            dash,
            f"/api/v1/stats/overview/?from={since}",
            100,
            "object",
        ),
        Path_(
            "dashboard",
            "overview, 1 year, one district",
            dash,
            f"/api/v1/stats/overview/?from={year_ago}&region={district_id}",
            100,
            "object",
        ),
    ]
    for granularity in ("day", "week", "month"):
        result.append(
            Path_(
                "dashboard",
                f"trend by {granularity}, 1 year",
                dash,
                f"/api/v1/stats/trend/?from={year_ago}&granularity={granularity}",
                100,
                "object",
            )
        )
    for by in ("unit", "district", "street"):
        result.append(
            Path_(
                "dashboard",
                f"rankings by {by}, 1 year",
                dash,
                f"/api/v1/stats/rankings/?from={year_ago}&by={by}",
                100,
                "object",
            )
        )
    for weeks in (4, 8):
        result.append(
            Path_(
                "dashboard",
                f"topic candidates, {weeks} weeks",
                dash,
                f"/api/v1/topics/candidates/?weeks={weeks}",
                100,
                "any",
            )
        )
    result.append(
        Path_("dashboard", "topic board", dash, "/api/v1/topics/board/?page_size=20", 100, "page")
    )
    for label, start in (("30 days", None), ("1 year", year_ago)):
        query = f"?from={start}" if start else ""
        result.append(
            Path_(
                "dashboard",
                f"一次办结率, {label}",
                dash,
                f"/api/v1/stats/first-call/{query}",
                100,
                "object",
            )
        )
    # 成效: the adopted topics that name their matters (the demo's 不动产登记 one, and any an
    # operator of the benchmark adds, such as a city-wide heating topic), three at most.
    topics = (
        Topic.objects.filter(adopted_on__isnull=False, categories__isnull=False)
        .distinct()
        .order_by("pk")[:3]
    )
    if not topics:
        out("measure: no adopted topic with categories: the 成效 path is not measured")
    for topic in topics:
        result.append(
            Path_(
                "dashboard",
                f"topic 成效 ({topic.title})",
                dash,
                f"/api/v1/topics/{topic.pk}/effect/",
                100,
                "object",
            )
        )

    for username, label in QUEUE_USERS.items():
        user = User.objects.get(username=username)
        visible = Case.objects.filter(selectors.visibility_filter(user))
        for tab in QUEUE_TABS:
            base = f"/api/v1/cases/?queue={tab}"
            result.append(Path_("queue", f"{label}: {tab}", username, base, 50, "page"))
        # Deep paging: the closed history (no tab) is the list that has 5,000 pages.
        history = f"/api/v1/cases/?status={Status.CLOSED}"
        result.append(Path_("queue", f"{label}: closed, page 1", username, history, 50, "page"))
        cursor = _cursor_at(PAGE_SIZE * (DEEP_PAGE - 1), visible.filter(status=Status.CLOSED))
        if cursor:
            result.append(
                Path_(
                    "queue",
                    f"{label}: closed, page {DEEP_PAGE:,}",
                    username,
                    f"{history}&{urlencode({'cursor': cursor})}",
                    50,
                    "page",
                )
            )
        else:
            out(f"measure: {label} sees fewer than {DEEP_PAGE:,} pages of closed cases")
        result.append(
            Path_(
                "counts", f"{label}: tab counts", username, "/api/v1/cases/counts/", 100, "object"
            )
        )
    community = Region.objects.filter(level=RegionLevel.COMMUNITY).order_by("pk").first()
    for label, text in SUGGESTIONS:
        for region in (None, community):
            query = {"text": text[:300], **({"region": region.pk} if region else {})}
            result.append(
                Path_(
                    "suggest",
                    f"智能派单: {label}" + (", with the community" if region else ""),
                    "operator1",
                    f"/api/v1/categories/suggest/?{urlencode(query)}",
                    SUGGEST_TARGET_MS,
                    "object",
                )
            )
    for username in ("dispatcher_city", "dispatcher_huangzhong"):
        for words in SEARCHES:
            result.append(
                Path_(
                    "search",
                    f"{QUEUE_USERS[username]}: {words}",
                    username,
                    f"/api/v1/cases/?{urlencode({'q': words})}",
                    300,
                    "page",
                )
            )
    return result


def detail_ids(count: int) -> list[int]:
    """Case ids spread over the whole history, for the detail path (one per call)."""
    bounds = Case.objects.order_by("pk").values_list("pk", flat=True)
    low, high = bounds.first(), Case.objects.order_by("-pk").values_list("pk", flat=True).first()
    if low is None or high is None:
        return []
    rng = random.Random(11)  # noqa: S311 - a sample, not a secret
    picks = sorted({rng.randint(low, high) for _ in range(count * 2)})
    found = list(Case.objects.filter(pk__in=picks).values_list("pk", flat=True))
    rng.shuffle(found)
    return found[:count]


def _shape_ok(shape: str, body: bytes) -> bool:
    data = json.loads(body)
    if shape == "page":
        return isinstance(data, dict) and isinstance(data.get("results"), list)
    if shape == "list":
        return isinstance(data, list)
    if shape == "any":
        return isinstance(data, (dict, list))
    return isinstance(data, dict)


def time_path(
    server: Server, token: str, url: str, shape: str, figure: Figure, calls: int
) -> None:
    conn = server.connect()
    try:
        for index in range(WARM_CALLS + calls):
            started = time.perf_counter()
            status, body = server.request("GET", url, token=token, conn=conn)
            elapsed = 1000 * (time.perf_counter() - started)
            if status != 200 or not _shape_ok(shape, body):
                figure.error = f"HTTP {status}: {body[:200].decode(errors='replace')}"
                return
            if index >= WARM_CALLS:
                figure.timings.append(elapsed)
    finally:
        conn.close()


def measure_paths(
    server: Server, out: Out, *, calls: int, groups: set[str] | None = None
) -> list[Figure]:
    """Time every path (or those of ``groups``: the case detail is the group ``detail``)."""
    figures: list[Figure] = []
    tokens: dict[str, str] = {}
    for p in paths(out):
        if groups and p.group not in groups:
            continue
        token = tokens.setdefault(p.user, token_for(p.user))
        figure = Figure(p.group, p.name, p.target_ms)
        time_path(server, token, p.url, p.shape, figure, calls)
        out(f"measure: {figure.line()}")
        figures.append(figure)
    if groups and "detail" not in groups:
        return figures
    # Detail with its timeline: one case per call, as a user opening cases from a list.
    token = tokens.setdefault("dispatcher_city", token_for("dispatcher_city"))
    figure = Figure("detail", "case detail + timeline (city dispatcher)", 30)
    ids = detail_ids(calls + WARM_CALLS)
    conn = server.connect()
    try:
        for index, pk in enumerate(ids):
            started = time.perf_counter()
            status, _body = server.request("GET", f"/api/v1/cases/{pk}/", token=token, conn=conn)
            status2, body2 = server.request(
                "GET", f"/api/v1/cases/{pk}/events/", token=token, conn=conn
            )
            elapsed = 1000 * (time.perf_counter() - started)
            if status != 200 or status2 != 200 or not _shape_ok("list", body2):
                figure.error = f"HTTP {status}/{status2} on case {pk}"
                break
            if index >= WARM_CALLS:
                figure.timings.append(elapsed)
    finally:
        conn.close()
    figure.note = "two requests per call: the case and its events"
    out(f"measure: {figure.line()}")
    figures.append(figure)
    return figures


# --- intake beside pgbench ----------------------------------------------------------------------


@dataclass
class IntakeFigures:
    clients: int
    seconds: float
    requests: int = 0
    failures: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    timings: list[float] = field(default_factory=list)
    pgbench_tps: float = 0.0
    pgbench_output: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.pgbench_tps if self.pgbench_tps else 0.0

    @property
    def slowest(self) -> float:
        return max(self.timings) if self.timings else float("nan")

    @property
    def p95(self) -> float:
        return Figure("intake", "POST /api/v1/cases/", None, timings=self.timings).p95

    def line(self) -> str:
        return (
            f"intake: {self.requests:,} complaints in {self.seconds:.1f} s = "
            f"{self.rate:.1f} req/s "
            f"({self.clients} clients; p95 {self.p95:.0f} ms, slowest {self.slowest:.0f} ms, "
            f"{self.failures} failed); pgbench {self.pgbench_tps:,.0f} TPS; ratio "
            f"{100 * self.ratio:.1f} % (target ≥ 5 %, no request over 1 s)"
        )


def intake_bodies() -> Iterator[dict[str, Any]]:
    """Endless varied complaints, as an operator types them from calls."""
    leaves = list(
        Category.objects.filter(is_active=True, children__isnull=True).values_list("pk", flat=True)
    )
    places = list(
        Region.objects.filter(level=RegionLevel.COMMUNITY).values_list("pk", flat=True)[:500]
    )
    rng = random.Random(4)  # noqa: S311 - sample data
    words = ["暖气不热", "楼道灯坏了", "小区门口积水", "夜间施工噪音", "物业不作为", "水压太低"]
    while True:
        yield {
            "category": rng.choice(leaves),
            "region": rng.choice(places),
            "description": f"{rng.choice(words)}，已经好几天了，请尽快处理。" * 3,
            "complainant_name": "赵先生",
            "complainant_phone": f"139{rng.randrange(10**8):08d}",
            "channel": "phone",
        }


def post_intake(server: Server, *, clients: int, seconds: float, out: Out) -> IntakeFigures:
    token = token_for("operator1")
    figures = IntakeFigures(clients=clients, seconds=seconds)
    bodies = intake_bodies()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds + 3  # 3 s of warm-up, not counted

    def client() -> None:
        conn = server.connect()
        try:
            while time.monotonic() < stop_at:
                with lock:
                    body = next(bodies)
                started = time.monotonic()
                try:
                    status, _answer = server.request(
                        "POST", "/api/v1/cases/", token=token, body=body, conn=conn
                    )
                except (OSError, http.client.HTTPException):
                    status = 0
                    conn.close()
                    conn = server.connect()
                ended = time.monotonic()
                if ended - stop_at + seconds < 0:
                    continue  # warm-up
                with lock:
                    figures.statuses[status] = figures.statuses.get(status, 0) + 1
                    if status == 201:
                        figures.requests += 1
                        figures.timings.append(1000 * (ended - started))
                    else:
                        figures.failures += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if figures.failures:
        out(f"intake: answers other than 201: {figures.statuses}")
    return figures


PGBENCH_SCRIPT = (
    "\\set k random(1, 1000000000)\n"
    "INSERT INTO bench_pgbench_intake (k, channel, body) "
    "VALUES (:k, 'phone', repeat('x', 300));\n"
)


def run_pgbench(*, clients: int, seconds: int) -> tuple[float, str]:
    """TPS of one 300-byte insert into a three-index table, ``clients`` clients."""
    s = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_pgbench_intake")
        cursor.execute(
            "CREATE TABLE bench_pgbench_intake (id bigserial PRIMARY KEY, k bigint, "
            "channel text, body text, created_at timestamptz DEFAULT now())"
        )
        cursor.execute("CREATE INDEX ON bench_pgbench_intake (k)")
        cursor.execute("CREATE INDEX ON bench_pgbench_intake (created_at)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    environment = {**os.environ}
    if s.get("PASSWORD"):
        environment["PGPASSWORD"] = s["PASSWORD"]
    try:
        result = subprocess.run(  # noqa: S603
            [
                shutil.which("pgbench") or "pgbench",
                "-n",
                "-f",
                script.name,
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-h",
                s.get("HOST") or "127.0.0.1",
                "-p",
                str(s.get("PORT") or 5432),
                "-U",
                s.get("USER") or "postgres",
                s["NAME"],
            ],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        )
    finally:
        os.unlink(script.name)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_pgbench_intake")
    tps = 0.0
    for line in result.stdout.splitlines():
        if line.startswith("tps = "):
            tps = float(line.split()[2])
    return tps, result.stdout


def measure_intake(
    server: Server, out: Out, *, clients: int = 8, seconds: float = 20
) -> IntakeFigures:
    if not shutil.which("pgbench"):
        raise RuntimeError("pgbench is not installed (Debian: postgresql-client)")
    figures = post_intake(server, clients=clients, seconds=seconds, out=out)
    figures.pgbench_tps, figures.pgbench_output = run_pgbench(
        clients=clients, seconds=max(5, int(seconds))
    )
    out(figures.line())
    return figures


def open_share() -> float:
    total = Case.objects.count()
    return Case.objects.filter(status__in=OPEN_STATUSES).count() / total if total else 0.0
