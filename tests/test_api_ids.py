"""Ids in API paths and filters: whatever is typed where an id goes, the answer is a 4xx in the
API's one error shape, never a 500.

Every detail route of the routers in ``org/api``, ``cases/api`` and ``topics/api`` gets a
non-numeric id, a negative one and one past the largest primary key; every id filter gets the
same. Format suffixes (``/events.json``) are not routes: the API speaks JSON only.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from org.models import User
from tests.conftest import Demo

ERROR_SHAPE = {"code", "message", "fields"}
TOO_BIG = "99999999999999999999"  # past 2**63 - 1, the largest BigAutoField

# (method, path with {} for the id): every detail route of the API's routers.
DETAIL_ROUTES = [
    ("get", "/api/v1/topics/{}/"),
    ("post", "/api/v1/topics/{}/start/"),
    ("post", "/api/v1/topics/{}/tasks/"),
    ("get", "/api/v1/bulletins/{}/"),
    ("patch", "/api/v1/bulletins/{}/"),
    ("post", "/api/v1/bulletins/{}/publish/"),
    ("get", "/api/v1/regions/{}/"),
    ("get", "/api/v1/units/{}/"),
    ("get", "/api/v1/cases/{}/"),
    ("get", "/api/v1/cases/{}/events/"),
    ("get", "/api/v1/cases/{}/suggestions/"),
    ("post", "/api/v1/cases/{}/accept/"),
    ("get", "/api/v1/categories/{}/"),
    ("get", "/api/v1/reply-templates/{}/"),
    ("post", "/api/v1/notifications/{}/read/"),
]


@pytest.fixture
def admin_client(demo: Demo) -> APIClient:
    client = APIClient()
    client.raise_request_exception = False  # a 500 is an answer to look at, not a crash
    client.force_authenticate(User.objects.get(username="admin"))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["abc", "-1", "1.5", TOO_BIG])
@pytest.mark.parametrize(("method", "path"), DETAIL_ROUTES)
def test_a_malformed_or_unknown_id_in_the_path_is_404(
    admin_client: APIClient, method: str, path: str, bad_id: str
) -> None:
    # When the administrator, who may see everything, asks for an id that cannot exist
    response = getattr(admin_client, method)(path.format(bad_id), {}, format="json")
    # Then it is not there: 404 in the error shape
    assert response.status_code == 404, (path.format(bad_id), response.content[:300])
    assert set(response.json()) == ERROR_SHAPE


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/1/events.json",
        "/api/v1/cases/1/suggestions.json",
        "/api/v1/cases/counts.json",
        "/api/v1/cases/1/attachments/1.json",
        "/api/v1/notifications/unread.json",
        "/api/v1/units/1.json",
        "/api/v1/regions.json",
    ],
)
def test_format_suffixes_are_not_routes(admin_client: APIClient, path: str) -> None:
    response = admin_client.get(path)
    assert response.status_code == 404, (path, response.content[:300])


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", TOO_BIG])
@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/regions/?parent={}",
        "/api/v1/regions/?within={}",
        "/api/v1/units/?parent={}",
        "/api/v1/units/?region={}",
        "/api/v1/cases/?topic={}",
        "/api/v1/cases/?region={}",
        "/api/v1/cases/?unit={}",
        "/api/v1/topics/?lead_unit={}",
    ],
)
def test_a_malformed_id_in_a_filter_is_400(
    admin_client: APIClient, query: str, bad_id: str
) -> None:
    response = admin_client.get(query.format(bad_id))
    assert response.status_code == 400, (query.format(bad_id), response.content[:300])
    body = response.json()
    assert set(body) == ERROR_SHAPE
    assert body["fields"], body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/regions/?parent={}",
        "/api/v1/cases/?topic={}",
        "/api/v1/topics/?lead_unit={}",
    ],
)
def test_a_well_formed_id_nobody_has_filters_to_nothing(
    admin_client: APIClient, query: str
) -> None:
    # A number that could be an id but is not one is not an error: the list is empty
    response = admin_client.get(query.format(2**62))
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert (body["results"] if isinstance(body, dict) else body) == []
