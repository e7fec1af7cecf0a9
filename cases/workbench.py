"""The staff workbench pages: queues, the case page, phone quick entry, the inbox.

Like every page they only render a shell; the data and every action go through the REST API.
Each page gives its script the translated strings it needs (``texts``) and, where a template
builds a control from them, the choice lists of the models, so no label is written twice.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from org import jurisdiction
from org.models import Region, RegionLevel, Role, Unit

from . import knowledge
from .api.steps import STEPS
from .models import (
    Category,
    Channel,
    EventType,
    Outcome,
    Rating,
    RejectReason,
    Status,
    SupervisionLevel,
    Urgency,
)
from .pages import KNOWLEDGE_TEXTS, PLACE_TEXTS, ROUTER_TEXTS, StaffPage

# --- the queue tabs ------------------------------------------------------------------------------

# (queue name in selectors.queue_filters, tab label), in the order of the workflow.
QUEUE_TABS: list[tuple[str, Promise]] = [
    ("submitted", _("待受理")),
    ("accepted", _("待派单")),
    ("dispatched", _("待签收")),
    ("handling", _("办理中")),
    ("replied", _("待评价")),
    ("due_soon", _("即将超期")),
    ("overdue", _("已超期")),
    ("supervised", _("督办")),
]
# A handler works on dispatched cases: receiving and dispatching are not theirs.
HANDLER_TABS = {"dispatched", "handling", "replied", "due_soon", "overdue", "supervised"}
ALL_TABS = {name for name, _label in QUEUE_TABS}
TABS_BY_ROLE: dict[str, set[str]] = {
    Role.OPERATOR: ALL_TABS,
    Role.DISPATCHER: ALL_TABS,
    Role.SUPERVISOR: ALL_TABS,
    Role.COMMITTEE: ALL_TABS,
    Role.ADMIN: ALL_TABS,
    Role.HANDLER: HANDLER_TABS,
}
# Roles that may take a case in or turn it away (受理 / 不予受理), so may do it in bulk.
INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER)


def _choices(prefix: str, choices: list[tuple[Any, Any]]) -> dict[str, Any]:
    return {f"{prefix}.{value}": label for value, label in choices}


# Labels of the model choices, for scripts that show API values (status, channel …).
CHOICE_TEXTS: dict[str, Any] = {
    **_choices("status", Status.choices),
    **_choices("channel", Channel.choices),
    **_choices("urgency", Urgency.choices),
    **_choices("supervision", SupervisionLevel.choices),
    **_choices("outcome", Outcome.choices),
    **_choices("rating", Rating.choices),
    **_choices("reject_reason", RejectReason.choices),
    **_choices("event", EventType.choices),
    **_choices("duty_level", RegionLevel.choices),
    "contact.phone": _("电话"),
    "contact.visit": _("上门"),
    "contact.sms": _("短信"),
}

# Punctuation that differs between the languages, for lists and labels the scripts build.
PUNCTUATION_TEXTS: dict[str, Any] = {
    "sep": _("、"),
    "colon": _("："),
    "unit_label": _("%(name)s（%(region)s）"),
}

# Deadline countdown (green / yellow / red), shared by the queue and the case page.
DEADLINE_TEXTS: dict[str, Any] = {
    "due_left_days": _("剩余 %(d)s 天 %(h)s 小时"),
    "due_left_hours": _("剩余 %(h)s 小时 %(m)s 分"),
    "due_left_minutes": _("剩余 %(m)s 分钟"),
    "due_over_days": _("已超期 %(d)s 天 %(h)s 小时"),
    "due_over_hours": _("已超期 %(h)s 小时 %(m)s 分"),
    "due_ok": _("时限充足"),
    "due_soon": _("即将到期"),
    "due_late": _("已超期"),
}


class WorkbenchPage(StaffPage):
    """工作台: the work queues as tabs with counts, filters, paging and bulk 不予受理."""

    template_name = "workbench/queue.html"
    texts = {
        **CHOICE_TEXTS,
        **DEADLINE_TEXTS,
        **PUNCTUATION_TEXTS,
        "all_categories": _("全部分类"),
        "all_districts": _("全部区县"),
        "no_cases": _("这一栏暂时没有诉求。"),
        "select_case": _("选择 %(code)s"),
        "selected": _("已选 %(n)s 件"),
        "bulk_need_selection": _("请先勾选要处理的诉求。"),
        "bulk_need_code": _("请填写与之重复的诉求的受理编号。"),
        "bulk_rejected": _("%(code)s：已作为重复诉求不予受理。"),
        "bulk_accepted": _("%(code)s：已受理。"),
        "bulk_failed": _("%(code)s：未能处理（%(message)s）"),
        "bulk_summary": _("完成 %(ok)s 件，失败 %(failed)s 件。"),
        "bulk_working": _("正在处理…"),
        "page_info": _("第 %(n)s 页"),
        "unit_not_found": _("请从列表中选择承办单位。"),
        "no_deadline": _("无时限"),
        "untitled": _("（无标题）"),
        # 导出 (static/js/workbench-queue.js, stats.queue_export)
        "export_working": _("正在导出…"),
        "export_queued": _("导出任务已排队，行数较多，将在后台生成…"),
        "export_progress": _("正在后台生成文件：%(n)s%"),
        "export_saved": _("文件已生成并开始下载。"),
        "export_done": _("文件已生成（%(rows)s 行）："),
        "export_download": _("下载"),
        "export_failed": _("导出失败："),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        held = jurisdiction.roles_of(self.request.user)
        shown: set[str] = set()
        for role in held:
            shown |= TABS_BY_ROLE.get(role, set())
        context["queue_tabs"] = [(name, label) for name, label in QUEUE_TABS if name in shown]
        context["can_bulk_intake"] = bool(held & set(INTAKE_ROLES))
        units = knowledge.keeper_units(self.request.user)
        context["is_knowledge_keeper"] = units is None or bool(units)
        context["channels"] = Channel.choices
        return context


# --- the case page ------------------------------------------------------------------------------


class CasePage(StaffPage):
    """One case: every field, photos, the timeline, the deadline, and the allowed actions."""

    template_name = "workbench/case.html"
    texts = {
        **CHOICE_TEXTS,
        **DEADLINE_TEXTS,
        **PUNCTUATION_TEXTS,
        "not_found": _("找不到这件诉求，或您无权查看。"),
        "action_done": _("“%(action)s”已完成。"),
        "no_actions": _("您对这件诉求当前没有可执行的操作。"),
        "no_photos": _("没有照片或附件。"),
        "no_events": _("暂无办理记录。"),
        "yes": _("是"),
        "no": _("否"),
        "none": _("无"),
        "hidden_identity": _("诉求人要求对承办单位保密"),
        "open_file": _("打开 %(name)s"),
        "deadline.accept": _("受理时限"),
        "deadline.contact": _("响应时限"),
        "deadline.resolve": _("办结时限"),
        "supervision_prefix": _("督办等级："),
        "unit_not_found": _("请从列表中选择单位。"),
        "co_remove": _("移除 %(name)s"),
        "co_none": _("未选协办单位"),
        "suggestion_co": _("协办：%(units)s"),
        "suggestion_use": _("采用此建议"),
        "no_suggestions": _("权责清单中没有匹配的单位，请手动选择。"),
        **ROUTER_TEXTS,
        "learned_none": _("暂无同类诉求的满意办结记录。"),
        "suggest_current": _("（当前分类）"),
        **KNOWLEDGE_TEXTS,
        "learned_reason": _("同类诉求满意办结 %(n)s 件（占 %(share)s%）"),
        "no_duplicates": _("未发现可能重复的诉求。"),
        "choose_template": _("选择常用答复…"),
        "no_templates": _("没有适用的常用答复"),
        "pending_extension": _("申请延期至 %(until)s，理由：%(reason)s"),
        "no_pending_extension": _("没有找到待审批的延期申请。"),
        "keep_category": _("不改变（%(name)s）"),
        "choose_category": _("请选择分类"),
        # the timeline: labels of the event details
        "p.channel": _("渠道"),
        "p.category": _("分类"),
        "p.duty_level": _("办理层级"),
        "p.dispatch_region": _("派单层级"),
        "p.is_complex": _("复杂件"),
        "p.duplicate_of": _("重复于"),
        "p.into": _("合并到"),
        "merge_none": _("没有可合并到的诉求（同一社区同类或同一电话、尚未答复的诉求）。"),
        "merge_choose": _("请选择主诉求"),
        "p.note": _("备注"),
        "p.reason": _("原因"),
        "p.reply": _("答复"),
        "p.lead_unit": _("承办单位"),
        "p.co_units": _("协办单位"),
        "p.resolve_by": _("办结时限"),
        "p.unit": _("单位"),
        "p.escalated_to": _("上交至"),
        "p.text": _("内容"),
        "p.public": _("公开"),
        "p.method": _("方式"),
        "p.on_time": _("是否按时"),
        "p.until": _("延期至"),
        "p.approved": _("审批结果"),
        "p.outcome": _("办理结果"),
        "p.rating": _("评价"),
        "p.comment": _("评价意见"),
        "p.due_at": _("督办期限"),
        "p.from": _("原分类"),
        "p.to": _("新分类"),
        "p.unreasonable": _("不合理诉求"),
        "p.not_evaluated": _("超时未评价"),
        "on_time": _("按时"),
        "late": _("超时"),
        "approved": _("批准"),
        "refused": _("不批准"),
        "by_system": _("系统"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["actions"] = STEPS.dialogs()
        context["case_id"] = self.kwargs["pk"]
        context["urgencies"] = Urgency.choices
        context["reject_reasons"] = RejectReason.choices
        context["outcomes"] = Outcome.choices
        context["ratings"] = Rating.choices
        context["duty_levels"] = RegionLevel.choices
        context["contact_methods"] = [
            ("phone", CHOICE_TEXTS["contact.phone"]),
            ("visit", CHOICE_TEXTS["contact.visit"]),
            ("sms", CHOICE_TEXTS["contact.sms"]),
        ]
        return context


# --- phone quick entry -------------------------------------------------------------------------


class QuickEntryPage(StaffPage):
    """电话登记: an operator logs a call with the keyboard only, in under a minute."""

    template_name = "workbench/quick_entry.html"
    texts = {
        **PUNCTUATION_TEXTS,
        "category_unknown": _("没有这个分类，请从列表中选择。"),
        "category_ambiguous": _("匹配到多个分类，请继续输入或从列表中选择。"),
        "region_unknown": _("没有这个社区或村，请从列表中选择。"),
        "region_ambiguous": _("匹配到多个社区或村，请继续输入或从列表中选择。"),
        "chosen": _("已选：%(name)s"),
        "created": _("已登记，受理编号 %(code)s"),
        "open_case": _("查看 %(code)s"),
        "saving": _("正在登记…"),
        **PLACE_TEXTS,
        "place_district_filter": _("社区列表只列出%(district)s的社区。"),
        # 可能重复: open cases like the call being typed (cases.similar)
        "similar_idle": _("输入分类和社区、电话或诉求内容后，这里列出近 30 天的相似在办诉求。"),
        "similar_none": _("近 30 天内没有相似的在办诉求。"),
        "similar_found": _("近 30 天内有 %(n)s 件相似的在办诉求，请核对是否为同一事项："),
        "similar_error": _("暂时无法查找相似诉求。"),
        **ROUTER_TEXTS,
        "suggest_keys": _("Alt+1、Alt+2、Alt+3 选择建议的分类"),
        **KNOWLEDGE_TEXTS,
        "resolved": _("已登记并即时办结，受理编号 %(code)s"),
        "resolve_failed": _("已登记 %(code)s，但即时办结未成功：%(message)s 请在诉求页面办结。"),
    }

    def test_func(self) -> bool:
        return jurisdiction.has_role(self.request.user, Role.OPERATOR)


# --- the inbox ----------------------------------------------------------------------------------


class InboxPage(StaffPage):
    """消息: the signed-in user's notifications, filled from the notifications API."""

    template_name = "workbench/inbox.html"
    texts = {
        "unread": _("%(n)s 条未读"),
    }


