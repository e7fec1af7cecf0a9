"""Serving a stored file to the one person a view has just checked may have it."""

from __future__ import annotations

from django.core.files import File
from django.http import FileResponse


def private_download(file: File, *, filename: str, content_type: str) -> FileResponse:
    """The file as an attachment, never sniffed as another type, never cached on the way."""
    response = FileResponse(
        file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
