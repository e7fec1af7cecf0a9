"""消息设置: the page where staff choose, per kind of message, e-mail and SMS besides the inbox.

Like the other pages it holds no logic and changes no state: its script reads and saves the
choices through ``/api/v1/notifications/preferences/``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from org import jurisdiction


class PreferencesPage(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    template_name = "notifications/preferences.html"
    texts = {
        "loading": _("加载中…"),
        "network": _("网络连接失败，请稍后重试。"),
        "error": _("出错了，请稍后重试。"),
        "saved": _("已保存。"),
        "email_of": _("%(kind)s：邮件"),
        "sms_of": _("%(kind)s：短信"),
        "no_email": _("账号没有邮箱，邮件无法送达。"),
        "no_phone": _("账号没有手机号，短信无法送达。"),
    }

    def test_func(self) -> bool:
        """Staff only: residents hear of their own cases by SMS, which is not a preference."""
        return jurisdiction.is_staff(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["texts"] = {k: str(v) for k, v in self.texts.items()}
        return context