# --- 知识库维护: a unit's own articles ---------------------------------------------------------


class KnowledgeKeepPage(StaffPage):
    """知识库维护: the articles of the units the user keeps (``cases.knowledge.kept_by``), in
    force or not, with a form to write a new one or change one (each change a version kept)."""

    template_name = "workbench/knowledge.html"
    texts = {
        "in_force": _("有效"),
        "not_in_force": _("不在有效期内"),
        "public": _("公开"),
        "internal": _("仅内部"),
        "edit": _("修改"),
        "edit_of": _("修改：%(question)s"),
        "new_article": _("新增条目"),
        "editing": _("修改条目"),
        "saved_new": _("已新增：%(question)s"),
        "saved": _("已保存：%(question)s（第 %(n)s 版）"),
        "no_articles": _("您所在单位还没有知识库条目。"),
        "more": _("加载更多"),
        "valid_range": _("%(from)s 起"),
        "valid_range_until": _("%(from)s 至 %(until)s"),
        "versions": _("%(n)s 版"),
    }

    def test_func(self) -> bool:
        units = knowledge.keeper_units(self.request.user)
        return units is None or bool(units)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        units = knowledge.keeper_units(self.request.user)
        keepers = Unit.objects.all() if units is None else Unit.objects.filter(pk__in=units)
        context["units"] = keepers.order_by("name").only("pk", "name")
        # The matters grouped under their top-level matter (each selectable too).
        active = list(Category.objects.filter(is_active=True).order_by("pk"))
        children: dict[int, list[Category]] = {}
        for category in active:
            if category.parent_id is not None:
                children.setdefault(category.parent_id, []).append(category)
        context["category_groups"] = [
            (top, children.get(top.pk, [])) for top in active if top.parent_id is None
        ]
        context["regions"] = Region.objects.filter(
            level__in=(RegionLevel.DISTRICT, RegionLevel.STREET)
        ).order_by("path")
        return context
