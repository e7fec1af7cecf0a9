from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    """报: the statistics rollup's write side (rebuilds), its projections and, as it moves here,
    the read side. It may import ``cases``, ``org`` and ``topics``; none of them imports it."""

    name = "stats"
    verbose_name = _("报 统计")

    def ready(self) -> None:
        # cases.rollup may not import stats: it sends signals inside the fold's transaction,
        # and the projections (stats.models) follow them here.
        from cases.rollup import rollup_emptied, rollup_folded

        from . import projections

        rollup_folded.connect(projections.fold, dispatch_uid="stats.projections.fold")
        rollup_emptied.connect(projections.empty, dispatch_uid="stats.projections.empty")
