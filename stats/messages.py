"""What 报 says to staff: the message that a 日报 or 周报 is out, registered with
``notifications.messages``, and the report's page as where the message opens."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from notifications import messages as notifications_messages
from notifications import subjects

from .models import ReportKind

TEMPLATES: dict[str, tuple[Any, Any]] = {
    "case_report": (
        _("诉求办理日报/周报"),
        _("%(report)s（%(from)s 至 %(to)s）已发布：新增 %(created)s 件，超期 %(overdue)s 件。"),
    ),
}

notifications_messages.register(
    TEMPLATES,
    formatters={"report": lambda value: str(ReportKind(value).label)},
    staff=tuple(TEMPLATES),
)
subjects.register_link("stats", "casereport", lambda pk: reverse("dashboard-report", args=[pk]))
