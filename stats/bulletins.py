"""月通报 (the monthly bulletin): generated as a draft from the topics' progress, edited by the
committee, then published. A published bulletin is never regenerated or edited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import django.dispatch
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from org import jurisdiction
from org.models import Role, User
from topics.models import (
    Indicator,
    ProgressReport,
    TaskStatus,
    Topic,
    TopicStatus,
    TopicTask,
    first_of_month,
)
from xining_issues.workflow import Step, Workflow, clean_text, transition

from . import dashboards, effect, first_call, knowledge
from .models import Bulletin, BulletinEvent, BulletinEventType, BulletinStatus
from .xlsx import Sheet, write_xlsx

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

EDIT_ROLES = (Role.COMMITTEE, Role.ADMIN)


def _month_end(month: dt.date) -> dt.date:
    return dashboards.next_month(month) - dt.timedelta(days=1)


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


def _topics_of(month: dt.date) -> list[Topic]:
    end = _month_end(month)
    return list(
        Topic.objects.filter(month__lte=month)
        .filter(Q(end_month__isnull=True, month=month) | Q(end_month__gte=month))
        .exclude(status=TopicStatus.CANDIDATE)
        .select_related("lead_unit")
        .prefetch_related(
            Prefetch("tasks", queryset=TopicTask.objects.all()),
            Prefetch("indicators", queryset=Indicator.objects.all()),
            Prefetch(
                "reports",
                queryset=ProgressReport.objects.filter(week__lte=end).order_by("-week"),
            ),
        )
        .order_by("month", "id")
    )


def build(month: dt.date) -> tuple[str, str, dict[str, Any]]:
    """The title, the text and the tables of the bulletin for ``month`` (in Chinese)."""
    month = first_of_month(month)
    end = _month_end(month)
    with translation.override("zh-hans"):
        title = _("%(year)d年%(month)d月“每月一题”工作通报") % {
            "year": month.year,
            "month": month.month,
        }
        topics = _topics_of(month)
        topic_rows: list[list[Any]] = []
        indicator_rows: list[list[Any]] = []
        report_rows: list[list[Any]] = []
        lines = [title, ""]
        if not topics:
            lines.append(_("本月没有在推进的题目。"))
        for number, topic in enumerate(topics, 1):
            tasks = list(topic.tasks.all())
            done = sum(1 for t in tasks if t.status == TaskStatus.DONE)
            overdue = sum(1 for t in tasks if t.is_overdue(end))
            topic_rows.append(
                [
                    topic.title,
                    topic.get_theme_display(),
                    topic.lead_unit.name,
                    topic.leader_name,
                    topic.get_status_display(),
                    done,
                    len(tasks),
                    overdue,
                ]
            )
            lines.append(
                _("%(n)d. 《%(title)s》（牵头单位：%(unit)s；状态：%(status)s）")
                % {
                    "n": number,
                    "title": topic.title,
                    "unit": topic.lead_unit.name,
                    "status": topic.get_status_display(),
                }
            )
            lines.append(
                _("   工作任务完成 %(done)d/%(total)d 项，逾期 %(overdue)d 项。")
                % {"done": done, "total": len(tasks), "overdue": overdue}
            )
            for indicator in topic.indicators.all():
                indicator_rows.append(
                    [
                        topic.title,
                        indicator.name,
                        indicator.unit_of_measure,
                        _number(indicator.target),
                        _number(indicator.actual),
                    ]
                )
                lines.append(
                    _("   %(name)s：目标 %(target)s，实际 %(actual)s %(unit)s。")
                    % {
                        "name": indicator.name,
                        "target": _number(indicator.target) or "—",
                        "actual": _number(indicator.actual) or "—",
                        "unit": indicator.unit_of_measure,
                    }
                )
            latest = next(iter(topic.reports.all()), None)
            if latest is not None:
                report_rows.append(
                    [
                        topic.title,
                        latest.week.isoformat(),
                        latest.done,
                        latest.problems,
                        latest.next_steps,
                    ]
                )
                lines.append(
                    _("   最近一次周调度（%(week)s）：%(done)s")
                    % {"week": latest.week.isoformat(), "done": latest.done}
                )
                if latest.problems:
                    lines.append(_("   存在问题：%(p)s") % {"p": latest.problems})
        data: dict[str, Any] = {
            "topics": {
                "headers": [
                    _("题目"),
                    _("主题"),
                    _("牵头单位"),
                    _("包案领导"),
                    _("状态"),
                    _("已完成任务"),
                    _("任务总数"),
                    _("逾期任务"),
                ],
                "rows": topic_rows,
            },
            "indicators": {
                "headers": [_("题目"), _("指标"), _("计量单位"), _("目标值"), _("实际值")],
                "rows": indicator_rows,
            },
            "reports": {
                "headers": [_("题目"), _("周"), _("本周完成"), _("存在问题"), _("下步计划")],
                "rows": report_rows,
            },
        }
        effect_lines, effect_rows = _effect_section(topics, end)
        if effect_rows:
            lines += ["", _("题目成效（确定前后相关诉求对比）："), *effect_lines]
            data["effects"] = {
                "headers": [
                    _("题目"),
                    _("确定日期"),
                    _("确定前每周"),
                    _("确定以来每周"),
                    _("变化"),
                    _("参照"),
                    _("参照变化"),
                    _("成效比"),
                    _("95%置信区间"),
                    _("结论"),
                ],
                "rows": effect_rows,
            }
        case_lines, tables = _case_section(dashboards.month_summary(month))
        lines += ["", _("诉求办理情况："), *case_lines]
        data.update(tables)
        knowledge_lines, tables = _knowledge_section(month, end)
        lines += ["", _("接诉即办与知识库："), *knowledge_lines]
        data.update(tables)
    return title, "\n".join(lines), data


def _verdicts() -> dict[str, str]:
    return {
        "fell": _("明显下降，超出季节性变化"),
        "rose": _("明显上升，超出季节性变化"),
        "unclear": _("变化不显著"),
        "too_early": _("确定不足两周，暂不评估"),
        "insufficient": _("数据不足，无法评估"),
        "no_area": _("未关联分类，无法评估"),
        "not_adopted": _("尚未确定"),
    }


def _change(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def _effect_section(topics: list[Topic], end: dt.date) -> tuple[list[str], list[list[Any]]]:
    """Each adopted topic's 成效 as the month ended (``stats.effect``): a line and a row."""
    today = min(end, timezone.localdate())
    verdicts = _verdicts()
    references = {"last_year": _("去年同期"), "elsewhere": _("全市其他区域同期")}
    lines: list[str] = []
    rows: list[list[Any]] = []
    for topic in topics:
        if topic.adopted_on is None or topic.adopted_on > today:
            continue
        found = effect.topic_effect(topic, today=today)
        before, since, interval = found["before"], found["since"], found["effect"]
        reference = found["reference"]
        verdict = verdicts[found["verdict"]]
        rows.append(
            [
                topic.title,
                topic.adopted_on.isoformat(),
                before["per_week"] if before else "—",
                since["per_week"] if since else "—",
                _change(found["change"]),
                references[reference["kind"]] if reference else "—",
                _change(found["reference_change"]),
                interval["ratio"] if interval else "—",
                f"{interval['low']}–{interval['high']}" if interval else "—",
                verdict,
            ]
        )
        if before and since:
            lines.append(
                _(
                    "   《%(title)s》：相关诉求由确定前每周 %(before)s 件变为 %(since)s 件"
                    "（%(change)s），%(verdict)s。"
                )
                % {
                    "title": topic.title,
                    "before": before["per_week"],
                    "since": since["per_week"],
                    "change": _change(found["change"]),
                    "verdict": verdict,
                }
            )
        else:
            lines.append(
                _("   《%(title)s》：%(verdict)s。") % {"title": topic.title, "verdict": verdict}
            )
    return lines, rows


