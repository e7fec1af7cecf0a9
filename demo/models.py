"""What the benchmark keeps between runs. The product never reads these tables."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeferredIndex(models.Model):
    """An index ``bench_city`` dropped to load a large city, and the statement that builds it
    again. Written before the index is dropped and deleted once it is back, so a load that is
    interrupted leaves a record: the next ``bench_city`` run builds it again (``--resume``
    first finishes the load)."""

    name = models.CharField(_("索引"), max_length=128, primary_key=True)
    table = models.CharField(_("表"), max_length=64)
    definition = models.TextField(_("建索引语句"))
    dropped_at = models.DateTimeField(_("删除时间"))

    class Meta:
        verbose_name = _("暂缓的索引")
        verbose_name_plural = _("暂缓的索引")

    def __str__(self) -> str:
        return self.name
