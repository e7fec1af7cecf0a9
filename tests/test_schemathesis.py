"""The API against its own schema (``/api/schema/``), with schemathesis: every operation, as a
staff member (the administrator, who may see everything) and as a resident, 50 generated
requests each, valid and invalid, through the WSGI application in this process.

What must hold for every answer:

* no server error (5xx);
* the answer's body, content type and headers are what the schema says for that status;
* an operation that needs a sign-in refuses the request without the token (``ignored_auth``);
* every refusal (4xx) is the API's one error shape, JSON ``{"code", "message", "fields"}``.
  The schema documents the successful answers and, where a view says so, its refusals; the
  refusals are uniform rather than listed on every operation, so an undocumented 4xx in that
  shape is accepted and anything else (an undocumented 2xx, an HTML error page) is not.

Left out, on purpose: ``positive_data_acceptance`` and ``negative_data_rejection``, which would
require the schema to state every rule the server checks (an empty filter means "no filter" in
django-filter, a page size of 0 is refused, a token request with a wrong password is 400), and
``status_code_conformance``, replaced by the error-shape rule above.

Generated ids mostly name nothing; so that the 200 answers are checked against the schema too,
a positive id in a path is replaced by the id of a real object of that kind (a case the
resident raised, with a photo; a topic with a task, indicator and document; a bulletin; the
administrator's export; the user's own message), and 0 or a negative id is sent as generated.

Rate limits would answer 429 after a few requests: the cache that counts them is cleared
before every request, so the limits are not what is tested here (tests/…/test_track_limits.py
and tests/org/test_lockout.py test them).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from PIL import Image
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
)

from cases import workflow as case_workflow
from cases.models import Case, Category, ReplyTemplate
from notifications.models import Notification
from org.models import Region, Unit, User
from stats.bulletins import bulletin_generate, bulletin_publish
from stats.exports import job_params, run_job
from stats.models import ExportJob
from tests.cases.conftest import PATH_TO, run_steps
from tests.conftest import Demo
from topics import workflow as topic_workflow
from topics.models import Topic, TopicTheme

pytestmark = pytest.mark.schemathesis

EXAMPLES = 50  # generated requests per operation and role
ROLES = {"staff": "admin", "resident": "resident1"}
ERROR_SHAPE = {"code", "message", "fields"}

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# The requests carry our token (below), not credentials schemathesis makes up.
SCHEMA.config.generation.update(with_security_parameters=False)

_token: dict[str, str] = {}


@SCHEMA.auth(refresh_interval=None)
class TokenAuth:
    """The signed-in role's API token (``Authorization: Token …``); ``ignored_auth`` also sends
    each request without it and with a wrong one, and expects a refusal."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        return _token.get("key", "")

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Token {data}"


def error_shape(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """A refusal is the API's one error shape, JSON ``{"code", "message", "fields"}``."""
    if not 400 <= response.status_code < 500:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), (
        f"{response.status_code} answered as {content_type!r}, not the JSON error shape"
    )
    body = response.json()
    assert isinstance(body, dict) and set(body) == ERROR_SHAPE, (
        f"{response.status_code} answered {body!r}, not the error shape"
    )


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    ignored_auth,
    error_shape,
]


# --- the objects a generated id is steered to --------------------------------------------------


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile("现场.png", buffer.getvalue(), content_type="image/png")


