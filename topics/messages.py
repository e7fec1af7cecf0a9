"""What the 每月一题 side says to staff: message templates registered with
``notifications.messages`` (found by ``NotificationsConfig.ready``), and the topic page as the
place a topic's message opens.

Unlike a case's messages, these name the topic and its task by their titles: they are the
committee's and the units' words about a public matter (the bulletin prints them), not a
resident's, and a reader needs them to know which of a unit's topics is meant.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from notifications import messages as notifications_messages
from notifications import subjects

TEMPLATES: dict[str, tuple[Any, Any]] = {
    # to the standing committee
    "topic_proposed": (
        _("新的候选题目"),
        _("候选题目“%(title)s”（%(month)s）已提出，请常委会研究确定。"),
    ),
    # to the lead unit (and the unit that owns the task)
    "topic_task_late": (
        _("题目任务逾期"),
        _("“%(title)s”的任务“%(task)s”已超过完成时限（%(due)s），请抓紧推进并在周调度中说明。"),
    ),
    "topic_report_due": (
        _("周调度待填报"),
        _("“%(title)s”本周（%(week)s 起）的周调度尚未填报，请于本周内填报。"),
    ),
}

notifications_messages.register(TEMPLATES, staff=tuple(TEMPLATES))
subjects.register_link("topics", "topic", lambda pk: reverse("dashboard-topic", args=[pk]))
