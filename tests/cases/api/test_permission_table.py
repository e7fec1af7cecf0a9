"""Who may take which step of a case, from which state, through HTTP: the permission table.

Every transition × every role (inside and outside the case's jurisdiction) × every state with
a valid body; a sample with an invalid body (where the step happens and from 已归档); the
``allowed_actions`` the case page offers; and the units each dispatcher may send the case to
(派单范围). The expected answer comes from ``expected()``, an
oracle written from DESIGN.md and the workflow docstrings, not from ``workflow.TRANSITIONS``,
so the two can disagree. (They did, five times; the fixes are in the history of
``cases/workflow.py`` and ``cases/api/views.py``.)

The case is always the seed's kind: submitted by resident1 in 湟中区多巴镇多巴一村 and, once
dispatched, handled by 湟中区人民政府 (lead) with 华润燃气 (co-handler).

The order the rules are met in: the anonymous are stopped first (401/403); a user who cannot
see the case gets 404; then 409 when nobody may take the step in this state, 403 when somebody
may but not this user (state before role, so the loser of a race hears "already changed"),
then the step's own rules (409, or 403 where only a supervisor may judge), then input (400).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cases import workflow
from cases.api.steps import STEPS
from cases.models import (
    Case,
    CaseEvent,
    Evaluation,
    ExtensionRequest,
    ReturnRequest,
    Status,
    SupervisionOrder,
)
from org.models import Role, User
from tests.cases.conftest import run_steps
from tests.conftest import Demo
from tests.factories import MembershipFactory, UserFactory

S = Status
ALL_STATES = [
    S.SUBMITTED,
    S.ACCEPTED,
    S.DISPATCHED,
    S.HANDLING,
    S.REPLIED,
    S.EVALUATED,
    S.REVIEW,
    S.CLOSED,
    S.REJECTED,
]
OPEN_STATES = {S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING, S.REPLIED, S.EVALUATED, S.REVIEW}
# States in which the case has a lead unit (湟中区人民政府) and a co-unit (华润燃气).
ASSIGNED_STATES = {S.DISPATCHED, S.HANDLING, S.REPLIED, S.EVALUATED, S.REVIEW, S.CLOSED}

# Variants of a state: an extension request waiting (while handling), a request to give the
# case back waiting (while handling), or a first-round 不满意 (evaluated). Without a variant the
# evaluated case was rated 满意 and the review case has been re-handled once and rated 不满意
# again.
PENDING = "pending"
RETURN_PENDING = "return_pending"
UNSATISFIED = "unsatisfied"


# --- the actors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Someone who tries a step: what they are to this case, not how the code decides it."""

    name: str  # test label
    username: str | None  # None: not signed in
    kind: str  # anonymous, resident, operator, (street_)dispatcher, handler, supervisor, …
    inside: bool  # inside the case's jurisdiction (for a resident: is the complainant)
    unit: str = ""  # for a handler: "lead", "co" or "other"


ACTORS = [
    Actor("anonymous", None, "anonymous", False),
    Actor("resident1 (complainant)", "resident1", "resident", True),
    Actor("resident2", "resident2", "resident", False),
    Actor("operator1 (city)", "operator1", "operator", True),
    Actor("operator_chengdong", "operator_chengdong", "operator", False),
    Actor("dispatcher_huangzhong", "dispatcher_huangzhong", "dispatcher", True),
    Actor("dispatcher_city", "dispatcher_city", "dispatcher", True),
    Actor("dispatcher_chengdong", "dispatcher_chengdong", "dispatcher", False),
    # 多巴镇's own dispatcher (分级派单): the case's street, below its dispatch level
    Actor("dispatcher_duoba (street)", "dispatcher_duoba", "street_dispatcher", True),
    # 多巴一村's grid inspector: the case's own community, but not its filer, so not theirs
    Actor("grid_duoba (community, not filer)", "grid_duoba", "grid_inspector", False),
    Actor("handler_huangzhong (lead)", "handler_huangzhong", "handler", True, "lead"),
    Actor("handler_gas (co)", "handler_gas", "handler", True, "co"),
    Actor("handler_chengdong", "handler_chengdong", "handler", False, "other"),
    Actor("supervisor1 (city)", "supervisor1", "supervisor", True),
    Actor("supervisor_huangzhong", "supervisor_huangzhong", "supervisor", True),
    Actor("supervisor_chengdong", "supervisor_chengdong", "supervisor", False),
    Actor("committee1", "committee1", "committee", True),
    Actor("admin (superuser)", "admin", "admin", True),
]


