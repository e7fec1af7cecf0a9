"""The committee's 每月一题 pages (看板): the topic board, the work plan and a topic's page.

The pages hold no figures of their own: their scripts load them from the topic API (see
``topics.api``). The overview, the 未诉先办 candidates and the bulletin page are 报's
(``stats.pages``); they reuse ``CommitteePage`` and the chart texts from here.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from cases.pages import StaffPage
from org import jurisdiction
from org.models import Role

from . import selectors
from .api.steps import STEPS
from .models import TaskStatus, TopicStatus, TopicTheme

DASHBOARD_ROLES = (Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN)

CHART_TEXTS = {
    "table_view": _("数据表"),
    "no_data": _("所选范围内暂无数据。"),
    "export": _("导出 Excel"),
    "percent": _("%(n)s%"),
    "none": _("—"),
}


class CommitteePage(StaffPage):
    """Pages for the committee, supervisors and administrators; others get 403."""

    def test_func(self) -> bool:
        user = self.request.user
        return bool(user.is_superuser or jurisdiction.has_role(user, *DASHBOARD_ROLES))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["dashboard_section"] = self.section
        return context

    section = ""


def choice_texts(prefix: str, choices: list[tuple[str, Any]]) -> dict[str, Any]:
    """The labels of ``choices`` as page texts named ``<prefix>_<value>``."""
    return {f"{prefix}_{value}": label for value, label in choices}


class TopicBoardPage(CommitteePage):
    """每月一题: each topic's progress, indicators with their history and latest 周调度. Staff
    of a lead or cooperating unit see the board too, with their own topics (the API scopes)."""

    template_name = "topics/board.html"
    section = "topics"

    def test_func(self) -> bool:
        return super().test_func() or selectors.visible_topics(self.request.user).exists()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # 生成本月草稿: the committee and admins draft the month's 月通报 now (the bulletins API).
        context["may_draft_bulletin"] = jurisdiction.has_role(
            self.request.user, Role.COMMITTEE, Role.ADMIN
        )
        return context

    texts = {
        **CHART_TEXTS,
        **choice_texts("status", TopicStatus.choices),
        **choice_texts("theme", TopicTheme.choices),
        **choice_texts("task", TaskStatus.choices),
        "lead_unit": _("牵头单位"),
        "cooperating": _("配合单位"),
        "leader": _("包案领导"),
        "month": _("所属月份"),
        "target_date": _("目标日期"),
        "progress": _("任务进度"),
        "topic_progress": _("任务完成 %(done)s / %(total)s"),
        "indicators": _("指标（完成 / 目标）"),
        "indicator": _("指标"),
        "actual_target": _("完成 / 目标"),
        "history": _("历史"),
        "date": _("日期"),
        "value": _("数值"),
        "history_chart": _("%(name)s的历史数值：%(summary)s"),
        "no_indicators": _("暂无指标。"),
        "latest_report": _("最新周调度"),
        "week_of": _("%(week)s 当周"),
        "done": _("已完成"),
        "problems": _("存在问题"),
        "next_steps": _("下步打算"),
        "no_report": _("暂无周调度记录。"),
        "no_topics": _("暂无题目。"),
        "board_count": _("显示 %(n)s / %(total)s 个题目"),
        "bulletins": _("月通报"),
        "no_bulletins": _("暂无月通报。"),
        "bulletin_draft": _("草稿"),
        "bulletin_published": _("已发布"),
    }


class PlanPage(CommitteePage):
    """工作计划安排表: the year's tasks as bars from start to deadline (挂图作战)."""

    template_name = "topics/plan.html"
    section = "plan"
    texts = {
        **CHART_TEXTS,
        **choice_texts("task", TaskStatus.choices),
        "month_n": _("%(n)s月"),
        "overdue": _("已逾期"),
        "task_bar": _("%(title)s：%(start)s 至 %(deadline)s，%(status)s，进度 %(progress)s%"),
        "no_plan": _("该年度没有已确定的题目。"),
        "no_start": _("未定"),
        "bad_year": _("请填写正确的年份。"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["months"] = range(1, 13)
        return context


class TopicPage(StaffPage):
    """One topic's page (题目详情): its tasks with their deadlines, the weekly reports, the
    indicators and the documents; forms for what the user may do now (the topic API's
    ``allowed_actions``): the lead unit's tasks, 周调度 and readings, a supervisor's 督办 on a late
    task, the committee's 常委会确定 / 结转 / 销号."""

    template_name = "topics/topic.html"
    texts = {
        **CHART_TEXTS,
        **choice_texts("status", TopicStatus.choices),
        **choice_texts("theme", TopicTheme.choices),
        **choice_texts("task", TaskStatus.choices),
        "overdue": _("已逾期"),
        "supervised": _("已督办 %(n)s 次"),
        "supervise": _("督办"),
        "supervise_note": _("督办意见"),
        "save": _("保存"),
        "record": _("记录"),
        "no_tasks": _("暂无任务。"),
        "no_reports": _("暂无周调度记录。"),
        "no_indicators": _("暂无指标。"),
        "no_documents": _("暂无文件。"),
        "week_of": _("%(week)s 当周"),
        "done": _("已完成"),
        "problems": _("存在问题"),
        "next_steps": _("下步打算"),
        "saved": _("已保存。"),
        "unit_not_found": _("请从列表中选择责任单位。"),
        "unit_label": _("%(name)s（%(region)s）"),
        "progress_of": _("%(title)s的进度"),
        "status_of": _("%(title)s的状态"),
        "value_of": _("%(name)s的新数值"),
        "date_of": _("%(name)s的日期"),
        "note_of": _("对%(title)s的督办意见"),
        "cases_n": _("%(n)s 件"),
        "month": _("所属月份"),
        "target_date": _("目标日期"),
        "lead_unit": _("牵头单位"),
        "leader": _("包案领导"),
        "cooperating": _("配合单位"),
        "linked_cases": _("关联诉求"),
        "problem": _("问题描述"),
        "goals": _("工作目标"),
        "closing_summary": _("销号说明"),
        "progress": _("任务进度"),
        "topic_progress": _("任务完成 %(done)s / %(total)s"),
        "month_required": _("请选择月份（格式 YYYY-MM）。"),
        "workdays": _("工期"),
        "workdays_n": _("%(n)s 个工作日"),
        "workdays_of": _("%(title)s的工期（工作日）"),
        "plan_none": _("没有填写工期的未完成任务：为任务填写工期（工作日）后即可倒排。"),
        "plan_no_target": _("题目没有目标日期，无法倒排工期。"),
        "plan_too_late": _(
            "按现有工期倒排，首项任务须在 %(start)s 开始，已早于今天：请压缩工期或调整目标日期。"
        ),
        "plan_changes": _("将调整"),
        "plan_same": _("无需调整"),
        "plan_unplanned": _("未填工期、不参与倒排：%(titles)s"),
        # 成效 (stats.effect, the API's verdicts)
        "verdict_fell": _("成效明显：诉求量下降，超出季节性变化。"),
        "verdict_rose": _("诉求量明显上升，超出季节性变化。"),
        "verdict_unclear": _("变化不显著：诉求量的变化未超出季节性变化。"),
        "verdict_too_early": _("确定不足两周，暂无法评估成效。"),
        "verdict_insufficient": _("相关诉求或参照数据太少，无法评估成效。"),
        "verdict_not_adopted": _("尚未经常委会确定，确定后开始评估成效。"),
        "verdict_no_area": _("题目未关联分类或诉求，无法评估成效。"),
        "verdict_detail": _(
            "%(verdict)s 每周诉求量 %(change)s；%(reference)s %(reference_change)s；"
            "成效比 %(ratio)s（%(level)s 置信区间 %(low)s–%(high)s）。"
        ),
        "change": _("%(n)s%"),
        "reference_last_year": _("去年同期"),
        "reference_elsewhere": _("全市其他区域同期"),
        "effect_area": _(
            "统计范围：%(categories)s；%(regions)s；确定前 %(weeks)s 周与确定以来对比。"
        ),
        "citywide": _("全市"),
        "before": _("确定前"),
        "since": _("确定以来"),
        "effect_chart": _(
            "每周诉求量：确定前平均每周 %(before)s 件，"
            "确定以来平均每周 %(since)s 件，共 %(weeks)s 周。"
        ),
        "window": _("时段"),
        "received": _("诉求量"),
        "per_week": _("平均每周"),
        "response_rate": _("响应率"),
        "resolution_rate": _("解决率"),
        "satisfaction_rate": _("满意率"),
        "repeat_complainants": _("重复诉求人（前 %(weeks)s 周）"),
        "repeat_n": _("%(people)s 人（%(cases)s 件）"),
        "effect_unread": _("请先阅读成效评估并勾选确认。"),
        "loading": _("加载中…"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["topic"] = get_object_or_404(
            selectors.visible_topics(self.request.user), pk=kwargs["pk"]
        )
        context["dashboard_section"] = "topics"
        context["steps"] = STEPS.by_event  # each form posts to its step's path
        return context