def _knowledge_section(month: dt.date, end: dt.date) -> tuple[list[str], dict[str, Any]]:
    """一次办结率 and the knowledge base's use in the month, city-wide (``stats.knowledge``)."""
    calls = first_call.first_call(None, month, end)
    used = knowledge.usage(None, month, end, min(end, timezone.localdate()))
    lines = [
        _("   一次办结率：%(rate)s（受理 %(taken)d 件，其中当场答复办结 %(at_intake)d 件）。")
        % {
            "rate": _show("first_call_rate", calls["rate"]),
            "taken": calls["taken"],
            "at_intake": calls["at_intake"],
        },
        _("   知识库答复 %(uses)d 次；已过复核日期的条目 %(due)d 条。")
        % {"uses": used["uses"], "due": used["past_review_count"]},
    ]
    if used["most_used"]:
        lines.append(
            _("   使用最多的条目：%(list)s")
            % {"list": "、".join(f"{a['question']}（{a['uses']}）" for a in used["most_used"][:5])}
        )
    if used["unsatisfied"]:
        lines.append(
            _("   答复后出现不满意的条目：%(list)s")
            % {
                "list": "、".join(
                    f"{a['question']}（{a['unsatisfied']}）" for a in used["unsatisfied"][:5]
                )
            }
        )
    tables: dict[str, Any] = {
        "first_call": {
            "headers": [_("分类"), _("受理"), _("当场答复办结"), _("一次办结率")],
            "rows": [
                [c["name"], c["taken"], c["at_intake"], _show("first_call_rate", c["rate"])]
                for c in calls["by_category"]
            ],
        },
        "knowledge": {
            "headers": [_("条目"), _("责任单位"), _("使用次数"), _("不满意")],
            "rows": [
                [a["question"], a["owner_unit"], a["uses"], a["unsatisfied"]]
                for a in used["most_used"]
            ],
        },
    }
    return lines, tables


