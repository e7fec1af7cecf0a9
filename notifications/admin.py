"""Admin of the outbox: read-only, with the operator's retry."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from xining_issues.admin import ReadOnlyAdmin
from xining_issues.privacy import mask_phone

from . import services
from .models import OutboxChannel, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """The emails and SMS the outbox sends: find the failed and unknown ones, retry them.

    Read-only: the drain alone moves a message along, except for the operator's retry. The
    recipient's phone number is shown masked (like the complainant's, kept out of the case
    admin); the message key is what to look up in the gateway's delivery report.
    """

    list_display = (
        "created_at", "channel", "kind", "masked_recipient", "status", "attempts",
        "next_attempt_at", "sent_at", "last_error",
    )  # fmt: skip
    list_filter = ("status", "channel", "kind")
    search_fields = ("key",)
    date_hierarchy = "created_at"
    fields = (
        "key", "channel", "kind", "masked_recipient", "params", "status", "attempts",
        "next_attempt_at", "claimed_until", "last_error", "created_at", "sent_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ["retry_messages"]

    @admin.display(description=_("接收人"))
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return mask_phone(obj.recipient) if obj.channel == OutboxChannel.SMS else obj.recipient

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_outboxmessage")

    @admin.action(permissions=["retry"], description=_("重新发送所选的失败或结果未知的消息"))
    def retry_messages(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        # An unknown message may have reached the phone already: the operator retries it only
        # after checking the gateway's delivery report (the message key is its Idempotency-Key).
        count = services.outbox_retry(ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext("%(count)d 条消息已重新排队发送。", "%(count)d 条消息已重新排队发送。", count)
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                gettext("%(count)d 条消息未处理：只有发送失败或结果未知的消息可以重新发送。")
                % {"count": skipped},
                messages.WARNING,
            )
