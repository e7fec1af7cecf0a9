"""One error shape for the whole API: ``{"code", "message", "fields"}``.

400 bad input, 401/403 not signed in / not your role or jurisdiction, 404 not visible to you,
409 wrong state or lost a race, 429 too many requests (or too many wrong guesses), 500 our fault.
DRF's errors pass through ``api_exception_handler``; the rest (an unknown URL, a CSRF refusal,
an unhandled exception) are put in the same shape by ``xining_issues.middleware``.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .errors import WorkflowError

CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "server_error",
    status.HTTP_503_SERVICE_UNAVAILABLE: "unavailable",
}

# Plain words for errors that did not come with a message of their own.
MESSAGES = {
    status.HTTP_400_BAD_REQUEST: gettext_lazy("请求无效，请检查后重试。"),
    status.HTTP_403_FORBIDDEN: gettext_lazy("没有权限执行此操作。"),
    status.HTTP_404_NOT_FOUND: gettext_lazy("找不到请求的地址或数据。"),
    status.HTTP_405_METHOD_NOT_ALLOWED: gettext_lazy("不支持这种请求方式。"),
    status.HTTP_429_TOO_MANY_REQUESTS: gettext_lazy("请求太频繁，请稍后再试。"),
    status.HTTP_500_INTERNAL_SERVER_ERROR: gettext_lazy("服务器出错了，请稍后再试。"),
    status.HTTP_503_SERVICE_UNAVAILABLE: gettext_lazy("服务暂时不可用，请稍后再试。"),
}


def error_response(
    *,
    status_code: int,
    code: str | None = None,
    message: str | None = None,
    fields: dict[str, list[str]] | None = None,
) -> JsonResponse:
    """An API error in the one shape, for code outside DRF (middleware, plain Django views)."""
    return JsonResponse(
        {
            "code": code or CODES.get(status_code, "error"),
            "message": str(message or MESSAGES.get(status_code, _("请求失败。"))),
            "fields": fields or {},
        },
        status=status_code,
        json_dumps_params={"ensure_ascii": False},
    )


def _messages(value: Any) -> list[str]:
    """A field's messages as plain text: a list field's errors come keyed by position and a
    nested serializer's by its own fields (``{0: [ErrorDetail(…)]}``), never shown as such."""
    if isinstance(value, dict):
        return [m for inner in value.values() for m in _messages(inner)]
    if isinstance(value, list):
        return [m for inner in value for m in _messages(inner)]
    return [str(value)]


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    return {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, WorkflowError):
        return Response(
            {"code": exc.code, "message": exc.message, "fields": exc.fields},
            status=exc.status_code,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # 403 with session auth, 401 with a token: either way the fix is to sign in.
        code = "not_authenticated"
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(exc.detail, list):
            fields = {"non_field_errors": [str(m) for m in exc.detail]}
        message = _("请检查填写的内容。")
    else:
        fields = {}
        detail = getattr(exc, "detail", "")
        message = str(detail) if detail else response.status_text
    response.data = {"code": code, "message": message, "fields": fields}
    return response
