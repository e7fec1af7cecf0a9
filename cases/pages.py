"""The pages (Django templates). They hold no business logic and change no state: every page
loads its data from the REST API with fetch and acts through the API's transition endpoints.

Each view gives its template ``texts``: the translated strings its script needs, rendered as
JSON (#xn-text) so that scripts hold no user-facing text of their own.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from org import jurisdiction
from org.models import Region, RegionLevel, Role

from . import knowledge
from .api.steps import STEPS
from .attachments import MAX_ATTACHMENTS, MAX_BYTES
from .models import Rating

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
        return jurisdiction.is_staff(self.request.user)


TRACKING_CODE = re.compile(r"^XN-\d{8}-\d{4,}$")

# The tracking page shows a rating by its value; its label comes from the model's choices.
RATING_TEXTS = {f"rating_{value}": label for value, label in Rating.choices}


# 选择位置: the place picker's texts (static/js/place-picker.js), on every form that has it.
PLACE_TEXTS = {
    "place_locate": _("使用我的位置"),
    "place_whole_city": _("显示全市"),
    "place_clear": _("清除位置"),
    "place_help": _(
        "点击地图标出位置，所在区（县）会自动选好；也可以聚焦地图后用方向键移动标记。"
    ),
    "place_map_label": _("西宁市地图：选择位置"),
    "place_chosen": _("已在地图上选择：%(district)s（北纬 %(lat)s，东经 %(lng)s）"),
    "place_located": _("已定位到：%(district)s（北纬 %(lat)s，东经 %(lng)s）"),
    "place_outside": _("这个位置（北纬 %(lat)s，东经 %(lng)s）不在西宁市各区县内，请重新选择。"),
    "place_cleared": _("已清除位置。"),
    "place_locating": _("正在获取您的位置…"),
    "place_unsupported": _("这个浏览器不能定位，请在地图上点选或直接选择区县。"),
    "place_denied": _("没有获得定位权限。可以在浏览器设置中允许定位，或在地图上点选位置。"),
    "place_timeout": _("定位超时，请重试，或在地图上点选位置。"),
    "place_unavailable": _("暂时无法获取位置，请在地图上点选或直接选择区县。"),
    "place_no_map": _("地图未能加载，请直接选择区县并填写详细地址。"),
}

# 智能派单 (static/js/category-suggest.js): the categories a complaint's words suggest, on every
# form where a complaint is typed or read.
ROUTER_TEXTS = {
    "suggest_title": _("根据描述，可能是："),
    "suggest_pick": _("选择分类“%(name)s”"),
    "suggest_probability": _("模型置信度 %(p)s%"),
    "suggest_rule": _("诉求中出现了分类名称"),
    "suggest_unsure": _("模型把握不足（低于 %(p)s%），以下以规则为先"),
    "suggest_rule_unit": _("权责清单：%(unit)s"),
    "suggest_learned": _("以往满意办结：%(units)s"),
    "suggest_learned_unit": _("%(name)s %(n)s 件"),
    "suggest_none": _("暂无分类建议，请手动选择。"),
}

# 知识库 (static/js/knowledge.js): the articles that answer a complaint, at intake.
KNOWLEDGE_TEXTS = {
    "article_from": _("维护单位：%(unit)s"),
    "article_none": _("知识库中没有匹配的文章。"),
}


class SubmitPage(Page):
    """我要反映: the complaint form (category tree, region cascade, photos, PIPL notice)."""

    template_name = "cases/submit.html"
    texts = {
        "check_form": _("请检查标红的内容。"),
        "required": _("此项不能为空。"),
        "choose_category": _("请选择诉求分类。"),
        "choose_region": _("请选择到社区或村。"),
        "agree_required": _("请阅读并同意个人信息保护说明。"),
        "no_category_match": _("没有找到匹配的分类，请换个词试试，或清空搜索框浏览全部分类。"),
        "selected_category": _("已选择："),
        "choose": _("请选择"),
        "choose_district_first": _("请先选择区（县）"),
        "choose_street_first": _("请先选择街道（乡镇）"),
        "chars": _("已输入 %(n)s / %(max)s 字"),
        "photos_count": _("已选 %(n)s / %(max)s 张"),
        "too_many_photos": _("最多上传 %(max)s 张照片，多出的 %(n)s 张没有添加。"),
        "photo_too_big": _("“%(name)s”超过 %(mb)s MB，请换一张较小的照片。"),
        "photo_not_image": _("“%(name)s”不是有效的图片（只接受 JPEG、PNG、WebP、GIF）。"),
        "photo_processing": _("正在处理照片…"),
        "photo_remove": _("删除照片 %(name)s"),
        "photo_removed": _("已删除照片 %(name)s。"),
        "photo_added": _("已添加 %(n)s 张照片。"),
        "submitting": _("正在提交…"),
        "submit": _("提交诉求"),
        "throttled": _("提交太频繁了，请稍等一分钟再试。"),
        **ROUTER_TEXTS,
        # 同类诉求 (cases.similar.resident_hint): a count and names, never another's details
        "similar_hint": _(
            "%(street)s附近已有 %(n)s 件“%(category)s”诉求正在办理。"
            "如果是同一件事，我们会一并办理；您仍可提交，补充您了解的情况。"
        ),
        **PLACE_TEXTS,
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        # A signed-in resident's name and phone are filled in for them (they can change them).
        context["initial_name"] = (
            getattr(user, "display_name", "") if user.is_authenticated else ""
        )
        context["initial_phone"] = getattr(user, "phone", "") if user.is_authenticated else ""
        context["max_photos"] = MAX_ATTACHMENTS
        context["max_mb"] = MAX_BYTES // (1024 * 1024)
        return context


class GridReportPage(LoginRequiredMixin, UserPassesTestMixin, SubmitPage):
    """网格员上报: the complaint form on a grid inspector's phone, for what they find on their
    rounds (channel 网格员发现): their own communities instead of the region cascade, their name
    and phone filled in, photos and the place as for a resident. Their filings are theirs to
    follow in 我的诉求, as a complainant's are."""

    # Enough for a street's worth of communities; a grid inspector has one or two.
    MAX_COMMUNITIES = 200

    def test_func(self) -> bool:
        return jurisdiction.has_role(self.request.user, Role.GRID_INSPECTOR)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        roots = jurisdiction.region_roots(self.request.user, Role.GRID_INSPECTOR)
        area = Q(pk__in=[])
        for root in roots:
            area |= Q(path__startswith=root.path)
        context["grid"] = True
        context["grid_communities"] = list(
            Region.objects.filter(area, level=RegionLevel.COMMUNITY)
            .select_related("parent", "parent__parent")
            .order_by("path")[: self.MAX_COMMUNITIES]
        )
        return context