def capacities(actor: Actor) -> set[str]:
    """The capacities in which ``actor`` stands towards the case (given they can see it)."""
    if actor.kind == "resident":
        return {"complainant"} if actor.inside else set()
    if actor.kind == "handler":
        return {f"handler:{actor.unit}"} if actor.unit in ("lead", "co") else set()
    if actor.kind in ("operator", "dispatcher", "supervisor") and actor.inside:
        return {actor.kind}
    if actor.kind == "street_dispatcher" and actor.inside:
        return {"dispatcher"}  # but not at the dispatch level: see expected()
    return set()  # committee reads only; an admin has no workflow rights


def sees(actor: Actor, state: str) -> bool:
    """Who can open this case at all (the selectors' rule, restated)."""
    if actor.kind == "admin":
        return True
    if actor.kind == "handler":
        return actor.unit in ("lead", "co") and state in ASSIGNED_STATES
    return actor.kind != "anonymous" and actor.inside


# --- the rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    event: str  # the CaseEvent type a success writes
    owners: frozenset[str]  # capacities that may take the step
    sources: frozenset[str]  # states it may be taken from
    target: str | None  # the status after it; None: unchanged


def rule(event: str, owners: str, sources: Iterable[str], target: str | None) -> Rule:
    return Rule(event, frozenset(owners.split()), frozenset(sources), target)


INTAKE = "operator dispatcher"
LEAD = "handler:lead"
# Keyed by the URL segment: POST /api/v1/cases/{id}/<action>/
RULES: dict[str, Rule] = {
    # 接: intake staff with jurisdiction, from 待受理
    "accept": rule("accept", INTAKE, {S.SUBMITTED}, S.ACCEPTED),
    "reject": rule("reject", INTAKE, {S.SUBMITTED}, S.REJECTED),
    "resolve-at-intake": rule("resolve_at_intake", INTAKE, {S.SUBMITTED}, S.REPLIED),
    # 派: the dispatcher of the dispatch level
    "dispatch": rule("dispatch", "dispatcher", {S.ACCEPTED}, S.DISPATCHED),
    # 办: the lead unit signs, returns, asks for time and replies; co-units help
    "sign": rule("sign", LEAD, {S.DISPATCHED}, S.HANDLING),
    "return": rule("return", LEAD, {S.DISPATCHED}, S.ACCEPTED),
    "progress": rule(
        "progress",
        "handler:lead handler:co dispatcher supervisor",
        {S.DISPATCHED, S.HANDLING, S.REPLIED},
        None,
    ),
    "contact": rule("contact", "handler:lead handler:co", {S.DISPATCHED, S.HANDLING}, None),
    "request-extension": rule("request_extension", LEAD, {S.HANDLING}, None),
    "decide-extension": rule("decide_extension", "dispatcher", {S.HANDLING}, None),
    "reply": rule("reply", LEAD, {S.HANDLING}, S.REPLIED),
    # 重新派单: after signing the lead unit asks to give the case back and the dispatcher of the
    # dispatch level decides (the body approves: back to 待派单); before a reply the dispatcher
    # may take it back (撤回) or move it to another unit (改派)
    "request-return": rule("request_return", LEAD, {S.HANDLING}, None),
    "decide-return": rule("decide_return", "dispatcher", {S.HANDLING}, S.ACCEPTED),
    "withdraw": rule("withdraw", "dispatcher", {S.DISPATCHED, S.HANDLING}, S.ACCEPTED),
    "reassign": rule("reassign", "dispatcher", {S.DISPATCHED, S.HANDLING}, S.DISPATCHED),
    # 评: the complainant signed in, or an operator's callback (回访)
    "evaluate": rule("evaluate", "complainant operator", {S.REPLIED}, S.EVALUATED),
    # 重办: intake staff on a first 不满意, a supervisor after the second (督查研判)
    "reopen": rule(
        "reopen", "dispatcher operator supervisor", {S.EVALUATED, S.REVIEW}, S.HANDLING
    ),
    # 督: beside every open state
    "supervise": rule("supervise", "supervisor", OPEN_STATES, None),
    "recategorise": rule(
        "recategorise", INTAKE, {S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING}, None
    ),
    # 报: 归档 after evaluation, never while the complainant may still rate it; from 督查研判
    # only by a supervisor
    "close": rule("close", "dispatcher operator supervisor", {S.EVALUATED, S.REVIEW}, S.CLOSED),
    # 合并: intake staff with jurisdiction close a repeat into another open case before a reply
    "merge": rule("merge", INTAKE, {S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.HANDLING}, S.CLOSED),
}

