"""What a message may be about: any model that can name itself in an inbox.

The subject of a ``Notification`` is stored as a generic reference (content type and id) and
a label copied at writing time. The model says how it is labelled by implementing ``Subject``
(``Case`` shows its tracking code); this app never imports the models it is told about.

A label must be safe for whoever gets the message: no personal information and no text typed
into the subject (the same rule as the message templates), because the inbox shows it as is.
Who may see the subject itself is decided where the reader opens it (the case or topic pages
with their own permission rules), not here: a message only names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from django.contrib.contenttypes.models import ContentType
from django.db import models

# ``Notification.subject_label``'s length.
LABEL_LENGTH = 64


@runtime_checkable
class Subject(Protocol):
    """A model instance a message can be about."""

    pk: Any

    def notification_label(self) -> str:
        """The short text the inbox shows for this subject (a tracking code, a topic number)."""
        ...


def subject_fields(subject: Subject | None) -> dict[str, Any]:
    """The ``Notification`` columns (attnames) that point at ``subject``: for ``bulk_create``
    and ``objects.create`` alike."""
    if subject is None:
        return {"subject_type_id": None, "subject_id": None, "subject_label": ""}
    if not isinstance(subject, models.Model):
        raise TypeError(f"a notification's subject must be a model instance, not {subject!r}")
    return subject_columns(type(subject), subject.pk, subject.notification_label())


def subject_columns(model: type[models.Model], pk: int, label: str) -> dict[str, Any]:
    """The same columns from a model class, a primary key and the label, for writers that
    read bare values instead of instances (the supervision scan's plain INSERTs, at volume);
    ``label`` must be what the model's ``notification_label`` would say."""
    return {
        # get_for_model is cached per process: no query per message.
        "subject_type_id": ContentType.objects.get_for_model(model).pk,
        "subject_id": pk,
        "subject_label": label[:LABEL_LENGTH],
    }


# (app label, model name) → the page a reader opens a message's subject on, from its id. Each
# app registers its subjects' pages from its ``messages`` module (``register_link``); a subject
# without one is named in the inbox, not linked.
LINKS: dict[tuple[str, str], Callable[[int], str]] = {}


def register_link(app_label: str, model: str, url: Callable[[int], str]) -> None:
    LINKS[(app_label, model)] = url


def subject_url(subject_type_id: int | None, subject_id: int | None) -> str | None:
    """The page of a stored subject, or None (no subject, or no page registered for it)."""
    if subject_type_id is None or subject_id is None:
        return None
    # get_for_id is cached per process: no query per message.
    subject_type = ContentType.objects.get_for_id(subject_type_id)
    url = LINKS.get((subject_type.app_label, subject_type.model))
    return url(subject_id) if url else None
