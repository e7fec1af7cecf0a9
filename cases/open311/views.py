"""The GeoReport v2 endpoints: plain Django views (no DRF), so that each answers in the spec's
own documents and error list rather than the REST API's shapes, and none of them appears in
the REST API's OpenAPI contract.

Reads are public and throttled per client address (``throttling.client_ip``: a forged
``X-Forwarded-For`` never resets a limit). A POST needs a live API key and is throttled per key,
whatever address it comes from. No view reads the session: the key is the only credential, which
is why the POST needs no CSRF token.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from xining_issues.errors import WorkflowError
from xining_issues.throttling import GuessLimit, Locked, client_ip, count_hit, rate_limit_key

from . import intake, keys, reading
from .formats import JSON, Open311Error, errors, render

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00+08:00"  # when this endpoint's services last changed shape
# What the workflow calls a field → what the client posted it as.
FIELD_NAMES = {
    "complainant_phone": "phone",
    "complainant_name": "last_name",
    "category": "service_code",
    "region": "address_id",
    "address": "address_string",
}


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` requests a minute per ``ident``, counted in the shared cache (Redis in
    production, so every web process counts together)."""

    scope: str
    limit: int
    seconds: int = 60

    def check(self, ident: str) -> None:
        if count_hit(f"open311:{self.scope}:{ident}", seconds=self.seconds) > self.limit:
            raise Open311Error(429, _("请求太频繁，请稍后再试。"))


# Reads per client address; posts per API key, whichever address a client posts from.
READ_RATE = Rate("read", 120)
KEY_RATE = Rate("post", 60)


# Wrong api_keys per client address: a key guesser is locked out for ten minutes after 20
# misses, counted before the key is looked up (``GuessLimit``), whatever the keys tried.
KEY_GUESSES = GuessLimit("open311-key", limit=20, lock_seconds=600)


View = Callable[..., HttpResponse]


def open311_view(*methods: str) -> Callable[[View], View]:
    """Answer only ``methods`` (another is the spec's error list with 405 and ``Allow``; no
    ``methods``: any), an ``Open311Error`` or a workflow refusal as the spec's error list;
    check ``jurisdiction_id``; and throttle reads."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, fmt: str = JSON, **kwargs: Any) -> HttpResponse:
            try:
                if methods and request.method not in methods:
                    raise Open311Error(
                        405, _("此地址不接受 %(method)s 请求。") % {"method": request.method}
                    )
                _check_jurisdiction(request.POST if request.method == "POST" else request.GET)
                if request.method != "POST":
                    READ_RATE.check(rate_limit_key(client_ip(request)))
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                response = errors(fmt, error.status, *error.descriptions)
            except WorkflowError as error:  # a refusal of case_submit: 400 naming a field, 403
                described = [
                    f"{FIELD_NAMES.get(field, field)}: {message}"
                    for field, messages in error.fields.items()
                    for message in messages
                ]
                response = errors(fmt, error.status_code, *(described or [error.message]))
            if response.status_code == 429:
                response["Retry-After"] = "60"
            if response.status_code == 405:
                response["Allow"] = ", ".join(methods)
            return response

        return wrapped

    return decorate


def _check_jurisdiction(params: QueryDict) -> None:
    jurisdiction = params.get("jurisdiction_id", "").strip()
    if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION:
        raise Open311Error(
            400,
            _("jurisdiction_id: 本接口只服务 %(id)s。") % {"id": settings.OPEN311_JURISDICTION},
        )


@open311_view("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Where the endpoint is and what it speaks (the spec's service discovery)."""
    data = {
        "changeset": CHANGESET,
        "contact": _("西宁市12345政务服务便民热线"),
        "key_service": _(
            "向平台管理员申请接口密钥（manage.py open311_key），见 docs/open311.md。"
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                # The configured public address, not the Host header a request claims.
                "url": f"{settings.SITE_URL}/open311/v2/",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(data, fmt, root="discovery")


@open311_view("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every active category."""
    return render(reading.services(), fmt, root="services")


@open311_view("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    """One category's attributes."""
    return render(reading.service_definition(code), fmt, root="service_definition")


@csrf_exempt
@open311_view("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: the public list of requests; POST: file one (needs ``api_key``)."""
    if request.method == "POST":
        return _post(request, fmt)
    cases = reading.find_requests(request.GET.dict())
    return render(reading.represent(cases), fmt, root="service_requests")


def _post(request: HttpRequest, fmt: str) -> HttpResponse:
    try:
        guess = KEY_GUESSES.claim(subject=rate_limit_key(client_ip(request)))
    except Locked:
        raise Open311Error(429, _("错误的接口密钥太多，请稍后再试。")) from None
    client = keys.client_for_key(request.POST.get("api_key", "").strip())
    if client is None:
        guess.wrong()
        raise Open311Error(403, _("api_key: 缺少或无效的接口密钥（或已吊销）。"))
    guess.right()
    KEY_RATE.check(str(client.pk))
    keys.mark_used(client)
    case, created = intake.submit(client=client, data=request.POST)
    notice = _("将于 %(when)s 前受理。") % {"when": reading.w3c(case.accept_by)}
    answer = [
        {"service_request_id": case.tracking_code, "service_notice": notice, "account_id": None}
    ]
    # The same post again (a retry) answers its first case: 200, nothing new was made.
    return render(answer, fmt, root="service_requests", status=201 if created else 200)


@open311_view("GET")
def service_request(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    """One request by its id (the tracking code)."""
    case = reading.find_request(code)
    return render(reading.represent([case]), fmt, root="service_requests")


@open311_view("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """Every service is realtime, so a POST answers the id at once and issues no token; a
    client that asks anyway with the id it holds gets that id back."""
    case = reading.find_request(token)
    answer = [{"service_request_id": case.tracking_code, "token": token}]
    return render(answer, fmt, root="service_requests")


@csrf_exempt
@open311_view()
def not_found(request: HttpRequest, fmt: str = JSON, **kwargs: Any) -> HttpResponse:
    """Any other address under /open311/v2/: the spec's 404, not the site's HTML page."""
    raise Open311Error(404, _("没有这个接口地址。"))
