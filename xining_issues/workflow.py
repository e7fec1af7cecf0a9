"""The workflow kernel: how every state change in the house is taken, whatever it changes.

An app declares one ``Workflow``: its model, its transition table (action → the states it may be
taken from, the state it leads to, the roles that own it), how a role reaches one of its objects,
the extra rules of single steps (guards), and how to build its event row. Its transition
functions then read the same way in every app::

    @transaction.atomic
    def case_sign(*, case: Case, actor: User) -> Case:
        case, role = FLOW.begin(case, actor, EventType.SIGN)  # lock, 409, 403, the step's rules
        ...  # judge the input (400), change the row
        from_status = FLOW.move(case, EventType.SIGN)
        FLOW.save(case, "status", "signed_at")
        FLOW.record(case, EventType.SIGN, actor, role, from_status, {...})  # the one event
        return case

The order is fixed here, not in each function: the row lock first (a concurrent step waits,
then sees the result), then the state (409: nobody may do this now), then the role (403: somebody
may, but not this actor), then the step's own rules, and only then the input (400). State comes
before role so that the loser of a race hears "already changed", not "not yours"; input comes
last so that a refusal never depends on what was typed. ``precheck`` and ``allowed_actions`` run
the same checks without the lock, so the API's early answer and the page's buttons cannot drift
from what the functions do.

The kernel imports no app: users are whatever ``AUTH_USER_MODEL`` is, events whatever model the
app names, and the app's side effects hang off ``on_record`` (written in the same transaction,
like an outbox) and its ``committed`` signal (sent only after the transaction commits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import django.dispatch
from django.db import models, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .bulk import insert_objects
from .errors import NotAllowed, WrongState, invalid

Subject = TypeVar("Subject", bound=models.Model)
Event = TypeVar("Event", bound=models.Model)

# Whoever acts: a user, the anonymous user, or nobody (the system, a scheduled scan). Typed
# loosely on purpose: the kernel must not import the app that defines the user model.
Actor = Any


@dataclass(frozen=True)
class Transition:
    """One row of a transition table."""

    sources: frozenset[str]  # the states the step may be taken from
    target: str | None  # the state it leads to; None: the status does not change
    roles: tuple[str, ...]  # tried in this order; the first that reaches the object acts


def transition(sources: Iterable[str], target: str | None, *roles: str) -> Transition:
    """A table row, written the way tables read: ``transition([S.A], S.B, Role.X, Role.Y)``."""
    return Transition(frozenset(sources), target, roles)


# A step's own rule beyond state and role, judged on the (locked) object and the acting role:
# it raises ``WrongState`` or ``NotAllowed`` and returns nothing.
Guard = Callable[[Any, str], None]


@dataclass(frozen=True)
class Step:
    """What the kernel hands an app's ``event_row``: everything an event row records."""

    action: str
    actor: Actor  # an authenticated user, or None (the anonymous and the system)
    role: str | None
    from_status: str
    to_status: str
    payload: dict[str, Any]  # the step's payload, with the acting role under "role"


def clean_text(value: str | None, field: str, *, max_length: int, required: bool = True) -> str:
    """Free text as a step stores it: stripped, required unless told, at most ``max_length``
    characters (400 on ``field`` otherwise).

    The limit has no default: every call names the documented maximum of its own field (the
    API serializer's ``max_length``, or the app's constant for its long texts), so two apps
    cannot drift apart through two copies of a default again."""
    text = (value or "").strip()
    if required and not text:
        raise invalid(field, _("此项不能为空。"))
    if len(text) > max_length:
        raise invalid(field, _("最多 %(n)d 个字。") % {"n": max_length})
    return text


def require_user(actor: Actor) -> Actor:
    """The signed-in actor, or 403 "please sign in" (the API answers it as not_authenticated
    when nobody is signed in)."""
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("请先登录。"))
    return actor


