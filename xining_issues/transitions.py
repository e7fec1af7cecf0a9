"""The API's "one POST action per workflow transition", shared by cases and topics.

Each app binds ``transition_action`` to its workflow (``precheck``), the keyword its workflow
functions take the object by (``case=`` / ``topic=``), and the detail serializer it answers
with. The view judges the state (409) and the role (403) before the body (400), then calls the
workflow function, which checks everything again under the row lock.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

ERRORS = {
    400: OpenApiResponse(description="bad input"),
    403: OpenApiResponse(description="not your role, jurisdiction or unit"),
    404: OpenApiResponse(description="not visible to you"),
    409: OpenApiResponse(description="wrong state, or another user acted first"),
}


def transition_action(
    serializer_class: type[Serializer] | None,
    summary: str,
    call: Callable[..., Any],
    url_path: str,
    name: str,
    event: str,
    *,
    precheck: Callable[[Any, Any, str], None],
    subject: str,
    detail_serializer: type[Serializer],
) -> Any:
    """A detail POST action that validates ``serializer_class`` and calls one workflow function
    as ``call(<subject>=obj, actor=user, **validated)``; it answers with the view set's
    ``detail_response(pk)``. ``name`` must be the attribute the action is bound to (the router
    looks the handler up by it) and must not shadow a View method such as ``dispatch``."""

    def view(self: Any, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        precheck(request.user, obj, event)
        data: dict[str, Any] = {}
        if serializer_class is not None:
            # The view's context carries the request: input fields that resolve references
            # (a duplicate's tracking code) look them up only among what the actor may see.
            serializer = serializer_class(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        call(**{subject: obj}, actor=request.user, **data)
        return self.detail_response(obj.pk)

    view.__name__ = name
    view = action(detail=True, methods=["post"], url_path=url_path, url_name=url_path)(view)
    return extend_schema(
        summary=summary, request=serializer_class, responses={200: detail_serializer, **ERRORS}
    )(view)


def bind(
    precheck: Callable[[Any, Any, str], None], subject: str, detail_serializer: type[Serializer]
) -> Callable[..., Any]:
    """``transition_action`` for one app: ``transition(serializer, summary, call, url_path,
    name, event)``."""
    return partial(
        transition_action,
        precheck=precheck,
        subject=subject,
        detail_serializer=detail_serializer,
    )
