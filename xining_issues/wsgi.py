"""WSGI entry point (gunicorn xining_issues.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xining_issues.settings")

application = get_wsgi_application()