# The steps the dispatchers of the case's dispatch level take (cases.grading); the others are
# anyone's with the role in the case's region.
DISPATCH_LEVEL_STEPS = {"dispatch", "decide-extension", "decide-return", "withdraw", "reassign"}

ANONYMOUS = -1  # the expected answer for the not-signed-in: 401 or 403, see check()


def expected(
    action: str, state: str, actor: Actor, variant: str = "", *, valid: bool = True
) -> int:
    """The HTTP status ``actor`` should get for ``action`` on a case in ``state``."""
    if actor.kind == "anonymous":
        return ANONYMOUS
    if not sees(actor, state):
        return 404
    mine = capacities(actor)
    if actor.kind == "street_dispatcher" and action in DISPATCH_LEVEL_STEPS:
        mine = set()  # 分级派单: the accept grades 供暖 a district matter, dispatched by 湟中区
    r = RULES[action]
    if state not in r.sources:
        return 409  # nobody may take this step now
    if not mine & r.owners:
        return 403  # somebody may, but not this user
    # The step's own rules.
    if state == S.REVIEW and action in ("reopen", "close") and "supervisor" not in mine:
        return 403  # 督查研判 is a supervisor's call
    if action == "reopen" and state == S.EVALUATED and variant != UNSATISFIED:
        return 409  # only 不满意 is re-handled
    if action == "decide-extension" and variant != PENDING:
        return 409  # nothing to decide
    if action == "request-extension" and variant == PENDING:
        return 409  # one request at a time
    if action == "decide-return" and variant != RETURN_PENDING:
        return 409  # nothing to decide
    if action == "request-return" and variant == RETURN_PENDING:
        return 409  # one request at a time
    return 200 if valid else 400


# --- building cases and calling the API -------------------------------------------------------


def body(action: str, demo: Demo) -> dict[str, Any]:
    """A valid request body for each step."""
    later = timezone.now() + dt.timedelta(days=30)
    soon = timezone.now() + dt.timedelta(days=3)
    bodies: dict[str, dict[str, Any]] = {
        "accept": {},
        "reject": {"reason": "insufficient"},
        "resolve-at-intake": {"reply": "已电话答复诉求人。"},
        "dispatch": {"lead_unit": demo.unit("huangzhong-gov").pk, "co_units": []},
        "sign": {},
        "return": {"reason": "不属于本单位职责。"},
        "progress": {"text": "已安排人员到场。"},
        "contact": {},
        "request-extension": {"until": later.isoformat(), "reason": "需更换整段管道。"},
        "decide-extension": {"approve": True},
        "request-return": {"reason": "不属于本单位职责。"},
        "decide-return": {"approve": True, "note": "同意退回。"},
        "withdraw": {"reason": "派单有误，重新派单。"},
        # the city heating company: named for heating, so both dispatchers reach it
        "reassign": {"lead_unit": demo.unit("xn-heating").pk, "co_units": []},
        "reply": {"outcome": "resolved", "text": "管道已修复，供暖恢复。"},
        "evaluate": {"rating": "satisfied"},
        "reopen": {"reason": "诉求人仍不满意。"},
        "supervise": {"due_at": soon.isoformat(), "note": "限期办结。"},
        "recategorise": {"category": demo.category("water").pk, "reason": "实为供水问题。"},
        "close": {},
    }
    if action == "merge":
        # another open case of the same place and matter, submitted by resident2
        main = workflow.case_submit(
            actor=demo.user("resident2"),
            category=demo.category("heating-cold"),
            region=demo.region("湟中区", "多巴镇", "多巴一村"),
            description="新村巷暖气不热。",
            complainant_name="钱女士",
            complainant_phone="13897120000",
        )
        return {"into": main.pk, "note": "同一管道破损。"}
    return bodies[action]