class World:
    """Real objects of each kind, built on first use."""

    def __init__(self, demo: Demo, user: User) -> None:
        self.demo = demo
        self.user = user

    @cached_property
    def case(self) -> Case:
        """resident1's heating case with a photo, answered (lead unit, co-unit, events)."""
        with transaction.atomic():
            case = case_workflow.case_submit(
                actor=self.demo.user("resident1"),
                category=self.demo.category("heating-cold"),
                region=self.demo.region("湟中区", "多巴镇", "多巴一村"),
                description="家里暖气不热，附近管道破损。",
                complainant_name="赵先生",
                complainant_phone="13897123456",
                address="新村巷38号",
                attachments=[_photo()],
            )
        return run_steps(case, PATH_TO["replied"], self.demo)

    @cached_property
    def topic(self) -> Topic:
        """An in-progress topic of 湟中区 with a task, an indicator and a document."""
        committee, lead = self.demo.user("committee1"), self.demo.user("handler_huangzhong")
        topic = topic_workflow.topic_create(
            actor=committee,
            title="供暖管网改造",
            month=timezone.localdate().replace(day=1),
            theme=TopicTheme.PROBLEM_SOLVING,
            lead_unit=self.demo.unit("huangzhong-gov"),
            cooperating_units=[self.demo.unit("xn-gas")],
        )
        topic_workflow.topic_adopt(topic=topic, actor=committee, adopted_on=timezone.localdate())
        topic_workflow.topic_start(topic=topic, actor=lead)
        topic_workflow.task_add(
            topic=topic,
            actor=lead,
            title="管网摸底",
            owner_unit=topic.lead_unit,
            deadline=timezone.localdate() + dt.timedelta(days=30),
        )
        topic_workflow.indicator_add(
            topic=topic, actor=lead, name="恢复供暖户数", unit_of_measure="户"
        )
        pdf = SimpleUploadedFile("方案.pdf", b"%PDF-1.7\n%%EOF", content_type="application/pdf")
        topic_workflow.document_add(topic=topic, actor=lead, title="实施方案", file=pdf)
        return topic

    @cached_property
    def bulletins(self) -> list[int]:
        month = timezone.localdate().replace(day=1)
        draft = bulletin_generate(month)
        published = bulletin_generate((month - dt.timedelta(days=1)).replace(day=1))
        bulletin_publish(bulletin=published, actor=self.demo.user("committee1"))
        return [draft.pk, published.pk]

    @cached_property
    def export(self) -> ExportJob:
        today = timezone.localdate()
        job = ExportJob.objects.create(
            user=self.demo.user("admin"),
            table="plan",
            params=job_params({"table": "plan", "from": today, "to": today, "year": today.year}),
        )
        run_job(job.pk)
        return job

    @cached_property
    def notification(self) -> Notification:
        return Notification.objects.create(
            user=self.user,
            subject=self.case,
            kind="case_accepted",
            params={"code": self.case.tracking_code},
            key="schemathesis",
            created_at=timezone.now(),
        )

    def ids(self, collection: str) -> list[int]:
        """Ids of real objects for the first path segment after ``/api/v1/``."""
        if collection == "cases":
            return [self.case.pk]
        if collection == "topics":
            return [self.topic.pk]
        if collection == "bulletins":
            return self.bulletins
        if collection == "stats":
            return [self.export.pk]
        if collection == "notifications":
            return [self.notification.pk]
        models = {
            "regions": Region,
            "units": Unit,
            "categories": Category,
            "reply-templates": ReplyTemplate,
        }
        model = models.get(collection)
        return (
            list(model.objects.order_by("pk").values_list("pk", flat=True)[:50]) if model else []
        )

    def children(self, name: str) -> list[int]:
        """Ids of the objects a second path parameter names, under the first object."""
        if name == "attachment_id":
            return list(self.case.attachments.values_list("pk", flat=True))
        related = {"task_id": "tasks", "indicator_id": "indicators", "document_id": "documents"}
        if name in related:
            return list(getattr(self.topic, related[name]).values_list("pk", flat=True))
        return []


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def steer(case: schemathesis.Case, world: World) -> None:
    """Point a generated positive id at a real object of its kind (see the module docstring)."""
    parameters = case.path_parameters
    if not parameters:
        return
    collection = case.operation.path.removeprefix("/api/v1/").split("/")[0]
    for name, value in list(parameters.items()):
        if not _positive(value):
            continue
        ids = world.ids(collection) if name in ("id", "pk") else world.children(name)
        if ids:
            parameters[name] = ids[value % len(ids)]


# --- the test -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def one_connection() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request (as it should in
    production); here the test's transaction lives on that connection, so keep it open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=sorted(ROLES))
def world(request: pytest.FixtureRequest, demo: Demo, settings: Any, tmp_path: Path) -> World:
    """The role's token, and the objects ids are steered to (uploads go to a temporary folder)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    user = demo.user(ROLES[request.param])
    _token["key"] = Token.objects.get_or_create(user=user)[0].key
    return World(demo, user)


@SCHEMA.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database written into the work tree
    # Generate only: no explicit or coverage examples, no shrinking, so each operation costs
    # exactly EXAMPLES requests and the suite stays within minutes on two cores.
    phases=[Phase.generate],
    # One world per operation and role, shared by its examples on purpose.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, world: World) -> None:
    steer(case, world)
    cache.clear()  # the rate limits count in the cache; they are tested elsewhere
    case.call_and_validate(checks=CHECKS)
