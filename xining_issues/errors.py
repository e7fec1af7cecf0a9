"""Errors the workflow kernel and every app's services raise; ``xining_issues.exceptions``
turns each into the API's one shape, ``{"code", "message", "fields"}``.

They live in the kernel, not in an app, because every app raises them and the kernel's error
handler must not import an app. A refused action raises before anything is written, inside the
transaction, so it changes nothing and records no event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class WorkflowError(Exception):
    status_code = 400
    code = "invalid"

    # Messages may be lazy translations (gettext_lazy): both are turned into str right here.
    def __init__(
        self,
        message: str | Promise,
        *,
        fields: Mapping[str, Sequence[str | Promise]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.fields = {name: [str(m) for m in msgs] for name, msgs in (fields or {}).items()}


class InvalidInput(WorkflowError):
    """400: the request is malformed or a field is wrong."""


class NotAllowed(WorkflowError):
    """403: not this user's role or jurisdiction."""

    status_code = 403
    code = "forbidden"


class WrongState(WorkflowError):
    """409: the case is not in a state that allows this, or another user got there first."""

    status_code = 409
    code = "conflict"


def invalid(field: str, message: str | Promise) -> InvalidInput:
    return InvalidInput(str(_("请检查填写的内容。")), fields={field: [message]})
