"""Long bulk jobs (the demo generator, the rollup rebuild, the benchmark) under DEBUG=1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.test.utils import override_settings


@contextmanager
def sql_log_off() -> Iterator[None]:
    """Run the block without Django's debug SQL log.

    With DEBUG=1 Django keeps the text of the last 9,000 statements, and a bulk insert of a
    few thousand rows is megabytes of text: ``seed_demo --cases 1000000`` peaked at 3.8 GB of
    memory that way. The log is for requests; a batch job has no use for it.
    """
    with override_settings(DEBUG=False):
        yield
