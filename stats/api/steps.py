"""Every step of a 月通报 as users and clients meet it: one entry per transition.

Publishing is a POST route derived from its entry (``BulletinViewSet``); editing is the PATCH of
the bulletin itself, written in the view set from its entry's input and summary.
"""

from __future__ import annotations

from xining_issues.transitions import Action, Steps

from .. import bulletins
from ..models import BulletinEventType as E
from . import serializers as s

STEPS = Steps(
    workflow=bulletins.FLOW,
    subject="bulletin",
    detail=s.BulletinSerializer,
    actions=(
        Action(
            event=E.EDIT,
            call=bulletins.bulletin_update,
            input=s.BulletinEditSerializer,
            route=False,  # PATCH /bulletins/{id}/
            summary="Edit a draft bulletin's title or text (committee, admin)",
            label=E.EDIT.label,
        ),
        Action(
            event=E.PUBLISH,
            call=bulletins.bulletin_publish,
            input=None,
            summary="发布 publish the bulletin (committee, admin)",
            label=E.PUBLISH.label,
        ),
    ),
)
