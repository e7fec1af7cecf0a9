"""One registry entry per transition: what the outside sees of a workflow's steps.

The workflow kernel (``workflow.py``) says who may take a step and what it changes. This module
says how the step reaches people, once per step, in one ``Action``: the API route and its input
serializer, the workbench's button and dialog, and what the complainant's tracking page says
when it happened. An app lists its actions in one ``Steps`` for its ``Workflow``; everything
else is derived:

- the view set's POST route ``/<subject>/{id}/<path>/`` (``Steps.routes``), which judges state
  (409) and role (403) before the body (400), then calls the workflow function as
  ``call(<subject>=obj, actor=user, **validated_input)``, which checks everything again under
  the row lock;
- the OpenAPI operation (summary, request, the detail answer and the error answers);
- the staff page's buttons and dialogs (``Steps.dialogs``; each dialog's fields are the template
  ``<dialogs>/action_<event>.html``);
- the tracking page's texts (``Steps.tracking_texts``);
- the rows of the permission table (its tests iterate over ``Steps``, so a new step without an
  expected answer fails there).

``Steps`` refuses, at import, a workflow table and a registry that disagree: a transition
without an entry, or an entry without a transition, never reaches a user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from .workflow import Workflow

ERRORS = {
    400: OpenApiResponse(description="bad input"),
    403: OpenApiResponse(description="not your role, jurisdiction or unit"),
    404: OpenApiResponse(description="not visible to you"),
    409: OpenApiResponse(description="wrong state, or another user acted first"),
}

Text = str | Promise


@dataclass(frozen=True, kw_only=True)
class Action:
    """One transition as users and clients meet it.

    ``event`` is the key of the workflow's transition table (and the event a success writes);
    the route's path is ``url``, by default the event with ``-`` for ``_``. ``input`` validates
    the request body (None: the step takes none). ``files`` names the multipart field whose
    uploaded files the function takes as that keyword (the step then accepts multipart bodies
    as well as JSON); ``content`` lists the only media types a body may have, where that is not
    the view set's parsers (an upload). A step answers with the object's detail, or, where it
    adds a nested record (a topic's task), 201 with that record in ``created``. ``route=False``
    marks a step whose route the view set writes by hand because its URL names a nested object
    (``tasks/{id}/``); it still has its entry, so its row and label exist. ``submit`` is the
    dialog's submit label: a step without one has no workbench dialog. ``tracking`` is what the
    complainant reads on the tracking page when the step happened (None: nothing)."""

    event: str
    call: Callable[..., Any]
    input: type[Serializer] | None
    summary: str
    label: Text
    url: str = ""
    files: str | None = None
    content: tuple[str, ...] = ()
    created: type[Serializer] | None = None
    route: bool = True
    submit: Text | None = None
    style: str = "outline-primary"
    size: str = ""
    tracking: Text | None = None

    @property
    def path(self) -> str:
        return self.url or self.event.replace("_", "-")

    @property
    def attribute(self) -> str:
        """The view set attribute of the route: prefixed, so no step can shadow a View method
        (``dispatch``) or be a keyword (``return``)."""
        return f"step_{self.event}"


@dataclass(frozen=True, kw_only=True)
class Steps:
    """An app's actions for its ``workflow``, in the order its page shows the buttons.

    ``subject`` is the keyword the workflow functions take the object by (``case``), ``detail``
    the serializer a step answers with (the view set's ``detail_response(pk)`` renders it), and
    ``dialogs_folder`` the folder of the dialog templates."""

    workflow: Workflow[Any, Any]
    subject: str
    detail: type[Serializer]
    actions: tuple[Action, ...]
    dialogs_folder: str = ""
    by_event: dict[str, Action] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        events = [str(a.event) for a in self.actions]
        table = {str(event) for event in self.workflow.table}
        repeated = sorted({e for e in events if events.count(e) > 1})
        missing = sorted(table - set(events))
        unknown = sorted(set(events) - table)
        if repeated or missing or unknown:
            raise ImproperlyConfigured(
                f"{self.workflow.model.__name__} steps disagree with the transition table: "
                f"repeated {repeated}, without an entry {missing}, not in the table {unknown}"
            )
        object.__setattr__(self, "by_event", {str(a.event): a for a in self.actions})

    def __iter__(self) -> Iterator[Action]:
        return iter(self.actions)

    def __getitem__(self, event: str) -> Action:
        return self.by_event[str(event)]

    # --- the API ---------------------------------------------------------------------------

    def routes(self, viewset: type[Any]) -> type[Any]:
        """Class decorator: add one POST route per step (``route=True``) to ``viewset``."""
        for step in self.actions:
            if step.route:
                setattr(viewset, step.attribute, self._view(step))
        return viewset

    def _view(self, step: Action) -> Any:
        precheck, subject = self.workflow.precheck, self.subject

        def view(self: Any, request: Request, pk: str | None = None) -> Response:
            obj = self.get_object()
            precheck(request.user, obj, step.event)
            data: dict[str, Any] = {}
            if step.input is not None:
                # The view's context carries the request: input fields that resolve references
                # (a duplicate's tracking code) look them up only among what the actor may see.
                serializer = step.input(data=request.data, context=self.get_serializer_context())
                serializer.is_valid(raise_exception=True)
                data = dict(serializer.validated_data)
            if step.files is not None:
                data[step.files] = request.FILES.getlist(step.files) or data.get(step.files, [])
            result = step.call(**{subject: obj}, actor=request.user, **data)
            if step.created is not None:
                return Response(step.created(result).data, status.HTTP_201_CREATED)
            return self.detail_response(obj.pk)

        view.__name__ = step.attribute
        routed = action(detail=True, methods=["post"], url_path=step.path, url_name=step.path)(
            view
        )
        body: Any = step.input
        content = step.content or (
            ("multipart/form-data", "application/json") if step.files is not None else ()
        )
        if content:
            body = dict.fromkeys(content, step.input)
        answer = {201: step.created} if step.created is not None else {200: self.detail}
        return extend_schema(summary=step.summary, request=body, responses={**answer, **ERRORS})(
            routed
        )

    # --- the pages -------------------------------------------------------------------------

    def dialogs(self) -> list[Dialog]:
        """The staff page's buttons and dialogs, in the registry's order."""
        return [
            Dialog(
                name=str(step.event),
                path=step.path,
                title=step.label,
                submit=step.submit,
                style=step.style,
                size=step.size,
                form=f"{self.dialogs_folder}/action_{step.event}.html",
            )
            for step in self.actions
            if step.submit is not None
        ]

    def tracking_texts(self) -> dict[str, Text]:
        """``event_<event>`` → what the tracking page says for a step the public sees."""
        return {f"event_{s.event}": s.tracking for s in self.actions if s.tracking is not None}


@dataclass(frozen=True)
class Dialog:
    """What a page template needs to draw one step's button and dialog: ``name`` is what
    ``allowed_actions`` returns, ``path`` the route under the object, ``form`` the template of
    the dialog's fields."""

    name: str
    path: str
    title: Text
    submit: Text
    style: str
    size: str
    form: str
