"""POST /api/v1/stats/queue-export.{csv,xlsx}: a workbench queue with its filters as a file.

The file's rows are the case list's rows for the same query string, masked as the list masks
them for the reader; a large queue becomes a background ``ExportJob`` of kind ``queue``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cases.models import Case, Status
from stats import queue_export
from tests.conftest import Demo
from tests.factories import CaseFactory, CaseStaff, community, walk_case
from xining_issues.downloads import XLSX_TYPE

URL = "/api/v1/stats/queue-export.{}"
CASES = "/api/v1/cases/"
JOBS = "/api/v1/stats/exports/"
PHONE = "13912345678"


@pytest.fixture
def staff(demo: Demo) -> CaseStaff:
    """One district's operator, dispatcher and handler, and cases in its queues: submitted,
    dispatched, handling (one with a hidden complainant) and replied, from two channels."""
    region = community()
    first = CaseFactory(region=region, title="路灯不亮")
    staff = CaseStaff.for_case(first)
    plan = [
        (Status.SUBMITTED, "web", False),
        (Status.SUBMITTED, "mini_program", False),
        (Status.DISPATCHED, "web", False),
        (Status.DISPATCHED, "mini_program", True),
        (Status.HANDLING, "web", False),
        (Status.HANDLING, "mini_program", True),
        (Status.HANDLING, "web", False),
        (Status.HANDLING, "mini_program", False),
        (Status.REPLIED, "web", False),
        (Status.REPLIED, "mini_program", False),
    ]
    for n, (status, channel, hidden) in enumerate(plan):
        case = CaseFactory(
            region=region,
            channel=channel,
            hide_identity=hidden,
            title=f"第{n}号 路灯" if n % 2 else "",
            description=f"楼下路灯坏了，请联系 1390000{n:04d}。",
            complainant_name="李建华",
        )
        walk_case(case, status, staff=staff)
    return staff


def export(client: APIClient, user: Any, file_type: str = "csv", **query: Any) -> Any:
    client.force_authenticate(user)
    return client.post(f"{URL.format(file_type)}?{_encode(query)}")


def _encode(query: dict[str, Any]) -> str:
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in query.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return data.urlencode()


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"))))


def xlsx_rows(content: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))


def api_rows(client: APIClient, user: Any, **query: Any) -> list[dict[str, Any]]:
    """Every row of the case list for ``query``, paging through it as the workbench does."""
    client.force_authenticate(user)
    rows: list[dict[str, Any]] = []
    url: str | None = f"{CASES}?{_encode({**query, 'page_size': 200})}"
    while url:
        page = client.get(url).json()
        rows += page["results"]
        url = page["next"]
    return rows


QUERIES = [
    {"queue": "handling"},
    {"queue": "dispatched"},
    {"queue": "replied", "channel": ["web", "mini_program"]},
    {"queue": "handling", "channel": "mini_program"},
    {"queue": "submitted", "q": "路灯"},
    {"queue": "submitted"},
]
# The queues a handler never sees a case in: intake is not theirs.
EMPTY = {("handler", "submitted")}


@pytest.mark.parametrize("role", ["operator", "dispatcher", "handler"])
@pytest.mark.parametrize("query", QUERIES)
def test_the_file_holds_the_queue_rows_masked_as_the_list(
    api_client: APIClient, staff: CaseStaff, role: str, query: dict[str, Any]
) -> None:
    # given a staff member and a queue with its filters
    user = getattr(staff, role)
    expected = api_rows(api_client, user, **query)
    # when they export it as CSV
    response = export(api_client, user, "csv", **query)
    # then the file holds the same cases, in the same order, read as the list reads them
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "private, no-store"
    header, *rows = csv_rows(response.content)
    assert header == queue_export.headers()
    assert [r[0] for r in rows] == [r["tracking_code"] for r in expected]
    assert expected or (role, query["queue"]) in EMPTY
    for row, item in zip(rows, expected, strict=True):
        assert (row[6], row[8], row[9]) == (
            item["title"],
            item["complainant_name"],
            item["complainant_phone"],
        )
        assert row[1] == item["status_display"]


@pytest.fixture
def hidden_case(demo: Demo) -> tuple[Case, CaseStaff]:
    """A dispatched case whose complainant asked to hide their identity, a phone number and
    their name typed into the description, and a title a spreadsheet would run."""
    region = community()
    case = CaseFactory(
        region=region,
        title='=HYPERLINK("http://evil.invalid")',
        description=f"我是张建国，电话 {PHONE}，楼下路灯坏了。",
        complainant_name="张建国",
        complainant_phone=PHONE,
        hide_identity=True,
    )
    staff = CaseStaff.for_case(case)
    return walk_case(case, Status.DISPATCHED, staff=staff), staff


def _only_row(content: bytes, file_type: str) -> list[Any]:
    rows = csv_rows(content) if file_type == "csv" else xlsx_rows(content)
    assert len(rows) == 2, rows
    return list(rows[1])


@pytest.mark.parametrize("file_type", ["csv", "xlsx"])
def test_a_handler_reads_what_the_list_shows_a_handler(
    api_client: APIClient, hidden_case: tuple[Case, CaseStaff], file_type: str
) -> None:
    case, staff = hidden_case
    # the list hides this complainant from the handler
    (item,) = api_rows(api_client, staff.handler, queue="dispatched")
    assert item["complainant_phone"] != PHONE
    row = _only_row(
        export(api_client, staff.handler, file_type, queue="dispatched").content, file_type
    )
    # name, phone and the description's name and number are masked; the title escaped
    assert (row[8], row[9]) == (item["complainant_name"], item["complainant_phone"])
    assert PHONE not in row[7] and "张建国" not in row[7] and "路灯坏了" in row[7]
    assert PHONE not in "".join(str(cell) for cell in row)
    assert row[6] == "'" + case.title
    # while the district's dispatcher, who may see the complainant, reads them whole
    whole = _only_row(
        export(api_client, staff.dispatcher, file_type, queue="dispatched").content, file_type
    )
    assert (whole[8], whole[9]) == ("张建国", PHONE) and PHONE in whole[7]
    assert whole[6] == "'" + case.title


def test_xlsx_has_the_same_rows_as_csv(api_client: APIClient, staff: CaseStaff) -> None:
    user = staff.dispatcher
    from_csv = csv_rows(export(api_client, user, "csv", queue="handling").content)
    response = export(api_client, user, "xlsx", queue="handling")
    assert response["Content-Type"] == XLSX_TYPE
    from_xlsx = xlsx_rows(response.content)
    assert len(from_csv) == 5
    assert [r[0] for r in from_xlsx] == [r[0] for r in from_csv]
    # dates are dates in the workbook, text in the CSV file
    assert isinstance(from_xlsx[1][11], dt.datetime) and from_csv[1][11].startswith("20")


def test_residents_and_anonymous_users_may_not_export(api_client: APIClient, demo: Demo) -> None:
    assert api_client.post(URL.format("csv") + "?queue=handling").status_code in (401, 403)
    assert export(api_client, demo.user("resident1"), queue="handling").status_code == 403


def test_bad_filters_are_400(api_client: APIClient, demo: Demo) -> None:
    response = export(api_client, demo.user("operator1"), queue="nope")
    assert response.status_code == 400 and "queue" in response.json()["fields"]
    assert api_client.post("/api/v1/stats/queue-export.pdf").status_code == 404


def test_queries_do_not_grow_with_rows(
    api_client: APIClient,
    demo: Demo,
    django_assert_max_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows are read in chunks with their relations joined: one chunk's queries serve any
    number of its rows (and a handler's co-units come in one query per chunk)."""
    monkeypatch.setattr(queue_export, "CHUNK", 1000)
    region = community()
    first = CaseFactory(region=region)
    staff = CaseStaff.for_case(first)
    walk_case(first, Status.DISPATCHED, staff=staff)

    def queries(user: Any) -> int:
        api_client.force_authenticate(user)
        with django_assert_max_num_queries(1000) as captured:
            response = api_client.post(URL.format("csv") + "?queue=dispatched")
        assert response.status_code == 200
        return len(captured.captured_queries)

    few = {u.pk: queries(u) for u in (staff.dispatcher, staff.handler)}
    for _ in range(6):
        walk_case(CaseFactory(region=region), Status.DISPATCHED, staff=staff)
    for user in (staff.dispatcher, staff.handler):
        assert len(csv_rows(export(api_client, user, queue="dispatched").content)) == 8
        with django_assert_max_num_queries(few[user.pk]):
            api_client.post(URL.format("csv") + "?queue=dispatched")


