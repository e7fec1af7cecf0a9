"""The data step shared by ``0002`` (the bulk fill) and ``0003`` (the catch-up before the drop).

A module whose name starts with ``_`` is not a migration to Django's loader.
"""

from django.db.models import F, OuterRef, Subquery


def subject_from_case(apps, schema_editor):
    """Point every message about a case at it as its subject (only those not done yet)."""
    db = schema_editor.connection.alias
    content_type = apps.get_model("contenttypes", "ContentType")
    notification = apps.get_model("notifications", "Notification")
    case = apps.get_model("cases", "Case")
    case_type, _created = content_type.objects.using(db).get_or_create(
        app_label="cases", model="case"
    )
    notification.objects.using(db).filter(
        case__isnull=False, subject_type__isnull=True
    ).update(
        subject_type=case_type,
        subject_id=F("case_id"),
        subject_label=Subquery(
            case.objects.using(db).filter(pk=OuterRef("case_id")).values("tracking_code")[:1]
        ),
    )


def case_from_subject(apps, schema_editor):
    db = schema_editor.connection.alias
    content_type = apps.get_model("contenttypes", "ContentType")
    notification = apps.get_model("notifications", "Notification")
    notification.objects.using(db).filter(
        subject_type__in=content_type.objects.using(db).filter(app_label="cases", model="case")
    ).update(case_id=F("subject_id"))