# A body the API's input check refuses (签收 takes no input, so it has none).
BAD_BODY: dict[str, dict[str, Any]] = {
    "accept": {"urgency": "whenever"},
    "reject": {},
    "resolve-at-intake": {},
    "dispatch": {},
    "return": {},
    "progress": {},
    "contact": {"method": "pigeon"},
    "request-extension": {"reason": "需更换整段管道。"},
    "decide-extension": {},
    "request-return": {},
    "decide-return": {"note": "同意退回。"},
    "withdraw": {},
    "reassign": {"note": "改派。"},
    "reply": {"outcome": "resolved"},
    "evaluate": {"rating": "meh"},
    "reopen": {},
    "supervise": {"note": "限期办结。"},
    "recategorise": {"reason": "实为供水问题。"},
    "close": {"unreasonable": "maybe"},
    "merge": {"into": 0},
}


def snapshot(case_id: int) -> dict[str, Any]:
    """Everything a refused step must leave as it was, and the events so far."""
    return {
        "case": Case.objects.filter(pk=case_id).values().get(),
        "co_units": sorted(
            Case.co_units.through.objects.filter(case_id=case_id).values_list("unit_id", flat=True)
        ),
        "events": list(
            CaseEvent.objects.filter(case_id=case_id).order_by("pk").values_list("pk", "type")
        ),
        "extensions": list(
            ExtensionRequest.objects.filter(case_id=case_id)
            .order_by("pk")
            .values_list("status", "requested_until")
        ),
        "returns": list(
            ReturnRequest.objects.filter(case_id=case_id).order_by("pk").values_list("status")
        ),
        "orders": SupervisionOrder.objects.filter(case_id=case_id).count(),
        "evaluations": Evaluation.objects.filter(case_id=case_id).count(),
    }


@pytest.fixture
def clients(demo: Demo) -> dict[str, APIClient]:
    """A client per actor; the outside operator and supervisor are made for 城东区."""
    MembershipFactory(
        user=UserFactory(username="operator_chengdong"),
        unit=demo.unit("chengdong-gov"),
        role=Role.OPERATOR,
    )
    MembershipFactory(
        user=UserFactory(username="supervisor_chengdong"),
        unit=demo.unit("chengdong-supervision"),
        role=Role.SUPERVISOR,
    )
    result = {}
    for actor in ACTORS:
        client = APIClient()
        client.raise_request_exception = False  # a 500 is an answer to compare, not a crash
        if actor.username is not None:
            client.force_authenticate(User.objects.get(username=actor.username))
        result[actor.name] = client
    return result


CaseMaker = Callable[[], Case]


@pytest.fixture
def case_in(make_case: Callable[..., Case], demo: Demo) -> Callable[[str, str], CaseMaker]:
    """case_in(state, variant)() builds a fresh case in ``state`` through the workflow."""

    def factory(state: str, variant: str) -> CaseMaker:
        def build() -> Case:
            if variant == UNSATISFIED:  # a first 不满意
                case = run_steps(make_case(S.REPLIED), ["evaluate_unsatisfied"], demo)
            else:
                case = make_case(state)
            if variant == PENDING:  # the lead unit has asked for more time
                assert case.resolve_by is not None
                workflow.case_request_extension(
                    case=case,
                    actor=demo.user("handler_huangzhong"),
                    until=case.resolve_by + dt.timedelta(days=10),
                    reason="需要更换整段管道。",
                )
            if variant == RETURN_PENDING:  # the lead unit has asked to give the case back
                workflow.case_request_return(
                    case=case, actor=demo.user("handler_huangzhong"), reason="不属于本单位职责。"
                )
            assert case.status == state
            return case

        return build

    return factory