def _labels() -> dict[str, str]:
    return {
        "created": _("新增诉求"),
        "rejected": _("不予受理"),
        "dispatched": _("派单"),
        "responded": _("按时响应"),
        "replied": _("办结答复"),
        "resolved": _("已解决"),
        "evaluated": _("已评价"),
        "satisfied": _("满意"),
        "closed": _("归档"),
        "response_rate": _("响应率"),
        "resolution_rate": _("解决率"),
        "satisfaction_rate": _("满意率"),
        "score": _("综合得分"),
    }


def _show(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key.endswith("_rate") and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    return str(value)


def _case_section(summary: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Lines and tables from ``stats.dashboards.month_summary``: its ``totals``, its
    ``top_categories`` and its ``worst_units``."""
    labels = _labels()
    rows = [[labels[k], _show(k, v)] for k, v in summary["totals"].items() if k in labels]
    lines = [f"   {label}：{value}" for label, value in rows]
    tables: dict[str, Any] = {"cases": {"headers": [_("项目"), _("数值")], "rows": rows}}
    top = summary["top_categories"]
    if top:
        lines.append(
            _("   诉求较多的分类：%(list)s")
            % {"list": "、".join(f"{c['name']}（{c['created']}）" for c in top)}
        )
        tables["case_categories"] = {
            "headers": [_("分类"), _("新增诉求")],
            "rows": [[c["name"], c["created"]] for c in top],
        }
    worst = summary["worst_units"]
    if worst:
        lines.append(
            _("   综合得分靠后的单位：%(list)s")
            % {"list": "、".join(f"{u['name']}（{_show('score', u['score'])}）" for u in worst)}
        )
        rate_keys = (
            "dispatched",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
            "score",
        )
        tables["case_units"] = {
            "headers": [_("单位"), *[labels[k] for k in rate_keys]],
            "rows": [[u["name"], *[_show(k, u.get(k)) for k in rate_keys]] for u in worst],
        }
    return lines, tables


@transaction.atomic
def bulletin_generate(month: dt.date, *, now: dt.datetime | None = None) -> Bulletin:
    """The draft bulletin of ``month``, built afresh; idempotent per month, and a published
    bulletin is returned untouched."""
    month = first_of_month(month)
    now = now or timezone.now()
    # One row per month whoever gets here first (a unique month), then the lock.
    Bulletin.objects.bulk_create(
        [Bulletin(month=month, title="", generated_at=now)], ignore_conflicts=True
    )
    bulletin = Bulletin.objects.select_for_update().get(month=month)
    if bulletin.status == BulletinStatus.PUBLISHED:
        return bulletin
    bulletin.title, bulletin.body, bulletin.data = build(month)
    bulletin.generated_at = now
    bulletin.save(update_fields=["title", "body", "data", "generated_at", "updated_at"])
    return bulletin


# --- editing and publishing: steps on the workflow kernel ---------------------------------------

# Sent after the transaction that recorded ``event`` (a ``BulletinEvent``) commits.
bulletin_event_committed = django.dispatch.Signal()  # kwargs: event


def _event_row(bulletin: Bulletin, step: Step) -> BulletinEvent:
    return BulletinEvent(
        bulletin=bulletin,
        type=step.action,
        actor=step.actor,
        from_status=step.from_status,
        to_status=step.to_status,
        payload=step.payload,
        created_at=timezone.now(),
    )


# The model's and the edit serializer's limit of a title.
TITLE_MAX = Bulletin._meta.get_field("title").max_length or 200

B = BulletinStatus
FLOW: Workflow[Bulletin, BulletinEvent] = Workflow(
    model=Bulletin,
    # Only a draft changes; the committee's roles that edit it are the ones that publish it.
    table={
        BulletinEventType.EDIT: transition([B.DRAFT], None, *EDIT_ROLES),
        BulletinEventType.PUBLISH: transition([B.DRAFT], B.PUBLISHED, *EDIT_ROLES),
    },
    reaches=lambda actor, bulletin, role, action: jurisdiction.has_role(actor, role),
    event_row=_event_row,
    committed=bulletin_event_committed,
    wrong_state=gettext_lazy("通报已发布，不能再修改。"),
    not_allowed=gettext_lazy("只有常委会和管理员可以修改和发布通报。"),
)


@transaction.atomic
def bulletin_update(
    *,
    bulletin: Bulletin,
    actor: User | AnonymousUser | None,
    title: str | None = None,
    body: str | None = None,
) -> Bulletin:
    """修改: edit a draft's title or text (committee or admin), with one ``BulletinEvent``
    naming the fields changed (not their text)."""
    bulletin, role = FLOW.begin(bulletin, actor, BulletinEventType.EDIT)
    fields = []
    if title is not None:
        bulletin.title = clean_text(title, "title", max_length=TITLE_MAX)
        fields.append("title")
    if body is not None:
        bulletin.body = body
        fields.append("body")
    if fields:
        from_status = FLOW.move(bulletin, BulletinEventType.EDIT)
        FLOW.save(bulletin, *fields)
        FLOW.record(bulletin, BulletinEventType.EDIT, actor, role, from_status, {"fields": fields})
    return bulletin


@transaction.atomic
def bulletin_publish(*, bulletin: Bulletin, actor: User | AnonymousUser | None) -> Bulletin:
    """发布: the draft becomes the published bulletin (committee or admin), with one
    ``BulletinEvent``."""
    bulletin, role = FLOW.begin(bulletin, actor, BulletinEventType.PUBLISH)
    from_status = FLOW.move(bulletin, BulletinEventType.PUBLISH)
    bulletin.published_at = timezone.now()
    bulletin.published_by = cast(User, actor)  # FLOW.begin let only a signed-in user through
    FLOW.save(bulletin, "status", "published_at", "published_by")
    FLOW.record(
        bulletin,
        BulletinEventType.PUBLISH,
        actor,
        role,
        from_status,
        {"month": bulletin.month.isoformat(), "title": bulletin.title},
    )
    return bulletin


SHEETS = (
    ("topics", "专题进展"),
    ("indicators", "指标"),
    ("reports", "周调度"),
    ("cases", "诉求统计"),
    ("case_categories", "诉求分类"),
    ("case_units", "单位排名"),
    ("effects", "题目成效"),
    ("first_call", "一次办结率"),
    ("knowledge", "知识库使用"),
)


def export_xlsx(bulletin: Bulletin) -> bytes:
    """The bulletin as a workbook: its text, then one sheet per table."""
    lines = [[bulletin.title], *([line] for line in bulletin.body.splitlines())]
    sheets = [Sheet("通报", lines, widths={1: 100})]
    for key, name in SHEETS:
        table = (bulletin.data or {}).get(key)
        if table:
            rows = [table["headers"], *table["rows"]]
            sheets.append(Sheet(name, rows, widths=dict.fromkeys(range(1, 9), 20)))
    return write_xlsx(sheets)
