"""Who the client is, what an API error looks like, and the headers every answer carries."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from tests.conftest import Demo
from tests.test_settings import manage
from xining_issues.throttling import ClientIdentity, client_ip, rate_limit_key


@pytest.fixture(autouse=True)
def fresh_limits() -> Iterator[None]:
    # Limits count in the cache, which outlives a test: every test starts with none used.
    cache.clear()
    yield
    cache.clear()


def submission(demo: Demo) -> dict[str, object]:
    return {
        "category": demo.category("noise").pk,
        "region": demo.region("城东区", "大众街街道", "康西社区").pk,
        "description": "楼下商铺夜间噪音扰民，持续到凌晨。",
        "complainant_name": "李女士",
        "complainant_phone": "13812345678",
    }


# --- client identity ---------------------------------------------------------------------------

PROXY = "10.0.0.2"


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        # No proxy trusted (the default): the header is the client's word, and ignored.
        ([], "203.0.113.7", "", "203.0.113.7"),
        ([], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # No socket address at all (a request made up in code): unknown, not "trusted".
        (["10.0.0.0/8"], "", "198.51.100.1", ""),
        # Behind a trusted proxy: the hop it appended is the client.
        (["10.0.0.0/8"], PROXY, "198.51.100.1", "198.51.100.1"),
        # Whatever the client wrote to the left of that hop is ignored.
        (["10.0.0.0/8"], PROXY, "1.1.1.1, 198.51.100.1", "198.51.100.1"),
        # Two trusted proxies in a row: walk past both.
        (["10.0.0.0/8"], PROXY, "198.51.100.1, 10.0.0.9", "198.51.100.1"),
        # A client that talks to us directly cannot claim another address.
        (["10.0.0.0/8"], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # A trusted proxy with no header, or with garbage in it: the proxy is the client.
        (["10.0.0.0/8"], PROXY, "", PROXY),
        (["10.0.0.0/8"], PROXY, "not-an-address", PROXY),
        # Single addresses, ports and IPv6 as proxies write them.
        ([PROXY], PROXY, "198.51.100.1:50312", "198.51.100.1"),
        ([PROXY], PROXY, "[2001:db8::1]:443", "2001:db8::1"),
        (["::1"], "::1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_believes_only_hops_written_by_a_trusted_proxy(
    trusted: list[str], remote: str, forwarded: str, expected: str
) -> None:
    # Given a request that came through the socket `remote` with that X-Forwarded-For
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    # When the client is named with these proxies trusted
    with override_settings(TRUSTED_PROXIES=trusted):
        # Then it is the nearest address no trusted proxy stands for
        assert client_ip(request) == expected


def test_ipv6_clients_of_one_64_share_a_limit() -> None:
    # One household or phone is given a whole /64: it must not get a new limit per address.
    assert rate_limit_key("2001:db8:1:2::1") == rate_limit_key("2001:db8:1:2:ffff::9")
    assert rate_limit_key("2001:db8:1:2::1") != rate_limit_key("2001:db8:1:3::1")
    assert rate_limit_key("198.51.100.7") == "198.51.100.7"


def test_a_trusted_proxy_that_is_not_an_address_stops_the_start() -> None:
    result = manage("check", TRUSTED_PROXIES="10.0.0.0/8,proxy.example")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


def _views(patterns: list[Any]) -> Iterator[tuple[str, type]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            if view is not None:
                yield str(pattern.pattern), view


def test_every_throttle_in_the_url_map_names_the_client_by_client_ip() -> None:
    # Given every view the site serves
    views = list(_views(get_resolver().url_patterns))
    assert len(views) > 20
    # Then no throttle applies by default, and each a view has keys on client_ip
    assert api_settings.DEFAULT_THROTTLE_CLASSES == []
    throttles = {
        (route, throttle.__name__): issubclass(throttle, ClientIdentity)
        for route, view in views
        for throttle in getattr(view, "throttle_classes", [])
    }
    assert len(throttles) >= 5
    assert [key for key, ok in throttles.items() if not ok] == []


FORGED = [f"198.51.100.{n}" for n in range(1, 40)]


class TestForgedForwardedForNeverResetsALimit:
    def test_anonymous_intake(self, demo: Demo) -> None:
        # Given an anonymous client that sends a new X-Forwarded-For with every complaint
        client = APIClient()
        codes = [
            client.post(
                "/api/v1/cases/", submission(demo), format="json", HTTP_X_FORWARDED_FOR=ip
            ).status_code
            for ip in FORGED[:11]
        ]
        # Then the eleventh is refused all the same
        assert codes == [201] * 10 + [429]

    def test_anonymous_intake_behind_a_trusted_proxy(self, demo: Demo) -> None:
        # Given the site behind a trusted proxy that appends the real client's address, and a
        # client that puts a new forged address in front of it each time
        client = APIClient()
        with override_settings(TRUSTED_PROXIES=["127.0.0.1"]):
            codes = [
                client.post(
                    "/api/v1/cases/",
                    submission(demo),
                    format="json",
                    HTTP_X_FORWARDED_FOR=f"{ip}, 203.0.113.50",
                ).status_code
                for ip in FORGED[:11]
            ]
            # Then its limit counts under 203.0.113.50: the eleventh is refused
            assert codes == [201] * 10 + [429]
            # And another client behind the same proxy still gets in
            other = client.post(
                "/api/v1/cases/",
                submission(demo),
                format="json",
                HTTP_X_FORWARDED_FOR="203.0.113.51",
            )
            assert other.status_code == 201

    def test_token_endpoint(self, demo: Demo) -> None:
        # Given requests for a token (without credentials, so no sign-in fails)
        client = APIClient()
        codes = [
            client.post("/api/v1/auth/token/", {}, HTTP_X_FORWARDED_FOR=ip).status_code
            for ip in FORGED[:21]
        ]
        # Then the 21st within a minute is refused however the header changes
        assert codes == [400] * 20 + [429]

    def test_tracking(self, demo: Demo) -> None:
        # Given lookups of 31 different codes, each with a new forged address
        client = APIClient()
        codes = [
            client.get(
                "/api/v1/track/",
                {"code": f"XN-20240101-{n:04d}", "phone_last4": "1234"},
                HTTP_X_FORWARDED_FOR=FORGED[n],
            ).status_code
            for n in range(31)
        ]
        # Then the 31st within a minute is refused
        assert codes == [404] * 30 + [429]

    def test_registration(self, demo: Demo) -> None:
        client = APIClient()
        codes = [
            client.post("/api/v1/auth/register/", {}, HTTP_X_FORWARDED_FOR=ip).status_code
            for ip in FORGED[:11]
        ]
        assert codes == [400] * 10 + [429]


# --- one error shape on the API ----------------------------------------------------------------


def assert_api_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_an_unknown_api_url_is_a_json_404(db: None) -> None:
    assert_api_error(Client().get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_api_error(Client().get("/api/nothing"), 404, "not_found")


def test_an_unknown_page_keeps_its_html_404(db: None) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unhandled_error_on_the_api_is_a_json_500(db: None) -> None:
    # Given a bug behind a public API endpoint
    client = Client(raise_request_exception=False)
    with mock.patch("cases.selectors.public_recent", side_effect=RuntimeError("boom")):
        response = client.get("/api/v1/public/recent/")
    # Then the client gets the JSON shape, without the exception's text
    body = assert_api_error(response, 500, "server_error")
    assert "boom" not in response.content.decode()
    assert body["fields"] == {}


def test_a_csrf_refusal_on_the_api_is_json(demo: Demo) -> None:
    # Given a signed-in resident whose browser sends no CSRF token
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo.user("resident1"))
    response = client.post("/api/v1/cases/", submission(demo), content_type="application/json")
    assert_api_error(response, 403, "forbidden")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/track/?code=%00&phone_last4=1234",
        "/api/v1/track/?code=XN-20240101-0001&phone_last4=12%0034",
        "/api/v1/cases/?status=%00",
        "/api/v1/regions/?parent=%00",
        "/api/v1/public/recent/?x%00y=1",
    ],
)
def test_a_nul_byte_in_the_query_string_is_a_400(demo: Demo, url: str) -> None:
    client = APIClient()
    client.force_authenticate(demo.user("dispatcher_city"))
    body = assert_api_error(client.get(url), 400, "invalid")
    assert body["fields"]


def test_a_nul_byte_in_a_form_field_is_a_400_and_saves_nothing(demo: Demo) -> None:
    from cases.models import Case

    data = {**submission(demo), "complainant_name": "李\x00女士"}
    response = APIClient().post("/api/v1/cases/", data, format="multipart")
    body = assert_api_error(response, 400, "invalid")
    assert "complainant_name" in body["fields"]
    assert not Case.objects.exists()


def test_a_nul_escape_in_a_json_body_is_a_400(demo: Demo) -> None:
    response = APIClient().post(
        "/api/v1/track/evaluate/",
        '{"code": "XN-20240101-0001", "phone_last4": "1234", "rating": "satisfied", '
        '"comment": "a\\u0000b"}',
        content_type="application/json",
    )
    assert_api_error(response, 400, "invalid")


def test_an_escaped_backslash_before_u0000_is_not_a_nul(demo: Demo) -> None:
    # "\\u0000" in JSON is a backslash and the text "u0000": harmless, and not refused
    response = APIClient().post(
        "/api/v1/track/evaluate/",
        '{"code": "XN-20240101-0001", "phone_last4": "1234", "rating": "satisfied", '
        '"comment": "a\\\\u0000b"}',
        content_type="application/json",
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "request_kwargs",
    [
        # more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
        {"path": "/api/v1/track/?" + "&".join(f"f{n}=1" for n in range(1200))},
        # a form body over DATA_UPLOAD_MAX_MEMORY_SIZE
        {
            "path": "/api/v1/track/evaluate/",
            "method": "POST",
            "data": "comment=" + "x" * (3 * 1024 * 1024),
            "content_type": "application/x-www-form-urlencoded",
        },
        # multipart without its boundary
        {
            "path": "/api/v1/cases/",
            "method": "POST",
            "data": "--x\r\n",
            "content_type": "multipart/form-data",
        },
    ],
    ids=["too-many-fields", "body-too-big", "no-boundary"],
)
def test_a_request_django_cannot_parse_is_a_json_400_on_the_api(
    db: None, request_kwargs: dict[str, Any]
) -> None:
    kwargs = dict(request_kwargs)
    path, method = kwargs.pop("path"), kwargs.pop("method", "GET")
    client = Client()
    response = client.get(path) if method == "GET" else client.post(path, **kwargs)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid"


def test_a_nul_byte_on_a_page_is_an_html_400(db: None) -> None:
    response = Client().get("/track/?code=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# --- headers -------------------------------------------------------------------------------------

EXPECTED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    # ECharts writes its tooltips with style attributes; <style> elements stay refused.
    "style-src-attr": {"'unsafe-inline'"},
    "img-src": {"'self'", "data:", "blob:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "object-src": {"'none'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
}


def policy(header: str) -> dict[str, set[str]]:
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: set(values) for name, *values in directives}


def permissions(header: str) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in header.split(","))


@pytest.mark.parametrize(
    "url", ["/", "/submit/", "/track/", "/accounts/login/", "/api/v1/regions/?root=true"]
)
def test_every_answer_carries_a_strict_csp_and_a_permissions_policy(db: None, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 200
    assert policy(response["Content-Security-Policy"]) == EXPECTED_CSP
    granted = permissions(response["Permissions-Policy"])
    assert granted["geolocation"] == "(self)"
    assert granted["camera"] == granted["microphone"] == granted["payment"] == "()"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_page_template_holds_inline_script_or_style() -> None:
    # The CSP forbids them; a page that used one would break in the browser, not in a test.
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|<style|\sstyle=|\son\w+="
    )
    templates = Path(__file__).resolve().parent.parent / "templates"
    found = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if inline.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_api_docs_load_their_script_from_the_server(db: None) -> None:
    # Swagger UI's start-up script is a file of its own, which script-src 'self' allows.
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>" not in page
    # And drf-spectacular's one inline stylesheet is allowed by its hash, nothing else inline
    styles = re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in styles
    }
    assert hashes
    assert policy(response["Content-Security-Policy"])["style-src"] == {"'self'", *hashes}
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