ERROR_CODES = {400: "invalid", 403: "forbidden", 404: "not_found", 409: "conflict"}
ANONYMOUS_ANSWERS = {(401, "not_authenticated"), (403, "not_authenticated")}


def check(
    client: APIClient,
    case_id: int,
    action: str,
    data: dict[str, Any],
    want: int,
    before: dict[str, Any],
    field: str | None = None,
) -> tuple[int, str | None, dict[str, Any]]:
    """POST one step to a case that looked like ``before``. Returns the HTTP status, what is
    wrong with the answer (None if nothing) and how the case looks now. A 400 must name
    ``field`` when one is given."""
    response = client.post(f"/api/v1/cases/{case_id}/{action}/", data, format="json")
    got = response.status_code
    is_json = response.get("Content-Type", "").startswith("application/json")
    content = response.json() if is_json else {}
    after = snapshot(case_id)
    problems = []
    if want == ANONYMOUS:
        if (got, content.get("code")) not in ANONYMOUS_ANSWERS:
            problems.append(f"want 401/403 not_authenticated, got {got} {content}")
    elif got != want:
        problems.append(f"want {want}, got {got} {content.get('code')}: {content.get('message')}")
    if 400 <= got < 500:
        # A refusal: the one error shape, and nothing written.
        if set(content) != {"code", "message", "fields"}:
            problems.append(f"error body {content or response.content[:200]!r}")
        elif want != ANONYMOUS and content["code"] != ERROR_CODES.get(got):
            problems.append(f"error code {content['code']!r} for {got}")
        elif got == 400 and field is not None and field not in content["fields"]:
            problems.append(f"400 on {sorted(content['fields'])}, want {field!r}")
        if after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            problems.append(f"refused but changed {changed}")
    elif got < 400:
        # A success: the target status, in the answer and stored, and exactly one new event.
        target = RULES[action].target or before["case"]["status"]
        stored = after["case"]["status"]
        if content.get("status") != target or stored != target:
            problems.append(
                f"status {content.get('status')!r} (stored {stored!r}), want {str(target)!r}"
            )
        last = before["events"][-1][0]
        new = [kind for pk, kind in after["events"] if pk > last]
        if new != [RULES[action].event]:
            problems.append(f"new events {new}, want [{RULES[action].event!r}]")
    return got, "; ".join(problems) or None, after


# --- the table ----------------------------------------------------------------------------------

# The rows are the registry's steps (cases.api.steps): a step added there without a rule here
# fails test_every_step_has_a_row, and its cells fail on the missing rule and bodies.
STEP_PATHS = [step.path for step in STEPS]
CELLS = [
    pytest.param(action, state, "", id=f"{action}-{state}")
    for action in STEP_PATHS
    for state in ALL_STATES
]
CELLS += [
    pytest.param(action, S.HANDLING, PENDING, id=f"{action}-handling-pending")
    for action in ("decide-extension", "request-extension", "decide-return", "request-return")
]
CELLS += [
    pytest.param(action, S.HANDLING, RETURN_PENDING, id=f"{action}-handling-return-pending")
    for action in (
        "request-return",
        "decide-return",
        "withdraw",
        "reassign",
        "merge",
        "request-extension",
        "decide-extension",
        "reply",
    )
]
CELLS += [
    pytest.param(action, S.EVALUATED, UNSATISFIED, id=f"{action}-evaluated-unsatisfied")
    for action in ("reopen", "close")
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "state", "variant"), CELLS)
def test_permission_table(
    action: str,
    state: str,
    variant: str,
    demo: Demo,
    clients: dict[str, APIClient],
    case_in: Callable[[str, str], CaseMaker],
) -> None:
    # Given a case in ``state``. A refusal is checked to leave it unchanged, so the next row may
    # reuse it; after a success (or anything unexpected) the next row gets a fresh one.
    build = case_in(state, variant)
    case = build()
    before = snapshot(case.pk)
    data = body(action, demo)
    mismatches: list[str] = []
    for actor in ACTORS:
        want = expected(action, state, actor, variant)
        # When the actor posts the step with a valid body
        got, problem, before = check(clients[actor.name], case.pk, action, data, want, before)
        # Then the answer is the oracle's
        mismatches += [f"  {actor.name}: {problem}"] if problem else []
        if not 400 <= got < 500 or problem:  # the case moved on: the next actor needs a fresh one
            case = build()
            before = snapshot(case.pk)
    assert not mismatches, f"{action} from {state} {variant}:\n" + "\n".join(mismatches)


