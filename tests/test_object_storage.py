"""Uploads and exports in an object store (``MEDIA_STORAGE=s3``), against a real S3 server.

The server is moto's, in server mode, started by this module on 127.0.0.1 and a free port: the
storage talks HTTP to it as it would to MinIO. Each test keeps its objects under a key prefix of
its own (``MEDIA_S3_PREFIX``) and points ``MEDIA_ROOT`` at an empty folder, to show that nothing
lands on the local disk. The storage is switched with ``override_settings(STORAGES=…)``; what
the environment gives ``settings.py`` is checked on ``default_storage_config`` itself.

The promise checked here: the same requests get the same answers, headers and bytes from either
storage, permission checks included; files reach the store only after their checks; and the
export purge deletes through the storage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import environ
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from moto.server import ThreadedMotoServer
from openpyxl import load_workbook
from PIL import ExifTags, Image
from rest_framework.test import APIClient

from cases.models import Attachment
from org.models import Role, User
from stats.models import ExportJob, ExportStatus
from stats.tasks import build_export_task, purge_exports_task
from tests.conftest import Demo
from tests.factories import MembershipFactory
from topics import workflow as topics_workflow
from topics.models import PolicyDocument, TopicTheme
from xining_issues.downloads import XLSX_TYPE
from xining_issues.storage import (
    LOCAL_BACKEND,
    S3_BACKEND,
    STORAGE_ENV_VARIABLES,
    default_storage_config,
    s3_storage_config,
)

BUCKET = "xining-media"
KEYS = {"access_key": "testing", "secret_key": "testing"}
KINDS = ["local", "s3"]
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


# --- the S3 server, and a storage per test -------------------------------------------------------


@dataclass
class Bucket:
    """The test bucket as the store itself shows it (boto3, not the storage under test)."""

    client: Any
    endpoint: str

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=f"{prefix}/"
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def body(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read())


@pytest.fixture(scope="module")
def bucket() -> Iterator[Bucket]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=KEYS["access_key"],
            aws_secret_access_key=KEYS["secret_key"],
        )
        client.create_bucket(Bucket=BUCKET)
        yield Bucket(client, endpoint)
    finally:
        server.stop()


@dataclass
class Store:
    """One storage, as a test switched to it: what it holds, seen from outside the storage."""

    kind: str
    bucket: Bucket
    prefix: str
    media_root: Path

    def names(self) -> list[str]:
        """The stored files' names (as in a FileField), whichever the storage."""
        if self.kind == "s3":
            return [key.removeprefix(f"{self.prefix}/") for key in self.bucket.keys(self.prefix)]
        return self.local_files()

    def local_files(self) -> list[str]:
        root = self.media_root
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    def body(self, name: str) -> bytes:
        if self.kind == "s3":
            return self.bucket.body(f"{self.prefix}/{name}")
        return (self.media_root / name).read_bytes()


@pytest.fixture
def use_storage(bucket: Bucket, tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """``use_storage("s3")`` or ``use_storage("local")``: the default storage until the test
    ends (or the next call), with a key prefix and an empty MEDIA_ROOT of its own."""
    active: list[Any] = []

    def use(kind: str) -> Store:
        while active:
            active.pop().disable()
        store = Store(kind, bucket, f"test-{uuid.uuid4().hex[:12]}", tmp_path / uuid.uuid4().hex)
        store.media_root.mkdir()
        default = (
            s3_storage_config(
                bucket=BUCKET, endpoint_url=bucket.endpoint, prefix=store.prefix, **KEYS
            )
            if kind == "s3"
            else {"BACKEND": LOCAL_BACKEND}
        )
        override = override_settings(
            STORAGES={**settings.STORAGES, "default": default}, MEDIA_ROOT=str(store.media_root)
        )
        override.enable()
        active.append(override)
        return store

    yield use
    while active:
        active.pop().disable()


# --- requests ------------------------------------------------------------------------------------


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def answer(response: Any) -> Answer:
    """What the client got: the status, every header and the whole body (streamed or not)."""
    # Reading a streamed body to its end closes the file it came from (the test client's doing).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Answer(response.status_code, tuple(sorted(response.headers.items())), body)


def phone_photo() -> bytes:
    """A JPEG as a phone writes it, with the place it was taken (EXIF GPS)."""
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (36.0, 37.0, 12.5)}
    )
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def submit_with(demo: Demo, files: list[SimpleUploadedFile]) -> Any:
    """resident1 submits 赵先生's heating complaint in 湟中区多巴一村 with ``files``."""
    return client_for(demo.user("resident1")).post(
        "/api/v1/cases/",
        {
            "category": demo.category("heating-cold").pk,
            "region": demo.region("湟中区", "多巴镇", "多巴一村").pk,
            "description": "家里暖气不热，附近管道破损。",
            "complainant_name": "赵先生",
            "complainant_phone": "13897123456",
            "attachments": files,
        },
        format="multipart",
    )


