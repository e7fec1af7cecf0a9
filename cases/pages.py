"""The pages (Django templates). They hold no business logic and change no state: every page
loads its data from the REST API with fetch and acts through the API's transition endpoints.

Each view gives its template ``texts``: the translated strings its script needs, rendered as
JSON (#xn-text) so that scripts hold no user-facing text of their own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from org import jurisdiction
from org.models import Role

COMMON_TEXTS = {
    "network": _("网络连接失败，请稍后重试。"),
    "loading": _("加载中…"),
    "empty": _("暂无数据"),
    "error": _("出错了，请稍后重试。"),
}


class Page(TemplateView):
    texts: dict[str, Any] = {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["texts"] = {k: str(v) for k, v in {**COMMON_TEXTS, **self.texts}.items()}
        context["roles"] = sorted(jurisdiction.roles_of(self.request.user))
        return context


class StaffPage(LoginRequiredMixin, UserPassesTestMixin, Page):
    """Pages for people with a staff role (the workbench); residents are sent home."""

    def test_func(self) -> bool:
        return bool(jurisdiction.roles_of(self.request.user) - {Role.RESIDENT})


class SubmitPage(Page):
    template_name = "cases/submit.html"


class SubmitDonePage(Page):
    template_name = "cases/submit_done.html"


class TrackPage(Page):
    template_name = "cases/track.html"


class RegisterPage(Page):
    template_name = "registration/register.html"


class MyCasesPage(LoginRequiredMixin, Page):
    template_name = "cases/my_cases.html"
