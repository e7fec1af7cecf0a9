from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    """报: the statistics rollup (write side: ``stats.rollup``, ``stats.rebuild``), its
    projections, the rates, the dashboards' read side, exports and the monthly bulletin. It may
    import ``topics``, ``cases``, ``notifications``, ``org`` and the kernel; only ``demo`` and the
    shell's ``urls.py`` import it."""

    name = "stats"
    verbose_name = _("报 统计")
