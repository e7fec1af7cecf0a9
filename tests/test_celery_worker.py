"""A task sent through the configured broker is executed by a real worker process.

The broker is whatever ``CELERY_BROKER_URL`` says: Redis in CI, kombu's filesystem transport by
default. The worker runs as a separate ``celery worker`` process on a queue of its own, against
this test's database, so nothing here is mocked or run eagerly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from org.models import ServiceHeartbeat
from org.tasks import heartbeat_task
from xining_issues.brokers import filesystem_transport_options
from xining_issues.celery import app

BASE_DIR = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the test database this process is using."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db['HOST'] or ''}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """Start ``celery worker`` on a fresh queue; yield the queue name; stop it."""
    queue = f"test-{uuid.uuid4().hex}"
    env = dict(os.environ, DATABASE_URL=database_url())
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        # A folder of our own, so a developer's running `make run` worker is not involved.
        env["CELERY_FILESYSTEM_DIR"] = str(tmp_path)
        app.conf.broker_transport_options = filesystem_transport_options(tmp_path)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "xining_issues",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        if os.environ.get("SHOW_WORKER_LOG"):
            print(output)
        app.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS


@pytest.mark.worker
def test_task_sent_through_the_broker_runs_in_a_real_worker(worker: str) -> None:
    # Given a heartbeat name no process has used
    name = f"pytest-{uuid.uuid4().hex[:8]}"
    assert not ServiceHeartbeat.objects.filter(name=name).exists()

    # When the task is published to the broker for the worker's queue
    with app.connection_for_write() as conn:
        heartbeat_task.apply_async(args=[name], queue=worker, connection=conn)

    # Then the worker process writes the heartbeat (poll the database, bounded)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ServiceHeartbeat.objects.filter(name=name).exists():
            break
        time.sleep(0.2)
    assert ServiceHeartbeat.objects.filter(name=name).exists(), "the worker never ran the task"
    assert app.conf.task_always_eager is False