@dataclass(frozen=True, kw_only=True)
class Workflow(Generic[Subject, Event]):
    """One app's declaration of its workflow; the methods are the kernel's steps.

    ``reaches(actor, obj, role, action)`` says whether ``actor`` acts in ``role`` on ``obj``
    for ``action`` (holding the role and reaching the object: jurisdiction, unit, being the
    complainant). ``event_row(obj, step, **extra)`` builds the unsaved event row of a step;
    ``extra`` is whatever the app's ``record`` calls pass beyond the step (a public flag, a
    time, a unit). ``wrong_state`` may name the current state as ``%(status)s``."""

    model: type[Subject]
    table: Mapping[str, Transition]
    reaches: Callable[[Actor, Subject, str, str], bool]
    event_row: Callable[..., Event]
    committed: django.dispatch.Signal  # sent with ``event=`` after the transaction commits
    wrong_state: str | Promise
    not_allowed: str | Promise
    guards: Mapping[str, Guard] = field(default_factory=dict)
    on_record: Callable[[Event], None] | None = None  # same transaction (outbox messages)
    lock_related: tuple[str, ...] = ()  # what the steps read beside the row
    status_field: str = "status"

    # --- the checks, in their order ------------------------------------------------------------

    def lock(self, obj: Subject) -> Subject:
        """Re-read ``obj`` under a row lock: a concurrent step waits, then sees the result."""
        query = self.model._default_manager.select_for_update(of=("self",))
        if self.lock_related:
            query = query.select_related(*self.lock_related)
        return query.get(pk=obj.pk)

    def status(self, obj: Subject) -> str:
        return getattr(obj, self.status_field)

    def check_state(self, obj: Subject, action: str) -> None:
        """409 unless ``action`` may be taken from the state ``obj`` is in."""
        if self.status(obj) not in self.table[action].sources:
            display = getattr(obj, f"get_{self.status_field}_display")()
            raise WrongState(str(self.wrong_state) % {"status": display})

    def acting_role(self, actor: Actor, obj: Subject, action: str) -> str:
        """The role in which ``actor`` may take ``action`` on ``obj``, or 403."""
        user = require_user(actor)
        for role in self.table[action].roles:
            if self.reaches(user, obj, role, action):
                return role
        raise NotAllowed(str(self.not_allowed))

    def check_guard(self, obj: Subject, action: str, role: str) -> None:
        guard = self.guards.get(action)
        if guard is not None:
            guard(obj, role)

    def begin(self, obj: Subject, actor: Actor, action: str) -> tuple[Subject, str]:
        """Lock the row, then refuse in the kernel's order (state, role, the step's rules);
        returns the locked object and the acting role. Call inside the step's transaction."""
        locked = self.lock(obj)
        self.check_state(locked, action)
        role = self.acting_role(actor, locked, action)
        self.check_guard(locked, action, role)
        return locked, role

    def precheck(self, actor: Actor, obj: Subject, action: str) -> None:
        """``begin``'s checks without the lock, so the API refuses before it judges the request
        body (400 comes last). The step itself checks again under the lock."""
        self.check_state(obj, action)
        self.check_guard(obj, action, self.acting_role(actor, obj, action))

    def allowed_actions(self, user: Actor, obj: Subject) -> list[str]:
        """The actions ``user`` may take on ``obj`` now (the page's buttons), in table order."""
        if user is None or not user.is_authenticated:
            return []
        allowed = []
        for action in self.table:
            try:
                self.precheck(user, obj, action)
            except (WrongState, NotAllowed):
                continue
            allowed.append(str(action))
        return allowed

    # --- the change and its event --------------------------------------------------------------

    def move(self, obj: Subject, action: str) -> str:
        """Apply the table's target state; returns the state ``obj`` came from."""
        from_status = self.status(obj)
        target = self.table[action].target
        if target is not None:
            setattr(obj, self.status_field, target)
        return from_status

    def save(self, obj: Subject, *fields: str) -> None:
        """Save only the fields a step changed (and the row's ``updated_at``)."""
        obj.save(update_fields=[*fields, "updated_at"])

    def step(
        self,
        obj: Subject,
        action: str,
        actor: Actor,
        role: str | None,
        from_status: str,
        payload: Mapping[str, Any] | None = None,
    ) -> Step:
        return Step(
            action=action,
            actor=actor if actor is not None and actor.is_authenticated else None,
            role=role,
            from_status=from_status,
            to_status=self.status(obj),
            payload={"role": role, **(payload or {})} if role else dict(payload or {}),
        )

    def record(
        self,
        obj: Subject,
        action: str,
        actor: Actor,
        role: str | None,
        from_status: str,
        payload: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> Event:
        """Write the one event of a step, its ``on_record`` effects in the same transaction,
        and queue the ``committed`` signal for after the commit (never sent on a rollback)."""
        event = self.event_row(
            obj, self.step(obj, action, actor, role, from_status, payload), **extra
        )
        event.save(force_insert=True)
        if self.on_record is not None:
            self.on_record(event)
        self._signal_on_commit([event])
        return event

    def record_events(
        self,
        rows: Sequence[tuple[Subject, Step, Mapping[str, Any]]],
        *,
        on_batch: Callable[[list[Event]], None] | None = None,
    ) -> list[Event]:
        """Many steps' events in one INSERT per batch (a scan's; SQLite's parameter limit may
        split a large one): the same rows ``record`` writes, built by the same ``event_row``.
        ``on_batch`` does for the whole batch what ``on_record`` does for one event (its
        messages, in this transaction too), and the ``committed`` signal is queued for each
        event as ``record`` queues it.

        The rows are inserted by ``bulk.insert_objects``, not ``bulk_create``: the same
        statement and the primary keys set (``on_batch`` may need them), without preparing
        every value through its field, which was 2 to 3 ms of the 11 that ``bulk_create`` took
        for a supervision batch of 200 events.
        """
        events = [self.event_row(obj, step, **extra) for obj, step, extra in rows]
        insert_objects(events)
        if on_batch is not None and events:
            on_batch(events)
        self._signal_on_commit(events)
        return events

    def _signal_on_commit(self, events: list[Event]) -> None:
        # One callback per event, each robust: a failing receiver is logged and the other
        # events are still announced, as when they were recorded one by one.
        for event in events:
            transaction.on_commit(
                partial(self.committed.send, sender=type(event), event=event), robust=True
            )
