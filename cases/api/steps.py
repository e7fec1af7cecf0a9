"""Every step of a case as users and clients meet it: one entry per transition.

From these entries come the API route of each step (``CaseViewSet``), the buttons and dialogs
of the workbench's case page (``cases.workbench``), the tracking page's texts (``cases.pages``)
and the rows the permission table must answer for (tests/cases/api/test_permission_table.py).
Who may take a step and what it changes is the workflow's (``cases.workflow``); the dialog's
fields are ``templates/workbench/includes/action_<event>.html``. The README's "How to add a
step" walks through adding one.

In the order of the case page's buttons: the next step of the workflow first.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xining_issues.transitions import Action, Steps

from .. import workflow
from ..models import EventType as E
from . import serializers as s

STEPS = Steps(
    workflow=workflow.FLOW,
    subject="case",
    detail=s.CaseDetailSerializer,
    dialogs_folder="workbench/includes",
    actions=(
        # 接
        Action(
            event=E.ACCEPT,
            call=workflow.case_accept,
            input=s.AcceptSerializer,
            summary="受理 accept",
            label=_("受理"),
            submit=_("确认受理"),
            style="primary",
            tracking=_("诉求已受理"),
        ),
        Action(
            event=E.RESOLVE_AT_INTAKE,
            call=workflow.case_resolve_at_intake,
            input=s.ResolveAtIntakeSerializer,
            summary="即时办结 resolve at intake",
            label=_("即时办结"),
            submit=_("确认办结"),
            tracking=_("已当场答复"),
        ),
        Action(
            event=E.REJECT,
            call=workflow.case_reject,
            input=s.RejectSerializer,
            summary="不予受理 reject",
            label=_("不予受理"),
            submit=_("确认不予受理"),
            style="outline-danger",
            tracking=_("诉求不予受理"),
        ),
        # 派
        Action(
            event=E.DISPATCH,
            call=workflow.case_dispatch,
            input=s.DispatchSerializer,
            summary="派单 dispatch",
            label=_("派单"),
            submit=_("确认派单"),
            style="primary",
            size="lg",
            tracking=_("已转交承办单位"),
        ),
        # 办
        Action(
            event=E.SIGN,
            call=workflow.case_sign,
            input=None,
            summary="签收 sign",
            label=_("签收"),
            submit=_("确认签收"),
            style="primary",
            tracking=_("承办单位已接单，正在办理"),
        ),
        Action(
            event=E.RETURN,
            call=workflow.case_return,
            input=s.ReasonSerializer,
            summary="退回 return",
            label=_("退回"),
            submit=_("确认退回"),
            style="outline-danger",
            tracking=_("承办单位退回，重新派单中"),
        ),
        Action(
            event=E.CONTACT,
            call=workflow.case_record_contact,
            input=s.ContactSerializer,
            summary="联系诉求人 contact",
            label=_("联系诉求人"),
            submit=_("保存"),
            tracking=_("工作人员已联系您"),
        ),
        Action(
            event=E.PROGRESS,
            call=workflow.case_add_progress,
            input=s.ProgressSerializer,
            summary="办理进展 progress",
            label=_("办理进展"),
            submit=_("保存"),
            tracking=_("办理进展"),
        ),
        Action(
            event=E.REPLY,
            call=workflow.case_reply,
            input=s.CaseReplySerializer,
            files="evidence",
            summary="办结答复 reply (multipart with evidence files, or JSON)",
            label=_("办结答复"),
            submit=_("提交答复"),
            style="primary",
            size="lg",
            tracking=_("承办单位已答复"),
        ),
        Action(
            event=E.REQUEST_EXTENSION,
            call=workflow.case_request_extension,
            input=s.ExtensionRequestSerializer,
            summary="申请延期 request an extension",
            label=_("申请延期"),
            submit=_("提交申请"),
            tracking=_("承办单位申请延长办理时限"),
        ),
        Action(
            event=E.DECIDE_EXTENSION,
            call=workflow.case_decide_extension,
            input=s.ExtensionDecisionSerializer,
            summary="延期审批 decide an extension",
            label=_("延期审批"),
            submit=_("提交审批"),
            tracking=_("办理时限审批"),
        ),
        # 重新派单: the unit asks to give a signed case back; the dispatcher decides, withdraws
        # or reassigns
        Action(
            event=E.REQUEST_RETURN,
            call=workflow.case_request_return,
            input=s.ReasonSerializer,
            summary="申请退回 request to return a signed case",
            label=_("申请退回"),
            submit=_("提交申请"),
            style="outline-danger",
            tracking=_("承办单位申请退回"),
        ),
        Action(
            event=E.DECIDE_RETURN,
            call=workflow.case_decide_return,
            input=s.ReturnDecisionSerializer,
            summary="退回审批 decide a request to return",
            label=_("退回审批"),
            submit=_("提交审批"),
            tracking=_("承办单位退回，重新派单中"),
        ),
        Action(
            event=E.WITHDRAW,
            call=workflow.case_withdraw,
            input=s.ReasonSerializer,
            summary="撤回 withdraw the case from its unit",
            label=_("撤回"),
            submit=_("确认撤回"),
            style="outline-danger",
            tracking=_("正在重新派单"),
        ),
        Action(
            event=E.REASSIGN,
            call=workflow.case_reassign,
            input=s.DispatchSerializer,
            summary="改派 reassign to another unit",
            label=_("改派"),
            submit=_("确认改派"),
            size="lg",
            tracking=_("已重新派单"),
        ),
        # 合并: a repeat of another open case is closed into it
        Action(
            event=E.MERGE,
            call=workflow.case_merge,
            input=s.MergeSerializer,
            summary="合并 merge into another open case (closed as its duplicate)",
            label=_("合并"),
            submit=_("确认合并"),
            style="outline-danger",
            tracking=_("已与相同诉求合并办理"),
        ),
        # 评
        Action(
            event=E.EVALUATE,
            call=workflow.case_evaluate,
            input=s.EvaluateSerializer,
            summary="评价 evaluate",
            label=_("回访评价"),
            submit=_("提交评价"),
            style="primary",
            tracking=_("您已评价"),
        ),
        Action(
            event=E.REOPEN,
            call=workflow.case_reopen,
            input=s.ReasonSerializer,
            summary="重办 reopen",
            label=_("重办"),
            submit=_("确认重办"),
            style="outline-danger",
            tracking=_("重新办理"),
        ),
        # 督
        Action(
            event=E.SUPERVISE,
            call=workflow.case_supervise,
            input=s.SuperviseSerializer,
            summary="督办 supervise",
            label=_("督办"),
            submit=_("下达督办"),
            style="outline-danger",
            tracking=_("已督办"),
        ),
        Action(
            event=E.RECATEGORISE,
            call=workflow.case_recategorise,
            input=s.RecategoriseSerializer,
            summary="改分类 recategorise",
            label=_("改分类"),
            submit=_("确认改分类"),
            tracking=_("诉求分类已调整"),
        ),
        # 报
        Action(
            event=E.CLOSE,
            call=workflow.case_close,
            input=s.CloseSerializer,
            summary="归档 close",
            label=_("归档"),
            submit=_("确认归档"),
            style="primary",
            tracking=_("已办结归档"),
        ),
    ),
)