class SubmitDonePage(Page):
    """提交成功: the tracking code, big and easy to copy."""

    template_name = "cases/submit_done.html"
    texts = {
        "copied": _("已复制受理编号。"),
        "copy_failed": _("已选中受理编号，请长按或按 Ctrl+C 复制。"),
    }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        code = self.request.GET.get("code", "").strip().upper()
        context["tracking_code"] = code if TRACKING_CODE.match(code) else ""
        return context


class TrackPage(Page):
    """查询进度: status, timeline, deadline and the evaluation form, by code + phone digits."""

    template_name = "cases/track.html"
    texts = {
        **RATING_TEXTS,
        "check_form": _("请检查标红的内容。"),
        "code_required": _("请填写受理编号，例如 XN-20240101-0001。"),
        "last4_invalid": _("请填写提交诉求时所留电话的后四位数字。"),
        "not_found": _("没有查到这件诉求。请核对受理编号和电话后四位后重试。"),
        # Shown on a 429 only when the server sent no message of its own (a proxy's page, say):
        # the API's message says which limit it was and, for a locked code, for how long.
        "throttled": _("查询太频繁或错误次数过多，请稍后再试。"),
        "rating_required": _("请选择您的评价。"),
        "searching": _("正在查询…"),
        "search": _("查询"),
        "evaluating": _("正在提交…"),
        "evaluate": _("提交评价"),
        "thanks": _("感谢您的评价！诉求当前状态：%(status)s。"),
        "result_heading": _("受理编号 %(code)s"),
        "status": _("当前状态"),
        "category": _("诉求分类"),
        "title": _("标题"),
        "place": _("所在地"),
        "submitted_at": _("提交时间"),
        "resolve_by": _("办理时限"),
        "resolve_by_pending": _("受理后确定"),
        "reply": _("办理结果"),
        "your_rating": _("您的评价"),
        "no_timeline": _("暂无办理记录。"),
        "event_submit": _("您提交了诉求"),
        # 合并: a case merged into another shows the main case's public progress and answer
        "merged_notice": _("您的诉求已并入诉求 %(code)s 一并办理，以下是它的办理情况。"),
        "merged_status": _("主诉求状态"),
        **STEPS.tracking_texts(),
    }


class RegisterPage(Page):
    """注册: a resident's account, so that their cases are listed under 我的诉求."""

    template_name = "registration/register.html"
    texts = {
        "check_form": _("请检查标红的内容。"),
        "required": _("此项不能为空。"),
        "username_invalid": _("用户名为 3–30 位字母、数字或 _ . @ + -。"),
        "password_short": _("密码至少 8 位。"),
        "password_mismatch": _("两次输入的密码不一致。"),
        "phone_invalid": _("请填写 11 位手机号，或留空。"),
        "submitting": _("正在注册…"),
        "submit": _("注册"),
        "throttled": _("操作太频繁了，请稍等一分钟再试。"),
    }


class MyCasesPage(LoginRequiredMixin, Page):
    """我的诉求: the signed-in resident's own cases, newest first."""

    template_name = "cases/my_cases.html"
    texts = {
        "load_more": _("加载更多"),
        "loading_more": _("加载中…"),
        "submitted_on": _("提交于 %(date)s"),
        "track": _("查看进度"),
        "count": _("共显示 %(n)s 件"),
    }


class KnowledgePage(Page):
    """政策问答: the public 知识库, searchable, so many questions never need a case. Rendered on
    the server (no script needed on a resident's phone), 20 articles a page."""

    template_name = "cases/knowledge.html"
    PAGE_SIZE = 20

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()[:200]
        context["query"] = query
        if query:
            found = knowledge.search(query, public_only=True, limit=10)
            context["articles"] = [f.article for f in found]
            return context
        articles = (
            knowledge.valid()
            .filter(is_public=True)
            .select_related("owner_unit")
            .order_by("question", "id")
        )
        page = Paginator(articles, self.PAGE_SIZE).get_page(self.request.GET.get("page"))
        context["page"] = page
        context["articles"] = list(page)
        return context
