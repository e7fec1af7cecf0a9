"""Open311 clients, their keys and a few helpers to speak GeoReport v2 over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.http import HttpResponse
from django.test import Client

from cases.models import Open311Client
from cases.open311 import keys
from tests.conftest import Demo

BASE = "/open311/v2"


@dataclass
class Keyed:
    client: Open311Client
    key: str


@pytest.fixture
def keyed(db: None) -> Keyed:
    client, key = keys.open311_client_create(name="微信小程序", contact="张工 0971-8000000")
    return Keyed(client=client, key=key)


def body(response: HttpResponse, fmt: str) -> Any:
    """The answer parsed: JSON as data, XML as its root element."""
    if fmt == "xml":
        assert response["Content-Type"].startswith("text/xml")
        assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        return ET.fromstring(response.content)  # noqa: S314 - our own answer
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def heating_request(demo: Demo, **extra: str) -> dict[str, str]:
    """A keyed GeoReport POST for a cold home in 湟中区多巴镇多巴一村 (the real 2023 case)."""
    data = {
        "service_code": "heating-cold",
        "address_id": str(demo.region("湟中区", "多巴镇", "多巴一村").pk),
        "address_string": "新村巷38号",
        "lat": "36.588321",
        "long": "101.555210",
        "description": "家里暖气不热，附近管道破损。",
        "last_name": "赵",
        "first_name": "建国",
        "phone": "13909712345",
        "email": "zhao@example.com",
        "attribute[room_temperature]": "12",
        "attribute[vulnerable_affected]": "yes",
    }
    data.update(extra)
    return data


def post(client: Client, fmt: str, data: dict[str, Any], **extra: str) -> HttpResponse:
    """A form-encoded POST (application/x-www-form-urlencoded), as the spec says clients send
    it; ``extra`` sets request META (REMOTE_ADDR, HTTP_X_FORWARDED_FOR)."""
    return client.post(
        f"{BASE}/requests.{fmt}",
        urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        **extra,  # type: ignore[arg-type]
    )
