"""报's pages for the committee (看板): the data overview, the 未诉先办 candidates, the staff
case map (案件地图) and the printable monthly bulletin (月通报).

The overview, the candidates and the map hold no figures of their own: their scripts load
them from the stats API (see ``stats.api``). Only the bulletin page renders its text on the
server, so that it prints the same with or without scripts. The templates stay under
``templates/topics/``, beside the board's, which they share their layout and scripts with.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from cases.models import Stage
from org import jurisdiction
from topics.models import TopicStatus, TopicTheme
from topics.pages import CHART_TEXTS, CommitteePage, choice_texts

from . import bulletins, dashboards, selectors
from .models import BulletinStatus


class OverviewPage(CommitteePage):
    """数据看板: the six links, new vs closed, the three rates, rankings and hot categories."""

    template_name = "topics/overview.html"
    section = "overview"
    texts = {
        **CHART_TEXTS,
        **choice_texts("stage", Stage.choices),
        "stage_chart": _("各环节在办诉求：%(summary)s"),
        "trend_chart": _(
            "新增与归档趋势（%(from)s至%(to)s，共%(n)s个时段）：新增%(created)s件，归档%(closed)s件"
        ),
        "categories_chart": _("热点分类：%(summary)s"),
        "district_map": _("各区县综合得分地图（颜色越深得分越高）：%(summary)s"),
        "map_score": _("综合得分"),
        "map_dispatched": _("派单"),
        "created": _("新增"),
        "closed": _("归档"),
        "cases": _("件"),
        "check_dates": _("请检查日期：起始日期不能晚于截止日期。"),
        "updated": _("已更新：%(from)s 至 %(to)s"),
        "topic_progress": _("任务完成 %(done)s / %(total)s"),
        "no_topics": _("暂无推进中的题目。"),
        "no_indicators": _("暂无指标。"),
        "first_call_total": _(
            "一次办结率 %(rate)s：即时办结 %(at_intake)s 件 / 受理 %(taken)s 件"
        ),
        "knowledge_total": _("知识库答复 %(uses)s 次；%(due)s 篇文章已过复核日期"),
        "indicator": _("指标"),
        "actual_target": _("完成 / 目标"),
        "all_regions": _("全市"),
        "export_queued": _("后台导出已排队…"),
        "export_progress": _("正在生成 Excel：%(n)s%"),
        "export_done": _("已生成（%(rows)s 行）："),
        "export_download": _("下载 Excel"),
        "export_failed": _("后台导出失败："),
        **choice_texts("status", TopicStatus.choices),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["weights"] = dashboards.weights()  # the defaults (settings), shown in the form
        return context


class CandidatesPage(CommitteePage):
    """未诉先办: clusters of complaints that grow, with the evidence."""

    template_name = "topics/candidates.html"
    section = "candidates"
    texts = {
        **CHART_TEXTS,
        "weekly_chart": _("前%(n)s个候选议题的每周诉求量：%(summary)s"),
        "week_n": _("第%(n)s周"),
        "new_growth": _("新出现"),
        "summary": _("最近 %(weeks)s 周（%(from)s 至 %(to)s）共 %(n)s 个候选议题"),
        "adopt": _("立为题目"),
        "adopt_label": _("把 %(name)s 立为题目"),
        "adopt_title": _("%(street)s%(category)s问题"),
        "adopt_cluster": _("%(category)s · %(street)s：最近 %(weeks)s 周 %(count)s 件"),
        "adopt_problem": _(
            "最近 %(weeks)s 周（%(from)s 至 %(to)s）%(street)s"
            "共收到%(category)s诉求 %(count)s 件，上期 %(previous)s 件；"
            "重复诉求人 %(repeats)s 人；满意率 %(rate)s。"
        ),
        "adopted": _("已立为候选题目《%(title)s》，关联 %(n)s 件诉求。"),
        "adopted_link": _("到每月一题查看"),
        "unit_not_found": _("请从列表中选择牵头单位。"),
        "unit_label": _("%(name)s（%(region)s）"),
        "month_required": _("请选择所属月份（格式 YYYY-MM）。"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["themes"] = TopicTheme.choices
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
        # 草稿 → 发布: the committee and admins edit a draft here (stats.bulletins).
        context["may_edit"] = bulletin.status == BulletinStatus.DRAFT and jurisdiction.has_role(
            self.request.user, *bulletins.EDIT_ROLES
        )
        return context


class MapPage(CommitteePage):
    """案件地图: open and overdue cases on the district outlines, counted per grid cell by the
    server (``stats.api.map``). Every staff role may look: the endpoint scopes the points to
    the user's jurisdiction or units, as the other figures are."""

    template_name = "topics/case_map.html"
    section = "map"
    texts = {
        **CHART_TEXTS,
        "map_summary": _(
            "案件地图：%(total)s 件在办诉求（其中超期 %(overdue)s 件），%(cells)s 个网格"
        ),
        "map_summary_overdue": _("案件地图：%(total)s 件超期诉求，%(cells)s 个网格"),
        "cell_label": _("%(count)s 件（超期 %(overdue)s 件）"),
        "cell_position": _("北纬 %(lat)s，东经 %(lng)s"),
        "open_case": _("打开诉求"),
        "zoom_in": _("放大此处"),
        "zoom_limit": _("已放大到最细，此处有 %(count)s 件，请到工作台按地址查看。"),
        "check_dates": _("请检查日期：起始日期不能晚于截止日期。"),
        "updated_map": _("已更新：%(total)s 件，%(cells)s 个网格"),
    }

    def test_func(self) -> bool:
        return jurisdiction.is_staff(self.request.user)