def test_every_step_has_a_row() -> None:
    """The oracle answers for exactly the steps the API serves: no step without its rule, its
    bodies and its place, and no rule for a step that is gone."""
    assert sorted(RULES) == sorted(STEP_PATHS)
    # 签收 takes no input, so it has no bad body to send
    assert sorted({*BAD_BODY, "sign"}) == sorted({*WHERE_IT_HAPPENS, "sign"}) == sorted(STEP_PATHS)


# Bad input is judged last: for each step, in the state it is taken from and in a state it is
# not, every actor posts a body the input check refuses.
WHERE_IT_HAPPENS: dict[str, tuple[str, str]] = {
    "accept": (S.SUBMITTED, ""),
    "reject": (S.SUBMITTED, ""),
    "resolve-at-intake": (S.SUBMITTED, ""),
    "dispatch": (S.ACCEPTED, ""),
    "return": (S.DISPATCHED, ""),
    "progress": (S.HANDLING, ""),
    "contact": (S.HANDLING, ""),
    "request-extension": (S.HANDLING, ""),
    "decide-extension": (S.HANDLING, PENDING),
    "request-return": (S.HANDLING, ""),
    "decide-return": (S.HANDLING, RETURN_PENDING),
    "withdraw": (S.DISPATCHED, ""),
    "reassign": (S.HANDLING, ""),
    "reply": (S.HANDLING, ""),
    "evaluate": (S.REPLIED, ""),
    "reopen": (S.EVALUATED, UNSATISFIED),
    "supervise": (S.HANDLING, ""),
    "recategorise": (S.SUBMITTED, ""),
    "close": (S.EVALUATED, ""),
    "merge": (S.HANDLING, ""),
}
BAD_CELLS = [
    pytest.param(action, state, variant, id=f"{action}-{state}{'-' + variant if variant else ''}")
    for action in STEP_PATHS
    if action in BAD_BODY
    for state, variant in (WHERE_IT_HAPPENS[action], (S.CLOSED, ""))
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "state", "variant"), BAD_CELLS)
def test_bad_input_is_judged_after_state_and_role(
    action: str,
    state: str,
    variant: str,
    clients: dict[str, APIClient],
    case_in: Callable[[str, str], CaseMaker],
) -> None:
    case = case_in(state, variant)()
    before = snapshot(case.pk)
    data = BAD_BODY[action]
    mismatches: list[str] = []
    for actor in ACTORS:
        want = expected(action, state, actor, variant, valid=False)
        got, problem, before = check(clients[actor.name], case.pk, action, data, want, before)
        mismatches += [f"  {actor.name}: {problem}"] if problem else []
        if not 400 <= got < 500 or problem:
            case = case_in(state, variant)()
            before = snapshot(case.pk)
    assert not mismatches, f"{action} from {state} {variant}:\n" + "\n".join(mismatches)


# The case page offers exactly the buttons the table says would work (allowed_actions).
ACTION_OF_EVENT = {r.event: action for action, r in RULES.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "variant"),
    [pytest.param(state, "", id=state) for state in ALL_STATES]
    + [
        pytest.param(S.HANDLING, PENDING, id="handling-pending"),
        pytest.param(S.HANDLING, RETURN_PENDING, id="handling-return-pending"),
        pytest.param(S.EVALUATED, UNSATISFIED, id="evaluated-unsatisfied"),
    ],
)
def test_allowed_actions_follow_the_table(
    state: str,
    variant: str,
    clients: dict[str, APIClient],
    case_in: Callable[[str, str], CaseMaker],
) -> None:
    case = case_in(state, variant)()
    mismatches: list[str] = []
    for actor in ACTORS:
        if not sees(actor, state):
            continue
        response = clients[actor.name].get(f"/api/v1/cases/{case.pk}/")
        assert response.status_code == 200, (actor.name, response.content)
        offered = {ACTION_OF_EVENT[a] for a in response.json()["allowed_actions"]}
        want = {a for a in STEP_PATHS if expected(a, state, actor, variant) == 200}
        if offered != want:
            mismatches.append(f"  {actor.name}: offered {sorted(offered)}, want {sorted(want)}")
    assert not mismatches, f"allowed_actions from {state} {variant}:\n" + "\n".join(mismatches)


