"""The Celery app. Tasks live in each app's ``tasks.py``; the beat schedule in the database."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xining_issues.settings")

app = Celery("xining_issues")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
