"""What the case workflow says: message templates per event, in zh-hans and en (the English
lives in locale/), registered with ``notifications.messages``, which renders them.

A notification stores its ``kind`` and ``params``; the text is rendered when it is read (in the
reader's language) or sent (SMS and email in the site's language). This module is imported by
``NotificationsConfig.ready`` (it looks for a ``messages`` module in every app).

No template takes the complainant's name or phone: messages to staff name the case by its
tracking code only. Nor does any take text typed into a case (title, description, notes,
reply): an SMS or e-mail leaves the system for phones and mailboxes we do not control, so it
carries the code, the category, units and deadlines, and the reader opens the case where the
masking rule applies.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from notifications import messages as notifications_messages
from notifications import subjects

from .models import DeadlineKind

TEMPLATES: dict[str, tuple[Any, Any]] = {
    # to the complainant
    "case_accepted": (_("诉求已受理"), _("您反映的诉求（编号 %(code)s）已受理，我们将尽快办理。")),
    "case_dispatched": (
        _("诉求已派单"),
        _("您反映的诉求（编号 %(code)s）已交由%(unit)s办理。"),
    ),
    "case_replied": (
        _("诉求已办结"),
        _("您反映的诉求（编号 %(code)s）已办结答复，请对办理结果进行评价：%(url)s"),
    ),
    "case_closed": (_("诉求已归档"), _("您反映的诉求（编号 %(code)s）已归档，感谢您的反映。")),
    "case_merged": (
        _("诉求已合并办理"),
        _("您反映的诉求（编号 %(code)s）已并入诉求 %(main)s 一并办理，结果将一并告知您。"),
    ),
    "case_merged_replied": (
        _("合并办理的诉求已办结"),
        _("您反映的诉求（编号 %(code)s）已随诉求 %(main)s 办结答复，请查看办理结果：%(url)s"),
    ),
    # to staff
    "case_assigned": (
        _("新的派单"),
        _("新派单 %(code)s（%(category)s），请于 %(deadline)s 前签收。"),
    ),
    "return_approved": (
        _("退回申请已批准"),
        _("诉求 %(code)s 的退回申请已批准，该诉求将重新派单。"),
    ),
    "return_refused": (
        _("退回申请未获批准"),
        _("诉求 %(code)s 的退回申请未获批准，请继续办理；审批意见见诉求详情。"),
    ),
    "case_cohandle": (
        _("协办通知"),
        _("诉求 %(code)s（%(category)s）由%(unit)s牵头办理，请贵单位配合。"),
    ),
    "supervision_order": (
        _("督办通知"),
        _("诉求 %(code)s 已被督办，请于 %(deadline)s 前办结并答复。"),
    ),
    "reminder_warning": (
        _("即将超期"),
        _("诉求 %(code)s 的%(deadline_kind)s为 %(deadline)s，即将到期，请抓紧办理。"),
    ),
    "reminder_overdue": (
        _("已超期"),
        _("诉求 %(code)s 已超过%(deadline_kind)s（%(deadline)s），请立即办理。"),
    ),
    "escalation_leader": (
        _("超期升级：单位负责人督办"),
        _("诉求 %(code)s 超过%(deadline_kind)s（%(deadline)s）仍未办结，请单位负责人督促办理。"),
    ),
    "escalation_office": (
        _("超期升级：督查室督办"),
        _("诉求 %(code)s 超过%(deadline_kind)s（%(deadline)s）仍未办结，已提请%(office)s督办。"),
    ),
    "order_overdue": (
        _("督办件超期"),
        _("督办件 %(code)s 已超过督办期限（%(deadline)s）。"),
    ),
    "daily_digest": (
        _("每日提醒"),
        _("%(unit)s今日有 %(overdue)s 件超期、%(due_today)s 件今日到期的诉求。"),
    ),
    # 知识库: to the article's owner unit, once per review date (cases.knowledge.tell_reviews_due)
    "knowledge_review_due": (
        _("知识库文章待复核"),
        _(
            "知识库文章“%(question)s”已到复核日期（%(due)s），请核对答复是否仍然有效并更新复核日期。"
        ),
    ),
}


# Registered on import: ``deadline_kind`` is stored as the choice's value and shown as its label.
notifications_messages.register(
    TEMPLATES,
    formatters={"deadline_kind": lambda value: str(DeadlineKind(value).label)},
    staff=(
        "case_assigned",
        "case_cohandle",
        "supervision_order",
        "return_approved",
        "return_refused",
        "reminder_warning",
        "reminder_overdue",
        "escalation_leader",
        "escalation_office",
        "order_overdue",
        "daily_digest",
        "knowledge_review_due",
    ),
)
# An article's message opens the article in the admin, where its unit keeps it.
subjects.register_link(
    "cases",
    "knowledgearticle",
    lambda pk: reverse("admin:cases_knowledgearticle_change", args=[pk]),
)
