"""Every step of a topic (每月一题) as users and clients meet it: one entry per transition.

From these entries come the topic API's routes (``TopicViewSet``), the paths the topic page's
forms post to (``templates/topics/topic.html``) and the rows the permission table must answer
for (tests/topics/api). Who may take a step and what it changes is the workflow's
(``topics.workflow``). Three steps act on a nested object named in the URL (a task, an
indicator): their routes are written in the view set, from their entries' input and summary.
"""

from __future__ import annotations

from xining_issues.transitions import Action, Steps

from .. import workflow
from ..models import TopicEventType as E
from . import serializers as s

STEPS = Steps(
    workflow=workflow.FLOW,
    subject="topic",
    detail=s.TopicDetailSerializer,
    actions=(
        # the committee's decisions
        Action(
            event=E.ADOPT,
            call=workflow.topic_adopt,
            input=s.TopicAdoptSerializer,
            summary="常委会确定 adopt",
            label=E.ADOPT.label,
        ),
        Action(
            event=E.START,
            call=workflow.topic_start,
            input=s.TopicStartSerializer,
            summary="启动推进 start",
            label=E.START.label,
        ),
        Action(
            event=E.CARRY_OVER,
            call=workflow.topic_carry_over,
            input=s.TopicCarryOverSerializer,
            summary="结转 carry over to a later month",
            label=E.CARRY_OVER.label,
        ),
        Action(
            event=E.CLOSE,
            call=workflow.topic_close,
            input=s.TopicCloseSerializer,
            files="evidence",
            summary="销号 close the topic (multipart with evidence files, or JSON)",
            label=E.CLOSE.label,
        ),
        # the lead unit's records
        Action(
            event=E.TASK_ADD,
            call=workflow.task_add,
            input=s.TopicTaskCreateSerializer,
            url="tasks",
            created=s.TopicTaskSerializer,
            summary="Add a task (lead unit)",
            label=E.TASK_ADD.label,
        ),
        Action(
            event=E.TASK_UPDATE,
            call=workflow.task_update,
            input=s.TopicTaskUpdateSerializer,
            url="tasks/{task}",
            route=False,  # PATCH tasks/{id}/
            summary="Update a task's status, progress, deadline or 工期 (lead unit; a "
            "cooperating unit: its own tasks' status and progress)",
            label=E.TASK_UPDATE.label,
        ),
        Action(
            event=E.PLAN_ACCEPT,
            call=workflow.plan_accept,
            input=s.PlanAcceptSerializer,
            url="schedule/accept",
            summary="采纳倒排工期 give tasks the backward plan's dates (lead unit)",
            label=E.PLAN_ACCEPT.label,
        ),
        Action(
            event=E.TASK_SUPERVISE,
            call=workflow.task_supervise,
            input=s.TaskSuperviseSerializer,
            url="tasks/{task}/supervise",
            route=False,  # POST tasks/{id}/supervise/
            summary="督办 a late task (supervisor)",
            label=E.TASK_SUPERVISE.label,
        ),
        Action(
            event=E.REPORT,
            call=workflow.report_add,
            input=s.ProgressReportCreateSerializer,
            url="reports",
            created=s.ProgressReportSerializer,
            summary="周调度 add this week's report (lead unit; one per week)",
            label=E.REPORT.label,
        ),
        Action(
            event=E.INDICATOR_ADD,
            call=workflow.indicator_add,
            input=s.IndicatorCreateSerializer,
            url="indicators",
            created=s.IndicatorSerializer,
            summary="Add an indicator (lead unit)",
            label=E.INDICATOR_ADD.label,
        ),
        Action(
            event=E.INDICATOR_VALUE,
            call=workflow.indicator_record,
            input=s.IndicatorValueCreateSerializer,
            url="indicators/{indicator}/values",
            route=False,  # POST indicators/{id}/values/
            summary="Append a value to an indicator's history (lead unit)",
            label=E.INDICATOR_VALUE.label,
        ),
        Action(
            event=E.DOCUMENT,
            call=workflow.document_add,
            input=s.PolicyDocumentCreateSerializer,
            url="documents",
            content=("multipart/form-data",),
            created=s.PolicyDocumentSerializer,
            summary="Upload a policy document (PDF, multipart; lead unit)",
            label=E.DOCUMENT.label,
        ),
    ),
)
