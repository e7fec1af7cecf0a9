from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    """报: the statistics rollup's write side (rebuilds) and, as it moves here, the read side.
    It may import ``cases``, ``org`` and ``topics``; none of them imports it."""

    name = "stats"
    verbose_name = _("报 统计")