# The complainant and the district's dispatcher may see the case; another district's
# dispatcher and another resident may not; nor may someone signed out.
READERS = ["resident1", "dispatcher_huangzhong", "dispatcher_chengdong", "resident2", None]


# --- case photos ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_photo_lands_in_the_bucket_and_nowhere_else(
    demo: Demo, use_storage: Callable[[str], Store]
) -> None:
    # Given the object store
    store = use_storage("s3")
    # When a resident's phone uploads a photo with its GPS position
    response = submit_with(demo, [SimpleUploadedFile("IMG_2041.jpg", phone_photo(), "image/jpeg")])
    # Then the one object in the bucket is the checked, re-encoded photo, named by its hash
    assert response.status_code == 201, response.json()
    [attachment] = Attachment.objects.filter(case_id=response.json()["id"])
    assert store.names() == [attachment.file.name]
    assert attachment.file.name.startswith(f"attachments/{attachment.case_id}/")
    stored = store.body(attachment.file.name)
    assert hashlib.sha256(stored).hexdigest() == attachment.sha256
    assert (len(stored), attachment.content_type) == (attachment.size, "image/jpeg")
    assert b"Exif" not in stored
    # stored as opaque bytes: the type that is served comes from the database
    head = store.bucket.client.head_object(
        Bucket=BUCKET, Key=f"{store.prefix}/{attachment.file.name}"
    )
    assert head["ContentType"] == "application/octet-stream"
    # and nothing was written to the local disk
    assert store.local_files() == []


@pytest.mark.django_db
def test_a_refused_upload_never_reaches_the_bucket(
    demo: Demo, use_storage: Callable[[str], Store]
) -> None:
    store = use_storage("s3")
    # When a submission carries a good photo and a file that only claims to be one
    files = [
        SimpleUploadedFile("a.jpg", phone_photo(), "image/jpeg"),
        SimpleUploadedFile("b.jpg", b"<html><script>alert(1)</script>", "image/jpeg"),
    ]
    response = submit_with(demo, files)
    # Then it is refused as before, and the bucket holds nothing, not even the good photo
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["attachments"]
    assert store.names() == [] and store.local_files() == []


@pytest.mark.django_db
def test_a_photo_is_served_from_the_bucket_as_from_the_local_disk(
    demo: Demo, use_storage: Callable[[str], Store]
) -> None:
    photo = phone_photo()
    answers: dict[str, dict[str | None, Answer]] = {}
    stored: dict[str, bytes] = {}
    for kind in KINDS:
        # Given the same photo uploaded with the same complaint, on each storage
        store = use_storage(kind)
        response = submit_with(demo, [SimpleUploadedFile("管道.jpg", photo, "image/jpeg")])
        assert response.status_code == 201, response.json()
        [attachment] = Attachment.objects.filter(case_id=response.json()["id"])
        url = f"/api/v1/cases/{attachment.case_id}/attachments/{attachment.pk}/"
        stored[kind] = store.body(attachment.file.name)
        # When everyone asks for it
        answers[kind] = {
            name: answer(client_for(demo.user(name) if name else None).get(url))
            for name in READERS
        }

    # Then each reader gets the same answer from either storage: status, headers and bytes
    assert answers["s3"] == answers["local"]
    # which is the stored photo, as an attachment never sniffed nor cached, for those who may
    # see the case, and a refusal for the others
    s3 = answers["s3"]
    for name in ["resident1", "dispatcher_huangzhong"]:
        assert s3[name].status == 200
        assert s3[name].body == stored["s3"] == stored["local"]
        headers = dict(s3[name].headers)
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Content-Disposition"].startswith("attachment;")
        assert headers["Content-Length"] == str(len(stored["s3"]))
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "private, no-store"
    assert s3["dispatcher_chengdong"].status == s3["resident2"].status == 404
    assert s3[None].status == 403
    assert all(stored["s3"] not in a.body for name, a in s3.items() if a.status != 200)