# --- 派单范围: the units a dispatcher may send the case to ---------------------------------------
#
# The oracle, from DESIGN.md (the complainant's full phone goes only to the units handling the
# case) and the demo 权责清单 in demo/reference.py, not from ``services.dispatch_targets``:
# 湟中区's dispatcher reaches the units of 湟中区 and the units the list names for 供暖 in
# 湟中区 (the district government, 华润燃气 as its co-handler, the city heating company); the
# city's dispatcher reaches every unit of the city. A unit out of reach is a 400 on the field that
# names it (after state and role, like every input), and the case stays as it was.
NAMED_FOR_HEATING_IN_HUANGZHONG = {"huangzhong-gov", "xn-gas", "xn-heating"}
TARGETS = [
    "huangzhong-gov",  # the district government (named, and in the district)
    "huangzhong-housing",  # a district department
    "town",  # the town government of 多巴镇
    "xn-gas",  # a city-wide utility the list names as co-handler for heating
    "xn-heating",  # the city heating company the list names for heating
    "xn-water",  # a city-wide utility the list does not name for heating
    "xn-urban",  # a city department
    "chengdong-gov",  # another district
    "datong-gov",  # another county
]


def reaches(actor: Actor, code: str) -> bool:
    """May this dispatcher send the seed's heating case in 多巴一村 to the unit ``code``?"""
    if actor.username == "dispatcher_city":
        return True
    if actor.username == "dispatcher_huangzhong":
        return code in ("town", *NAMED_FOR_HEATING_IN_HUANGZHONG) or code.startswith("huangzhong-")
    return False


def expected_dispatch(actor: Actor, lead: str, co: list[str]) -> tuple[int, str | None]:
    """The answer to 派单 with this lead and these co-units, and the field a 400 names."""
    answer = expected("dispatch", S.ACCEPTED, actor)
    if answer != 200:
        return answer, None
    if not reaches(actor, lead):
        return 400, "lead_unit"
    if not all(reaches(actor, code) for code in co):
        return 400, "co_units"
    return 200, None


SCOPE_CELLS = [pytest.param(code, [], id=f"lead-{code}") for code in TARGETS] + [
    pytest.param("huangzhong-gov", [code], id=f"co-{code}")
    for code in TARGETS
    if code != "huangzhong-gov"
]


@pytest.mark.django_db
@pytest.mark.parametrize(("lead", "co"), SCOPE_CELLS)
def test_dispatch_scope_table(
    lead: str,
    co: list[str],
    demo: Demo,
    clients: dict[str, APIClient],
    case_in: Callable[[str, str], CaseMaker],
) -> None:
    def unit_id(code: str) -> int:
        if code == "town":
            return demo.unit(f"huangzhong-s{demo.region('湟中区', '多巴镇').pk}").pk
        return demo.unit(code).pk

    # Given an accepted case (the seed's heating complaint in 湟中区多巴一村)
    build = case_in(S.ACCEPTED, "")
    case = build()
    before = snapshot(case.pk)
    data = {"lead_unit": unit_id(lead), "co_units": [unit_id(code) for code in co]}
    mismatches: list[str] = []
    for actor in ACTORS:
        want, field = expected_dispatch(actor, lead, co)
        # When the actor dispatches it to these units; Then the answer is the oracle's
        got, problem, before = check(
            clients[actor.name], case.pk, "dispatch", data, want, before, field
        )
        mismatches += [f"  {actor.name}: {problem}"] if problem else []
        if not 400 <= got < 500 or problem:
            case = build()
            before = snapshot(case.pk)
    assert not mismatches, f"dispatch to {lead} with {co}:\n" + "\n".join(mismatches)
