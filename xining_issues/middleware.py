"""Middleware of the kernel: one error shape on the API, no NUL bytes in, security headers out."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.views import defaults

from .exceptions import error_response

API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A \u0000 escape in JSON (not an escaped backslash followed by "u0000"), or a raw NUL byte.
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")
# Features no page uses are switched off; geolocation stays for our own pages (a map pin may
# come). Only features Chromium knows: an unknown one is a console error on every page.
PERMISSIONS_POLICY = ", ".join(
    [
        "accelerometer=()",
        "camera=()",
        "geolocation=(self)",
        "gyroscope=()",
        "magnetometer=()",
        "microphone=()",
        "payment=()",
        "usb=()",
    ]
)

GetResponse = Callable[[HttpRequest], HttpResponse]


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _nul_fields(request: HttpRequest) -> dict[str, list[str]]:
    """The fields of the query string, form or JSON body that hold a NUL byte.

    PostgreSQL refuses NUL in text, so one that reached a query would be a 500; no field of
    ours has a use for it, so the request is refused whole, before any view reads it.
    """
    message = _("不能包含空字符（NUL）。")
    found: dict[str, list[str]] = {}

    def scan(data: QueryDict) -> None:
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                found[key.replace("\x00", "")] = [message]

    if "\x00" in request.path_info:
        found["path"] = [message]
    scan(request.GET)
    content_type = request.content_type or ""
    if request.method == "POST" and content_type in FORM_TYPES:
        scan(request.POST)
    elif content_type == "application/json":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # a malformed length is the parser's to refuse
        # Larger bodies are left to the parser, as before (reading them here would refuse them).
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > 0 and (limit is None or length <= limit) and JSON_NUL.search(request.body):
            found["body"] = [message]
    return found


class ApiErrorMiddleware:
    """Every error under ``/api/`` in the API's shape ``{"code", "message", "fields"}``, and
    every request with a NUL byte in a parameter refused with a 400.

    DRF's own errors are already JSON and pass untouched. The rest are Django's: an unknown URL
    (404), a CSRF refusal (403), an exception no view handled (500), a malformed upload (400);
    their HTML pages stay as they are for the pages, but an API client gets JSON.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path_info.startswith(API_PREFIX)
        try:
            fields = _nul_fields(request)
        except (BadRequest, SuspiciousOperation, MultiPartParserError):
            # Too many fields, a body over the limit, a multipart without its boundary: read
            # here first, so answered here in the API's shape (pages get Django's 400 below).
            if is_api:
                return error_response(status_code=400)
            fields = {}
        if fields:
            if is_api:
                return error_response(
                    status_code=400, message=_("请求中含有不允许的字符。"), fields=fields
                )
            return defaults.bad_request(request, ValueError("NUL byte in the request"))
        response = self.get_response(request)
        if is_api and response.status_code >= 400 and not _is_json(response):
            return self._as_json(response)
        return response

    @staticmethod
    def _as_json(response: HttpResponse) -> HttpResponse:
        converted = error_response(status_code=response.status_code)
        # Keep what the client needs to act on: Retry-After, Allow, WWW-Authenticate, cookies.
        for header, value in response.headers.items():
            if header.lower() not in {"content-type", "content-length"}:
                converted[header] = value
        converted.cookies = response.cookies
        return converted


class PermissionsPolicyMiddleware:
    """``Permissions-Policy`` on every answer (Django has no setting for it)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
