"""The staff workbench pages: queues, the case page, phone quick entry, the inbox.

Like every page they only render a shell; the data and every action go through the REST API.
"""

from __future__ import annotations

from org import jurisdiction
from org.models import Role

from .pages import StaffPage


class WorkbenchPage(StaffPage):
    template_name = "workbench/queue.html"


class CasePage(StaffPage):
    template_name = "workbench/case.html"


class QuickEntryPage(StaffPage):
    template_name = "workbench/quick_entry.html"

    def test_func(self) -> bool:
        return jurisdiction.has_role(self.request.user, Role.OPERATOR)


class InboxPage(StaffPage):
    template_name = "workbench/inbox.html"
