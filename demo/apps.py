from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Seed data, the synthetic city and the benchmark commands; the product never imports it."""

    name = "demo"
    verbose_name = _("演示与压测")
