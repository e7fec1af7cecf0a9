"""Broker options that both the settings and the tests derive from one place."""

from __future__ import annotations

from pathlib import Path


def filesystem_transport_options(root: Path) -> dict[str, object]:
    """Options for kombu's ``filesystem://`` transport, every folder under ``root`` (created).

    The control folder matters: without it kombu writes its exchange tables into the current
    working directory.
    """
    folders = {
        "data_folder_in": root / "queue",
        "data_folder_out": root / "queue",
        "processed_folder": root / "processed",
        "control_folder": root / "control",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {**{key: str(folder) for key, folder in folders.items()}, "store_processed": False}
