"""Message templates by kind, rendered in the reader's language.

A notification stores its ``kind`` and ``params``; the text is rendered when it is read (in the
reader's language) or sent (SMS and email in the site's language). The apps that send messages
register their templates here from their own ``messages`` module (``cases.messages``), found by
``NotificationsConfig.ready``; a parameter that needs the sender's vocabulary (a choice's label)
comes with a formatter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

# kind → (title, body), lazily translated; body has ``%(name)s`` placeholders.
TEMPLATES: dict[str, tuple[Any, Any]] = {}
# parameter name → how its stored value is shown (in the active language).
FORMATTERS: dict[str, Callable[[Any], str]] = {}
# The kinds staff receive (``services.notify_users``), in the order the preferences page lists
# them: each user chooses e-mail and SMS per kind. Messages to a complainant about their own
# case are not among them: that SMS is the mechanism's promise (告知), not a preference.
STAFF_KINDS: list[str] = []


def register(
    templates: Mapping[str, tuple[Any, Any]],
    *,
    formatters: Mapping[str, Callable[[Any], str]] | None = None,
    staff: Sequence[str] = (),
) -> None:
    """Add message kinds (and parameter formatters, and which kinds go to staff); a kind
    registered twice is a bug."""
    clash = {k for k, v in templates.items() if TEMPLATES.get(k, v) != v}
    if clash:
        raise ValueError(f"message kinds registered twice: {sorted(clash)}")
    unknown = set(staff) - set(templates)
    if unknown:
        raise ValueError(f"staff kinds without a template: {sorted(unknown)}")
    TEMPLATES.update(templates)
    FORMATTERS.update(formatters or {})
    STAFF_KINDS.extend(kind for kind in staff if kind not in STAFF_KINDS)


def _local(value: str) -> str:
    moment = dt.datetime.fromisoformat(value)
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M")


def render(kind: str, params: dict[str, Any], language: str | None = None) -> tuple[str, str]:
    """(title, body) of a message in ``language`` (the active one if None)."""
    title, body = TEMPLATES[kind]
    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        values = dict(params)
        if values.get("deadline"):
            values["deadline"] = _local(values["deadline"])
        for name, show in FORMATTERS.items():
            if name in values:
                values[name] = show(values[name])
        return str(title), str(body) % values
