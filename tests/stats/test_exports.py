"""GET /api/v1/stats/export.xlsx: the dashboard tables as workbooks, scoped like the JSON; and
the one formula escape that this export and the 月通报 workbook share (``stats.xlsx``)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cases.models import Category
from demo.history import generate_cases
from stats.rollup import refresh_rollup
from stats.xlsx import safe_cell
from tests.conftest import Demo
from xining_issues.downloads import XLSX_TYPE

URL = "/api/v1/stats/export.xlsx"
TABLES = ["rankings-unit", "rankings-district", "rankings-street", "categories", "trend"]
DISTRICTS = {"城东区", "城中区", "城西区", "城北区", "湟中区", "大通回族土族自治县", "湟源县"}


@pytest.fixture
def cases(demo: Demo) -> Demo:
    generate_cases(150)
    refresh_rollup()
    return demo


def year_params(**extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {"from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat(), **extra}


def export(client: APIClient, user: Any, **params: Any) -> Any:
    client.force_authenticate(user)
    return client.get(URL, params)


def sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(response.content))
    return list(workbook.worksheets[0].iter_rows(values_only=True))


@pytest.mark.parametrize("table", TABLES)
def test_each_table_is_a_valid_workbook(api_client: APIClient, cases: Demo, table: str) -> None:
    # given a year of demo cases, when the committee exports a table
    response = export(api_client, cases.user("committee1"), **year_params(table=table))
    # then it is a workbook with a header row and data rows, named after the table and period
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f'filename="{table}-' in disposition
    rows = sheet_rows(response)
    assert len(rows) >= 2
    assert all(isinstance(h, str) and h for h in rows[0])


def test_rankings_match_the_json_endpoint(api_client: APIClient, cases: Demo) -> None:
    params = year_params(by="unit")
    api_client.force_authenticate(cases.user("committee1"))
    json_rows = api_client.get("/api/v1/stats/rankings/", params).json()["results"]
    rows = sheet_rows(
        export(api_client, cases.user("committee1"), **year_params(table="rankings-unit"))
    )
    assert [r[1] for r in rows[1:]] == [r["name"] for r in json_rows]
    assert [r[2] for r in rows[1:]] == [r["dispatched"] for r in json_rows]


def test_a_district_dispatcher_exports_only_their_district(
    api_client: APIClient, cases: Demo
) -> None:
    user = cases.user("dispatcher_chengdong")
    city = sheet_rows(
        export(api_client, cases.user("committee1"), **year_params(table="rankings-district"))
    )
    assert len({r[1] for r in city[1:]}) > 1
    rows = sheet_rows(export(api_client, user, **year_params(table="rankings-district")))
    assert {r[1] for r in rows[1:]} == {"城东区"}
    streets = sheet_rows(export(api_client, user, **year_params(table="rankings-street")))
    chengdong = {r.name for r in cases.region("城东区").children.all()}
    assert streets[1:] and {r[1] for r in streets[1:]} <= chengdong


@pytest.mark.parametrize(
    "params",
    [
        {"table": "nope"},
        {},
        {"table": "trend", "from": "2026-02-01", "to": "2026-01-01"},
        {"table": "trend", "from": "yesterday"},
        {"table": "trend", "granularity": "year"},
        {"table": "rankings-unit", "region": "999999"},
        {"table": "rankings-unit", "w_response": "-1"},
    ],
)
def test_bad_parameters_are_400(api_client: APIClient, demo: Demo, params: dict[str, str]) -> None:
    response = export(api_client, demo.user("committee1"), **params)
    assert response.status_code == 400
    assert "message" in response.json()


def test_residents_and_anonymous_users_get_no_export(api_client: APIClient, demo: Demo) -> None:
    assert export(api_client, demo.user("resident1"), table="trend").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get(URL, {"table": "trend"}).status_code == 403  # no auth challenge: 403


def test_formula_injection_is_escaped(api_client: APIClient, cases: Demo) -> None:
    # given the hottest category renamed to a spreadsheet formula
    top = sheet_rows(
        export(api_client, cases.user("committee1"), **year_params(table="categories"))
    )
    name = top[1][1]
    Category.objects.filter(name=name).update(name='=HYPERLINK("http://evil","x")')
    # when it is exported, then the cell is text, not a formula
    rows = sheet_rows(
        export(api_client, cases.user("committee1"), **year_params(table="categories"))
    )
    assert rows[1][1] == '\'=HYPERLINK("http://evil","x")'


FORMULA_STARTS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", FORMULA_STARTS)
def test_safe_cell_quotes_formula_starts(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert safe_cell("城东区") == "城东区"
    assert safe_cell(-1) == -1
    assert safe_cell(2.5) == 2.5


@pytest.mark.django_db
def test_the_table_export_and_the_bulletin_escape_the_same_way() -> None:
    # Given the same cells (formula starts, plain text, numbers) in a dashboard table and in a
    # bulletin's title, text and tables
    from stats.bulletins import export_xlsx
    from stats.exports import workbook_bytes
    from stats.models import Bulletin

    cells = [*FORMULA_STARTS, "城东区", 7, -1.5]
    table = workbook_bytes(
        "t",
        ["h"],
        [[cell] for cell in cells],
        {"from": dt.date(2026, 3, 1), "to": dt.date(2026, 3, 31)},
    )
    bulletin = Bulletin(
        month=dt.date(2026, 3, 1),
        title="=1+1",
        body="-1\n@SUM(A1)",
        data={"topics": {"headers": ["h"], "rows": [[cell] for cell in cells]}},
    )
    book = export_xlsx(bulletin)

    # When both workbooks are read back
    def column(data: bytes, sheet: int) -> list[Any]:
        rows = load_workbook(io.BytesIO(data)).worksheets[sheet].iter_rows(values_only=True)
        return [row[0] for row in rows]

    from_table = column(table, 0)[1:]
    from_bulletin = column(book, 1)[1:]
    # Then every formula start is text behind an apostrophe, in both, and numbers stay numbers
    assert from_table == from_bulletin
    assert from_table[: len(FORMULA_STARTS)] == [
        "'" + value.replace("\r", "\n") for value in FORMULA_STARTS
    ]
    assert from_table[len(FORMULA_STARTS) :] == ["城东区", 7, -1.5]
    assert column(book, 0)[:3] == ["'=1+1", "'-1", "'@SUM(A1)"]


# --- background exports: POST stats/exports/, a Celery task, poll, download -------------------

JOBS = "/api/v1/stats/exports/"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch, media_root: Any) -> list[int]:
    """Publishing is recorded, not sent to the broker: the tests run the task themselves."""
    from stats.tasks import build_export_task

    sent: list[int] = []
    monkeypatch.setattr(build_export_task, "apply_async", lambda args, **kw: sent.append(args[0]))
    return sent


def start_job(client: APIClient, user: Any, **body: Any) -> Any:
    client.force_authenticate(user)
    return client.post(JOBS, body, format="json")


@pytest.mark.parametrize("table", ["rankings-unit", "trend"])
def test_background_export_builds_the_same_workbook(
    api_client: APIClient, cases: Demo, queued: list[int], table: str
) -> None:
    from stats import exports
    from stats.models import ExportJob
    from stats.tasks import build_export_task

    # given a queued job for a year of cases, with a progress save every 3 rows
    user = cases.user("committee1")
    response = start_job(api_client, user, **year_params(table=table, granularity="week"))
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert queued == [job_id] and response.json()["status"] == "queued"
    progress: list[int] = []
    save = ExportJob.save

    def spy(self: ExportJob, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") == ["progress"]:
            progress.append(self.progress)
        save(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exports, "PROGRESS_EVERY", 3)
        mp.setattr(ExportJob, "save", spy)
        # when the task runs
        build_export_task(job_id)
    # then the job is done at 100 %, with progress saved along the way
    job = ExportJob.objects.get(pk=job_id)
    assert (job.status, job.progress, job.error) == ("done", 100, "")
    assert job.file.name.startswith(f"exports/{user.pk}/") and job.finished_at
    assert progress and progress == sorted(progress) and progress[-1] < 100
    # and its rows are those of the synchronous export
    api_client.force_authenticate(user)
    state = api_client.get(f"{JOBS}{job_id}/").json()
    assert state["download_url"] == f"{JOBS}{job_id}/download/"
    download = api_client.get(state["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == XLSX_TYPE
    assert f'filename="{table}-' in download["Content-Disposition"]
    background = sheet_rows(type("R", (), {"content": b"".join(download.streaming_content)}))
    direct = sheet_rows(export(api_client, user, **year_params(table=table, granularity="week")))
    assert background == direct and job.row_count == len(direct) - 1 > 0


def test_a_second_run_of_a_done_job_does_nothing(
    api_client: APIClient, cases: Demo, queued: list[int]
) -> None:
    from stats.models import ExportJob
    from stats.tasks import build_export_task

    job_id = start_job(api_client, cases.user("committee1"), table="trend").json()["id"]
    build_export_task(job_id)
    before = ExportJob.objects.values().get(pk=job_id)
    build_export_task(job_id)
    assert ExportJob.objects.values().get(pk=job_id) == before
    build_export_task(999999)  # a job that is gone: nothing happens


def test_only_the_owner_sees_a_job_and_only_when_done_may_download(
    api_client: APIClient, cases: Demo, queued: list[int]
) -> None:
    job_id = start_job(api_client, cases.user("committee1"), table="trend").json()["id"]
    # not ready yet: 409
    response = api_client.get(f"{JOBS}{job_id}/download/")
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert api_client.get(f"{JOBS}{job_id}/").json()["download_url"] is None
    # another user: 404 for the job and its file
    api_client.force_authenticate(cases.user("dispatcher_chengdong"))
    assert api_client.get(f"{JOBS}{job_id}/").status_code == 404
    assert api_client.get(f"{JOBS}{job_id}/download/").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"table": "nope"},
        {},
        {"table": "trend", "from": "2026-02-01", "to": "2026-01-01"},
        {"table": "trend", "granularity": "year"},
        {"table": "rankings-unit", "region": 999999},
        {"table": "rankings-unit", "w_response": -1},
    ],
)
def test_bad_background_parameters_are_400(
    api_client: APIClient, demo: Demo, queued: list[int], body: dict[str, Any]
) -> None:
    from stats.models import ExportJob

    response = start_job(api_client, demo.user("committee1"), **body)
    assert response.status_code == 400 and response.json()["fields"]
    assert not ExportJob.objects.exists() and queued == []


def test_residents_may_not_start_a_background_export(
    api_client: APIClient, demo: Demo, queued: list[int]
) -> None:
    from stats.models import ExportJob

    assert start_job(api_client, demo.user("resident1"), table="trend").status_code == 403
    assert not ExportJob.objects.exists() and queued == []


def test_broker_down_is_503_and_the_job_failed(
    api_client: APIClient, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    from stats.models import ExportJob
    from stats.tasks import build_export_task

    def down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(build_export_task, "apply_async", down)
    response = start_job(api_client, demo.user("committee1"), table="trend")
    assert response.status_code == 503
    assert set(response.json()) == {"code", "message", "fields"}
    job = ExportJob.objects.get()
    assert job.status == "failed" and job.error == response.json()["message"]


# --- the other dashboard tables: stages, candidates, the work plan, the indicators ----------


def test_stages_match_the_overview(api_client: APIClient, cases: Demo) -> None:
    api_client.force_authenticate(cases.user("committee1"))
    overview = api_client.get("/api/v1/stats/overview/", year_params()).json()
    rows = sheet_rows(export(api_client, cases.user("committee1"), **year_params(table="stages")))
    assert rows[0] == ("环节", "件数")
    assert rows[1:7] == [(s["label"], s["count"]) for s in overview["stages"]]
    assert rows[7:] == [("在办合计", overview["open"]), ("已超期", overview["overdue"])]


def test_candidates_match_the_json_and_name_their_own_weeks(
    api_client: APIClient, cases: Demo
) -> None:
    api_client.force_authenticate(cases.user("committee1"))
    data = api_client.get("/api/v1/topics/candidates/", {"weeks": 26, "limit": 50}).json()
    response = export(api_client, cases.user("committee1"), table="candidates", weeks=26)
    rows = sheet_rows(response)
    assert data["results"]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        (c["category"]["name"], c["street"]["name"], c["count"]) for c in data["results"]
    ]
    period = f"{data['period']['from'].replace('-', '')}-{data['period']['to'].replace('-', '')}"
    assert f'filename="candidates-{period}.xlsx"' in response["Content-Disposition"]


def test_plan_and_indicators_hold_the_demo_topics(api_client: APIClient, demo: Demo) -> None:
    # Given the demo topics of 2023 (the property-certificate backlog and its indicators)
    from demo.topics import PROPERTY_TITLE, seed_topics

    seed_topics()
    committee = demo.user("committee1")
    api_client.force_authenticate(committee)
    plan = api_client.get("/api/v1/topics/plan/", {"year": 2023}).json()
    titles = {t["title"] for m in plan["months"] for t in m["topics"]}

    # When the plan of 2023 and the indicators are exported
    response = export(api_client, committee, table="plan", year=2023)
    plan_rows = sheet_rows(response)
    indicator_rows = sheet_rows(export(api_client, committee, table="indicators"))

    # Then the plan holds every topic of the year with its tasks, and says the year
    assert 'filename="plan-20230101-20231231.xlsx"' in response["Content-Disposition"]
    assert {r[1] for r in plan_rows[1:]} == titles and PROPERTY_TITLE in titles
    assert any(r[1] == PROPERTY_TITLE and r[3] == "东府嘉和小区集中办证" for r in plan_rows[1:])
    # and the indicators hold 650 of 3,242 households at 东府嘉和
    dongfu = next(r for r in indicator_rows[1:] if r[2] == "东府嘉和小区已办证户数")
    assert (dongfu[0], dongfu[3], dongfu[4]) == (PROPERTY_TITLE, 3242, 650)
    # and a unit that has no part in any topic exports an empty table
    outsider = sheet_rows(export(api_client, demo.user("handler_gas"), table="indicators"))
    assert outsider[1:] == []


def test_background_export_of_the_plan_names_its_year(
    api_client: APIClient, demo: Demo, queued: list[int]
) -> None:
    from demo.topics import seed_topics
    from stats.models import ExportJob
    from stats.tasks import build_export_task

    seed_topics()
    response = start_job(api_client, demo.user("committee1"), table="plan", year=2023)
    assert response.status_code == 202, response.content
    build_export_task(queued[0])
    stored = ExportJob.objects.get(pk=queued[0])
    assert stored.status == "done", stored.error
    assert (stored.params["from"], stored.params["to"]) == ("2023-01-01", "2023-12-31")
    assert stored.row_count > 0
    download = api_client.get(f"{JOBS}{stored.pk}/download/")
    assert 'filename="plan-20230101-20231231.xlsx"' in download["Content-Disposition"]


def test_indicators_without_a_target_or_a_reading_export_as_blanks(
    api_client: APIClient, demo: Demo
) -> None:
    from demo.topics import PROPERTY_TITLE, seed_topics
    from topics import workflow
    from topics.models import Topic

    seed_topics()
    topic = Topic.objects.get(title=PROPERTY_TITLE)
    lead = demo.user("handler_planning")
    workflow.indicator_add(topic=topic, actor=lead, name="无目标无读数")
    workflow.indicator_add(topic=topic, actor=lead, name="有目标无读数", target=100)
    rows = sheet_rows(export(api_client, demo.user("committee1"), table="indicators"))
    by_name = {r[2]: r for r in rows[1:]}
    assert by_name["无目标无读数"][3:7] == (None, None, None, None)  # openpyxl reads "" as None
    assert by_name["有目标无读数"][3:7] == (100, None, None, None)
    assert by_name["东府嘉和小区已办证户数"][6] == round(650 * 100 / 3242, 2)
