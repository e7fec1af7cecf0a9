"""日报/周报 pages: the list of published reports and one report, rendered on the server so that
it prints the same with or without scripts (like the 月通报); staff read them (``reports.
visible_reports``), the committee writes one on demand from the list."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from cases.pages import StaffPage

from . import reports
from .models import ReportKind


class ReportListPage(StaffPage):
    template_name = "topics/reports.html"
    texts = {"generated": _("报表已生成。")}
    PAGE_SIZE = 30

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        kind = self.request.GET.get("kind", "")
        found = reports.visible_reports(self.request.user)
        if kind in ReportKind.values:
            found = found.filter(kind=kind)
        page = Paginator(
            found.only("kind", "start", "end", "generated_at", "data"), self.PAGE_SIZE
        )
        context["page"] = page.get_page(self.request.GET.get("page"))
        context["kind"] = kind
        context["kinds"] = ReportKind.choices
        context["may_generate"] = reports.may_generate(self.request.user)
        context["dashboard_section"] = "reports"
        return context


class ReportPage(StaffPage):
    template_name = "topics/report.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        report = get_object_or_404(reports.visible_reports(self.request.user), pk=kwargs["pk"])
        context["report"] = report
        context["data"] = report.data
        context["columns"] = reports.COLUMNS
        context["dashboard_section"] = "reports"
        return context
