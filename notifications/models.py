"""The inbox (``Notification``) and the outbox (``OutboxMessage``).

Both tables were made by ``cases`` and keep their names (``Meta.db_table``): moving the models
to this app changed no row, and renaming two hot tables (millions of rows, written by every
transition) buys nothing but a lock at deploy time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .subjects import LABEL_LENGTH, Subject


class Notification(models.Model):
    """An in-app message (站内消息). ``kind`` and ``params`` are rendered in the reader's
    language when read (``notifications.messages``); ``key`` makes each message unique per user.

    ``subject`` is what the message is about (a case, a topic …, or nothing, as the daily
    digest): a generic reference, plus ``subject_label``, the text the inbox shows for it (a
    tracking code), copied when the message is written so the inbox never joins the subject's
    table (and never shows more than the label: no free text, see ``subjects``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # No index of its own: ``notification_subject`` leads with it.
    subject_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    subject_label = models.CharField(_("关于"), max_length=64, blank=True, default="")
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    key = models.CharField(max_length=96)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cases_notification"
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user")
        ]
        indexes = [
            # The inbox: one user's messages, newest first, a page at a time (the ordering).
            models.Index(fields=["user", "-created_at", "-id"], name="notification_newest"),
            # The badge and ``?unread=true``: only the unread rows, a small part of the table.
            models.Index(
                fields=["user", "-created_at"],
                name="notification_unread",
                condition=Q(read_at__isnull=True),
            ),
            # A subject's messages (``case.notifications``, and the cascade when it is deleted).
            models.Index(fields=["subject_type", "subject_id"], name="notification_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.key}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A message written one at a time (``objects.create(subject=case, …)``) gets its label
        # as the bulk writers' do (``subjects.subject_fields``).
        if self.subject_id is not None and not self.subject_label:
            subject = self.subject
            if isinstance(subject, Subject):
                self.subject_label = subject.notification_label()[:LABEL_LENGTH]
        super().save(*args, **kwargs)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    UNKNOWN = "unknown", _("结果未知")


class OutboxChannel(models.TextChoices):
    EMAIL = "email", "email"
    SMS = "sms", "sms"


class OutboxMessage(models.Model):
    """An email or SMS waiting to go out (transactional outbox).

    Written in the same transaction as the change it reports, so a message is never lost when
    the broker is down; a periodic task drains the table once it is back.

    ``pending`` → (claimed) ``sending`` → ``sent``; a refused send goes back to ``pending`` with
    a later ``next_attempt_at``, and to ``failed`` after the last attempt. ``unknown``: the send
    was started but its outcome never recorded (the worker stopped mid-send); the message may
    or may not have reached the phone, so it is left for an operator rather than sent again
    (see ``notifications.services.drain_outbox``).
    """

    channel = models.CharField(_("渠道"), max_length=8, choices=OutboxChannel.choices)
    recipient = models.CharField(max_length=254)
    kind = models.CharField(_("类型"), max_length=32)
    params = models.JSONField(default=dict, blank=True)
    # Unique: the same change never queues its message twice; also sent to the SMS gateway as
    # an idempotency key.
    key = models.CharField(max_length=128, unique=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"))
    # The lease of a ``sending`` row: its drain has until then to record the outcome.
    claimed_until = models.DateTimeField(_("发送租约到期"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        db_table = "cases_outboxmessage"
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        indexes = [
            # The drain's claim: the next due pending row (``ORDER BY next_attempt_at, id``).
            # Partial: the table is mostly ``sent`` rows kept for 90 days, the queue is small.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_due_pending",
                condition=Q(status=OutboxStatus.PENDING),
            ),
            # The leases that ran out (``_give_up_expired_leases``, at every drain).
            models.Index(
                fields=["claimed_until"],
                name="outbox_lease",
                condition=Q(status=OutboxStatus.SENDING),
            ),
            # The daily purge of sent messages past their retention.
            models.Index(
                fields=["sent_at"], name="outbox_sent", condition=Q(status=OutboxStatus.SENT)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} {self.status}"


class NotificationPreference(models.Model):
    """How a user wants one kind of message besides the inbox (站内消息, always on): by e-mail,
    by SMS. Without a row: e-mail where the user has an address, no SMS (``services.channels``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("类型"), max_length=32)
    email = models.BooleanField(_("邮件"), default=True)
    sms = models.BooleanField(_("短信"), default=False)

    class Meta:
        verbose_name = _("消息接收设置")
        verbose_name_plural = _("消息接收设置")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="preference_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}"