# --- the background path ------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, media_root: Any, settings: Any) -> list[int]:
    """A low threshold, and publishing recorded: the tests run the task themselves."""
    from stats.tasks import build_export_task

    settings.QUEUE_EXPORT_SYNC_MAX_ROWS = 3
    sent: list[int] = []
    monkeypatch.setattr(build_export_task, "apply_async", lambda args, **kw: sent.append(args[0]))
    return sent


@pytest.mark.parametrize("file_type", ["csv", "xlsx"])
def test_a_large_queue_is_built_in_the_background_for_its_owner(
    api_client: APIClient, staff: CaseStaff, queued: list[int], file_type: str
) -> None:
    from stats.models import ExportJob
    from stats.tasks import build_export_task

    # given a queue above the threshold
    user = staff.dispatcher
    query = {"queue": "handling"}
    expected = api_rows(api_client, user, **query)
    assert len(expected) > 3
    # when it is exported, a job is queued instead of a file
    response = export(api_client, user, file_type, **query)
    assert response.status_code == 202 and response.json()["status"] == "queued"
    job_id = response.json()["id"]
    assert queued == [job_id]
    progress: list[int] = []
    save = ExportJob.save

    def spy(self: ExportJob, *args: Any, **kwargs: Any) -> None:
        progress.append(self.progress)
        save(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(queue_export, "PROGRESS_EVERY", 1)
        mp.setattr(ExportJob, "save", spy)
        build_export_task(job_id)
    # then it progressed to done
    job = ExportJob.objects.get(pk=job_id)
    assert (job.status, job.progress, job.row_count) == ("done", 100, len(expected))
    assert progress == sorted(progress) and len(set(progress)) > 3
    # and its owner downloads the queue's rows
    state = api_client.get(f"{JOBS}{job_id}/").json()
    download = api_client.get(state["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == queue_export.CONTENT_TYPES[file_type]
    assert f".{file_type}" in download["Content-Disposition"]
    content = b"".join(download.streaming_content)
    rows = csv_rows(content) if file_type == "csv" else xlsx_rows(content)
    assert [r[0] for r in rows[1:]] == [r["tracking_code"] for r in expected]
    # while another user gets nothing
    api_client.force_authenticate(staff.operator)
    assert api_client.get(f"{JOBS}{job_id}/").status_code == 404
    assert api_client.get(f"{JOBS}{job_id}/download/").status_code == 404


def test_a_background_export_is_masked_for_its_owner(
    api_client: APIClient,
    hidden_case: tuple[Case, CaseStaff],
    queued: list[int],
    settings: Any,
) -> None:
    from stats.tasks import build_export_task

    settings.QUEUE_EXPORT_SYNC_MAX_ROWS = 0
    _, staff = hidden_case
    job_id = export(api_client, staff.handler, queue="dispatched").json()["id"]
    build_export_task(job_id)
    download = api_client.get(f"{JOBS}{job_id}/download/")
    row = _only_row(b"".join(download.streaming_content), "csv")
    assert PHONE not in "".join(row)