# --- topic documents -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_topic_document_is_stored_and_served_alike(
    demo: Demo, use_storage: Callable[[str], Store]
) -> None:
    lead = MembershipFactory(
        user__username="lead_planning", unit=demo.unit("xn-planning"), role=Role.HANDLER
    ).user
    answers = {}
    for kind in KINDS:
        # Given a topic led by 自然资源和规划局, whose handler files the plan (a PDF)
        store = use_storage(kind)
        topic = topics_workflow.topic_create(
            actor=demo.user("committee1"),
            title="不动产登记历史遗留问题",
            month=dt.date(2026, 3, 1),
            theme=TopicTheme.PROBLEM_SOLVING,
            lead_unit=demo.unit("xn-planning"),
        )
        response = client_for(lead).post(
            f"/api/v1/topics/{topic.pk}/documents/",
            {"title": "实施方案", "file": SimpleUploadedFile("方案.pdf", PDF, "application/pdf")},
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        document = PolicyDocument.objects.get(pk=response.json()["id"])
        assert store.names() == [document.file.name] and store.body(document.file.name) == PDF
        url = f"/api/v1/topics/{topic.pk}/documents/{document.pk}/"
        # When the lead and a handler of another unit ask for it
        answers[kind] = [
            answer(client_for(user).get(url)) for user in (lead, demo.user("handler_chengdong"))
        ]
    # Then both storages answer alike: the PDF to the lead, 404 to the other
    assert answers["s3"] == answers["local"]
    assert [a.status for a in answers["s3"]] == [200, 404]
    assert answers["s3"][0].body == PDF


# --- background exports --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_export_is_written_to_and_served_from_the_bucket(
    demo: Demo, use_storage: Callable[[str], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the object store, and a committee member's queued export of the trend
    store = use_storage("s3")
    queued: list[int] = []
    monkeypatch.setattr(
        build_export_task, "apply_async", lambda args, **kw: queued.append(args[0])
    )
    committee = demo.user("committee1")
    today = timezone.localdate()
    response = client_for(committee).post(
        "/api/v1/stats/exports/",
        {
            "table": "trend",
            "from": (today - dt.timedelta(days=30)).isoformat(),
            "to": today.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    # When a worker builds it
    build_export_task(queued[0])
    # Then the workbook is an object in the bucket, and nothing is on the local disk
    job = ExportJob.objects.get(pk=queued[0])
    assert job.status == ExportStatus.DONE
    assert store.names() == [job.file.name]
    assert job.file.name.startswith(f"exports/{committee.pk}/{job.pk}-trend-")
    assert store.local_files() == []
    # and its owner downloads those bytes, a workbook, with the private download's headers
    url = f"/api/v1/stats/exports/{job.pk}/download/"
    download = answer(client_for(committee).get(url))
    headers = dict(download.headers)
    assert download.status == 200 and download.body == store.body(job.file.name)
    assert headers["Content-Type"] == XLSX_TYPE
    assert headers["Content-Disposition"].startswith('attachment; filename="trend-')
    assert (headers["X-Content-Type-Options"], headers["Cache-Control"]) == (
        "nosniff",
        "private, no-store",
    )
    assert load_workbook(io.BytesIO(download.body)).worksheets[0].max_row >= 1
    # while anyone else gets a 404, as for a job that does not exist
    assert client_for(demo.user("supervisor1")).get(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_the_export_purge_deletes_old_workbooks_through_the_storage(
    demo: Demo, use_storage: Callable[[str], Store], settings: Any, kind: str
) -> None:
    # Given exports kept 7 days: one finished 8 days ago, one yesterday, one failed long ago
    store = use_storage(kind)
    settings.EXPORT_RETENTION_DAYS = 7
    user = demo.user("committee1")
    now = timezone.now()

    def job(days_ago: int, status: str = ExportStatus.DONE) -> ExportJob:
        job = ExportJob.objects.create(user=user, table="trend", status=status)
        if status == ExportStatus.DONE:
            job.file.save("trend.xlsx", ContentFile(b"PK workbook"), save=False)
        job.finished_at = now - dt.timedelta(days=days_ago)
        job.save()
        return job

    old, recent, failed = job(8), job(1), job(30, ExportStatus.FAILED)
    assert store.names() == sorted([old.file.name, recent.file.name])
    # When the nightly purge runs
    assert purge_exports_task() == 2
    # Then the old workbook is gone from the storage with its row; yesterday's stays
    assert store.names() == [recent.file.name]
    assert not default_storage.exists(old.file.name)
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not ExportJob.objects.filter(pk=failed.pk).exists()
    # and a second run finds nothing more to do
    assert purge_exports_task() == 0
    assert store.names() == [recent.file.name]


# --- the setting ---------------------------------------------------------------------------------


def env_with(monkeypatch: pytest.MonkeyPatch, **values: str) -> environ.Env:
    """The storage variables as settings.py reads them: its defaults, ``values`` set."""
    for name in STORAGE_ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return environ.Env(
        **{name: (kind, default) for name, (kind, default, _d) in STORAGE_ENV_VARIABLES.items()}
    )


def test_the_default_is_the_local_disk_under_media_root(monkeypatch: pytest.MonkeyPatch) -> None:
    config = default_storage_config(env_with(monkeypatch))
    # no location of its own: the storage follows MEDIA_ROOT
    assert config == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert default_storage_config(env_with(monkeypatch, MEDIA_STORAGE="Local ")) == config


def test_s3_is_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, bucket: Bucket, tmp_path: Path
) -> None:
    # Given the variables an operator sets for a MinIO bucket shared with other systems
    env = env_with(
        monkeypatch,
        MEDIA_STORAGE="s3",
        MEDIA_S3_BUCKET=BUCKET,
        MEDIA_S3_ENDPOINT_URL=bucket.endpoint,
        MEDIA_S3_ACCESS_KEY=KEYS["access_key"],
        MEDIA_S3_SECRET_KEY=KEYS["secret_key"],
        MEDIA_S3_PREFIX="/xining-issues/",
    )
    config = default_storage_config(env)
    options = config["OPTIONS"]
    assert config["BACKEND"] == S3_BACKEND
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        BUCKET,
        bucket.endpoint,
        "us-east-1",
    )
    assert options["location"] == "xining-issues"
    assert options["client_config"].s3 == {"addressing_style": "path"}
    assert options["file_overwrite"] is False and options["default_acl"] is None
    # When a file is saved through that storage, it is an object under the prefix
    with override_settings(
        STORAGES={**settings.STORAGES, "default": config}, MEDIA_ROOT=str(tmp_path)
    ):
        name = default_storage.save("probe/x.txt", ContentFile(b"ok"))
        assert bucket.body(f"xining-issues/{name}") == b"ok"
        with default_storage.open(name) as stored:
            assert stored.read() == b"ok"
        # and a name already taken is never overwritten
        assert default_storage.save("probe/x.txt", ContentFile(b"other")) != name
        assert bucket.body(f"xining-issues/{name}") == b"ok"
        for probe in bucket.keys("xining-issues"):
            default_storage.delete(probe.removeprefix("xining-issues/"))
        assert bucket.keys("xining-issues") == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"MEDIA_STORAGE": "minio"}, "MEDIA_STORAGE must be one of local, s3, not 'minio'"),
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET"),
        (
            {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "b", "MEDIA_S3_ENDPOINT_URL": "minio:9000"},
            "MEDIA_S3_ENDPOINT_URL must start with http:// or https://",
        ),
        (
            {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "b", "MEDIA_S3_ACCESS_KEY": "k"},
            "set both or neither",
        ),
        (
            {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "b", "MEDIA_S3_ADDRESSING_STYLE": "host"},
            "MEDIA_S3_ADDRESSING_STYLE must be one of path, virtual, auto, not 'host'",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        default_storage_config(env_with(monkeypatch, **values))
