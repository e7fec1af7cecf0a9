"""Cases in any state, built through the workflow functions (never by writing status)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from cases import workflow
from cases.models import Case, Rating, Status
from tests.conftest import Demo

# The path a case takes to reach each state in the demo organisation (湟中区多巴一村, heating).
PATH_TO: dict[str, list[str]] = {
    Status.SUBMITTED: [],
    Status.ACCEPTED: ["accept"],
    Status.REJECTED: ["reject"],
    Status.DISPATCHED: ["accept", "dispatch"],
    Status.HANDLING: ["accept", "dispatch", "sign"],
    Status.REPLIED: ["accept", "dispatch", "sign", "reply"],
    Status.EVALUATED: ["accept", "dispatch", "sign", "reply", "evaluate"],
    Status.REVIEW: [
        "accept", "dispatch", "sign", "reply", "evaluate_unsatisfied", "reopen", "reply",
        "evaluate_unsatisfied",
    ],
    Status.CLOSED: ["accept", "dispatch", "sign", "reply", "evaluate", "close"],
}  # fmt: skip


def run_steps(case: Case, steps: list[str], demo: Demo) -> Case:
    """Walk ``case`` through ``steps`` with the demo accounts of 湟中区."""
    dispatcher = demo.user("dispatcher_huangzhong")
    handler = demo.user("handler_huangzhong")
    resident = case.complainant or demo.user("resident1")
    for step in steps:
        if step == "accept":
            workflow.case_accept(case=case, actor=demo.user("operator1"))
        elif step == "reject":
            workflow.case_reject(case=case, actor=demo.user("operator1"), reason="insufficient")
        elif step == "dispatch":
            workflow.case_dispatch(
                case=case, actor=dispatcher, lead_unit=demo.unit("huangzhong-gov"),
                co_units=[demo.unit("xn-gas")],
            )  # fmt: skip
        elif step == "sign":
            workflow.case_sign(case=case, actor=handler)
        elif step == "reply":
            workflow.case_reply(case=case, actor=handler, outcome="resolved", text="管道已修复。")
        elif step == "evaluate":
            workflow.case_evaluate(case=case, actor=resident, rating=Rating.SATISFIED)
        elif step == "evaluate_unsatisfied":
            workflow.case_evaluate(case=case, actor=resident, rating=Rating.UNSATISFIED)
        elif step == "reopen":
            workflow.case_reopen(case=case, actor=dispatcher, reason="诉求人不满意")
        elif step == "close":
            workflow.case_close(case=case, actor=dispatcher)
        else:  # pragma: no cover - a typo in a test
            raise ValueError(step)
        case.refresh_from_db()
    return case


@pytest.fixture
def make_case(demo: Demo) -> Callable[..., Case]:
    """make_case(status, **submit_fields): a case submitted by resident1 in 多巴一村 and walked
    to ``status`` through the workflow."""

    def make(status: str = Status.SUBMITTED, **fields: Any) -> Case:
        values: dict[str, Any] = {
            "actor": demo.user("resident1"),
            "category": demo.category("heating-cold"),
            "region": demo.region("湟中区", "多巴镇", "多巴一村"),
            "description": "家里暖气不热，附近管道破损。",
            "complainant_name": "赵先生",
            "complainant_phone": "13897123456",
            "address": "新村巷38号",
        }
        values.update(fields)
        with transaction.atomic():
            case = workflow.case_submit(**values)
        return run_steps(case, PATH_TO[status], demo)

    return make


@pytest.fixture
def now() -> Any:
    return timezone.now()
