"""The committee's dashboards (看板): overview, 每月一题 board, work plan, 未诉先办 candidates and
the printable monthly bulletin.

The pages hold no figures of their own: their scripts load them from the stats and topic APIs
(see ``topics.api``). Only the bulletin page renders its text on the server, so that it prints
the same with or without scripts.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from cases.models import Stage
from cases.pages import StaffPage
from org import jurisdiction
from org.models import Role

from . import bulletins, selectors, stats
from .models import BulletinStatus, TaskStatus, TopicStatus, TopicTheme

DASHBOARD_ROLES = (Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN)

CHART_TEXTS = {
    "table_view": _("数据表"),
    "no_data": _("所选范围内暂无数据。"),
    "export": _("导出 Excel"),
    "percent": _("{n}%"),
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


def _choices(prefix: str, choices: list[tuple[str, Any]]) -> dict[str, Any]:
    return {f"{prefix}_{value}": label for value, label in choices}


class OverviewPage(CommitteePage):
    """数据看板: the six links, new vs closed, the three rates, rankings and hot categories."""

    template_name = "topics/overview.html"
    section = "overview"
    texts = {
        **CHART_TEXTS,
        **_choices("stage", Stage.choices),
        "stage_chart": _("各环节在办诉求：{summary}"),
        "trend_chart": _(
            "新增与归档趋势（{from}至{to}，共{n}个时段）：新增{created}件，归档{closed}件"
        ),
        "categories_chart": _("热点分类：{summary}"),
        "district_map": _("各区县综合得分地图（颜色越深得分越高）：{summary}"),
        "map_score": _("综合得分"),
        "map_dispatched": _("派单"),
        "created": _("新增"),
        "closed": _("归档"),
        "cases": _("件"),
        "check_dates": _("请检查日期：起始日期不能晚于截止日期。"),
        "updated": _("已更新：{from} 至 {to}"),
        "topic_progress": _("任务完成 {done} / {total}"),
        "no_topics": _("暂无推进中的题目。"),
        "no_indicators": _("暂无指标。"),
        "indicator": _("指标"),
        "actual_target": _("完成 / 目标"),
        "all_regions": _("全市"),
        "export_queued": _("后台导出已排队…"),
        "export_progress": _("正在生成 Excel：{n}%"),
        "export_done": _("已生成（{rows} 行）："),
        "export_download": _("下载 Excel"),
        "export_failed": _("后台导出失败："),
        **_choices("status", TopicStatus.choices),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["weights"] = stats.weights()  # the defaults (settings), shown in the form
        return context


class TopicBoardPage(CommitteePage):
    """每月一题: each topic's progress, indicators with their history and latest 周调度. Staff
    of a lead or cooperating unit see the board too, with their own topics (the API scopes)."""

    template_name = "topics/board.html"
    section = "topics"

    def test_func(self) -> bool:
        return super().test_func() or selectors.visible_topics(self.request.user).exists()

    texts = {
        **CHART_TEXTS,
        **_choices("status", TopicStatus.choices),
        **_choices("theme", TopicTheme.choices),
        **_choices("task", TaskStatus.choices),
        "lead_unit": _("牵头单位"),
        "cooperating": _("配合单位"),
        "leader": _("包案领导"),
        "month": _("所属月份"),
        "target_date": _("目标日期"),
        "progress": _("任务进度"),
        "topic_progress": _("任务完成 {done} / {total}"),
        "indicators": _("指标（完成 / 目标）"),
        "indicator": _("指标"),
        "actual_target": _("完成 / 目标"),
        "history": _("历史"),
        "date": _("日期"),
        "value": _("数值"),
        "history_chart": _("{name}的历史数值：{summary}"),
        "no_indicators": _("暂无指标。"),
        "latest_report": _("最新周调度"),
        "week_of": _("{week} 当周"),
        "done": _("已完成"),
        "problems": _("存在问题"),
        "next_steps": _("下步打算"),
        "no_report": _("暂无周调度记录。"),
        "no_topics": _("暂无题目。"),
        "board_count": _("显示 {n} / {total} 个题目"),
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
        **_choices("task", TaskStatus.choices),
        "month_n": _("{n}月"),
        "overdue": _("已逾期"),
        "task_bar": _("{title}：{start} 至 {deadline}，{status}，进度 {progress}%"),
        "no_plan": _("该年度没有已确定的题目。"),
        "no_start": _("未定"),
        "bad_year": _("请填写正确的年份。"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["months"] = range(1, 13)
        return context


class CandidatesPage(CommitteePage):
    """未诉先办: clusters of complaints that grow, with the evidence."""

    template_name = "topics/candidates.html"
    section = "candidates"
    texts = {
        **CHART_TEXTS,
        "weekly_chart": _("前{n}个候选议题的每周诉求量：{summary}"),
        "week_n": _("第{n}周"),
        "new_growth": _("新出现"),
        "summary": _("最近 {weeks} 周（{from} 至 {to}）共 {n} 个候选议题"),
        "adopt": _("立为题目"),
        "adopt_label": _("把 {name} 立为题目"),
        "adopt_title": _("{street}{category}问题"),
        "adopt_cluster": _("{category} · {street}：最近 {weeks} 周 {count} 件"),
        "adopt_problem": _(
            "最近 {weeks} 周（{from} 至 {to}）{street}共收到{category}诉求 {count} 件，"
            "上期 {previous} 件；重复诉求人 {repeats} 人；满意率 {rate}。"
        ),
        "adopted": _("已立为候选题目《{title}》，关联 {n} 件诉求。"),
        "adopted_link": _("到每月一题查看"),
        "unit_not_found": _("请从列表中选择牵头单位。"),
        "unit_label": _("%(name)s（%(region)s）"),
        "month_required": _("请选择所属月份（格式 YYYY-MM）。"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["themes"] = TopicTheme.choices
        return context


class TopicPage(StaffPage):
    """One topic's page (题目详情): its tasks with their deadlines, the weekly reports, the
    indicators and the documents; forms for what the user may do now (the topic API's
    ``allowed_actions``): the lead unit's tasks, 周调度 and readings, a supervisor's 督办 on a late
    task, the committee's 常委会确定 / 结转 / 销号."""

    template_name = "topics/topic.html"
    texts = {
        **CHART_TEXTS,
        **_choices("status", TopicStatus.choices),
        **_choices("theme", TopicTheme.choices),
        **_choices("task", TaskStatus.choices),
        "overdue": _("已逾期"),
        "supervised": _("已督办 {n} 次"),
        "supervise": _("督办"),
        "supervise_note": _("督办意见"),
        "save": _("保存"),
        "record": _("记录"),
        "no_tasks": _("暂无任务。"),
        "no_reports": _("暂无周调度记录。"),
        "no_indicators": _("暂无指标。"),
        "no_documents": _("暂无文件。"),
        "week_of": _("{week} 当周"),
        "done": _("已完成"),
        "problems": _("存在问题"),
        "next_steps": _("下步打算"),
        "saved": _("已保存。"),
        "unit_not_found": _("请从列表中选择责任单位。"),
        "unit_label": _("%(name)s（%(region)s）"),
        "progress_of": _("{title}的进度"),
        "status_of": _("{title}的状态"),
        "value_of": _("{name}的新数值"),
        "date_of": _("{name}的日期"),
        "note_of": _("对{title}的督办意见"),
        "cases_n": _("{n} 件"),
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
        "topic_progress": _("任务完成 {done} / {total}"),
        "month_required": _("请选择月份（格式 YYYY-MM）。"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["topic"] = get_object_or_404(
            selectors.visible_topics(self.request.user), pk=kwargs["pk"]
        )
        context["dashboard_section"] = "topics"
        return context


class BulletinPage(CommitteePage):
    """月通报: one bulletin, printable on A4, with a link to its Excel export."""

    template_name = "topics/bulletin.html"
    section = "topics"
    texts = {"saved": _("草稿已保存。"), "published": _("通报已发布。")}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        bulletin = get_object_or_404(
            selectors.visible_bulletins(self.request.user).select_related("published_by"),
            pk=kwargs["pk"],
        )
        context["bulletin"] = bulletin
        # 草稿 → 发布: the committee and admins edit a draft here (topics.bulletins).
        context["may_edit"] = bulletin.status == BulletinStatus.DRAFT and jurisdiction.has_role(
            self.request.user, *bulletins.EDIT_ROLES
        )
        return context
