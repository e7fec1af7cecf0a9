"""Serving a stored file, or bytes made for the request, to the one person a view has just
checked may have them."""

from __future__ import annotations

from django.core.files import File
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def private_download(file: File, *, filename: str, content_type: str) -> FileResponse:
    """The file as an attachment, never sniffed as another type, never cached on the way.

    A stored file (a ``FieldFile``) is opened through its storage and streamed from it, from the
    local disk or the object store alike (``xining_issues.storage``): never by a path, nor by
    sending the client to the bucket, which would skip the caller's permission check."""
    response = FileResponse(
        file.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def private_attachment(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """``private_download`` for bytes made on the spot (an Excel export, say)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
